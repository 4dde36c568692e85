//! Home-visit deliveries: doctors' authorizations, recurring schedules, each site's daily
//! run sheet (materialized once), and the visit's custody chain — check-out confirmed by a
//! second nurse, arrival, outcome, and the return of an undelivered dose confirmed by a
//! second nurse. The check-out and the delivery ask the same decision as the window
//! ([`crate::domain::dispensing::decide`]), and a delivered dose is written into the same
//! dose table under the same unique key.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::clinical::load_day;
use super::dispensing::{day_holds, patient_at, race_lost, site_access, with_site_name, BlockView};
use super::idempotency::{self, Key, Replayable};
use super::patients::load_visible;
use super::stock::{dispensing_product, require_site, ProductView};
use super::validation::{clean_optional, clean_text};
use super::{check_date, sweep, Actor, AppState, Tx};
use crate::db::doses::{self as doses_q, DoseRow};
use crate::db::home_visits::{self as q, AuthorizationRow, ScheduleEndRow, ScheduleRow, StepRow, VisitRow};
use crate::db::patients::PatientRow;
use crate::db::{self, patients as patients_q, sites as sites_q, staff as staff_q, stock as stock_q, DbConn};
use crate::domain::dates::Window;
use crate::domain::dispensing::{
    check_attempt, decide, DoseAttempt, DoseKind, IntoxicationCheck, PatientStatus, SiteAccess, Verdict,
};
use crate::domain::home_visits::{
    check_schedulable, parse_weekdays, visit_due, weekdays_from_text, weekdays_text, Authorization, Outcome, Schedule,
    Step, VisitFacts, VisitState,
};
use crate::domain::quantity::DeciMg;
use crate::domain::staff::{check_second_person, Role};
use crate::domain::stock::{volume_of, CentiMl};
use crate::error::{AppError, AppResult, ErrorCode};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRequest {
    pub reason: String,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub valid_from: NaiveDate,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub valid_to: NaiveDate,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthorizationView {
    pub id: String,
    pub patient_id: String,
    pub reason: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub doctor_id: String,
    pub doctor_name: String,
    pub created_at: DateTime<Utc>,
}

fn auth_view(r: &AuthorizationRow, names: &HashMap<String, String>) -> AuthorizationView {
    AuthorizationView {
        id: r.id.clone(),
        patient_id: r.patient_id.clone(),
        reason: r.reason.clone(),
        valid_from: r.valid_from,
        valid_to: r.valid_to,
        doctor_id: r.doctor_id.clone(),
        doctor_name: names.get(&r.doctor_id).cloned().unwrap_or_default(),
        created_at: r.created_at.and_utc(),
    }
}

fn domain_auths(rows: &[AuthorizationRow]) -> Vec<Authorization> {
    rows.iter().map(|a| Authorization { valid_from: a.valid_from, valid_to: a.valid_to }).collect()
}

/// A doctor authorizes home visits for a patient (mobility impairment, illness).
pub async fn authorize(
    state: &AppState,
    actor: &Actor,
    patient_id: String,
    req: AuthorizationRequest,
) -> AppResult<AuthorizationView> {
    actor.require(&[Role::Doctor])?;
    let reason = clean_text("reason", &req.reason, 300)?;
    let today = state.today();
    check_date("valid_from", req.valid_from, Window::around(today, 31, 366))?;
    check_date("valid_to", req.valid_to, Window::new(req.valid_from, req.valid_from + Duration::days(366)))?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &patient_id)?;
            let row = AuthorizationRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                reason,
                valid_from: req.valid_from,
                valid_to: req.valid_to,
                doctor_id: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            q::insert_authorization(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "home_visit.authorize",
                "patient",
                Some(&patient.id),
                format!(
                    "home visits authorized for patient {} ({} to {})",
                    patient.patient_no, row.valid_from, row.valid_to
                ),
            );
            Ok(auth_view(&row, &HashMap::from([(actor.staff_id.clone(), actor.display_name.clone())])))
        })
        .await
}

