use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppResult, ErrorBody};
use crate::http::extract::AuthedUser;
use crate::services::reports::RehabReportQuery;
use crate::services::{reports, AppState};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    pub site_id: String,
    /// The day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
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

/// The patient card (服药卡): photo, name, patient number as Code 128 barcode and QR code
/// (what the dosing window's scanner field reads), home site, issue date; one card-sized page.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(CardQuery),
    responses(
        (status = 200, description = "Card-sized PDF (85.6 × 54 mm)", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteCardsQuery {
    pub site_id: String,
}

/// The cards of every active patient of a site, ten to an A4 sheet with cut lines.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(SiteCardsQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not assigned to the site", body = ErrorBody),
        (status = 404, description = "`not_found`: no such site", body = ErrorBody),
    )
)]
#[get("/reports/patient-cards.pdf")]
pub async fn site_cards(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<SiteCardsQuery>,
) -> AppResult<HttpResponse> {
    let bytes = reports::site_cards(&state, &user.0, q.into_inner().site_id).await?;
    Ok(pdf(bytes, "patient-cards.pdf"))
}

/// A patient's dose history: details, the current order and 90 days of doses.
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
#[get("/reports/dose-history.pdf")]
pub async fn dose_history(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<CardQuery>,
) -> AppResult<HttpResponse> {
    let bytes = reports::dose_history(&state, &user.0, q.into_inner().patient_id).await?;
    Ok(pdf(bytes, "dose-history.pdf"))
}

/// The rehab monthly attendance report (社区戒毒/康复人员美沙酮维持治疗月度服药情况): one
/// form per township listing each rehab case open in the month with its days dosed, on home
/// visits, missed, excused and withheld, the longest run of missed days, the alerts opened
/// and the tests taken, with signature lines. Never doses in mg. Rehab workers get their own
/// townships only (another township is 403); each patient shown to them is logged as a disclosure.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(RehabReportQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a rehab worker or admin, or a township not the worker's own", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the month is not written YYYY-MM or lies in the future", body = ErrorBody),
    )
)]
#[get("/reports/rehab-attendance.pdf")]
pub async fn rehab_attendance_pdf(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<RehabReportQuery>,
) -> AppResult<HttpResponse> {
    let (month, bytes) = reports::rehab_attendance_pdf(&state, &user.0, q.into_inner()).await?;
    Ok(pdf(bytes, &format!("rehab-attendance-{month}.pdf")))
}

/// The rehab monthly attendance report as CSV (UTF-8, header row, one row per case): `month,
/// township, case_ref, case_id, patient_no, patient_name, case_kind, days_dosed,
/// home_visit_days, missed_days, excused_days, withheld_days, longest_missed_run,
/// alerts_opened, alert_kinds, tests` — the PDF's figures, kinds and results as API codes.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(RehabReportQuery),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv", body = String),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a rehab worker or admin, or a township not the worker's own", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the month is not written YYYY-MM or lies in the future", body = ErrorBody),
    )
)]
#[get("/reports/rehab-attendance.csv")]
pub async fn rehab_attendance_csv(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<RehabReportQuery>,
) -> AppResult<HttpResponse> {
    let (month, text) = reports::rehab_attendance_csv(&state, &user.0, q.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"rehab-attendance-{month}.csv\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(text))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// The month, `YYYY-MM`.
    pub month: String,
}

/// The network's monthly statistics (美沙酮维持治疗月报): per site and for the network,
/// patients in treatment, doses given (count and mg), new enrolments, dropouts, re-entries,
/// retention, urine and hair tests with the positive rate, and home visits.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(MonthQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: doctors and admins only", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the month is not written YYYY-MM or lies in the future", body = ErrorBody),
    )
)]
#[get("/reports/monthly.pdf")]
pub async fn monthly(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<MonthQuery>,
) -> AppResult<HttpResponse> {
    let (month, bytes) = reports::monthly(&state, &user.0, q.into_inner().month).await?;
    Ok(pdf(bytes, &format!("monthly-{month}.pdf")))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockLedgerQuery {
    pub site_id: String,
    /// The product (default: the site's dispensing product).
    pub product_id: Option<String>,
    /// First day (default: 30 days before `to`).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub to: Option<NaiveDate>,
}

/// The stock ledger (专用账册) of a site and product over a period: date, entry, in, out,
/// balance, and both staff names, in mL with the concentration named.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(StockLedgerQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses of the site and admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`; `no_dispensing_product`", body = ErrorBody),
    )
)]
#[get("/reports/stock-ledger.pdf")]
pub async fn stock_ledger(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<StockLedgerQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let query = crate::services::stock::LedgerQuery { product_id: q.product_id, from: q.from, to: q.to };
    let bytes = crate::services::stock::ledger_pdf(&state, &user.0, q.site_id, query).await?;
    Ok(pdf(bytes, "stock-ledger.pdf"))
}

/// The home-visit log (上门服药记录) of a site's day: patient, dose and volume, times,
/// outcome, both nurses, and a column for the patient's signature.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(RegisterQuery),
    responses(
        (status = 200, description = "A4 PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: nurses and doctors of the site only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
#[get("/reports/home-visit-log.pdf")]
pub async fn home_visit_log(
    state: web::Data<AppState>,
    user: AuthedUser,
    q: web::Query<RegisterQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let bytes = crate::services::home_visits::log_pdf(&state, &user.0, q.site_id, q.date).await?;
    Ok(pdf(bytes, "home-visit-log.pdf"))
}

/// This module's endpoints, in the order they are matched.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(dispensing_register);
    cfg.service(patient_card);
    cfg.service(site_cards);
    cfg.service(dose_history);
    cfg.service(rehab_attendance_pdf);
    cfg.service(rehab_attendance_csv);
    cfg.service(monthly);
    cfg.service(stock_ledger);
    cfg.service(home_visit_log);
}
