//! The dose day at the edges of the clinic's day: local midnight, the hours when the UTC
//! date and the local date differ, a month's end, and a time zone with summer time, where
//! a dose day is 23 or 25 hours long. The service clock is pinned in every test, so these
//! pass whatever the real time is.

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use serde_json::json;

/// Everyone's doses of `date` at 柳市 from the queue: (patient id, given mg).
async fn given_on(c: &Clinic, date: &str) -> Vec<(String, f64)> {
    let r = c.app.get(&format!("/api/v1/sites/{}/queue?date={date}", c.ls), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["given_mg"].as_f64().unwrap_or(0.0) > 0.0)
        .map(|e| (e["patient_id"].as_str().unwrap().to_string(), e["given_mg"].as_f64().unwrap()))
        .collect()
}

#[actix_web::test]
async fn the_dose_day_turns_at_local_midnight_across_a_month_end() {
    // 23:59 on 30 November in Shanghai (15:59 UTC).
    let mut c = Clinic::at("2026-11-30T23:59:00+08:00").await;
    let p = c.patient_on("陈明", 1, 30.0).await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["dose_day"], "2026-11-30");

    // Two minutes later it is 1 December locally but still 30 November in UTC: a new
    // dose day, the full dose due again.
    c.set_time("2026-12-01T00:01:00+08:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(
        (d["date"].as_str(), d["can_dispense"].as_bool(), d["due_mg"].as_f64()),
        (Some("2026-12-01"), Some(true), Some(30.0))
    );
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["dose_day"], "2026-12-01");

    // At 07:59 local (23:59 UTC on the 30th) the day's dose is still the one given at 00:01.
    c.set_time("2026-12-01T07:59:00+08:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "already_dosed_today");

    // Each day's queue holds its own dose; the attendance shows both days dosed.
    assert_eq!(given_on(&c, "2026-11-30").await, vec![(p.clone(), 30.0)]);
    assert_eq!(given_on(&c, "2026-12-01").await, vec![(p.clone(), 30.0)]);
    let r = c.app.get(&format!("/api/v1/patients/{p}/attendance?from=2026-11-30&to=2026-12-01"), &c.doctor).await;
    let statuses: Vec<_> =
        r.json().as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap().to_string()).collect();
    assert_eq!(statuses, ["dosed", "dosed"], "{}", r.text());
}

#[actix_web::test]
async fn in_the_early_hours_today_is_the_local_date_not_the_utc_date() {
    // 02:00 on 1 December in Shanghai is 18:00 UTC on 30 November.
    let c = Clinic::at("2026-12-01T02:00:00+08:00").await;
    let p = c.enrol("林芳", 2).await["id"].as_str().unwrap().to_string();
    // An order cannot start "yesterday" by the UTC calendar: today is the 1st.
    let r =
        c.order(&p, json!({"daily_mg": 30, "start_date": "2026-12-01", "phase": "induction", "reason": "start"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["date"], "2026-12-01");
    assert_eq!(d["can_dispense"], true, "{d}");
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.json()["dose_day"], "2026-12-01");
    // The service's clock endpoint tells the UI the same date.
    let clock = c.app.get("/api/v1/clock", &c.nurse).await.json();
    assert_eq!(clock["today"], "2026-12-01", "{clock}");
}

#[actix_web::test]
async fn with_summer_time_the_dose_day_is_the_local_calendar_day_however_long() {
    // New York springs forward on 14 March 2027 (02:00 EST → 03:00 EDT): a 23-hour day.
    let mut c = Clinic::at_in("2027-03-13T23:30:00-05:00", "America/New_York").await;
    let p = c.patient_on("陈明", 1, 30.0).await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.json()["dose_day"], "2027-03-13", "{}", r.text());

    // 00:30 EST on the 14th: a new day.
    c.set_time("2027-03-14T00:30:00-05:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["dose_day"], "2027-03-14");

    // 23:30 EDT on the 14th, 22 hours later: still the same (short) day, no second dose.
    c.set_time("2027-03-14T23:30:00-04:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "already_dosed_today");

    // 00:10 EDT on the 15th: the next day.
    c.set_time("2027-03-15T00:10:00-04:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!((d["date"].as_str(), d["can_dispense"].as_bool()), (Some("2027-03-15"), Some(true)), "{d}");
}

#[actix_web::test]
async fn when_the_clocks_go_back_the_repeated_hour_is_still_the_same_dose_day() {
    // New York falls back on 1 November 2026: 01:00-02:00 happens twice.
    let mut c = Clinic::at_in("2026-11-01T01:30:00-04:00", "America/New_York").await;
    let p = c.patient_on("王强", 3, 30.0).await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first_at = r.json()["given_at"].as_str().unwrap().to_string();

    // 01:30 again, an hour later, in standard time.
    c.set_time("2026-11-01T01:30:00-05:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["given_at"].as_str(), Some(first_at.as_str()));
}

#[actix_web::test]
async fn the_split_interval_is_measured_in_real_hours_across_a_clock_change() {
    // First portion at 00:30 EST on the spring-forward day.
    let mut c = Clinic::at_in("2027-03-14T00:30:00-05:00", "America/New_York").await;
    let p = c.enrol("周敏", 4).await["id"].as_str().unwrap().to_string();
    let r = c
        .order(&p, json!({"daily_mg": 40, "portions_mg": [20, 20], "start_date": "2027-03-14", "phase": "induction", "reason": "start"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c.give(&c.nurse, &p, &c.ls, 20.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // 07:00 EDT reads six and a half hours later on the wall, but only five and a half
    // have passed: too soon.
    c.set_time("2027-03-14T07:00:00-04:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 20.0).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.code(), "split_interval_not_elapsed");

    // 07:31 EDT: six hours and a minute. The second portion goes ahead on the same day.
    c.set_time("2027-03-14T07:31:00-04:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 20.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!((r.json()["dose_day"].as_str(), r.json()["portion"].as_u64()), (Some("2027-03-14"), Some(2)));
}
