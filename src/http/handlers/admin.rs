use actix_web::{get, put, web};

use crate::domain::rules::RuleSet;
use crate::error::{AppResult, ErrorBody};
use crate::http::extract::AuthedUser;
use crate::services::health::{self, ClinicClock, ClockSetting};
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Set the service clock (only when the service runs with `MMT_TEST_CLOCK=1`; otherwise
/// this path does not exist).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    request_body = ClockSetting,
    responses(
        (status = 200, description = "The clock now reads", body = ClockSetting),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`: the test clock is not enabled", body = ErrorBody),
    )
)]
#[put("/admin/clock")]
pub async fn set_clock(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<ClockSetting>,
) -> AppResult<web::Json<ClockSetting>> {
    health::set_clock(&state, &user.0, body.into_inner().now).await.map(web::Json)
}

/// The clinical and custody rules in force (RULES.md defaults, or the clinic's stricter
/// values).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The RuleSet", body = RuleSet),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
#[get("/rules")]
pub async fn rules(state: web::Data<AppState>, _user: AuthedUser) -> web::Json<RuleSet> {
    web::Json(state.config.rules.clone())
}

/// The service's clock: the instant, the clinic's day and its time zone. The UI shows every
/// date and time in the clinic's zone and takes "today" from here, whatever the terminal's
/// own clock says.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The clock", body = ClinicClock),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
#[get("/clock")]
pub async fn clock(state: web::Data<AppState>, _user: AuthedUser) -> web::Json<ClinicClock> {
    web::Json(health::clinic_clock(&state))
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(rules);
    cfg.service(clock);
}
