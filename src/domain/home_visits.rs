//! Home visits (RULES.md, "Home visits"): who may be visited, which days a schedule puts on
//! a site's run sheet, and where a visit stands from the steps recorded on it. Whether a
//! dose may leave for the patient is the dispensing decision itself
//! ([`super::dispensing::decide`]): the same function as the window.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::codes::ErrorCode;
use super::RuleViolation;

/// A doctor's authorization: valid from/to, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorization {
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

impl Authorization {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && day <= self.valid_to
    }
}

/// A recurring schedule: weekdays (1 = Monday … 7 = Sunday) in a date range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub weekdays: Vec<u8>,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Schedule {
    pub fn falls_on(&self, day: NaiveDate) -> bool {
        let weekday = day.weekday().number_from_monday() as u8;
        self.from <= day && self.to.is_none_or(|to| day <= to) && self.weekdays.contains(&weekday)
    }
}

/// Weekdays as sent (1..7, each once, at least one), sorted.
pub fn parse_weekdays(days: &[u8]) -> Result<Vec<u8>, &'static str> {
    if days.is_empty() {
        return Err("name at least one weekday (1 = Monday … 7 = Sunday)");
    }
    if days.iter().any(|d| !(1..=7).contains(d)) {
        return Err("weekdays are 1 (Monday) to 7 (Sunday)");
    }
    let mut v = days.to_vec();
    v.sort_unstable();
    v.dedup();
    if v.len() != days.len() {
        return Err("each weekday once");
    }
    Ok(v)
}

/// Weekdays as stored: "1,3,5".
pub fn weekdays_text(days: &[u8]) -> String {
    days.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

pub fn weekdays_from_text(text: &str) -> Vec<u8> {
    text.split(',').filter_map(|d| d.trim().parse().ok()).collect()
}

/// A schedule may be made only while an authorization covers its first day, and not beyond
/// the authorization's end.
pub fn check_schedulable(auths: &[Authorization], from: NaiveDate, to: Option<NaiveDate>) -> Result<(), RuleViolation> {
    let Some(auth) = auths.iter().filter(|a| a.covers(from)).max_by_key(|a| a.valid_to) else {
        return Err(RuleViolation::new(
            ErrorCode::HomeVisitNotAuthorized,
            format!(
                "No home-visit authorization covers {from}. A doctor must authorize home visits for this patient \
                 (reason, valid from/to) first."
            ),
        ));
    };
    if to.is_some_and(|to| to > auth.valid_to) {
        return Err(RuleViolation::new(
            ErrorCode::HomeVisitNotAuthorized,
            format!(
                "The authorization ends on {}; schedule visits up to that day, or ask a doctor to extend it.",
                auth.valid_to
            ),
        ));
    }
    Ok(())
}

/// Is a planned visit due on `day`: a schedule falls on it and an authorization covers it.
pub fn visit_due(schedule: &Schedule, auths: &[Authorization], day: NaiveDate) -> bool {
    schedule.falls_on(day) && auths.iter().any(|a| a.covers(day))
}

crate::named_enum! {
    /// A step recorded on a visit; each at most once (the database's key).
    pub enum Step {
        Checkout = "checkout",
        CheckoutConfirm = "checkout_confirm",
        Arrive = "arrive",
        Outcome = "outcome",
        Return = "return",
        ReturnConfirm = "return_confirm",
    }
}

crate::named_enum! {
    pub enum Outcome {
        Delivered = "delivered",
        NotHome = "not_home",
        Refused = "refused",
    }
}

crate::named_enum! {
    /// Where a visit stands (API.md's run sheet states).
    pub enum VisitState {
        Planned = "planned",
        CheckedOut = "checked_out",
        Delivered = "delivered",
        NotHome = "not_home",
        Refused = "refused",
        Returned = "returned",
    }
}

/// What a visit's recorded steps say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VisitFacts {
    pub checkout: bool,
    pub checkout_confirmed: bool,
    pub arrived: bool,
    pub outcome: Option<Outcome>,
    pub return_requested: bool,
    pub return_confirmed: bool,
}

impl VisitFacts {
    pub fn of(steps: &[(Step, Option<Outcome>)]) -> VisitFacts {
        let has = |s: Step| steps.iter().any(|(x, _)| *x == s);
        VisitFacts {
            checkout: has(Step::Checkout),
            checkout_confirmed: has(Step::CheckoutConfirm),
            arrived: has(Step::Arrive),
            outcome: steps.iter().find(|(s, _)| *s == Step::Outcome).and_then(|(_, o)| *o),
            return_requested: has(Step::Return),
            return_confirmed: has(Step::ReturnConfirm),
        }
    }

