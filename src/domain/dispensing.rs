//! What may be given to a patient on a day, and whether a dose attempt may go ahead
//! (RULES.md, "Dispensing" and "Missed days"). One function, [`decide`], answers for the
//! dosing screen, the dose itself, the site's queue, home visits and the nightly sweep.

use crate::domain::codes::ErrorCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::orders::{OrderBook, Phase};
use super::quantity::DeciMg;
use super::rules::RuleSet;
use super::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PatientStatus {
    Active,
    Suspended,
    Discharged,
    Deceased,
    DroppedOut,
}

impl PatientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PatientStatus::Active => "active",
            PatientStatus::Suspended => "suspended",
            PatientStatus::Discharged => "discharged",
            PatientStatus::Deceased => "deceased",
            PatientStatus::DroppedOut => "dropped_out",
        }
    }

    pub fn parse(s: &str) -> Option<PatientStatus> {
        [
            PatientStatus::Active,
            PatientStatus::Suspended,
            PatientStatus::Discharged,
            PatientStatus::Deceased,
            PatientStatus::DroppedOut,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// An inclusive range of days (an excused absence, a guest-dosing arrangement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// A dose that stands (not reversed).
#[derive(Debug, Clone, PartialEq)]
pub struct GivenDose {
    pub portion: u8,
    pub amount: DeciMg,
    pub given_at: DateTime<Utc>,
    pub site_id: String,
    pub home_visit: bool,
}

/// Everything the rules need about one patient on one day.
#[derive(Debug, Clone)]
pub struct PatientDay<'a> {
    pub date: NaiveDate,
    pub now: DateTime<Utc>,
    pub status: PatientStatus,
    pub orders: &'a OrderBook,
    /// The latest day before `date` with a dose that stands.
    pub last_dose_day: Option<NaiveDate>,
    /// Doses that stand on `date`.
    pub doses: &'a [GivenDose],
    pub excused: &'a [DayRange],
    /// A doctor's review for `date`: the amount it approves.
    pub review: Option<DeciMg>,
    /// A dose was withheld on `date` (intoxication).
    pub withheld: bool,
}

/// Whether the nurse and the patient may use this site today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteAccess<'a> {
    pub nurse_assigned: bool,
    pub patient: PatientAt<'a>,
}

impl SiteAccess<'_> {
    /// A nurse of the site holding the patient's day.
    pub const HELD: SiteAccess<'static> = SiteAccess { nurse_assigned: true, patient: PatientAt::Held };
}

/// Where the patient's dose day is held (see `offline::assignment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientAt<'a> {
    /// This site holds the day: the home site, or the guest-dosing site for the day.
    Held,
    /// Another site (`holder`) holds the day.
    Elsewhere { holder: &'a str },
    /// Guest dosing here was arranged after the day's sheets were fixed; the site holding
    /// the day (`holder`) has not released it yet.
    AwaitingRelease { holder: &'a str },
}

/// When a block answers a dose attempt: before the identity and intoxication checks, or
/// after them (RULES.md's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    BeforeIdentity,
    AfterIntoxication,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stage: Stage,
    pub violation: RuleViolation,
}

/// The day's decision for one patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub date: NaiveDate,
    pub order_id: Option<String>,
    /// What the day allows in all (the order, or the reduced amount after missed days).
    pub day_total: DeciMg,
    pub given: DeciMg,
    /// What may be given now (0 when blocked).
    pub due: DeciMg,
    /// The portion the next dose would be (1, or 2 for the second of a split order).
    pub portion: u8,
    pub missed_days: u32,
    /// The most a doctor's review may approve for this day, when a review is needed.
    pub review_limit: Option<DeciMg>,
    pub blocks: Vec<Block>,
}

impl Decision {
    pub fn can_dispense(&self) -> bool {
        self.blocks.is_empty() && self.due > DeciMg::ZERO
    }

    pub fn needs_review(&self) -> bool {
        self.review_limit.is_some()
    }
}

/// A run of consecutive missed days before a date: the first day it counts from (the day
/// after the last dose, or the episode's first day) and how many missed days it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissedRun {
    pub since: NaiveDate,
    pub days: u32,
}

