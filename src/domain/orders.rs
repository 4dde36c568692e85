//! Dose orders: which order is in force on a day, treatment episodes, and the rules a new
//! order must pass (RULES.md, "Dose orders"), checked in the order listed there.

use crate::domain::codes::ErrorCode;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::dates::{Window, DAY_VIEW_DAYS, PLAN_AHEAD_DAYS};
use super::quantity::DeciMg;
use super::rules::RuleSet;
use super::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Induction,
    Maintenance,
    Taper,
    Transfer,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Induction => "induction",
            Phase::Maintenance => "maintenance",
            Phase::Taper => "taper",
            Phase::Transfer => "transfer",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        [Phase::Induction, Phase::Maintenance, Phase::Taper, Phase::Transfer].into_iter().find(|p| p.as_str() == s)
    }

    /// Phases that may open a treatment episode.
    pub fn may_start_episode(self) -> bool {
        matches!(self, Phase::Induction | Phase::Transfer)
    }
}

/// An order as the rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: String,
    pub daily: DeciMg,
    /// Two portions of a split order (summing to `daily`).
    pub portions: Option<[DeciMg; 2]>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub phase: Phase,
    pub starts_episode: bool,
    /// For a transfer-in: the last dose verified at the other clinic.
    pub last_dose_on: Option<NaiveDate>,
    /// The day it took effect; `None` while it waits for a second doctor.
    pub effective_from: Option<NaiveDate>,
}

/// The longest an order with an end date may run, in days.
pub const MAX_ORDER_DAYS: i64 = 366;

/// A patient's orders: the active ones in the order they took effect (activation order),
/// and those pending approval.
#[derive(Debug, Clone, Default)]
pub struct OrderBook {
    active: Vec<Order>,
}

impl OrderBook {
    /// `orders` in activation order; pending orders (no `effective_from`) are ignored.
    pub fn new(orders: Vec<Order>) -> OrderBook {
        OrderBook { active: orders.into_iter().filter(|o| o.effective_from.is_some()).collect() }
    }

    /// The longest an order with an end date may run, in days.
    pub const MAX_ORDER_DAYS: i64 = 366;

    /// The order in force on `day`: the most recently activated order that took effect on
    /// or before that day — unless it has ended by then (a superseded order never comes back).
    pub fn active_on(&self, day: NaiveDate) -> Option<&Order> {
        active_among(&self.active, day)
    }

    pub fn covers(&self, day: NaiveDate) -> bool {
        self.active_on(day).is_some()
    }

    /// The days on which what [`OrderBook::active_on`] answers may change: each active
    /// order's effective day and the day after its end. Between two of them it is the same.
    pub fn change_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.active.iter().flat_map(|o| [o.effective_from, o.end_date.map(|e| e + Duration::days(1))]).flatten()
    }

    /// The order that opened the episode in force on `day`.
    pub fn episode_on(&self, day: NaiveDate) -> Option<&Order> {
        self.active.iter().rev().find(|o| o.starts_episode && o.effective_from.is_some_and(|e| e <= day))
    }

    /// The increases that took effect in the episode opened by `episode`: (effective day,
    /// size). The first order of an episode is not an increase.
    pub fn increases_in_episode(&self, episode: &Order) -> Vec<(NaiveDate, DeciMg)> {
        let Some(start_index) = self.active.iter().position(|o| o.id == episode.id) else { return Vec::new() };
        let mut out = Vec::new();
        for i in start_index + 1..self.active.len() {
            let order = &self.active[i];
            let Some(effective) = order.effective_from else { continue };
            if order.starts_episode {
                break;
            }
            if let Some(replaced) = active_among(&self.active[..i], effective) {
                if order.daily > replaced.daily {
                    out.push((effective, order.daily - replaced.daily));
                }
            }
        }
        out
    }

    /// The most recently activated order.
    pub fn latest(&self) -> Option<&Order> {
        self.active.last()
    }
}

