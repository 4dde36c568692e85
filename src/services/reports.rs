//! Printable registers: the daily dispensing register of a site and a patient's dose card.
//! This module gathers the data; `crate::reports` lays out the PDF.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

use super::patients::load_visible;
use super::{Actor, AppState};
use crate::db::{doses as doses_q, patients as patients_q, sites as sites_q, staff as staff_q, DbConn};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};
use crate::reports::card::{patient_card_pdf, CardDose, PatientCardData};
use crate::reports::register::{dispensing_register_pdf, RegisterData, RegisterRow};

/// The oral solution every site dispenses until products are configured (1 mg/mL).
const DEFAULT_PRODUCT: &str = "盐酸美沙酮口服溶液 1 mg/mL";
const DEFAULT_CONCENTRATION_DECI_MG_PER_ML: i64 = 10;

/// The network's name for the heading: the main clinic's name.
fn clinic_name(conn: &mut DbConn) -> AppResult<String> {
    Ok(sites_q::list(conn)?
        .into_iter()
        .find(|s| s.kind == "clinic")
        .map(|s| s.name)
        .unwrap_or_else(|| "美沙酮维持治疗门诊".into()))
}

fn local_time(at: chrono::NaiveDateTime, tz: Tz) -> String {
    at.and_utc().with_timezone(&tz).format("%H:%M").to_string()
}

fn printed_at(state: &AppState) -> String {
    state.now().with_timezone(&state.config.timezone).format("%Y-%m-%d %H:%M").to_string()
}

/// The daily dispensing register (发药登记) of a site as a PDF.
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
    let tz = state.config.timezone;
    let printed_at = printed_at(state);
    let printed_by = actor.display_name.clone();
    let data = state
        .read(move |conn| {
            let site = sites_q::find(conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let doses = doses_q::at_site_on(conn, &site.id, date)?;
            let patient_ids: Vec<String> = doses.iter().map(|(d, _, _)| d.patient_id.clone()).collect();
            let patients = patients_q::find_many(conn, &patient_ids)?;
            let nurse_ids: Vec<String> = doses.iter().map(|(d, _, _)| d.nurse_id.clone()).collect();
            let names = staff_q::names(conn, &nurse_ids)?;
            let mut nurses: Vec<String> = Vec::new();
            let rows = doses
                .into_iter()
                .map(|(d, reversal, confirmation)| {
                    let patient = patients.iter().find(|p| p.id == d.patient_id);
                    let nurse = names.get(&d.nurse_id).cloned().unwrap_or_default();
                    if !nurses.contains(&nurse) {
                        nurses.push(nurse.clone());
                    }
                    RegisterRow {
                        time: local_time(d.given_at, tz),
                        patient_no: patient.map(|p| p.patient_no.clone()).unwrap_or_default(),
                        patient_name: patient.map(|p| p.name.clone()).unwrap_or_default(),
                        dose_deci_mg: i64::from(d.deci_mg),
                        portion: d.portion as u8,
                        kind: if d.kind == "home_visit" { "上门".into() } else { "窗口".into() },
                        nurse_name: nurse,
                        reversed: confirmation.is_some(),
                        reversal_reason: confirmation.and(reversal).map(|r| r.reason),
                    }
                })
                .collect();
            Ok(RegisterData {
                clinic_name: clinic_name(conn)?,
                site_name: site.name,
                site_code: site.code,
                date,
                printed_at,
                printed_by,
                product_label: DEFAULT_PRODUCT.into(),
                concentration_deci_mg_per_ml: DEFAULT_CONCENTRATION_DECI_MG_PER_ML,
                rows,
                nurses,
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || dispensing_register_pdf(&data)).await?;
    pdf.map_err(AppError::internal)
}

fn status_label(status: &str) -> &'static str {
    match status {
        "active" => "在治",
        "suspended" => "暂停",
        "discharged" => "出组",
        "deceased" => "死亡",
        "dropped_out" => "脱失",
        _ => "未知",
    }
}

/// A patient's dose card (服药卡) for the last 90 days as a PDF.
pub async fn patient_card(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<u8>> {
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
                sex: if p.sex == "M" { "男".into() } else { "女".into() },
                birth_date: p.birth_date,
                home_site_name: site_names.get(&p.home_site_id).cloned().unwrap_or_default(),
                enrolled_on: p.enrolled_on,
                status: status_label(&p.status).into(),
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
                    })
                    .collect(),
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || patient_card_pdf(&data)).await?;
    pdf.map_err(AppError::internal)
}
