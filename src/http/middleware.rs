//! Cross-cutting HTTP behaviour: a request id and one log line per request, panics turned
//! into 500 `internal_error`, and every error answered with our JSON body.

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
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let request_id = uuid::Uuid::now_v7().simple().to_string();
    let span = tracing::info_span!("request", request_id = %request_id);
    let method = req.method().clone();
    let started = Instant::now();
    let http_req = req.request().clone();
    let fut = srv.call(req);
    async move {
        let mut res = match fut.await {
            Ok(res) => res.map_into_boxed_body(),
            Err(e) => ServiceResponse::new(http_req, e.error_response()),
        };
        let route = res.request().match_pattern().unwrap_or_else(|| "-".to_string());
        let status = res.status().as_u16();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(%method, %route, status, ms, "request failed");
        } else {
            tracing::info!(%method, %route, status, ms, "request");
        }
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        Ok(res)
    }
    .instrument(span)
}

/// A panic in a handler answers 500 `internal_error`; the worker keeps serving.
pub fn catch_panic<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let http_req = req.request().clone();
    let fut = srv.call(req);
    async move {
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(res)) => Ok(res.map_into_boxed_body()),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                tracing::error!("a request handler panicked");
                Ok(ServiceResponse::new(http_req, AppError::internal_silent().error_response()))
            }
        }
    }
}

/// Responses that actix builds itself (405, unmatched routes, extractor failures we did
/// not configure) get our JSON error body instead of plain text.
pub fn json_errors<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<BoxBody>, Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let http_req = req.request().clone();
    let fut = srv.call(req);
    async move {
    let res = match fut.await {
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => ServiceResponse::new(http_req, e.error_response()),
    };
    let status = res.status();
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() && !status.is_server_error() || is_json {
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
