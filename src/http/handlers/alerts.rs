use actix_web::{get, post, web};

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::alerts::{self, AlertNote, AlertQuery, AlertView};
use crate::services::sweep::SweepSummary;
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Alerts in the caller's scope, newest first (rehab workers: only their patients).
#[utoipa::path(
    tag = "alerts",
    security(("bearer" = [])),
    params(AlertQuery),
    responses(
        (status = 200, description = "Alerts", body = Vec<AlertView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`: the patient is outside the caller's scope", body = ErrorBody),
        (status = 422, description = "`validation_failed`: unknown status or kind", body = ErrorBody),
    )
)]
#[get("/alerts")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<AlertQuery>,
) -> AppResult<web::Json<Vec<AlertView>>> {
    alerts::list(&state, &user.0, q.into_inner()).await.map(web::Json)
}

/// Acknowledge an open alert with a note saying what is being done.
#[utoipa::path(
    tag = "alerts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    request_body = AlertNote,
    responses(
        (status = 200, description = "Acknowledged", body = AlertView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found` (also outside the caller's scope)", body = ErrorBody),
        (status = 409, description = "`alert_not_open`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the note is required", body = ErrorBody),
    )
)]
#[post("/alerts/{id}/acknowledge")]
pub async fn acknowledge(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<AlertNote>,
) -> AppResult<web::Json<AlertView>> {
    alerts::acknowledge(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// Resolve an alert by hand, with a note (doctors, admins, rehab workers in scope).
#[utoipa::path(
    tag = "alerts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Alert id")),
    request_body = AlertNote,
    responses(
        (status = 200, description = "Resolved", body = AlertView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses", body = ErrorBody),
        (status = 404, description = "`not_found` (also outside the caller's scope)", body = ErrorBody),
        (status = 409, description = "`alert_not_open`: already resolved", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the note is required", body = ErrorBody),
    )
)]
#[post("/alerts/{id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<AlertNote>,
) -> AppResult<web::Json<AlertView>> {
    alerts::resolve(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// Run the attendance/alert sweep now (admins). It also runs at start-up and every night.
#[utoipa::path(
    tag = "alerts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the sweep did", body = SweepSummary),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    )
)]
#[post("/alerts/sweep")]
pub async fn sweep(state: web::Data<AppState>, user: AuthedUser) -> AppResult<web::Json<SweepSummary>> {
    alerts::sweep_now(&state, &user.0).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list);
    cfg.service(acknowledge);
    cfg.service(resolve);
    cfg.service(sweep);
}
