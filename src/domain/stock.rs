//! The controlled-substance ledger (RULES.md, "Stock"): products and their concentration,
//! mg↔mL, which product a site dispenses, the day a ledger line is booked to, the one
//! balance function, and the day close's tolerance.
//!
//! Volumes are whole hundredths of a mL ([`CentiMl`]): a dose of 0.1 mg is 0.1 mL at
//! 1 mg/mL and 0.01 mL at 10 mg/mL, so both convert exactly. Concentrations are whole mg per
//! mL dividing 10 (1, 2, 5, 10), for the same reason.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::codes::ErrorCode;
use super::quantity::DeciMg;
use super::RuleViolation;

/// A volume in hundredths of a mL (may be negative for a change).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CentiMl(pub i64);

impl CentiMl {
    pub const ZERO: CentiMl = CentiMl(0);

    /// Parses an API number of mL with at most two decimals (e.g. 62.5 or 6.25).
    pub fn parse_ml(value: f64) -> Result<CentiMl, &'static str> {
        if !value.is_finite() {
            return Err("must be a number of mL");
        }
        if value.abs() > 1_000_000.0 {
            return Err("is not a plausible volume");
        }
        let hundredths = value * 100.0;
        let rounded = hundredths.round();
        if (hundredths - rounded).abs() > 1e-6 {
            return Err("may have at most two decimals");
        }
        Ok(CentiMl(rounded as i64))
    }

    /// For the API: mL as a number with at most two decimals.
    pub fn ml(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// "62.5" or "6.25" or "-1", for messages and prints.
    pub fn text(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        match a % 100 {
            0 => format!("{sign}{}", a / 100),
            r if r % 10 == 0 => format!("{sign}{}.{}", a / 100, r / 10),
            r => format!("{sign}{}.{r:02}", a / 100),
        }
    }

    pub fn abs(self) -> CentiMl {
        CentiMl(self.0.abs())
    }
}

impl std::ops::Add for CentiMl {
    type Output = CentiMl;
    fn add(self, rhs: CentiMl) -> CentiMl {
        CentiMl(self.0 + rhs.0)
    }
}

impl std::ops::Sub for CentiMl {
    type Output = CentiMl;
    fn sub(self, rhs: CentiMl) -> CentiMl {
        CentiMl(self.0 - rhs.0)
    }
}

impl std::ops::Neg for CentiMl {
    type Output = CentiMl;
    fn neg(self) -> CentiMl {
        CentiMl(-self.0)
    }
}

impl std::iter::Sum for CentiMl {
    fn sum<I: Iterator<Item = CentiMl>>(iter: I) -> CentiMl {
        CentiMl(iter.map(|v| v.0).sum())
    }
}

/// A product's concentration in whole mg per mL; only divisors of 10, so that every dose
/// of whole tenths of a mg is a whole number of hundredths of a mL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Concentration(u32);

impl Concentration {
    pub const ALLOWED: [u32; 4] = [1, 2, 5, 10];

    pub fn new(mg_per_ml: u32) -> Result<Concentration, &'static str> {
        if Self::ALLOWED.contains(&mg_per_ml) {
            Ok(Concentration(mg_per_ml))
        } else {
            Err("must be 1, 2, 5 or 10 mg/mL (methadone oral solution)")
        }
    }

    pub fn mg_per_ml(self) -> u32 {
        self.0
    }

    /// "1 mg/mL", shown beside every volume.
    pub fn label(self) -> String {
        format!("{} mg/mL", self.0)
    }
}

/// The volume of a dose at a concentration: mL = mg ÷ (mg/mL), exactly. The one mg→mL
/// conversion of the service.
pub fn volume_of(dose: DeciMg, c: Concentration) -> CentiMl {
    // dose.0 tenths of a mg = dose.0 / 10 mg; ÷ c mg/mL = dose.0 / (10 c) mL = dose.0 * 10 / c
    // hundredths of a mL, whole because c divides 10.
    CentiMl(dose.0 * 10 / i64::from(c.0))
}

/// The mg in a volume at a concentration, when it is a whole number of tenths of a mg.
pub fn dose_in(volume: CentiMl, c: Concentration) -> Option<DeciMg> {
    let tenths_times_ten = volume.0 * i64::from(c.0);
    (tenths_times_ten % 10 == 0).then_some(DeciMg(tenths_times_ten / 10))
}