/// The run of missed days before `date`: days with no dose since the last dose day (both
/// excluded) on which the patient had an order, not counting excused days. With no dose in
/// the episode yet, counting starts on the episode's first day — or, for a transfer, the day
/// after the last dose verified at the other clinic. `None` when no episode covers `date`.
pub fn missed_run(
    date: NaiveDate,
    orders: &OrderBook,
    last_dose_day: Option<NaiveDate>,
    excused: &[DayRange],
) -> Option<MissedRun> {
    let episode = orders.episode_on(date)?;
    let episode_start = episode.effective_from?;
    let (since, count_before_episode) = match last_dose_day.filter(|d| *d >= episode_start) {
        Some(last) => (last + Duration::days(1), false),
        None => match (episode.phase, episode.last_dose_on) {
            (Phase::Transfer, Some(last)) => (last + Duration::days(1), true),
            _ => (episode_start, false),
        },
    };
    // Whether a day counts changes only on the days orders and excused ranges begin or
    // end, so the run is counted stretch by stretch: the cost does not grow with its length.
    let counts = |day: NaiveDate| {
        let had_order = orders.covers(day) || (count_before_episode && day < episode_start);
        had_order && !excused.iter().any(|r| r.contains(day))
    };
    let mut edges: Vec<NaiveDate> = orders
        .change_days()
        .chain(excused.iter().flat_map(|r| [r.from, r.to + Duration::days(1)]))
        .chain([episode_start, since, date])
        .filter(|d| (since..=date).contains(d))
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let days = edges
        .windows(2)
        .filter(|stretch| counts(stretch[0]))
        .map(|stretch| (stretch[1] - stretch[0]).num_days())
        .sum::<i64>();
    Some(MissedRun { since, days: u32::try_from(days).unwrap_or(u32::MAX) })
}

/// Consecutive missed days before `date` (see [`missed_run`]): the one definition of a
/// missed day that dispensing, attendance and the alert sweep share.
pub fn consecutive_missed_days(
    date: NaiveDate,
    orders: &OrderBook,
    last_dose_day: Option<NaiveDate>,
    excused: &[DayRange],
) -> u32 {
    missed_run(date, orders, last_dose_day, excused).map_or(0, |run| run.days)
}

/// The most that may be given after `missed` consecutive missed days on an order of
/// `daily`, and whether a doctor's review must come first.
pub(crate) fn missed_day_limit(daily: DeciMg, missed: u32, rules: &RuleSet) -> (DeciMg, bool) {
    let half = daily.half_whole_mg();
    if missed >= rules.missed_days_suspend {
        (DeciMg::ZERO, true)
    } else if missed >= rules.missed_days_capped {
        (half.min(DeciMg::from_mg(rules.missed_days_cap_mg)), true)
    } else if missed >= rules.missed_days_review {
        (half, true)
    } else {
        (daily, false)
    }
}

fn block(stage: Stage, violation: RuleViolation) -> Block {
    Block { stage, violation }
}

