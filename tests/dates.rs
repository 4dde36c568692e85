//! Dates a client sends: only ISO dates with four-digit years, each checked against a sane
//! window before any work, so no date can stall the service or be silently misread.

mod common;

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use common::clinic::*;
use common::Reply;
use serde_json::{json, Value};

fn refused_naming(r: &Reply, field: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.text());
    assert_eq!(r.code(), "validation_failed", "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], field, "{}", r.text());
}

fn refused_as_unreadable(r: &Reply, value: &str) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}: {}", r.text());
    assert_eq!(r.code(), "validation_failed", "{}", r.text());
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("YYYY-MM-DD"), "{}", r.text());
}

/// Thirty far-future queue requests at once are refused at the door; meanwhile a nurse's
/// dosing decision is answered as quickly as ever and the health check stays up.
#[actix_web::test]
async fn far_future_dates_cannot_stall_the_service() {
    let c = Clinic::new().await;
    let mut patients = Vec::new();
    for i in 0..10 {
        patients.push(c.patient_on(&format!("病人{i}"), i + 1, 30.0).await);
    }
    let burst = (0..30).map(|i| {
        let path = match i % 3 {
            0 => format!("/api/v1/sites/{}/queue?date=9999-12-31", c.ls),
            1 => "/api/v1/reviews/needed?date=9999-12-31".to_string(),
            _ => "/api/v1/tests/due?date=9999-12-31".to_string(),
        };
        let token = if i % 3 == 0 { c.nurse.clone() } else { c.doctor.clone() };
        let app = &c.app;
        async move { app.get(&path, &token).await }
    });
    let decision = async {
        // Started together with the burst; the fastest of three, so a busy machine's hiccup
        // does not decide the test, but a pool starved by the burst would.
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let d = c.decision(&c.nurse, &patients[0], &c.ls).await;
            best = best.min(started.elapsed());
            assert_eq!(d["can_dispense"], true);
        }
        best
    };
    let health = async { c.app.request(actix_web::http::Method::GET, "/healthz", None, None).await };
    let (replies, decision_took, health) = futures_util::join!(futures_util::future::join_all(burst), decision, health);
    for r in &replies {
        refused_naming(r, "date");
    }
    assert_eq!(health.status, StatusCode::OK);
    assert!(decision_took < Duration::from_millis(100), "the decision took {decision_took:?}");
}

