//! Dates a client sends: read only in ISO form with a four-digit year, and checked against
//! a sane window before any work, so that no date can make a request expensive or be
//! silently misread (`26-11-30` is not the year 26; `9999-12-31` is not a start date).

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Deserializer};

/// No date anywhere is earlier than this.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// How far from today a working-day view (a site's queue, the reviews or tests due, a
/// day's random draw) may look: a year either way.
pub const DAY_VIEW_DAYS: i64 = 366;

/// How far ahead things may be planned: an order's start, an absence, guest dosing.
pub const PLAN_AHEAD_DAYS: i64 = 90;

/// Reads exactly `YYYY-MM-DD`: four-digit year, two-digit month and day.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year = text[..4].parse().ok()?;
    let month = text[5..7].parse().ok()?;
    let day = text[8..].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn from_text<E: serde::de::Error>(text: &str) -> Result<NaiveDate, E> {
    parse_iso_date(text).ok_or_else(|| {
        let shown: String = text.chars().take(20).collect();
        E::custom(format!("{shown:?} is not a date written YYYY-MM-DD (four-digit year), e.g. 2026-11-30"))
    })
}

/// `#[serde(deserialize_with = "iso")]` for a required date.
pub fn iso<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
    let text = String::deserialize(deserializer)?;
    from_text(&text)
}

/// `#[serde(default, deserialize_with = "iso_opt")]` for an optional date (absent, `null`
/// or an empty query parameter mean none).
pub fn iso_opt<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => from_text(&text).map(Some),
    }
}

/// The dates a field may hold, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub earliest: NaiveDate,
    pub latest: NaiveDate,
}

impl Window {
    pub fn new(earliest: NaiveDate, latest: NaiveDate) -> Window {
        Window { earliest: earliest.max(EARLIEST), latest }
    }

    /// From `back` days before `today` to `ahead` days after it.
    pub fn around(today: NaiveDate, back: i64, ahead: i64) -> Window {
        Window::new(today - Duration::days(back), today + Duration::days(ahead))
    }

    /// A working-day view: within a year of today.
    pub fn day_view(today: NaiveDate) -> Window {
        Window::around(today, DAY_VIEW_DAYS, DAY_VIEW_DAYS)
    }

    /// Something that has happened: from 1900 (or `since`) up to today.
    pub fn past(since: NaiveDate, today: NaiveDate) -> Window {
        Window::new(since, today)
    }

    /// Why `date` is outside the window, in words naming both ends; `None` when inside.
    pub fn problem(&self, date: NaiveDate) -> Option<String> {
        if date < self.earliest || date > self.latest {
            Some(if self.earliest == self.latest {
                format!("must be {}", self.earliest)
            } else if self.earliest > self.latest {
                "no date is possible here".to_string()
            } else {
                format!("must be between {} and {}", self.earliest, self.latest)
            })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn only_iso_dates_with_four_digit_years_are_read() {
        assert_eq!(parse_iso_date("2026-11-30"), Some(d(2026, 11, 30)));
        assert_eq!(parse_iso_date("2028-02-29"), Some(d(2028, 2, 29)));
        for bad in [
            "26-11-30",
            "0026-11-30x",
            "-0001-01-01",
            "+2026-11-30",
            "02026-11-30",
            "2026-1-30",
            "2026/11/30",
            "2026-11-31",
            "2027-02-29",
            "２０２６-11-30",
            "",
            "2026-11-30T00:00",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_strict_date_field_names_the_value_it_refused() {
        #[derive(Deserialize, Debug)]
        struct Body {
            #[serde(deserialize_with = "iso")]
            start_date: NaiveDate,
            #[serde(default, deserialize_with = "iso_opt")]
            end_date: Option<NaiveDate>,
        }
        let ok: Body = serde_json::from_str(r#"{"start_date":"2026-11-30"}"#).unwrap();
        assert_eq!((ok.start_date, ok.end_date), (d(2026, 11, 30), None));
        let ok: Body = serde_json::from_str(r#"{"start_date":"2026-11-30","end_date":null}"#).unwrap();
        assert_eq!(ok.end_date, None);
        let err = serde_json::from_str::<Body>(r#"{"start_date":"26-11-30"}"#).unwrap_err();
        assert!(err.to_string().contains("\"26-11-30\" is not a date written YYYY-MM-DD"), "{err}");
        assert!(serde_json::from_str::<Body>(r#"{"start_date":"2026-11-30","end_date":"9999-99-99"}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"start_date":20261130}"#).is_err());
    }

    #[test]
    fn a_window_holds_its_ends_and_nothing_beyond() {
        let today = d(2026, 11, 30);
        let w = Window::day_view(today);
        assert_eq!((w.earliest, w.latest), (d(2025, 11, 29), d(2027, 12, 1)));
        assert_eq!(w.problem(w.earliest), None);
        assert_eq!(w.problem(w.latest), None);
        assert_eq!(w.problem(d(2027, 12, 2)).as_deref(), Some("must be between 2025-11-29 and 2027-12-01"));
        assert!(w.problem(d(9999, 12, 31)).is_some());
        assert!(w.problem(d(1, 1, 1)).is_some());
    }

    #[test]
    fn nothing_is_before_1900() {
        let w = Window::past(d(1066, 10, 14), d(2026, 11, 30));
        assert_eq!(w.earliest, d(1900, 1, 1));
        assert!(w.problem(d(1899, 12, 31)).is_some());
        assert_eq!(w.problem(d(1900, 1, 1)), None);
    }

    #[test]
    fn a_window_with_no_room_says_so() {
        let w = Window::new(d(2026, 12, 1), d(2026, 11, 30));
        assert_eq!(w.problem(d(2026, 11, 30)).as_deref(), Some("no date is possible here"));
        let one = Window::new(d(2026, 11, 30), d(2026, 11, 30));
        assert_eq!(one.problem(d(2026, 11, 29)).as_deref(), Some("must be 2026-11-30"));
    }
}