    pub fn state(&self) -> VisitState {
        match (self.checkout_confirmed, self.outcome, self.return_confirmed) {
            (_, _, true) => VisitState::Returned,
            (_, Some(Outcome::Delivered), _) => VisitState::Delivered,
            (_, Some(Outcome::NotHome), _) => VisitState::NotHome,
            (_, Some(Outcome::Refused), _) => VisitState::Refused,
            (true, None, _) => VisitState::CheckedOut,
            (false, None, _) => VisitState::Planned,
        }
    }

    /// The step awaiting a second nurse, if any.
    pub fn awaiting_confirmation(&self) -> Option<Step> {
        if self.checkout && !self.checkout_confirmed {
            Some(Step::Checkout)
        } else if self.return_requested && !self.return_confirmed {
            Some(Step::Return)
        } else {
            None
        }
    }

    /// A dose left the site and neither reached the patient nor came back: it blocks the
    /// site's day close.
    pub fn dose_outstanding(&self) -> bool {
        self.checkout_confirmed && self.outcome != Some(Outcome::Delivered) && !self.return_confirmed
    }

    /// Whether `step` may be recorded now; the refusal says what to do instead.
    pub fn check_step(&self, step: Step) -> Result<(), RuleViolation> {
        let refuse = |msg: &str| Err(RuleViolation::new(ErrorCode::HomeVisitWrongState, msg.to_string()));
        match step {
            Step::Checkout if self.checkout => {
                refuse("The dose for this visit is already checked out (or awaiting confirmation).")
            }
            Step::Checkout => Ok(()),
            Step::CheckoutConfirm if !self.checkout => {
                refuse("No check-out to confirm: a nurse checks the dose out first.")
            }
            Step::CheckoutConfirm if self.checkout_confirmed => {
                Err(RuleViolation::new(ErrorCode::AlreadyConfirmed, "This check-out is already confirmed."))
            }
            Step::CheckoutConfirm => Ok(()),
            Step::Arrive | Step::Outcome if !self.checkout_confirmed => {
                refuse("The dose has not left the site: check it out and have a second nurse confirm first.")
            }
            Step::Arrive if self.arrived => refuse("The arrival is already recorded."),
            Step::Arrive | Step::Outcome if self.outcome.is_some() => {
                refuse("The visit's outcome is already recorded; it cannot be changed.")
            }
            Step::Arrive | Step::Outcome => Ok(()),
            Step::Return => match self.outcome {
                None | Some(Outcome::Delivered) => {
                    refuse("Only a dose that was not delivered (not home, refused) is returned to stock.")
                }
                Some(_) if self.return_requested => {
                    refuse("The return is already recorded (or awaiting confirmation).")
                }
                Some(_) => Ok(()),
            },
            Step::ReturnConfirm if !self.return_requested => {
                refuse("No return to confirm: a nurse records the return first.")
            }
            Step::ReturnConfirm if self.return_confirmed => {
                Err(RuleViolation::new(ErrorCode::AlreadyConfirmed, "This return is already confirmed."))
            }
            Step::ReturnConfirm => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(steps: &[Step], outcome: Option<Outcome>) -> VisitFacts {
        let v: Vec<(Step, Option<Outcome>)> =
            steps.iter().map(|s| (*s, if *s == Step::Outcome { outcome } else { None })).collect();
        VisitFacts::of(&v)
    }

    use Step::{Arrive, Checkout, CheckoutConfirm, Return, ReturnConfirm};
    const OUT: Step = Step::Outcome;

    #[test]
    fn the_visit_states_along_the_way() {
        type Row<'a> = (&'a [Step], Option<Outcome>, VisitState, Option<Step>, bool);
        let rows: &[Row<'_>] = &[
            (&[], None, VisitState::Planned, None, false),
            (&[Checkout], None, VisitState::Planned, Some(Checkout), false),
            (&[Checkout, CheckoutConfirm], None, VisitState::CheckedOut, None, true),
            (&[Checkout, CheckoutConfirm, Arrive], None, VisitState::CheckedOut, None, true),
            (&[Checkout, CheckoutConfirm, OUT], Some(Outcome::Delivered), VisitState::Delivered, None, false),
            (&[Checkout, CheckoutConfirm, OUT], Some(Outcome::NotHome), VisitState::NotHome, None, true),
            (&[Checkout, CheckoutConfirm, OUT], Some(Outcome::Refused), VisitState::Refused, None, true),
            (
                &[Checkout, CheckoutConfirm, OUT, Return],
                Some(Outcome::Refused),
                VisitState::Refused,
                Some(Return),
                true,
            ),
            (
                &[Checkout, CheckoutConfirm, OUT, Return, ReturnConfirm],
                Some(Outcome::NotHome),
                VisitState::Returned,
                None,
                false,
            ),
        ];
        for (steps, outcome, state, awaiting, outstanding) in rows {
            let f = facts(steps, *outcome);
            assert_eq!(f.state(), *state, "{steps:?}");
            assert_eq!(f.awaiting_confirmation(), *awaiting, "{steps:?}");
            assert_eq!(f.dose_outstanding(), *outstanding, "{steps:?}");
        }
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        let planned = facts(&[], None);
        assert!(planned.check_step(Checkout).is_ok());
        for s in [CheckoutConfirm, Arrive, OUT, Return, ReturnConfirm] {
            assert_eq!(planned.check_step(s).unwrap_err().code, ErrorCode::HomeVisitWrongState, "{s:?}");
        }
        let pending = facts(&[Checkout], None);
        assert!(pending.check_step(CheckoutConfirm).is_ok());
        assert!(pending.check_step(OUT).is_err(), "not before a second nurse confirms");
        let out = facts(&[Checkout, CheckoutConfirm], None);
        assert_eq!(out.check_step(CheckoutConfirm).unwrap_err().code, ErrorCode::AlreadyConfirmed);
        assert!(out.check_step(Arrive).is_ok());
        assert!(out.check_step(OUT).is_ok());
        assert!(out.check_step(Return).is_err(), "a return follows an outcome");
        let delivered = facts(&[Checkout, CheckoutConfirm, OUT], Some(Outcome::Delivered));
        assert!(delivered.check_step(Return).is_err(), "a delivered dose does not come back");
        assert!(delivered.check_step(OUT).is_err(), "an outcome is never changed");
        let not_home = facts(&[Checkout, CheckoutConfirm, OUT], Some(Outcome::NotHome));
        assert!(not_home.check_step(Return).is_ok());
        assert!(not_home.check_step(ReturnConfirm).is_err());
        let returning = facts(&[Checkout, CheckoutConfirm, OUT, Return], Some(Outcome::NotHome));
        assert!(returning.check_step(ReturnConfirm).is_ok());
    }

    #[test]
    fn a_schedule_falls_on_its_weekdays_in_its_range() {
        // 2026-11-09 is a Monday.
        let s = Schedule { weekdays: vec![1, 3, 5], from: d("2026-11-09"), to: Some(d("2026-11-20")) };
        assert!(s.falls_on(d("2026-11-09")));
        assert!(!s.falls_on(d("2026-11-10")));
        assert!(s.falls_on(d("2026-11-11")));
        assert!(s.falls_on(d("2026-11-20")));
        assert!(!s.falls_on(d("2026-11-23")), "after the range");
        assert!(!s.falls_on(d("2026-11-06")), "before the range");
        let open = Schedule { weekdays: vec![7], from: d("2026-11-09"), to: None };
        assert!(open.falls_on(d("2027-11-07")));
    }

    #[test]
    fn only_an_authorized_patient_is_scheduled_and_visited() {
        let auths = [Authorization { valid_from: d("2026-11-01"), valid_to: d("2026-11-30") }];
        assert!(check_schedulable(&auths, d("2026-11-10"), None).is_ok());
        assert!(check_schedulable(&auths, d("2026-11-10"), Some(d("2026-11-30"))).is_ok());
        assert_eq!(
            check_schedulable(&auths, d("2026-11-10"), Some(d("2026-12-01"))).unwrap_err().code,
            ErrorCode::HomeVisitNotAuthorized
        );
        assert_eq!(
            check_schedulable(&auths, d("2026-12-01"), None).unwrap_err().code,
            ErrorCode::HomeVisitNotAuthorized
        );
        assert_eq!(check_schedulable(&[], d("2026-11-10"), None).unwrap_err().code, ErrorCode::HomeVisitNotAuthorized);
        let s = Schedule { weekdays: vec![1, 2, 3, 4, 5, 6, 7], from: d("2026-11-01"), to: None };
        assert!(visit_due(&s, &auths, d("2026-11-30")));
        assert!(!visit_due(&s, &auths, d("2026-12-01")), "no visit once the authorization ends");
    }

    #[test]
    fn weekdays_are_checked_and_stored_as_text() {
        assert_eq!(parse_weekdays(&[5, 1, 3]), Ok(vec![1, 3, 5]));
        assert!(parse_weekdays(&[]).is_err());
        assert!(parse_weekdays(&[0]).is_err());
        assert!(parse_weekdays(&[8]).is_err());
        assert!(parse_weekdays(&[1, 1]).is_err());
        assert_eq!(weekdays_text(&[1, 3, 5]), "1,3,5");
        assert_eq!(weekdays_from_text("1,3,5"), vec![1, 3, 5]);
    }
}
