//! Correcting a recorded dose (RULES.md, "Corrections"). Nothing is deleted or updated: a
//! dose of the current dose day is **reversed** (a second staff member confirms, and the
//! day is open again); a dose of an earlier day takes a **late correction** (a doctor who
//! did not request it confirms; the old day is never reopened for dosing, and what was
//! printed for it is shown struck through with an amendment line on reprint).

use crate::domain::codes::ErrorCode;
use chrono::NaiveDate;
use serde_json::json;

use super::RuleViolation;

/// Which correction a dose takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionKind {
    /// The dose's day is still open: reverse it.
    Reversal,
    /// The dose's day is over: only a late correction.
    LateCorrection,
}

/// Which correction a dose of `dose_day` takes on `today` — the one place that decides
/// the reversal window, for the request and for its confirmation alike.
///
/// Today the window is the current dose day. When the stock ledger's site day close exists,
/// a closed day will close the window too: add the day close as a parameter here and answer
/// `LateCorrection` for a closed day.
pub fn correction_kind(dose_day: NaiveDate, today: NaiveDate) -> CorrectionKind {
    if dose_day >= today {
        CorrectionKind::Reversal
    } else {
        CorrectionKind::LateCorrection
    }
}

/// A reversal (request or confirmation) of a dose of `dose_day`, on `today`.
pub fn check_reversal(dose_day: NaiveDate, today: NaiveDate) -> Result<(), RuleViolation> {
    match correction_kind(dose_day, today) {
        CorrectionKind::Reversal => Ok(()),
        CorrectionKind::LateCorrection => Err(RuleViolation::new(
            ErrorCode::ReversalWindowClosed,
            format!(
                "This dose was given on {dose_day}, an earlier dose day: a reversal is only for a dose of \
                 today. Request a late correction instead; a doctor who did not request it confirms it."
            ),
        )
        .with_details(json!({ "dose_day": dose_day, "today": today }))),
    }
}

/// A late-correction request for a dose of `dose_day`, on `today`.
pub fn check_late_correction(dose_day: NaiveDate, today: NaiveDate) -> Result<(), RuleViolation> {
    match correction_kind(dose_day, today) {
        CorrectionKind::LateCorrection => Ok(()),
        CorrectionKind::Reversal => Err(RuleViolation::new(
            ErrorCode::UseReversal,
            "This dose was given today: reverse it instead (a second staff member confirms).",
        )
        .with_details(json!({ "dose_day": dose_day, "today": today }))),
    }
}

/// A doctor confirming a late correction must not be the one who requested it. (Only
/// doctors confirm at all; the caller checks the role.)
pub fn check_late_correction_confirmer(requested_by: &str, confirmer: &str) -> Result<(), RuleViolation> {
    if requested_by == confirmer {
        Err(RuleViolation::new(
            ErrorCode::SecondDoctorRequired,
            "A late correction is confirmed by a doctor other than the one who requested it.",
        )
        .with_details(json!({ "subject": "late_correction" })))
    } else {
        Ok(())
    }
}

/// Where a reversal stands, as the dose history shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReversalStatus {
    /// Requested, and its confirmation still possible today.
    Pending,
    Confirmed,
    /// Requested but never confirmed while the window was open: it can no longer be
    /// confirmed, and the dose stands. A late correction is the way now.
    Expired,
}

impl ReversalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReversalStatus::Pending => "pending",
            ReversalStatus::Confirmed => "confirmed",
            ReversalStatus::Expired => "expired",
        }
    }
}

pub fn reversal_status(confirmed: bool, dose_day: NaiveDate, today: NaiveDate) -> ReversalStatus {
    match (confirmed, correction_kind(dose_day, today)) {
        (true, _) => ReversalStatus::Confirmed,
        (false, CorrectionKind::Reversal) => ReversalStatus::Pending,
        (false, CorrectionKind::LateCorrection) => ReversalStatus::Expired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn a_dose_of_today_is_reversed() {
        assert_eq!(correction_kind(day(10), day(10)), CorrectionKind::Reversal);
        assert!(check_reversal(day(10), day(10)).is_ok());
    }

    #[test]
    fn a_dose_of_yesterday_is_past_the_reversal_window() {
        assert_eq!(correction_kind(day(9), day(10)), CorrectionKind::LateCorrection);
        let refused = check_reversal(day(9), day(10)).unwrap_err();
        assert_eq!(refused.code.as_str(), "reversal_window_closed");
        assert!(refused.message.contains("late correction"), "{}", refused.message);
        assert_eq!(refused.details["dose_day"], "2026-11-09");
    }

    #[test]
    fn a_dose_86_days_old_is_past_the_reversal_window() {
        let today = day(10);
        let old = today - chrono::Duration::days(86);
        assert_eq!(check_reversal(old, today).unwrap_err().code.as_str(), "reversal_window_closed");
        assert!(check_late_correction(old, today).is_ok());
    }

    #[test]
    fn across_a_month_end_the_first_of_the_month_closes_the_last_day() {
        let last = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(check_reversal(last, last).is_ok());
        assert_eq!(check_reversal(last, first).unwrap_err().code.as_str(), "reversal_window_closed");
    }

    #[test]
    fn a_late_correction_is_for_an_earlier_day_only() {
        assert!(check_late_correction(day(9), day(10)).is_ok());
        let refused = check_late_correction(day(10), day(10)).unwrap_err();
        assert_eq!(refused.code.as_str(), "use_reversal");
    }

    #[test]
    fn every_dose_day_takes_exactly_one_kind_of_correction() {
        let today = day(15);
        for d in 1..=20 {
            let reversal = check_reversal(day(d), today).is_ok();
            let late = check_late_correction(day(d), today).is_ok();
            assert!(reversal != late, "day {d}: reversal {reversal}, late correction {late}");
        }
    }

    #[test]
    fn the_requester_cannot_confirm_their_own_late_correction() {
        let refused = check_late_correction_confirmer("dr-a", "dr-a").unwrap_err();
        assert_eq!(refused.code.as_str(), "second_doctor_required");
        assert_eq!(refused.details["subject"], "late_correction");
        assert!(check_late_correction_confirmer("nurse-a", "dr-b").is_ok());
    }

    #[test]
    fn an_unconfirmed_reversal_expires_with_its_day() {
        assert_eq!(reversal_status(false, day(10), day(10)), ReversalStatus::Pending);
        assert_eq!(reversal_status(true, day(10), day(10)), ReversalStatus::Confirmed);
        assert_eq!(reversal_status(false, day(9), day(10)), ReversalStatus::Expired);
        assert_eq!(reversal_status(true, day(9), day(10)), ReversalStatus::Confirmed);
        assert_eq!(ReversalStatus::Expired.as_str(), "expired");
    }
}
