//! The day sheet: what a dispensing site's window keeps for each patient assigned to it
//! today, so that it can go on deciding when the server cannot be reached.
//!
//! An entry holds the rule inputs that do not change during the day (the order, the missed
//! days and what they allow, a doctor's review, a withheld dose, the patient's status) as
//! [`decide`] computed them from the server's records, and the doses already given today.
//! The browser's offline copy of the decision (`static/js/offline-decision.js`) works from
//! an entry and the doses it records itself; [`decide`] stays the one reference, and
//! `tests/offline_decision.rs` checks that the copy agrees with it on generated days and
//! event sequences.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::dispensing::{consecutive_missed_days, missed_day_limit, PatientDay, PatientStatus};
use super::rules::RuleSet;

/// One patient's line of a site's day sheet (amounts in tenths of a milligram).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SheetEntry {
    pub date: NaiveDate,
    /// The patient's status allows a dose.
    pub active: bool,
    /// The order that covers the day, if any.
    pub order: Option<SheetOrder>,
    pub missed_days: u32,
    /// The missed days need a doctor's review before any dose today.
    pub review_needed: bool,
    /// The missed days suspend the order: only a new induction order helps.
    pub suspended: bool,
    /// The most the day allows after the missed days (the order's daily amount when none).
    pub limit_deci_mg: i64,
    /// A doctor's review for the day: the amount it approves.
    pub review_deci_mg: Option<i64>,
    /// A dose was withheld today (intoxication): a doctor's review comes first.
    pub withheld: bool,
    /// Doses that stand today.
    pub doses: Vec<SheetDose>,
    /// The rule's hours between the two portions of a split order.
    pub split_min_interval_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SheetOrder {
    pub id: String,
    pub daily_deci_mg: i64,
    /// The two portions of a split order.
    pub portions_deci_mg: Option<[i64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SheetDose {
    pub portion: u8,
    pub deci_mg: i64,
    pub given_at: DateTime<Utc>,
}

/// The day sheet's entry for a patient's day.
pub fn sheet_entry(day: &PatientDay<'_>, rules: &RuleSet) -> SheetEntry {
    let missed = consecutive_missed_days(day.date, day.orders, day.last_dose_day, day.excused);
    let order = day.orders.active_on(day.date);
    let (limit, review_needed) =
        order.map_or((super::quantity::DeciMg::ZERO, false), |o| missed_day_limit(o.daily, missed, rules));
    SheetEntry {
        date: day.date,
        active: day.status == PatientStatus::Active,
        order: order.map(|o| SheetOrder {
            id: o.id.clone(),
            daily_deci_mg: o.daily.0,
            portions_deci_mg: o.portions.map(|[a, b]| [a.0, b.0]),
        }),
        missed_days: missed,
        review_needed,
        suspended: missed >= rules.missed_days_suspend,
        limit_deci_mg: limit.0,
        review_deci_mg: day.review.map(|r| r.0),
        withheld: day.withheld,
        doses: day
            .doses
            .iter()
            .map(|d| SheetDose { portion: d.portion, deci_mg: d.amount.0, given_at: d.given_at })
            .collect(),
        split_min_interval_hours: rules.split_min_interval_hours,
    }
}

/// When a day's sheets are fixed: the evening before, at this clinic time. The windows take
/// the next day's sheet from then on; an arrangement made later moves the day only once the
/// site that held it has released it (see [`assignment`]).
pub const SHEETS_FIXED_AT_HOUR: u32 = 18;

/// When the day sheets of `date` were fixed: the evening before at [`SHEETS_FIXED_AT_HOUR`],
/// clinic time (as a UTC timestamp).
pub fn sheets_fixed_at(date: NaiveDate, zone: Tz) -> NaiveDateTime {
    let evening = NaiveTime::from_hms_opt(SHEETS_FIXED_AT_HOUR, 0, 0).unwrap_or_default();
    crate::clock::local_instant(date - Duration::days(1), evening, zone).naive_utc()
}

/// How many days back a dose given offline may still be uploaded. A dose of an earlier day
/// than today can no longer be recorded as given (the day is closed): it becomes an incident
/// for a doctor, who enters it as a late correction; an older reading is a broken clock.
pub const OFFLINE_UPLOAD_DAYS: i64 = 7;

/// When a dose given offline counts as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineTime {
    /// Today, at this instant: the terminal's reading, or now if the terminal's clock ran ahead.
    Today(DateTime<Utc>),
    /// On an earlier dose day, which has ended.
    PastDay(NaiveDate),
}

/// Places a terminal's clock reading for a dose given offline. A reading in the future is
/// taken as now (the dose cannot have been given later than it arrived); one older than
/// [`OFFLINE_UPLOAD_DAYS`] is refused.
pub fn offline_time(terminal: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> Result<OfflineTime, String> {
    let at = terminal.min(now);
    let today = now.with_timezone(&zone).date_naive();
    let day = at.with_timezone(&zone).date_naive();
    if day == today {
        Ok(OfflineTime::Today(at))
    } else if today - day <= Duration::days(OFFLINE_UPLOAD_DAYS) {
        Ok(OfflineTime::PastDay(day))
    } else {
        Err(format!("must be within the last {OFFLINE_UPLOAD_DAYS} days"))
    }
}

/// Whether an access token that expired at `exp` (UTC) may still upload doses given offline
/// at `now`: until the end of the dose day on which it expired, so that a window that lost
/// the line keeps the nurse signed in for the day, and never longer.
pub fn expired_token_may_upload(exp: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> bool {
    let last_valid = exp - Duration::seconds(1);
    now >= exp && last_valid.with_timezone(&zone).date_naive() == now.with_timezone(&zone).date_naive()
}

/// A guest-dosing arrangement covering a day, as the daily assignment sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cover<'a> {
    pub site: &'a str,
    /// When it was made (UTC).
    pub arranged_at: NaiveDateTime,
    /// The site that held the day when it was made has released the day to it.
    pub released: bool,
}

/// Who holds a patient's dose day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment<'a> {
    /// The one site that may dose the patient that day.
    pub holder: &'a str,
    /// The arrangements (their positions in `covering`) made after the day's sheets were
    /// fixed, to another site, waiting for the holder to release the day.
    pub awaiting: Vec<usize>,
}

/// The assignment of a patient's day. Every day belongs to exactly one site: the site of
/// the latest arrangement covering it that holds, else the home site. An arrangement made
/// before the day's sheets were fixed (`fixed_at`, UTC) holds at once; one made later holds
/// only once released by the site that held the day — that site may be working offline from
/// its sheet, and until it confirms, nobody else may dose its patient.
pub fn assignment<'a>(home_site: &'a str, covering: &[Cover<'a>], fixed_at: NaiveDateTime) -> Assignment<'a> {
    let holds = |c: &Cover<'_>| c.arranged_at < fixed_at || c.released;
    let holder = covering.iter().filter(|c| holds(c)).max_by_key(|c| c.arranged_at).map_or(home_site, |c| c.site);
    let awaiting = covering.iter().enumerate().filter(|(_, c)| !holds(c) && c.site != holder).map(|(i, _)| i).collect();
    Assignment { holder, awaiting }
}

/// Why a nurse may not release a patient's day to a guest-dosing arrangement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseRefusal {
    /// The arrangement waits for no release: made before the day's sheets, released
    /// already, or to the site that holds the day.
    NotAwaiting,
    /// Only a nurse of the site holding the day releases it.
    NotTheHolder { holder: String },
    /// A later arrangement would hold the day even after this release.
    LaterHolds,
}

/// A release of a patient's day to the arrangement at `target` of `covering`, asked by a
/// nurse of `nurse_sites`: the site that holds the day and lets it go, or why not. After the
/// release the arrangement's site holds the day (see [`assignment`]).
pub fn release<'a>(
    home_site: &'a str,
    covering: &[Cover<'a>],
    fixed_at: NaiveDateTime,
    target: usize,
    nurse_sites: &[String],
) -> Result<&'a str, ReleaseRefusal> {
    let now = assignment(home_site, covering, fixed_at);
    if !now.awaiting.contains(&target) {
        return Err(ReleaseRefusal::NotAwaiting);
    }
    if !nurse_sites.iter().any(|s| s == now.holder) {
        return Err(ReleaseRefusal::NotTheHolder { holder: now.holder.to_owned() });
    }
    let mut after = covering.to_vec();
    after[target].released = true;
    if assignment(home_site, &after, fixed_at).holder != covering[target].site {
        return Err(ReleaseRefusal::LaterHolds);
    }
    Ok(now.holder)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::dispensing::GivenDose;
    use crate::domain::orders::{Order, OrderBook, Phase};
    use crate::domain::quantity::DeciMg;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn book(daily_mg: u32, portions: Option<[u32; 2]>) -> OrderBook {
        OrderBook::new(vec![Order {
            id: "o1".into(),
            daily: DeciMg::from_mg(daily_mg),
            portions: portions.map(|[a, b]| [DeciMg::from_mg(a), DeciMg::from_mg(b)]),
            start_date: d("2026-10-01"),
            end_date: None,
            phase: Phase::Maintenance,
            starts_episode: true,
            last_dose_on: None,
            effective_from: Some(d("2026-10-01")),
        }])
    }

    fn day<'a>(orders: &'a OrderBook, last: &str, doses: &'a [GivenDose]) -> PatientDay<'a> {
        PatientDay {
            date: d("2026-11-10"),
            now: Utc.with_ymd_and_hms(2026, 11, 10, 1, 0, 0).unwrap(),
            status: PatientStatus::Active,
            orders,
            last_dose_day: Some(d(last)),
            doses,
            excused: &[],
            review: None,
            withheld: false,
        }
    }

    #[test]
    fn a_regular_day_carries_the_order_and_no_limit() {
        let orders = book(60, Some([40, 20]));
        let e = sheet_entry(&day(&orders, "2026-11-09", &[]), &RuleSet::default());
        assert_eq!(
            e.order,
            Some(SheetOrder { id: "o1".into(), daily_deci_mg: 600, portions_deci_mg: Some([400, 200]) })
        );
        assert_eq!((e.missed_days, e.review_needed, e.suspended, e.limit_deci_mg), (0, false, false, 600));
        assert_eq!(e.split_min_interval_hours, 6);
    }

    #[test]
    fn missed_days_set_the_limit_review_and_suspension() {
        let orders = book(60, None);
        let rules = RuleSet::default();
        let e = sheet_entry(&day(&orders, "2026-11-06", &[]), &rules);
        assert_eq!((e.missed_days, e.review_needed, e.suspended, e.limit_deci_mg), (3, true, false, 300));
        let e = sheet_entry(&day(&orders, "2026-11-04", &[]), &rules);
        assert_eq!((e.missed_days, e.review_needed, e.suspended), (5, true, true));
    }

    #[test]
    fn no_order_no_limit_and_todays_doses_carried() {
        let orders = OrderBook::default();
        let given = [GivenDose {
            portion: 1,
            amount: DeciMg(300),
            given_at: Utc.with_ymd_and_hms(2026, 11, 10, 0, 30, 0).unwrap(),
            site_id: "s".into(),
            home_visit: false,
        }];
        let mut today = day(&orders, "2026-11-09", &given);
        today.status = PatientStatus::Suspended;
        let e = sheet_entry(&today, &RuleSet::default());
        assert_eq!((e.active, e.order.is_none(), e.limit_deci_mg), (false, true, 0));
        assert_eq!(e.doses, vec![SheetDose { portion: 1, deci_mg: 300, given_at: given[0].given_at }]);
    }

    fn cover(site: &str, hour: u32, released: bool) -> Cover<'_> {
        Cover { site, arranged_at: d("2026-11-01").and_hms_opt(hour, 0, 0).unwrap(), released }
    }

    /// The day's sheets were fixed at 10:00 (UTC) in these cases.
    fn fixed() -> NaiveDateTime {
        d("2026-11-01").and_hms_opt(10, 0, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_sheets_are_fixed_at_six_in_the_evening_before_clinic_time() {
        assert_eq!(
            sheets_fixed_at(d("2026-11-02"), chrono_tz::Asia::Shanghai),
            utc("2026-11-01T10:00:00Z").naive_utc()
        );
        // Across a change of clocks the evening stays at 18:00 on the wall.
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(sheets_fixed_at(d("2026-03-29"), berlin), utc("2026-03-28T17:00:00Z").naive_utc());
        assert_eq!(sheets_fixed_at(d("2026-03-30"), berlin), utc("2026-03-29T16:00:00Z").naive_utc());
    }

    #[test]
    fn an_offline_reading_of_today_counts_as_given_then_and_never_later_than_now() {
        let zone = chrono_tz::Asia::Shanghai;
        let now = utc("2026-11-02T03:00:00Z"); // 11:00 clinic time
        assert_eq!(
            offline_time(utc("2026-11-02T01:00:00Z"), now, zone),
            Ok(OfflineTime::Today(utc("2026-11-02T01:00:00Z")))
        );
        // Just after the clinic's midnight is today.
        assert_eq!(
            offline_time(utc("2026-11-01T16:00:00Z"), now, zone),
            Ok(OfflineTime::Today(utc("2026-11-01T16:00:00Z")))
        );
        // A terminal clock running ahead: now.
        assert_eq!(offline_time(utc("2026-11-02T09:00:00Z"), now, zone), Ok(OfflineTime::Today(now)));
        assert_eq!(offline_time(utc("2030-01-01T00:00:00Z"), now, zone), Ok(OfflineTime::Today(now)));
    }

    #[test]
    fn an_offline_reading_of_an_earlier_day_is_a_past_day_within_a_week_and_refused_beyond() {
        let zone = chrono_tz::Asia::Shanghai;
        let now = utc("2026-11-02T03:00:00Z");
        assert_eq!(offline_time(utc("2026-11-01T15:59:59Z"), now, zone), Ok(OfflineTime::PastDay(d("2026-11-01"))));
        assert_eq!(offline_time(utc("2026-10-26T00:00:00Z"), now, zone), Ok(OfflineTime::PastDay(d("2026-10-26"))));
        assert!(offline_time(utc("2026-10-25T00:00:00Z"), now, zone).is_err());
        assert!(offline_time(utc("1970-01-01T00:00:00Z"), now, zone).is_err());
    }

    #[test]
    fn an_expired_token_uploads_offline_doses_until_the_end_of_its_dose_day_only() {
        let zone = chrono_tz::Asia::Shanghai;
        let exp = utc("2026-11-02T01:15:00Z"); // 09:15 clinic time
        assert!(
            !expired_token_may_upload(exp, utc("2026-11-02T01:14:59Z"), zone),
            "not expired yet: the ordinary path"
        );
        assert!(expired_token_may_upload(exp, exp, zone));
        assert!(expired_token_may_upload(exp, utc("2026-11-02T15:59:59Z"), zone), "23:59:59 clinic time");
        assert!(!expired_token_may_upload(exp, utc("2026-11-02T16:00:00Z"), zone), "the next dose day");
        // A token expiring at the stroke of midnight was valid only on the day before.
        let midnight = utc("2026-11-02T16:00:00Z");
        assert!(!expired_token_may_upload(midnight, midnight, zone));
    }

    #[test]
    fn only_the_holder_releases_a_late_arrangement_and_the_release_hands_it_the_day() {
        let late = [cover("hq", 11, false)];
        let li = vec!["home".to_owned()];
        assert_eq!(release("home", &late, fixed(), 0, &li), Ok("home"));
        assert_eq!(
            release("home", &late, fixed(), 0, &["hq".to_owned()]),
            Err(ReleaseRefusal::NotTheHolder { holder: "home".into() })
        );
        // Made before the sheets, or released already: nothing to release.
        assert_eq!(release("home", &[cover("hq", 9, false)], fixed(), 0, &li), Err(ReleaseRefusal::NotAwaiting));
        assert_eq!(release("home", &[cover("hq", 11, true)], fixed(), 0, &li), Err(ReleaseRefusal::NotAwaiting));
        // A late arrangement to 白石 is released by 虹桥, which holds the day by an earlier one.
        let two = [cover("hq", 9, false), cover("bs", 11, false)];
        assert_eq!(release("home", &two, fixed(), 1, &li), Err(ReleaseRefusal::NotTheHolder { holder: "hq".into() }));
        assert_eq!(release("home", &two, fixed(), 1, &["hq".to_owned()]), Ok("hq"));
    }

    #[test]
    fn a_release_that_would_not_hand_over_the_day_is_refused() {
        // 白石's later arrangement was released and holds the day: 虹桥's earlier one, even
        // released, would not take it.
        let both = [cover("hq", 11, false), cover("bs", 12, true)];
        assert_eq!(release("home", &both, fixed(), 0, &["bs".to_owned()]), Err(ReleaseRefusal::LaterHolds));
        let waiting = [cover("hq", 11, false), cover("bs", 12, false)];
        assert_eq!(release("home", &waiting, fixed(), 0, &["home".to_owned()]), Ok("home"));
        // Whatever the arrangements, a release that is granted hands the day to its site.
        let sites = ["home", "hq", "bs"];
        for a in 0..3 {
            for b in 0..3 {
                for (ha, hb) in [(9, 11), (11, 12), (12, 11), (9, 9)] {
                    for (ra, rb) in [(false, false), (true, false), (false, true)] {
                        let covering = [cover(sites[a], ha, ra), cover(sites[b], hb, rb)];
                        for target in 0..2 {
                            let all: Vec<String> = sites.iter().map(|s| s.to_string()).collect();
                            if release("home", &covering, fixed(), target, &all).is_ok() {
                                let mut after = covering.to_vec();
                                after[target].released = true;
                                assert_eq!(assignment("home", &after, fixed()).holder, covering[target].site);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn without_arrangements_the_home_site_holds_the_day() {
        assert_eq!(assignment("home", &[], fixed()), Assignment { holder: "home", awaiting: vec![] });
    }

    #[test]
    fn the_latest_arrangement_made_before_the_sheets_holds_the_day() {
        let a = assignment("home", &[cover("hq", 8, false), cover("bs", 9, false), cover("fr", 7, false)], fixed());
        assert_eq!(a, Assignment { holder: "bs", awaiting: vec![] });
    }

    #[test]
    fn an_arrangement_made_after_the_sheets_waits_for_the_holders_release() {
        let late = cover("hq", 11, false);
        assert_eq!(assignment("home", &[late], fixed()), Assignment { holder: "home", awaiting: vec![0] });
        let earlier = cover("bs", 9, false);
        assert_eq!(
            assignment("home", &[earlier, late], fixed()),
            Assignment { holder: "bs", awaiting: vec![1] },
            "the guest site holding the day is the one to release it"
        );
        let released = cover("hq", 11, true);
        assert_eq!(assignment("home", &[earlier, released], fixed()), Assignment { holder: "hq", awaiting: vec![] });
    }

    #[test]
    fn a_late_arrangement_to_the_site_already_holding_the_day_waits_for_nothing() {
        let a = assignment("home", &[cover("hq", 9, false), cover("hq", 11, false)], fixed());
        assert_eq!(a, Assignment { holder: "hq", awaiting: vec![] });
        let a = assignment("home", &[cover("home", 11, false)], fixed());
        assert_eq!(a, Assignment { holder: "home", awaiting: vec![] });
    }

    #[test]
    fn exactly_one_site_holds_the_day_whatever_the_arrangements() {
        let sites = ["home", "hq", "bs"];
        // Every combination of up to three arrangements (site, before/after the sheets,
        // released or not): one holder, never also awaiting, and a released or early
        // arrangement is the holder only if no later one holds.
        let options: Vec<Cover<'_>> = sites
            .iter()
            .flat_map(|s| [(9, false), (11, false), (11, true), (12, true)].map(|(h, r)| cover(s, h, r)))
            .collect();
        for a in &options {
            for b in &options {
                for c in &options {
                    let covering = [*a, *b, *c];
                    let got = assignment("home", &covering, fixed());
                    assert!(sites.contains(&got.holder));
                    for &i in &got.awaiting {
                        let waiting = covering[i];
                        assert!(waiting.arranged_at >= fixed() && !waiting.released, "{covering:?}");
                        assert_ne!(waiting.site, got.holder, "{covering:?}");
                    }
                    let holding: Vec<_> = covering.iter().filter(|c| c.arranged_at < fixed() || c.released).collect();
                    if let Some(latest) = holding.iter().map(|c| c.arranged_at).max() {
                        assert!(
                            holding.iter().any(|c| c.arranged_at == latest && c.site == got.holder),
                            "{covering:?}"
                        );
                    } else {
                        assert_eq!(got.holder, "home", "{covering:?}");
                    }
                }
            }
        }
    }
}
