//! Alerts (RULES.md, Community detox / rehab link): what the sweep opens and resolves for
//! one patient on one day. One alert per episode: each carries a key naming its episode
//! (the first day of a run of missed days, a test, a case), and an episode once alerted is
//! never alerted again, whether its alert is still open or long resolved.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::dispensing::{missed_run, DayRange, PatientStatus};
use super::drug_tests::{TestRecord, TestResult};
use super::orders::OrderBook;
use super::rehab::{CaseFacts, CaseState, CaseStatus};
use super::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    MissedDoses,
    Dropout,
    PositiveTest,
    TestRefused,
    RehabReportOverdue,
    SeriousBreach,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::MissedDoses,
        AlertKind::Dropout,
        AlertKind::PositiveTest,
        AlertKind::TestRefused,
        AlertKind::RehabReportOverdue,
        AlertKind::SeriousBreach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::MissedDoses => "missed_doses",
            AlertKind::Dropout => "dropout",
            AlertKind::PositiveTest => "positive_test",
            AlertKind::TestRefused => "test_refused",
            AlertKind::RehabReportOverdue => "rehab_report_overdue",
            AlertKind::SeriousBreach => "serious_breach",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

crate::named_enum! {
    /// What started a run of the attendance/alert sweep.
    pub enum SweepCause {
        Startup = "startup",
        Nightly = "nightly",
        Manual = "manual",
        Demo = "demo",
        Bench = "bench",
    }
}

/// An alert the patient already has (open, acknowledged or resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAlert {
    pub id: String,
    pub kind: AlertKind,
    pub episode_key: String,
    pub resolved: bool,
}

/// The last dose that stands: its day and where it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDose {
    pub day: NaiveDate,
    pub site_name: String,
}

/// Everything the sweep needs about one patient.
#[derive(Debug, Clone)]
pub struct SweepInput<'a> {
    pub today: NaiveDate,
    pub status: PatientStatus,
    pub orders: &'a OrderBook,
    pub last_dose: Option<LastDose>,
    pub excused: &'a [DayRange],
    pub tests: &'a [TestRecord],
    pub cases: &'a [(CaseFacts, CaseState)],
    pub alerts: &'a [KnownAlert],
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub kind: AlertKind,
    pub episode_key: String,
    pub case_id: Option<String>,
    /// What happened, in the words a rehab worker reads (Chinese).
    pub message: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SweepAction {
    Open(NewAlert),
    Resolve {
        alert_id: String,
        reason: String,
    },
    /// Seven or more consecutive missed days: the patient has dropped out (脱失).
    MarkDroppedOut {
        missed_days: u32,
    },
    /// The run's `missed_doses` alert is resolved as superseded by the run's `dropout`
    /// alert (both keyed by `episode_key`): one absence, one alert to act on. Applied after
    /// the dropout alert is opened, so that the resolution can name it.
    Supersede {
        episode_key: String,
    },
}

/// The resolution reason of a `missed_doses` alert superseded by its run's dropout alert.
pub const SUPERSEDED_BY_DROPOUT: &str = "已转为脱失预警（同一次缺勤）";

/// "1月5日"
pub fn month_day(day: NaiveDate) -> String {
    format!("{}月{}日", day.month(), day.day())
}

fn known<'a>(alerts: &'a [KnownAlert], kind: AlertKind, key: &str) -> Option<&'a KnownAlert> {
    alerts.iter().find(|a| a.kind == kind && a.episode_key == key)
}

fn unresolved(alerts: &[KnownAlert], kind: AlertKind) -> impl Iterator<Item = &KnownAlert> {
    alerts.iter().filter(move |a| a.kind == kind && !a.resolved)
}

fn resolve(alert: &KnownAlert, reason: &str) -> SweepAction {
    SweepAction::Resolve { alert_id: alert.id.clone(), reason: reason.into() }
}

