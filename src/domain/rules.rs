//! The RuleSet: every number of RULES.md in one place. A clinic may override values in a
//! TOML file (`MMT_RULES`) but only to make them stricter: a laxer value is refused at
//! start-up, because these are patient-safety limits.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSet {
    // Dose orders
    /// Hard ceiling of a daily total, mg; no override.
    pub ceiling_mg: u32,
    /// Day one of an episode: the largest single portion, mg.
    pub induction_max_portion_mg: u32,
    /// Day one of an episode: the largest day total without an override reason, mg.
    pub induction_max_day_total_mg: u32,
    /// The largest increase of a daily total against the order it replaces, mg.
    pub max_increase_step_mg: u32,
    /// Days between the effective days of two increases, at least.
    pub min_days_between_increases: u32,
    /// The early part of an episode, in days, in which weekly increases are capped.
    pub early_episode_days: u32,
    /// In the early part of an episode: the sum of increases within the window, mg.
    pub early_increase_cap_mg: u32,
    /// The window for the early-episode cap, in days (ending on the new effective day).
    pub early_increase_window_days: u32,
    /// Daily totals above this need a second doctor and a recent ECG, mg.
    pub high_dose_threshold_mg: u32,
    /// How old the ECG may be for a high dose, in days.
    pub ecg_valid_days: u32,
    /// QTc at or above which any increase is blocked (without override), ms.
    pub qtc_block_ms: u32,
    /// QTc at or above which an order carries a warning, ms.
    pub qtc_warn_ms: u32,

    // Dispensing
    /// Hours between the two portions of a split order, at least.
    pub split_min_interval_hours: u32,
    /// Consecutive missed days from which a doctor's review is needed (half dose).
    pub missed_days_review: u32,
    /// Consecutive missed days from which the due dose is also capped.
    pub missed_days_capped: u32,
    /// The cap at `missed_days_capped`, mg.
    pub missed_days_cap_mg: u32,
    /// Consecutive missed days from which the order is suspended (re-induction).
    pub missed_days_suspend: u32,
    /// Consecutive missed days from which the patient has dropped out (脱失).
    pub missed_days_dropout: u32,

    // Tests
    /// Days between urine morphine tests, at most.
    pub urine_test_interval_days: u32,
    /// Days between hair tests for risk level 1, at most.
    pub hair_test_interval_days_level1: u32,
    /// Days between hair tests for risk levels 2 and 3, at most.
    pub hair_test_interval_days_level2_3: u32,

    // Community detox / rehab
    /// Length of a rehab case from its report date, in years.
    pub rehab_case_years: u32,
    /// Days after the decision date by which the person must report.
    pub rehab_report_grace_days: u32,
    /// Test refusals or evasions within a case that make a serious breach.
    pub serious_breach_refusals: u32,

    // Stock
    /// Day-close gap above which an incident note is required, in tenths of a mL.
    pub day_close_tolerance_deci_ml: u32,
}

impl Default for RuleSet {
    fn default() -> Self {
        Self {
            ceiling_mg: 200,
            induction_max_portion_mg: 30,
            induction_max_day_total_mg: 40,
            max_increase_step_mg: 10,
            min_days_between_increases: 3,
            early_episode_days: 14,
            early_increase_cap_mg: 30,
            early_increase_window_days: 7,
            high_dose_threshold_mg: 100,
            ecg_valid_days: 365,
            qtc_block_ms: 500,
            qtc_warn_ms: 450,
            split_min_interval_hours: 6,
            missed_days_review: 3,
            missed_days_capped: 4,
            missed_days_cap_mg: 40,
            missed_days_suspend: 5,
            missed_days_dropout: 7,
            urine_test_interval_days: 30,
            hair_test_interval_days_level1: 90,
            hair_test_interval_days_level2_3: 180,
            rehab_case_years: 3,
            rehab_report_grace_days: 15,
            serious_breach_refusals: 3,
            day_close_tolerance_deci_ml: 10,
        }
    }
}

/// Which way "stricter" points for a value.
#[derive(Clone, Copy)]
enum Stricter {
    Lower,
    Higher,
}

