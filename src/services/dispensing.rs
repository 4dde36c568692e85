//! Observed dispensing at a site: the day's decision, giving a dose (once, guaranteed by
//! the database), corrections by reversal, the site's queue, dose history and attendance.

use crate::domain::dispensing::{DoseKind, PatientStatus};
use crate::domain::patients::Sex;
use crate::error::ErrorCode;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::clinical::{load_day, load_days, DayData};
use super::idempotency::{self, Key, Replayable};
use super::patients::{load_visible, load_visible_for_write};
use super::scope::{self, load_in_scope};
use super::sweep;
use super::validation::{clean_optional, clean_text};
use super::{check_date, Actor, AppState, Tx};
use crate::db::doses::{
    self as q, ConfirmationRow, DoseRow, GuestDosingRow, OfflineDoseRow, OfflineIncidentRow, ReversalRow, WithheldRow,
};
use crate::db::patients::PatientRow;
use crate::db::{
    self, corrections as corrections_q, patients as patients_q, sites as sites_q, staff as staff_q, DbConn,
};
use crate::domain::corrections::{check_reversal, correction_kind, reversal_status, CorrectionKind};
use crate::domain::dates::Window;
use crate::domain::dispensing::{
    check_attempt, day_status, decide, DayStatus, Decision, DoseAttempt, IntoxicationCheck, PatientAt, SiteAccess,
    Verdict,
};
use crate::domain::offline::{assignment, offline_time, sheet_entry, sheets_fixed_at, Cover, OfflineTime, SheetEntry};
use crate::domain::quantity::DeciMg;
use crate::domain::rules::RuleSet;
use crate::domain::staff::{check_second_person, Role};
use crate::domain::RuleViolation;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlockView {
    pub code: ErrorCode,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastDose {
    /// The dose's id (a dose of an earlier day takes a late correction).
    pub id: String,
    pub dose_day: NaiveDate,
    pub given_at: DateTime<Utc>,
    pub site_id: String,
    pub site_name: Option<String>,
    pub dose_mg: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PatientBrief {
    pub id: String,
    pub patient_no: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub status: PatientStatus,
    pub has_photo: bool,
}

/// The dosing screen's answer: what may be given now, or why not.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    pub date: NaiveDate,
    /// What may be given now, mg.
    pub due_mg: f64,
    pub day_total_mg: f64,
    pub given_mg: f64,
    pub can_dispense: bool,
    pub portion: u8,
    pub missed_days: u32,
    pub order_id: Option<String>,
    pub blocks: Vec<BlockView>,
    pub last_dose: Option<LastDose>,
    pub patient: PatientBrief,
}

/// The decision's blocks, each with an object of details (empty when the rule has none).
fn block_views(decision: &Decision, site_names: &HashMap<String, String>) -> Vec<BlockView> {
    decision
        .blocks
        .iter()
        .map(|b| violation_view(&b.violation, site_names))
        .map(|view| if view.details.is_null() { BlockView { details: json!({}), ..view } } else { view })
        .collect()
}

/// Adds the site's name to an `already_dosed_today` answer, so the nurse reads where.
fn violation_view(v: &RuleViolation, site_names: &HashMap<String, String>) -> BlockView {
    let mut details = v.details.clone();
    if let Some(site) = details.get("site_id").and_then(|s| s.as_str()).and_then(|id| site_names.get(id)).cloned() {
        details["site_name"] = json!(site);
    }
    BlockView { code: v.code, message: v.message.clone(), details }
}

pub(super) fn with_site_name(v: RuleViolation, site_names: &HashMap<String, String>) -> AppError {
    let view = violation_view(&v, site_names);
    let mut e = AppError::from(v);
    e.details = view.details;
    e
}

/// Who holds a patient's dose day (see [`assignment`]): the site, and the guest-dosing
/// arrangements made after the day's sheets that wait for its release.
#[derive(Debug, Clone)]
pub(super) struct DayHold {
    pub holder: String,
    pub awaiting: Vec<GuestDosingRow>,
}

impl DayHold {
    /// Where the patient stands at `site_id`.
    pub(super) fn at<'a>(&'a self, site_id: &str) -> PatientAt<'a> {
        if self.holder == site_id {
            PatientAt::Held
        } else if self.awaiting.iter().any(|g| g.site_id == site_id) {
            PatientAt::AwaitingRelease { holder: &self.holder }
        } else {
            PatientAt::Elsewhere { holder: &self.holder }
        }
    }
}

/// Where a patient stands at `site_id` by the holds [`day_holds`] answered (it answers for
/// every patient asked about; one missing counts as held by the home site).
pub(super) fn patient_at<'a>(
    holds: &'a HashMap<String, DayHold>,
    patient: &'a PatientRow,
    site_id: &str,
) -> PatientAt<'a> {
    let home = PatientAt::Elsewhere { holder: &patient.home_site_id };
    holds.get(&patient.id).map_or(home, |h| h.at(site_id))
}

/// The guest-dosing arrangements covering `date` of these patients, and the ids of those
/// released.
pub(super) fn covering(
    conn: &mut DbConn,
    patient_ids: &[String],
    date: NaiveDate,
) -> AppResult<(Vec<GuestDosingRow>, Vec<String>)> {
    let arrangements = q::guests_of(conn, patient_ids, date)?;
    let arrangement_ids: Vec<String> = arrangements.iter().map(|g| g.id.clone()).collect();
    let released = q::released(conn, &arrangement_ids)?;
    Ok((arrangements, released))
}