crate::named_enum! {
    /// A manual ledger entry's kind (typed by staff, confirmed by a second person).
    pub enum EntryKind {
        Receipt = "receipt",
        TransferOut = "transfer_out",
        TransferIn = "transfer_in",
        Waste = "waste",
        Adjustment = "adjustment",
        /// Reverses a confirmed entry of this site (a mistake): the opposite movement.
        Reversal = "reversal",
    }
}

crate::named_enum! {
    /// A line of a site's ledger, typed or derived.
    pub enum LineKind {
        Receipt = "receipt",
        TransferIn = "transfer_in",
        TransferOut = "transfer_out",
        /// Doses given at the window (derived from the doses; never typed).
        Dispensed = "dispensed",
        HomeVisitOut = "home_visit_out",
        HomeVisitReturn = "home_visit_return",
        Waste = "waste",
        Adjustment = "adjustment",
        Reversal = "reversal",
        /// The counted volume minus the expected at a day close: after the close the ledger
        /// stands at what was counted.
        CloseDifference = "close_difference",
    }
}

/// One movement in a site's ledger for one product. `change` is signed: in positive, out
/// negative.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerLine {
    pub kind: LineKind,
    /// The day the movement happened (the dose day, the entry's day).
    pub day: NaiveDate,
    /// When it was recorded (a typed entry: its confirmation).
    pub at: DateTime<Utc>,
    pub change: CentiMl,
}

/// A confirmed day close: the day, when it was closed, what was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedDay {
    pub day: NaiveDate,
    pub closed_at: DateTime<Utc>,
    pub counted: CentiMl,
    pub expected: CentiMl,
}

/// The day a movement is booked to: its own day, unless that day was already closed when
/// it was recorded — then the next day not closed by then (a closed day is frozen). A
/// movement recorded at the very instant of the close was counted in it.
pub fn booking_day(day: NaiveDate, at: DateTime<Utc>, closes: &[ClosedDay]) -> NaiveDate {
    let mut d = day;
    while closes.iter().any(|c| c.day == d && c.closed_at < at) {
        d += Duration::days(1);
    }
    d
}

/// One day of a site's ledger for one product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DaySummary {
    #[schema(value_type = i64)]
    pub opening: CentiMl,
    #[schema(value_type = i64)]
    pub received: CentiMl,
    #[schema(value_type = i64)]
    pub transfer_in: CentiMl,
    #[schema(value_type = i64)]
    pub transfer_out: CentiMl,
    #[schema(value_type = i64)]
    pub dispensed: CentiMl,
    #[schema(value_type = i64)]
    pub home_visit_out: CentiMl,
    #[schema(value_type = i64)]
    pub home_visit_returned: CentiMl,
    #[schema(value_type = i64)]
    pub waste: CentiMl,
    /// Adjustments and reversals, signed.
    #[schema(value_type = i64)]
    pub adjusted: CentiMl,
    /// Everything in (positive movements) and out (negative, as a positive number).
    #[schema(value_type = i64)]
    pub total_in: CentiMl,
    #[schema(value_type = i64)]
    pub total_out: CentiMl,
    /// Opening + in − out: what should be on the shelf at the end of the day.
    #[schema(value_type = i64)]
    pub expected: CentiMl,
    /// The running balance went below zero during the day: an incident for the close.
    pub went_negative: bool,
    /// The close of the day, if confirmed: counted and the difference booked.
    pub closed: Option<ClosedSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClosedSummary {
    #[schema(value_type = i64)]
    pub counted: CentiMl,
    #[schema(value_type = i64)]
    pub expected: CentiMl,
}

