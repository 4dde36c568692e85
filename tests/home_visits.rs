//! Home visits through the API, on SQLite (and PostgreSQL with TEST_DATABASE_URL): the run
//! sheet appears by itself and once, the check-out and the return need a second nurse, the
//! window and the home visit never both dose a patient on a day, and an undelivered dose
//! blocks the day close until it is back.

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use common::*;
use diesel::prelude::*;
use futures_util::future::{join_all, LocalBoxFuture};
use serde_json::{json, Value};

/// The 1 mg/mL product (the network's only one, so every site dispenses it) and 1000 mL
/// received at 柳市.
async fn stocked(c: &Clinic) -> String {
    let r =
        c.app.post("/api/v1/products", &c.admin, json!({"name": "美沙酮口服溶液", "concentration_mg_per_ml": 1})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let product = r.json()["id"].as_str().unwrap().to_string();
    let e = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse,
            json!({"site_id": c.ls, "product_id": product, "kind": "receipt", "volume_ml": 1000,
                   "lot": "L2026-11", "supplier": "温州医药", "reason": "月度领药"}),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text());
    let id = e.json()["id"].as_str().unwrap().to_string();
    let r = c.app.post(&format!("/api/v1/stock/entries/{id}/confirm"), &c.nurse2, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    product
}

/// A patient on 30 mg, authorized and scheduled for every day from today at 柳市; returns
/// (patient, today's visit id).
async fn home_patient(c: &Clinic, name: &str, seq: u32) -> (String, String) {
    let p = c.patient_on(name, seq, 30.0).await;
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{p}/home-visit-authorizations"),
            &c.doctor,
            json!({"reason": "下肢骨折，行动不便", "valid_from": "2026-11-01", "valid_to": "2026-12-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c
        .app
        .post(
            "/api/v1/home-visit-schedules",
            &c.nurse,
            json!({"patient_id": p, "site_id": c.ls, "weekdays": [1, 2, 3, 4, 5, 6, 7], "from": c.today()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sheet = run_sheet(c, &c.nurse).await;
    let visit = sheet.as_array().unwrap().iter().find(|v| v["patient_id"] == p.as_str()).expect("on the run sheet");
    assert_eq!(visit["state"], "planned");
    (p, visit["id"].as_str().unwrap().to_string())
}

async fn run_sheet(c: &Clinic, token: &str) -> Value {
    let r = c.app.get(&format!("/api/v1/sites/{}/home-visits", c.ls), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn step(c: &Clinic, token: &str, visit: &str, what: &str, body: Value) -> Reply {
    c.app.post(&format!("/api/v1/home-visits/{visit}/{what}"), token, body).await
}

/// Checked out by one nurse and confirmed by the other.
async fn checked_out(c: &Clinic, visit: &str) {
    let r = step(c, &c.nurse, visit, "checkout", json!({"dose_mg": 30})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = step(c, &c.nurse2, visit, "checkout/confirm", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn stock(c: &Clinic) -> Value {
    let r = c.app.get(&format!("/api/v1/sites/{}/stock", c.ls), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

fn doses_today(c: &Clinic, patient: &str) -> i64 {
    use mmt_clinic::db::schema::doses;
    let mut conn = c.app.conn();
    doses::table.filter(doses::patient_id.eq(patient)).count().get_result(&mut *conn).unwrap()
}

#[actix_web::test]
async fn the_run_sheet_plans_each_visit_once_however_often_it_is_read_or_the_service_restarts() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (p, visit) = home_patient(&c, "张三", 1).await;
    // Read again, and many times at once.
    let path = format!("/api/v1/sites/{}/home-visits", c.ls);
    let sheets = join_all((0..8).map(|_| c.app.get(&path, &c.nurse))).await;
    for s in &sheets {
        assert_eq!(s.status, StatusCode::OK, "{}", s.text());
        let ids: Vec<String> =
            s.json().as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(ids, vec![visit.clone()]);
    }
    // The service starts again on the same database: still the one visit.
    let again =
        mmt_clinic::services::AppState::start(config_for(&c.app.db, &Options::default())).await.expect("restart");
    drop(again);
    run_sheet(&c, &c.nurse2).await;
    use mmt_clinic::db::schema::home_visits;
    let n: i64 =
        home_visits::table.filter(home_visits::patient_id.eq(&p)).count().get_result(&mut *c.app.conn()).unwrap();
    assert_eq!(n, 1);
    // The next day's sheet has the next visit.
    let tomorrow = c.app.get(&format!("/api/v1/sites/{}/home-visits?date=2026-11-11", c.ls), &c.nurse).await.json();
    assert_eq!(tomorrow.as_array().unwrap().len(), 1);
    assert_ne!(tomorrow[0]["id"].as_str().unwrap(), visit);
}

/// Every visit is on the run sheet of the site holding the patient's day: on a day held by
/// another site (guest dosing there), no visit is planned.
#[actix_web::test]
async fn no_visit_is_planned_for_a_day_another_site_holds() {
    let c = Clinic::new().await;
    let (p, _) = home_patient(&c, "张三", 1).await;
    c.arrange_guest(&p, &c.hq, "2026-11-12", "2026-11-12").await;
    for (date, planned) in [("2026-11-11", true), ("2026-11-12", false), ("2026-11-13", true)] {
        let r = c.app.get(&format!("/api/v1/sites/{}/home-visits?date={date}", c.ls), &c.nurse).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let on_sheet = r.json().as_array().unwrap().iter().any(|v| v["patient_id"] == p.as_str());
        assert_eq!(on_sheet, planned, "{date}");
    }
}

/// The patient can come to the window again: the schedule is ended, today's visit stays on
/// the sheet and no visit is planned after the last day; the other patients' visits go on.
#[actix_web::test]
async fn an_ended_schedule_plans_no_visit_after_its_last_day() {
    let c = Clinic::new().await;
    let (p, today_visit) = home_patient(&c, "张三", 1).await;
    let (other, _) = home_patient(&c, "李四", 2).await;
    let schedules = c.app.get(&format!("/api/v1/patients/{p}/home-visit-schedules"), &c.doctor).await.json();
    let id = schedules[0]["id"].as_str().unwrap().to_string();
    assert_eq!(schedules[0]["ended"], json!(null));
    let end = format!("/api/v1/home-visit-schedules/{id}/end");
    let today: chrono::NaiveDate = c.today().parse().unwrap();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();

    let past = c.app.post(&end, &c.nurse, json!({"last_day": day(-1), "reason": "骨折痊愈"})).await;
    assert_eq!((past.status, past.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into()));
    let elsewhere = c.app.post(&end, &c.nurse_hq, json!({"last_day": day(0), "reason": "骨折痊愈"})).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "a nurse of another site: {}", elsewhere.text());
    let ended = c.app.post(&end, &c.nurse, json!({"last_day": day(0), "reason": "骨折痊愈，可来窗口服药"})).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text());
    assert_eq!(ended.json()["ended"]["last_day"], day(0));
    assert!(!ended.json()["ended"]["ended_by_name"].as_str().unwrap().is_empty());
    let twice = c.app.post(&end, &c.doctor, json!({"last_day": day(3), "reason": "再次"})).await;
    assert_eq!(twice.code(), "validation_failed", "once per schedule");

    // Today's visit stays; from tomorrow only the other patient is visited.
    let sheet = run_sheet(&c, &c.nurse).await;
    assert!(sheet.as_array().unwrap().iter().any(|v| v["id"] == today_visit.as_str()));
    for n in 1..=3 {
        let r = c.app.get(&format!("/api/v1/sites/{}/home-visits?date={}", c.ls, day(n)), &c.nurse).await;
        let sheet = r.json();
        let patients: Vec<&str> = sheet.as_array().unwrap().iter().map(|v| v["patient_id"].as_str().unwrap()).collect();
        assert_eq!(patients, [other.as_str()], "day +{n}");
    }
    let listed = c.app.get(&format!("/api/v1/patients/{p}/home-visit-schedules"), &c.doctor).await.json();
    assert_eq!(listed[0]["ended"]["reason"], "骨折痊愈，可来窗口服药");
}

#[actix_web::test]
async fn a_patient_without_a_valid_authorization_cannot_be_scheduled() {
    let c = Clinic::new().await;
    let p = c.patient_on("李四", 2, 30.0).await;
    let body = json!({"patient_id": p, "site_id": c.ls, "weekdays": [1, 3, 5], "from": "2026-11-10"});
    let r = c.app.post("/api/v1/home-visit-schedules", &c.nurse, body.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "home_visit_not_authorized".into()),
        "{}",
        r.text()
    );
    // An authorization that ended does not cover it either.
    c.app
        .post(
            &format!("/api/v1/patients/{p}/home-visit-authorizations"),
            &c.doctor,
            json!({"reason": "术后", "valid_from": "2026-10-20", "valid_to": "2026-11-05"}),
        )
        .await;
    let r = c.app.post("/api/v1/home-visit-schedules", &c.nurse, body.clone()).await;
    assert_eq!(r.code(), "home_visit_not_authorized");
    // Nurses do not authorize.
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{p}/home-visit-authorizations"),
            &c.nurse,
            json!({"reason": "x", "valid_from": "2026-11-10", "valid_to": "2026-11-30"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Nothing on the run sheet.
    assert!(run_sheet(&c, &c.nurse).await.as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn the_check_out_needs_a_second_nurse_and_leaves_the_stock() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (_, visit) = home_patient(&c, "张三", 1).await;
    let r = step(&c, &c.nurse, &visit, "checkout", json!({"dose_mg": 30})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["awaiting_confirmation"], "checkout");
    assert_eq!(r.json()["dose"]["volume_ml"], 30.0);
    assert_eq!(r.json()["dose"]["product"]["concentration_label"], "1 mg/mL");
    // Nothing left the shelf yet.
    assert_eq!(stock(&c).await["products"][0]["expected_ml"], 1000.0);
    let same = step(&c, &c.nurse, &visit, "checkout/confirm", json!({})).await;
    assert_eq!((same.status, same.code()), (StatusCode::UNPROCESSABLE_ENTITY, "two_person_rule".into()));
    let r = step(&c, &c.nurse2, &visit, "checkout/confirm", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "checked_out");
    let s = stock(&c).await;
    assert_eq!(s["products"][0]["home_visit_out_ml"], 30.0);
    assert_eq!(s["products"][0]["expected_ml"], 970.0);
    // More than due is never checked out.
    let c2 = home_patient(&c, "王五", 3).await;
    let r = step(&c, &c.nurse, &c2.1, "checkout", json!({"dose_mg": 35})).await;
    assert_eq!(r.code(), "dose_exceeds_due");
}

#[actix_web::test]
async fn a_delivered_visit_is_the_days_dose_and_the_window_refuses_a_second() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (p, visit) = home_patient(&c, "张三", 1).await;
    checked_out(&c, &visit).await;
    let r = step(&c, &c.nurse, &visit, "arrive", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = step(
        &c,
        &c.nurse,
        &visit,
        "outcome",
        json!({"outcome": "delivered", "observed_at": "2026-11-10T08:00:00+08:00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "delivered");
    // The window refuses, naming the home visit.
    let w = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!((w.status, w.code()), (StatusCode::CONFLICT, "already_dosed_today".into()), "{}", w.text());
    assert_eq!(w.json()["error"]["details"]["home_visit"], true);
    // The queue and attendance count it as the day's dose, on a home visit.
    let queue = c.app.get(&format!("/api/v1/sites/{}/queue", c.ls), &c.nurse).await.json();
    let entry = queue.as_array().unwrap().iter().find(|e| e["patient_id"] == p.as_str()).unwrap().clone();
    assert_eq!(entry["state"], "home_visit");
    let att =
        c.app.get(&format!("/api/v1/patients/{p}/attendance?from=2026-11-10&to=2026-11-10"), &c.doctor).await.json();
    assert_eq!(att[0]["status"], "home_visit");
    assert_eq!(doses_today(&c, &p), 1);
    // The delivered dose is not booked again as dispensed: it left at the check-out.
    let s = stock(&c).await;
    assert_eq!(s["products"][0]["dispensed_ml"], 0.0);
    assert_eq!(s["products"][0]["expected_ml"], 970.0);
    // A delivered dose does not come back.
    assert_eq!(step(&c, &c.nurse, &visit, "return", json!({})).await.code(), "home_visit_wrong_state");
}

/// The nurse at the door on a weak phone signal sends the outcome again and again: one
/// dose, every retry answered as the first, and the key cannot record another outcome.
#[actix_web::test]
async fn a_retried_outcome_with_the_same_key_records_one_delivery() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (p, visit) = home_patient(&c, "张三", 1).await;
    checked_out(&c, &visit).await;
    let path = format!("/api/v1/home-visits/{visit}/outcome");
    let delivered = json!({"outcome": "delivered"});
    let replies = join_all((0..6).map(|_| c.app.post_with_key(&path, &c.nurse, "door-1", delivered.clone()))).await;
    let first = replies[0].json();
    assert_eq!(first["state"], "delivered");
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json(), first, "the first answer every time");
    }
    assert_eq!(doses_today(&c, &p), 1);
    let other = c.app.post_with_key(&path, &c.nurse, "door-1", json!({"outcome": "refused"})).await;
    assert_eq!((other.status, other.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused".into()));
    // Without the key a second outcome is refused by the visit's state, not replayed.
    let again = step(&c, &c.nurse, &visit, "outcome", delivered).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "home_visit_wrong_state".into()));
    assert_eq!(doses_today(&c, &p), 1);
}

#[actix_web::test]
async fn a_dose_at_the_window_first_makes_the_check_out_refuse() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (p, visit) = home_patient(&c, "张三", 1).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let r = step(&c, &c.nurse, &visit, "checkout", json!({"dose_mg": 30})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "already_dosed_today".into()), "{}", r.text());
    let details = &r.json()["error"]["details"];
    assert_eq!(details["site_id"], c.ls.as_str());
    assert_eq!(details["site_name"], "柳市服药点");
    assert!(details["given_at"].is_string());
    // And a check-out asked before the window dose is not confirmed after it.
    let (q, visit2) = home_patient(&c, "李四", 2).await;
    assert_eq!(step(&c, &c.nurse, &visit2, "checkout", json!({"dose_mg": 30})).await.status, StatusCode::CREATED);
    assert_eq!(c.give(&c.nurse, &q, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let r = step(&c, &c.nurse2, &visit2, "checkout/confirm", json!({})).await;
    assert_eq!(r.code(), "already_dosed_today");
    assert_eq!(stock(&c).await["products"][0]["home_visit_out_ml"], 0.0);
}

#[actix_web::test]
async fn sixteen_simultaneous_attempts_at_the_window_and_the_door_give_exactly_one_dose() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (p, visit) = home_patient(&c, "张三", 1).await;
    checked_out(&c, &visit).await;
    let calls: Vec<LocalBoxFuture<'_, Reply>> = (0..16)
        .map(|i| -> LocalBoxFuture<'_, Reply> {
            if i % 2 == 0 {
                Box::pin(c.give(if i % 4 == 0 { &c.nurse } else { &c.nurse2 }, &p, &c.ls, 30.0))
            } else {
                Box::pin(step(
                    &c,
                    if i % 4 == 1 { &c.nurse } else { &c.nurse2 },
                    &visit,
                    "outcome",
                    json!({"outcome": "delivered"}),
                ))
            }
        })
        .collect();
    let replies = join_all(calls).await;
    let won: Vec<&Reply> = replies.iter().filter(|r| r.status.is_success()).collect();
    assert_eq!(won.len(), 1, "{:?}", replies.iter().map(|r| r.text()).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| !r.status.is_success()) {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(["already_dosed_today", "home_visit_wrong_state"].contains(&r.code().as_str()), "{}", r.text());
    }
    assert_eq!(doses_today(&c, &p), 1, "exactly one dose");
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn an_undelivered_dose_blocks_the_close_until_two_nurses_return_it() {
    let c = Clinic::new().await;
    let product = stocked(&c).await;
    let (_, visit) = home_patient(&c, "张三", 1).await;
    checked_out(&c, &visit).await;
    let path = format!("/api/v1/sites/{}/day-close", c.ls);
    let close = |counted: f64| {
        c.app.post(&path, &c.nurse, json!({"date": "2026-11-10", "product_id": product, "counted_ml": counted}))
    };
    // Checked out, not yet back: the day cannot close.
    let r = close(970.0).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "home_visit_dose_outstanding".into()),
        "{}",
        r.text()
    );
    assert_eq!(stock(&c).await["outstanding_home_visits"].as_array().unwrap().len(), 1);
    let r = step(&c, &c.nurse, &visit, "outcome", json!({"outcome": "not_home", "note": "敲门无人应答"})).await;
    assert_eq!(r.json()["state"], "not_home");
    assert_eq!(close(970.0).await.code(), "home_visit_dose_outstanding");
    let r = step(&c, &c.nurse, &visit, "return", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["awaiting_confirmation"], "return");
    let same = step(&c, &c.nurse, &visit, "return/confirm", json!({})).await;
    assert_eq!((same.status, same.code()), (StatusCode::UNPROCESSABLE_ENTITY, "two_person_rule".into()));
    let r = step(&c, &c.nurse2, &visit, "return/confirm", json!({})).await;
    assert_eq!(r.json()["state"], "returned");
    let s = stock(&c).await;
    assert_eq!(s["products"][0]["home_visit_returned_ml"], 30.0);
    assert_eq!(s["products"][0]["expected_ml"], 1000.0);
    // Back on the shelf: the day closes.
    let r = close(1000.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[actix_web::test]
async fn a_nurse_of_another_site_cannot_touch_this_sites_run_sheet_or_visits() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (p, visit) = home_patient(&c, "张三", 1).await;
    let r = c.app.get(&format!("/api/v1/sites/{}/home-visits", c.ls), &c.nurse_hq).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for what in ["checkout", "checkout/confirm", "arrive", "outcome", "return", "return/confirm"] {
        let body = match what {
            "outcome" => json!({"outcome": "refused"}),
            "checkout" => json!({"dose_mg": 30}),
            _ => json!({}),
        };
        let r = step(&c, &c.nurse_hq, &visit, what, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.text());
    }
    let r = c
        .app
        .post(
            "/api/v1/home-visit-schedules",
            &c.nurse_hq,
            json!({"patient_id": p, "site_id": c.ls, "weekdays": [1], "from": "2026-11-10"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Rehab workers see no run sheet.
    assert_eq!(
        c.app.get(&format!("/api/v1/sites/{}/home-visits", c.ls), &c.worker).await.status,
        StatusCode::FORBIDDEN
    );
}

#[actix_web::test]
async fn the_register_the_ledger_and_the_home_visit_log_print_what_happened() {
    let c = Clinic::new().await;
    stocked(&c).await;
    let (_, delivered) = home_patient(&c, "张三", 1).await;
    let (_, away) = home_patient(&c, "李四", 2).await;
    let window = c.patient_on("王五", 3, 25.0).await;
    assert_eq!(c.give(&c.nurse, &window, &c.ls, 25.0).await.status, StatusCode::CREATED);
    checked_out(&c, &delivered).await;
    step(&c, &c.nurse, &delivered, "outcome", json!({"outcome": "delivered"})).await;
    checked_out(&c, &away).await;
    step(&c, &c.nurse, &away, "outcome", json!({"outcome": "not_home", "note": "家中无人"})).await;
    step(&c, &c.nurse, &away, "return", json!({})).await;
    step(&c, &c.nurse2, &away, "return/confirm", json!({})).await;

    let get_pdf = |path: String| {
        let app = &c.app;
        let token = c.nurse.clone();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
            assert_eq!(r.headers.get("content-type").unwrap(), "application/pdf");
            r.body
        }
    };
    let register = get_pdf(format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date=2026-11-10", c.ls)).await;
    let ledger =
        get_pdf(format!("/api/v1/reports/stock-ledger.pdf?site_id={}&from=2026-11-01&to=2026-11-10", c.ls)).await;
    let log = get_pdf(format!("/api/v1/reports/home-visit-log.pdf?site_id={}&date=2026-11-10", c.ls)).await;
    if let Ok(dir) = std::env::var("MMT_SCREENSHOTS") {
        for (name, bytes) in [("register", &register), ("ledger", &ledger), ("home-visit-log", &log)] {
            std::fs::write(format!("{dir}/{name}.pdf"), bytes).unwrap();
        }
    }
    let squeeze = |s: String| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let text = squeeze(pdf_text(&register));
    for want in ["服药者签名", "批号：L2026-11", "当日库存", "1mg/mL", "上门", "未日结", "1000", "945"]
    {
        assert!(text.contains(want), "the register lacks {want}: {text}");
    }
    let text = squeeze(pdf_text(&ledger));
    for want in
        ["专用账册", "入库", "窗口发药", "上门出库", "上门退回", "nurse.li", "nurse.xu", "1mg/mL", "期末结存945mL"]
    {
        assert!(text.contains(want), "the ledger lacks {want}: {text}");
    }
    let text = squeeze(pdf_text(&log));
    for want in
        ["上门服药记录", "张三", "李四", "已服药", "已退回", "家中无人", "30mg/30mL", "nurse.li/nurse.xu", "服药者签名"]
    {
        assert!(text.contains(want), "the log lacks {want}: {text}");
    }
    // Another site's nurse prints none of them.
    for path in [
        format!("/api/v1/reports/stock-ledger.pdf?site_id={}", c.ls),
        format!("/api/v1/reports/home-visit-log.pdf?site_id={}", c.ls),
    ] {
        assert_eq!(c.app.get(&path, &c.nurse_hq).await.status, StatusCode::FORBIDDEN, "{path}");
    }
}
