use actix_web::{get, post, web, HttpResponse};

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::drug_tests::{
    self, DueQuery, DueTestView, NewPoliceNotification, NewSelection, NewTest, OutstandingPolice, SelectionQuery,
    SelectionView, TestResultEntry, TestView,
};
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Record a urine or hair test (doctors, nurses); `pending` when the result comes later.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = NewTest,
    responses(
        (status = 201, description = "Recorded", body = TestView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and nurses only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/tests")]
pub async fn record(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewTest>,
) -> AppResult<HttpResponse> {
    let test = drug_tests::record(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(test))
}

/// A patient's tests, newest first (clinical staff; rehab workers in scope).
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Tests", body = Vec<TestView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found` (also outside the caller's scope)", body = ErrorBody),
    )
)]
#[get("/patients/{id}/tests")]
pub async fn of_patient(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<Vec<TestView>>> {
    drug_tests::of_patient(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// Enter the result of a pending test.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Test id")),
    request_body = TestResultEntry,
    responses(
        (status = 200, description = "Result entered", body = TestView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`test_has_result`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/tests/{id}/result")]
pub async fn enter_result(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<TestResultEntry>,
) -> AppResult<web::Json<TestView>> {
    drug_tests::enter_result(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// Tests due on a day (urine every 30 days; hair every 90 or 180 days by risk level).
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(DueQuery),
    responses(
        (status = 200, description = "Due tests, most overdue first", body = Vec<DueTestView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
    )
)]
#[get("/tests/due")]
pub async fn due(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<DueQuery>,
) -> AppResult<web::Json<Vec<DueTestView>>> {
    drug_tests::due(&state, &user.0, q.into_inner()).await.map(web::Json)
}

/// Draw the day's random urine tests at a site (recorded with its seed; one draw per site
/// and day: asking again returns it with 200).
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    request_body = NewSelection,
    responses(
        (status = 201, description = "Drawn", body = SelectionView),
        (status = 200, description = "The day's existing draw", body = SelectionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not assigned to the site", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/tests/urine-selections")]
pub async fn select_for_urine(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<NewSelection>,
) -> AppResult<HttpResponse> {
    let (drawn, new) = drug_tests::select_for_urine(&state, &user.0, body.into_inner()).await?;
    Ok(if new { HttpResponse::Created() } else { HttpResponse::Ok() }.json(drawn))
}

/// The day's random urine-test draw at a site.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(SelectionQuery),
    responses(
        (status = 200, description = "The draw", body = SelectionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`: no draw that day", body = ErrorBody),
    )
)]
#[get("/tests/urine-selections")]
pub async fn selection(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<SelectionQuery>,
) -> AppResult<web::Json<SelectionView>> {
    drug_tests::selection(&state, &user.0, q.into_inner()).await.map(web::Json)
}

/// Record the police notification of a positive hair test (doctors, admins).
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Test id")),
    request_body = NewPoliceNotification,
    responses(
        (status = 201, description = "Recorded", body = TestView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`police_already_notified`", body = ErrorBody),
        (status = 422, description = "`police_notification_not_required`; `validation_failed`", body = ErrorBody),
    )
)]
#[post("/tests/{id}/police-notification")]
pub async fn notify_police(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewPoliceNotification>,
) -> AppResult<HttpResponse> {
    let test = drug_tests::notify_police(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(test))
}

/// Positive hair tests whose police notification is not yet recorded.
#[utoipa::path(
    tag = "tests",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Outstanding notifications", body = Vec<OutstandingPolice>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
    )
)]
#[get("/police-notifications/outstanding")]
pub async fn outstanding_police(
    state: web::Data<AppState>,
    user: AuthedUser,
) -> AppResult<web::Json<Vec<OutstandingPolice>>> {
    drug_tests::outstanding_police(&state, &user.0).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(record);
    cfg.service(of_patient);
    cfg.service(enter_result);
    cfg.service(due);
    cfg.service(select_for_urine);
    cfg.service(selection);
    cfg.service(notify_police);
    cfg.service(outstanding_police);
}
