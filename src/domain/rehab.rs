//! Community detox / rehab (社区戒毒 / 社区康复), RULES.md: a case's timeline (report, end
//! date, overdue report, breaches, detention) and what a rehab worker may see.

use chrono::{Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// 社区戒毒
    CommunityDetox,
    /// 社区康复
    CommunityRehab,
}

impl CaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::CommunityDetox => "community_detox",
            CaseKind::CommunityRehab => "community_rehab",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            CaseKind::CommunityDetox => "社区戒毒",
            CaseKind::CommunityRehab => "社区康复",
        }
    }

    /// The API name or the Chinese name (the rehab system's export uses the latter).
    pub fn parse(s: &str) -> Option<CaseKind> {
        [CaseKind::CommunityDetox, CaseKind::CommunityRehab].into_iter().find(|k| k.as_str() == s || k.zh() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseEventKind {
    /// The person reported (报到) to the township office.
    Reported,
    /// Evaded supervision or a test; counts like a refusal.
    Evasion,
    /// Detained (e.g. compulsory isolation): the case is suspended.
    Detention,
    /// Released: the case runs again.
    Release,
}

impl CaseEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseEventKind::Reported => "reported",
            CaseEventKind::Evasion => "evasion",
            CaseEventKind::Detention => "detention",
            CaseEventKind::Release => "release",
        }
    }

    pub fn parse(s: &str) -> Option<CaseEventKind> {
        [CaseEventKind::Reported, CaseEventKind::Evasion, CaseEventKind::Detention, CaseEventKind::Release]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    pub kind: CaseEventKind,
    pub date: NaiveDate,
}

/// A case as recorded: its facts and events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub id: String,
    pub kind: CaseKind,
    pub township: String,
    pub decision_date: NaiveDate,
    /// The report date given when the case was created, if any.
    pub reported_on: Option<NaiveDate>,
    pub events: Vec<CaseEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Decided, not yet reported, still within the grace period.
    AwaitingReport,
    /// Not reported by decision date + grace days.
    ReportOverdue,
    Active,
    /// Detained: nothing is expected of the person until release.
    Suspended,
    /// Past its end date.
    Ended,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::AwaitingReport => "awaiting_report",
            CaseStatus::ReportOverdue => "report_overdue",
            CaseStatus::Active => "active",
            CaseStatus::Suspended => "suspended",
            CaseStatus::Ended => "ended",
        }
    }

    /// A worker follows the person (and so may see the patient) until the case ends.
    pub fn is_open(self) -> bool {
        self != CaseStatus::Ended
    }
}

/// Where a case stands on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    pub status: CaseStatus,
    pub reported_on: Option<NaiveDate>,
    /// Exactly `rehab_case_years` after the report date.
    pub ends_on: Option<NaiveDate>,
    /// The last day to report without being overdue.
    pub report_due_by: NaiveDate,
    /// The report was (or still is) overdue; treated as a refusal.
    pub report_was_overdue: bool,
    /// Test refusals, evasions and an overdue report within the case.
    pub refusals: u32,
}

/// The end date of a case reported on `reported_on`: the same calendar day `years` later
/// (29 February → 28 February).
pub fn ends_on(reported_on: NaiveDate, years: u32) -> NaiveDate {
    reported_on.checked_add_months(Months::new(years * 12)).unwrap_or(NaiveDate::MAX)
}

/// The case on `today`, given the days on which the person refused a test.
pub fn case_state(case: &CaseFacts, test_refusals: &[NaiveDate], today: NaiveDate, rules: &RuleSet) -> CaseState {
    let reported_on = case
        .reported_on
        .or_else(|| case.events.iter().filter(|e| e.kind == CaseEventKind::Reported).map(|e| e.date).min());
    let report_due_by = case.decision_date + Duration::days(i64::from(rules.rehab_report_grace_days));
    let ends = reported_on.map(|r| ends_on(r, rules.rehab_case_years));
    let report_was_overdue = match reported_on {
        Some(r) => r > report_due_by,
        None => today > report_due_by,
    };
    let within = |day: NaiveDate| day >= case.decision_date && ends.is_none_or(|e| day < e) && day <= today;
    let evasions = case.events.iter().filter(|e| e.kind == CaseEventKind::Evasion && within(e.date)).count();
    let refused = test_refusals.iter().filter(|d| within(**d)).count();
    let refusals = (evasions + refused + usize::from(report_was_overdue)) as u32;

    let detained = case
        .events
        .iter()
        .filter(|e| matches!(e.kind, CaseEventKind::Detention | CaseEventKind::Release) && e.date <= today)
        .max_by_key(|e| (e.date, e.kind == CaseEventKind::Release))
        .is_some_and(|e| e.kind == CaseEventKind::Detention);
    let status = if ends.is_some_and(|e| today >= e) {
        CaseStatus::Ended
    } else if detained {
        CaseStatus::Suspended
    } else if reported_on.is_some_and(|r| r <= today) {
        CaseStatus::Active
    } else if today > report_due_by {
        CaseStatus::ReportOverdue
    } else {
        CaseStatus::AwaitingReport
    };
    CaseState { status, reported_on, ends_on: ends, report_due_by, report_was_overdue, refusals }
}

