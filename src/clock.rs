//! The one source of "now". Everything that needs the time asks a `Clock`; with
//! `MMT_TEST_CLOCK=1` an admin can set it, and it then stays where it was set.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, NaiveDate, Utc};
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

/// The instant (as a UTC timestamp) at which a local day begins in `zone`.
pub fn local_midnight(day: chrono::NaiveDate, zone: Tz) -> chrono::NaiveDateTime {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    midnight.and_local_timezone(zone).earliest().map_or(midnight, |t| t.naive_utc())
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
}
