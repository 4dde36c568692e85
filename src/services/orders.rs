//! Dose orders (doctors only), their approval by a second doctor, missed-dose reviews and
//! ECGs. The rules are in `domain::orders` and `domain::dispensing`.

use crate::domain::dispensing::PatientStatus;
use crate::error::ErrorCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::clinical::{load_day, DayData};
use super::patients::load_visible;
use super::validation::{clean_optional, clean_text};
use super::{check_date, Actor, AppState, Tx};
use crate::db::orders::{self as q, ActivationRow, EcgRow, OrderRow, OrderWithActivation, ReviewRow};
use crate::db::{self, patients as patients_q, staff as staff_q, DbConn};
use crate::domain::dates::{self, Window};
use crate::domain::dispensing::{consecutive_missed_days, decide};
use crate::domain::orders::{check_order, effective_day, OrderContext, OrderRequest, Phase};
use crate::domain::quantity::DeciMg;
use crate::domain::staff::Role;
use crate::domain::RuleViolation;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// Daily total, mg (one decimal at most).
    pub daily_mg: f64,
    /// Two portions of a split order, mg; they must add up to `daily_mg`.
    pub portions_mg: Option<[f64; 2]>,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub start_date: NaiveDate,
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub end_date: Option<NaiveDate>,
    pub phase: Phase,
    pub reason: String,
    pub override_reason: Option<String>,
    pub transfer_from: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub last_dose_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Warning {
    pub code: ErrorCode,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: String,
    pub patient_id: String,
    pub daily_mg: f64,
    pub portions_mg: Option<[f64; 2]>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub phase: Phase,
    pub reason: String,
    pub override_reason: Option<String>,
    pub transfer_from: Option<String>,
    pub last_dose_on: Option<NaiveDate>,
    /// `active` (in force now or from `effective_from`), `pending_approval`, `superseded` or `ended`.
    pub status: String,
    pub effective_from: Option<NaiveDate>,
    pub starts_episode: bool,
    pub prescriber_id: String,
    pub prescriber_name: Option<String>,
    pub approved_by: Option<String>,
    pub approved_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub warnings: Vec<Warning>,
}

fn mg(deci: i32) -> f64 {
    f64::from(deci) / 10.0
}

fn order_view(row: &OrderWithActivation, status: &str, names: &std::collections::HashMap<String, String>) -> OrderView {
    let (o, a) = row;
    OrderView {
        id: o.id.clone(),
        patient_id: o.patient_id.clone(),
        daily_mg: mg(o.daily_deci_mg),
        portions_mg: o.portion1_deci_mg.zip(o.portion2_deci_mg).map(|(x, y)| [mg(x), mg(y)]),
        start_date: o.start_date,
        end_date: o.end_date,
        phase: o.phase,
        reason: o.reason.clone(),
        override_reason: o.override_reason.clone(),
        transfer_from: o.transfer_from.clone(),
        last_dose_on: o.last_dose_on,
        status: status.to_string(),
        effective_from: a.as_ref().map(|a| a.effective_from),
        starts_episode: o.starts_episode,
        prescriber_name: names.get(&o.prescriber_id).cloned(),
        prescriber_id: o.prescriber_id.clone(),
        approved_by: a.as_ref().and_then(|a| a.approved_by.clone()),
        approved_by_name: a.as_ref().and_then(|a| a.approved_by.as_ref()).and_then(|id| names.get(id).cloned()),
        created_at: o.created_at.and_utc(),
        warnings: Vec::new(),
    }
}

/// The status of each order of a patient on `today`.
fn statuses(day: &DayData, today: NaiveDate) -> Vec<(OrderWithActivation, &'static str)> {
    let in_force = day.orders.active_on(today).map(|o| o.id.clone());
    day.order_rows
        .iter()
        .map(|row| {
            let status = match &row.1 {
                None => "pending_approval",
                Some(a) if a.effective_from > today => "active",
                Some(_) if in_force.as_deref() == Some(row.0.id.as_str()) => "active",
                Some(_) if row.0.end_date.is_some_and(|e| e < today) => "ended",
                Some(_) => "superseded",
            };
            (row.clone(), status)
        })
        .collect()
}