/// The arrangements as the daily assignment sees them.
pub(super) fn covers<'a>(arrangements: &[&'a GuestDosingRow], released: &[String]) -> Vec<Cover<'a>> {
    arrangements
        .iter()
        .map(|g| Cover { site: &g.site_id, arranged_at: g.created_at, released: released.contains(&g.id) })
        .collect()
}

/// Who holds each of these patients' day on `date`, by patient id.
pub(super) fn day_holds(
    conn: &mut DbConn,
    patients: &[PatientRow],
    date: NaiveDate,
    zone: chrono_tz::Tz,
) -> AppResult<HashMap<String, DayHold>> {
    let ids: Vec<String> = patients.iter().map(|p| p.id.clone()).collect();
    let (arrangements, released) = covering(conn, &ids, date)?;
    let fixed_at = sheets_fixed_at(date, zone);
    Ok(patients
        .iter()
        .map(|p| {
            let mine: Vec<&GuestDosingRow> = arrangements.iter().filter(|g| g.patient_id == p.id).collect();
            let covering = covers(&mine, &released);
            let a = assignment(&p.home_site_id, &covering, fixed_at);
            let hold = DayHold {
                holder: a.holder.to_owned(),
                awaiting: a.awaiting.iter().map(|&i| mine[i].clone()).collect(),
            };
            (p.id.clone(), hold)
        })
        .collect())
}

/// A nurse's or doctor's access to a patient's day at a site.
pub(super) struct Access {
    nurse_assigned: bool,
    site_id: String,
    hold: DayHold,
}

impl Access {
    pub(super) fn site(&self) -> SiteAccess<'_> {
        SiteAccess { nurse_assigned: self.nurse_assigned, patient: self.hold.at(&self.site_id) }
    }
}

pub(super) fn site_access(
    conn: &mut DbConn,
    actor: &Actor,
    day: &DayData,
    site_id: &str,
    date: NaiveDate,
    zone: chrono_tz::Tz,
) -> AppResult<Access> {
    let mut holds = day_holds(conn, std::slice::from_ref(&day.patient), date, zone)?;
    let hold = holds.remove(&day.patient.id).ok_or_else(|| AppError::internal("no hold for the patient"))?;
    Ok(Access { nurse_assigned: actor.works_at(site_id), site_id: site_id.to_owned(), hold })
}

fn last_dose(day: &DayData, site_names: &HashMap<String, String>) -> Option<LastDose> {
    // Today's dose if any, else the latest before today.
    let row = day.dose_rows.last().or(day.last_before.as_ref()).cloned();
    row.map(|r| LastDose {
        id: r.id.clone(),
        dose_day: r.dose_day,
        given_at: r.given_at.and_utc(),
        site_name: site_names.get(&r.site_id).cloned(),
        site_id: r.site_id,
        dose_mg: f64::from(r.deci_mg) / 10.0,
    })
}

/// The decision for a patient at a site today (`site_id` is required for nurses).
pub async fn decision(
    state: &AppState,
    actor: &Actor,
    patient_id: String,
    site_id: Option<String>,
) -> AppResult<DecisionView> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    if actor.role == Role::Nurse && site_id.is_none() {
        return Err(AppError::invalid_field("site_id", "the nurse's site is required"));
    }
    let today = state.today();
    let now = state.now();
    let rules = state.config.rules.clone();
    let zone = state.config.timezone;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let has_photo = !patients_q::with_photos(conn, std::slice::from_ref(&patient.id))?.is_empty();
            let day = load_day(conn, patient, today)?;
            let access = match &site_id {
                Some(site) => Some(site_access(conn, &actor, &day, site, today, zone)?),
                None => None,
            };
            let decision = decide(&day.day(today, now), access.as_ref().map(Access::site), &rules);
            let site_names = sites_q::names(conn)?;
            Ok(DecisionView {
                date: today,
                due_mg: decision.due.mg(),
                day_total_mg: decision.day_total.mg(),
                given_mg: decision.given.mg(),
                can_dispense: decision.can_dispense(),
                portion: decision.portion,
                missed_days: decision.missed_days,
                order_id: decision.order_id.clone(),
                blocks: block_views(&decision, &site_names),
                last_dose: last_dose(&day, &site_names),
                patient: PatientBrief {
                    id: day.patient.id.clone(),
                    patient_no: day.patient.patient_no.clone(),
                    name: day.patient.name.clone(),
                    sex: day.patient.sex,
                    birth_date: day.patient.birth_date,
                    status: day.patient.status,
                    has_photo,
                },
            })
        })
        .await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoseRequest {
    pub patient_id: String,
    pub site_id: String,
    pub dose_mg: f64,
    pub identity_confirmed: bool,
    pub intoxication_check: IntoxicationCheck,
    pub note: Option<String>,
    /// Set when the window gave the dose while it could not reach the server, and uploads
    /// it now (an `Idempotency-Key` is then required).
    #[serde(default)]
    pub offline: Option<OfflineDose>,
}

/// A dose given at a window that had lost the line.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineDose {
    /// When the window's clock says the dose was given.
    pub terminal_given_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DoseView {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub dose_day: NaiveDate,
    pub dose_mg: f64,
    pub given_at: DateTime<Utc>,
    pub nurse_id: String,
    pub portion: u8,
    /// Given offline: when the server received it (`given_at` is the window's reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
}

