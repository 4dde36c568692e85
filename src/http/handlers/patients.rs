use actix_web::{get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::{AuthedUser, Id};
use crate::services::patients::{
    self, Arrangement, NewAbsence, NewGuestDosing, NewPatient, PatientDetail, PatientSummary, PatientView, StatusChange,
};
use crate::services::AppState;

/// Enrol a patient.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    request_body = NewPatient,
    responses(
        (status = 201, description = "Enrolled, with a network patient number", body = PatientView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and admins only", body = ErrorBody),
        (status = 409, description = "`duplicate_patient`: the id number is already enrolled", body = ErrorBody),
        (status = 422, description = "`validation_failed` (id number check digit, birth date or sex not matching it, ...)", body = ErrorBody),
    )
)]
#[post("/patients")]
pub async fn enrol(
    state: web::Data<AppState>,
    user: AuthedUser,
    body: web::Json<NewPatient>,
) -> AppResult<HttpResponse> {
    let p = patients::enrol(&state, &user.0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(p))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A name fragment, the patient number, or the last 4+ characters of the id number.
    pub q: Option<String>,
}

/// Find patients (at most 50). Rehab workers get only those they may see.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "Matches", body = Vec<PatientSummary>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/patients")]
pub async fn search(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<SearchQuery>,
) -> AppResult<web::Json<Vec<PatientSummary>>> {
    patients::search(&state, &user.0, q.into_inner().q.unwrap_or_default()).await.map(web::Json)
}

/// One patient.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The patient: the whole record for clinical staff, `RehabPatientView` for rehab workers (logged as a disclosure)", body = PatientDetail),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found` (also for patients outside the caller's scope)", body = ErrorBody),
    )
)]
#[get("/patients/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
) -> AppResult<web::Json<PatientDetail>> {
    patients::get(&state, &user.0, id.into_inner().0).await.map(web::Json)
}

/// Change a patient's status (doctors).
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = StatusChange,
    responses(
        (status = 200, description = "Changed", body = PatientView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/status")]
pub async fn set_status(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<StatusChange>,
) -> AppResult<web::Json<PatientView>> {
    patients::set_status(&state, &user.0, id.into_inner().0, body.into_inner()).await.map(web::Json)
}

/// Upload the patient's photo (the body is the JPEG or PNG file, at most 2 MB).
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 204, description = "Stored"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: rehab workers do not see photos", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 2 MB", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not a JPEG or PNG image", body = ErrorBody),
    )
)]
#[put("/patients/{id}/photo")]
pub async fn upload_photo(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    patients::upload_photo(&state, &user.0, id.into_inner().0, body.to_vec()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The patient's latest photo.
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The image", content_type = "image/jpeg", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: rehab workers do not see photos", body = ErrorBody),
        (status = 404, description = "`not_found`: no such patient or no photo", body = ErrorBody),
    )
)]
#[get("/patients/{id}/photo")]
pub async fn photo(state: web::Data<AppState>, user: AuthedUser, id: web::Path<Id>) -> AppResult<HttpResponse> {
    let (mime, bytes) = patients::photo(&state, &user.0, id.into_inner().0).await?;
    Ok(HttpResponse::Ok().content_type(mime).insert_header(("Cache-Control", "private, no-store")).body(bytes))
}

/// Let the patient dose at another site for a while (doctors, admins).
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = NewGuestDosing,
    responses(
        (status = 201, description = "Arranged", body = Arrangement),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/guest-dosing")]
pub async fn guest_dosing(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewGuestDosing>,
) -> AppResult<HttpResponse> {
    let a = patients::add_guest_dosing(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(a))
}

/// The site holding the patient's day releases it to guest dosing arranged after the day's
/// sheets were out (a nurse of that site).
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id"), ("aid" = String, Path, description = "Arrangement id")),
    responses(
        (status = 200, description = "Released (or released before)", body = Arrangement),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`; `site_not_allowed`: not a nurse of the site holding the day", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the arrangement needs no release", body = ErrorBody),
    )
)]
#[post("/patients/{id}/guest-dosing/{aid}/release")]
pub async fn release_guest_dosing(
    state: web::Data<AppState>,
    user: AuthedUser,
    path: web::Path<(Id, Id)>,
) -> AppResult<web::Json<Arrangement>> {
    let (patient, arrangement) = path.into_inner();
    patients::release_guest_dosing(&state, &user.0, patient.0, arrangement.0).await.map(web::Json)
}

/// Record excused days (hospital stay, detention, dosing at another clinic).
#[utoipa::path(
    tag = "patients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Patient id")),
    request_body = NewAbsence,
    responses(
        (status = 201, description = "Recorded", body = Arrangement),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[post("/patients/{id}/absences")]
pub async fn absence(
    state: web::Data<AppState>,
    user: AuthedUser,
    id: web::Path<Id>,
    body: web::Json<NewAbsence>,
) -> AppResult<HttpResponse> {
    let a = patients::add_absence(&state, &user.0, id.into_inner().0, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(a))
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(enrol);
    cfg.service(search);
    cfg.service(get);
    cfg.service(set_status);
    cfg.service(upload_photo);
    cfg.service(photo);
    cfg.service(guest_dosing);
    cfg.service(release_guest_dosing);
    cfg.service(absence);
}