/// The ledger from `from` to `to`, day by day, starting from the balance at the start of
/// `from`. The one balance function: the stock page, the day close, the PDFs and the tests
/// all read it. Lines are booked with [`booking_day`]; a close's difference is booked on
/// its day so that the next day opens at what was counted.
pub fn ledger_days(
    opening: CentiMl,
    lines: &[LedgerLine],
    closes: &[ClosedDay],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDate, DaySummary)> {
    let mut booked: Vec<(NaiveDate, &LedgerLine)> =
        lines.iter().map(|l| (booking_day(l.day, l.at, closes), l)).filter(|(d, _)| *d >= from && *d <= to).collect();
    // In time order; of lines at the same instant, what comes in before what goes out.
    booked.sort_by_key(|(d, l)| (*d, l.at, l.change.0 < 0));
    let mut out = Vec::new();
    let mut balance = opening;
    let mut day = from;
    let mut i = 0;
    while day <= to {
        let mut s = DaySummary { opening: balance, ..DaySummary::default() };
        while i < booked.len() && booked[i].0 == day {
            let l = booked[i].1;
            match l.kind {
                LineKind::Receipt => s.received = s.received + l.change,
                LineKind::TransferIn => s.transfer_in = s.transfer_in + l.change,
                LineKind::TransferOut => s.transfer_out = s.transfer_out - l.change,
                LineKind::Dispensed => s.dispensed = s.dispensed - l.change,
                LineKind::HomeVisitOut => s.home_visit_out = s.home_visit_out - l.change,
                LineKind::HomeVisitReturn => s.home_visit_returned = s.home_visit_returned + l.change,
                LineKind::Waste => s.waste = s.waste - l.change,
                LineKind::Adjustment | LineKind::Reversal => s.adjusted = s.adjusted + l.change,
                LineKind::CloseDifference => {}
            }
            if l.kind != LineKind::CloseDifference {
                if l.change.0 >= 0 {
                    s.total_in = s.total_in + l.change;
                } else {
                    s.total_out = s.total_out - l.change;
                }
                balance = balance + l.change;
                if balance.0 < 0 {
                    s.went_negative = true;
                }
            }
            i += 1;
        }
        s.expected = balance;
        if let Some(c) = closes.iter().find(|c| c.day == day) {
            s.closed = Some(ClosedSummary { counted: c.counted, expected: c.expected });
            balance = c.counted;
        }
        out.push((day, s));
        day += Duration::days(1);
    }
    out
}

/// The balance at the end of `day` (after its close, if any).
pub fn balance_after(
    opening: CentiMl,
    lines: &[LedgerLine],
    closes: &[ClosedDay],
    from: NaiveDate,
    day: NaiveDate,
) -> CentiMl {
    match ledger_days(opening, lines, closes, from, day).last() {
        Some((_, s)) => s.closed.map_or(s.expected, |c| c.counted),
        None => opening,
    }
}

/// Whether a day may be closed with this count: a gap above the tolerance, or a day whose
/// balance went below zero, needs an incident note.
pub fn check_close(
    expected: CentiMl,
    counted: CentiMl,
    went_negative: bool,
    has_incident_note: bool,
    tolerance: CentiMl,
) -> Result<(), RuleViolation> {
    let gap = counted - expected;
    if has_incident_note || (gap.abs() <= tolerance && !went_negative) {
        return Ok(());
    }
    let message = if went_negative {
        format!(
            "The ledger went below zero today (more was booked out than was on the shelf). Write an incident note \
             explaining it; a second person confirms the close. Counted {} mL, expected {} mL.",
            counted.text(),
            expected.text()
        )
    } else {
        format!(
            "Counted {} mL but {} mL is expected: a gap of {} mL, more than the {} mL allowed. Count again, or write \
             an incident note explaining the gap; a second person confirms it.",
            counted.text(),
            expected.text(),
            gap.text(),
            tolerance.text()
        )
    };
    Err(RuleViolation::new(ErrorCode::StockDiscrepancy, message).with_details(json!({
        "counted_ml": counted.ml(), "expected_ml": expected.ml(), "gap_ml": gap.ml(),
        "tolerance_ml": tolerance.ml(), "went_negative": went_negative,
    })))
}

