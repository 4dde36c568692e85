//! Printable reports: the daily dispensing register of a site, a patient's dose card, the
//! rehab monthly attendance report (PDF and CSV) and the network's monthly statistics.
//! This module gathers the data; `crate::reports` lays out the pages.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use serde::Deserialize;

use super::clinical::order_book;
use super::dispensing::attendance_days;
use super::patients::load_visible;
use super::scope::{self, case_states, CaseNow};
use super::{check_date, Actor, AppState};
use crate::clock::local_midnight;
use crate::db::orders::{self as orders_q, OrderWithActivation};
use crate::db::patients::PatientRow;
use crate::db::{
    alerts as alerts_q, audit as audit_q, corrections as corrections_q, drug_tests as tests_q, rehab as rehab_q,
};
use crate::db::{doses as doses_q, patients as patients_q, sites as sites_q, staff as staff_q, DbConn};
use crate::domain::audit::register_line;
use crate::domain::dates::{self, Window};
use crate::domain::dispensing::DoseKind;
use crate::domain::dispensing::PatientStatus;
use crate::domain::drug_tests::TestResult;
use crate::domain::patients::Sex;
use crate::domain::rehab::{Basis, CaseStatus};
use crate::domain::reports::{
    attendance_figures, monthly_figures, AttendanceFigures, MonthDose, MonthTest, PatientMonthFacts, ReportMonth,
    StatusChangeOn,
};
use crate::domain::sites::SiteKind;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};
use crate::reports::card::{patient_card_pdf, CardDose, PatientCardData};
use crate::reports::id_card::{card_pdf, card_sheets_pdf, CardFace};
use crate::reports::monthly::{monthly_report_pdf, MonthlyReportData, MonthlySiteRow};
use crate::reports::register::{
    dispensing_register_pdf, Amendment, CorrectionMade, RegisterData, RegisterRow, StockLines,
};
use crate::reports::rehab_attendance::{
    rehab_attendance_csv as attendance_csv, rehab_attendance_pdf as attendance_pdf, CaseAlert, CaseLine, CaseTest,
    RehabAttendanceData, TownshipSection,
};

/// The oral solution every site dispenses until products are configured (1 mg/mL).
const DEFAULT_PRODUCT: &str = "盐酸美沙酮口服溶液 1 mg/mL";
const DEFAULT_CONCENTRATION_DECI_MG_PER_ML: i64 = 10;

/// The network's name for the heading: the main clinic's name.
fn clinic_name(conn: &mut DbConn) -> AppResult<String> {
    Ok(sites_q::list(conn)?
        .into_iter()
        .find(|s| s.kind == SiteKind::Clinic)
        .map(|s| s.name)
        .unwrap_or_else(|| "美沙酮维持治疗门诊".into()))
}

fn local_time(at: chrono::NaiveDateTime, tz: Tz) -> String {
    at.and_utc().with_timezone(&tz).format("%H:%M").to_string()
}

fn printed_at(state: &AppState) -> String {
    state.now().with_timezone(&state.config.timezone).format("%Y-%m-%d %H:%M").to_string()
}

