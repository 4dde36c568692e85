//! The one source of "now". Everything that needs the time asks a `Clock`; with
//! `MMT_TEST_CLOCK=1` an admin can set it, and it then stays where it was set.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

#[derive(Clone)]
pub struct Clock(Arc<Inner>);

enum Inner {
    System,
    Settable(RwLock<DateTime<Utc>>),
}

impl Clock {
    pub fn system() -> Self {
        Clock(Arc::new(Inner::System))
    }

    /// A clock that starts at `start` and moves only when set.
    pub fn settable(start: DateTime<Utc>) -> Self {
        Clock(Arc::new(Inner::Settable(RwLock::new(start))))
    }

    pub fn is_settable(&self) -> bool {
        matches!(*self.0, Inner::Settable(_))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &*self.0 {
            Inner::System => Utc::now(),
            Inner::Settable(t) => *t.read().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Sets a settable clock; `false` for the system clock.
    pub fn set(&self, now: DateTime<Utc>) -> bool {
        match &*self.0 {
            Inner::System => false,
            Inner::Settable(t) => {
                *t.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
                true
            }
        }
    }

    /// Today's dose day: the calendar date in the clinic's time zone.
    pub fn today(&self, tz: Tz) -> NaiveDate {
        self.now().with_timezone(&tz).date_naive()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Inner::System => f.write_str("Clock::System"),
            Inner::Settable(_) => write!(f, "Clock::Settable({})", self.now()),
        }
    }
}

/// The instant at which the clinic's wall clock shows `time` on `day`. When the clocks go
/// back and the time happens twice, the first; when they go forward over it (the time does
/// not exist that day), the first instant after the jump, so that a day always has a start
/// and a nightly job always runs.
pub fn local_instant(day: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let wanted = day.and_time(time);
    // Gaps are on whole minutes and at most a day long (Samoa skipped 30 December 2011).
    for minutes in 0..=(24 * 60 + 1) {
        if let Some(t) = (wanted + chrono::Duration::minutes(minutes)).and_local_timezone(zone).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    wanted.and_utc()
}

/// The instant (as a UTC timestamp) at which a local day begins in `zone`.
pub fn local_midnight(day: NaiveDate, zone: Tz) -> chrono::NaiveDateTime {
    local_instant(day, NaiveTime::MIN, zone).naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_settable_clock_stays_where_it_was_set() {
        let start = Utc.with_ymd_and_hms(2026, 11, 29, 0, 0, 0).unwrap();
        let clock = Clock::settable(start);
        assert_eq!(clock.now(), start);
        let later = start + chrono::Duration::hours(20);
        assert!(clock.set(later));
        assert_eq!(clock.now(), later);
    }

    #[test]
    fn the_system_clock_cannot_be_set() {
        assert!(!Clock::system().set(Utc::now()));
    }

    #[test]
    fn the_dose_day_is_the_date_in_the_clinic_time_zone() {
        // 16:30 UTC on the 28th is 00:30 on the 29th in Shanghai.
        let clock = Clock::settable(Utc.with_ymd_and_hms(2026, 11, 28, 16, 30, 0).unwrap());
        assert_eq!(clock.today(chrono_tz::Asia::Shanghai), NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
        assert_eq!(clock.today(chrono_tz::UTC), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_day_begins_at_local_midnight() {
        // Shanghai is UTC+8 all year: the 1st of December begins at 16:00 UTC on 30 November.
        let shanghai = chrono_tz::Asia::Shanghai;
        assert_eq!(local_midnight(day(2026, 12, 1), shanghai), utc(2026, 11, 30, 16, 0).naive_utc());
        // New York: EST (UTC-5) in January, EDT (UTC-4) in July.
        let ny = chrono_tz::America::New_York;
        assert_eq!(local_midnight(day(2027, 1, 15), ny), utc(2027, 1, 15, 5, 0).naive_utc());
        assert_eq!(local_midnight(day(2027, 7, 15), ny), utc(2027, 7, 15, 4, 0).naive_utc());
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_begins_when_the_clocks_jump() {
        // Havana moved its clocks from 00:00 to 01:00 on 8 March 2026: the day began at
        // 00:00 standard time (UTC-5), 05:00 UTC, shown as 01:00 local.
        let havana = chrono_tz::America::Havana;
        assert_eq!(local_midnight(day(2026, 3, 8), havana), utc(2026, 3, 8, 5, 0).naive_utc());
        // Samoa skipped 30 December 2011 entirely: that day "begins" when the 31st does.
        let apia = chrono_tz::Pacific::Apia;
        assert_eq!(local_midnight(day(2011, 12, 30), apia), local_midnight(day(2011, 12, 31), apia));
    }

    #[test]
    fn a_local_time_that_happens_twice_is_its_first_occurrence() {
        // New York fell back from 02:00 EDT to 01:00 EST on 1 November 2026: 01:30 happened at
        // 05:30 UTC and again at 06:30 UTC.
        let ny = chrono_tz::America::New_York;
        let t = local_instant(day(2026, 11, 1), NaiveTime::from_hms_opt(1, 30, 0).unwrap(), ny);
        assert_eq!(t, utc(2026, 11, 1, 5, 30));
    }

    #[test]
    fn a_local_time_skipped_by_the_clocks_is_the_first_instant_after_the_jump() {
        // New York sprang forward from 02:00 EST to 03:00 EDT on 14 March 2027: 02:30 did not
        // exist; the first instant after is 03:00 EDT, 07:00 UTC.
        let ny = chrono_tz::America::New_York;
        let t = local_instant(day(2027, 3, 14), NaiveTime::from_hms_opt(2, 30, 0).unwrap(), ny);
        assert_eq!(t, utc(2027, 3, 14, 7, 0));
    }

    #[test]
    fn the_dose_day_changes_at_local_midnight_not_at_utc_midnight() {
        let shanghai = chrono_tz::Asia::Shanghai;
        // 23:59 local on the 30th (15:59 UTC) and 00:01 local on the 1st (16:01 UTC, still
        // the 30th in UTC): a month end in the clinic's zone.
        assert_eq!(Clock::settable(utc(2026, 11, 30, 15, 59)).today(shanghai), day(2026, 11, 30));
        assert_eq!(Clock::settable(utc(2026, 11, 30, 16, 1)).today(shanghai), day(2026, 12, 1));
        // Across New York's spring-forward night the dose day is still the calendar date.
        let ny = chrono_tz::America::New_York;
        assert_eq!(Clock::settable(utc(2027, 3, 14, 4, 59)).today(ny), day(2027, 3, 13));
        assert_eq!(Clock::settable(utc(2027, 3, 14, 5, 0)).today(ny), day(2027, 3, 14));
        assert_eq!(Clock::settable(utc(2027, 3, 15, 3, 59)).today(ny), day(2027, 3, 14));
        assert_eq!(Clock::settable(utc(2027, 3, 15, 4, 0)).today(ny), day(2027, 3, 15));
    }
}
