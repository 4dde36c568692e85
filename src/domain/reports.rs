//! The monthly reports' arithmetic: the calendar month a report covers, a rehab case's
//! attendance figures from its days, and the network's monthly figures per site. Pure: the
//! services load the rows, `crate::reports` lays out the pages.

use std::collections::HashMap;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate};

use super::dispensing::{DayStatus, PatientStatus};
use super::drug_tests::{TestKind, TestResult};
use super::orders::OrderBook;

/// A calendar month, as a report's `month=YYYY-MM` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportMonth {
    first_day: NaiveDate,
}

impl ReportMonth {
    /// Exactly `YYYY-MM` (four-digit year, two-digit month 01–12); anything else is `None`.
    pub fn parse(text: &str) -> Option<ReportMonth> {
        let bytes = text.as_bytes();
        let shape_ok =
            bytes.len() == 7 && bytes[4] == b'-' && bytes.iter().enumerate().all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !shape_ok {
            return None;
        }
        let year: i32 = text[..4].parse().ok()?;
        let month: u32 = text[5..].parse().ok()?;
        NaiveDate::from_ymd_opt(year, month, 1).map(|first_day| ReportMonth { first_day })
    }

    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    pub fn last_day(self) -> NaiveDate {
        self.next_first_day() - Duration::days(1)
    }

    /// The first day of the following month (where the month ends, exclusive).
    pub fn next_first_day(self) -> NaiveDate {
        let (year, month) = match self.first_day.month() {
            12 => (self.first_day.year() + 1, 1),
            m => (self.first_day.year(), m + 1),
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MAX)
    }

    pub fn contains(self, day: NaiveDate) -> bool {
        self.first_day <= day && day <= self.last_day()
    }

    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.first_day.iter_days().take_while(move |d| *d <= self.last_day())
    }

    /// "2026年11月", as a Chinese form writes it.
    pub fn chinese(self) -> String {
        format!("{}年{}月", self.first_day.year(), self.first_day.month())
    }
}

impl fmt::Display for ReportMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.first_day.year(), self.first_day.month())
    }
}

/// A rehab case's month in days, counted from the days' attendance statuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttendanceFigures {
    pub dosed: u32,
    pub home_visit: u32,
    pub missed: u32,
    pub excused: u32,
    pub withheld: u32,
    /// The longest run of consecutive missed days within these days.
    pub longest_missed_run: u32,
}

/// Counts the days by status, and the longest run of missed days the way the missed-day
/// rule counts one (RULES.md, Missed days): a withheld day counts as missed, an excused day
/// or a day without an order neither counts nor ends the run, and a dose ends it.
pub fn attendance_figures(statuses: impl IntoIterator<Item = DayStatus>) -> AttendanceFigures {
    let mut f = AttendanceFigures::default();
    let mut run = 0;
    for status in statuses {
        match status {
            DayStatus::Dosed => f.dosed += 1,
            DayStatus::HomeVisit => f.home_visit += 1,
            DayStatus::Missed => f.missed += 1,
            DayStatus::Excused => f.excused += 1,
            DayStatus::Withheld => f.withheld += 1,
            DayStatus::NoOrder | DayStatus::Due => {}
        }
        match status {
            DayStatus::Dosed | DayStatus::HomeVisit => run = 0,
            DayStatus::Missed | DayStatus::Withheld => {
                run += 1;
                f.longest_missed_run = f.longest_missed_run.max(run);
            }
            DayStatus::Excused | DayStatus::NoOrder | DayStatus::Due => {}
        }
    }
    f
}

/// A status change, dated by the local day it happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChangeOn {
    pub on: NaiveDate,
    pub from: PatientStatus,
    pub to: PatientStatus,
}

/// What the monthly figures need about one patient.
#[derive(Debug, Clone)]
pub struct PatientMonthFacts {
    pub id: String,
    pub home_site_id: String,
    pub enrolled_on: NaiveDate,
    pub status_now: PatientStatus,
    /// In the order they happened.
    pub status_changes: Vec<StatusChangeOn>,
    /// Activated orders that took effect by the end of the month.
    pub orders: OrderBook,
}

