use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{client_address, AuthedUser};
use crate::services::auth::{self, TokenPair, UserView};
use crate::services::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Sign in with username and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: repeated failures on this account or from this address", body = ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> AppResult<web::Json<TokenPair>> {
    let body = body.into_inner();
    let address = client_address(&req, state.config.trust_proxy);
    auth::login(&state, &body.username, body.password, address).await.map(web::Json)
}

/// Exchange a refresh token for a new pair; the old refresh token stops working.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 401, description = "`unauthenticated`: unknown, used, or expired refresh token (a reused one ends the session)", body = ErrorBody),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> AppResult<web::Json<TokenPair>> {
    auth::refresh(&state, body.into_inner().refresh_token).await.map(web::Json)
}

/// Sign out: the access and refresh tokens of this session stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, user: AuthedUser) -> AppResult<HttpResponse> {
    auth::logout(&state, &user.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
#[get("/me")]
pub async fn me(user: AuthedUser) -> web::Json<UserView> {
    web::Json(UserView::from(&user.0))
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(login);
    cfg.service(refresh);
    cfg.service(logout);
    cfg.service(me);
}
