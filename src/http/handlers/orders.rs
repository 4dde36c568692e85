use actix_web::{get, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::orders::{
    self, Approval, EcgView, NewEcg, NewOrder, NewReview, OrderView, PendingOrder, ReviewNeeded, ReviewView,
};
use crate::services::AppState;

/// Write a dose order. Above 100 mg/day it waits for a second doctor (`pending_approval`).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = NewOrder,
    responses(
        (status = 201, description = "`active` or `pending_approval`, with warnings (e.g. `qtc_prolonged`)", body = OrderView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`dose_above_ceiling`, `induction_required`, `induction_dose_exceeded`, `dose_step_exceeded`, `increase_too_soon`, `ecg_required`, `qtc_too_long`, `validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/orders")]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewOrder>,
) -> AppResult<HttpResponse> {
    let o = orders::create(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(o))
}

/// A patient's orders, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Orders", body = Vec<OrderView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: clinical staff only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/patients/{id}/orders")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<Vec<OrderView>>> {
    orders::list(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// High-dose orders waiting for a second doctor.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending orders", body = Vec<PendingOrder>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
    )
)]
#[get("/orders/pending")]
pub async fn pending(state: web::Data<AppState>, user: AuthedUser) -> AppResult<web::Json<Vec<PendingOrder>>> {
    orders::pending(&state, &user.0).await.map(web::Json)
}

/// Approve a high-dose order (a doctor other than the prescriber). The rules are checked again.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "In force from `effective_from`", body = Approval),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_approved`", body = ErrorBody),
        (status = 422, description = "`second_doctor_required` for the prescriber; or a rule code if the order no longer passes", body = ErrorBody),
    )
)]
#[post("/orders/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<Approval>> {
    orders::approve(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// A missed-dose review: approves one amount for one day (at most what the rules allow).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = NewReview,
    responses(
        (status = 201, description = "Recorded", body = ReviewView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`review_exists`", body = ErrorBody),
        (status = 422, description = "`dose_exceeds_due`: above what the missed-day table allows; `validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/reviews")]
pub async fn review(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewReview>,
) -> AppResult<HttpResponse> {
    let r = orders::review(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(r))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateQuery {
    /// The day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
}

/// Patients of the doctor's sites who need a review today (missed days or a withheld dose).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(DateQuery),
    responses(
        (status = 200, description = "Patients to review", body = Vec<ReviewNeeded>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
    )
)]
#[get("/reviews/needed")]
pub async fn reviews_needed(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<DateQuery>,
) -> AppResult<web::Json<Vec<ReviewNeeded>>> {
    let date = q.into_inner().date.unwrap_or_else(|| state.today());
    orders::reviews_needed(&state, &user.0, date).await.map(web::Json)
}

/// Record an ECG (QTc).
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = NewEcg,
    responses(
        (status = 201, description = "Recorded", body = EcgView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/ecgs")]
pub async fn add_ecg(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewEcg>,
) -> AppResult<HttpResponse> {
    let e = orders::add_ecg(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(e))
}

/// A patient's ECGs, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "ECGs", body = Vec<EcgView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: clinical staff only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
#[get("/patients/{id}/ecgs")]
pub async fn ecgs(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<Vec<EcgView>>> {
    orders::ecgs(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(create);
    cfg.service(list);
    cfg.service(pending);
    cfg.service(approve);
    cfg.service(review);
    cfg.service(reviews_needed);
    cfg.service(add_ecg);
    cfg.service(ecgs);
}
