use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::AuthedUser;
use crate::services::{reports, AppState};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    pub site_id: String,
    /// The day (default: today).
    pub date: Option<NaiveDate>,
}

fn pdf(bytes: Vec<u8>, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("inline; filename=\"{filename}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes)
}

/// The daily dispensing register (发药登记簿) of a site: every dose, reversals struck
/// through, the day's total in mg and mL, and a signature line per dispensing nurse.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(RegisterQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not assigned to this site, or not a nurse or doctor", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/reports/dispensing-register.pdf")]
pub async fn dispensing_register(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<RegisterQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let date = q.date.unwrap_or_else(|| state.today());
    let bytes = reports::dispensing_register(&state, &user.0, q.site_id, date).await?;
    Ok(pdf(bytes, &format!("dispensing-register-{date}.pdf")))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardQuery {
    pub patient_id: String,
}

/// A patient's dose card (服药卡): details, the current order and 90 days of doses.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(CardQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/reports/patient-card.pdf")]
pub async fn patient_card(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<CardQuery>,
) -> AppResult<HttpResponse> {
    let bytes = reports::patient_card(&state, &user.0, q.into_inner().patient_id).await?;
    Ok(pdf(bytes, "patient-card.pdf"))
}
