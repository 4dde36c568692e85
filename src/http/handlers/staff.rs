use actix_web::{get, patch, post, web, HttpResponse};

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::staff::{self, NewStaff, StaffUpdate, StaffView};
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Create a staff account.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    request_body = NewStaff,
    responses(
        (status = 201, description = "Created", body = StaffView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 409, description = "`duplicate_username`", body = ErrorBody),
        (status = 422, description = "`validation_failed` (weak password, missing sites for a nurse, ...)", body = ErrorBody),
    )
)]
#[post("/staff")]
pub async fn create_staff(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<NewStaff>,
) -> AppResult<HttpResponse> {
    let created = staff::create(&state, &user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// All staff accounts, active and deactivated.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Staff", body = Vec<StaffView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    )
)]
#[get("/staff")]
pub async fn list_staff(state: web::Data<AppState>, user: AuthedUser) -> AppResult<web::Json<Vec<StaffView>>> {
    staff::list(&state, &user.0).await.map(web::Json)
}

/// One staff account (admins, or the account's owner).
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id")),
    responses(
        (status = 200, description = "The account", body = StaffView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/staff/{id}")]
pub async fn get_staff(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<StaffView>> {
    staff::get(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// Change an account: name, role, sites, townships, password, or deactivate it
/// (`active: false`; accounts are never deleted). Deactivation, a role change and a
/// password reset end the account's sessions at once.
#[utoipa::path(
    tag = "staff",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Staff id")),
    request_body = StaffUpdate,
    responses(
        (status = 200, description = "Updated", body = StaffView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[patch("/staff/{id}")]
pub async fn update_staff(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<StaffUpdate>,
) -> AppResult<web::Json<StaffView>> {
    staff::update(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(create_staff);
    cfg.service(list_staff);
    cfg.service(get_staff);
    cfg.service(update_staff);
}