/// Does this patient's next order open a new treatment episode? (No episode yet, re-entry
/// after dropout since the episode began, or too many missed days.)
fn needs_new_episode(
    conn: &mut DbConn,
    day: &DayData,
    today: NaiveDate,
    rules: &crate::domain::rules::RuleSet,
) -> AppResult<bool> {
    let Some(episode) = day.orders.episode_on(today).or_else(|| day.orders.latest()) else { return Ok(true) };
    let episode_activated =
        day.order_rows.iter().find(|(o, _)| o.id == episode.id).and_then(|(_, a)| a.as_ref().map(|a| a.activated_at));
    let reentered = patients_q::status_changes(conn, &day.patient.id)?.iter().any(|c| {
        c.from_status == PatientStatus::DroppedOut
            && c.to_status == PatientStatus::Active
            && Some(c.changed_at) > episode_activated
    });
    let missed = consecutive_missed_days(today, &day.orders, day.last_dose_day(), &day.excused);
    Ok(reentered || missed >= rules.missed_days_suspend)
}

fn latest_ecg(conn: &mut DbConn, patient_id: &str) -> AppResult<Option<EcgRow>> {
    Ok(q::ecgs_of(conn, patient_id)?.into_iter().next())
}

fn parse_mg(field: &str, value: f64) -> AppResult<DeciMg> {
    DeciMg::parse_mg(value).map_err(|m| AppError::invalid_field(field, m))
}

/// Runs the order rules for `request` on `today` (creation, or a pending order's approval).
fn evaluate(
    conn: &mut DbConn,
    day: &DayData,
    request: &OrderRequest,
    today: NaiveDate,
    rules: &crate::domain::rules::RuleSet,
) -> AppResult<crate::domain::orders::OrderDecision> {
    let ecg = latest_ecg(conn, &day.patient.id)?;
    let ctx = OrderContext {
        today,
        dosed_today: !day.doses.is_empty(),
        needs_new_episode: needs_new_episode(conn, day, today, rules)?,
        latest_qtc_ms: ecg.as_ref().map(|e| e.qtc_ms.max(0) as u32),
        latest_ecg_on: ecg.map(|e| e.taken_on),
    };
    check_order(&day.orders, request, &ctx, rules).map_err(AppError::from)
}

fn request_of(row: &OrderRow) -> OrderRequest {
    OrderRequest {
        daily: DeciMg(i64::from(row.daily_deci_mg)),
        portions: row
            .portion1_deci_mg
            .zip(row.portion2_deci_mg)
            .map(|(a, b)| [DeciMg(i64::from(a)), DeciMg(i64::from(b))]),
        start_date: row.start_date,
        end_date: row.end_date,
        phase: row.phase,
        has_override_reason: row.override_reason.is_some(),
        has_transfer_from: row.transfer_from.is_some(),
        last_dose_on: row.last_dose_on,
    }
}