/// Decides what may be given on `day.date`. `site` is `None` when no site is involved (the
/// sweep, a doctor's view).
pub fn decide(day: &PatientDay<'_>, site: Option<SiteAccess<'_>>, rules: &RuleSet) -> Decision {
    let given: DeciMg = day.doses.iter().map(|d| d.amount).sum();
    let missed = consecutive_missed_days(day.date, day.orders, day.last_dose_day, day.excused);
    let order = day.orders.active_on(day.date);
    let mut decision = Decision {
        date: day.date,
        order_id: order.map(|o| o.id.clone()),
        day_total: order.map_or(DeciMg::ZERO, |o| o.daily),
        given,
        due: DeciMg::ZERO,
        portion: 1,
        missed_days: missed,
        review_limit: None,
        blocks: Vec::new(),
    };
    let before = Stage::BeforeIdentity;

    if day.status != PatientStatus::Active {
        decision.blocks.push(block(
            before,
            RuleViolation::new(
                ErrorCode::PatientNotActive,
                format!(
                    "The patient's status is {}: no dose. A doctor must reactivate the patient first.",
                    day.status.as_str()
                ),
            ),
        ));
    }
    if let Some(site) = site {
        if !site.nurse_assigned {
            decision.blocks.push(block(
                before,
                RuleViolation::new(
                    ErrorCode::SiteNotAllowed,
                    "You are not assigned to this site; dispense only at your own site.",
                ),
            ));
        } else {
            match site.patient {
                PatientAt::Held => {}
                PatientAt::Elsewhere { holder } => decision.blocks.push(block(
                    before,
                    RuleViolation::new(ErrorCode::SiteNotAllowed,
                        "This patient doses at another site. Send them to their own site, or ask a doctor to arrange guest dosing.",
                    )
                    .with_details(json!({"elsewhere": true, "site_id": holder})),
                )),
                PatientAt::AwaitingRelease { holder } => decision.blocks.push(block(
                    before,
                    RuleViolation::new(
                        ErrorCode::SiteNotAllowed,
                        "Guest dosing here was arranged after today's sheets were out: the site holding the patient's day must release it first. Phone them.",
                    )
                    .with_details(json!({"awaiting_release": true, "site_id": holder})),
                )),
            }
        }
    }
    let Some(order) = order else {
        decision.blocks.push(block(
            before,
            RuleViolation::new(
                ErrorCode::NoActiveOrder,
                "No dose order covers today. A doctor must write an order first.",
            ),
        ));
        return decision;
    };

    let (limit, review_needed_for_missed) = missed_day_limit(order.daily, missed, rules);
    let needs_review = review_needed_for_missed || day.withheld;
    let suspended = missed >= rules.missed_days_suspend;
    if needs_review && !suspended {
        decision.review_limit = Some(limit);
        decision.day_total = limit;
    }

    // Which portion comes next, and is the day (or that portion) already given?
    let split = order.portions.filter(|_| !needs_review);
    let latest = day.doses.iter().max_by_key(|d| d.given_at);
    let next_portion = match split {
        None if day.doses.is_empty() => Some(1u8),
        None => None,
        Some(_) => {
            let has = |p: u8| day.doses.iter().any(|d| d.portion == p);
            match (has(1), has(2)) {
                (false, false) => Some(1),
                (true, false) => Some(2),
                _ => None,
            }
        }
    };
    let Some(portion) = next_portion else {
        if let Some(last) = latest {
            decision.blocks.push(block(
                before,
                RuleViolation::new(
                    ErrorCode::AlreadyDosedToday,
                    format!("Already dosed today ({} mg). No second dose.", given.text()),
                )
                .with_details(
                    json!({"site_id": last.site_id, "given_at": last.given_at, "home_visit": last.home_visit}),
                ),
            ));
        }
        return decision;
    };
    decision.portion = portion;

    if portion == 2 {
        if let Some(first) = day.doses.iter().find(|d| d.portion == 1) {
            let ready_at = first.given_at + Duration::hours(i64::from(rules.split_min_interval_hours));
            if day.now < ready_at {
                decision.blocks.push(block(
                    before,
                    RuleViolation::new(
                        ErrorCode::SplitIntervalNotElapsed,
                        format!(
                            "The second portion may be given {} hours after the first, not before {}.",
                            rules.split_min_interval_hours,
                            ready_at.to_rfc3339()
                        ),
                    )
                    .with_details(json!({"ready_at": ready_at})),
                ));
            }
        }
    }

    let after = Stage::AfterIntoxication;
    if suspended {
        decision.blocks.push(block(
            after,
            RuleViolation::new(
                ErrorCode::ReinductionRequired,
                format!(
                    "{missed} consecutive days missed: the order is suspended. A doctor must start again with an \
                     induction order."
                ),
            )
            .with_details(json!({"missed_days": missed})),
        ));
        return decision;
    }

    let full = match (split, portion) {
        (Some([a, _]), 1) => a,
        (Some([_, b]), _) => b,
        (None, _) => order.daily,
    };
    decision.due = if needs_review {
        match day.review {
            Some(approved) => approved.min(limit),
            None => {
                let why = if day.withheld {
                    "A dose was withheld today (intoxication). A doctor must review the patient before any dose today."
                        .to_string()
                } else {
                    format!(
                        "{missed} consecutive days missed: a doctor must review the patient today; at most {} mg may \
                         then be given.",
                        limit.text()
                    )
                };
                decision.blocks.push(block(
                    after,
                    RuleViolation::new(ErrorCode::DoctorReviewRequired, why)
                        .with_details(json!({"missed_days": missed, "max_mg": limit.mg(), "withheld": day.withheld})),
                ));
                DeciMg::ZERO
            }
        }
    } else {
        full
    };
    if !decision.blocks.is_empty() {
        decision.due = DeciMg::ZERO;
    }
    decision
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntoxicationCheck {
    Clear,
    Sedated,
    Alcohol,
}

impl IntoxicationCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            IntoxicationCheck::Clear => "clear",
            IntoxicationCheck::Sedated => "sedated",
            IntoxicationCheck::Alcohol => "alcohol",
        }
    }

    pub fn parse(s: &str) -> Option<IntoxicationCheck> {
        [IntoxicationCheck::Clear, IntoxicationCheck::Sedated, IntoxicationCheck::Alcohol]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

crate::named_enum! {
    /// Where a dose was given: at a site's window, or on a home visit.
    pub enum DoseKind {
        Site = "site",
        HomeVisit = "home_visit",
    }
}

/// A nurse's attempt to give a dose.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseAttempt {
    pub identity_confirmed: bool,
    pub intoxication: IntoxicationCheck,
    pub amount: DeciMg,
    pub has_note: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Give `amount` as `portion`.
    Give {
        portion: u8,
        amount: DeciMg,
    },
    /// Withhold the dose and record that it was withheld.
    Withhold(RuleViolation),
    Refuse(RuleViolation),
}