impl PatientMonthFacts {
    /// The status at the end of `day`: the last change on or before it, else the status the
    /// first change started from, else today's status.
    pub fn status_on(&self, day: NaiveDate) -> PatientStatus {
        match self.status_changes.iter().rev().find(|c| c.on <= day) {
            Some(change) => change.to,
            None => self.status_changes.first().map_or(self.status_now, |c| c.from),
        }
    }

    /// In treatment during the month: dosed in it, or an order covered a day of it on which
    /// the patient was enrolled and active (an order outlives a discharge or a dropout; the
    /// patient is not in treatment for that).
    fn in_treatment(&self, month: ReportMonth, dosed: bool) -> bool {
        dosed
            || month
                .days()
                .any(|d| d >= self.enrolled_on && self.orders.covers(d) && self.status_on(d) == PatientStatus::Active)
    }

    /// Active when the month began: enrolled before its first day and active at the end of
    /// the day before.
    fn active_at_start(&self, month: ReportMonth) -> bool {
        let eve = month.first_day() - Duration::days(1);
        self.enrolled_on <= eve && self.status_on(eve) == PatientStatus::Active
    }
}

/// A dose that stands, given in the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthDose {
    pub patient_id: String,
    /// Where it was given (a home visit's dose belongs to the site it left from).
    pub site_id: String,
    pub deci_mg: i64,
    pub home_visit: bool,
}

/// A drug test sampled in the month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthTest {
    pub patient_id: String,
    pub kind: TestKind,
    pub result: TestResult,
}

/// One site's month (or the network's, in the total row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteFigures {
    /// Patients of this home site in treatment during the month.
    pub in_treatment: u32,
    /// Doses given at this site (each portion of a split dose counts), and their sum.
    pub doses: u32,
    pub dose_deci_mg: i64,
    /// Patients of this home site enrolled in the month.
    pub new_enrolments: u32,
    /// Changes to `dropped_out` in the month.
    pub dropouts: u32,
    /// Changes from `dropped_out` back to `active` in the month.
    pub reentries: u32,
    /// Active when the month began (the retention's base), and of those, active at its end.
    pub active_at_start: u32,
    pub retained: u32,
    /// Samples taken (a refusal is not a test done; a pending result is).
    pub urine_tests: u32,
    pub hair_tests: u32,
    /// Tests with a negative or positive result (the positive rate's base), and the positive ones.
    pub tests_with_result: u32,
    pub positive_tests: u32,
    /// Home-visit doses that left from this site.
    pub home_visits: u32,
}

impl SiteFigures {
    fn add(&mut self, o: &SiteFigures) {
        self.in_treatment += o.in_treatment;
        self.doses += o.doses;
        self.dose_deci_mg += o.dose_deci_mg;
        self.new_enrolments += o.new_enrolments;
        self.dropouts += o.dropouts;
        self.reentries += o.reentries;
        self.active_at_start += o.active_at_start;
        self.retained += o.retained;
        self.urine_tests += o.urine_tests;
        self.hair_tests += o.hair_tests;
        self.tests_with_result += o.tests_with_result;
        self.positive_tests += o.positive_tests;
        self.home_visits += o.home_visits;
    }

    /// Retention in tenths of a percent; `None` with nobody active at the start.
    pub fn retention_tenths(&self) -> Option<u32> {
        tenths_of_percent(self.retained, self.active_at_start)
    }

    /// Positive share of the tests with a result, in tenths of a percent.
    pub fn positive_rate_tenths(&self) -> Option<u32> {
        tenths_of_percent(self.positive_tests, self.tests_with_result)
    }
}

/// `part / whole` in tenths of a percent, rounded half up (2 of 3 → 667, i.e. 66.7 %).
pub fn tenths_of_percent(part: u32, whole: u32) -> Option<u32> {
    if whole == 0 {
        return None;
    }
    let (part, whole) = (u64::from(part), u64::from(whole));
    u32::try_from((part * 2000 + whole) / (2 * whole)).ok()
}