pub async fn authorizations(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<AuthorizationView>> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let rows = q::authorizations_of(conn, &[patient.id])?;
            let names = staff_q::names(conn, &rows.iter().map(|a| a.doctor_id.clone()).collect::<Vec<_>>())?;
            Ok(rows.iter().map(|r| auth_view(r, &names)).collect())
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    pub patient_id: String,
    pub site_id: String,
    /// 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Place on the run sheet (lower first); default 100.
    pub position: Option<u16>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub weekdays: Vec<u8>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub position: i32,
    /// Set when the schedule was ended before its `to`: no visit after `last_day`.
    pub ended: Option<ScheduleEndView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleEndView {
    pub last_day: NaiveDate,
    pub reason: String,
    pub ended_by_name: String,
    pub ended_at: DateTime<Utc>,
}

fn schedule_view(r: &ScheduleRow, end: Option<&ScheduleEndRow>, names: &HashMap<String, String>) -> ScheduleView {
    ScheduleView {
        id: r.id.clone(),
        patient_id: r.patient_id.clone(),
        site_id: r.site_id.clone(),
        weekdays: weekdays_from_text(&r.weekdays),
        from: r.from_date,
        to: r.to_date,
        position: r.position,
        ended: end.map(|e| ScheduleEndView {
            last_day: e.last_day,
            reason: e.reason.clone(),
            ended_by_name: names.get(&e.ended_by).cloned().unwrap_or_default(),
            ended_at: e.ended_at.and_utc(),
        }),
    }
}

/// A recurring schedule of visits from a site; only while a doctor's authorization covers it.
pub async fn schedule(state: &AppState, actor: &Actor, req: ScheduleRequest) -> AppResult<ScheduleView> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    require_site(actor, &req.site_id)?;
    let weekdays = parse_weekdays(&req.weekdays).map_err(|m| AppError::invalid_field("weekdays", m))?;
    let today = state.today();
    check_date("from", req.from, Window::around(today, 31, 366))?;
    if let Some(to) = req.to {
        check_date("to", to, Window::new(req.from, req.from + Duration::days(3 * 366)))?;
    }
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &req.patient_id)?;
            sites_q::find(tx.conn, &req.site_id)?
                .ok_or_else(|| AppError::invalid_field("site_id", "no site has this id"))?;
            if patient.home_site_id != req.site_id {
                return Err(AppError::invalid_field(
                    "site_id",
                    "home visits start from the patient's home site; change the home site first",
                ));
            }
            let auths = q::authorizations_of(tx.conn, std::slice::from_ref(&patient.id))?;
            check_schedulable(&domain_auths(&auths), req.from, req.to)?;
            let row = ScheduleRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                site_id: req.site_id.clone(),
                weekdays: weekdays_text(&weekdays),
                from_date: req.from,
                to_date: req.to,
                position: i32::from(req.position.unwrap_or(100)),
                created_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            q::insert_schedule(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "home_visit.schedule",
                "patient",
                Some(&patient.id),
                format!("home-visit schedule for patient {} ({})", patient.patient_no, row.weekdays),
            );
            Ok(schedule_view(&row, None, &HashMap::new()))
        })
        .await
}

pub async fn schedules(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<ScheduleView>> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let ends = q::schedule_ends_of_patient(conn, &patient.id)?;
            let names = staff_q::names(conn, &ends.iter().map(|e| e.ended_by.clone()).collect::<Vec<_>>())?;
            Ok(q::schedules_of_patient(conn, &patient.id)?
                .iter()
                .map(|r| schedule_view(r, ends.iter().find(|e| e.schedule_id == r.id), &names))
                .collect())
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEndRequest {
    /// The last day with a visit from this schedule: today or later.
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub last_day: NaiveDate,
    pub reason: String,
}

/// Ends a schedule before its `to`: no visit is planned from it after `last_day` (today's
/// visit, already on the sheet, stays). Once per schedule.
pub async fn end_schedule(
    state: &AppState,
    actor: &Actor,
    schedule_id: String,
    req: ScheduleEndRequest,
) -> AppResult<ScheduleView> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    let reason = clean_text("reason", &req.reason, 300)?;
    let today = state.today();
    check_date("last_day", req.last_day, Window::new(today, today + Duration::days(3 * 366)))?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let schedule = q::find_schedule(tx.conn, &schedule_id)?.ok_or_else(AppError::not_found)?;
            let patient = load_visible(tx.conn, &actor, &schedule.patient_id)?;
            require_site(&actor, &schedule.site_id)?;
            if schedule.to_date.is_some_and(|to| req.last_day >= to) {
                return Err(AppError::invalid_field("last_day", "the schedule ends on its own by then"));
            }
            let already = || AppError::validation("This schedule was already ended.");
            if q::schedule_ends_of_patient(tx.conn, &patient.id)?.iter().any(|e| e.schedule_id == schedule.id) {
                return Err(already());
            }
            let row = ScheduleEndRow {
                schedule_id: schedule.id.clone(),
                patient_id: patient.id.clone(),
                last_day: req.last_day,
                reason,
                ended_by: actor.staff_id.clone(),
                ended_at: tx.now.naive_utc(),
            };
            match q::insert_schedule_end(tx.conn, &mut tx.written, &row) {
                Err(e) if db::is_unique_violation(&e) => return Err(already()),
                other => other?,
            }
            tx.audit(
                Some(&actor.staff_id),
                "home_visit.schedule_end",
                "patient",
                Some(&patient.id),
                format!("home-visit schedule for patient {} ends after {}", patient.patient_no, row.last_day),
            );
            let names = HashMap::from([(actor.staff_id.clone(), actor.display_name.clone())]);
            Ok(schedule_view(&schedule, Some(&row), &names))
        })
        .await
}

