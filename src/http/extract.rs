//! Request extractors: the signed-in staff member, and the client's address.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::error::AppError;
use crate::services::{auth, Actor, AppState};

/// The staff member behind a valid access token. Handlers that take it answer 401 to
/// anyone else before they run.
pub struct AuthedUser(pub Actor);

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty() && token.len() < 4096).then(|| token.to_string())
}

impl FromRequest for AuthedUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller(req, false);
        Box::pin(async move { caller.await.map(|(actor, _)| AuthedUser(actor)) })
    }
}

/// The caller of the dose upload: like [`AuthedUser`], but an access token that expired
/// earlier in this dose day is accepted too, flagged `token_expired`; the service then takes
/// only a dose given offline (see `auth::authenticate_upload`).
pub struct DosingUser {
    pub actor: Actor,
    pub token_expired: bool,
}

impl FromRequest for DosingUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = caller(req, true);
        Box::pin(async move { caller.await.map(|(actor, token_expired)| DosingUser { actor, token_expired }) })
    }
}

/// The staff member behind the request's bearer token (401 without a valid one), within the
/// rate limit, and whether the token had expired (only when `upload` accepts that).
fn caller(req: &HttpRequest, upload: bool) -> LocalBoxFuture<'static, Result<(Actor, bool), AppError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
        let token = token.ok_or_else(AppError::unauthenticated)?;
        let (actor, expired) = if upload {
            auth::authenticate_upload(&state, &token).await?
        } else {
            (auth::authenticate(&state, &token).await?, false)
        };
        state.rate_limiter.check(&actor.staff_id)?;
        Ok((actor, expired))
    })
}

/// The client's address: the TCP peer, or the first `X-Forwarded-For` hop when
/// `MMT_TRUST_PROXY=1` (only behind our own reverse proxy, which overwrites the header).
pub fn client_address(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(addr) = req.connection_info().realip_remote_addr() {
            return addr.to_string();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".to_string())
}

/// An id in a path: opaque, but only of the characters our ids use. Anything else is a
/// 404 before it reaches a query.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct Id(pub String);

impl TryFrom<String> for Id {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Id(s))
        } else {
            Err("not an id")
        }
    }
}

/// The `Idempotency-Key` header of a write a terminal may retry (an unreadable value is
/// passed on as empty, which the service refuses with a clear message).
pub fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers().get("Idempotency-Key").map(|v| v.to_str().map(str::to_string).unwrap_or_default())
}

/// The answer of an idempotent write, first or replayed.
pub fn replayed(answer: crate::services::idempotency::Replayable) -> actix_web::HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(answer.status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    actix_web::HttpResponse::build(status).json(answer.body)
}
