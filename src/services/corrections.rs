//! Late corrections (RULES.md "Corrections"): a dose of an earlier day found to be wrong is
//! corrected by a request with a reason (a nurse or a doctor) and its confirmation by a
//! doctor who did not request it. Both are new rows; the dose stays, the old day is never
//! reopened for dosing, and from the confirmation on the dose counts in no total. The
//! register shows the correction on the day it was made and, reprinted, on the original day.

use crate::error::ErrorCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::dispensing::require_dose_site;
use super::patients::load_visible;
use super::validation::clean_text;
use super::{Actor, AppState};
use crate::db::corrections::{self as q, LateConfirmationRow, LateCorrectionRow};
use crate::db::{self, doses as doses_q, patients as patients_q, sites as sites_q, staff as staff_q};
use crate::domain::corrections::{check_late_correction, check_late_correction_confirmer};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LateCorrectionRequest {
    /// What was wrong with the recorded dose (1–300 characters).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LateCorrectionView {
    pub id: String,
    pub dose_id: String,
    /// The dose day of the corrected dose.
    pub dose_day: NaiveDate,
    /// `pending` until a doctor who did not request it confirms, then `confirmed`.
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

fn view(r: &LateCorrectionRow, c: Option<&LateConfirmationRow>) -> LateCorrectionView {
    LateCorrectionView {
        id: r.id.clone(),
        dose_id: r.dose_id.clone(),
        dose_day: r.dose_day,
        status: if c.is_some() { "confirmed".into() } else { "pending".into() },
        reason: r.reason.clone(),
        requested_by: r.requested_by.clone(),
        requested_at: r.requested_at.and_utc(),
        confirmed_by: c.map(|c| c.confirmed_by.clone()),
        confirmed_at: c.map(|c| c.confirmed_at.and_utc()),
    }
}

fn already_confirmed() -> AppError {
    AppError::new(ErrorCode::AlreadyConfirmed, "This late correction is already confirmed.")
        .with_details(serde_json::json!({ "subject": "late_correction" }))
}

/// Asks for a late correction of a dose of an earlier day (a dose of today is reversed).
pub async fn request(
    state: &AppState,
    actor: &Actor,
    dose_id: String,
    req: LateCorrectionRequest,
) -> AppResult<LateCorrectionView> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let reason = clean_text("reason", &req.reason, 300)?;
    let today = state.today();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let dose = doses_q::find(tx.conn, &dose_id)?.ok_or_else(AppError::not_found)?;
            let patient = load_visible(tx.conn, &actor, &dose.patient_id)?;
            require_dose_site(&actor, &dose)?;
            check_late_correction(dose.dose_day, today)?;
            if doses_q::confirmation_of(tx.conn, &dose.id)?.is_some() {
                return Err(AppError::new(
                    ErrorCode::DoseReversed,
                    "This dose was reversed on its day; it already counts in no total.",
                ));
            }
            if q::of_dose(tx.conn, &dose.id)?.is_some() {
                return Err(AppError::new(
                    ErrorCode::LateCorrectionExists,
                    "A late correction of this dose was already requested.",
                ));
            }
            let row = LateCorrectionRow {
                id: db::new_id(),
                dose_id: dose.id.clone(),
                patient_id: dose.patient_id.clone(),
                site_id: dose.site_id.clone(),
                dose_day: dose.dose_day,
                reason,
                requested_by: actor.staff_id.clone(),
                requested_at: tx.now.naive_utc(),
            };
            match q::insert(tx.conn, &mut tx.written, &row) {
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(
                        ErrorCode::LateCorrectionExists,
                        "A late correction of this dose was already requested.",
                    ))
                }
                other => other?,
            }
            tx.audit(
                Some(&actor.staff_id),
                "dose.late_correction_request",
                "dose",
                Some(&dose.id),
                format!(
                    "late correction requested for patient {}'s dose of {}; awaiting a doctor who did not request it",
                    patient.patient_no, dose.dose_day
                ),
            );
            Ok(view(&row, None))
        })
        .await
}

