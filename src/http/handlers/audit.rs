use actix_web::{get, web};

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::AuthedUser;
use crate::services::audit::{self, AuditPage, AuditQuery};
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// The audit trail, newest first.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    user: AuthedUser,
    query: web::Query<AuditQuery>,
) -> AppResult<web::Json<AuditPage>> {
    audit::search(&state, &user.0, query.into_inner()).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(list_audit);
}
