// Every rule of the RuleSet in the order of docs/clinical-rules.md: its parameter, the
// unit of its value, and the code a refusal under it answers with (null: the rule opens an
// alert or lists a due test instead of refusing). The rules page words them from the
// string tables (rule_param.<key>, error.<code>).
export const RULE_GROUPS = [
  {
    key: "orders",
    rules: [
      { key: "ceiling_mg", unit: "mg", code: "dose_above_ceiling" },
      { key: "induction_max_portion_mg", unit: "mg", code: "induction_dose_exceeded" },
      { key: "induction_max_day_total_mg", unit: "mg", code: "induction_dose_exceeded" },
      { key: "max_increase_step_mg", unit: "mg", code: "dose_step_exceeded" },
      { key: "min_days_between_increases", unit: "days", code: "increase_too_soon" },
      { key: "early_episode_days", unit: "days", code: "dose_step_exceeded" },
      { key: "early_increase_window_days", unit: "days", code: "dose_step_exceeded" },
      { key: "early_increase_cap_mg", unit: "mg", code: "dose_step_exceeded" },
      { key: "high_dose_threshold_mg", unit: "mg", code: "second_doctor_required" },
      { key: "ecg_valid_days", unit: "days", code: "ecg_required" },
      { key: "qtc_block_ms", unit: "ms", code: "qtc_too_long" },
      { key: "qtc_warn_ms", unit: "ms", code: "qtc_prolonged" },
    ],
  },
  {
    key: "dispensing",
    rules: [
      { key: "split_min_interval_hours", unit: "hours", code: "split_interval_not_elapsed" },
      { key: "missed_days_review", unit: "days", code: "doctor_review_required" },
      { key: "missed_days_capped", unit: "days", code: "doctor_review_required" },
      { key: "missed_days_cap_mg", unit: "mg", code: "dose_exceeds_due" },
      { key: "missed_days_suspend", unit: "days", code: "reinduction_required" },
      { key: "missed_days_dropout", unit: "days", code: null },
    ],
  },
  {
    key: "tests",
    rules: [
      { key: "urine_test_interval_days", unit: "days", code: null },
      { key: "hair_test_interval_days_level1", unit: "days", code: null },
      { key: "hair_test_interval_days_level2_3", unit: "days", code: null },
    ],
  },
  {
    key: "rehab",
    rules: [
      { key: "rehab_case_years", unit: "years", code: null },
      { key: "rehab_report_grace_days", unit: "days", code: null },
      { key: "serious_breach_refusals", unit: "times", code: null },
    ],
  },
  {
    key: "stock",
    rules: [{ key: "day_close_tolerance_deci_ml", unit: "deci_ml", code: null }],
  },
];