/// Which product a site dispensed at an instant: the last one an admin set for it by then,
/// or — while the network had a single product — that one. `None`: doses cannot be booked
/// to a product (shown as such, never guessed).
pub fn dispensing_product_at<'a>(
    assignments: &'a [(DateTime<Utc>, String)],
    products: &'a [(DateTime<Utc>, String)],
    at: DateTime<Utc>,
) -> Option<&'a str> {
    if let Some((_, p)) = assignments.iter().filter(|(t, _)| *t <= at).max_by_key(|(t, _)| *t) {
        return Some(p);
    }
    let existing: Vec<&String> = products.iter().filter(|(t, _)| *t <= at).map(|(_, p)| p).collect();
    match existing.as_slice() {
        [only] => Some(only.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str, h: u32) -> DateTime<Utc> {
        Utc.from_utc_datetime(&d(s).and_hms_opt(h, 0, 0).unwrap())
    }

    fn c(mg: u32) -> Concentration {
        Concentration::new(mg).unwrap()
    }

    #[test]
    fn mg_to_ml_at_1_mg_per_ml() {
        for (mg, ml) in [(DeciMg(600), CentiMl(6000)), (DeciMg(625), CentiMl(6250)), (DeciMg(1), CentiMl(10))] {
            assert_eq!(volume_of(mg, c(1)), ml);
            assert_eq!(dose_in(ml, c(1)), Some(mg));
        }
    }

    #[test]
    fn mg_to_ml_at_10_mg_per_ml() {
        for (mg, ml) in [(DeciMg(600), CentiMl(600)), (DeciMg(625), CentiMl(625)), (DeciMg(1), CentiMl(1))] {
            assert_eq!(volume_of(mg, c(10)), ml);
            assert_eq!(dose_in(ml, c(10)), Some(mg));
        }
    }

    #[test]
    fn the_two_concentrations_differ_tenfold_never_equal() {
        let dose = DeciMg(600);
        assert_eq!(volume_of(dose, c(1)).text(), "60");
        assert_eq!(volume_of(dose, c(10)).text(), "6");
        assert_eq!(volume_of(DeciMg(625), c(10)).text(), "6.25");
    }

    #[test]
    fn a_volume_not_a_whole_tenth_of_a_mg_has_no_dose() {
        assert_eq!(dose_in(CentiMl(1), c(1)), None);
        assert_eq!(dose_in(CentiMl(5), c(2)), Some(DeciMg(1)));
    }

    #[test]
    fn only_concentrations_dividing_ten() {
        for ok in [1, 2, 5, 10] {
            assert!(Concentration::new(ok).is_ok());
        }
        for bad in [0, 3, 4, 20, 100] {
            assert!(Concentration::new(bad).is_err(), "{bad}");
        }
        assert_eq!(c(10).label(), "10 mg/mL");
    }

    #[test]
    fn ml_parse_with_two_decimals() {
        assert_eq!(CentiMl::parse_ml(62.5), Ok(CentiMl(6250)));
        assert_eq!(CentiMl::parse_ml(6.25), Ok(CentiMl(625)));
        assert_eq!(CentiMl::parse_ml(-1.0), Ok(CentiMl(-100)));
        assert!(CentiMl::parse_ml(6.255).is_err());
        assert!(CentiMl::parse_ml(f64::NAN).is_err());
        assert_eq!(CentiMl(-150).text(), "-1.5");
        assert_eq!(CentiMl(1005).text(), "10.05");
    }

    #[test]
    fn close_tolerance_at_the_edges() {
        let tol = CentiMl(100);
        let expected = CentiMl(100_000);
        // 0.9 mL and exactly 1.0 mL close; 1.1 mL needs a note, either way.
        for (gap, ok) in [(90, true), (100, true), (110, false), (-90, true), (-100, true), (-110, false)] {
            let r = check_close(expected, expected + CentiMl(gap), false, false, tol);
            assert_eq!(r.is_ok(), ok, "gap {gap}");
            if let Err(v) = r {
                assert_eq!(v.code, ErrorCode::StockDiscrepancy);
            }
            assert!(check_close(expected, expected + CentiMl(gap), false, true, tol).is_ok());
        }
    }

    #[test]
    fn a_day_that_went_negative_needs_a_note_even_when_the_count_matches() {
        let r = check_close(CentiMl(0), CentiMl(0), true, false, CentiMl(100));
        assert_eq!(r.unwrap_err().code, ErrorCode::StockDiscrepancy);
        assert!(check_close(CentiMl(0), CentiMl(0), true, true, CentiMl(100)).is_ok());
    }

    fn line(kind: LineKind, day: &str, h: u32, change: i64) -> LedgerLine {
        LedgerLine { kind, day: d(day), at: t(day, h), change: CentiMl(change) }
    }

    #[test]
    fn the_day_adds_up_opening_plus_in_minus_out() {
        let lines = vec![
            line(LineKind::Receipt, "2026-11-02", 1, 100_000),
            line(LineKind::Dispensed, "2026-11-02", 2, -6_000),
            line(LineKind::HomeVisitOut, "2026-11-02", 3, -4_000),
            line(LineKind::HomeVisitReturn, "2026-11-02", 8, 4_000),
            line(LineKind::Waste, "2026-11-02", 4, -50),
            line(LineKind::TransferOut, "2026-11-02", 5, -10_000),
            line(LineKind::Adjustment, "2026-11-02", 6, -25),
            line(LineKind::TransferIn, "2026-11-02", 7, 2_000),
        ];
        let days = ledger_days(CentiMl(5_000), &lines, &[], d("2026-11-02"), d("2026-11-03"));
        let s = &days[0].1;
        assert_eq!(s.opening, CentiMl(5_000));
        assert_eq!(s.received, CentiMl(100_000));
        assert_eq!(s.dispensed, CentiMl(6_000));
        assert_eq!(s.home_visit_out, CentiMl(4_000));
        assert_eq!(s.home_visit_returned, CentiMl(4_000));
        assert_eq!(s.waste, CentiMl(50));
        assert_eq!(s.transfer_out, CentiMl(10_000));
        assert_eq!(s.transfer_in, CentiMl(2_000));
        assert_eq!(s.adjusted, CentiMl(-25));
        assert_eq!(s.expected, CentiMl(5_000 + 100_000 - 6_000 - 4_000 + 4_000 - 50 - 10_000 - 25 + 2_000));
        assert_eq!(s.expected, s.opening + s.total_in - s.total_out);
        assert!(!s.went_negative);
        // The next day opens where this one ended.
        assert_eq!(days[1].1.opening, s.expected);
    }

    #[test]
    fn a_close_sets_the_next_opening_to_what_was_counted() {
        let lines = vec![line(LineKind::Dispensed, "2026-11-02", 2, -6_000)];
        let closes = [ClosedDay {
            day: d("2026-11-02"),
            closed_at: t("2026-11-02", 10),
            counted: CentiMl(3_950),
            expected: CentiMl(4_000),
        }];
        let days = ledger_days(CentiMl(10_000), &lines, &closes, d("2026-11-02"), d("2026-11-03"));
        assert_eq!(days[0].1.expected, CentiMl(4_000));
        assert_eq!(days[1].1.opening, CentiMl(3_950));
        assert_eq!(balance_after(CentiMl(10_000), &lines, &closes, d("2026-11-02"), d("2026-11-02")), CentiMl(3_950));
    }

    #[test]
    fn a_line_recorded_after_the_close_goes_to_the_next_open_day() {
        let closes = [
            ClosedDay {
                day: d("2026-11-02"),
                closed_at: t("2026-11-02", 10),
                counted: CentiMl(0),
                expected: CentiMl(0),
            },
            ClosedDay {
                day: d("2026-11-03"),
                closed_at: t("2026-11-03", 10),
                counted: CentiMl(0),
                expected: CentiMl(0),
            },
        ];
        // Before the close: its own day. After: the next day; if that one is closed too
        // by then, the day after.
        assert_eq!(booking_day(d("2026-11-02"), t("2026-11-02", 9), &closes), d("2026-11-02"));
        assert_eq!(booking_day(d("2026-11-02"), t("2026-11-02", 11), &closes), d("2026-11-03"));
        assert_eq!(booking_day(d("2026-11-02"), t("2026-11-03", 11), &closes), d("2026-11-04"));
        let lines = vec![line(LineKind::Receipt, "2026-11-02", 11, 500)];
        let days = ledger_days(CentiMl(0), &lines, &closes[..1], d("2026-11-02"), d("2026-11-03"));
        assert_eq!(days[0].1.received, CentiMl(0));
        assert_eq!(days[1].1.received, CentiMl(500));
    }

    #[test]
    fn a_balance_below_zero_is_flagged_not_refused() {
        let lines =
            vec![line(LineKind::Dispensed, "2026-11-02", 2, -600), line(LineKind::Receipt, "2026-11-02", 3, 1000)];
        let days = ledger_days(CentiMl(0), &lines, &[], d("2026-11-02"), d("2026-11-02"));
        assert!(days[0].1.went_negative);
        assert_eq!(days[0].1.expected, CentiMl(400));
    }

    #[test]
    fn the_dispensing_product_is_the_one_set_or_the_only_one() {
        let products = vec![(t("2026-11-01", 0), "p1".to_string())];
        assert_eq!(dispensing_product_at(&[], &products, t("2026-11-02", 0)), Some("p1"));
        assert_eq!(dispensing_product_at(&[], &products, t("2026-10-31", 0)), None);
        let two = vec![(t("2026-11-01", 0), "p1".to_string()), (t("2026-11-05", 0), "p10".to_string())];
        assert_eq!(dispensing_product_at(&[], &two, t("2026-11-06", 0)), None, "two products and none set");
        assert_eq!(dispensing_product_at(&[], &two, t("2026-11-04", 0)), Some("p1"), "still one then");
        let set = vec![(t("2026-11-06", 0), "p10".to_string()), (t("2026-11-07", 0), "p1".to_string())];
        assert_eq!(dispensing_product_at(&set, &two, t("2026-11-06", 12)), Some("p10"));
        assert_eq!(dispensing_product_at(&set, &two, t("2026-11-08", 0)), Some("p1"));
    }
}