/// The daily dispensing register (发药登记) of a site as a PDF. A dose corrected later stays
/// on its day's register, struck through with its amendment line, and the day shows both its
/// original and its corrected total; the register of the day a correction was made lists it
/// under 更正记录. A reprint never differs silently from what was printed.
pub async fn dispensing_register(
    state: &AppState,
    actor: &Actor,
    site_id: String,
    date: NaiveDate,
) -> AppResult<Vec<u8>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    if !actor.works_at(&site_id) {
        return Err(AppError::forbidden("You are not assigned to this site."));
    }
    check_date("date", date, Window::past(dates::EARLIEST, state.today()))?;
    let tz = state.config.timezone;
    let printed_at = printed_at(state);
    let printed_by = actor.display_name.clone();
    let now = state.now();
    let data = state
        .read(move |conn| {
            let site = sites_q::find(conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let doses = doses_q::at_site_on(conn, &site.id, date)?;
            let dose_ids: Vec<String> = doses.iter().map(|(d, _, _)| d.id.clone()).collect();
            let mut late = corrections_q::of_doses(conn, &dose_ids)?;
            let offline: HashMap<String, NaiveDateTime> =
                doses_q::offline_of(conn, &dose_ids)?.into_iter().map(|o| (o.dose_id, o.received_at)).collect();
            // Late corrections made (confirmed) on this day, of doses given here earlier.
            let made = corrections_q::confirmed_at_site_between(
                conn,
                &site.id,
                local_midnight(date, tz),
                local_midnight(date + Duration::days(1), tz),
            )?;
            let mut patient_ids: Vec<String> = doses.iter().map(|(d, _, _)| d.patient_id.clone()).collect();
            patient_ids.extend(made.iter().map(|(_, _, d)| d.patient_id.clone()));
            let patients = patients_q::find_many(conn, &patient_ids)?;
            let mut staff_ids: Vec<String> = doses.iter().map(|(d, _, _)| d.nurse_id.clone()).collect();
            for (r, c) in late.values() {
                staff_ids.push(r.requested_by.clone());
                staff_ids.extend(c.iter().map(|c| c.confirmed_by.clone()));
            }
            for (c, r, _) in &made {
                staff_ids.push(r.requested_by.clone());
                staff_ids.push(c.confirmed_by.clone());
            }
            let names = staff_q::names(conn, &staff_ids)?;
            let name = |id: &str| names.get(id).cloned().unwrap_or_default();
            let patient_no = |id: &str| patients.iter().find(|p| p.id == id).map(|p| p.patient_no.clone());
            let patient_name = |id: &str| patients.iter().find(|p| p.id == id).map(|p| p.name.clone());
            let mut nurses: Vec<String> = Vec::new();
            let rows = doses
                .into_iter()
                .map(|(d, reversal, confirmation)| {
                    let nurse = name(&d.nurse_id);
                    if !nurses.contains(&nurse) {
                        nurses.push(nurse.clone());
                    }
                    let amendment = late.remove(&d.id).map(|(r, c)| Amendment {
                        on: local_day(c.as_ref().map_or(r.requested_at, |c| c.confirmed_at), tz),
                        reason: r.reason,
                        requested_by: name(&r.requested_by),
                        confirmed_by: c.map(|c| name(&c.confirmed_by)),
                    });
                    RegisterRow {
                        time: local_time(d.given_at, tz),
                        patient_no: patient_no(&d.patient_id).unwrap_or_default(),
                        patient_name: patient_name(&d.patient_id).unwrap_or_default(),
                        dose_deci_mg: i64::from(d.deci_mg),
                        portion: d.portion as u8,
                        kind: match (d.kind, offline.contains_key(&d.id)) {
                            (DoseKind::HomeVisit, _) => "上门".into(),
                            (_, true) => "离线".into(),
                            _ => "窗口".into(),
                        },
                        offline_received: offline.get(&d.id).map(|t| local_time(*t, tz)),
                        nurse_name: nurse,
                        reversed: confirmation.is_some(),
                        reversal_reason: confirmation.and(reversal).map(|r| r.reason),
                        amendment,
                    }
                })
                .collect();
            let corrections_made = made
                .into_iter()
                .map(|(c, r, d)| CorrectionMade {
                    time: local_time(c.confirmed_at, tz),
                    dose_day: r.dose_day,
                    patient_no: patient_no(&d.patient_id).unwrap_or_default(),
                    patient_name: patient_name(&d.patient_id).unwrap_or_default(),
                    dose_deci_mg: i64::from(d.deci_mg),
                    reason: r.reason,
                    requested_by: name(&r.requested_by),
                    confirmed_by: name(&c.confirmed_by),
                })
                .collect();
            // The day's ledger for the product the site dispensed that day.
            let end = local_midnight(date + Duration::days(1), tz).and_utc() - Duration::seconds(1);
            let end = end.min(now);
            let stock = crate::services::stock::register_stock(conn, &site.id, date, tz, end)?;
            let (product_label, concentration) = match &stock {
                Some(s) => (
                    format!("{} {} mg/mL", s.product.name, s.product.concentration_mg_per_ml),
                    i64::from(s.product.concentration_mg_per_ml) * 10,
                ),
                None => (DEFAULT_PRODUCT.to_string(), DEFAULT_CONCENTRATION_DECI_MG_PER_ML),
            };
            Ok(RegisterData {
                clinic_name: clinic_name(conn)?,
                site_name: site.name,
                site_code: site.code,
                date,
                printed_at,
                printed_by,
                product_label,
                concentration_deci_mg_per_ml: concentration,
                lot: stock.as_ref().and_then(|s| s.lot.clone()),
                stock: stock.map(|s| StockLines {
                    opening: s.day.opening.0,
                    received: s.day.received.0,
                    transfer_in: s.day.transfer_in.0,
                    dispensed: s.day.dispensed.0,
                    home_visit_out: s.day.home_visit_out.0,
                    home_visit_returned: s.day.home_visit_returned.0,
                    waste: s.day.waste.0,
                    transfer_out: s.day.transfer_out.0,
                    adjusted: s.day.adjusted.0,
                    expected: s.day.expected.0,
                    counted: s.day.closed.map(|c| c.counted.0),
                }),
                rows,
                nurses,
                corrections_made,
                audit_line: Some(audit_q::head(conn).map(|h| register_line(h.seq, &h.hash))?),
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || dispensing_register_pdf(&data)).await?;
    pdf.map_err(AppError::internal)
}

fn status_label(status: PatientStatus) -> &'static str {
    match status {
        PatientStatus::Active => "在治",
        PatientStatus::Suspended => "暂停",
        PatientStatus::Discharged => "出组",
        PatientStatus::Deceased => "死亡",
        PatientStatus::DroppedOut => "脱失",
    }
}

/// The patient card (服药卡): photo, name, patient number as barcode and QR, home site and
/// issue date, on one card-sized page.
pub async fn patient_card(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<u8>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let today = state.today();
    let actor = actor.clone();
    let face = state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let site_names = sites_q::names(conn)?;
            let clinic = clinic_name(conn)?;
            card_face(conn, &patient, &clinic, &site_names, today)
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || card_pdf(&face)).await?;
    pdf.map_err(AppError::internal)
}

/// The cards of every active patient whose home is `site_id`, ten to an A4 sheet, in
/// patient-number order (nurses and doctors of that site).
pub async fn site_cards(state: &AppState, actor: &Actor, site_id: String) -> AppResult<Vec<u8>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    if !actor.works_at(&site_id) {
        return Err(AppError::forbidden("You are not assigned to this site."));
    }
    let today = state.today();
    let (title, faces) = state
        .read(move |conn| {
            let site_names = sites_q::names(conn)?;
            let site_name = site_names.get(&site_id).cloned().ok_or_else(AppError::not_found)?;
            let clinic = clinic_name(conn)?;
            let mut patients = patients_q::active_at_site(conn, &site_id)?;
            patients.retain(|p| p.home_site_id == site_id);
            patients.sort_by(|a, b| a.patient_no.cmp(&b.patient_no));
            let mut faces = Vec::with_capacity(patients.len());
            for p in &patients {
                faces.push(card_face(conn, p, &clinic, &site_names, today)?);
            }
            Ok((format!("{site_name} 服药卡"), faces))
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || card_sheets_pdf(&title, &faces)).await?;
    pdf.map_err(AppError::internal)
}

fn card_face(
    conn: &mut DbConn,
    p: &PatientRow,
    clinic: &str,
    site_names: &HashMap<String, String>,
    today: NaiveDate,
) -> AppResult<CardFace> {
    let photo_png =
        patients_q::latest_photo(conn, &p.id)?.filter(|(mime, _)| mime == "image/png").map(|(_, data)| data);
    Ok(CardFace {
        clinic_name: clinic.to_owned(),
        patient_no: p.patient_no.clone(),
        name: p.name.clone(),
        home_site_name: site_names.get(&p.home_site_id).cloned().unwrap_or_default(),
        issued_on: today,
        photo_png,
    })
}

/// A patient's dose history for the last 90 days as an A4 PDF (the list that used to be
/// printed as the card).
pub async fn dose_history(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<u8>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let tz = state.config.timezone;
    let today = state.today();
    let printed_at = printed_at(state);
    let actor = actor.clone();
    let data = state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let day = super::clinical::load_day(conn, patient, today)?;
            let site_names = sites_q::names(conn)?;
            let history = doses_q::history(conn, &day.patient.id, today - Duration::days(89), today)?;
            let dose_ids: Vec<String> = history.iter().map(|(d, _, _)| d.id.clone()).collect();
            let late = corrections_q::of_doses(conn, &dose_ids)?;
            let nurse_ids: Vec<String> = history.iter().map(|(d, _, _)| d.nurse_id.clone()).collect();
            let names = staff_q::names(conn, &nurse_ids)?;
            let current_order = day.orders.active_on(today).map(|o| {
                let phase = match o.phase {
                    crate::domain::orders::Phase::Induction => "诱导期",
                    crate::domain::orders::Phase::Maintenance => "维持期",
                    crate::domain::orders::Phase::Taper => "减量期",
                    crate::domain::orders::Phase::Transfer => "转入",
                };
                let from = o.effective_from.map(|d| d.to_string()).unwrap_or_default();
                format!("每日 {} mg（{phase}），自 {from} 起", o.daily.text())
            });
            let p = &day.patient;
            Ok(PatientCardData {
                clinic_name: clinic_name(conn)?,
                patient_no: p.patient_no.clone(),
                name: p.name.clone(),
                sex: if p.sex == Sex::M { "男".into() } else { "女".into() },
                birth_date: p.birth_date,
                home_site_name: site_names.get(&p.home_site_id).cloned().unwrap_or_default(),
                enrolled_on: p.enrolled_on,
                status: status_label(p.status).into(),
                current_order,
                printed_at,
                doses: history
                    .into_iter()
                    .map(|(d, _, confirmation)| CardDose {
                        date: d.dose_day,
                        time: local_time(d.given_at, tz),
                        dose_deci_mg: i64::from(d.deci_mg),
                        site_name: site_names.get(&d.site_id).cloned().unwrap_or_default(),
                        nurse_name: names.get(&d.nurse_id).cloned().unwrap_or_default(),
                        reversed: confirmation.is_some(),
                        corrected: late.get(&d.id).is_some_and(|(_, c)| c.is_some()),
                    })
                    .collect(),
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || patient_card_pdf(&data)).await?;
    pdf.map_err(AppError::internal)
}

/// The month a report covers: `YYYY-MM`, not after the current month.
fn report_month(text: &str, today: NaiveDate) -> AppResult<ReportMonth> {
    let month = ReportMonth::parse(text.trim())
        .ok_or_else(|| AppError::invalid_field("month", "must be a month written YYYY-MM, e.g. 2026-11"))?;
    if month.first_day() > today {
        return Err(AppError::invalid_field("month", "must not be in the future"));
    }
    check_date("month", month.first_day(), Window::past(dates::EARLIEST, today))?;
    Ok(month)
}

/// The local day of an instant stored in UTC.
fn local_day(at: NaiveDateTime, zone: Tz) -> NaiveDate {
    at.and_utc().with_timezone(&zone).date_naive()
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RehabReportQuery {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// One township. Default: each of a rehab worker's townships; for an admin, every
    /// township with a case open in the month.
    pub township: Option<String>,
}

/// The rehab monthly attendance report (社区戒毒/康复人员月度服药情况) as a PDF, one form per
/// township. Returns the month it covers.
pub async fn rehab_attendance_pdf(
    state: &AppState,
    actor: &Actor,
    query: RehabReportQuery,
) -> AppResult<(ReportMonth, Vec<u8>)> {
    let data = rehab_attendance(state, actor, query).await?;
    let month = data.month;
    let pdf = tokio::task::spawn_blocking(move || attendance_pdf(&data)).await?;
    Ok((month, pdf.map_err(AppError::internal)?))
}

/// The same report as CSV, one row per case.
pub async fn rehab_attendance_csv(
    state: &AppState,
    actor: &Actor,
    query: RehabReportQuery,
) -> AppResult<(ReportMonth, String)> {
    let data = rehab_attendance(state, actor, query).await?;
    Ok((data.month, attendance_csv(&data).map_err(AppError::internal)?))
}

/// The report's figures: each rehab case open at some time in the month (not ended before
/// it began, decided before it ended) in the townships asked for, with its days from the
/// same attendance as the patient's chart. A rehab worker asks only about their own
/// townships, and every patient the report shows them is logged as disclosed.
async fn rehab_attendance(state: &AppState, actor: &Actor, query: RehabReportQuery) -> AppResult<RehabAttendanceData> {
    actor.require(&[Role::Admin, Role::RehabWorker])?;
    let today = state.today();
    let month = report_month(&query.month, today)?;
    let towns: Option<Vec<String>> = match query.township.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if actor.role == Role::RehabWorker && !actor.townships.iter().any(|own| own == t) => {
            return Err(AppError::forbidden("This township is not one of yours."));
        }
        Some(t) => Some(vec![t.to_string()]),
        None if actor.role == Role::RehabWorker => Some(actor.townships.clone()),
        None => None,
    };
    let zone = state.config.timezone;
    let rules = state.config.rules.clone();
    let generated_at = printed_at(state);
    let generated_by = actor.display_name.clone();
    let (data, seen) = state
        .read(move |conn| {
            let rows = rehab_q::in_townships(conn, towns.as_deref())?;
            let cases: Vec<CaseNow> = case_states(conn, rows, month.first_day(), &rules)?
                .into_iter()
                .filter(|c| c.state.status != CaseStatus::Ended && c.row.decision_date <= month.last_day())
                .collect();
            let seen: Vec<(String, Basis)> =
                cases.iter().map(|c| (c.row.patient_id.clone(), Basis::Case(c.row.id.clone()))).collect();
            let mut lines = case_lines(conn, &cases, month, today, zone)?;
            lines.sort_by(|(_, a), (_, b)| {
                (a.patient_no.len(), &a.patient_no, &a.case_id).cmp(&(b.patient_no.len(), &b.patient_no, &b.case_id))
            });
            let townships = towns.unwrap_or_else(|| {
                let mut all: Vec<String> = lines.iter().map(|(t, _)| t.clone()).collect();
                all.sort();
                all.dedup();
                all
            });
            let mut sections: Vec<TownshipSection> = townships
                .into_iter()
                .map(|township| {
                    let cases = lines.iter().filter(|(t, _)| *t == township).map(|(_, l)| l.clone()).collect();
                    TownshipSection { township, cases }
                })
                .collect();
            if sections.is_empty() {
                sections.push(TownshipSection { township: "全部".into(), cases: Vec::new() });
            }
            let data =
                RehabAttendanceData { clinic_name: clinic_name(conn)?, month, generated_at, generated_by, sections };
            Ok((data, seen))
        })
        .await?;
    scope::disclose(state, actor, seen, "report").await?;
    Ok(data)
}

/// Each case's line, with its township: attendance, alerts opened and tests sampled in the
/// month. A patient with two cases is read once.
fn case_lines(
    conn: &mut DbConn,
    cases: &[CaseNow],
    month: ReportMonth,
    today: NaiveDate,
    zone: Tz,
) -> AppResult<Vec<(String, CaseLine)>> {
    let mut patient_ids: Vec<String> = cases.iter().map(|c| c.row.patient_id.clone()).collect();
    patient_ids.sort();
    patient_ids.dedup();
    let patients: HashMap<String, PatientRow> =
        patients_q::find_many(conn, &patient_ids)?.into_iter().map(|p| (p.id.clone(), p)).collect();
    let mut days: HashMap<String, AttendanceFigures> = HashMap::new();
    for (id, patient) in &patients {
        let attendance = attendance_days(conn, patient.clone(), month.first_day(), month.last_day(), today, false)?;
        days.insert(id.clone(), attendance_figures(attendance.iter().map(|d| d.status)));
    }
    let mut alerts: HashMap<String, Vec<CaseAlert>> = HashMap::new();
    let from = local_midnight(month.first_day(), zone);
    let to = local_midnight(month.next_first_day(), zone);
    for a in alerts_q::opened_between(conn, &patient_ids, from, to)? {
        alerts
            .entry(a.patient_id)
            .or_default()
            .push(CaseAlert { opened_on: local_day(a.opened_at, zone), kind: a.kind });
    }
    let mut tests: HashMap<String, Vec<CaseTest>> = HashMap::new();
    for (t, r) in tests_q::of_patients_between(conn, &patient_ids, month.first_day(), month.last_day())? {
        let kind = t.kind;
        let result = r.map_or(TestResult::Pending, |r| r.result);
        tests.entry(t.patient_id).or_default().push(CaseTest { sampled_on: t.sampled_on, kind, result });
    }
    Ok(cases
        .iter()
        .filter_map(|c| {
            let patient = patients.get(&c.row.patient_id)?;
            let line = CaseLine {
                case_id: c.row.id.clone(),
                case_ref: c.row.case_ref.clone(),
                patient_no: patient.patient_no.clone(),
                patient_name: patient.name.clone(),
                kind: c.facts.kind,
                days: days.get(&patient.id).copied().unwrap_or_default(),
                alerts: alerts.get(&patient.id).cloned().unwrap_or_default(),
                tests: tests.get(&patient.id).cloned().unwrap_or_default(),
            };
            Some((c.row.township.clone(), line))
        })
        .collect())
}

/// The network's monthly statistics (美沙酮维持治疗月报) as a PDF. Returns the month it covers.
pub async fn monthly(state: &AppState, actor: &Actor, month: String) -> AppResult<(ReportMonth, Vec<u8>)> {
    actor.require(&[Role::Doctor, Role::Admin])?;
    let month = report_month(&month, state.today())?;
    let zone = state.config.timezone;
    let generated_at = printed_at(state);
    let generated_by = actor.display_name.clone();
    let data = state
        .read(move |conn| {
            let (first, last) = (month.first_day(), month.last_day());
            let mut changes: HashMap<String, Vec<StatusChangeOn>> = HashMap::new();
            for c in patients_q::all_status_changes(conn)? {
                let (from, to) = (c.from_status, c.to_status);
                changes.entry(c.patient_id).or_default().push(StatusChangeOn {
                    on: local_day(c.changed_at, zone),
                    from,
                    to,
                });
            }
            let mut orders: HashMap<String, Vec<OrderWithActivation>> = HashMap::new();
            for row in orders_q::activated_through(conn, last)? {
                orders.entry(row.0.patient_id.clone()).or_default().push(row);
            }
            let patients: Vec<PatientMonthFacts> = patients_q::enrolled_through(conn, last)?
                .into_iter()
                .map(|p| PatientMonthFacts {
                    status_now: p.status,
                    status_changes: changes.remove(&p.id).unwrap_or_default(),
                    orders: order_book(&orders.remove(&p.id).unwrap_or_default()),
                    id: p.id,
                    home_site_id: p.home_site_id,
                    enrolled_on: p.enrolled_on,
                })
                .collect();
            let doses: Vec<MonthDose> = doses_q::standing_between(conn, first, last)?
                .into_iter()
                .map(|(patient_id, site_id, deci_mg, kind)| MonthDose {
                    patient_id,
                    site_id,
                    deci_mg: i64::from(deci_mg),
                    home_visit: kind == DoseKind::HomeVisit,
                })
                .collect();
            let tests: Vec<MonthTest> = tests_q::sampled_between(conn, first, last)?
                .into_iter()
                .map(|(patient_id, kind, result)| MonthTest {
                    patient_id,
                    kind,
                    result: result.unwrap_or(TestResult::Pending),
                })
                .collect();
            let mut figures = monthly_figures(month, &patients, &doses, &tests);
            // Every active site has its row; a closed one only if it has figures this month.
            let sites = sites_q::list(conn)?
                .into_iter()
                .filter_map(|site| match (figures.by_site.remove(&site.id), site.active) {
                    (None, false) => None,
                    (f, _) => Some(MonthlySiteRow { site_name: site.name, figures: f.unwrap_or_default() }),
                })
                .collect();
            Ok(MonthlyReportData {
                clinic_name: clinic_name(conn)?,
                month,
                generated_at,
                generated_by,
                sites,
                total: figures.total,
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || monthly_report_pdf(&data)).await?;
    Ok((month, pdf.map_err(AppError::internal)?))
}