fn dose_view(r: &DoseRow, received_at: Option<NaiveDateTime>) -> DoseView {
    DoseView {
        id: r.id.clone(),
        patient_id: r.patient_id.clone(),
        site_id: r.site_id.clone(),
        dose_day: r.dose_day,
        dose_mg: f64::from(r.deci_mg) / 10.0,
        given_at: r.given_at.and_utc(),
        nurse_id: r.nurse_id.clone(),
        portion: r.portion as u8,
        received_at: received_at.map(|t| t.and_utc()),
    }
}

/// Gives a dose: every check of the dispensing table, then the insert whose unique key
/// guarantees one dose per patient, day and portion even when two sites press "give" at
/// the same instant. With an `Idempotency-Key` a retried request replays the first answer.
///
/// A dose given offline (`req.offline`) is decided as of the window's clock reading; if the
/// server refuses it (the patient was dosed meanwhile, another site holds the day, the day
/// has ended), it is never recorded as a dose: an incident for a doctor is, and the answer
/// is 409 `offline_dose_conflict` naming the incident. Only such an upload may come with an
/// access token that expired earlier today (`token_expired`).
pub async fn give(
    state: &AppState,
    actor: &Actor,
    req: DoseRequest,
    key: Option<String>,
    token_expired: bool,
) -> AppResult<Replayable> {
    if token_expired && req.offline.is_none() {
        return Err(AppError::unauthenticated());
    }
    actor.require(&[Role::Nurse])?;
    let key = Key::of(key, "dose", &req)?;
    let amount = DeciMg::parse_mg(req.dose_mg).map_err(|m| AppError::invalid_field("dose_mg", m))?;
    let note = clean_optional("note", req.note.as_deref(), 500)?;
    let now = state.now();
    let zone = state.config.timezone;
    let offline = match &req.offline {
        None => None,
        // Only the site's own windows upload its offline doses (and incidents).
        Some(_) if !actor.works_at(&req.site_id) => {
            return Err(AppError::new(ErrorCode::SiteNotAllowed, "You are not assigned to this site."))
        }
        Some(_) if key.is_none() => {
            return Err(AppError::invalid_field(
                "Idempotency-Key",
                "a dose given offline needs one (it may arrive twice)",
            ))
        }
        Some(o) => Some(
            offline_time(o.terminal_given_at, now, zone)
                .map_err(|m| AppError::invalid_field("offline.terminal_given_at", m))?,
        ),
    };
    let job = DoseJob {
        actor: actor.clone(),
        req,
        amount,
        note,
        today: state.today(),
        now,
        offline,
        rules: state.config.rules.clone(),
        zone,
    };
    let run = |job: DoseJob| idempotency::write(state, actor, key.clone(), move |tx| job.run(tx));
    let mut outcome = run(job.clone()).await;
    if job.offline.is_some() && outcome.as_ref().is_err_and(|e| e.code == ErrorCode::LostRace) {
        // The winner now stands: deciding again refuses this dose and records the incident.
        outcome = run(job.clone()).await;
    }
    match outcome {
        Err(e) if e.code == ErrorCode::LostRace => Err(race_lost(state, job.req.patient_id, job.today).await),
        other => other,
    }
}

/// One dose request, ready to run in a write transaction (again, after a lost race).
#[derive(Clone)]
struct DoseJob {
    actor: Actor,
    req: DoseRequest,
    amount: DeciMg,
    note: Option<String>,
    today: NaiveDate,
    now: DateTime<Utc>,
    offline: Option<OfflineTime>,
    rules: RuleSet,
    zone: chrono_tz::Tz,
}