pub async fn create(state: &AppState, actor: &Actor, patient_id: String, new: NewOrder) -> AppResult<OrderView> {
    actor.require(&[Role::Doctor])?;
    let daily = parse_mg("daily_mg", new.daily_mg)?;
    let portions = match new.portions_mg {
        Some([a, b]) => Some([parse_mg("portions_mg", a)?, parse_mg("portions_mg", b)?]),
        None => None,
    };
    let reason = clean_text("reason", &new.reason, 200)?;
    let override_reason = clean_optional("override_reason", new.override_reason.as_deref(), 200)?;
    let transfer_from = clean_optional("transfer_from", new.transfer_from.as_deref(), 200)?;
    let today = state.today();
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &patient_id)?;
            if patient.status != PatientStatus::Active {
                return Err(AppError::validation(
                    "The patient is not active. Change the status to active (re-entry) before writing an order.",
                ));
            }
            let day = load_day(tx.conn, patient, today)?;
            let request = OrderRequest {
                daily,
                portions,
                start_date: new.start_date,
                end_date: new.end_date,
                phase: new.phase,
                has_override_reason: override_reason.is_some(),
                has_transfer_from: transfer_from.is_some(),
                last_dose_on: new.last_dose_on,
            };
            let decision = evaluate(tx.conn, &day, &request, today, &rules)?;
            let row = OrderRow {
                id: db::new_id(),
                patient_id: day.patient.id.clone(),
                daily_deci_mg: daily.0 as i32,
                portion1_deci_mg: portions.map(|p| p[0].0 as i32),
                portion2_deci_mg: portions.map(|p| p[1].0 as i32),
                start_date: new.start_date,
                end_date: new.end_date,
                phase: new.phase,
                reason,
                override_reason,
                transfer_from,
                last_dose_on: new.last_dose_on,
                starts_episode: decision.starts_episode,
                needs_approval: decision.needs_second_doctor,
                prescriber_id: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            q::insert(tx.conn, &mut tx.written, &row)?;
            let activation = if decision.needs_second_doctor {
                None
            } else {
                let a = ActivationRow {
                    order_id: row.id.clone(),
                    patient_id: row.patient_id.clone(),
                    effective_from: decision.effective_from,
                    activated_at: tx.now.naive_utc(),
                    approved_by: None,
                };
                q::activate(tx.conn, &mut tx.written, &a)?;
                Some(a)
            };
            let status = if activation.is_some() { "active" } else { "pending_approval" };
            tx.audit(
                Some(&actor.staff_id),
                "order.create",
                "order",
                Some(&row.id),
                format!(
                    "order for patient {}: {} ({}), {}{}",
                    day.patient.patient_no,
                    if decision.starts_episode { "new episode" } else { "change" },
                    row.phase,
                    status,
                    activation.as_ref().map(|a| format!(" from {}", a.effective_from)).unwrap_or_default()
                ),
            );
            let names = staff_q::names(tx.conn, std::slice::from_ref(&actor.staff_id))?;
            let mut view = order_view(&(row, activation), status, &names);
            view.warnings = decision
                .warnings
                .into_iter()
                .map(|w| Warning { code: w.code, message: w.message, details: w.details })
                .collect();
            Ok(view)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Approval {
    pub status: String,
    pub effective_from: NaiveDate,
}

/// A second doctor approves a high-dose order. The rules are checked again as of today:
/// much may have changed since it was written.
pub async fn approve(state: &AppState, actor: &Actor, order_id: String) -> AppResult<Approval> {
    actor.require(&[Role::Doctor])?;
    let today = state.today();
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let (order, activation) = q::find(tx.conn, &order_id)?.ok_or_else(AppError::not_found)?;
            let patient = load_visible(tx.conn, &actor, &order.patient_id)?;
            if activation.is_some() || !order.needs_approval {
                return Err(AppError::new(ErrorCode::AlreadyApproved, "This order is already in force."));
            }
            if order.prescriber_id == actor.staff_id {
                return Err(RuleViolation::new(
                    ErrorCode::SecondDoctorRequired,
                    "A high-dose order must be approved by a second, different doctor.",
                )
                .into());
            }
            let day = load_day(tx.conn, patient, today)?;
            evaluate(tx.conn, &day, &request_of(&order), today, &rules)?;
            let effective_from = effective_day(order.start_date, today, !day.doses.is_empty());
            q::activate(
                tx.conn,
                &mut tx.written,
                &ActivationRow {
                    order_id: order.id.clone(),
                    patient_id: order.patient_id.clone(),
                    effective_from,
                    activated_at: tx.now.naive_utc(),
                    approved_by: Some(actor.staff_id.clone()),
                },
            )?;
            tx.audit(
                Some(&actor.staff_id),
                "order.approve",
                "order",
                Some(&order.id),
                format!("high-dose order for patient {} approved, from {effective_from}", day.patient.patient_no),
            );
            Ok(Approval { status: "active".into(), effective_from })
        })
        .await
}

