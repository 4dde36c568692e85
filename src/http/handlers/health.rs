use actix_web::{get, web, HttpResponse};

use crate::services::{health, AppState};

/// Liveness: the service and whether its database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Service and database are up", body = health::Health),
        (status = 503, description = "The database does not answer", body = health::Health),
    )
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let h = health::health(&state).await;
    let mut res = if h.status == "ok" { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    res.insert_header(("Cache-Control", "no-store")).json(h)
}
