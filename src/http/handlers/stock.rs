//! The controlled-substance ledger: products, entries, the stock page, the day close.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{idempotency_key, replayed, AuthedUser, Id};
use crate::services::stock::{
    self, CloseRequest, CloseView, EntryRequest, EntryView, LedgerQuery, LedgerView, NewProduct, ProductView,
    SiteProductRequest, SiteProductView, StockPage, StockQuery,
};
use crate::services::AppState;

/// Products (methadone oral solution) with their concentration.
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Products", body = Vec<ProductView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
#[get("/products")]
pub async fn list_products(state: web::Data<AppState>, user: AuthedUser) -> AppResult<web::Json<Vec<ProductView>>> {
    stock::list_products(&state, &user.0).await.map(web::Json)
}

/// Add a product (admin).
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    request_body = NewProduct,
    responses(
        (status = 201, description = "Created", body = ProductView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 409, description = "`duplicate_product`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: concentration 1, 2, 5 or 10 mg/mL", body = ErrorBody),
    )
)]
#[post("/products")]
pub async fn create_product(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<NewProduct>,
) -> AppResult<HttpResponse> {
    let r = stock::create_product(&state, &user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// Each site's dispensing product now (admin).
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One line per site", body = Vec<SiteProductView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    )
)]
#[get("/site-products")]
pub async fn site_products(state: web::Data<AppState>, user: AuthedUser) -> AppResult<web::Json<Vec<SiteProductView>>> {
    stock::site_products(&state, &user.0).await.map(web::Json)
}

/// Set the product a site dispenses from now on (admin).
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    request_body = SiteProductRequest,
    responses(
        (status = 200, description = "Set", body = ProductView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/sites/{id}/product")]
pub async fn set_site_product(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<SiteProductRequest>,
) -> AppResult<web::Json<ProductView>> {
    stock::set_site_product(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// A manual ledger entry (receipt, transfer out/in, waste, adjustment, reversal), pending
/// until a second person confirms.
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    request_body = EntryRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first answer")),
    responses(
        (status = 201, description = "Pending", body = EntryView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed`: the transfer was received, or the entry reversed", body = ErrorBody),
        (status = 422, description = "`validation_failed`, `idempotency_key_reused`", body = ErrorBody),
    )
)]
#[post("/stock/entries")]
pub async fn enter(
    state: web::Data<AppState>,
    user: AuthedUser,
    req: HttpRequest,
    body: web::Json<EntryRequest>,
) -> AppResult<HttpResponse> {
    stock::enter(&state, &user.0, body.into_inner(), idempotency_key(&req)).await.map(replayed)
}

/// A second person confirms an entry: from then on it counts.
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Entry id")),
    responses(
        (status = 200, description = "Confirmed", body = EntryView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed`", body = ErrorBody),
        (status = 422, description = "`two_person_rule`: the person who entered it cannot confirm", body = ErrorBody),
    )
)]
#[post("/stock/entries/{id}/confirm")]
pub async fn confirm_entry(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<EntryView>> {
    stock::confirm_entry(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// The site's stock on a day: per product opening, in, out, expected, closed; entries
/// waiting for confirmation; transfers in transit; pending closes.
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), StockQuery),
    responses(
        (status = 200, description = "The stock page", body = StockPage),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: staff of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: date", body = ErrorBody),
    )
)]
#[get("/sites/{id}/stock")]
pub async fn page(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<StockQuery>,
) -> AppResult<web::Json<StockPage>> {
    stock::page(&state, &user.0, id.into_inner().0, q.into_inner().date).await.map(web::Json)
}

/// The ledger of a site and product over a period, line by line with the running balance.
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), LedgerQuery),
    responses(
        (status = 200, description = "The ledger", body = LedgerView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses of the site and admins", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`; `no_dispensing_product`", body = ErrorBody),
    )
)]
#[get("/sites/{id}/stock/ledger")]
pub async fn ledger(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<LedgerQuery>,
) -> AppResult<web::Json<LedgerView>> {
    stock::ledger(&state, &user.0, id.into_inner().0, q.into_inner()).await.map(web::Json)
}

/// Count the shelf and ask to close the day (a second nurse confirms).
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    request_body = CloseRequest,
    responses(
        (status = 201, description = "Pending a second nurse", body = CloseView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`day_closed`", body = ErrorBody),
        (status = 422, description = "`stock_discrepancy`: the gap exceeds the tolerance (or the balance went below zero) and no incident note; `home_visit_dose_outstanding`: a checked-out dose was neither delivered nor returned; `validation_failed`", body = ErrorBody),
    )
)]
#[post("/sites/{id}/day-close")]
pub async fn request_close(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<CloseRequest>,
) -> AppResult<HttpResponse> {
    let r = stock::request_close(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// A second nurse confirms the close: the day is frozen.
#[utoipa::path(
    tag = "stock",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), ("cid" = String, Path, description = "Close id")),
    responses(
        (status = 200, description = "Closed", body = CloseView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`day_closed`", body = ErrorBody),
        (status = 422, description = "`two_person_rule`; `home_visit_dose_outstanding`; `validation_failed`: the ledger changed since the count", body = ErrorBody),
    )
)]
#[post("/sites/{id}/day-close/{cid}/confirm")]
pub async fn confirm_close(
    state: web::Data<AppState>,
    user: AuthedUser,
    path: web::Path<(Id, Id)>,
) -> AppResult<web::Json<CloseView>> {
    let (site, close) = path.into_inner();
    stock::confirm_close(&state, &user.0, site.0, close.0).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_products);
    cfg.service(create_product);
    cfg.service(site_products);
    cfg.service(set_site_product);
    cfg.service(enter);
    cfg.service(confirm_entry);
    cfg.service(page);
    cfg.service(ledger);
    cfg.service(request_close);
    cfg.service(confirm_close);
}