impl DoseJob {
    fn run(self, tx: &mut Tx<'_>) -> AppResult<Result<Replayable, AppError>> {
        let (actor, req, today, rules) = (&self.actor, &self.req, self.today, &self.rules);
        let patient = load_visible_for_write(tx.conn, actor, &req.patient_id)?;
        if sites_q::find(tx.conn, &req.site_id)?.is_none() {
            return Err(AppError::invalid_field("site_id", "no site has this id"));
        }
        // When the dose counts as given: the window's reading for a dose given offline.
        let at = match self.offline {
            None => self.now,
            Some(OfflineTime::Today(at)) => at,
            Some(OfflineTime::PastDay(day)) => {
                let ended = AppError::new(ErrorCode::OfflineDayEnded, "The dose day had ended when the dose arrived.")
                    .with_details(json!({"dose_day": day}));
                return self.incident(tx, &patient.id, &patient.patient_no, day, ended);
            }
        };
        let day = load_day(tx.conn, patient, today)?;
        let access = site_access(tx.conn, actor, &day, &req.site_id, today, self.zone)?;
        let decision = decide(&day.day(today, at), Some(access.site()), rules);
        let attempt = DoseAttempt {
            identity_confirmed: req.identity_confirmed,
            intoxication: req.intoxication_check,
            amount: self.amount,
            has_note: self.note.is_some(),
        };
        match check_attempt(&decision, &attempt) {
            // Site names only for a refusal's words, read then.
            Verdict::Refuse(v) => {
                let refusal = with_site_name(v, &sites_q::names(tx.conn)?);
                if self.offline.is_some() {
                    return self.incident(tx, &day.patient.id, &day.patient.patient_no, today, refusal);
                }
                Err(refusal)
            }
            Verdict::Withhold(v) => {
                let row = WithheldRow {
                    id: db::new_id(),
                    patient_id: day.patient.id.clone(),
                    site_id: req.site_id.clone(),
                    dose_day: today,
                    intoxication_check: req.intoxication_check,
                    nurse_id: actor.staff_id.clone(),
                    at: at.naive_utc(),
                    note: self.note.clone(),
                };
                q::insert_withheld(tx.conn, &mut tx.written, &row)?;
                tx.audit(
                    Some(&actor.staff_id),
                    "dose.withhold",
                    "patient",
                    Some(&day.patient.id),
                    format!("dose withheld for patient {} ({})", day.patient.patient_no, row.intoxication_check),
                );
                // Committed: the withheld event stands, the attempt is refused; a retry
                // with the same key gets this same refusal.
                Ok(Err(AppError::from(v)))
            }
            Verdict::Give { portion, amount } => {
                let order_id =
                    decision.order_id.clone().ok_or_else(|| AppError::internal("a dose without an order"))?;
                let generation = q::next_generation(tx.conn, &day.patient.id, today, i32::from(portion))?;
                let row = DoseRow {
                    id: db::new_id(),
                    patient_id: day.patient.id.clone(),
                    site_id: req.site_id.clone(),
                    dose_day: today,
                    portion: i32::from(portion),
                    generation,
                    deci_mg: amount.0 as i32,
                    given_at: if self.offline.is_some() { at.naive_utc() } else { tx.now.naive_utc() },
                    nurse_id: actor.staff_id.clone(),
                    order_id,
                    kind: DoseKind::Site,
                    identity_confirmed: true,
                    intoxication_check: req.intoxication_check,
                    note: self.note.clone(),
                };
                match q::insert(tx.conn, &mut tx.written, &row) {
                    Err(e) if db::is_unique_violation(&e) => {
                        return Err(AppError::new(ErrorCode::LostRace, "another dose won the race"))
                    }
                    other => other?,
                }
                let received_at = match (&self.offline, &req.offline) {
                    (Some(_), Some(o)) => {
                        let offline = OfflineDoseRow {
                            dose_id: row.id.clone(),
                            terminal_given_at: o.terminal_given_at.naive_utc(),
                            received_at: tx.now.naive_utc(),
                        };
                        q::insert_offline(tx.conn, &mut tx.written, &offline)?;
                        Some(offline.received_at)
                    }
                    _ => None,
                };
                if decision.missed_days >= rules.missed_days_review {
                    // Back after missed days: the missed-dose alert ends with this dose.
                    sweep::sweep_one(tx, &day.patient.id, today, rules)?;
                }
                let how = if received_at.is_some() { ", given offline" } else { "" };
                tx.audit(
                    Some(&actor.staff_id),
                    "dose.give",
                    "dose",
                    Some(&row.id),
                    format!("dose given to patient {} (portion {portion}{how})", day.patient.patient_no),
                );
                Ok(Ok(Replayable::of(201, &dose_view(&row, received_at))?))
            }
        }
    }

    /// Records the refusal of a dose given offline as an incident for a doctor, and answers
    /// 409 `offline_dose_conflict` naming it (stored with the key: a retry gets the same).
    fn incident(
        &self,
        tx: &mut Tx<'_>,
        patient_id: &str,
        patient_no: &str,
        dose_day: NaiveDate,
        refusal: AppError,
    ) -> AppResult<Result<Replayable, AppError>> {
        let terminal_given_at = self.req.offline.as_ref().map_or(self.now, |o| o.terminal_given_at);
        let row = OfflineIncidentRow {
            id: db::new_id(),
            patient_id: patient_id.to_owned(),
            site_id: self.req.site_id.clone(),
            nurse_id: self.actor.staff_id.clone(),
            dose_day,
            deci_mg: self.amount.0 as i32,
            terminal_given_at: terminal_given_at.naive_utc(),
            received_at: tx.now.naive_utc(),
            reason: refusal.code.as_str().to_owned(),
            details: refusal.details.to_string(),
        };
        q::insert_incident(tx.conn, &mut tx.written, &row)?;
        tx.audit(
            Some(&self.actor.staff_id),
            "dose.offline_incident",
            "patient",
            Some(patient_id),
            format!("dose given offline to patient {patient_no} not recorded ({})", refusal.code),
        );
        Ok(Err(AppError::new(
            ErrorCode::OfflineDoseConflict,
            format!(
                "This dose, given while offline, was not recorded: {} A doctor has been told (incident {}).",
                refusal.message, row.id
            ),
        )
        .with_details(json!({
            "incident_id": row.id,
            "reason": refusal.code,
            "reason_details": refusal.details,
        }))))
    }
}