pub async fn list(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<OrderView>> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    let today = state.today();
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            let day = load_day(conn, patient, today)?;
            let ids: Vec<String> = day
                .order_rows
                .iter()
                .flat_map(|(o, a)| {
                    std::iter::once(o.prescriber_id.clone()).chain(a.as_ref().and_then(|a| a.approved_by.clone()))
                })
                .collect();
            let names = staff_q::names(conn, &ids)?;
            let mut out: Vec<OrderView> =
                statuses(&day, today).iter().map(|(row, s)| order_view(row, s, &names)).collect();
            out.reverse();
            Ok(out)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PendingOrder {
    pub order: OrderView,
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
}

pub async fn pending(state: &AppState, actor: &Actor) -> AppResult<Vec<PendingOrder>> {
    actor.require(&[Role::Doctor])?;
    state
        .read(move |conn| {
            let rows = q::pending(conn)?;
            let ids: Vec<String> = rows.iter().map(|o| o.prescriber_id.clone()).collect();
            let names = staff_q::names(conn, &ids)?;
            let patient_ids: Vec<String> = rows.iter().map(|o| o.patient_id.clone()).collect();
            let patients = patients_q::find_many(conn, &patient_ids)?;
            Ok(rows
                .into_iter()
                .filter_map(|o| {
                    let p = patients.iter().find(|p| p.id == o.patient_id)?;
                    Some(PendingOrder {
                        patient_id: p.id.clone(),
                        patient_no: p.patient_no.clone(),
                        patient_name: p.name.clone(),
                        order: order_view(&(o, None), "pending_approval", &names),
                    })
                })
                .collect())
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub date: NaiveDate,
    pub approved_mg: f64,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub patient_id: String,
    pub date: NaiveDate,
    pub approved_mg: f64,
    pub note: String,
    pub doctor_id: String,
    pub created_at: DateTime<Utc>,
}

/// A doctor's review for a date: approves one amount, at most what the missed-day table
/// allows for that date. It does not change the order.
pub async fn review(state: &AppState, actor: &Actor, patient_id: String, new: NewReview) -> AppResult<ReviewView> {
    actor.require(&[Role::Doctor])?;
    let approved = parse_mg("approved_mg", new.approved_mg)?;
    let note = clean_text("note", &new.note, 500)?;
    let today = state.today();
    if new.date < today || new.date > today + Duration::days(1) {
        return Err(AppError::invalid_field("date", "a review is for today (or tomorrow)"));
    }
    let rules = state.config.rules.clone();
    let now = state.now();
    let actor = actor.clone();
    state
        .write(move |tx: &mut Tx<'_>| {
            let patient = load_visible(tx.conn, &actor, &patient_id)?;
            let day = load_day(tx.conn, patient, new.date)?;
            let decision = decide(&day.day(new.date, now), None, &rules);
            let limit = if decision.needs_review() {
                decision.review_limit.unwrap_or(DeciMg::ZERO)
            } else if decision.blocks.iter().any(|b| b.violation.code == ErrorCode::ReinductionRequired) {
                DeciMg::ZERO
            } else {
                decision.day_total
            };
            if approved > limit || approved <= DeciMg::ZERO {
                return Err(RuleViolation::new(
                    ErrorCode::DoseExceedsDue,
                    format!(
                        "With {} consecutive missed days at most {} mg may be approved for {}.",
                        decision.missed_days,
                        limit.text(),
                        new.date
                    ),
                )
                .with_details(serde_json::json!({"max_mg": limit.mg(), "missed_days": decision.missed_days}))
                .into());
            }
            let row = ReviewRow {
                id: db::new_id(),
                patient_id: day.patient.id.clone(),
                review_date: new.date,
                approved_deci_mg: approved.0 as i32,
                note,
                doctor_id: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            match q::insert_review(tx.conn, &mut tx.written, &row) {
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(
                        ErrorCode::ReviewExists,
                        "This patient already has a review for that date.",
                    ))
                }
                other => other?,
            }
            tx.audit(
                Some(&actor.staff_id),
                "review.create",
                "patient",
                Some(&day.patient.id),
                format!(
                    "missed-dose review for patient {} on {} ({} missed days)",
                    day.patient.patient_no, new.date, decision.missed_days
                ),
            );
            Ok(ReviewView {
                id: row.id,
                patient_id: row.patient_id,
                date: row.review_date,
                approved_mg: approved.mg(),
                note: row.note,
                doctor_id: row.doctor_id,
                created_at: row.created_at.and_utc(),
            })
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewNeeded {
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub home_site_id: String,
    pub missed_days: u32,
    /// `missed_days` or `withheld`.
    pub reason: String,
    pub max_mg: f64,
    pub daily_mg: f64,
}

/// Patients who need a doctor's review on `date` and have none yet, across the actor's sites.
pub async fn reviews_needed(state: &AppState, actor: &Actor, date: NaiveDate) -> AppResult<Vec<ReviewNeeded>> {
    actor.require(&[Role::Doctor])?;
    check_date("date", date, Window::day_view(state.today()))?;
    let rules = state.config.rules.clone();
    let now = state.now();
    let actor = actor.clone();
    state
        .read(move |conn| {
            let mut patients = Vec::new();
            for site in &actor.site_ids {
                patients.extend(patients_q::active_at_site(conn, site)?);
            }
            let days = super::clinical::load_days(conn, patients, date)?;
            Ok(days
                .iter()
                .filter_map(|day| {
                    let decision = decide(&day.day(date, now), None, &rules);
                    let limit = decision.review_limit?;
                    if day.review.is_some() || !day.doses.is_empty() {
                        return None;
                    }
                    let daily = day.orders.active_on(date).map_or(DeciMg::ZERO, |o| o.daily);
                    Some(ReviewNeeded {
                        patient_id: day.patient.id.clone(),
                        patient_no: day.patient.patient_no.clone(),
                        patient_name: day.patient.name.clone(),
                        home_site_id: day.patient.home_site_id.clone(),
                        missed_days: decision.missed_days,
                        reason: if day.withheld { "withheld".into() } else { "missed_days".into() },
                        max_mg: limit.mg(),
                        daily_mg: daily.mg(),
                    })
                })
                .collect())
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEcg {
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub taken_on: NaiveDate,
    pub qtc_ms: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EcgView {
    pub id: String,
    pub taken_on: NaiveDate,
    pub qtc_ms: i32,
}

pub async fn add_ecg(state: &AppState, actor: &Actor, patient_id: String, new: NewEcg) -> AppResult<EcgView> {
    actor.require(&[Role::Doctor])?;
    if !(250..=800).contains(&new.qtc_ms) {
        return Err(AppError::invalid_field("qtc_ms", "must be between 250 and 800 ms"));
    }
    let today = state.today();
    check_date("taken_on", new.taken_on, Window::past(dates::EARLIEST, today))?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &patient_id)?;
            check_date("taken_on", new.taken_on, Window::past(patient.birth_date, today))?;
            let row = EcgRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                taken_on: new.taken_on,
                qtc_ms: new.qtc_ms as i32,
                recorded_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            q::insert_ecg(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "ecg.create",
                "patient",
                Some(&patient.id),
                format!("ECG of patient {} recorded ({})", patient.patient_no, new.taken_on),
            );
            Ok(EcgView { id: row.id, taken_on: row.taken_on, qtc_ms: row.qtc_ms })
        })
        .await
}

pub async fn ecgs(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<EcgView>> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &patient_id)?;
            Ok(q::ecgs_of(conn, &patient.id)?
                .into_iter()
                .map(|e| EcgView { id: e.id, taken_on: e.taken_on, qtc_ms: e.qtc_ms })
                .collect())
        })
        .await
}