/// A doctor who did not request it confirms the late correction: from now on the dose
/// counts in no total. Two doctors confirming at once record one confirmation; the other
/// answers 409 `already_confirmed`.
pub async fn confirm(state: &AppState, actor: &Actor, dose_id: String) -> AppResult<LateCorrectionView> {
    if actor.role != Role::Doctor {
        return Err(AppError::forbidden("Only a doctor confirms a late correction."));
    }
    let actor = actor.clone();
    let outcome = state
        .write(move |tx| {
            let dose = doses_q::find(tx.conn, &dose_id)?.ok_or_else(AppError::not_found)?;
            let patient = load_visible(tx.conn, &actor, &dose.patient_id)?;
            require_dose_site(&actor, &dose)?;
            let (correction, confirmation) = q::of_dose(tx.conn, &dose.id)?
                .ok_or_else(|| AppError::validation("No late correction of this dose was requested."))?;
            if confirmation.is_some() {
                return Err(already_confirmed());
            }
            check_late_correction_confirmer(&correction.requested_by, &actor.staff_id)?;
            let row = LateConfirmationRow {
                late_correction_id: correction.id.clone(),
                dose_id: dose.id.clone(),
                patient_id: dose.patient_id.clone(),
                site_id: dose.site_id.clone(),
                requested_by: correction.requested_by.clone(),
                confirmed_by: actor.staff_id.clone(),
                confirmed_at: tx.now.naive_utc(),
            };
            match q::insert_confirmation(tx.conn, &mut tx.written, &row) {
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(ErrorCode::LostRace, "another confirmation won the race"))
                }
                other => other?,
            }
            tx.audit(
                Some(&actor.staff_id),
                "dose.late_correction_confirm",
                "dose",
                Some(&dose.id),
                format!(
                    "late correction confirmed for patient {}'s dose of {}; the dose no longer counts",
                    patient.patient_no, dose.dose_day
                ),
            );
            Ok(view(&correction, Some(&row)))
        })
        .await;
    match outcome {
        Err(e) if e.code == ErrorCode::LostRace => Err(already_confirmed()),
        other => other,
    }
}

/// A late correction awaiting confirmation, with what a doctor needs to decide.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingLateCorrection {
    pub id: String,
    pub dose_id: String,
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub site_id: String,
    pub site_name: Option<String>,
    pub dose_day: NaiveDate,
    pub dose_mg: f64,
    pub given_at: DateTime<Utc>,
    pub nurse_name: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    pub requested_at: DateTime<Utc>,
    /// Whether the caller may confirm it (a doctor who did not request it).
    pub can_confirm: bool,
}

/// Late corrections awaiting a doctor, for doses given at the caller's sites.
pub async fn pending(state: &AppState, actor: &Actor) -> AppResult<Vec<PendingLateCorrection>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let rows = q::pending_at_sites(conn, &actor.site_ids)?;
            let patient_ids: Vec<String> = rows.iter().map(|(r, _)| r.patient_id.clone()).collect();
            let patients = patients_q::find_many(conn, &patient_ids)?;
            let mut staff_ids: Vec<String> = rows.iter().map(|(r, _)| r.requested_by.clone()).collect();
            staff_ids.extend(rows.iter().map(|(_, d)| d.nurse_id.clone()));
            let names = staff_q::names(conn, &staff_ids)?;
            let site_names = sites_q::names(conn)?;
            Ok(rows
                .into_iter()
                .filter_map(|(r, d)| {
                    let patient = patients.iter().find(|p| p.id == r.patient_id)?;
                    Some(PendingLateCorrection {
                        can_confirm: actor.role == Role::Doctor && r.requested_by != actor.staff_id,
                        id: r.id,
                        dose_id: r.dose_id,
                        patient_id: patient.id.clone(),
                        patient_no: patient.patient_no.clone(),
                        patient_name: patient.name.clone(),
                        site_name: site_names.get(&r.site_id).cloned(),
                        site_id: r.site_id,
                        dose_day: r.dose_day,
                        dose_mg: f64::from(d.deci_mg) / 10.0,
                        given_at: d.given_at.and_utc(),
                        nurse_name: names.get(&d.nurse_id).cloned(),
                        reason: r.reason,
                        requested_by_name: names.get(&r.requested_by).cloned(),
                        requested_by: r.requested_by,
                        requested_at: r.requested_at.and_utc(),
                    })
                })
                .collect())
        })
        .await
}
