//! Cross-cutting HTTP behaviour: a request id and one log line per request, panics turned
//! into 500 `internal_error`, and every error answered with our JSON body.
//!
//! (The request must not be cloned before routing: the router needs it unshared. Failures
//! are therefore returned as `Err(AppError)`, which actix renders with our JSON body.)

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, ALLOW, CONTENT_TYPE};
use actix_web::{Error, ResponseError};
use futures_util::FutureExt;
use tracing::Instrument;

use crate::error::AppError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One span per request carrying a request id; one log line when it completes with the
/// method, the route pattern (never the query string: it may hold a patient's name), the
/// status and the time taken.
pub fn log_request<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let request_id = uuid::Uuid::now_v7().simple().to_string();
    let span = tracing::info_span!("request", request_id = %request_id);
    let method = req.method().clone();
    let metrics = req.app_data::<actix_web::web::Data<crate::services::AppState>>().map(|s| s.metrics.clone());
    let started = Instant::now();
    let fut = {
        let _entered = span.enter();
        srv.call(req)
    };
    async move {
        let result = fut.await;
        let ms = (started.elapsed().as_secs_f64() * 10000.0).round() / 10.0;
        match &result {
            Ok(res) => {
                let route = res.request().match_pattern().unwrap_or_else(|| "-".to_string());
                let status = res.status().as_u16();
                if let Some(m) = &metrics {
                    // Unrouted paths (the UI's files, probes) share one label.
                    let label = if res.request().match_pattern().is_some() { route.as_str() } else { "unrouted" };
                    m.record(method.as_str(), label, status, started.elapsed().as_secs_f64());
                }
                if status >= 500 {
                    tracing::error!(%method, %route, status, ms, "request failed");
                } else {
                    tracing::info!(%method, %route, status, ms, "request");
                }
            }
            Err(e) => {
                let status = e.as_response_error().status_code().as_u16();
                tracing::warn!(%method, status, ms, "request refused before routing");
            }
        }
        result.map(|mut res| {
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(REQUEST_ID, v);
            }
            res
        })
    }
    .instrument(span)
}

/// The longest path and query we read.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most headers, the longest one (name and value) and all of them together. Far below
/// the HTTP library's own hard limits (128 KiB of head, 96 headers), so that an oversized
/// request meets ours first and gets a JSON answer like every other refusal.
pub const MAX_HEADERS: usize = 64;
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Refuses an oversized request line (414 `uri_too_long`) or header set (431
/// `headers_too_large`) before any work.
pub fn limit_head<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let uri_bytes = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let sizes = req.headers().iter().map(|(name, value)| name.as_str().len() + value.len());
    let (count, largest, total) =
        sizes.fold((0, 0, 0), |(count, largest, total), size| (count + 1, largest.max(size), total + size));
    let refusal = if uri_bytes > MAX_URI_BYTES {
        Some(AppError::uri_too_long())
    } else if count > MAX_HEADERS || largest > MAX_HEADER_BYTES || total > MAX_HEAD_BYTES {
        Some(AppError::headers_too_large())
    } else {
        None
    };
    let fut = refusal.is_none().then(|| srv.call(req));
    async move {
        match (fut, refusal) {
            (Some(fut), _) => fut.await,
            (None, refusal) => Err(refusal.unwrap_or_else(AppError::headers_too_large).into()),
        }
    }
}

/// The time limit of a request when the application state does not say
/// (`MMT_REQUEST_TIMEOUT_SECONDS`).
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A request that takes longer than `MMT_REQUEST_TIMEOUT_SECONDS` answers 503
/// `service_unavailable` with `Retry-After`. A write already handed to the database may
/// still commit: clients retry writes with their `Idempotency-Key`, which replays it.
pub fn time_limit<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let limit = req
        .app_data::<actix_web::web::Data<crate::services::AppState>>()
        .map_or(DEFAULT_REQUEST_TIMEOUT, |s| s.config.request_timeout);
    let fut = srv.call(req);
    async move {
        match tokio::time::timeout(limit, fut).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(seconds = limit.as_secs(), "a request passed its time limit");
                Err(AppError::timed_out().into())
            }
        }
    }
}

/// A panic in a handler answers 500 `internal_error`; the worker keeps serving.
pub fn catch_panic<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let fut = srv.call(req);
    async move {
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(result) => result,
            Err(_) => {
                tracing::error!("a request handler panicked");
                Err(AppError::internal_silent().into())
            }
        }
    }
}

/// Responses that actix builds itself (405, extractor failures we did not configure) get
/// our JSON error body instead of plain text.
pub fn json_errors<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let fut = srv.call(req);
    async move {
        let res = match fut.await {
            Ok(res) => res.map_into_boxed_body(),
            Err(e) if e.as_error::<AppError>().is_some() => return Err(e),
            Err(e) => return Err(AppError::for_status(e.as_response_error().status_code()).into()),
        };
        let status = res.status();
        let is_json = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !(status.is_client_error() || status.is_server_error()) || is_json {
            return Ok(res);
        }
        let allow = res.headers().get(ALLOW).cloned();
        let (http_req, _) = res.into_parts();
        let mut body = AppError::for_status(status).error_response();
        if let Some(allow) = allow {
            body.headers_mut().insert(ALLOW, allow);
        }
        Ok(ServiceResponse::new(http_req, body))
    }
}