/// The month by site id, and the network's total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthlyFigures {
    pub by_site: HashMap<String, SiteFigures>,
    pub total: SiteFigures,
}

/// The network's monthly statistics: patients, enrolments, status changes, retention and
/// tests by the patient's home site; doses and home visits by the site that gave them.
pub fn monthly_figures(
    month: ReportMonth,
    patients: &[PatientMonthFacts],
    doses: &[MonthDose],
    tests: &[MonthTest],
) -> MonthlyFigures {
    let mut by_site: HashMap<String, SiteFigures> = HashMap::new();
    let home: HashMap<&str, &str> = patients.iter().map(|p| (p.id.as_str(), p.home_site_id.as_str())).collect();

    for dose in doses {
        let site = by_site.entry(dose.site_id.clone()).or_default();
        site.doses += 1;
        site.dose_deci_mg += dose.deci_mg;
        site.home_visits += u32::from(dose.home_visit);
    }
    let dosed: std::collections::HashSet<&str> = doses.iter().map(|d| d.patient_id.as_str()).collect();
    for p in patients {
        let site = by_site.entry(p.home_site_id.clone()).or_default();
        site.in_treatment += u32::from(p.in_treatment(month, dosed.contains(p.id.as_str())));
        site.new_enrolments += u32::from(month.contains(p.enrolled_on));
        for change in p.status_changes.iter().filter(|c| month.contains(c.on)) {
            site.dropouts += u32::from(change.to == PatientStatus::DroppedOut);
            site.reentries += u32::from(change.from == PatientStatus::DroppedOut && change.to == PatientStatus::Active);
        }
        if p.active_at_start(month) {
            site.active_at_start += 1;
            site.retained += u32::from(p.status_on(month.last_day()) == PatientStatus::Active);
        }
    }
    for test in tests {
        let Some(home_site) = home.get(test.patient_id.as_str()) else { continue };
        let site = by_site.entry((*home_site).to_string()).or_default();
        if test.result != TestResult::Refused {
            match test.kind {
                TestKind::Urine => site.urine_tests += 1,
                TestKind::Hair => site.hair_tests += 1,
            }
        }
        if matches!(test.result, TestResult::Negative | TestResult::Positive) {
            site.tests_with_result += 1;
            site.positive_tests += u32::from(test.result == TestResult::Positive);
        }
    }
    let mut total = SiteFigures::default();
    for figures in by_site.values() {
        total.add(figures);
    }
    MonthlyFigures { by_site, total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::orders::{Order, Phase};
    use crate::domain::quantity::DeciMg;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn november() -> ReportMonth {
        ReportMonth::parse("2026-11").unwrap()
    }

    #[test]
    fn a_month_is_exactly_yyyy_mm() {
        let m = november();
        assert_eq!((m.first_day(), m.last_day()), (d("2026-11-01"), d("2026-11-30")));
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(m.chinese(), "2026年11月");
        assert_eq!(m.days().count(), 30);
        for bad in ["2026-13", "2026-00", "2026-1", "2026/11", "26-11", "2026-11-01", "", "２０２６-11", "+026-11"]
        {
            assert_eq!(ReportMonth::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn december_ends_on_new_years_eve_and_february_on_its_last_day() {
        let dec = ReportMonth::parse("2026-12").unwrap();
        assert_eq!(dec.last_day(), d("2026-12-31"));
        assert_eq!(dec.next_first_day(), d("2027-01-01"));
        assert_eq!(ReportMonth::parse("2028-02").unwrap().last_day(), d("2028-02-29"));
        assert_eq!(ReportMonth::parse("2026-02").unwrap().days().count(), 28);
    }

    use DayStatus::*;

    #[test]
    fn days_are_counted_by_status() {
        let f = attendance_figures([Dosed, Dosed, HomeVisit, Missed, Excused, Withheld, NoOrder, Due]);
        assert_eq!((f.dosed, f.home_visit, f.missed, f.excused, f.withheld), (2, 1, 1, 1, 1));
    }

    #[test]
    fn a_dose_or_a_home_visit_ends_a_run_of_missed_days() {
        assert_eq!(attendance_figures([Missed, Missed, Dosed, Missed]).longest_missed_run, 2);
        assert_eq!(attendance_figures([Missed, HomeVisit, Missed, Missed, Missed]).longest_missed_run, 3);
        assert_eq!(attendance_figures([Dosed, Dosed]).longest_missed_run, 0);
    }

    #[test]
    fn a_withheld_day_counts_in_the_run_as_the_missed_day_rule_counts_it() {
        assert_eq!(attendance_figures([Missed, Withheld, Missed, Dosed]).longest_missed_run, 3);
    }

    #[test]
    fn excused_days_and_days_without_an_order_neither_count_nor_end_a_run() {
        let f = attendance_figures([Missed, Missed, Excused, Excused, Missed, NoOrder, Missed, Dosed]);
        assert_eq!(f.longest_missed_run, 4);
        assert_eq!(f.missed, 4);
    }

    #[test]
    fn tenths_of_a_percent_round_half_up() {
        assert_eq!(tenths_of_percent(2, 3), Some(667));
        assert_eq!(tenths_of_percent(1, 3), Some(333));
        assert_eq!(tenths_of_percent(1, 8), Some(125));
        assert_eq!(tenths_of_percent(3, 3), Some(1000));
        assert_eq!(tenths_of_percent(0, 0), None);
    }

    fn order(effective: &str, end: Option<&str>) -> Order {
        Order {
            id: format!("order-{effective}"),
            daily: DeciMg::from_mg(60),
            portions: None,
            start_date: d(effective),
            end_date: end.map(d),
            phase: Phase::Induction,
            starts_episode: true,
            last_dose_on: None,
            effective_from: Some(d(effective)),
        }
    }

    fn patient(id: &str, site: &str, enrolled: &str, orders: Vec<Order>) -> PatientMonthFacts {
        PatientMonthFacts {
            id: id.into(),
            home_site_id: site.into(),
            enrolled_on: d(enrolled),
            status_now: PatientStatus::Active,
            status_changes: Vec::new(),
            orders: OrderBook::new(orders),
        }
    }

    fn change(on: &str, from: PatientStatus, to: PatientStatus) -> StatusChangeOn {
        StatusChangeOn { on: d(on), from, to }
    }

    #[test]
    fn the_status_on_a_day_comes_from_the_changes_around_it() {
        let mut p = patient("p", "LS", "2026-01-01", vec![]);
        p.status_now = PatientStatus::Active;
        p.status_changes = vec![
            change("2026-11-10", PatientStatus::Active, PatientStatus::DroppedOut),
            change("2026-11-20", PatientStatus::DroppedOut, PatientStatus::Active),
        ];
        assert_eq!(p.status_on(d("2026-11-09")), PatientStatus::Active);
        assert_eq!(p.status_on(d("2026-11-10")), PatientStatus::DroppedOut);
        assert_eq!(p.status_on(d("2026-11-19")), PatientStatus::DroppedOut);
        assert_eq!(p.status_on(d("2026-11-20")), PatientStatus::Active);
        // Before any change: what the first change started from, not today's status.
        p.status_now = PatientStatus::Discharged;
        p.status_changes = vec![change("2026-12-05", PatientStatus::Active, PatientStatus::Discharged)];
        assert_eq!(p.status_on(d("2026-11-30")), PatientStatus::Active);
    }

    #[test]
    fn in_treatment_means_an_order_on_an_active_day_or_a_dose() {
        let m = november();
        assert!(patient("a", "LS", "2026-10-01", vec![order("2026-11-29", None)]).in_treatment(m, false));
        // An order that ended before the month, and no dose: not in treatment.
        assert!(!patient("b", "LS", "2026-10-01", vec![order("2026-10-01", Some("2026-10-31"))]).in_treatment(m, false));
        assert!(patient("b", "LS", "2026-10-01", vec![]).in_treatment(m, true));
        // Dropped out in October with the order still open: not in treatment in November.
        let mut c = patient("c", "LS", "2026-09-01", vec![order("2026-09-01", None)]);
        c.status_now = PatientStatus::DroppedOut;
        c.status_changes = vec![change("2026-10-12", PatientStatus::Active, PatientStatus::DroppedOut)];
        assert!(!c.in_treatment(m, false));
    }

    #[test]
    fn figures_go_to_the_home_site_and_doses_to_the_site_that_gave_them() {
        let m = november();
        let mut dropped = patient("c", "LS", "2026-09-01", vec![order("2026-09-01", None)]);
        dropped.status_now = PatientStatus::DroppedOut;
        dropped.status_changes = vec![change("2026-11-12", PatientStatus::Active, PatientStatus::DroppedOut)];
        let mut back = patient("d", "HQ", "2026-08-01", vec![order("2026-11-20", None)]);
        back.status_changes = vec![
            change("2026-10-20", PatientStatus::Active, PatientStatus::DroppedOut),
            change("2026-11-18", PatientStatus::DroppedOut, PatientStatus::Active),
        ];
        let patients = vec![
            patient("a", "LS", "2026-10-01", vec![order("2026-10-01", None)]),
            patient("b", "HQ", "2026-11-05", vec![order("2026-11-05", None)]),
            dropped,
            back,
        ];
        let dose = |p: &str, site: &str, deci_mg: i64, home_visit: bool| MonthDose {
            patient_id: p.into(),
            site_id: site.into(),
            deci_mg,
            home_visit,
        };
        // Patient a is a guest at HQ once.
        let doses = vec![
            dose("a", "LS", 600, false),
            dose("a", "HQ", 600, false),
            dose("b", "HQ", 300, false),
            dose("b", "HQ", 325, true),
        ];
        let test = |p: &str, kind, result| MonthTest { patient_id: p.into(), kind, result };
        let tests = vec![
            test("a", TestKind::Urine, TestResult::Positive),
            test("a", TestKind::Urine, TestResult::Negative),
            test("a", TestKind::Hair, TestResult::Pending),
            test("c", TestKind::Urine, TestResult::Refused),
            test("b", TestKind::Urine, TestResult::Negative),
        ];
        let f = monthly_figures(m, &patients, &doses, &tests);
        let ls = &f.by_site["LS"];
        let hq = &f.by_site["HQ"];
        assert_eq!((ls.doses, ls.dose_deci_mg, hq.doses, hq.dose_deci_mg, hq.home_visits), (1, 600, 3, 1225, 1));
        // a and c (active until the 12th) at LS; b (new) and d (back on the 18th) at HQ.
        assert_eq!((ls.in_treatment, hq.in_treatment), (2, 2));
        assert_eq!((ls.new_enrolments, hq.new_enrolments), (0, 1));
        assert_eq!((ls.dropouts, ls.reentries, hq.dropouts, hq.reentries), (1, 0, 0, 1));
        // LS: a and c active on 1 November, only a at the end. HQ: b enrolled in the month, d dropped out.
        assert_eq!((ls.active_at_start, ls.retained, ls.retention_tenths()), (2, 1, Some(500)));
        assert_eq!((hq.active_at_start, hq.retention_tenths()), (0, None));
        // The refusal is no test done; the pending hair test is, without a result.
        assert_eq!((ls.urine_tests, ls.hair_tests, ls.tests_with_result, ls.positive_tests), (2, 1, 2, 1));
        assert_eq!(ls.positive_rate_tenths(), Some(500));
        assert_eq!(f.total.doses, 4);
        assert_eq!(f.total.in_treatment, 4);
        assert_eq!(f.total.positive_rate_tenths(), Some(333));
    }
}
