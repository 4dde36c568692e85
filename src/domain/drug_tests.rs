//! Drug tests (RULES.md, Tests): which tests are due, what a result requires, and the
//! reproducible random selection for urine tests.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Urine morphine test.
    Urine,
    Hair,
}

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Urine => "urine",
            TestKind::Hair => "hair",
        }
    }

    pub fn parse(s: &str) -> Option<TestKind> {
        [TestKind::Urine, TestKind::Hair].into_iter().find(|k| k.as_str() == s)
    }

    /// The test's Chinese name, for alert sentences.
    pub fn zh(self) -> &'static str {
        match self {
            TestKind::Urine => "尿检",
            TestKind::Hair => "毛发检测",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestResult {
    Negative,
    Positive,
    Refused,
    /// Sampled, result not yet known.
    Pending,
}

impl TestResult {
    pub fn as_str(self) -> &'static str {
        match self {
            TestResult::Negative => "negative",
            TestResult::Positive => "positive",
            TestResult::Refused => "refused",
            TestResult::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<TestResult> {
        [TestResult::Negative, TestResult::Positive, TestResult::Refused, TestResult::Pending]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A test as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord {
    pub id: String,
    pub kind: TestKind,
    pub sampled_on: NaiveDate,
    pub result: TestResult,
}

impl TestRecord {
    /// A sample was taken (a refusal is not a test done).
    pub fn counts_as_done(&self) -> bool {
        self.result != TestResult::Refused
    }
}

/// Days between two tests of `kind` for a patient of `risk_level`, at most.
pub fn interval_days(kind: TestKind, risk_level: u8, rules: &RuleSet) -> u32 {
    match kind {
        TestKind::Urine => rules.urine_test_interval_days,
        TestKind::Hair if risk_level <= 1 => rules.hair_test_interval_days_level1,
        TestKind::Hair => rules.hair_test_interval_days_level2_3,
    }
}

/// A test that is due: the last one done and the day from which the next was due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTest {
    pub kind: TestKind,
    pub last_sampled_on: Option<NaiveDate>,
    pub due_since: NaiveDate,
}

/// The tests due on `today` for a patient in treatment: a urine test when the last one done
/// is `urine_test_interval_days` old or older, a hair test by risk level (90 / 180 days). A
/// patient never tested is due from enrolment. Refusals do not count as tests done.
pub fn due_tests(
    risk_level: u8,
    enrolled_on: NaiveDate,
    tests: &[TestRecord],
    today: NaiveDate,
    rules: &RuleSet,
) -> Vec<DueTest> {
    tests_due_by(risk_level, enrolled_on, tests, today, rules)
}

/// Where a test stands on the doctor's work list: overdue (due before today), due this
/// week (today or in the next six days) or upcoming (later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueGroup {
    Overdue,
    ThisWeek,
    Upcoming,
}

/// The work-list group of a test due from `due_since`, seen on `today`.
pub fn due_group(due_since: NaiveDate, today: NaiveDate) -> DueGroup {
    if due_since < today {
        DueGroup::Overdue
    } else if due_since <= today + Duration::days(6) {
        DueGroup::ThisWeek
    } else {
        DueGroup::Upcoming
    }
}

/// The tests that are or become due by `until` (the same rule as [`due_tests`], looking
/// ahead: `until` = today gives today's due tests).
pub fn tests_due_by(
    risk_level: u8,
    enrolled_on: NaiveDate,
    tests: &[TestRecord],
    until: NaiveDate,
    rules: &RuleSet,
) -> Vec<DueTest> {
    let today = until;
    [TestKind::Urine, TestKind::Hair]
        .into_iter()
        .filter_map(|kind| {
            let last = tests.iter().filter(|t| t.kind == kind && t.counts_as_done()).map(|t| t.sampled_on).max();
            let due_since = match last {
                Some(day) => day + Duration::days(i64::from(interval_days(kind, risk_level, rules))),
                None => enrolled_on,
            };
            (due_since <= today).then_some(DueTest { kind, last_sampled_on: last, due_since })
        })
        .collect()
}

/// A positive hair test must be reported to the police (RULES.md).
pub fn police_notification_required(kind: TestKind, result: TestResult) -> bool {
    kind == TestKind::Hair && result == TestResult::Positive
}

/// Draws `count` of `candidates` for a random urine test. The draw depends only on the seed
/// and the candidates (order does not matter): each candidate is ranked by
/// `sha256(seed ‖ ":" ‖ id)`, so anyone holding the recorded seed can draw it again.
pub fn random_selection(seed: &str, candidates: &[String], count: usize) -> Vec<String> {
    let mut ranked: Vec<([u8; 32], &String)> = candidates
        .iter()
        .map(|id| {
            let mut h = Sha256::new();
            h.update(seed.as_bytes());
            h.update(b":");
            h.update(id.as_bytes());
            (h.finalize().into(), id)
        })
        .collect();
    ranked.sort();
    ranked.dedup_by(|a, b| a.1 == b.1);
    ranked.into_iter().take(count).map(|(_, id)| id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(kind: TestKind, on: &str, result: TestResult) -> TestRecord {
        TestRecord { id: format!("{}-{on}", kind.as_str()), kind, sampled_on: d(on), result }
    }

    fn kinds(due: &[DueTest]) -> Vec<TestKind> {
        due.iter().map(|x| x.kind).collect()
    }

    const ENROLLED: &str = "2026-01-05";

    #[test]
    fn a_patient_never_tested_is_due_for_both_from_enrolment() {
        let due = due_tests(1, d(ENROLLED), &[], d("2026-01-05"), &RuleSet::default());
        assert_eq!(kinds(&due), [TestKind::Urine, TestKind::Hair]);
        assert!(due.iter().all(|x| x.due_since == d(ENROLLED) && x.last_sampled_on.is_none()));
    }

    #[test]
    fn urine_is_due_on_day_30_after_the_last_test_not_on_day_29() {
        let rules = RuleSet::default();
        let tests = [
            t(TestKind::Urine, "2026-03-01", TestResult::Negative),
            t(TestKind::Hair, "2026-03-01", TestResult::Negative),
        ];
        assert!(due_tests(1, d(ENROLLED), &tests, d("2026-03-30"), &rules).is_empty());
        let due = due_tests(1, d(ENROLLED), &tests, d("2026-03-31"), &rules);
        assert_eq!(
            due,
            [DueTest { kind: TestKind::Urine, last_sampled_on: Some(d("2026-03-01")), due_since: d("2026-03-31") }]
        );
    }

    #[test]
    fn hair_every_90_days_at_risk_level_1_and_180_at_levels_2_and_3() {
        let rules = RuleSet::default();
        let tests = [
            t(TestKind::Hair, "2026-01-01", TestResult::Negative),
            t(TestKind::Urine, "2026-06-20", TestResult::Negative),
        ];
        let on = |risk, day| kinds(&due_tests(risk, d(ENROLLED), &tests, d(day), &rules));
        assert_eq!(on(1, "2026-03-31"), []); // day 89
        assert_eq!(on(1, "2026-04-01"), [TestKind::Hair]); // day 90
        assert_eq!(on(2, "2026-04-01"), []);
        assert_eq!(on(3, "2026-06-29"), []); // day 179
        assert_eq!(on(3, "2026-06-30"), [TestKind::Hair]); // day 180
        assert_eq!(on(2, "2026-06-30"), [TestKind::Hair]);
    }

    #[test]
    fn a_refusal_is_not_a_test_done_but_a_pending_sample_is() {
        let rules = RuleSet::default();
        let refused = [t(TestKind::Urine, "2026-03-01", TestResult::Refused)];
        let due = due_tests(1, d("2026-02-20"), &refused, d("2026-03-02"), &rules);
        assert_eq!(due[0], DueTest { kind: TestKind::Urine, last_sampled_on: None, due_since: d("2026-02-20") });
        let pending = [t(TestKind::Urine, "2026-03-01", TestResult::Pending)];
        assert!(!kinds(&due_tests(1, d("2026-02-20"), &pending, d("2026-03-02"), &rules)).contains(&TestKind::Urine));
    }

    #[test]
    fn the_latest_test_done_counts() {
        let rules = RuleSet::default();
        let tests = [
            t(TestKind::Urine, "2026-05-01", TestResult::Positive),
            t(TestKind::Urine, "2026-03-01", TestResult::Negative),
        ];
        let due = due_tests(1, d(ENROLLED), &tests, d("2026-05-31"), &rules);
        assert_eq!(due[0].last_sampled_on, Some(d("2026-05-01")));
        assert_eq!(due[0].due_since, d("2026-05-31"));
    }

    #[test]
    fn only_a_positive_hair_test_needs_the_police() {
        assert!(police_notification_required(TestKind::Hair, TestResult::Positive));
        assert!(!police_notification_required(TestKind::Hair, TestResult::Negative));
        assert!(!police_notification_required(TestKind::Hair, TestResult::Refused));
        assert!(!police_notification_required(TestKind::Urine, TestResult::Positive));
    }

    #[test]
    fn the_random_selection_is_reproducible_from_its_seed_and_ignores_order() {
        let ids: Vec<String> = (0..50).map(|i| format!("patient-{i:02}")).collect();
        let a = random_selection("seed-1", &ids, 5);
        assert_eq!(a.len(), 5);
        let mut reversed = ids.clone();
        reversed.reverse();
        assert_eq!(random_selection("seed-1", &reversed, 5), a);
        assert_ne!(random_selection("seed-2", &ids, 5), a, "another seed draws others");
        let mut unique = a.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 5);
        assert_eq!(random_selection("seed-1", &ids[..3], 5).len(), 3, "never more than the candidates");
    }

    /// The work list's groups, by the day a test is due against today (a Wednesday).
    #[test]
    fn due_tests_fall_into_overdue_this_week_and_upcoming() {
        let today = d("2026-11-11");
        for (due_since, group) in [
            ("2026-08-01", DueGroup::Overdue),
            ("2026-11-10", DueGroup::Overdue),
            ("2026-11-11", DueGroup::ThisWeek),
            ("2026-11-17", DueGroup::ThisWeek),
            ("2026-11-18", DueGroup::Upcoming),
            ("2026-12-31", DueGroup::Upcoming),
        ] {
            assert_eq!(due_group(d(due_since), today), group, "{due_since}");
        }
    }

    #[test]
    fn looking_ahead_lists_tests_that_become_due_by_then() {
        let rules = RuleSet::default();
        let urine = TestRecord {
            id: "t".into(),
            kind: TestKind::Urine,
            sampled_on: d("2026-10-20"),
            result: TestResult::Negative,
        };
        let hair = TestRecord {
            id: "h".into(),
            kind: TestKind::Hair,
            sampled_on: d("2026-10-01"),
            result: TestResult::Negative,
        };
        let tests = [urine, hair];
        assert!(due_tests(1, d("2026-01-01"), &tests, d("2026-11-11"), &rules).is_empty());
        // The urine test becomes due on 11-19 (30 days); the hair test (level 1) on 12-30.
        let ahead = tests_due_by(1, d("2026-01-01"), &tests, d("2026-12-10"), &rules);
        assert_eq!(
            ahead.iter().map(|t| (t.kind, t.due_since)).collect::<Vec<_>>(),
            [(TestKind::Urine, d("2026-11-19"))]
        );
    }
}
