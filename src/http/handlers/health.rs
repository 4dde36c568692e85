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

/// Metrics in the Prometheus text format, for anyone on this machine (not through the
/// proxy) or an admin.
#[utoipa::path(
    tag = "operations",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "`unauthenticated`: from another machine without a token", body = crate::error::ErrorBody),
        (status = 403, description = "`forbidden`: from another machine, not an admin", body = crate::error::ErrorBody),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    user: Option<crate::http::extract::AuthedUser>,
) -> Result<HttpResponse, crate::error::AppError> {
    let forwarded = req.headers().contains_key("x-forwarded-for");
    let address = crate::http::extract::client_address(&req, state.config.trust_proxy);
    let local = !forwarded && address.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
    let page = crate::services::metrics::render_for(&state, user.as_ref().map(|u| &u.0), local).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/plain; version=0.0.4; charset=utf-8"))
        .insert_header(("Cache-Control", "no-store"))
        .body(page))
}
