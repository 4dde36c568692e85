//! Home visits: authorizations, schedules, the run sheet and the visit's custody steps.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{idempotency_key, replayed, AuthedUser, Id};
use crate::services::home_visits::{
    self, AuthorizationRequest, AuthorizationView, CheckoutRequest, OutcomeRequest, RunSheetQuery, ScheduleEndRequest,
    ScheduleRequest, ScheduleView, VisitView,
};
use crate::services::AppState;

/// A doctor authorizes home visits for a patient (reason, valid from/to).
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = AuthorizationRequest,
    responses(
        (status = 201, description = "Authorized", body = AuthorizationView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/home-visit-authorizations")]
pub async fn authorize(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<AuthorizationRequest>,
) -> AppResult<HttpResponse> {
    let r = home_visits::authorize(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// A patient's home-visit authorizations.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Authorizations, oldest first", body = Vec<AuthorizationView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and nurses only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/patients/{id}/home-visit-authorizations")]
pub async fn authorizations(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<Vec<AuthorizationView>>> {
    home_visits::authorizations(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// A recurring schedule of home visits from the patient's home site.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    request_body = ScheduleRequest,
    responses(
        (status = 201, description = "Scheduled", body = ScheduleView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and nurses of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`home_visit_not_authorized`: no authorization covers the schedule; `validation_failed`", body = ErrorBody),
    )
)]
#[post("/home-visit-schedules")]
pub async fn schedule(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<ScheduleRequest>,
) -> AppResult<HttpResponse> {
    let r = home_visits::schedule(&state, &user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// End a schedule before its `to`: no visit after `last_day` (today or later).
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Schedule id")),
    request_body = ScheduleEndRequest,
    responses(
        (status = 200, description = "Ended", body = ScheduleView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and nurses of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a past day, a day after its own end, or already ended", body = ErrorBody),
    )
)]
#[post("/home-visit-schedules/{id}/end")]
pub async fn end_schedule(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<ScheduleEndRequest>,
) -> AppResult<web::Json<ScheduleView>> {
    home_visits::end_schedule(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// A patient's home-visit schedules.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Schedules, oldest first", body = Vec<ScheduleView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and nurses only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/patients/{id}/home-visit-schedules")]
pub async fn schedules(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<Vec<ScheduleView>>> {
    home_visits::schedules(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// The site's run sheet for a day, in visit order. Planned visits appear from the schedules
/// by themselves, once.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), RunSheetQuery),
    responses(
        (status = 200, description = "The run sheet", body = Vec<VisitView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: staff of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: date", body = ErrorBody),
    )
)]
#[get("/sites/{id}/home-visits")]
pub async fn run_sheet(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<RunSheetQuery>,
) -> AppResult<web::Json<Vec<VisitView>>> {
    home_visits::run_sheet(&state, &user.0, id.into_inner().0, q.into_inner().date).await.map(web::Json)
}

/// Check the visit's dose out of the site's stock (pending until a second nurse confirms).
/// The same decision as the window: refused when already dosed today or nothing is due.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Visit id")),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "Pending a second nurse", body = VisitView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses of the site only; `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_dosed_today` (where and when in the details); `home_visit_wrong_state`", body = ErrorBody),
        (status = 422, description = "`patient_not_active`, `no_active_order`, `split_interval_not_elapsed`, `doctor_review_required`, `reinduction_required`, `dose_exceeds_due`, `no_dispensing_product`, `validation_failed`", body = ErrorBody),
    )
)]
#[post("/home-visits/{id}/checkout")]
pub async fn checkout(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<CheckoutRequest>,
) -> AppResult<HttpResponse> {
    let r = home_visits::checkout(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// A second nurse confirms the check-out: the dose leaves the stock.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Visit id")),
    responses(
        (status = 200, description = "Checked out", body = VisitView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`; `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_dosed_today`; `already_confirmed`; `home_visit_wrong_state`", body = ErrorBody),
        (status = 422, description = "`two_person_rule`: the nurse who checked out cannot confirm; `dose_exceeds_due`, `doctor_review_required`, `validation_failed`", body = ErrorBody),
    )
)]
#[post("/home-visits/{id}/checkout/confirm")]
pub async fn confirm_checkout(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<VisitView>> {
    home_visits::confirm_checkout(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// The nurse arrives at the patient's home.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Visit id")),
    responses(
        (status = 200, description = "Arrived", body = VisitView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`home_visit_wrong_state`", body = ErrorBody),
    )
)]
#[post("/home-visits/{id}/arrive")]
pub async fn arrive(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<VisitView>> {
    home_visits::arrive(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// The visit's outcome: `delivered` (the day's dose, in the same dose table as the window's)
/// or `not_home` / `refused` (the dose must be returned today).
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Visit id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first answer"),
    ),
    request_body = OutcomeRequest,
    responses(
        (status = 200, description = "Recorded", body = VisitView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`; `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_dosed_today`: dosed elsewhere today (record the outcome refused and return the dose); `home_visit_wrong_state`", body = ErrorBody),
        (status = 422, description = "`patient_not_active`, `no_active_order`, `doctor_review_required`, `reinduction_required`, `dose_exceeds_due`, `validation_failed`, `idempotency_key_reused`", body = ErrorBody),
    )
)]
#[post("/home-visits/{id}/outcome")]
pub async fn outcome(
    state: web::Data<AppState>,
    user: AuthedUser,
    req: HttpRequest,
    id: web::Path<Id>,
    body: web::Json<OutcomeRequest>,
) -> AppResult<HttpResponse> {
    home_visits::outcome(&state, &user.0, id.into_inner().0, body.into_inner(), idempotency_key(&req))
        .await
        .map(replayed)
}

/// Bring an undelivered dose back to stock (pending until a second nurse confirms).
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Visit id")),
    responses(
        (status = 201, description = "Pending a second nurse", body = VisitView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`home_visit_wrong_state`: only an undelivered dose is returned", body = ErrorBody),
    )
)]
#[post("/home-visits/{id}/return")]
pub async fn request_return(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<HttpResponse> {
    let r = home_visits::request_return(&state, &user.0, id.into_inner().0).await?;
    Ok(HttpResponse::Created().json(r))
}

/// A second nurse confirms the return: the dose is back in stock.
#[utoipa::path(
    tag = "home_visits",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Visit id")),
    responses(
        (status = 200, description = "Returned", body = VisitView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed`; `home_visit_wrong_state`", body = ErrorBody),
        (status = 422, description = "`two_person_rule`: the nurse who brought it back cannot confirm", body = ErrorBody),
    )
)]
#[post("/home-visits/{id}/return/confirm")]
pub async fn confirm_return(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<VisitView>> {
    home_visits::confirm_return(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(authorize);
    cfg.service(authorizations);
    cfg.service(schedule);
    cfg.service(end_schedule);
    cfg.service(schedules);
    cfg.service(run_sheet);
    cfg.service(checkout);
    cfg.service(confirm_checkout);
    cfg.service(arrive);
    cfg.service(outcome);
    cfg.service(request_return);
    cfg.service(confirm_return);
}