fn active_among(orders: &[Order], day: NaiveDate) -> Option<&Order> {
    let order = orders.iter().rev().find(|o| o.effective_from.is_some_and(|e| e <= day))?;
    match order.end_date {
        Some(end) if end < day => None,
        _ => Some(order),
    }
}

/// The day an order takes effect if approved on `approval_day`: the later of its start date
/// and the approval day, never retroactively; the next day if the patient was already
/// dosed on that day (no automatic top-up).
pub fn effective_day(start_date: NaiveDate, approval_day: NaiveDate, dosed_on_approval_day: bool) -> NaiveDate {
    let day = start_date.max(approval_day);
    if day == approval_day && dosed_on_approval_day {
        day + Duration::days(1)
    } else {
        day
    }
}

/// What a doctor asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub daily: DeciMg,
    pub portions: Option<[DeciMg; 2]>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub phase: Phase,
    pub has_override_reason: bool,
    pub has_transfer_from: bool,
    pub last_dose_on: Option<NaiveDate>,
}

/// What else the rules need to know.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderContext {
    /// The day the order would be approved (today, or the approval day of a pending order).
    pub today: NaiveDate,
    pub dosed_today: bool,
    /// No episode yet, re-entered after dropout, or ≥ `missed_days_suspend` missed days.
    pub needs_new_episode: bool,
    pub latest_qtc_ms: Option<u32>,
    pub latest_ecg_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderDecision {
    pub starts_episode: bool,
    /// Above the high-dose threshold: waits for a second doctor.
    pub needs_second_doctor: bool,
    /// The day it takes effect if active now.
    pub effective_from: NaiveDate,
    pub warnings: Vec<RuleViolation>,
}

fn mg(d: DeciMg) -> String {
    format!("{} mg", d.text())
}

/// Checks a new order against the rules, in RULES.md's order; the first that fails answers.
pub fn check_order(
    book: &OrderBook,
    req: &OrderRequest,
    ctx: &OrderContext,
    rules: &RuleSet,
) -> Result<OrderDecision, RuleViolation> {
    check_shape(req, ctx)?;
    let effective_from = effective_day(req.start_date, ctx.today, ctx.dosed_today);

    // Hard ceiling.
    let ceiling = DeciMg::from_mg(rules.ceiling_mg);
    if req.daily > ceiling {
        return Err(RuleViolation::new(
            ErrorCode::DoseAboveCeiling,
            format!(
                "{} a day is above the ceiling of {} a day. This cannot be overridden.",
                mg(req.daily),
                mg(ceiling)
            ),
        )
        .with_details(json!({"ceiling_mg": rules.ceiling_mg})));
    }

    // A new episode must open with induction (or a verified transfer).
    let starts_episode = ctx.needs_new_episode;
    if starts_episode && !req.phase.may_start_episode() {
        return Err(RuleViolation::new(
            ErrorCode::InductionRequired,
            "This order starts a new treatment episode (new patient, re-entry, or 5 or more missed days): \
             write an induction order, or a transfer order with the dose verified at the other clinic.",
        ));
    }
    if starts_episode && req.phase == Phase::Induction {
        check_day_one(req, rules)?;
    }
    if starts_episode && req.phase == Phase::Transfer && !(req.has_transfer_from && req.last_dose_on.is_some()) {
        return Err(RuleViolation::new(
            ErrorCode::ValidationFailed,
            "A transfer order needs transfer_from (the other clinic) and last_dose_on (its last verified dose).",
        )
        .with_details(json!({"field": if req.has_transfer_from { "last_dose_on" } else { "transfer_from" }})));
    }

    let mut is_increase = false;
    if !starts_episode {
        is_increase = check_steps(book, req, effective_from, rules)?;
    }

    // High doses: a second doctor, and an ECG within the validity window.
    let threshold = DeciMg::from_mg(rules.high_dose_threshold_mg);
    let needs_second_doctor = req.daily > threshold;
    if needs_second_doctor {
        let ecg_ok = ctx
            .latest_ecg_on
            .is_some_and(|on| on <= ctx.today && (ctx.today - on).num_days() <= i64::from(rules.ecg_valid_days));
        if !ecg_ok {
            return Err(RuleViolation::new(
                ErrorCode::EcgRequired,
                format!(
                    "Above {} a day needs an ECG from the last {} days. Record the ECG first, then write the order.",
                    mg(threshold),
                    rules.ecg_valid_days
                ),
            ));
        }
    }

    // QTc.
    let mut warnings = Vec::new();
    if let Some(qtc) = ctx.latest_qtc_ms {
        if qtc >= rules.qtc_block_ms && is_increase && !req.has_override_reason {
            return Err(RuleViolation::new(
                ErrorCode::QtcTooLong,
                format!(
                    "The latest QTc is {qtc} ms (≥ {} ms): no increase without an override reason. \
                     Consider a cardiology review.",
                    rules.qtc_block_ms
                ),
            )
            .with_details(json!({"qtc_ms": qtc})));
        }
        if qtc >= rules.qtc_warn_ms && qtc < rules.qtc_block_ms {
            warnings.push(
                RuleViolation::new(
                    ErrorCode::QtcProlonged,
                    format!("The latest QTc is {qtc} ms (≥ {} ms): monitor closely.", rules.qtc_warn_ms),
                )
                .with_details(json!({"qtc_ms": qtc})),
            );
        }
    }

    Ok(OrderDecision { starts_episode, needs_second_doctor, effective_from, warnings })
}