#[actix_web::test]
async fn an_order_starts_between_today_and_ninety_days_ahead_and_ends_after_it() {
    let c = Clinic::new().await; // today is 2026-11-10
    let p = c.enrol("陈明", 1).await["id"].as_str().unwrap().to_string();
    let order = |start: &str, end: Option<&str>| {
        let mut body = json!({"daily_mg": 30, "start_date": start, "phase": "induction", "reason": "start"});
        if let Some(end) = end {
            body["end_date"] = json!(end);
        }
        body
    };
    for start in ["2026-11-09", "1900-01-01", "2027-02-09", "9999-12-31"] {
        refused_naming(&c.order(&p, order(start, None)).await, "start_date");
    }
    for unreadable in ["0001-01-01x", "-0001-01-01", "26-11-30", "+2026-11-30", "2026/11/30"] {
        refused_as_unreadable(&c.order(&p, order(unreadable, None)).await, unreadable);
    }
    refused_naming(&c.order(&p, order("2026-11-10", Some("2026-11-09"))).await, "end_date");
    refused_naming(&c.order(&p, order("2026-11-10", Some("9999-12-31"))).await, "end_date");
    // A past start is refused, not silently moved to tomorrow; nothing was written.
    let orders = c.app.get(&format!("/api/v1/patients/{p}/orders"), &c.doctor).await.json();
    assert!(orders.as_array().unwrap().is_empty(), "{orders}");
    // The ends of the window are allowed.
    let r = c.order(&p, order("2026-11-10", Some("2026-11-10"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let later = c.enrol("林芳", 2).await["id"].as_str().unwrap().to_string();
    let r = c.order(&later, order("2027-02-08", None)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

/// Every other date field: its window, its field named in the refusal.
#[actix_web::test]
async fn clinical_dates_are_not_in_the_future_nor_before_birth() {
    let c = Clinic::new().await; // today is 2026-11-10; patients born 1985-06-12
    let p = c.patient_on("陈明", 1, 30.0).await;
    let post = |path: String, body: Value| {
        let (app, doctor) = (&c.app, c.doctor.clone());
        async move { app.post(&path, &doctor, body).await }
    };
    let ecg = |taken_on: &str| json!({"taken_on": taken_on, "qtc_ms": 430});
    for bad in ["0001-01-01", "1985-06-11", "2026-11-11", "9999-12-31"] {
        refused_naming(&post(format!("/api/v1/patients/{p}/ecgs"), ecg(bad)).await, "taken_on");
    }
    refused_as_unreadable(&post(format!("/api/v1/patients/{p}/ecgs"), ecg("26-11-10")).await, "26-11-10");
    assert_eq!(post(format!("/api/v1/patients/{p}/ecgs"), ecg("2026-11-10")).await.status, StatusCode::CREATED);

    let test = |sampled_on: &str| json!({"kind": "urine", "sampled_on": sampled_on, "result": "negative"});
    for bad in ["1900-01-01", "1985-06-11", "2026-11-11"] {
        refused_naming(&post(format!("/api/v1/patients/{p}/tests"), test(bad)).await, "sampled_on");
    }

    // Absences: documented up to a year back, planned up to 90 days ahead.
    let absence = |from: &str, to: &str| json!({"from": from, "to": to, "reason": "hospital"});
    refused_naming(&post(format!("/api/v1/patients/{p}/absences"), absence("2026-11-10", "9999-12-31")).await, "to");
    refused_naming(&post(format!("/api/v1/patients/{p}/absences"), absence("0001-01-01", "2026-11-10")).await, "from");
    refused_naming(&post(format!("/api/v1/patients/{p}/absences"), absence("2027-02-09", "2027-02-10")).await, "from");
    let r = post(format!("/api/v1/patients/{p}/absences"), absence("2027-02-01", "2027-02-08")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let guest = json!({"site_id": c.hq, "from": "2026-11-12", "to": "9999-12-31", "reason": "出差"});
    refused_naming(&post(format!("/api/v1/patients/{p}/guest-dosing"), guest).await, "to");

    // Enrolment: born after 1900 and not in the future; enrolled after birth.
    let enrol = |birth: &str, enrolled: &str| {
        json!({"name": "周敏", "id_number": id_number(birth, 21), "sex": "M", "birth_date": birth,
               "township": "柳市镇", "home_site_id": c.ls, "enrolled_on": enrolled, "risk_level": 1,
               "consent_to_share": false})
    };
    refused_naming(&post("/api/v1/patients".into(), enrol("1985-06-12", "2026-11-11")).await, "enrolled_on");
    refused_naming(&post("/api/v1/patients".into(), enrol("1985-06-12", "1985-06-11")).await, "enrolled_on");
    refused_as_unreadable(&post("/api/v1/patients".into(), enrol("1985-06-12", "85-06-12")).await, "85-06-12");
}

#[actix_web::test]
async fn dates_in_queries_stay_within_their_windows() {
    let c = Clinic::new().await;
    let p = c.patient_on("陈明", 1, 30.0).await;
    let get = |path: String, token: String| {
        let app = &c.app;
        async move { app.get(&path, &token).await }
    };
    let ls = c.ls.clone();
    for (path, token, field) in [
        (format!("/api/v1/sites/{ls}/queue?date=2027-11-12"), c.nurse.clone(), "date"),
        (format!("/api/v1/sites/{ls}/queue?date=2025-11-08"), c.nurse.clone(), "date"),
        ("/api/v1/reviews/needed?date=1900-01-01".into(), c.doctor.clone(), "date"),
        ("/api/v1/tests/due?date=9999-12-31".into(), c.doctor.clone(), "date"),
        (format!("/api/v1/reports/dispensing-register.pdf?site_id={ls}&date=2026-11-11"), c.nurse.clone(), "date"),
        (format!("/api/v1/reports/dispensing-register.pdf?site_id={ls}&date=1899-12-31"), c.nurse.clone(), "date"),
        (format!("/api/v1/patients/{p}/attendance?from=0001-01-01&to=2026-11-10"), c.doctor.clone(), "from"),
        (format!("/api/v1/patients/{p}/doses?to=9999-12-31"), c.doctor.clone(), "to"),
        ("/api/v1/reports/monthly.pdf?month=1899-12".into(), c.doctor.clone(), "month"),
    ] {
        refused_naming(&get(path, token).await, field);
    }
    let r = get(format!("/api/v1/sites/{ls}/queue?date=26-11-10"), c.nurse.clone()).await;
    refused_as_unreadable(&r, "26-11-10");
    // A year either way is still a working-day view.
    let r = get(format!("/api/v1/sites/{ls}/queue?date=2027-11-11"), c.nurse.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