/// The sentence after "连续N天未服药".
fn last_dose_words(last: &Option<LastDose>, since: NaiveDate) -> String {
    match last {
        Some(l) if l.day < since => format!("最后一次服药：{} {}", month_day(l.day), l.site_name),
        _ => format!("本疗程自{}起尚未服药", month_day(since)),
    }
}

/// What the sweep does for one patient on `input.today`. Running it again on the outcome
/// (with the alerts it opened now known) yields nothing: the sweep is idempotent.
pub fn sweep_patient(input: &SweepInput<'_>, rules: &RuleSet) -> Vec<SweepAction> {
    let mut actions = Vec::new();
    attendance_alerts(input, rules, &mut actions);
    test_alerts(input, &mut actions);
    case_alerts(input, rules, &mut actions);
    actions
}

fn attendance_alerts(input: &SweepInput<'_>, rules: &RuleSet, actions: &mut Vec<SweepAction>) {
    let last_day = input.last_dose.as_ref().map(|l| l.day);
    let run = missed_run(input.today, input.orders, last_day, input.excused);
    let detained = input.cases.iter().any(|(_, s)| s.status == CaseStatus::Suspended);

    // Missed-dose alerts end when the patient comes back, when the days turn out excused,
    // or when treatment ends.
    for alert in unresolved(input.alerts, AlertKind::MissedDoses) {
        let since = NaiveDate::parse_from_str(&alert.episode_key, "%Y-%m-%d").ok();
        if known(input.alerts, AlertKind::Dropout, &alert.episode_key).is_some() {
            // The run already has its dropout alert: that one is the alert to act on.
            actions.push(SweepAction::Supersede { episode_key: alert.episode_key.clone() });
        } else if matches!(input.status, PatientStatus::Discharged | PatientStatus::Deceased) {
            actions.push(resolve(alert, "治疗已结束"));
        } else if since.is_some_and(|s| last_day.is_some_and(|l| l >= s)) {
            actions.push(resolve(alert, "已恢复服药"));
        } else if run.is_some_and(|r| Some(r.since) == since && r.days < rules.missed_days_review) {
            actions.push(resolve(alert, "未服药日已核实为请假"));
        }
    }
    // A dropout ends with re-entry (the status is active again) or the end of treatment.
    for alert in unresolved(input.alerts, AlertKind::Dropout) {
        match input.status {
            PatientStatus::Active => actions.push(resolve(alert, "已重新入组")),
            PatientStatus::Discharged | PatientStatus::Deceased => actions.push(resolve(alert, "治疗已结束")),
            PatientStatus::Suspended | PatientStatus::DroppedOut => {}
        }
    }

    let Some(run) = run else { return };
    if input.status != PatientStatus::Active || detained || run.days < rules.missed_days_review {
        return;
    }
    let key = run.since.to_string();
    let words = last_dose_words(&input.last_dose, run.since);
    let details = |days: u32| {
        json!({
            "missed_days": days,
            "since": run.since,
            "last_dose_day": input.last_dose.as_ref().map(|l| l.day),
            "last_dose_site_name": input.last_dose.as_ref().map(|l| l.site_name.clone()),
        })
    };
    if known(input.alerts, AlertKind::MissedDoses, &key).is_none() {
        actions.push(SweepAction::Open(NewAlert {
            kind: AlertKind::MissedDoses,
            episode_key: key.clone(),
            case_id: None,
            message: format!("连续{}天未服药，{}", run.days, words),
            details: details(run.days),
        }));
    }
    if run.days >= rules.missed_days_dropout && known(input.alerts, AlertKind::Dropout, &key).is_none() {
        actions.push(SweepAction::MarkDroppedOut { missed_days: run.days });
        actions.push(SweepAction::Open(NewAlert {
            kind: AlertKind::Dropout,
            episode_key: key.clone(),
            case_id: None,
            message: format!("连续{}天未服药，已列为脱失，{}", run.days, words),
            details: details(run.days),
        }));
        // The run's missed-dose alert (known or opened just now) gives way to it.
        let missed_resolved = known(input.alerts, AlertKind::MissedDoses, &key).is_some_and(|a| a.resolved);
        if !missed_resolved {
            actions.push(SweepAction::Supersede { episode_key: key });
        }
    }
}