fn check_shape(req: &OrderRequest, ctx: &OrderContext) -> Result<(), RuleViolation> {
    let invalid = |field: &str, message: String| {
        RuleViolation::new(ErrorCode::ValidationFailed, format!("{field}: {message}"))
            .with_details(json!({"field": field}))
    };
    if req.daily <= DeciMg::ZERO {
        return Err(invalid("daily_mg", "must be more than 0".into()));
    }
    if let Some([a, b]) = req.portions {
        if a <= DeciMg::ZERO || b <= DeciMg::ZERO {
            return Err(invalid("portions_mg", "each portion must be more than 0".into()));
        }
        if a + b != req.daily {
            return Err(invalid("portions_mg", "the two portions must add up to daily_mg".into()));
        }
    }
    // Never retroactive, planned at most PLAN_AHEAD_DAYS ahead.
    if req.start_date < ctx.today {
        return Err(invalid(
            "start_date",
            format!("an order never starts in the past: start today ({}) or later", ctx.today),
        ));
    }
    if let Some(problem) = Window::around(ctx.today, 0, PLAN_AHEAD_DAYS).problem(req.start_date) {
        return Err(invalid("start_date", problem));
    }
    if let Some(end) = req.end_date {
        let window = Window::new(req.start_date, req.start_date + Duration::days(MAX_ORDER_DAYS - 1));
        if let Some(problem) = window.problem(end) {
            return Err(invalid("end_date", problem));
        }
    }
    if let Some(last) = req.last_dose_on {
        // A transfer's last verified dose at the other clinic: recent, not in the future.
        if let Some(problem) = Window::around(ctx.today, DAY_VIEW_DAYS, 0).problem(last) {
            return Err(invalid("last_dose_on", problem));
        }
    }
    Ok(())
}

fn check_day_one(req: &OrderRequest, rules: &RuleSet) -> Result<(), RuleViolation> {
    let largest_portion = req.portions.map_or(req.daily, |[a, b]| a.max(b));
    let portion_cap = DeciMg::from_mg(rules.induction_max_portion_mg);
    if largest_portion > portion_cap {
        return Err(RuleViolation::new(
            ErrorCode::InductionDoseExceeded,
            format!(
                "On day one a single portion may be at most {} (asked: {}). Split the dose, or give a top-up \
                 after 6–8 hours as a separate portion.",
                mg(portion_cap),
                mg(largest_portion)
            ),
        )
        .with_details(json!({"max_portion_mg": rules.induction_max_portion_mg})));
    }
    let day_cap = DeciMg::from_mg(rules.induction_max_day_total_mg);
    if req.daily > day_cap && !req.has_override_reason {
        return Err(RuleViolation::new(
            ErrorCode::InductionDoseExceeded,
            format!(
                "On day one the total may be at most {} (asked: {}) unless you give an override reason.",
                mg(day_cap),
                mg(req.daily)
            ),
        )
        .with_details(json!({"max_day_total_mg": rules.induction_max_day_total_mg})));
    }
    Ok(())
}