/// The visits that the schedules put on a site's day and that are not on the sheet yet.
fn missing_visits(
    conn: &mut DbConn,
    site_id: &str,
    day: NaiveDate,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) -> AppResult<Vec<VisitRow>> {
    let schedules = q::schedules_at(conn, site_id, day)?;
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let patient_ids: Vec<String> = schedules.iter().map(|s| s.patient_id.clone()).collect();
    let auths = q::authorizations_of(conn, &patient_ids)?;
    let existing: Vec<String> = q::visited_on(conn, &patient_ids, day)?.into_iter().map(|v| v.patient_id).collect();
    let patients: Vec<PatientRow> = patients_q::find_many(conn, &patient_ids)?
        .into_iter()
        .filter(|p| p.status == PatientStatus::Active && p.home_site_id == site_id)
        .collect();
    // Not a patient whose day another site holds (guest dosing there).
    let holds = day_holds(conn, &patients, day, zone)?;
    let active: Vec<String> =
        patients.into_iter().filter(|p| holds.get(&p.id).is_some_and(|h| h.holder == site_id)).map(|p| p.id).collect();
    let mut out: Vec<VisitRow> = Vec::new();
    for s in schedules {
        if existing.contains(&s.patient_id)
            || !active.contains(&s.patient_id)
            || out.iter().any(|v| v.patient_id == s.patient_id)
        {
            continue;
        }
        let schedule = Schedule { weekdays: weekdays_from_text(&s.weekdays), from: s.from_date, to: s.to_date };
        let mine: Vec<AuthorizationRow> = auths.iter().filter(|a| a.patient_id == s.patient_id).cloned().collect();
        if visit_due(&schedule, &domain_auths(&mine), day) {
            out.push(VisitRow {
                id: db::new_id(),
                schedule_id: s.id.clone(),
                patient_id: s.patient_id.clone(),
                site_id: site_id.to_string(),
                visit_day: day,
                position: s.position,
                planned_at: now.naive_utc(),
            });
        }
    }
    Ok(out)
}

