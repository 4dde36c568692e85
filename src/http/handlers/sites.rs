use actix_web::{get, patch, post, web, HttpResponse};

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::sites::{self, NewSite, SiteUpdate, SiteView};
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Create a site.
#[utoipa::path(
    tag = "sites",
    security(("bearer" = [])),
    request_body = NewSite,
    responses(
        (status = 201, description = "Created", body = SiteView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 409, description = "`duplicate_site`: the code is taken", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/sites")]
pub async fn create_site(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<NewSite>,
) -> AppResult<HttpResponse> {
    let site = sites::create(&state, &user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(site))
}

/// All sites of the network.
#[utoipa::path(
    tag = "sites",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sites", body = Vec<SiteView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
#[get("/sites")]
pub async fn list_sites(state: web::Data<AppState>, user: AuthedUser) -> AppResult<web::Json<Vec<SiteView>>> {
    sites::list(&state, &user.0).await.map(web::Json)
}

/// Change a site's name or address, or (de)activate it. Sites are never deleted.
#[utoipa::path(
    tag = "sites",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id")),
    request_body = SiteUpdate,
    responses(
        (status = 200, description = "Updated", body = SiteView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[patch("/sites/{id}")]
pub async fn update_site(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<SiteUpdate>,
) -> AppResult<web::Json<SiteView>> {
    sites::update(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(create_site);
    cfg.service(list_sites);
    cfg.service(update_site);
}