fn test_alerts(input: &SweepInput<'_>, actions: &mut Vec<SweepAction>) {
    let negative_after = |t: &TestRecord| {
        input.tests.iter().any(|n| n.kind == t.kind && n.result == TestResult::Negative && n.sampled_on > t.sampled_on)
    };
    for test in input.tests {
        let kind = match test.result {
            TestResult::Positive => AlertKind::PositiveTest,
            TestResult::Refused => AlertKind::TestRefused,
            TestResult::Negative | TestResult::Pending => continue,
        };
        match known(input.alerts, kind, &test.id) {
            Some(alert) if !alert.resolved && negative_after(test) => {
                actions.push(resolve(alert, "此后检测结果为阴性"))
            }
            Some(_) => {}
            None if negative_after(test) => {}
            None => {
                let message = match kind {
                    AlertKind::PositiveTest => format!("{}{}结果阳性", month_day(test.sampled_on), test.kind.zh()),
                    _ => format!("{}拒绝{}", month_day(test.sampled_on), test.kind.zh()),
                };
                actions.push(SweepAction::Open(NewAlert {
                    kind,
                    episode_key: test.id.clone(),
                    case_id: None,
                    message,
                    details: json!({"test_id": test.id, "test_kind": test.kind, "sampled_on": test.sampled_on}),
                }));
            }
        }
    }
}