/// The step rules against the order being replaced. Returns whether this is an increase.
fn check_steps(
    book: &OrderBook,
    req: &OrderRequest,
    effective: NaiveDate,
    rules: &RuleSet,
) -> Result<bool, RuleViolation> {
    let Some(replaced) = book.active_on(effective).or_else(|| book.latest()) else { return Ok(false) };
    if req.daily <= replaced.daily {
        return Ok(false);
    }
    let increase = req.daily - replaced.daily;
    let step = DeciMg::from_mg(rules.max_increase_step_mg);
    if increase > step {
        return Err(RuleViolation::new(
            ErrorCode::DoseStepExceeded,
            format!(
                "An increase of {} (from {} to {}) is more than the {} allowed in one step.",
                mg(increase),
                mg(replaced.daily),
                mg(req.daily),
                mg(step)
            ),
        )
        .with_details(json!({"max_step_mg": rules.max_increase_step_mg, "current_mg": replaced.daily.mg()})));
    }

    let Some(episode) = book.episode_on(effective) else { return Ok(true) };
    let increases = book.increases_in_episode(episode);
    if let Some((previous, _)) = increases.iter().filter(|(day, _)| *day <= effective).max_by_key(|(day, _)| *day) {
        let gap = (effective - *previous).num_days();
        if gap < i64::from(rules.min_days_between_increases) {
            let earliest = *previous + Duration::days(i64::from(rules.min_days_between_increases));
            return Err(RuleViolation::new(
                ErrorCode::IncreaseTooSoon,
                format!(
                    "The last increase took effect on {previous}; the next may take effect from {earliest} \
                     (at least {} days apart).",
                    rules.min_days_between_increases
                ),
            )
            .with_details(json!({"previous_increase_on": previous, "earliest": earliest})));
        }
    }

    let episode_start = episode.effective_from.unwrap_or(effective);
    if (effective - episode_start).num_days() < i64::from(rules.early_episode_days) {
        let window_start = effective - Duration::days(i64::from(rules.early_increase_window_days) - 1);
        let recent: DeciMg =
            increases.iter().filter(|(day, _)| *day >= window_start && *day <= effective).map(|(_, d)| *d).sum();
        let cap = DeciMg::from_mg(rules.early_increase_cap_mg);
        if recent + increase > cap {
            return Err(RuleViolation::new(
                ErrorCode::DoseStepExceeded,
                format!(
                    "In the first {} days of treatment, increases within {} days may add up to at most {} \
                     ({} already, {} asked).",
                    rules.early_episode_days,
                    rules.early_increase_window_days,
                    mg(cap),
                    mg(recent),
                    mg(increase)
                ),
            )
            .with_details(json!({"window_cap_mg": rules.early_increase_cap_mg, "already_mg": recent.mg()})));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn order(id: &str, mg: u32, effective: &str, phase: Phase, starts: bool) -> Order {
        Order {
            id: id.into(),
            daily: DeciMg::from_mg(mg),
            portions: None,
            start_date: d(effective),
            end_date: None,
            phase,
            starts_episode: starts,
            last_dose_on: None,
            effective_from: Some(d(effective)),
        }
    }

    fn request(mg: u32, start: &str, phase: Phase) -> OrderRequest {
        OrderRequest {
            daily: DeciMg::from_mg(mg),
            portions: None,
            start_date: d(start),
            end_date: None,
            phase,
            has_override_reason: false,
            has_transfer_from: false,
            last_dose_on: None,
        }
    }

    fn ctx(today: &str, new_episode: bool) -> OrderContext {
        OrderContext {
            today: d(today),
            dosed_today: false,
            needs_new_episode: new_episode,
            latest_qtc_ms: None,
            latest_ecg_on: None,
        }
    }

    fn rules() -> RuleSet {
        RuleSet::default()
    }

    /// A maintenance patient on 60 mg since 1 October (episode began 1 September at 30 mg).
    fn maintained() -> OrderBook {
        OrderBook::new(vec![
            order("o1", 30, "2026-09-01", Phase::Induction, true),
            order("o2", 40, "2026-09-10", Phase::Induction, false),
            order("o3", 50, "2026-09-20", Phase::Maintenance, false),
            order("o4", 60, "2026-10-01", Phase::Maintenance, false),
        ])
    }

    fn code(r: Result<OrderDecision, RuleViolation>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(v) => v.code.as_str(),
        }
    }

    // --- which order is in force -------------------------------------------------------

    #[test]
    fn the_latest_activated_order_in_effect_is_active() {
        let book = maintained();
        assert_eq!(book.active_on(d("2026-09-15")).unwrap().id, "o2");
        assert_eq!(book.active_on(d("2026-10-01")).unwrap().id, "o4");
        assert!(book.active_on(d("2026-08-31")).is_none());
    }

    #[test]
    fn an_ended_order_covers_nothing_after_its_end_and_the_old_one_does_not_return() {
        let mut o = order("o5", 50, "2026-11-01", Phase::Taper, false);
        o.end_date = Some(d("2026-11-10"));
        let mut orders = vec![order("o4", 60, "2026-10-01", Phase::Maintenance, true)];
        orders.push(o);
        let book = OrderBook::new(orders);
        assert_eq!(book.active_on(d("2026-11-10")).unwrap().id, "o5");
        assert!(book.active_on(d("2026-11-11")).is_none());
    }

    #[test]
    fn a_newer_order_supersedes_from_its_own_start_even_when_an_older_one_starts_later() {
        let book = OrderBook::new(vec![
            order("a", 60, "2026-12-05", Phase::Maintenance, true),
            order("b", 50, "2026-12-01", Phase::Maintenance, false),
        ]);
        assert_eq!(book.active_on(d("2026-12-06")).unwrap().id, "b");
    }

    #[test]
    fn pending_orders_are_not_in_force() {
        let mut pending = order("p", 110, "2026-11-01", Phase::Maintenance, false);
        pending.effective_from = None;
        let book = OrderBook::new(vec![order("o", 100, "2026-10-01", Phase::Maintenance, true), pending]);
        assert_eq!(book.active_on(d("2026-11-20")).unwrap().id, "o");
    }

    // --- effective day ------------------------------------------------------------------

    #[test]
    fn an_order_takes_effect_on_the_later_of_start_and_approval() {
        assert_eq!(effective_day(d("2026-11-20"), d("2026-11-10"), false), d("2026-11-20"));
        assert_eq!(effective_day(d("2026-11-01"), d("2026-11-10"), false), d("2026-11-10"), "never retroactive");
    }

    #[test]
    fn an_order_starting_today_for_a_patient_dosed_today_takes_effect_tomorrow() {
        assert_eq!(effective_day(d("2026-11-10"), d("2026-11-10"), true), d("2026-11-11"));
        assert_eq!(effective_day(d("2026-11-12"), d("2026-11-10"), true), d("2026-11-12"));
    }

    // --- ceiling -------------------------------------------------------------------------

    #[test]
    fn ceiling_200_is_allowed_201_is_not_even_with_override() {
        let mut c = ctx("2026-11-10", false);
        c.latest_ecg_on = Some(d("2026-11-01"));
        let book = OrderBook::new(vec![order("o", 195, "2026-01-01", Phase::Maintenance, true)]);
        assert_eq!(code(check_order(&book, &request(200, "2026-11-10", Phase::Maintenance), &c, &rules())), "ok");
        let mut r = request(201, "2026-11-10", Phase::Maintenance);
        r.has_override_reason = true;
        assert_eq!(code(check_order(&book, &r, &c, &rules())), "dose_above_ceiling");
    }

    // --- episodes and induction ----------------------------------------------------------

    #[test]
    fn the_first_order_must_be_induction_or_transfer() {
        let c = ctx("2026-11-10", true);
        assert_eq!(
            code(check_order(&OrderBook::default(), &request(30, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "induction_required"
        );
        let ok =
            check_order(&OrderBook::default(), &request(30, "2026-11-10", Phase::Induction), &c, &rules()).unwrap();
        assert!(ok.starts_episode);
    }

    #[test]
    fn day_one_single_portion_30_is_allowed_31_is_not() {
        let c = ctx("2026-11-10", true);
        assert_eq!(
            code(check_order(&OrderBook::default(), &request(30, "2026-11-10", Phase::Induction), &c, &rules())),
            "ok"
        );
        assert_eq!(
            code(check_order(&OrderBook::default(), &request(31, "2026-11-10", Phase::Induction), &c, &rules())),
            "induction_dose_exceeded"
        );
    }

    #[test]
    fn day_one_split_portions_each_at_most_30_and_total_at_most_40() {
        let c = ctx("2026-11-10", true);
        let mut r = request(40, "2026-11-10", Phase::Induction);
        r.portions = Some([DeciMg::from_mg(30), DeciMg::from_mg(10)]);
        assert_eq!(code(check_order(&OrderBook::default(), &r, &c, &rules())), "ok");
        r.daily = DeciMg::from_mg(41);
        r.portions = Some([DeciMg::from_mg(30), DeciMg::from_mg(11)]);
        assert_eq!(code(check_order(&OrderBook::default(), &r, &c, &rules())), "induction_dose_exceeded");
        r.has_override_reason = true;
        assert_eq!(
            code(check_order(&OrderBook::default(), &r, &c, &rules())),
            "ok",
            "the total cap yields to an override"
        );
        r.daily = DeciMg::from_mg(50);
        r.portions = Some([DeciMg::from_mg(31), DeciMg::from_mg(19)]);
        assert_eq!(
            code(check_order(&OrderBook::default(), &r, &c, &rules())),
            "induction_dose_exceeded",
            "the portion cap does not yield"
        );
    }

    #[test]
    fn a_transfer_opens_an_episode_on_the_verified_dose_but_needs_its_fields() {
        let c = ctx("2026-11-10", true);
        let mut r = request(80, "2026-11-10", Phase::Transfer);
        assert_eq!(code(check_order(&OrderBook::default(), &r, &c, &rules())), "validation_failed");
        r.has_transfer_from = true;
        assert_eq!(code(check_order(&OrderBook::default(), &r, &c, &rules())), "validation_failed");
        r.last_dose_on = Some(d("2026-11-09"));
        let ok = check_order(&OrderBook::default(), &r, &c, &rules()).unwrap();
        assert!(ok.starts_episode);
        assert!(!ok.needs_second_doctor);
    }

    #[test]
    fn a_transfer_above_100_still_needs_an_ecg() {
        let c = ctx("2026-11-10", true);
        let mut r = request(120, "2026-11-10", Phase::Transfer);
        r.has_transfer_from = true;
        r.last_dose_on = Some(d("2026-11-09"));
        assert_eq!(code(check_order(&OrderBook::default(), &r, &c, &rules())), "ecg_required");
    }

    #[test]
    fn later_orders_may_say_induction_without_day_one_caps() {
        let book = OrderBook::new(vec![order("o1", 30, "2026-11-01", Phase::Induction, true)]);
        let r = request(40, "2026-11-10", Phase::Induction);
        let ok = check_order(&book, &r, &ctx("2026-11-10", false), &rules()).unwrap();
        assert!(!ok.starts_episode);
    }

    // --- steps ------------------------------------------------------------------------------

    #[test]
    fn an_increase_of_10_is_allowed_11_is_not_and_decreases_are_free() {
        let c = ctx("2026-11-10", false);
        assert_eq!(
            code(check_order(&maintained(), &request(70, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "ok"
        );
        assert_eq!(
            code(check_order(&maintained(), &request(71, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "dose_step_exceeded"
        );
        assert_eq!(code(check_order(&maintained(), &request(20, "2026-11-10", Phase::Taper), &c, &rules())), "ok");
    }

    #[test]
    fn increases_two_days_apart_are_too_soon_three_days_are_fine() {
        let book = OrderBook::new(vec![
            order("o1", 30, "2026-09-01", Phase::Induction, true),
            order("o2", 60, "2026-10-01", Phase::Maintenance, false),
            order("o3", 65, "2026-11-08", Phase::Maintenance, false),
        ]);
        // Day 2 after the increase of 8 November.
        assert_eq!(
            code(check_order(
                &book,
                &request(70, "2026-11-10", Phase::Maintenance),
                &ctx("2026-11-10", false),
                &rules()
            )),
            "increase_too_soon"
        );
        // Day 3.
        assert_eq!(
            code(check_order(
                &book,
                &request(70, "2026-11-11", Phase::Maintenance),
                &ctx("2026-11-11", false),
                &rules()
            )),
            "ok"
        );
        // A decrease is never too soon.
        assert_eq!(
            code(check_order(
                &book,
                &request(60, "2026-11-09", Phase::Maintenance),
                &ctx("2026-11-09", false),
                &rules()
            )),
            "ok"
        );
    }

    #[test]
    fn early_in_an_episode_increases_within_seven_days_may_reach_30_but_not_more() {
        // Induction 1 Nov at 30; +10 on 4 Nov, +10 on 7 Nov.
        let book = OrderBook::new(vec![
            order("o1", 30, "2026-11-01", Phase::Induction, true),
            order("o2", 40, "2026-11-04", Phase::Induction, false),
            order("o3", 50, "2026-11-07", Phase::Induction, false),
        ]);
        // 10 Nov: the window 4–10 Nov holds +10 +10; +10 more makes exactly 30: allowed.
        let r = request(60, "2026-11-10", Phase::Induction);
        assert_eq!(code(check_order(&book, &r, &ctx("2026-11-10", false), &rules())), "ok");
        // With a clinic's stricter cap of 29 the same order is refused.
        let mut strict = rules();
        strict.early_increase_cap_mg = 29;
        assert_eq!(code(check_order(&book, &r, &ctx("2026-11-10", false), &strict)), "dose_step_exceeded");
    }

    #[test]
    fn the_early_cap_counts_the_new_increase_with_those_before_it() {
        let book = OrderBook::new(vec![
            order("o1", 20, "2026-11-01", Phase::Induction, true),
            order("o2", 30, "2026-11-04", Phase::Induction, false),
            order("o3", 40, "2026-11-07", Phase::Induction, false),
            order("o4", 50, "2026-11-10", Phase::Induction, false),
        ]);
        // 13 Nov: the window 7–13 Nov holds +10 (7th) +10 (10th); +10 more makes 30 > 25.
        let mut rules = rules();
        rules.early_increase_cap_mg = 25;
        assert_eq!(
            code(check_order(&book, &request(60, "2026-11-13", Phase::Induction), &ctx("2026-11-13", false), &rules)),
            "dose_step_exceeded"
        );
        // On 14 Nov the window 8–14 Nov holds only +10 (10th): +10 more makes 20, allowed.
        assert_eq!(
            code(check_order(&book, &request(60, "2026-11-14", Phase::Induction), &ctx("2026-11-14", false), &rules)),
            "ok"
        );
    }

    #[test]
    fn after_day_14_the_weekly_cap_no_longer_applies() {
        let mut rules = rules();
        rules.early_increase_cap_mg = 15;
        let book = OrderBook::new(vec![
            order("o1", 30, "2026-11-01", Phase::Induction, true),
            order("o2", 40, "2026-11-11", Phase::Induction, false),
        ]);
        // 15 Nov is 14 days after the episode began: outside the first 14 days.
        assert_eq!(
            code(check_order(&book, &request(50, "2026-11-15", Phase::Maintenance), &ctx("2026-11-15", false), &rules)),
            "ok"
        );
        // 14 Nov is 13 days after: inside; +10 (11th) +10 = 20 > 15.
        assert_eq!(
            code(check_order(&book, &request(50, "2026-11-14", Phase::Maintenance), &ctx("2026-11-14", false), &rules)),
            "dose_step_exceeded"
        );
    }

    // --- high doses ---------------------------------------------------------------------------

    #[test]
    fn one_hundred_needs_nothing_more_101_needs_a_second_doctor_and_an_ecg() {
        let book = OrderBook::new(vec![order("o", 95, "2026-01-01", Phase::Maintenance, true)]);
        let c = ctx("2026-11-10", false);
        let ok = check_order(&book, &request(100, "2026-11-10", Phase::Maintenance), &c, &rules()).unwrap();
        assert!(!ok.needs_second_doctor);
        assert_eq!(
            code(check_order(&book, &request(101, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "ecg_required"
        );
        let mut c = c;
        c.latest_ecg_on = Some(d("2025-11-10"));
        let ok = check_order(&book, &request(101, "2026-11-10", Phase::Maintenance), &c, &rules()).unwrap();
        assert!(ok.needs_second_doctor, "an ECG 365 days old is still valid");
        c.latest_ecg_on = Some(d("2025-11-09"));
        assert_eq!(
            code(check_order(&book, &request(101, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "ecg_required",
            "366 days is too old"
        );
    }

    // --- QTc --------------------------------------------------------------------------------

    #[test]
    fn qtc_499_warns_500_blocks_increases_unless_overridden() {
        let book = maintained();
        let mut c = ctx("2026-11-10", false);
        c.latest_qtc_ms = Some(499);
        let ok = check_order(&book, &request(70, "2026-11-10", Phase::Maintenance), &c, &rules()).unwrap();
        assert_eq!(ok.warnings.len(), 1);
        assert_eq!(ok.warnings[0].code.as_str(), "qtc_prolonged");
        c.latest_qtc_ms = Some(500);
        assert_eq!(
            code(check_order(&book, &request(70, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "qtc_too_long"
        );
        let mut r = request(70, "2026-11-10", Phase::Maintenance);
        r.has_override_reason = true;
        assert_eq!(code(check_order(&book, &r, &c, &rules())), "ok");
        // A decrease with a long QTc is welcome.
        assert_eq!(code(check_order(&book, &request(50, "2026-11-10", Phase::Taper), &c, &rules())), "ok");
        c.latest_qtc_ms = Some(449);
        assert!(check_order(&book, &request(70, "2026-11-10", Phase::Maintenance), &c, &rules())
            .unwrap()
            .warnings
            .is_empty());
    }

    // --- shape ----------------------------------------------------------------------------

    #[test]
    fn portions_must_add_up_and_dates_must_make_sense() {
        let c = ctx("2026-11-10", false);
        let mut r = request(60, "2026-11-10", Phase::Maintenance);
        r.portions = Some([DeciMg::from_mg(30), DeciMg::from_mg(20)]);
        assert_eq!(code(check_order(&maintained(), &r, &c, &rules())), "validation_failed");
        let mut r = request(60, "2026-11-10", Phase::Maintenance);
        r.end_date = Some(d("2026-11-09"));
        assert_eq!(code(check_order(&maintained(), &r, &c, &rules())), "validation_failed");
        assert_eq!(
            code(check_order(&maintained(), &request(0, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "validation_failed"
        );
    }

    #[test]
    fn the_rules_are_checked_in_order_and_the_first_failure_answers() {
        // Above the ceiling AND not induction for a new episode: the ceiling answers.
        let c = ctx("2026-11-10", true);
        assert_eq!(
            code(check_order(&OrderBook::default(), &request(250, "2026-11-10", Phase::Maintenance), &c, &rules())),
            "dose_above_ceiling"
        );
    }
}
