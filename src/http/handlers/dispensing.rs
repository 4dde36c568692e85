use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{idempotency_key, replayed, AuthedUser, DosingUser, Id};
use crate::services::corrections::{self, LateCorrectionRequest, LateCorrectionView, PendingLateCorrection};
use crate::services::dispensing::{
    self, AttendanceDay, DateRangeQuery, DaySheet, DecisionView, DoseHistoryEntry, DoseRequest, DoseView, QueueEntry,
    QueueQuery, ReversalRequest, ReversalView,
};
use crate::services::offline::{self, IncidentQuery, OfflineIncident};
use crate::services::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    /// The site of the window (required for nurses).
    pub site_id: Option<String>,
}

/// Today's decision for a patient at a site: the due dose, or the blocks and what to do.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id"), SiteQuery),
    responses(
        (status = 200, description = "The decision", body = DecisionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: site_id missing", body = ErrorBody),
    )
)]
#[get("/patients/{id}/dispensing")]
pub async fn decision(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<SiteQuery>,
) -> AppResult<web::Json<DecisionView>> {
    dispensing::decision(&state, &user.0, id.into_inner().0, q.into_inner().site_id).await.map(web::Json)
}

/// Give a dose. Send an `Idempotency-Key` header so that a retry replays the first answer.
/// A window uploading a dose it gave while it could not reach the server sets `offline`
/// (the key is then required); for that upload only, its access token may have expired
/// earlier in the same dose day.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    request_body = DoseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body replay the first answer")),
    responses(
        (status = 201, description = "Given", body = DoseView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not a nurse); `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_dosed_today` with `details.site_id`, `details.site_name`, `details.given_at`; `offline_dose_conflict` (a dose given offline was not recorded: `details.incident_id`, `details.reason`, `details.reason_details`)", body = ErrorBody),
        (status = 422, description = "`patient_not_active`, `no_active_order`, `split_interval_not_elapsed`, `identity_not_confirmed`, `dose_withheld_intoxicated`, `doctor_review_required`, `reinduction_required`, `dose_exceeds_due`, `validation_failed`, `idempotency_key_reused`", body = ErrorBody),
    )
)]
#[post("/doses")]
pub async fn give(
    state: web::Data<AppState>,
    user: DosingUser,
    req: HttpRequest,
    body: web::Json<DoseRequest>,
) -> AppResult<HttpResponse> {
    dispensing::give(&state, &user.actor, body.into_inner(), idempotency_key(&req), user.token_expired)
        .await
        .map(replayed)
}