fn case_alerts(input: &SweepInput<'_>, rules: &RuleSet, actions: &mut Vec<SweepAction>) {
    for (case, state) in input.cases {
        let overdue = known(input.alerts, AlertKind::RehabReportOverdue, &case.id);
        match overdue {
            Some(alert) if !alert.resolved && state.reported_on.is_some() => actions.push(resolve(alert, "已报到")),
            None if state.status == CaseStatus::ReportOverdue => actions.push(SweepAction::Open(NewAlert {
                kind: AlertKind::RehabReportOverdue,
                episode_key: case.id.clone(),
                case_id: Some(case.id.clone()),
                message: format!(
                    "{}决定书于{}作出，应于{}前报到，逾期未报到（视为拒绝）",
                    case.kind.zh(),
                    month_day(case.decision_date),
                    month_day(state.report_due_by)
                ),
                details: json!({
                    "case_id": case.id,
                    "decision_date": case.decision_date,
                    "report_due_by": state.report_due_by,
                }),
            })),
            _ => {}
        }
        let breach_possible = !matches!(state.status, CaseStatus::Ended | CaseStatus::Suspended);
        if breach_possible
            && state.refusals >= rules.serious_breach_refusals
            && known(input.alerts, AlertKind::SeriousBreach, &case.id).is_none()
        {
            actions.push(SweepAction::Open(NewAlert {
                kind: AlertKind::SeriousBreach,
                episode_key: case.id.clone(),
                case_id: Some(case.id.clone()),
                message: format!(
                    "{}期间第{}次拒绝检测、逃避或逾期报到，属严重违反协议",
                    case.kind.zh(),
                    state.refusals
                ),
                details: json!({"case_id": case.id, "refusals": state.refusals}),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::drug_tests::TestKind;
    use crate::domain::orders::{Order, Phase};
    use crate::domain::quantity::DeciMg;
    use crate::domain::rehab::{case_state, CaseEvent, CaseEventKind, CaseKind};
    use chrono::Duration;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn book() -> OrderBook {
        OrderBook::new(vec![Order {
            id: "order-1".into(),
            daily: DeciMg::from_mg(60),
            portions: None,
            start_date: d("2026-01-01"),
            end_date: None,
            phase: Phase::Induction,
            starts_episode: true,
            last_dose_on: None,
            effective_from: Some(d("2026-01-01")),
        }])
    }

    struct Patient {
        orders: OrderBook,
        status: PatientStatus,
        last_dose: Option<LastDose>,
        excused: Vec<DayRange>,
        tests: Vec<TestRecord>,
        cases: Vec<(CaseFacts, CaseState)>,
        alerts: Vec<KnownAlert>,
    }

    impl Patient {
        fn last_dosed(day: &str) -> Patient {
            Patient {
                orders: book(),
                status: PatientStatus::Active,
                last_dose: Some(LastDose { day: d(day), site_name: "柳市服药点".into() }),
                excused: vec![],
                tests: vec![],
                cases: vec![],
                alerts: vec![],
            }
        }

        fn sweep(&self, today: &str) -> Vec<SweepAction> {
            let input = SweepInput {
                today: d(today),
                status: self.status,
                orders: &self.orders,
                last_dose: self.last_dose.clone(),
                excused: &self.excused,
                tests: &self.tests,
                cases: &self.cases,
                alerts: &self.alerts,
            };
            sweep_patient(&input, &RuleSet::default())
        }

        /// Applies the actions as the service would, and returns them.
        fn sweep_and_apply(&mut self, today: &str) -> Vec<SweepAction> {
            let actions = self.sweep(today);
            for action in &actions {
                match action {
                    SweepAction::Open(a) => self.alerts.push(KnownAlert {
                        id: format!("alert-{}", self.alerts.len()),
                        kind: a.kind,
                        episode_key: a.episode_key.clone(),
                        resolved: false,
                    }),
                    SweepAction::Resolve { alert_id, .. } => {
                        self.alerts.iter_mut().filter(|a| &a.id == alert_id).for_each(|a| a.resolved = true)
                    }
                    SweepAction::MarkDroppedOut { .. } => self.status = PatientStatus::DroppedOut,
                    SweepAction::Supersede { episode_key } => self
                        .alerts
                        .iter_mut()
                        .filter(|a| a.kind == AlertKind::MissedDoses && &a.episode_key == episode_key)
                        .for_each(|a| a.resolved = true),
                }
            }
            actions
        }

        fn dosed_on(&mut self, day: &str) {
            self.last_dose = Some(LastDose { day: d(day), site_name: "虹桥服药点".into() });
        }
    }

    fn opened(actions: &[SweepAction]) -> Vec<(AlertKind, String)> {
        actions
            .iter()
            .filter_map(|a| match a {
                SweepAction::Open(n) => Some((n.kind, n.message.clone())),
                _ => None,
            })
            .collect()
    }

    fn resolved(actions: &[SweepAction]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                SweepAction::Resolve { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn two_missed_days_alert_nobody() {
        // Last dose on the 5th; the 6th and 7th missed; today is the 8th.
        assert!(Patient::last_dosed("2026-01-05").sweep("2026-01-08").is_empty());
    }

    #[test]
    fn the_third_missed_day_opens_one_alert_that_says_what_happened() {
        let mut p = Patient::last_dosed("2026-01-05");
        let actions = p.sweep_and_apply("2026-01-09");
        assert_eq!(
            opened(&actions),
            [(AlertKind::MissedDoses, "连续3天未服药，最后一次服药：1月5日 柳市服药点".to_string())]
        );
        // The next nights add nothing: one alert per run, not one per day.
        for today in ["2026-01-09", "2026-01-10", "2026-01-11"] {
            assert!(p.sweep_and_apply(today).is_empty(), "{today}");
        }
    }

    #[test]
    fn the_alert_resolves_at_the_next_dose_and_a_later_run_opens_a_new_one() {
        let mut p = Patient::last_dosed("2026-01-05");
        p.sweep_and_apply("2026-01-09");
        p.dosed_on("2026-01-09");
        assert_eq!(resolved(&p.sweep_and_apply("2026-01-10")), ["已恢复服药"]);
        assert!(p.sweep_and_apply("2026-01-10").is_empty());
        let again = p.sweep_and_apply("2026-01-13");
        assert_eq!(
            opened(&again),
            [(AlertKind::MissedDoses, "连续3天未服药，最后一次服药：1月9日 虹桥服药点".to_string())]
        );
        assert_eq!(p.alerts.len(), 2);
    }

    #[test]
    fn excused_days_do_not_count_and_an_excuse_recorded_later_resolves_the_alert() {
        let mut p = Patient::last_dosed("2026-01-05");
        p.excused = vec![DayRange { from: d("2026-01-06"), to: d("2026-01-07") }];
        assert!(p.sweep("2026-01-09").is_empty(), "only the 8th counts");
        p.excused.clear();
        p.sweep_and_apply("2026-01-09");
        p.excused = vec![DayRange { from: d("2026-01-06"), to: d("2026-01-08") }];
        assert_eq!(resolved(&p.sweep_and_apply("2026-01-09")), ["未服药日已核实为请假"]);
    }

    #[test]
    fn seven_missed_days_mark_a_dropout_once() {
        let mut p = Patient::last_dosed("2026-01-05");
        p.sweep_and_apply("2026-01-09");
        assert!(p.sweep_and_apply("2026-01-12").is_empty(), "6 missed days");
        let actions = p.sweep_and_apply("2026-01-13");
        assert!(actions.contains(&SweepAction::MarkDroppedOut { missed_days: 7 }));
        assert_eq!(
            opened(&actions),
            [(AlertKind::Dropout, "连续7天未服药，已列为脱失，最后一次服药：1月5日 柳市服药点".to_string())]
        );
        assert_eq!(p.status, PatientStatus::DroppedOut);
        assert!(p.sweep_and_apply("2026-01-20").is_empty(), "nothing more while dropped out");
    }

    #[test]
    fn a_sweep_that_missed_some_nights_opens_both_alerts_and_leaves_one_open() {
        let mut p = Patient::last_dosed("2026-01-05");
        let actions = p.sweep_and_apply("2026-01-20");
        let kinds: Vec<AlertKind> = opened(&actions).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [AlertKind::MissedDoses, AlertKind::Dropout]);
        assert_eq!(actions.last(), Some(&SweepAction::Supersede { episode_key: "2026-01-06".into() }));
        let open: Vec<AlertKind> = p.alerts.iter().filter(|a| !a.resolved).map(|a| a.kind).collect();
        assert_eq!(open, [AlertKind::Dropout]);
    }

    /// One absence, one alert: the day the dropout alert opens, the run's missed-dose alert
    /// is superseded by it; a later run of the same patient is a new absence.
    #[test]
    fn the_dropout_alert_supersedes_the_missed_dose_alert_of_its_run() {
        let cases: [(&str, &str, &[AlertKind]); 3] = [
            // (today, what happens, the open alerts after it)
            ("2026-01-09", "3 missed days: the missed-dose alert", &[AlertKind::MissedDoses]),
            ("2026-01-12", "6 missed days: still that one", &[AlertKind::MissedDoses]),
            ("2026-01-13", "7 missed days: the dropout alert alone", &[AlertKind::Dropout]),
        ];
        let mut p = Patient::last_dosed("2026-01-05");
        for (today, what, open_after) in cases {
            let actions = p.sweep_and_apply(today);
            let open: Vec<AlertKind> = p.alerts.iter().filter(|a| !a.resolved).map(|a| a.kind).collect();
            assert_eq!(open, open_after, "{what}: {actions:?}");
        }
        assert!(p.sweep_and_apply("2026-01-14").is_empty(), "idempotent");
        // The superseded alert is still there, resolved, with the dropout of the same run.
        let missed = p.alerts.iter().find(|a| a.kind == AlertKind::MissedDoses).unwrap();
        let dropout = p.alerts.iter().find(|a| a.kind == AlertKind::Dropout).unwrap();
        assert!(missed.resolved);
        assert_eq!(missed.episode_key, dropout.episode_key);
    }

    #[test]
    fn an_open_missed_dose_alert_beside_its_runs_dropout_alert_is_superseded() {
        // Written before this rule: both open. The next sweep leaves one.
        let mut p = Patient::last_dosed("2026-01-05");
        p.status = PatientStatus::DroppedOut;
        for (id, kind) in [("a1", AlertKind::MissedDoses), ("a2", AlertKind::Dropout)] {
            p.alerts.push(KnownAlert { id: id.into(), kind, episode_key: "2026-01-05".into(), resolved: false });
        }
        assert_eq!(p.sweep("2026-01-20"), [SweepAction::Supersede { episode_key: "2026-01-05".into() }]);
    }

    #[test]
    fn re_entry_resolves_the_dropout_and_the_same_run_is_not_dropped_again() {
        let mut p = Patient::last_dosed("2026-01-05");
        p.sweep_and_apply("2026-01-13");
        p.status = PatientStatus::Active; // a doctor re-enters the patient
        assert_eq!(resolved(&p.sweep_and_apply("2026-01-14")), ["已重新入组"]);
        assert!(p.sweep_and_apply("2026-01-15").is_empty(), "the same run does not drop the patient again");
        p.dosed_on("2026-01-16");
        assert!(p.sweep_and_apply("2026-01-17").is_empty(), "the run's missed-dose alert gave way to the dropout");
    }

    #[test]
    fn no_dose_yet_in_the_episode_counts_from_its_first_day() {
        let mut p = Patient::last_dosed("2025-12-01");
        p.last_dose = None;
        assert_eq!(
            opened(&p.sweep("2026-01-04")),
            [(AlertKind::MissedDoses, "连续3天未服药，本疗程自1月1日起尚未服药".to_string())]
        );
    }

    #[test]
    fn suspended_or_discharged_patients_are_not_alerted_and_discharge_ends_alerts() {
        let mut p = Patient::last_dosed("2026-01-05");
        p.status = PatientStatus::Suspended;
        assert!(p.sweep("2026-01-09").is_empty());
        p.status = PatientStatus::Active;
        p.sweep_and_apply("2026-01-09");
        p.status = PatientStatus::Discharged;
        assert_eq!(resolved(&p.sweep_and_apply("2026-01-10")), ["治疗已结束"]);
    }

    fn test(id: &str, kind: TestKind, on: &str, result: TestResult) -> TestRecord {
        TestRecord { id: id.into(), kind, sampled_on: d(on), result }
    }

    #[test]
    fn a_positive_or_refused_test_opens_an_alert_until_a_later_negative_test_of_that_kind() {
        let mut p = Patient::last_dosed("2026-02-01");
        p.tests = vec![
            test("t1", TestKind::Urine, "2026-02-01", TestResult::Positive),
            test("t2", TestKind::Hair, "2026-02-01", TestResult::Refused),
        ];
        let actions = p.sweep_and_apply("2026-02-02");
        assert_eq!(
            opened(&actions),
            [
                (AlertKind::PositiveTest, "2月1日尿检结果阳性".to_string()),
                (AlertKind::TestRefused, "2月1日拒绝毛发检测".to_string())
            ]
        );
        assert!(p.sweep_and_apply("2026-02-03").is_empty());
        p.tests.push(test("t3", TestKind::Urine, "2026-02-10", TestResult::Negative));
        assert_eq!(resolved(&p.sweep_and_apply("2026-02-10")), ["此后检测结果为阴性"], "the hair refusal stays");
    }

    #[test]
    fn a_positive_test_already_followed_by_a_negative_one_opens_nothing() {
        let mut p = Patient::last_dosed("2026-02-10");
        p.tests = vec![
            test("t1", TestKind::Urine, "2026-01-01", TestResult::Positive),
            test("t2", TestKind::Urine, "2026-02-01", TestResult::Negative),
            test("t3", TestKind::Urine, "2026-02-05", TestResult::Pending),
        ];
        assert!(p.sweep("2026-02-10").is_empty());
    }

    fn with_case(
        p: &mut Patient,
        decision: &str,
        reported: Option<&str>,
        events: &[(CaseEventKind, &str)],
        today: &str,
    ) {
        let facts = CaseFacts {
            id: "case-1".into(),
            kind: CaseKind::CommunityDetox,
            township: "柳市镇".into(),
            decision_date: d(decision),
            reported_on: reported.map(d),
            events: events.iter().map(|(k, day)| CaseEvent { kind: *k, date: d(day) }).collect(),
        };
        let refusals: Vec<NaiveDate> =
            p.tests.iter().filter(|t| t.result == TestResult::Refused).map(|t| t.sampled_on).collect();
        let state = case_state(&facts, &refusals, d(today), &RuleSet::default());
        p.cases = vec![(facts, state)];
    }

    #[test]
    fn an_unreported_case_is_alerted_once_from_the_day_after_the_deadline_and_resolves_on_report() {
        let mut p = Patient::last_dosed("2026-03-20");
        with_case(&mut p, "2026-03-01", None, &[], "2026-03-16");
        assert!(p.sweep("2026-03-16").is_empty());
        with_case(&mut p, "2026-03-01", None, &[], "2026-03-17");
        let actions = p.sweep_and_apply("2026-03-17");
        assert_eq!(
            opened(&actions),
            [(
                AlertKind::RehabReportOverdue,
                "社区戒毒决定书于3月1日作出，应于3月16日前报到，逾期未报到（视为拒绝）".to_string()
            )]
        );
        assert!(p.sweep_and_apply("2026-03-18").is_empty());
        with_case(&mut p, "2026-03-01", None, &[(CaseEventKind::Reported, "2026-03-19")], "2026-03-19");
        assert_eq!(resolved(&p.sweep_and_apply("2026-03-19")), ["已报到"]);
    }

    #[test]
    fn the_third_refusal_in_a_case_is_a_serious_breach() {
        let mut p = Patient::last_dosed("2026-06-20");
        p.tests = vec![
            test("t1", TestKind::Urine, "2026-04-01", TestResult::Refused),
            test("t2", TestKind::Urine, "2026-05-01", TestResult::Refused),
        ];
        with_case(&mut p, "2026-03-01", Some("2026-03-05"), &[], "2026-06-20");
        p.sweep_and_apply("2026-06-20");
        assert!(!p.alerts.iter().any(|a| a.kind == AlertKind::SeriousBreach), "two refusals");
        with_case(&mut p, "2026-03-01", Some("2026-03-05"), &[(CaseEventKind::Evasion, "2026-06-01")], "2026-06-20");
        let actions = p.sweep_and_apply("2026-06-20");
        assert_eq!(
            opened(&actions),
            [(AlertKind::SeriousBreach, "社区戒毒期间第3次拒绝检测、逃避或逾期报到，属严重违反协议".to_string())]
        );
        assert!(p.sweep_and_apply("2026-06-21").is_empty());
    }

    #[test]
    fn detention_suspends_missed_dose_alerts() {
        let mut p = Patient::last_dosed("2026-05-01");
        with_case(&mut p, "2026-03-01", Some("2026-03-05"), &[(CaseEventKind::Detention, "2026-05-02")], "2026-05-10");
        assert!(p.sweep("2026-05-10").is_empty());
        let day = d("2026-05-10") + Duration::days(0);
        with_case(&mut p, "2026-03-01", Some("2026-03-05"), &[], &day.to_string());
        assert!(!p.sweep("2026-05-10").is_empty());
    }
}