/// Checks an attempt against the day's decision, in RULES.md's order.
pub fn check_attempt(decision: &Decision, attempt: &DoseAttempt) -> Verdict {
    let first = |stage: Stage| decision.blocks.iter().find(|b| b.stage == stage).map(|b| b.violation.clone());
    if let Some(v) = first(Stage::BeforeIdentity) {
        return Verdict::Refuse(v);
    }
    if !attempt.identity_confirmed {
        return Verdict::Refuse(RuleViolation::new(
            ErrorCode::IdentityNotConfirmed,
            "Confirm the patient's identity (photo or card) before giving the dose.",
        ));
    }
    if attempt.intoxication != IntoxicationCheck::Clear {
        return Verdict::Withhold(RuleViolation::new(
            ErrorCode::DoseWithheldIntoxicated,
            format!(
                "The patient is not clear ({}): the dose is withheld and recorded. A doctor must review the patient \
                 before any dose today.",
                attempt.intoxication.as_str()
            ),
        ));
    }
    if let Some(v) = first(Stage::AfterIntoxication) {
        return Verdict::Refuse(v);
    }
    if attempt.amount <= DeciMg::ZERO {
        return Verdict::Refuse(RuleViolation::new(ErrorCode::ValidationFailed, "dose_mg: must be more than 0"));
    }
    if attempt.amount > decision.due {
        return Verdict::Refuse(
            RuleViolation::new(
                ErrorCode::DoseExceedsDue,
                format!("At most {} mg may be given now; {} mg is more.", decision.due.text(), attempt.amount.text()),
            )
            .with_details(json!({"due_mg": decision.due.mg()})),
        );
    }
    if attempt.amount < decision.due && !attempt.has_note {
        return Verdict::Refuse(
            RuleViolation::new(
                ErrorCode::ValidationFailed,
                format!("Giving less than the {} mg due needs a note saying why.", decision.due.text()),
            )
            .with_details(json!({"field": "note"})),
        );
    }
    Verdict::Give { portion: decision.portion, amount: attempt.amount }
}

/// What a day was for a patient, for attendance and the dose chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    Dosed,
    HomeVisit,
    Missed,
    Excused,
    Withheld,
    NoOrder,
    /// Today, not yet dosed.
    Due,
}