/// Puts the day's planned visits on the sheet, each once: a visit another reader wrote
/// first (the patient's and day's unique key) is skipped in its own savepoint.
pub fn materialize(tx: &mut Tx<'_>, site_id: &str, day: NaiveDate, zone: chrono_tz::Tz) -> AppResult<usize> {
    let missing = missing_visits(tx.conn, site_id, day, tx.now, zone)?;
    let mut written = 0;
    for v in &missing {
        let Tx { conn, written: w, .. } = tx;
        let inserted = db::savepoint(conn, |c| q::insert_visit(c, w, v));
        match inserted {
            Ok(()) => written += 1,
            Err(e) if db::is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if written > 0 {
        tx.audit(None, "home_visit.plan", "site", Some(site_id), format!("{written} visit(s) planned for {day}"));
    }
    Ok(written)
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunSheetQuery {
    /// The day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
}

/// The dose that left (or is to leave) for a visit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitDose {
    pub dose_mg: f64,
    pub volume_ml: f64,
    pub product: Option<ProductView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub step: Step,
    pub outcome: Option<Outcome>,
    pub staff_id: String,
    pub staff_name: Option<String>,
    pub at: DateTime<Utc>,
    pub observed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// A visit on the run sheet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    pub id: String,
    pub patient_id: String,
    pub patient_no: String,
    pub name: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub site_id: String,
    pub date: NaiveDate,
    pub position: i32,
    pub state: VisitState,
    /// `checkout` or `return` when a second nurse must confirm; who asked.
    pub awaiting_confirmation: Option<Step>,
    pub awaiting_from: Option<String>,
    /// The staff id of who asked: they cannot confirm it themselves.
    pub awaiting_by: Option<String>,
    pub dose: Option<VisitDose>,
    /// Today's decision (the window's): what may be checked out now, or why not.
    pub due_mg: f64,
    pub blocks: Vec<BlockView>,
    /// The dose that left the site has neither reached the patient nor come back.
    pub dose_outstanding: bool,
    pub steps: Vec<StepView>,
}

fn visit_views(
    conn: &mut DbConn,
    visits: Vec<VisitRow>,
    today: NaiveDate,
    now: DateTime<Utc>,
    state: &AppState,
) -> AppResult<Vec<VisitView>> {
    if visits.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = visits.iter().map(|v| v.id.clone()).collect();
    let steps = q::steps_of(conn, &ids)?;
    let patient_ids: Vec<String> = visits.iter().map(|v| v.patient_id.clone()).collect();
    let patients = patients_q::find_many(conn, &patient_ids)?;
    let names = staff_q::names(conn, &steps.iter().map(|s| s.staff_id.clone()).collect::<Vec<_>>())?;
    let products = stock_q::products(conn)?;
    let site_names = sites_q::names(conn)?;
    let holds = day_holds(conn, &patients, today, state.config.timezone)?;
    let days = super::clinical::load_days(conn, patients, today)?;
    let rules = &state.config.rules;
    let mut out = Vec::new();
    for v in visits {
        let Some(day) = days.iter().find(|d| d.patient.id == v.patient_id) else { continue };
        let mine: Vec<&StepRow> = steps.iter().filter(|s| s.visit_id == v.id).collect();
        let facts = VisitFacts::of(&mine.iter().map(|s| (s.step, s.outcome)).collect::<Vec<_>>());
        let (due, blocks) = if v.visit_day == today {
            let access = SiteAccess { nurse_assigned: true, patient: patient_at(&holds, &day.patient, &v.site_id) };
            let d = decide(&day.day(today, now), Some(access), rules);
            let blocks = d
                .blocks
                .iter()
                .map(|b| {
                    let e = with_site_name(b.violation.clone(), &site_names);
                    BlockView { code: e.code, message: e.message, details: e.details }
                })
                .collect();
            (d.due.mg(), blocks)
        } else {
            (0.0, Vec::new())
        };
        let awaiting = facts.awaiting_confirmation();
        let awaiting_by = awaiting.and_then(|s| mine.iter().find(|x| x.step == s)).map(|x| x.staff_id.clone());
        let awaiting_from = awaiting_by.as_ref().and_then(|id| names.get(id).cloned());
        let dose = mine.iter().find(|s| s.step == Step::Checkout).map(|s| VisitDose {
            dose_mg: DeciMg(i64::from(s.deci_mg.unwrap_or(0))).mg(),
            volume_ml: CentiMl(i64::from(s.centi_ml.unwrap_or(0))).ml(),
            product: s.product_id.as_ref().and_then(|p| products.iter().find(|x| &x.id == p)).map(ProductView::of),
        });
        out.push(VisitView {
            id: v.id.clone(),
            patient_id: v.patient_id.clone(),
            patient_no: day.patient.patient_no.clone(),
            name: day.patient.name.clone(),
            address: day.patient.address.clone(),
            phone: day.patient.phone.clone(),
            site_id: v.site_id.clone(),
            date: v.visit_day,
            position: v.position,
            state: facts.state(),
            awaiting_confirmation: awaiting,
            awaiting_from,
            awaiting_by,
            dose,
            due_mg: due,
            blocks,
            dose_outstanding: facts.dose_outstanding(),
            steps: mine
                .iter()
                .map(|s| StepView {
                    step: s.step,
                    outcome: s.outcome,
                    staff_id: s.staff_id.clone(),
                    staff_name: names.get(&s.staff_id).cloned(),
                    at: s.at.and_utc(),
                    observed_at: s.observed_at.map(|o| o.and_utc()),
                    note: s.note.clone(),
                })
                .collect(),
        });
    }
    out.sort_by(|a, b| (a.position, &a.patient_no).cmp(&(b.position, &b.patient_no)));
    Ok(out)
}

/// A site's run sheet for a day. Reading it on or after the day's arrival puts the
/// schedules' planned visits on it (once: the unique key and a skip on conflict).
pub async fn run_sheet(
    state: &AppState,
    actor: &Actor,
    site_id: String,
    date: Option<NaiveDate>,
) -> AppResult<Vec<VisitView>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    require_site(actor, &site_id)?;
    let today = state.today();
    let date = date.unwrap_or(today);
    check_date("date", date, Window::around(today, 366, 31))?;
    let now = state.now();
    ensure_planned(state, site_id.clone(), date).await?;
    let st = state.clone();
    state
        .read(move |conn| {
            let visits = q::visits_at(conn, &site_id, date)?;
            visit_views(conn, visits, today, now, &st)
        })
        .await
}

/// Puts the schedules' planned visits of a site's day (today or later) on its run sheet,
/// writing only when one is missing; the run sheet and the queue both ask.
pub async fn ensure_planned(state: &AppState, site_id: String, date: NaiveDate) -> AppResult<()> {
    let today = state.today();
    if date < today {
        return Ok(());
    }
    let now = state.now();
    let zone = state.config.timezone;
    let site = site_id.clone();
    let missing = state
        .read(move |conn| {
            sites_q::find(conn, &site)?.ok_or_else(AppError::not_found)?;
            Ok(missing_visits(conn, &site, date, now, zone)?.len())
        })
        .await?;
    if missing > 0 {
        state
            .write(move |tx| {
                if materialize(tx, &site_id, date, zone)? == 0 {
                    tx.audit(None, "home_visit.plan", "site", Some(&site_id), "run sheet already complete");
                }
                Ok(())
            })
            .await?;
    }
    Ok(())
}

/// Loads a visit the actor may act on: a nurse of its site.
fn load_visit(conn: &mut DbConn, actor: &Actor, id: &str) -> AppResult<(VisitRow, Vec<StepRow>, VisitFacts)> {
    let visit = q::find_visit(conn, id)?.ok_or_else(AppError::not_found)?;
    require_site(actor, &visit.site_id)?;
    let steps = q::steps_of(conn, std::slice::from_ref(&visit.id))?;
    let facts = VisitFacts::of(&steps.iter().map(|s| (s.step, s.outcome)).collect::<Vec<_>>());
    Ok((visit, steps, facts))
}

fn step_row(visit: &VisitRow, step: Step, actor: &Actor, at: DateTime<Utc>) -> StepRow {
    StepRow {
        id: db::new_id(),
        visit_id: visit.id.clone(),
        patient_id: visit.patient_id.clone(),
        site_id: visit.site_id.clone(),
        visit_day: visit.visit_day,
        step,
        outcome: None,
        deci_mg: None,
        portion: None,
        product_id: None,
        centi_ml: None,
        observed_at: None,
        dose_id: None,
        note: None,
        staff_id: actor.staff_id.clone(),
        at: at.naive_utc(),
    }
}

/// Inserts a step; a twin that recorded the same step first wins (the key).
/// One step of a visit: `step` checks and writes it in one write transaction on the visit
/// as it stands (its row, steps so far and what they add up to); then the visit as it is now.
async fn visit_step<F>(state: &AppState, actor: &Actor, visit_id: String, step: F) -> AppResult<VisitView>
where
    F: FnOnce(&mut Tx<'_>, &Actor, &VisitRow, &[StepRow], &VisitFacts) -> AppResult<()> + Send + 'static,
{
    let actor = actor.clone();
    let id = visit_id.clone();
    state
        .write(move |tx| {
            let (visit, steps, facts) = load_visit(tx.conn, &actor, &id)?;
            step(tx, &actor, &visit, &steps, &facts)
        })
        .await?;
    one_visit(state, visit_id).await
}

/// The earlier step of the visit that `step` follows on (the check-out a confirmation
/// confirms, the return a second nurse confirms …).
fn earlier(steps: &[StepRow], step: Step) -> AppResult<&StepRow> {
    steps
        .iter()
        .find(|s| s.step == step)
        .ok_or_else(|| AppError::internal(format!("a visit without its {step:?} step")))
}

/// A step that moves the dose an earlier step recorded: the same mg, product and volume.
fn carrying(mut row: StepRow, from: &StepRow) -> StepRow {
    row.deci_mg = from.deci_mg;
    row.product_id = from.product_id.clone();
    row.centi_ml = from.centi_ml;
    row
}

fn insert_step(tx: &mut Tx<'_>, row: &StepRow) -> AppResult<()> {
    let Tx { conn, written, .. } = tx;
    match db::savepoint(conn, |c| q::insert_step(c, written, row)) {
        Err(e) if db::is_unique_violation(&e) => Err(AppError::new(
            ErrorCode::HomeVisitWrongState,
            "This step of the visit was just recorded by someone else; reload the run sheet.",
        )),
        other => Ok(other?),
    }
}

fn require_today(visit: &VisitRow, today: NaiveDate, what: &str) -> AppResult<()> {
    if visit.visit_day != today {
        return Err(AppError::validation(format!(
            "This visit is for {}; {what} only on the visit's own day.",
            visit.visit_day
        )));
    }
    Ok(())
}

/// The day a visit's dose is decided for, with the rules and the clinic's time zone.
struct DoseDay {
    today: NaiveDate,
    rules: crate::domain::rules::RuleSet,
    zone: chrono_tz::Tz,
}

impl DoseDay {
    fn of(state: &AppState) -> DoseDay {
        DoseDay { today: state.today(), rules: state.config.rules.clone(), zone: state.config.timezone }
    }
}

/// What the window would decide now for this patient, asked for the visit's dose: the
/// same function, with identity and intoxication checked at the door.
fn decide_for_visit(
    tx: &mut Tx<'_>,
    actor: &Actor,
    visit: &VisitRow,
    amount: DeciMg,
    has_note: bool,
    dose_day: &DoseDay,
) -> AppResult<(u8, DeciMg, String, String)> {
    let today = dose_day.today;
    let patient = patients_q::find(tx.conn, &visit.patient_id)?.ok_or_else(AppError::not_found)?;
    let day = load_day(tx.conn, patient, today)?;
    let access = site_access(tx.conn, actor, &day, &visit.site_id, today, dose_day.zone)?;
    let decision = decide(&day.day(today, tx.now), Some(access.site()), &dose_day.rules);
    let attempt = DoseAttempt { identity_confirmed: true, intoxication: IntoxicationCheck::Clear, amount, has_note };
    match check_attempt(&decision, &attempt) {
        Verdict::Give { portion, amount } => {
            let order = decision.order_id.clone().ok_or_else(|| AppError::internal("a dose without an order"))?;
            Ok((portion, amount, order, day.patient.patient_no.clone()))
        }
        Verdict::Refuse(v) | Verdict::Withhold(v) => Err(with_site_name(v, &sites_q::names(tx.conn)?)),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    pub dose_mg: f64,
    /// Required when less than the due dose is checked out.
    pub note: Option<String>,
}

async fn one_visit(state: &AppState, visit_id: String) -> AppResult<VisitView> {
    let today = state.today();
    let now = state.now();
    let st = state.clone();
    state
        .read(move |conn| {
            let v = q::find_visit(conn, &visit_id)?.ok_or_else(AppError::not_found)?;
            visit_views(conn, vec![v], today, now, &st)?.pop().ok_or_else(AppError::not_found)
        })
        .await
}

/// A nurse checks the dose out of the site's stock; pending until a second nurse confirms.
pub async fn checkout(state: &AppState, actor: &Actor, visit_id: String, req: CheckoutRequest) -> AppResult<VisitView> {
    actor.require(&[Role::Nurse])?;
    let amount = DeciMg::parse_mg(req.dose_mg).map_err(|m| AppError::invalid_field("dose_mg", m))?;
    let note = clean_optional("note", req.note.as_deref(), 500)?;
    let today = state.today();
    let dose_day = DoseDay::of(state);
    visit_step(state, actor, visit_id, move |tx, actor, visit, _, facts| {
        require_today(visit, today, "its dose is checked out")?;
        facts.check_step(Step::Checkout)?;
        let (portion, amount, _, patient_no) = decide_for_visit(tx, actor, visit, amount, note.is_some(), &dose_day)?;
        let (product, c) = dispensing_product(tx.conn, &visit.site_id, tx.now)?;
        let mut row = step_row(visit, Step::Checkout, actor, tx.now);
        row.deci_mg = Some(amount.0 as i32);
        row.portion = Some(i32::from(portion));
        row.product_id = Some(product.id.clone());
        row.centi_ml = Some(volume_of(amount, c).0 as i32);
        row.note = note;
        insert_step(tx, &row)?;
        tx.audit(
            Some(&actor.staff_id),
            "home_visit.checkout",
            "home_visit",
            Some(&visit.id),
            format!("home-visit dose for patient {patient_no} checked out; awaiting a second nurse"),
        );
        Ok(())
    })
    .await
}

/// A second nurse confirms the check-out: the dose leaves the site's stock.
pub async fn confirm_checkout(state: &AppState, actor: &Actor, visit_id: String) -> AppResult<VisitView> {
    actor.require(&[Role::Nurse])?;
    let today = state.today();
    let dose_day = DoseDay::of(state);
    visit_step(state, actor, visit_id, move |tx, actor, visit, steps, facts| {
        facts.check_step(Step::CheckoutConfirm)?;
        require_today(visit, today, "its dose is checked out")?;
        let co = earlier(steps, Step::Checkout)?;
        check_second_person(&co.staff_id, &actor.staff_id, "check-out")?;
        let amount = DeciMg(i64::from(co.deci_mg.unwrap_or(0)));
        // Dosed at the window since the check-out was asked? Then nothing leaves.
        let (_, _, _, patient_no) = decide_for_visit(tx, actor, visit, amount, true, &dose_day)?;
        let mut row = carrying(step_row(visit, Step::CheckoutConfirm, actor, tx.now), co);
        row.portion = co.portion;
        insert_step(tx, &row)?;
        tx.audit(
            Some(&actor.staff_id),
            "home_visit.checkout_confirm",
            "home_visit",
            Some(&visit.id),
            format!("home-visit dose for patient {patient_no} left the site's stock"),
        );
        Ok(())
    })
    .await
}

/// The nurse arrives at the patient's home.
pub async fn arrive(state: &AppState, actor: &Actor, visit_id: String) -> AppResult<VisitView> {
    actor.require(&[Role::Nurse])?;
    visit_step(state, actor, visit_id, |tx, actor, visit, _, facts| {
        facts.check_step(Step::Arrive)?;
        let row = step_row(visit, Step::Arrive, actor, tx.now);
        insert_step(tx, &row)?;
        tx.audit(Some(&actor.staff_id), "home_visit.arrive", "home_visit", Some(&visit.id), "arrived");
        Ok(())
    })
    .await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    pub outcome: Outcome,
    /// When the nurse watched the dose swallowed (delivered; default now).
    pub observed_at: Option<DateTime<chrono::FixedOffset>>,
    pub note: Option<String>,
}

/// The visit's outcome. `delivered` writes the day's dose into the dose table under the
/// same key as the window's, so a patient is never dosed twice; `not_home` and `refused`
/// leave a dose that must come back to stock today.
/// With an `Idempotency-Key` a retried request replays the first answer.
pub async fn outcome(
    state: &AppState,
    actor: &Actor,
    visit_id: String,
    req: OutcomeRequest,
    key: Option<String>,
) -> AppResult<Replayable> {
    actor.require(&[Role::Nurse])?;
    let key = Key::of(key, &format!("home_visit.outcome {visit_id}"), &req)?;
    let note = clean_optional("note", req.note.as_deref(), 500)?;
    let today = state.today();
    let now = state.now();
    let observed = req.observed_at.map(|o| o.with_timezone(&Utc));
    if let Some(o) = observed {
        if o > now || o.with_timezone(&state.config.timezone).date_naive() != today {
            return Err(AppError::invalid_field("observed_at", "must be earlier today, not in the future"));
        }
    }
    let dose_day = DoseDay::of(state);
    let actor_c = actor.clone();
    let id = visit_id.clone();
    let st = state.clone();
    let result = idempotency::write(state, actor, key, move |tx| {
        let actor = actor_c;
        let (visit, steps, facts) = load_visit(tx.conn, &actor, &id)?;
        facts.check_step(Step::Outcome)?;
        let mut row = step_row(&visit, Step::Outcome, &actor, tx.now);
        row.outcome = Some(req.outcome);
        row.note = note.clone();
        let mut patient_no = String::new();
        if req.outcome == Outcome::Delivered {
            require_today(&visit, today, "a delivery is recorded")?;
            let co = earlier(&steps, Step::CheckoutConfirm)?;
            let observed_at = observed.unwrap_or(tx.now);
            if observed_at < co.at.and_utc() {
                return Err(AppError::invalid_field("observed_at", "must be after the dose left the site"));
            }
            let amount = DeciMg(i64::from(co.deci_mg.unwrap_or(0)));
            let refusal = |e: AppError| {
                if e.code == ErrorCode::AlreadyDosedToday {
                    let mut e = e;
                    e.message = format!(
                        "{} Do not give this dose: record the outcome 'refused' (note: dosed elsewhere) and return it \
                             to stock today.",
                        e.message
                    );
                    e
                } else {
                    e
                }
            };
            let (portion, amount, order_id, no) =
                decide_for_visit(tx, &actor, &visit, amount, true, &dose_day).map_err(refusal)?;
            patient_no = no;
            let generation = doses_q::next_generation(tx.conn, &visit.patient_id, today, i32::from(portion))?;
            let dose = DoseRow {
                id: db::new_id(),
                patient_id: visit.patient_id.clone(),
                site_id: visit.site_id.clone(),
                dose_day: today,
                portion: i32::from(portion),
                generation,
                deci_mg: amount.0 as i32,
                given_at: observed_at.naive_utc(),
                nurse_id: actor.staff_id.clone(),
                order_id,
                kind: DoseKind::HomeVisit,
                identity_confirmed: true,
                intoxication_check: IntoxicationCheck::Clear,
                note: note.clone(),
            };
            match doses_q::insert(tx.conn, &mut tx.written, &dose) {
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(ErrorCode::LostRace, "another dose won the race"))
                }
                other => other?,
            }
            row.dose_id = Some(dose.id.clone());
            row.observed_at = Some(observed_at.naive_utc());
            row.deci_mg = co.deci_mg;
            insert_step(tx, &row)?;
            // Back after missed days: the missed-dose alert ends with this dose.
            sweep::sweep_one(tx, &visit.patient_id, today, &dose_day.rules)?;
        } else {
            insert_step(tx, &row)?;
        }
        tx.audit(
            Some(&actor.staff_id),
            "home_visit.outcome",
            "home_visit",
            Some(&visit.id),
            if patient_no.is_empty() {
                format!("visit outcome {}", req.outcome)
            } else {
                format!("home-visit dose delivered to patient {patient_no}")
            },
        );
        let done = q::find_visit(tx.conn, &visit.id)?.ok_or_else(AppError::not_found)?;
        let view = visit_views(tx.conn, vec![done], today, tx.now, &st)?.pop().ok_or_else(AppError::not_found)?;
        Ok(Ok(Replayable::of(200, &view)?))
    })
    .await;
    match result {
        Err(e) if e.code == ErrorCode::LostRace => {
            let patient = {
                let id = visit_id.clone();
                state.read(move |conn| Ok(q::find_visit(conn, &id)?.map(|v| v.patient_id))).await?
            };
            let mut e = race_lost(state, patient.unwrap_or_default(), today).await;
            e.message = format!(
                "{} Do not give this dose: record the outcome 'refused' and return it to stock today.",
                e.message
            );
            Err(e)
        }
        other => other,
    }
}

/// A nurse brings an undelivered dose back; pending until a second nurse confirms.
pub async fn request_return(state: &AppState, actor: &Actor, visit_id: String) -> AppResult<VisitView> {
    actor.require(&[Role::Nurse])?;
    visit_step(state, actor, visit_id, |tx, actor, visit, steps, facts| {
        facts.check_step(Step::Return)?;
        let co = earlier(steps, Step::CheckoutConfirm)?;
        let row = carrying(step_row(visit, Step::Return, actor, tx.now), co);
        insert_step(tx, &row)?;
        tx.audit(
            Some(&actor.staff_id),
            "home_visit.return",
            "home_visit",
            Some(&visit.id),
            "undelivered dose brought back; awaiting a second nurse",
        );
        Ok(())
    })
    .await
}

/// A second nurse confirms the return: the dose is back in the site's stock.
pub async fn confirm_return(state: &AppState, actor: &Actor, visit_id: String) -> AppResult<VisitView> {
    actor.require(&[Role::Nurse])?;
    visit_step(state, actor, visit_id, |tx, actor, visit, steps, facts| {
        facts.check_step(Step::ReturnConfirm)?;
        let ret = earlier(steps, Step::Return)?;
        check_second_person(&ret.staff_id, &actor.staff_id, "return")?;
        let row = carrying(step_row(visit, Step::ReturnConfirm, actor, tx.now), ret);
        insert_step(tx, &row)?;
        tx.audit(
            Some(&actor.staff_id),
            "home_visit.return_confirm",
            "home_visit",
            Some(&visit.id),
            "undelivered dose back in stock",
        );
        Ok(())
    })
    .await
}

/// Patients of `patient_ids` on a run sheet on `day` whose visit is not off (not home,
/// refused, returned): the queue shows them as `home_visit`.
pub fn on_run_sheet(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> AppResult<Vec<String>> {
    let visits = q::visited_on(conn, patient_ids, day)?;
    if visits.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = visits.iter().map(|v| v.id.clone()).collect();
    let steps = q::steps_of(conn, &ids)?;
    let mut by: HashMap<&str, Vec<(Step, Option<Outcome>)>> = HashMap::new();
    for s in &steps {
        by.entry(s.visit_id.as_str()).or_default().push((s.step, s.outcome));
    }
    Ok(visits
        .iter()
        .filter(|v| {
            let f = VisitFacts::of(by.get(v.id.as_str()).map(Vec::as_slice).unwrap_or_default());
            matches!(f.state(), VisitState::Planned | VisitState::CheckedOut | VisitState::Delivered)
        })
        .map(|v| v.patient_id.clone())
        .collect())
}

fn state_label(s: VisitState) -> &'static str {
    match s {
        VisitState::Planned => "待出库",
        VisitState::CheckedOut => "已出库",
        VisitState::Delivered => "已服药",
        VisitState::NotHome => "不在家",
        VisitState::Refused => "拒服",
        VisitState::Returned => "已退回",
    }
}

/// The home-visit log of a site's day as a PDF: each visit's dose and volume (with the
/// concentration), step times, outcome and both nurses.
pub async fn log_pdf(state: &AppState, actor: &Actor, site_id: String, date: Option<NaiveDate>) -> AppResult<Vec<u8>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    require_site(actor, &site_id)?;
    let today = state.today();
    let date = date.unwrap_or(today);
    check_date("date", date, Window::past(crate::domain::dates::EARLIEST, today))?;
    let tz = state.config.timezone;
    let now = state.now();
    let printed_at = now.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let printed_by = actor.display_name.clone();
    let st = state.clone();
    let data = state
        .read(move |conn| {
            let site = sites_q::find(conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let rows = q::visits_at(conn, &site_id, date)?;
            let visits = visit_views(conn, rows, today, now, &st)?;
            let clinic = sites_q::list(conn)?
                .into_iter()
                .find(|s| s.kind == crate::domain::sites::SiteKind::Clinic)
                .map_or_else(|| "美沙酮维持治疗门诊".to_string(), |s| s.name);
            let product_label = match dispensing_product(conn, &site_id, now) {
                Ok((p, c)) => format!("{} {}", p.name, c.label()),
                Err(_) => "—".to_string(),
            };
            let time = |at: DateTime<Utc>| at.with_timezone(&tz).format("%H:%M").to_string();
            let pair = |v: &VisitView, first: Step, second: Step| -> String {
                let a = v.steps.iter().find(|s| s.step == first);
                let b = v.steps.iter().find(|s| s.step == second);
                match (a, b) {
                    (Some(a), Some(b)) => format!(
                        "{} {}/{}",
                        time(b.at),
                        a.staff_name.clone().unwrap_or_default(),
                        b.staff_name.clone().unwrap_or_default()
                    ),
                    (Some(a), None) => {
                        format!("{} {}/（待复核）", time(a.at), a.staff_name.clone().unwrap_or_default())
                    }
                    _ => String::new(),
                }
            };
            let lines = visits
                .iter()
                .map(|v| {
                    let outcome = v.steps.iter().find(|s| s.step == Step::Outcome);
                    crate::reports::home_visit_log::VisitLine {
                        patient_no: v.patient_no.clone(),
                        patient_name: v.name.clone(),
                        dose: v.dose.as_ref().map_or_else(String::new, |d| {
                            format!(
                                "{} mg / {} mL",
                                DeciMg((d.dose_mg * 10.0).round() as i64).text(),
                                CentiMl((d.volume_ml * 100.0).round() as i64).text()
                            )
                        }),
                        checkout: pair(v, Step::Checkout, Step::CheckoutConfirm),
                        arrived: v
                            .steps
                            .iter()
                            .find(|s| s.step == Step::Arrive)
                            .map_or_else(String::new, |s| time(s.at)),
                        outcome: state_label(v.state).to_string(),
                        observed: outcome.and_then(|s| s.observed_at).map_or_else(String::new, time),
                        returned: pair(v, Step::Return, Step::ReturnConfirm),
                        note: outcome.and_then(|s| s.note.clone()),
                    }
                })
                .collect();
            Ok(crate::reports::home_visit_log::VisitLogData {
                clinic_name: clinic,
                site_name: site.name,
                site_code: site.code,
                date,
                product_label,
                visits: lines,
                printed_at,
                printed_by,
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || crate::reports::home_visit_log::home_visit_log_pdf(&data)).await?;
    pdf.map_err(AppError::internal)
}