/// The answer for the loser of a race: 409 naming the winner's site and time.
pub(super) async fn race_lost(state: &AppState, patient_id: String, today: NaiveDate) -> AppError {
    let winner = state
        .read(move |conn| {
            let dose = q::standing_in_slot(conn, &patient_id, today)?;
            let names = sites_q::names(conn)?;
            Ok(dose.map(|d| (d.clone(), names.get(&d.site_id).cloned())))
        })
        .await;
    match winner {
        Ok(Some((d, site_name))) => AppError::new(ErrorCode::AlreadyDosedToday, "Already dosed today. No second dose.")
            .with_details(json!({"site_id": d.site_id, "site_name": site_name, "given_at": d.given_at.and_utc()})),
        Ok(None) => AppError::new(ErrorCode::AlreadyDosedToday, "Already dosed today. No second dose."),
        Err(e) => e,
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversalRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReversalView {
    pub id: String,
    pub dose_id: String,
    /// `pending` until a second staff member confirms, then `confirmed`.
    pub status: String,
}

pub(super) fn require_dose_site(actor: &Actor, dose: &DoseRow) -> AppResult<()> {
    if actor.works_at(&dose.site_id) {
        Ok(())
    } else {
        Err(RuleViolation::new(
            ErrorCode::SiteNotAllowed,
            "Only staff of the site where the dose was given may correct it.",
        )
        .into())
    }
}

/// A closed day is frozen: its doses are in the counted stock, so none is reversed.
fn refuse_after_day_close(conn: &mut DbConn, dose: &DoseRow) -> AppResult<()> {
    if crate::db::stock::day_closed(conn, &dose.site_id, dose.dose_day)? {
        return Err(RuleViolation::new(
            ErrorCode::ReversalWindowClosed,
            "The site's day is closed (stock counted and confirmed): this dose can no longer be reversed. Request a \
             late correction instead; a doctor who did not request it confirms it.",
        )
        .into());
    }
    Ok(())
}

/// Asks to reverse a dose recorded in error (or spilled before it was swallowed): a dose
/// of the current dose day only; an earlier day's dose takes a late correction.
pub async fn request_reversal(
    state: &AppState,
    actor: &Actor,
    dose_id: String,
    req: ReversalRequest,
) -> AppResult<ReversalView> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let reason = clean_text("reason", &req.reason, 300)?;
    let today = state.today();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let dose = q::find(tx.conn, &dose_id)?.ok_or_else(AppError::not_found)?;
            load_visible(tx.conn, &actor, &dose.patient_id)?;
            require_dose_site(&actor, &dose)?;
            check_reversal(dose.dose_day, today)?;
            refuse_after_day_close(tx.conn, &dose)?;
            if q::reversal_of(tx.conn, &dose.id)?.is_some() {
                return Err(AppError::new(ErrorCode::ReversalExists, "A reversal of this dose was already requested."));
            }
            let row = ReversalRow {
                id: db::new_id(),
                dose_id: dose.id.clone(),
                patient_id: dose.patient_id.clone(),
                reason,
                requested_by: actor.staff_id.clone(),
                requested_at: tx.now.naive_utc(),
            };
            q::insert_reversal(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "dose.reversal_request",
                "dose",
                Some(&dose.id),
                "reversal requested; awaiting a second person",
            );
            Ok(ReversalView { id: row.id, dose_id: dose.id, status: "pending".into() })
        })
        .await
}

/// A second staff member confirms the reversal: the dose no longer counts and the day (or
/// portion) is open again.
pub async fn confirm_reversal(state: &AppState, actor: &Actor, dose_id: String) -> AppResult<ReversalView> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let today = state.today();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let dose = q::find(tx.conn, &dose_id)?.ok_or_else(AppError::not_found)?;
            load_visible(tx.conn, &actor, &dose.patient_id)?;
            require_dose_site(&actor, &dose)?;
            // A request made on the dose's day and confirmed on a later one is too late.
            check_reversal(dose.dose_day, today)?;
            refuse_after_day_close(tx.conn, &dose)?;
            let reversal = q::reversal_of(tx.conn, &dose.id)?
                .ok_or_else(|| AppError::validation("No reversal of this dose was requested."))?;
            if q::confirmation_of(tx.conn, &dose.id)?.is_some() {
                return Err(AppError::new(ErrorCode::AlreadyConfirmed, "This reversal is already confirmed."));
            }
            check_second_person(&reversal.requested_by, &actor.staff_id, "reversal")?;
            q::insert_confirmation(
                tx.conn,
                &mut tx.written,
                &ConfirmationRow {
                    reversal_id: reversal.id.clone(),
                    dose_id: dose.id.clone(),
                    patient_id: dose.patient_id.clone(),
                    confirmed_by: actor.staff_id.clone(),
                    confirmed_at: tx.now.naive_utc(),
                },
            )?;
            tx.audit(
                Some(&actor.staff_id),
                "dose.reversal_confirm",
                "dose",
                Some(&dose.id),
                "reversal confirmed; the dose no longer counts",
            );
            Ok(ReversalView { id: reversal.id, dose_id: dose.id, status: "confirmed".into() })
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReversalInfo {
    /// `pending`, `confirmed`, or `expired` (never confirmed while the dose's day was open:
    /// the dose stands, and only a late correction can correct it now).
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    pub confirmed_by: Option<String>,
    pub confirmed_by_name: Option<String>,
}