impl RuleSet {
    fn limits(&self) -> [(&'static str, u32, Stricter); 25] {
        use Stricter::*;
        [
            ("ceiling_mg", self.ceiling_mg, Lower),
            ("induction_max_portion_mg", self.induction_max_portion_mg, Lower),
            ("induction_max_day_total_mg", self.induction_max_day_total_mg, Lower),
            ("max_increase_step_mg", self.max_increase_step_mg, Lower),
            ("min_days_between_increases", self.min_days_between_increases, Higher),
            ("early_episode_days", self.early_episode_days, Higher),
            ("early_increase_cap_mg", self.early_increase_cap_mg, Lower),
            ("early_increase_window_days", self.early_increase_window_days, Higher),
            ("high_dose_threshold_mg", self.high_dose_threshold_mg, Lower),
            ("ecg_valid_days", self.ecg_valid_days, Lower),
            ("qtc_block_ms", self.qtc_block_ms, Lower),
            ("qtc_warn_ms", self.qtc_warn_ms, Lower),
            ("split_min_interval_hours", self.split_min_interval_hours, Higher),
            ("missed_days_review", self.missed_days_review, Lower),
            ("missed_days_capped", self.missed_days_capped, Lower),
            ("missed_days_cap_mg", self.missed_days_cap_mg, Lower),
            ("missed_days_suspend", self.missed_days_suspend, Lower),
            ("missed_days_dropout", self.missed_days_dropout, Lower),
            ("urine_test_interval_days", self.urine_test_interval_days, Lower),
            ("hair_test_interval_days_level1", self.hair_test_interval_days_level1, Lower),
            ("hair_test_interval_days_level2_3", self.hair_test_interval_days_level2_3, Lower),
            ("rehab_case_years", self.rehab_case_years, Higher),
            ("rehab_report_grace_days", self.rehab_report_grace_days, Lower),
            ("serious_breach_refusals", self.serious_breach_refusals, Lower),
            ("day_close_tolerance_deci_ml", self.day_close_tolerance_deci_ml, Lower),
        ]
    }

    /// Parses a TOML override file and checks it.
    pub fn from_toml(text: &str) -> Result<RuleSet, String> {
        let rules: RuleSet = toml::from_str(text).map_err(|e| e.message().to_string())?;
        rules.validate()?;
        Ok(rules)
    }

    /// Every value must be at least as strict as the default, and the values must make
    /// sense together.
    pub fn validate(&self) -> Result<(), String> {
        let defaults = RuleSet::default().limits();
        let mut problems = Vec::new();
        for ((name, value, direction), (_, default, _)) in self.limits().into_iter().zip(defaults) {
            let laxer = match direction {
                Stricter::Lower => value > default,
                Stricter::Higher => value < default,
            };
            if laxer {
                let bound = match direction {
                    Stricter::Lower => "at most",
                    Stricter::Higher => "at least",
                };
                problems.push(format!("{name} = {value} is laxer than the default; it must be {bound} {default}"));
            }
            if value == 0 && !matches!(name, "day_close_tolerance_deci_ml") {
                problems.push(format!("{name} must be greater than 0"));
            }
        }
        if self.qtc_warn_ms > self.qtc_block_ms {
            problems.push("qtc_warn_ms must not exceed qtc_block_ms".into());
        }
        if !(self.missed_days_review <= self.missed_days_capped
            && self.missed_days_capped <= self.missed_days_suspend
            && self.missed_days_suspend <= self.missed_days_dropout)
        {
            problems.push("missed-day thresholds must rise: review <= capped <= suspend <= dropout".into());
        }
        if self.induction_max_portion_mg > self.induction_max_day_total_mg {
            problems.push("induction_max_portion_mg must not exceed induction_max_day_total_mg".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_numbers_of_rules_md() {
        let r = RuleSet::default();
        assert_eq!(r.ceiling_mg, 200);
        assert_eq!((r.induction_max_portion_mg, r.induction_max_day_total_mg), (30, 40));
        assert_eq!((r.max_increase_step_mg, r.min_days_between_increases), (10, 3));
        assert_eq!((r.early_episode_days, r.early_increase_cap_mg, r.early_increase_window_days), (14, 30, 7));
        assert_eq!((r.high_dose_threshold_mg, r.ecg_valid_days), (100, 365));
        assert_eq!((r.qtc_warn_ms, r.qtc_block_ms), (450, 500));
        assert_eq!(r.split_min_interval_hours, 6);
        assert_eq!(
            (
                r.missed_days_review,
                r.missed_days_capped,
                r.missed_days_cap_mg,
                r.missed_days_suspend,
                r.missed_days_dropout
            ),
            (3, 4, 40, 5, 7)
        );
        assert_eq!(
            (r.urine_test_interval_days, r.hair_test_interval_days_level1, r.hair_test_interval_days_level2_3),
            (30, 90, 180)
        );
        assert_eq!((r.rehab_case_years, r.rehab_report_grace_days, r.serious_breach_refusals), (3, 15, 3));
        assert_eq!(r.day_close_tolerance_deci_ml, 10);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn a_stricter_override_is_accepted() {
        let r = RuleSet::from_toml("ceiling_mg = 150\nmin_days_between_increases = 5\n").unwrap();
        assert_eq!(r.ceiling_mg, 150);
        assert_eq!(r.min_days_between_increases, 5);
        assert_eq!(r.induction_max_portion_mg, 30, "unset values keep their defaults");
    }

    #[test]
    fn a_laxer_override_is_refused_with_its_name() {
        let err = RuleSet::from_toml("ceiling_mg = 250\n").unwrap_err();
        assert!(err.contains("ceiling_mg = 250"), "{err}");
        let err = RuleSet::from_toml("min_days_between_increases = 2\n").unwrap_err();
        assert!(err.contains("at least 3"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = RuleSet::from_toml("ceilling_mg = 150\n").unwrap_err();
        assert!(err.contains("ceilling_mg"), "{err}");
    }

    #[test]
    fn inconsistent_thresholds_are_refused() {
        let err = RuleSet::from_toml("missed_days_suspend = 3\nmissed_days_review = 3\nmissed_days_capped = 4\n")
            .unwrap_err();
        assert!(err.contains("must rise"), "{err}");
    }
}