/// One day's attendance, from the same notion of a missed day as dispensing: a day with
/// an order, no dose and no excuse.
pub fn day_status(
    day: NaiveDate,
    today: NaiveDate,
    orders: &OrderBook,
    dose_kinds: &[bool],
    excused: &[DayRange],
    withheld: bool,
) -> DayStatus {
    if let Some(home_visit) = dose_kinds.first() {
        return if *home_visit && dose_kinds.iter().all(|h| *h) { DayStatus::HomeVisit } else { DayStatus::Dosed };
    }
    if withheld {
        return DayStatus::Withheld;
    }
    if excused.iter().any(|r| r.contains(day)) {
        return DayStatus::Excused;
    }
    if !orders.covers(day) {
        return DayStatus::NoOrder;
    }
    if day >= today {
        DayStatus::Due
    } else {
        DayStatus::Missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::orders::Order;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn at(s: &str, h: u32, m: u32) -> DateTime<Utc> {
        let day = d(s);
        Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0).unwrap())
    }

    fn order(mg: u32, effective: &str, portions: Option<[u32; 2]>) -> Order {
        Order {
            id: format!("order-{mg}-{effective}"),
            daily: DeciMg::from_mg(mg),
            portions: portions.map(|[a, b]| [DeciMg::from_mg(a), DeciMg::from_mg(b)]),
            start_date: d(effective),
            end_date: None,
            phase: Phase::Induction,
            starts_episode: true,
            last_dose_on: None,
            effective_from: Some(d(effective)),
        }
    }

    fn book(mg: u32) -> OrderBook {
        OrderBook::new(vec![order(mg, "2026-10-01", None)])
    }

    fn dose(day: &str, portion: u8, mg: u32, h: u32) -> GivenDose {
        GivenDose {
            portion,
            amount: DeciMg::from_mg(mg),
            given_at: at(day, h, 0),
            site_id: "LS".into(),
            home_visit: false,
        }
    }

    struct Case {
        orders: OrderBook,
        date: NaiveDate,
        now: DateTime<Utc>,
        status: PatientStatus,
        last: Option<NaiveDate>,
        doses: Vec<GivenDose>,
        excused: Vec<DayRange>,
        review: Option<DeciMg>,
        withheld: bool,
    }

    impl Case {
        /// 60 mg a day, last dosed the day before 10 November, nothing today.
        fn new() -> Case {
            Case {
                orders: book(60),
                date: d("2026-11-10"),
                now: at("2026-11-10", 0, 30),
                status: PatientStatus::Active,
                last: Some(d("2026-11-09")),
                doses: vec![],
                excused: vec![],
                review: None,
                withheld: false,
            }
        }

        fn last_dosed(mut self, day: &str) -> Case {
            self.last = Some(d(day));
            self
        }

        fn decide(&self) -> Decision {
            self.decide_at(Some(SiteAccess::HELD))
        }

        fn decide_at(&self, site: Option<SiteAccess<'_>>) -> Decision {
            let day = PatientDay {
                date: self.date,
                now: self.now,
                status: self.status,
                orders: &self.orders,
                last_dose_day: self.last,
                doses: &self.doses,
                excused: &self.excused,
                review: self.review,
                withheld: self.withheld,
            };
            decide(&day, site, &RuleSet::default())
        }
    }

    fn codes(d: &Decision) -> Vec<&'static str> {
        d.blocks.iter().map(|b| b.violation.code.as_str()).collect()
    }

    fn attempt(mg: u32) -> DoseAttempt {
        DoseAttempt {
            identity_confirmed: true,
            intoxication: IntoxicationCheck::Clear,
            amount: DeciMg::from_mg(mg),
            has_note: false,
        }
    }

    fn refused(v: Verdict) -> &'static str {
        match v {
            Verdict::Refuse(v) | Verdict::Withhold(v) => v.code.as_str(),
            Verdict::Give { .. } => "give",
        }
    }

    // --- the normal day ------------------------------------------------------------------

    #[test]
    fn a_patient_dosed_yesterday_is_due_the_full_order() {
        let dec = Case::new().decide();
        assert!(dec.can_dispense());
        assert_eq!(dec.due, DeciMg::from_mg(60));
        assert_eq!(dec.missed_days, 0);
        assert_eq!(check_attempt(&dec, &attempt(60)), Verdict::Give { portion: 1, amount: DeciMg::from_mg(60) });
    }

    // --- the dispensing table, row by row ----------------------------------------------------

    #[test]
    fn an_inactive_patient_gets_nothing() {
        let mut c = Case::new();
        c.status = PatientStatus::Suspended;
        let dec = c.decide();
        assert_eq!(codes(&dec), ["patient_not_active"]);
        assert_eq!(refused(check_attempt(&dec, &attempt(60))), "patient_not_active");
    }

    #[test]
    fn a_nurse_not_assigned_to_the_site_is_refused() {
        let dec = Case::new().decide_at(Some(SiteAccess { nurse_assigned: false, patient: PatientAt::Held }));
        assert_eq!(codes(&dec), ["site_not_allowed"]);
    }

    #[test]
    fn a_patient_of_another_site_without_guest_dosing_is_refused() {
        let dec = Case::new()
            .decide_at(Some(SiteAccess { nurse_assigned: true, patient: PatientAt::Elsewhere { holder: "hq" } }));
        assert_eq!(codes(&dec), ["site_not_allowed"]);
        assert!(dec.blocks[0].violation.message.contains("guest dosing"));
        assert_eq!(
            dec.blocks[0].violation.details,
            json!({"elsewhere": true, "site_id": "hq"}),
            "names the site holding the day"
        );
    }

    #[test]
    fn a_guest_arranged_after_the_sheets_waits_for_the_holding_sites_release() {
        let access = SiteAccess { nurse_assigned: true, patient: PatientAt::AwaitingRelease { holder: "ls" } };
        let dec = Case::new().decide_at(Some(access));
        assert_eq!(codes(&dec), ["site_not_allowed"]);
        assert_eq!(dec.blocks[0].violation.details, json!({"awaiting_release": true, "site_id": "ls"}));
        assert!(!dec.can_dispense());
    }

    #[test]
    fn no_order_covering_today_means_no_dose() {
        let mut c = Case::new();
        c.orders = OrderBook::new(vec![order(60, "2026-11-11", None)]);
        let dec = c.decide();
        assert_eq!(codes(&dec), ["no_active_order"]);
        assert_eq!(dec.due, DeciMg::ZERO);
    }

    #[test]
    fn a_second_dose_the_same_day_is_refused_and_says_where_and_when() {
        let mut c = Case::new();
        c.doses = vec![dose("2026-11-10", 1, 60, 0)];
        let dec = c.decide();
        assert_eq!(codes(&dec), ["already_dosed_today"]);
        let details = &dec.blocks[0].violation.details;
        assert_eq!(details["site_id"], "LS");
        assert!(details["given_at"].as_str().unwrap().starts_with("2026-11-10T00:00:00"));
        assert_eq!(refused(check_attempt(&dec, &attempt(60))), "already_dosed_today");
    }

    #[test]
    fn a_home_visit_dose_blocks_site_dosing_too() {
        let mut c = Case::new();
        let mut hv = dose("2026-11-10", 1, 60, 0);
        hv.home_visit = true;
        c.doses = vec![hv];
        let dec = c.decide();
        assert_eq!(codes(&dec), ["already_dosed_today"]);
        assert_eq!(dec.blocks[0].violation.details["home_visit"], true);
    }

    #[test]
    fn split_orders_give_the_first_portion_then_the_second_after_six_hours() {
        let mut c = Case::new();
        c.orders = OrderBook::new(vec![order(80, "2026-10-01", Some([50, 30]))]);
        c.now = at("2026-11-10", 1, 0);
        let dec = c.decide();
        assert_eq!((dec.portion, dec.due), (1, DeciMg::from_mg(50)));

        c.doses = vec![dose("2026-11-10", 1, 50, 1)];
        c.now = at("2026-11-10", 6, 59);
        let dec = c.decide();
        assert_eq!(dec.portion, 2);
        assert_eq!(codes(&dec), ["split_interval_not_elapsed"]);

        c.now = at("2026-11-10", 7, 0);
        let dec = c.decide();
        assert!(dec.can_dispense());
        assert_eq!((dec.portion, dec.due, dec.given), (2, DeciMg::from_mg(30), DeciMg::from_mg(50)));

        c.doses.push(dose("2026-11-10", 2, 30, 7));
        assert_eq!(codes(&c.decide()), ["already_dosed_today"]);
    }

    #[test]
    fn identity_must_be_confirmed() {
        let dec = Case::new().decide();
        let mut a = attempt(60);
        a.identity_confirmed = false;
        assert_eq!(refused(check_attempt(&dec, &a)), "identity_not_confirmed");
    }

    #[test]
    fn an_intoxicated_patient_has_the_dose_withheld_then_needs_a_review() {
        let dec = Case::new().decide();
        let mut a = attempt(60);
        a.intoxication = IntoxicationCheck::Sedated;
        assert!(
            matches!(check_attempt(&dec, &a), Verdict::Withhold(v) if v.code == ErrorCode::DoseWithheldIntoxicated)
        );

        let mut c = Case::new();
        c.withheld = true;
        let dec = c.decide();
        assert_eq!(codes(&dec), ["doctor_review_required"]);
        assert_eq!(refused(check_attempt(&dec, &attempt(60))), "doctor_review_required");

        c.review = Some(DeciMg::from_mg(40));
        let dec = c.decide();
        assert!(dec.can_dispense());
        assert_eq!(dec.due, DeciMg::from_mg(40));
    }

    #[test]
    fn less_than_due_needs_a_note_and_more_is_never_allowed() {
        let dec = Case::new().decide();
        assert_eq!(refused(check_attempt(&dec, &attempt(61))), "dose_exceeds_due");
        assert_eq!(refused(check_attempt(&dec, &attempt(50))), "validation_failed");
        let mut a = attempt(50);
        a.has_note = true;
        assert_eq!(check_attempt(&dec, &a), Verdict::Give { portion: 1, amount: DeciMg::from_mg(50) });
        assert_eq!(refused(check_attempt(&dec, &attempt(0))), "validation_failed");
    }

    #[test]
    fn the_first_failing_check_answers_in_the_tables_order() {
        // Inactive and already dosed and not identified: the status answers.
        let mut c = Case::new();
        c.status = PatientStatus::Discharged;
        c.doses = vec![dose("2026-11-10", 1, 60, 0)];
        let dec = c.decide();
        let mut a = attempt(60);
        a.identity_confirmed = false;
        assert_eq!(refused(check_attempt(&dec, &a)), "patient_not_active");
        // Missed days and no identity: identity answers first (it comes earlier in the table).
        let dec = Case::new().last_dosed("2026-11-06").decide();
        assert_eq!(refused(check_attempt(&dec, &a)), "identity_not_confirmed");
        // Missed days and intoxicated: the dose is withheld (intoxication comes before missed days).
        let mut a = attempt(30);
        a.intoxication = IntoxicationCheck::Alcohol;
        assert!(matches!(check_attempt(&dec, &a), Verdict::Withhold(_)));
    }

    // --- the missed-day table ------------------------------------------------------------------

    #[test]
    fn two_missed_days_still_get_the_full_order() {
        let dec = Case::new().last_dosed("2026-11-07").decide();
        assert_eq!(dec.missed_days, 2);
        assert!(dec.can_dispense());
        assert_eq!(dec.due, DeciMg::from_mg(60));
    }

    #[test]
    fn three_missed_days_need_a_review_for_half_rounded_down() {
        let mut c = Case::new().last_dosed("2026-11-06");
        c.orders = book(65);
        let dec = c.decide();
        assert_eq!(dec.missed_days, 3);
        assert_eq!(codes(&dec), ["doctor_review_required"]);
        assert_eq!(dec.review_limit, Some(DeciMg::from_mg(32)));
        c.review = Some(DeciMg::from_mg(32));
        let dec = c.decide();
        assert_eq!((dec.due, dec.day_total), (DeciMg::from_mg(32), DeciMg::from_mg(32)));
        assert_eq!(refused(check_attempt(&dec, &attempt(33))), "dose_exceeds_due");
    }

    #[test]
    fn four_missed_days_allow_the_lower_of_40_and_half() {
        let mut c = Case::new().last_dosed("2026-11-05");
        c.orders = book(100);
        let dec = c.decide();
        assert_eq!(dec.missed_days, 4);
        assert_eq!(dec.review_limit, Some(DeciMg::from_mg(40)));
        c.orders = book(60);
        assert_eq!(c.decide().review_limit, Some(DeciMg::from_mg(30)));
        // A review above the limit is clamped to the limit.
        c.review = Some(DeciMg::from_mg(50));
        assert_eq!(c.decide().due, DeciMg::from_mg(30));
    }

    #[test]
    fn five_missed_days_suspend_the_order() {
        let mut c = Case::new().last_dosed("2026-11-04");
        c.review = Some(DeciMg::from_mg(30));
        let dec = c.decide();
        assert_eq!(dec.missed_days, 5);
        assert_eq!(codes(&dec), ["reinduction_required"]);
        assert_eq!(dec.due, DeciMg::ZERO);
        assert!(!dec.needs_review(), "no review can undo a suspension");
    }

    #[test]
    fn a_reduced_dose_after_missed_days_is_one_portion_even_on_a_split_order() {
        let mut c = Case::new().last_dosed("2026-11-06");
        c.orders = OrderBook::new(vec![order(80, "2026-10-01", Some([50, 30]))]);
        c.review = Some(DeciMg::from_mg(40));
        let dec = c.decide();
        assert_eq!((dec.portion, dec.due), (1, DeciMg::from_mg(40)));
        c.doses = vec![dose("2026-11-10", 1, 40, 1)];
        assert_eq!(codes(&c.decide()), ["already_dosed_today"]);
    }

    #[test]
    fn excused_days_do_not_count_as_missed() {
        let mut c = Case::new().last_dosed("2026-11-04");
        c.excused = vec![DayRange { from: d("2026-11-05"), to: d("2026-11-07") }];
        let dec = c.decide();
        assert_eq!(dec.missed_days, 2);
        assert!(dec.can_dispense());
    }

    #[test]
    fn days_without_an_order_do_not_count_as_missed() {
        let mut first = order(60, "2026-10-01", None);
        first.end_date = Some(d("2026-11-05"));
        let mut second = order(60, "2026-11-08", None);
        second.starts_episode = false;
        let mut c = Case::new().last_dosed("2026-11-04");
        c.orders = OrderBook::new(vec![first, second]);
        // 5 Nov missed (order), 6–7 Nov no order, 8–9 Nov missed: 3.
        assert_eq!(c.decide().missed_days, 3);
    }

    #[test]
    fn with_no_dose_yet_counting_starts_on_the_episode_first_day() {
        let mut c = Case::new();
        c.last = None;
        c.orders = OrderBook::new(vec![order(30, "2026-11-08", None)]);
        let dec = c.decide();
        assert_eq!(dec.missed_days, 2, "8 and 9 November");
        c.orders = OrderBook::new(vec![order(30, "2026-11-10", None)]);
        assert_eq!(c.decide().missed_days, 0);
    }

    #[test]
    fn a_new_induction_episode_counts_only_from_its_start() {
        let mut c = Case::new().last_dosed("2026-10-20");
        let mut restart = order(30, "2026-11-10", None);
        restart.id = "restart".into();
        c.orders = OrderBook::new(vec![order(60, "2026-10-01", None), restart]);
        let dec = c.decide();
        assert_eq!(dec.missed_days, 0);
        assert!(dec.can_dispense());
        assert_eq!(dec.due, DeciMg::from_mg(30));
    }

    #[test]
    fn a_transfer_counts_from_the_last_dose_at_the_other_clinic() {
        let mut t = order(80, "2026-11-10", None);
        t.phase = Phase::Transfer;
        t.last_dose_on = Some(d("2026-11-06"));
        let mut c = Case::new();
        c.last = None;
        c.orders = OrderBook::new(vec![t]);
        let dec = c.decide();
        assert_eq!(dec.missed_days, 3, "7, 8 and 9 November");
        assert_eq!(codes(&dec), ["doctor_review_required"]);
    }

    #[test]
    fn missed_days_boundaries_two_and_three() {
        assert_eq!(Case::new().last_dosed("2026-11-07").decide().missed_days, 2);
        assert!(!Case::new().last_dosed("2026-11-07").decide().needs_review());
        assert!(Case::new().last_dosed("2026-11-06").decide().needs_review());
    }

    // --- attendance -------------------------------------------------------------------------

    #[test]
    fn each_day_has_one_attendance_status() {
        let orders = book(60);
        let today = d("2026-11-10");
        let excused = [DayRange { from: d("2026-11-03"), to: d("2026-11-03") }];
        assert_eq!(day_status(d("2026-11-01"), today, &orders, &[false], &excused, false), DayStatus::Dosed);
        assert_eq!(day_status(d("2026-11-02"), today, &orders, &[true], &excused, false), DayStatus::HomeVisit);
        assert_eq!(day_status(d("2026-11-03"), today, &orders, &[], &excused, false), DayStatus::Excused);
        assert_eq!(day_status(d("2026-11-04"), today, &orders, &[], &excused, true), DayStatus::Withheld);
        assert_eq!(day_status(d("2026-11-05"), today, &orders, &[], &excused, false), DayStatus::Missed);
        assert_eq!(day_status(d("2026-09-05"), today, &orders, &[], &excused, false), DayStatus::NoOrder);
        assert_eq!(day_status(today, today, &orders, &[], &excused, false), DayStatus::Due);
    }

    /// The day-by-day count that [`missed_run`] computes stretch by stretch.
    fn missed_days_one_by_one(
        date: NaiveDate,
        orders: &OrderBook,
        last_dose_day: Option<NaiveDate>,
        excused: &[DayRange],
    ) -> Option<u32> {
        let episode = orders.episode_on(date)?;
        let episode_start = episode.effective_from?;
        let (mut day, before_episode) = match last_dose_day.filter(|d| *d >= episode_start) {
            Some(last) => (last + Duration::days(1), false),
            None => match (episode.phase, episode.last_dose_on) {
                (Phase::Transfer, Some(last)) => (last + Duration::days(1), true),
                _ => (episode_start, false),
            },
        };
        let mut days = 0;
        while day < date {
            let had_order = orders.covers(day) || (before_episode && day < episode_start);
            if had_order && !excused.iter().any(|r| r.contains(day)) {
                days += 1;
            }
            day += Duration::days(1);
        }
        Some(days)
    }

    #[test]
    fn the_missed_run_counted_by_stretches_matches_counting_day_by_day() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        let base = d("2026-01-01");
        let day = |rng: &mut StdRng, span: i64| base + Duration::days(rng.gen_range(0..span));
        for case in 0..3000 {
            let mut orders = Vec::new();
            for n in 0..rng.gen_range(1..6) {
                let effective = day(&mut rng, 120);
                orders.push(Order {
                    id: format!("o{n}"),
                    daily: DeciMg::from_mg(40),
                    portions: None,
                    start_date: effective,
                    end_date: rng.gen_bool(0.3).then(|| effective + Duration::days(rng.gen_range(0..40))),
                    phase: if rng.gen_bool(0.2) { Phase::Transfer } else { Phase::Maintenance },
                    starts_episode: n == 0 || rng.gen_bool(0.2),
                    last_dose_on: rng.gen_bool(0.5).then(|| effective - Duration::days(rng.gen_range(1..10))),
                    effective_from: rng.gen_bool(0.9).then_some(effective),
                });
            }
            orders.sort_by_key(|o| o.effective_from);
            let book = OrderBook::new(orders);
            let excused: Vec<DayRange> = (0..rng.gen_range(0..4))
                .map(|_| {
                    let from = day(&mut rng, 150);
                    DayRange { from, to: from + Duration::days(rng.gen_range(0..12)) }
                })
                .collect();
            let last = rng.gen_bool(0.7).then(|| day(&mut rng, 150));
            let date = day(&mut rng, 170);
            assert_eq!(
                missed_run(date, &book, last, &excused).map(|r| r.days),
                missed_days_one_by_one(date, &book, last, &excused),
                "case {case}: {date} last {last:?} excused {excused:?} orders {book:?}"
            );
        }
    }

    #[test]
    fn a_run_of_years_costs_no_more_than_a_run_of_days() {
        // Ten thousand years of an order with no dose is counted exactly, at once.
        let orders = book(60);
        let run = missed_run(d("9999-12-31"), &orders, None, &[]).unwrap();
        assert_eq!(run.days as i64, (d("9999-12-31") - d("2026-10-01")).num_days());
    }
}