/// A late correction of a dose of an earlier day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LateCorrectionInfo {
    pub id: String,
    /// `pending` until a doctor who did not request it confirms, then `confirmed`: from
    /// then on the dose no longer counts in any total.
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub confirmed_by: Option<String>,
    pub confirmed_by_name: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl LateCorrectionInfo {
    pub fn from_rows(
        (r, c): crate::db::corrections::LateCorrection,
        names: &HashMap<String, String>,
    ) -> LateCorrectionInfo {
        LateCorrectionInfo {
            id: r.id,
            status: if c.is_some() { "confirmed".into() } else { "pending".into() },
            reason: r.reason,
            requested_by_name: names.get(&r.requested_by).cloned(),
            requested_by: r.requested_by,
            requested_at: r.requested_at.and_utc(),
            confirmed_by_name: c.as_ref().and_then(|c| names.get(&c.confirmed_by).cloned()),
            confirmed_by: c.as_ref().map(|c| c.confirmed_by.clone()),
            confirmed_at: c.map(|c| c.confirmed_at.and_utc()),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DoseHistoryEntry {
    pub id: String,
    pub dose_day: NaiveDate,
    pub dose_mg: f64,
    pub given_at: DateTime<Utc>,
    pub site_id: String,
    pub site_name: Option<String>,
    pub nurse_id: String,
    pub nurse_name: Option<String>,
    pub portion: u8,
    /// `site` or `home_visit`.
    pub kind: DoseKind,
    pub note: Option<String>,
    /// Whether the dose counts in totals now: not reversed, not taken out by a confirmed
    /// late correction.
    pub counts: bool,
    /// The correction this dose takes today: `reversal` (a dose of today) or
    /// `late_correction` (a dose of an earlier day).
    pub correction: String,
    pub reversal: Option<ReversalInfo>,
    pub late_correction: Option<LateCorrectionInfo>,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRangeQuery {
    /// First day (default: 90 days ago).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub to: Option<NaiveDate>,
}

/// 90 days by default, at most three years.
fn range(q: &DateRangeQuery, today: NaiveDate) -> AppResult<(NaiveDate, NaiveDate)> {
    super::day_range(q.from, q.to, today, 90, 3 * 366 + 1)
}

/// A patient's doses with their reversals and late corrections.
pub async fn history(
    state: &AppState,
    actor: &Actor,
    patient_id: String,
    q_: DateRangeQuery,
) -> AppResult<Vec<DoseHistoryEntry>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let today = state.today();
    let (from, to) = range(&q_, today)?;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let rows = q::history(conn, &patient.id, from, to)?;
            let dose_ids: Vec<String> = rows.iter().map(|(d, _, _)| d.id.clone()).collect();
            let mut late = corrections_q::of_doses(conn, &dose_ids)?;
            let site_names = sites_q::names(conn)?;
            let mut staff_ids: Vec<String> = Vec::new();
            for (d, r, c) in &rows {
                staff_ids.push(d.nurse_id.clone());
                staff_ids.extend(r.iter().map(|r| r.requested_by.clone()));
                staff_ids.extend(c.iter().map(|c| c.confirmed_by.clone()));
            }
            for (r, c) in late.values() {
                staff_ids.push(r.requested_by.clone());
                staff_ids.extend(c.iter().map(|c| c.confirmed_by.clone()));
            }
            let names = staff_q::names(conn, &staff_ids)?;
            Ok(rows
                .into_iter()
                .map(|(d, r, c)| {
                    let late_correction = late.remove(&d.id).map(|l| LateCorrectionInfo::from_rows(l, &names));
                    let reversed = c.is_some();
                    let late_confirmed = late_correction.as_ref().is_some_and(|l| l.confirmed_by.is_some());
                    DoseHistoryEntry {
                        reversal: r.map(|r| ReversalInfo {
                            status: reversal_status(c.is_some(), d.dose_day, today).as_str().into(),
                            reason: r.reason,
                            requested_by_name: names.get(&r.requested_by).cloned(),
                            requested_by: r.requested_by,
                            confirmed_by_name: c.as_ref().and_then(|c| names.get(&c.confirmed_by).cloned()),
                            confirmed_by: c.map(|c| c.confirmed_by),
                        }),
                        late_correction,
                        counts: !reversed && !late_confirmed,
                        correction: match correction_kind(d.dose_day, today) {
                            CorrectionKind::Reversal => "reversal".into(),
                            CorrectionKind::LateCorrection => "late_correction".into(),
                        },
                        id: d.id,
                        dose_day: d.dose_day,
                        dose_mg: f64::from(d.deci_mg) / 10.0,
                        given_at: d.given_at.and_utc(),
                        site_name: site_names.get(&d.site_id).cloned(),
                        site_id: d.site_id,
                        nurse_name: names.get(&d.nurse_id).cloned(),
                        nurse_id: d.nurse_id,
                        portion: d.portion as u8,
                        kind: d.kind,
                        note: d.note,
                    }
                })
                .collect())
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttendanceDay {
    pub date: NaiveDate,
    pub status: DayStatus,
    /// Clinical staff only: mg given that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dose_mg: Option<f64>,
    /// Clinical staff only: the order's daily mg that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered_mg: Option<f64>,
}

/// Each day's attendance, from the same missed-day notion as dispensing. Rehab workers
/// (in scope) get the statuses only — never mg — and the view is logged as a disclosure.
pub async fn attendance(
    state: &AppState,
    actor: &Actor,
    patient_id: String,
    q_: DateRangeQuery,
) -> AppResult<Vec<AttendanceDay>> {
    let today = state.today();
    let (from, to) = range(&q_, today)?;
    let reader = actor.clone();
    let rules = state.config.rules.clone();
    let (days, basis) = state
        .read(move |conn| {
            let (patient, basis) = load_in_scope(conn, &reader, &patient_id, today, &rules)?;
            let clinical = basis.is_none();
            let days = attendance_days(conn, patient, from, to, today, clinical)?;
            Ok((days, basis.map(|b| (patient_id, b))))
        })
        .await?;
    scope::disclose(state, actor, basis.into_iter().collect(), "attendance").await?;
    Ok(days)
}

/// A patient's attendance from `from` to `to`; with `with_mg`, the mg given and ordered.
pub fn attendance_days(
    conn: &mut DbConn,
    patient: PatientRow,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    with_mg: bool,
) -> AppResult<Vec<AttendanceDay>> {
    let day = load_day(conn, patient, today)?;
    let doses = q::history(conn, &day.patient.id, from, to)?;
    let withheld = q::withheld_days(conn, &day.patient.id, from, to)?;
    let dose_ids: Vec<String> = doses.iter().map(|(d, _, _)| d.id.clone()).collect();
    // A confirmed late correction takes the dose's mg out of the day's figure; the day's
    // status stays as it was judged (RULES.md: the old day is never reopened).
    let corrected: Vec<String> = corrections_q::of_doses(conn, &dose_ids)?
        .into_iter()
        .filter(|(_, (_, confirmation))| confirmation.is_some())
        .map(|(dose_id, _)| dose_id)
        .collect();
    let mut out = Vec::new();
    let mut date = from;
    while date <= to {
        let standing: Vec<&DoseRow> =
            doses.iter().filter(|(d, _, c)| d.dose_day == date && c.is_none()).map(|(d, _, _)| d).collect();
        let kinds: Vec<bool> = standing.iter().map(|d| d.kind == DoseKind::HomeVisit).collect();
        let status = day_status(date, today, &day.orders, &kinds, &day.excused, withheld.contains(&date));
        let given: i64 = standing.iter().filter(|d| !corrected.contains(&d.id)).map(|d| i64::from(d.deci_mg)).sum();
        out.push(AttendanceDay {
            date,
            status,
            dose_mg: (with_mg && given > 0).then(|| DeciMg(given).mg()),
            ordered_mg: if with_mg { day.orders.active_on(date).map(|o| o.daily.mg()) } else { None },
        });
        date += Duration::days(1);
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueEntry {
    pub patient_id: String,
    pub patient_no: String,
    pub name: String,
    /// `due`, `dosed`, `blocked` or `home_visit`.
    pub state: String,
    pub due_mg: f64,
    pub given_mg: f64,
    pub day_total_mg: f64,
    pub missed_days: u32,
    pub guest: bool,
    pub blocks: Vec<BlockView>,
    pub last_given_at: Option<DateTime<Utc>>,
    /// Guest dosing at another site arranged after today's sheets were out, waiting for
    /// this site to release the patient's day.
    pub release_requests: Vec<ReleaseRequest>,
}

/// A guest-dosing arrangement waiting for the holding site's release.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReleaseRequest {
    pub arrangement_id: String,
    pub site_id: String,
    pub site_name: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// The day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
}

/// The active patients a site's window may see on a day: its own, and the guests arranged
/// to dose there.
fn site_patients(conn: &mut DbConn, site_id: &str, date: NaiveDate) -> AppResult<Vec<PatientRow>> {
    let mut patients = patients_q::active_at_site(conn, site_id)?;
    let guest_ids: Vec<String> = q::guests_at(conn, site_id, date)?.into_iter().map(|g| g.patient_id).collect();
    let known: Vec<String> = patients.iter().map(|p| p.id.clone()).collect();
    let extra: Vec<String> = guest_ids.iter().filter(|id| !known.contains(id)).cloned().collect();
    patients.extend(patients_q::find_many(conn, &extra)?.into_iter().filter(|p| p.status == PatientStatus::Active));
    Ok(patients)
}

/// What a site's queue and day sheet start from: the site's patients on a day, loaded for
/// deciding, with who holds each one's day.
struct SiteDay {
    site_id: String,
    date: NaiveDate,
    now: DateTime<Utc>,
    rules: RuleSet,
    days: Vec<DayData>,
    /// Who holds each patient's day.
    holds: HashMap<String, DayHold>,
    /// Patients on the day's home-visit run sheet.
    visited: Vec<String>,
    site_names: HashMap<String, String>,
}

impl SiteDay {
    /// Where a patient stands at this site that day.
    fn at<'a>(&'a self, day: &'a DayData) -> PatientAt<'a> {
        patient_at(&self.holds, &day.patient, &self.site_id)
    }

    /// The arrangements waiting for this site to release the patient's day.
    fn release_requests(&self, day: &DayData) -> Vec<ReleaseRequest> {
        match self.holds.get(&day.patient.id) {
            Some(hold) if hold.holder == self.site_id => hold
                .awaiting
                .iter()
                .map(|g| ReleaseRequest {
                    arrangement_id: g.id.clone(),
                    site_id: g.site_id.clone(),
                    site_name: self.site_names.get(&g.site_id).cloned(),
                    reason: g.reason.clone(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A patient's day at this site's window, as the dosing screen decides it.
    fn decide(&self, day: &DayData) -> Decision {
        let access = SiteAccess { nurse_assigned: true, patient: self.at(day) };
        decide(&day.day(self.date, self.now), Some(access), &self.rules)
    }

    /// The day's dose goes to the patient at home: given on a visit, or on the run sheet
    /// and not yet given (unless the visit found no one).
    fn home_visit(&self, day: &DayData, decision: &Decision) -> bool {
        day.doses.iter().any(|d| d.home_visit)
            || (decision.given == DeciMg::ZERO && self.visited.contains(&day.patient.id))
    }
}

/// Loads a site's day for a nurse or doctor of the site (the date defaults to today and lies
/// within the day view's window) and hands it to `f`.
async fn site_day<T, F>(state: &AppState, actor: &Actor, site_id: String, date: Option<NaiveDate>, f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn, SiteDay) -> AppResult<T> + Send + 'static,
{
    actor.require(&[Role::Nurse, Role::Doctor])?;
    if !actor.works_at(&site_id) {
        return Err(AppError::forbidden("You are not assigned to this site."));
    }
    let today = state.today();
    let date = date.unwrap_or(today);
    check_date("date", date, Window::day_view(today))?;
    super::home_visits::ensure_planned(state, site_id.clone(), date).await?;
    let now = state.now();
    let rules = state.config.rules.clone();
    let zone = state.config.timezone;
    state
        .read(move |conn| {
            sites_q::find(conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let patients = site_patients(conn, &site_id, date)?;
            let holds = day_holds(conn, &patients, date, zone)?;
            let days = load_days(conn, patients, date)?;
            let ids: Vec<String> = days.iter().map(|d| d.patient.id.clone()).collect();
            let visited = super::home_visits::on_run_sheet(conn, &ids, date)?;
            let site_names = sites_q::names(conn)?;
            f(conn, SiteDay { site_id, date, now, rules, days, holds, visited, site_names })
        })
        .await
}

/// Everyone expected at a site's window on a day, each with the same decision the dosing
/// screen shows — loaded in a fixed number of queries, not one per patient.
pub async fn queue(
    state: &AppState,
    actor: &Actor,
    site_id: String,
    date: Option<NaiveDate>,
) -> AppResult<Vec<QueueEntry>> {
    site_day(state, actor, site_id, date, |_, site| {
        let mut out: Vec<QueueEntry> = site
            .days
            .iter()
            // Those whose day this site holds, and its guests waiting for a release.
            .filter(|day| !matches!(site.at(day), PatientAt::Elsewhere { .. }))
            .map(|day| {
                let decision = site.decide(day);
                let state = if site.home_visit(day, &decision) {
                    "home_visit"
                } else if decision.can_dispense() {
                    "due"
                } else if decision.given > DeciMg::ZERO {
                    "dosed"
                } else {
                    "blocked"
                };
                QueueEntry {
                    patient_id: day.patient.id.clone(),
                    patient_no: day.patient.patient_no.clone(),
                    name: day.patient.name.clone(),
                    state: state.into(),
                    due_mg: decision.due.mg(),
                    given_mg: decision.given.mg(),
                    day_total_mg: decision.day_total.mg(),
                    missed_days: decision.missed_days,
                    guest: day.patient.home_site_id != site.site_id,
                    blocks: block_views(&decision, &site.site_names),
                    last_given_at: day.doses.iter().map(|d| d.given_at).max(),
                    release_requests: site.release_requests(day),
                }
            })
            .collect();
        out.sort_by(|a, b| a.patient_no.cmp(&b.patient_no));
        Ok(out)
    })
    .await
}

/// A site's day sheet: the patients the site holds on a day, each with the decision as the
/// server computes it now and the rule inputs the window needs to keep deciding offline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DaySheet {
    pub site_id: String,
    pub date: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub lines: Vec<DaySheetLine>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DaySheetLine {
    pub patient_id: String,
    pub patient_no: String,
    pub name: String,
    /// Held here by a guest-dosing arrangement (not the home site).
    pub guest: bool,
    /// On the day's home-visit run sheet: the dose goes to them, not to the window.
    pub home_visit: bool,
    /// A photo is on file (`GET /patients/{id}/photo`): the window keeps it for offline.
    pub has_photo: bool,
    /// The dose given last (today's, else the latest before the day), for the window.
    pub last_dose: Option<LastDose>,
    pub due_mg: f64,
    pub blocks: Vec<BlockView>,
    pub entry: SheetEntry,
}

/// The day sheet of a site (see [`DaySheet`]). Every patient's day is held by exactly one
/// site: the site of a guest-dosing arrangement covering the day, else the home site; so a
/// site's own patient who doses elsewhere that day is not on its sheet.
pub async fn day_sheet(
    state: &AppState,
    actor: &Actor,
    site_id: String,
    date: Option<NaiveDate>,
) -> AppResult<DaySheet> {
    site_day(state, actor, site_id, date, |conn, site| {
        let held: Vec<&DayData> = site.days.iter().filter(|day| site.at(day) == PatientAt::Held).collect();
        let ids: Vec<String> = held.iter().map(|day| day.patient.id.clone()).collect();
        let photos: HashSet<String> = patients_q::with_photos(conn, &ids)?.into_iter().collect();
        let mut lines: Vec<DaySheetLine> = held
            .into_iter()
            .map(|day| {
                let patient_day = day.day(site.date, site.now);
                let decision = site.decide(day);
                DaySheetLine {
                    patient_id: day.patient.id.clone(),
                    patient_no: day.patient.patient_no.clone(),
                    name: day.patient.name.clone(),
                    guest: day.patient.home_site_id != site.site_id,
                    home_visit: site.home_visit(day, &decision),
                    has_photo: photos.contains(&day.patient.id),
                    last_dose: last_dose(day, &site.site_names),
                    due_mg: decision.due.mg(),
                    blocks: block_views(&decision, &site.site_names),
                    entry: sheet_entry(&patient_day, &site.rules),
                }
            })
            .collect();
        lines.sort_by(|a, b| a.patient_no.cmp(&b.patient_no));
        Ok(DaySheet { site_id: site.site_id, date: site.date, generated_at: site.now, lines })
    })
    .await
}