crate::named_enum! {
    /// The kind of [`Basis`], as a disclosure records it (its case, if any, beside it).
    pub enum BasisKind {
        RehabCase = "rehab_case",
        Consent = "consent",
    }
}

/// Why a rehab worker may see a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// An open case in one of the worker's townships.
    Case(String),
    /// The patient lives in one of the worker's townships and consented to sharing.
    Consent,
}

impl Basis {
    pub fn kind(&self) -> BasisKind {
        match self {
            Basis::Case(_) => BasisKind::RehabCase,
            Basis::Consent => BasisKind::Consent,
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }

    pub fn case_id(&self) -> Option<&str> {
        match self {
            Basis::Case(id) => Some(id),
            Basis::Consent => None,
        }
    }
}

/// Whether a rehab worker of `townships` may see a patient, and on what basis: an open case
/// in one of their townships comes first, then consent within their townships.
pub fn worker_basis<'a>(
    townships: &[String],
    patient_township: &str,
    consent_to_share: bool,
    cases: impl IntoIterator<Item = (&'a CaseFacts, &'a CaseState)>,
) -> Option<Basis> {
    cases
        .into_iter()
        .find(|(facts, state)| state.status.is_open() && townships.contains(&facts.township))
        .map(|(facts, _)| Basis::Case(facts.id.clone()))
        .or_else(|| (consent_to_share && townships.iter().any(|t| t == patient_township)).then_some(Basis::Consent))
}

/// One row of the rehab system's case export, as read from CSV (columns documented in the
/// README): checked for form here; whether the patient and worker exist is the service's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CaseCsvRow {
    pub case_ref: String,
    pub id_number: String,
    pub kind: String,
    pub decision_date: String,
    #[serde(default)]
    pub reported_on: String,
    pub township: String,
    pub worker_username: String,
}

/// A CSV row's fields, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCaseRow {
    pub case_ref: String,
    pub id_number: String,
    pub kind: CaseKind,
    pub decision_date: NaiveDate,
    pub reported_on: Option<NaiveDate>,
    pub township: String,
    pub worker_username: String,
}

/// What is wrong with one row (`row` counts from 1 for the first data row after the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    pub fn new(row: usize, field: &str, message: impl Into<String>) -> Self {
        Self { row, field: field.into(), message: message.into() }
    }
}

fn parse_date(value: &str) -> Option<NaiveDate> {
    super::dates::parse_iso_date(value.trim())
}

/// How far back a case's decision may lie: a case runs three years from its report, so
/// one decided more than ten years ago is a typing error.
pub const CASE_DECISION_MAX_AGE_DAYS: i64 = 3653;

