use actix_web::{get, post, web, HttpResponse};

use crate::error::{AppError, AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::rehab::{
    self, CaseQuery, CaseView, DisclosureQuery, DisclosureView, ExportQuery, ImportOutcome, NewCase, NewCaseEvent,
    RehabExport,
};
use crate::services::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Open a community detox / rehab case: admins for any patient; a rehab worker only for a
/// patient recorded in one of their townships, with the case in that township.
#[utoipa::path(
    tag = "rehab",
    security(("bearer" = [])),
    request_body = NewCase,
    responses(
        (status = 201, description = "Created; `ends_on` is the report date + 3 years", body = CaseView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: clinical staff", body = ErrorBody),
        (status = 404, description = "`not_found`: no such patient, or (for a rehab worker) not a patient of their townships, or a case township other than the patient's", body = ErrorBody),
        (status = 409, description = "`duplicate_case_ref`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/rehab-cases")]
pub async fn create(state: web::Data<AppState>, user: AuthedUser, body: web::Json<NewCase>) -> AppResult<HttpResponse> {
    let case = rehab::create(&state, &user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(case))
}

/// Cases: all for admins, their townships' for rehab workers; patients with unresolved
/// alerts first.
#[utoipa::path(
    tag = "rehab",
    security(("bearer" = [])),
    params(CaseQuery),
    responses(
        (status = 200, description = "Cases", body = Vec<CaseView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: clinical staff", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/rehab-cases")]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<CaseQuery>,
) -> AppResult<web::Json<Vec<CaseView>>> {
    rehab::list(&state, &user.0, q.into_inner()).await.map(web::Json)
}

/// Record a case event: the report (报到), an evasion, a detention (suspends the case) or
/// a release.
#[utoipa::path(
    tag = "rehab",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Case id")),
    request_body = NewCaseEvent,
    responses(
        (status = 201, description = "Recorded; the case as it now stands", body = CaseView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found` (also another township's case)", body = ErrorBody),
        (status = 409, description = "`already_reported`, `already_detained`, `not_detained`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/rehab-cases/{id}/events")]
pub async fn add_event(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewCaseEvent>,
) -> AppResult<HttpResponse> {
    let case = rehab::add_event(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(case))
}

/// Import the rehab system's case export: CSV (UTF-8) with the header
/// `case_ref,id_number,kind,decision_date,reported_on,township,worker_username`. All or
/// nothing: any bad row rejects the file, listing every problem by row and field.
#[utoipa::path(
    tag = "rehab",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 201, description = "Every case imported", body = ImportOutcome),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only (the import matches people by id number)", body = ErrorBody),
        (status = 422, description = "`validation_failed` with `details.rows: [{row, field, message}]`; nothing imported", body = ErrorBody),
    )
)]
#[post("/rehab-cases/import")]
pub async fn import(state: web::Data<AppState>, user: AuthedUser, body: web::Bytes) -> AppResult<HttpResponse> {
    let outcome = rehab::import_csv(&state, &user.0, body.to_vec()).await?;
    Ok(HttpResponse::Created().json(outcome))
}

/// Attendance (statuses only) and alerts of the open cases in the caller's scope, for the
/// rehab system: `format=json` (default) or `format=csv` with `what=attendance|alerts`.
#[utoipa::path(
    tag = "rehab",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The export (JSON, or CSV with `format=csv`)", body = RehabExport),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/rehab/export")]
pub async fn export(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    let what = q.what.clone().unwrap_or_else(|| "attendance".into());
    if !["json", "csv"].contains(&format.as_str()) {
        return Err(AppError::invalid_field("format", "must be json or csv"));
    }
    let data = rehab::export(&state, &user.0, &q).await?;
    if format == "json" {
        return Ok(HttpResponse::Ok().insert_header(("Cache-Control", "private, no-store")).json(data));
    }
    let text = rehab::export_csv(&data, &what)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"rehab-{what}-{}-{}.csv\"", data.from, data.to),
        ))
        .body(text))
}

/// Who saw which patient, when and on what basis (admins).
#[utoipa::path(
    tag = "rehab",
    security(("bearer" = [])),
    params(DisclosureQuery),
    responses(
        (status = 200, description = "Disclosures, newest first", body = Vec<DisclosureView>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    )
)]
#[get("/disclosures")]
pub async fn disclosures(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<DisclosureQuery>,
) -> AppResult<web::Json<Vec<DisclosureView>>> {
    rehab::disclosures(&state, &user.0, q.into_inner()).await.map(web::Json)
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(create);
    cfg.service(list);
    cfg.service(add_event);
    cfg.service(import);
    cfg.service(export);
    cfg.service(disclosures);
}