/// Ask to reverse a dose of today (recorded in error, or spilled); a second person confirms.
/// A dose of an earlier day takes a late correction.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Dose id")),
    request_body = ReversalRequest,
    responses(
        (status = 201, description = "Pending confirmation", body = ReversalView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`; `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`reversal_exists`", body = ErrorBody),
        (status = 422, description = "`reversal_window_closed`: the dose is of an earlier dose day (request a late correction); `validation_failed`", body = ErrorBody),
    )
)]
#[post("/doses/{id}/reversal")]
pub async fn request_reversal(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<ReversalRequest>,
) -> AppResult<HttpResponse> {
    let r = dispensing::request_reversal(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// Confirm a reversal (a different staff member): the dose stops counting.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Dose id")),
    responses(
        (status = 200, description = "Confirmed", body = ReversalView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`; `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed`", body = ErrorBody),
        (status = 422, description = "`two_person_rule`: the requester cannot confirm; `reversal_window_closed`: the dose's day is over (request a late correction); `validation_failed`: nothing to confirm", body = ErrorBody),
    )
)]
#[post("/doses/{id}/reversal/confirm")]
pub async fn confirm_reversal(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<ReversalView>> {
    dispensing::confirm_reversal(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// A patient's doses, with reversals and late corrections.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id"), DateRangeQuery),
    responses(
        (status = 200, description = "Doses", body = Vec<DoseHistoryEntry>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: clinical staff only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/patients/{id}/doses")]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<DateRangeQuery>,
) -> AppResult<web::Json<Vec<DoseHistoryEntry>>> {
    dispensing::history(&state, &user.0, id.into_inner().0, q.into_inner()).await.map(web::Json)
}

/// Each day's attendance (mg only for clinical staff).
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id"), DateRangeQuery),
    responses(
        (status = 200, description = "Days", body = Vec<AttendanceDay>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found` (also outside the caller's scope)", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/patients/{id}/attendance")]
pub async fn attendance(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<DateRangeQuery>,
) -> AppResult<web::Json<Vec<AttendanceDay>>> {
    dispensing::attendance(&state, &user.0, id.into_inner().0, q.into_inner()).await.map(web::Json)
}

/// Everyone expected at the site's window on a day.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), QueueQuery),
    responses(
        (status = 200, description = "The queue", body = Vec<QueueEntry>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not assigned to this site", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/sites/{id}/queue")]
pub async fn queue(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<QueueQuery>,
) -> AppResult<web::Json<Vec<QueueEntry>>> {
    dispensing::queue(&state, &user.0, id.into_inner().0, q.into_inner().date).await.map(web::Json)
}

/// The site's day sheet: the patients it holds on the day (its own, less those arranged to
/// dose elsewhere, plus its guests), each with the decision and the rule inputs the window
/// keeps to go on dispensing offline.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Site id"), QueueQuery),
    responses(
        (status = 200, description = "The day sheet", body = DaySheet),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not assigned to this site", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the date is too far from today", body = ErrorBody),
    )
)]
#[get("/sites/{id}/day-sheet")]
pub async fn day_sheet(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    q: web::Query<QueueQuery>,
) -> AppResult<web::Json<DaySheet>> {
    dispensing::day_sheet(&state, &user.0, id.into_inner().0, q.into_inner().date).await.map(web::Json)
}

/// Ask for a late correction of a dose of an earlier day; a doctor who did not request it
/// confirms. (A dose of today is reversed instead.)
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Dose id")),
    request_body = LateCorrectionRequest,
    responses(
        (status = 201, description = "Pending a doctor's confirmation", body = LateCorrectionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors only; `site_not_allowed`: not staff of the dose's site", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`late_correction_exists`: already requested; `dose_reversed`: the dose was reversed on its day", body = ErrorBody),
        (status = 422, description = "`use_reversal`: a dose of today is reversed, not late-corrected; `validation_failed`: no reason", body = ErrorBody),
    )
)]
#[post("/doses/{id}/late-correction")]
pub async fn request_late_correction(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<LateCorrectionRequest>,
) -> AppResult<HttpResponse> {
    let r = corrections::request(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

/// Confirm a late correction (a doctor who did not request it): from now on the dose
/// counts in no total; the registers show the correction.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Dose id")),
    responses(
        (status = 200, description = "Confirmed", body = LateCorrectionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: only a doctor confirms; `site_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_confirmed` (also the loser of two simultaneous confirmations)", body = ErrorBody),
        (status = 422, description = "`second_doctor_required`: the requester cannot confirm; `validation_failed`: nothing to confirm", body = ErrorBody),
    )
)]
#[post("/doses/{id}/late-correction/confirm")]
pub async fn confirm_late_correction(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<LateCorrectionView>> {
    corrections::confirm(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// Late corrections awaiting a doctor's confirmation, for doses given at the caller's sites.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending late corrections, oldest first", body = Vec<PendingLateCorrection>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors only", body = ErrorBody),
    )
)]
#[get("/late-corrections/pending")]
pub async fn pending_late_corrections(
    state: web::Data<AppState>,
    user: AuthedUser,
) -> AppResult<web::Json<Vec<PendingLateCorrection>>> {
    corrections::pending(&state, &user.0).await.map(web::Json)
}

/// Doses given offline that the server did not record (already dosed elsewhere, another site
/// held the day, the day had ended): incidents for a doctor, at the caller's sites.
#[utoipa::path(
    tag = "dispensing",
    security(("bearer" = [])),
    params(IncidentQuery),
    responses(
        (status = 200, description = "The incidents, oldest first", body = Vec<OfflineIncident>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors only; `site_not_allowed`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: dates", body = ErrorBody),
    )
)]
#[get("/offline-incidents")]
pub async fn offline_incidents(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<IncidentQuery>,
) -> AppResult<web::Json<Vec<OfflineIncident>>> {
    offline::incidents(&state, &user.0, q.into_inner()).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(decision);
    cfg.service(give);
    cfg.service(request_reversal);
    cfg.service(confirm_reversal);
    cfg.service(request_late_correction);
    cfg.service(confirm_late_correction);
    cfg.service(pending_late_corrections);
    cfg.service(offline_incidents);
    cfg.service(history);
    cfg.service(attendance);
    cfg.service(queue);
    cfg.service(day_sheet);
}