/// What is wrong with a case's dates, as (field, problem): neither date may lie in the
/// future, the decision not more than ten years back, and the report cannot come before
/// the decision.
pub fn case_date_problems(
    decision: NaiveDate,
    reported: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<(&'static str, &'static str)> {
    let mut problems = Vec::new();
    if decision > today {
        problems.push(("decision_date", "is in the future"));
    } else if decision < today - chrono::Duration::days(CASE_DECISION_MAX_AGE_DAYS) {
        problems.push(("decision_date", "is more than ten years ago"));
    }
    match reported {
        Some(r) if r < decision => problems.push(("reported_on", "is before the decision date")),
        Some(r) if r > today => problems.push(("reported_on", "is in the future")),
        _ => {}
    }
    problems
}

/// Checks one row's form: every problem of the row, not only the first.
pub fn parse_case_row(row: usize, raw: &CaseCsvRow, today: NaiveDate) -> Result<ParsedCaseRow, Vec<RowError>> {
    let mut errors = Vec::new();
    let text = |field: &str, value: &str, max: usize, errors: &mut Vec<RowError>| -> String {
        let v = value.trim();
        if v.is_empty() {
            errors.push(RowError::new(row, field, "is empty"));
        } else if v.chars().count() > max || v.chars().any(char::is_control) {
            errors.push(RowError::new(row, field, format!("must be at most {max} characters of text")));
        }
        v.to_string()
    };
    let case_ref = text("case_ref", &raw.case_ref, 40, &mut errors);
    let id_number = text("id_number", &raw.id_number, 18, &mut errors).to_uppercase();
    let township = text("township", &raw.township, 40, &mut errors);
    let worker_username = text("worker_username", &raw.worker_username, 64, &mut errors);
    let kind = CaseKind::parse(raw.kind.trim());
    if kind.is_none() {
        errors.push(RowError::new(row, "kind", "must be community_detox (社区戒毒) or community_rehab (社区康复)"));
    }
    let decision_date = parse_date(&raw.decision_date);
    if decision_date.is_none() {
        errors.push(RowError::new(row, "decision_date", "must be a date YYYY-MM-DD"));
    }
    let reported_on = match raw.reported_on.trim() {
        "" => None,
        v => {
            let parsed = parse_date(v);
            if parsed.is_none() {
                errors.push(RowError::new(row, "reported_on", "must be a date YYYY-MM-DD or empty"));
            }
            parsed
        }
    };
    if let Some(decision) = decision_date {
        for (field, problem) in case_date_problems(decision, reported_on, today) {
            errors.push(RowError::new(row, field, problem));
        }
    }
    match (errors.is_empty(), kind, decision_date) {
        (true, Some(kind), Some(decision_date)) => {
            Ok(ParsedCaseRow { case_ref, id_number, kind, decision_date, reported_on, township, worker_username })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn case(decision: &str, reported: Option<&str>, events: &[(CaseEventKind, &str)]) -> CaseFacts {
        CaseFacts {
            id: "case-1".into(),
            kind: CaseKind::CommunityDetox,
            township: "柳市镇".into(),
            decision_date: d(decision),
            reported_on: reported.map(d),
            events: events.iter().map(|(k, day)| CaseEvent { kind: *k, date: d(day) }).collect(),
        }
    }

    fn state(c: &CaseFacts, refusals: &[&str], today: &str) -> CaseState {
        let refused: Vec<NaiveDate> = refusals.iter().map(|s| d(s)).collect();
        case_state(c, &refused, d(today), &RuleSet::default())
    }

    #[test]
    fn a_case_ends_exactly_three_years_after_the_report_date() {
        assert_eq!(ends_on(d("2026-03-10"), 3), d("2029-03-10"));
        assert_eq!(ends_on(d("2028-02-29"), 3), d("2031-02-28"));
        let c = case("2026-03-01", Some("2026-03-10"), &[]);
        assert_eq!(state(&c, &[], "2029-03-09").status, CaseStatus::Active);
        let s = state(&c, &[], "2029-03-10");
        assert_eq!(s.ends_on, Some(d("2029-03-10")));
        assert_eq!(s.status, CaseStatus::Ended);
    }

    #[test]
    fn the_report_is_overdue_from_the_day_after_decision_plus_15_days() {
        let c = case("2026-03-01", None, &[]);
        let on_16th = state(&c, &[], "2026-03-16");
        assert_eq!(on_16th.report_due_by, d("2026-03-16"));
        assert_eq!(on_16th.status, CaseStatus::AwaitingReport);
        assert!(!on_16th.report_was_overdue);
        let on_17th = state(&c, &[], "2026-03-17");
        assert_eq!(on_17th.status, CaseStatus::ReportOverdue);
        assert!(on_17th.report_was_overdue);
        assert_eq!(on_17th.refusals, 1, "an overdue report is treated as a refusal");
    }

    #[test]
    fn a_late_report_activates_the_case_but_stays_a_refusal() {
        let c = case("2026-03-01", None, &[(CaseEventKind::Reported, "2026-03-20")]);
        let s = state(&c, &[], "2026-04-01");
        assert_eq!(s.status, CaseStatus::Active);
        assert_eq!(s.reported_on, Some(d("2026-03-20")));
        assert_eq!(s.ends_on, Some(d("2029-03-20")));
        assert!(s.report_was_overdue);
        assert_eq!(s.refusals, 1);
        let on_time = case("2026-03-01", None, &[(CaseEventKind::Reported, "2026-03-16")]);
        assert_eq!(state(&on_time, &[], "2026-04-01").refusals, 0);
    }

    #[test]
    fn refusals_and_evasions_within_the_case_count_towards_a_breach() {
        let c = case("2026-03-01", Some("2026-03-02"), &[(CaseEventKind::Evasion, "2026-05-01")]);
        let s = state(&c, &["2026-02-01", "2026-04-01", "2026-06-01"], "2026-07-01");
        assert_eq!(s.refusals, 3, "the refusal before the decision does not count");
        assert_eq!(state(&c, &["2026-04-01"], "2026-07-01").refusals, 2);
        assert_eq!(state(&c, &["2026-08-01"], "2026-07-01").refusals, 1, "nothing after today");
    }

    #[test]
    fn detention_suspends_the_case_and_release_resumes_it() {
        let c = case(
            "2026-03-01",
            Some("2026-03-02"),
            &[(CaseEventKind::Detention, "2026-05-01"), (CaseEventKind::Release, "2026-06-01")],
        );
        assert_eq!(state(&c, &[], "2026-04-30").status, CaseStatus::Active);
        assert_eq!(state(&c, &[], "2026-05-01").status, CaseStatus::Suspended);
        assert_eq!(state(&c, &[], "2026-05-31").status, CaseStatus::Suspended);
        assert_eq!(state(&c, &[], "2026-06-01").status, CaseStatus::Active);
    }

    #[test]
    fn a_worker_sees_open_cases_of_their_townships_or_consenting_residents() {
        let mine = vec!["柳市镇".to_string()];
        let c = case("2026-03-01", Some("2026-03-02"), &[]);
        let open = state(&c, &[], "2026-04-01");
        let ended = state(&c, &[], "2029-03-02");
        assert_eq!(worker_basis(&mine, "虹桥镇", false, [(&c, &open)]), Some(Basis::Case("case-1".into())));
        assert_eq!(worker_basis(&mine, "虹桥镇", false, [(&c, &ended)]), None, "an ended case gives no access");
        assert_eq!(worker_basis(&mine, "柳市镇", true, [(&c, &ended)]), Some(Basis::Consent));
        assert_eq!(worker_basis(&mine, "柳市镇", false, []), None, "no consent, no case");
        assert_eq!(worker_basis(&mine, "虹桥镇", true, []), None, "consent outside their townships");
        let other = vec!["虹桥镇".to_string()];
        assert_eq!(worker_basis(&other, "柳市镇", false, [(&c, &open)]), None, "another township's case");
    }

    #[test]
    fn case_dates_lie_in_the_past_and_the_report_follows_the_decision() {
        let today = d("2026-11-29");
        assert!(case_date_problems(d("2026-11-01"), Some(d("2026-11-01")), today).is_empty());
        assert!(case_date_problems(d("2026-11-29"), None, today).is_empty());
        assert_eq!(case_date_problems(d("2026-11-30"), None, today), [("decision_date", "is in the future")]);
        assert_eq!(
            case_date_problems(d("2026-11-10"), Some(d("2026-11-09")), today),
            [("reported_on", "is before the decision date")]
        );
        assert_eq!(
            case_date_problems(d("2026-11-10"), Some(d("2026-11-30")), today),
            [("reported_on", "is in the future")]
        );
    }

    fn raw(kind: &str, decision: &str, reported: &str) -> CaseCsvRow {
        CaseCsvRow {
            case_ref: "LQ-2026-001".into(),
            id_number: "330382199001011234".into(),
            kind: kind.into(),
            decision_date: decision.into(),
            reported_on: reported.into(),
            township: "柳市镇".into(),
            worker_username: "sg.zhang".into(),
        }
    }

    #[test]
    fn a_csv_row_accepts_chinese_or_api_kind_names_and_an_empty_report_date() {
        let today = d("2026-11-29");
        let row = parse_case_row(1, &raw("社区康复", "2026-03-01", ""), today).unwrap();
        assert_eq!(row.kind, CaseKind::CommunityRehab);
        assert_eq!(row.reported_on, None);
        let row = parse_case_row(1, &raw("community_detox", "2026-03-01", "2026-03-05"), today).unwrap();
        assert_eq!(row.kind, CaseKind::CommunityDetox);
        assert_eq!(row.reported_on, Some(d("2026-03-05")));
    }

    #[test]
    fn a_bad_csv_row_names_every_bad_field() {
        let today = d("2026-11-29");
        let errors = parse_case_row(4, &raw("强戒", "2026-13-01", "2026-02-30"), today).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "decision_date", "reported_on"]);
        assert!(errors.iter().all(|e| e.row == 4));
        let errors = parse_case_row(2, &raw("社区戒毒", "2026-03-01", "2026-02-01"), today).unwrap_err();
        assert_eq!(errors, [RowError::new(2, "reported_on", "is before the decision date")]);
        let mut empty = raw("社区戒毒", "2026-03-01", "");
        empty.worker_username = " ".into();
        assert_eq!(parse_case_row(3, &empty, today).unwrap_err(), [RowError::new(3, "worker_username", "is empty")]);
    }
}
