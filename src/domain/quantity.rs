//! Quantities as integers: doses in tenths of a mg, volumes in tenths of a mL. No floats
//! are stored or summed; the API's decimal numbers are parsed at the edge.

use serde::Serialize;

/// A dose in tenths of a milligram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DeciMg(pub i64);

impl DeciMg {
    pub const ZERO: DeciMg = DeciMg(0);

    pub fn from_mg(mg: u32) -> DeciMg {
        DeciMg(i64::from(mg) * 10)
    }

    /// Parses an API number of mg with at most one decimal (e.g. 62.5).
    pub fn parse_mg(value: f64) -> Result<DeciMg, &'static str> {
        if !value.is_finite() || value < 0.0 {
            return Err("must be a number of mg, 0 or more");
        }
        if value > 10_000.0 {
            return Err("is not a plausible dose");
        }
        let tenths = value * 10.0;
        let rounded = tenths.round();
        if (tenths - rounded).abs() > 1e-6 {
            return Err("may have at most one decimal");
        }
        Ok(DeciMg(rounded as i64))
    }

    /// For the API: mg as a number with at most one decimal.
    pub fn mg(self) -> f64 {
        self.0 as f64 / 10.0
    }

    /// Half of this dose, rounded down to whole mg (the missed-day table).
    pub fn half_whole_mg(self) -> DeciMg {
        DeciMg((self.0 / 2) / 10 * 10)
    }

    /// "60" or "62.5", for messages.
    pub fn text(self) -> String {
        if self.0 % 10 == 0 {
            format!("{}", self.0 / 10)
        } else {
            format!("{}.{}", self.0 / 10, self.0 % 10)
        }
    }
}

impl std::ops::Add for DeciMg {
    type Output = DeciMg;
    fn add(self, rhs: DeciMg) -> DeciMg {
        DeciMg(self.0 + rhs.0)
    }
}

impl std::ops::Sub for DeciMg {
    type Output = DeciMg;
    fn sub(self, rhs: DeciMg) -> DeciMg {
        DeciMg(self.0 - rhs.0)
    }
}

impl std::iter::Sum for DeciMg {
    fn sum<I: Iterator<Item = DeciMg>>(iter: I) -> DeciMg {
        DeciMg(iter.map(|d| d.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg_with_one_decimal_parse_exactly() {
        assert_eq!(DeciMg::parse_mg(60.0), Ok(DeciMg(600)));
        assert_eq!(DeciMg::parse_mg(62.5), Ok(DeciMg(625)));
        assert_eq!(DeciMg::parse_mg(0.1), Ok(DeciMg(1)));
        assert_eq!(DeciMg::parse_mg(0.0), Ok(DeciMg(0)));
    }

    #[test]
    fn more_decimals_or_nonsense_are_refused() {
        assert!(DeciMg::parse_mg(62.55).is_err());
        assert!(DeciMg::parse_mg(-5.0).is_err());
        assert!(DeciMg::parse_mg(f64::NAN).is_err());
        assert!(DeciMg::parse_mg(f64::INFINITY).is_err());
        assert!(DeciMg::parse_mg(1e9).is_err());
    }

    #[test]
    fn half_is_rounded_down_to_whole_mg() {
        assert_eq!(DeciMg(600).half_whole_mg(), DeciMg(300));
        assert_eq!(DeciMg(650).half_whole_mg(), DeciMg(320));
        assert_eq!(DeciMg(625).half_whole_mg(), DeciMg(310));
        assert_eq!(DeciMg(10).half_whole_mg(), DeciMg(0));
    }

    #[test]
    fn text_shows_a_decimal_only_when_there_is_one() {
        assert_eq!(DeciMg(600).text(), "60");
        assert_eq!(DeciMg(625).text(), "62.5");
        assert_eq!(DeciMg(5).text(), "0.5");
    }
}
