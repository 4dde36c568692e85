//! Observed dispensing: the decision, the dose, every refusal of the dispensing table, the
//! missed-day table through the service clock, corrections, retries, and the race.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::clinic::*;
use futures_util::future::join_all;
use serde_json::{json, Value};

#[actix_web::test]
async fn a_nurse_gives_the_due_dose_once() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["can_dispense"], true);
    assert_eq!(d["due_mg"], 30.0);
    assert_eq!(d["patient"]["name"], "张三");
    assert_eq!(d["blocks"], json!([]));

    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let dose = r.json();
    assert_eq!((dose["dose_mg"].as_f64(), dose["portion"].as_u64()), (Some(30.0), Some(1)));
    assert_eq!(dose["dose_day"], "2026-11-10");

    let again = c.give(&c.nurse2, &p, &c.ls, 30.0).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_dosed_today");
    let details = &again.json()["error"]["details"];
    assert_eq!(details["site_id"], json!(c.ls));
    assert_eq!(details["site_name"], "柳市服药点");
    assert_eq!(details["given_at"], dose["given_at"]);

    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!((d["can_dispense"].as_bool(), d["given_mg"].as_f64()), (Some(false), Some(30.0)));
    assert_eq!(d["blocks"][0]["code"], "already_dosed_today");
    assert_eq!(d["last_dose"]["site_name"], "柳市服药点");
}

#[actix_web::test]
async fn the_dose_table_is_append_only_in_the_database() {
    use diesel::connection::SimpleConnection;
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let mut conn = c.app.conn();
    assert!(conn.batch_execute("UPDATE doses SET deci_mg = 600").is_err());
    assert!(conn.batch_execute("DELETE FROM doses").is_err());
    assert!(conn.batch_execute("UPDATE orders SET daily_deci_mg = 600").is_err());
}

#[actix_web::test]
async fn every_refusal_of_the_dispensing_table() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;

    // Not assigned to the site (403).
    let r = c.give(&c.nurse_hq, &p, &c.ls, 30.0).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "site_not_allowed"));
    // Another site's patient without guest dosing (403).
    let r = c.give(&c.nurse_hq, &p, &c.hq, 30.0).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "site_not_allowed"));
    // Identity not confirmed.
    let mut body = dose_body(&p, &c.ls, 30.0);
    body["identity_confirmed"] = json!(false);
    let r = c.app.post("/api/v1/doses", &c.nurse, body).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "identity_not_confirmed"));
    // More than due.
    let r = c.give(&c.nurse, &p, &c.ls, 30.5).await;
    assert_eq!(r.code(), "dose_exceeds_due");
    // Less without a note; with a note it is given.
    let r = c.give(&c.nurse, &p, &c.ls, 25.0).await;
    assert_eq!(
        (r.code().as_str(), r.json()["error"]["details"]["field"].as_str()),
        ("validation_failed", Some("note"))
    );
    let mut body = dose_body(&p, &c.ls, 25.0);
    body["note"] = json!("vomited half; doctor informed");
    let r = c.app.post("/api/v1/doses", &c.nurse, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // A patient without an order.
    let q = c.enrol("李四", 3).await["id"].as_str().unwrap().to_string();
    let r = c.give(&c.nurse, &q, &c.ls, 30.0).await;
    assert_eq!(r.code(), "no_active_order");
    // A patient who is not active.
    let s = c.patient_on("王五", 5, 30.0).await;
    c.app
        .post(&format!("/api/v1/patients/{s}/status"), &c.doctor, json!({"status": "suspended", "reason": "住院"}))
        .await;
    let r = c.give(&c.nurse, &s, &c.ls, 30.0).await;
    assert_eq!(r.code(), "patient_not_active");

    // Guest dosing lets the 虹桥 nurse dose a 柳市 patient for the arranged days — the
    // patient's day moves to 虹桥 only: 柳市 no longer doses them. Arranged this morning,
    // after the day's sheets were out, today moves once 柳市 releases it.
    let g = c.patient_on("赵六", 7, 30.0).await;
    let arrangement = c.arrange_guest(&g, &c.hq, "2026-11-10", "2026-11-11").await;
    assert_eq!(arrangement["awaiting_release_from"], json!(c.ls), "{arrangement}");
    let r = c.give(&c.nurse_hq, &g, &c.hq, 30.0).await;
    assert_eq!(r.code(), "site_not_allowed", "not released yet: {}", r.text());
    assert_eq!(r.json()["error"]["details"]["awaiting_release"], true);
    assert_eq!(r.json()["error"]["details"]["site_name"], "柳市服药点", "names the site to phone");
    let refused = c.release(&c.nurse_hq, &g, &arrangement).await;
    assert_eq!(refused.code(), "site_not_allowed", "only the holding site releases: {}", refused.text());
    let released = c.release(&c.nurse, &g, &arrangement).await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.text());
    assert!(released.json()["released_at"].is_string());
    assert_eq!(released.json()["awaiting_release_from"], Value::Null);
    let r = c.give(&c.nurse, &g, &c.ls, 30.0).await;
    assert_eq!(r.code(), "site_not_allowed", "柳市 let the day go: {}", r.text());
    assert_eq!(r.json()["error"]["details"]["site_name"], "虹桥服药点", "names where the patient doses today");
    assert_eq!(c.give(&c.nurse_hq, &g, &c.hq, 30.0).await.status, StatusCode::CREATED);
    // The next day was arranged before its sheets: 虹桥 holds it without a release.
    c.set_time("2026-11-11T08:00:00+08:00").await;
    assert_eq!(c.give(&c.nurse, &g, &c.ls, 30.0).await.code(), "site_not_allowed");
    assert_eq!(c.give(&c.nurse_hq, &g, &c.hq, 30.0).await.status, StatusCode::CREATED);
    c.set_time("2026-11-12T08:00:00+08:00").await;
    let r = c.give(&c.nurse_hq, &g, &c.hq, 30.0).await;
    assert_eq!(r.code(), "site_not_allowed", "the arrangement has ended");
    assert_eq!(c.give(&c.nurse, &g, &c.ls, 30.0).await.status, StatusCode::CREATED, "back home");

    // Doctors, admins and rehab workers do not dispense.
    for token in [&c.doctor, &c.admin] {
        let r = c.give(token, &p, &c.ls, 30.0).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[actix_web::test]
async fn an_intoxicated_patient_is_withheld_and_needs_a_review_that_day() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let mut body = dose_body(&p, &c.ls, 30.0);
    body["intoxication_check"] = json!("alcohol");
    let r = c.app.post("/api/v1/doses", &c.nurse, body).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "dose_withheld_intoxicated"));
    // The withheld event was recorded: a later attempt that day needs a doctor's review.
    let r = c.give(&c.nurse2, &p, &c.ls, 30.0).await;
    assert_eq!(r.code(), "doctor_review_required");
    let audit = c.app.get(&format!("/api/v1/audit?entity=patient&entity_id={p}"), &c.admin).await.text();
    assert!(audit.contains("dose.withhold"));
    // The doctor sees the patient in the review list and approves 20 mg.
    let needed = c.app.get("/api/v1/reviews/needed", &c.doctor).await.json();
    assert_eq!(needed[0]["patient_id"], json!(p));
    assert_eq!(needed[0]["reason"], "withheld");
    c.review(&p, "2026-11-10", 20, "清醒后评估").await;
    assert_eq!(c.decision(&c.nurse, &p, &c.ls).await["due_mg"], 20.0);
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 20.0).await.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn the_missed_day_table_through_the_service_clock() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    // Raise to 40 (allowed: +10, first increase) from tomorrow.
    let r = c
        .order(&p, json!({"daily_mg": 40, "start_date": "2026-11-11", "phase": "induction", "reason": "titration"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // Two missed days (11th, 12th): the full order on the 13th.
    c.set_time("2026-11-13T08:00:00+08:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!((d["missed_days"].as_u64(), d["due_mg"].as_f64()), (Some(2), Some(40.0)));

    // Three missed days: a review first, then at most half.
    c.set_time("2026-11-14T08:00:00+08:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["missed_days"], 3);
    assert_eq!(d["blocks"][0]["code"], "doctor_review_required");
    let r = c.give(&c.nurse, &p, &c.ls, 20.0).await;
    assert_eq!(r.code(), "doctor_review_required");
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{p}/reviews"),
            &c.doctor,
            json!({"date": "2026-11-14", "approved_mg": 21, "note": "x"}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "dose_exceeds_due"));
    assert_eq!(r.json()["error"]["details"]["max_mg"], 20.0);

    // Five missed days: suspended; only a new induction order helps.
    c.set_time("2026-11-16T08:00:00+08:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["missed_days"], 5);
    assert_eq!(d["blocks"][0]["code"], "reinduction_required");
    let r = c
        .order(&p, json!({"daily_mg": 40, "start_date": "2026-11-16", "phase": "maintenance", "reason": "back"}))
        .await;
    assert_eq!(r.code(), "induction_required");
    let r = c
        .order(&p, json!({"daily_mg": 20, "start_date": "2026-11-16", "phase": "induction", "reason": "re-induction"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["starts_episode"], true);
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!((d["missed_days"].as_u64(), d["due_mg"].as_f64()), (Some(0), Some(20.0)));
}

#[actix_web::test]
async fn excused_days_do_not_count_as_missed() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{p}/absences"),
            &c.nurse,
            json!({"from": "2026-11-11", "to": "2026-11-13", "reason": "hospital"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    c.set_time("2026-11-15T08:00:00+08:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["missed_days"], 1);
    assert_eq!(d["can_dispense"], true);
}

#[actix_web::test]
async fn split_orders_give_two_portions_six_hours_apart() {
    let mut c = Clinic::new().await;
    let p = c.enrol("张三", 1).await["id"].as_str().unwrap().to_string();
    let r = c.order(&p, json!({"daily_mg": 40, "portions_mg": [30, 10], "start_date": "2026-11-10", "phase": "induction", "reason": "start"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(c.decision(&c.nurse, &p, &c.ls).await["due_mg"], 30.0);
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    c.set_time("2026-11-10T13:59:00+08:00").await;
    let r = c.give(&c.nurse, &p, &c.ls, 10.0).await;
    assert_eq!(r.code(), "split_interval_not_elapsed");
    c.set_time("2026-11-10T14:00:00+08:00").await;
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(
        (d["portion"].as_u64(), d["due_mg"].as_f64(), d["given_mg"].as_f64()),
        (Some(2), Some(10.0), Some(30.0))
    );
    let r = c.give(&c.nurse, &p, &c.ls, 10.0).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["portion"], 2);
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 10.0).await.code(), "already_dosed_today");
}

#[actix_web::test]
async fn a_reversal_needs_a_second_person_and_then_frees_the_day() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = c.give(&c.nurse, &p, &c.ls, 30.0).await.json();
    let id = dose["id"].as_str().unwrap();
    let r = c.app.post(&format!("/api/v1/doses/{id}/reversal"), &c.nurse, json!({"reason": "洒出，未服下"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "pending");
    // Still counts until confirmed.
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.code(), "already_dosed_today");
    let r = c.app.request(Method::POST, &format!("/api/v1/doses/{id}/reversal/confirm"), Some(&c.nurse), None).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "two_person_rule"));
    let r = c.app.request(Method::POST, &format!("/api/v1/doses/{id}/reversal/confirm"), Some(&c.nurse_hq), None).await;
    assert_eq!(r.code(), "site_not_allowed", "staff of another site cannot confirm");
    let r = c.app.request(Method::POST, &format!("/api/v1/doses/{id}/reversal/confirm"), Some(&c.nurse2), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "confirmed");
    // The day is open again; the reversed dose stays in the history, marked.
    assert_eq!(c.decision(&c.nurse, &p, &c.ls).await["due_mg"], 30.0);
    assert_eq!(c.give(&c.nurse2, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["reversal"]["status"], "confirmed");
    assert_eq!(history[1]["reversal"], json!(null));
    let audit = c.app.get(&format!("/api/v1/audit?entity=dose&entity_id={id}"), &c.admin).await.json();
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["dose.reversal_confirm", "dose.reversal_request", "dose.give"]);
}

#[actix_web::test]
async fn a_retried_dose_with_the_same_key_replays_the_first_answer() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let send = |body: serde_json::Value, key: &str| {
        TestRequest::post()
            .uri("/api/v1/doses")
            .insert_header(("Authorization", format!("Bearer {}", c.nurse)))
            .insert_header(("Idempotency-Key", key.to_string()))
            .set_json(body)
    };
    let first = c.app.send(send(dose_body(&p, &c.ls, 30.0), "k-1")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = c.app.send(send(dose_body(&p, &c.ls, 30.0), "k-1")).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json(), first.json());
    let other = c.app.send(send(dose_body(&p, &c.ls, 25.0), "k-1")).await;
    assert_eq!((other.status, other.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1, "one dose, however many retries");
}

/// A terminal that retries before its first request has been answered: ten identical
/// requests with one key at the same instant, for six patients, all get the first answer.
#[actix_web::test]
async fn simultaneous_retries_with_one_key_all_get_the_first_answer() {
    let c = Clinic::new().await;
    let send = |body: serde_json::Value, key: String| {
        TestRequest::post()
            .uri("/api/v1/doses")
            .insert_header(("Authorization", format!("Bearer {}", c.nurse)))
            .insert_header(("Idempotency-Key", key))
            .set_json(body)
    };
    for n in 0..6 {
        let p = c.patient_on(&format!("病人{n}"), n + 1, 30.0).await;
        let replies = join_all((0..10).map(|_| c.app.send(send(dose_body(&p, &c.ls, 30.0), format!("key-{n}"))))).await;
        let first = replies[0].json();
        for r in &replies {
            assert_eq!(r.status, StatusCode::CREATED, "patient {n}: {}", r.text());
            assert_eq!(r.json(), first, "patient {n}: the same dose every time");
        }
        let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
        assert_eq!(history.as_array().unwrap().len(), 1, "patient {n}: one dose");
    }
    // A refusal that left a trace (a withheld dose) is replayed too, not re-judged.
    let p = c.patient_on("醉者", 9, 30.0).await;
    let mut sedated = dose_body(&p, &c.ls, 30.0);
    sedated["intoxication_check"] = json!("sedated");
    let replies = join_all((0..5).map(|_| c.app.send(send(sedated.clone(), "key-w".into())))).await;
    for r in &replies {
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "dose_withheld_intoxicated".to_string()),
            "{}",
            r.text()
        );
    }
}

/// Sixteen "give" presses at the same instant from the two windows of the site holding the
/// patient's day, while the other site is refused: exactly one dose.
#[actix_web::test]
async fn simultaneous_doses_record_exactly_one_and_only_the_holding_site_may_dose() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    // Guest dosing at 虹桥 today, arranged after the sheets and not released: 柳市 holds the day.
    c.arrange_guest(&p, &c.hq, "2026-11-10", "2026-11-10").await;
    let calls = (0..16).map(|i| match i % 4 {
        0 => c.give(&c.nurse, &p, &c.ls, 30.0),
        1 | 3 => c.give(&c.nurse_hq, &p, &c.hq, 30.0),
        _ => c.give(&c.nurse2, &p, &c.ls, 30.0),
    });
    let replies = join_all(calls).await;
    let created: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::CREATED).collect();
    assert_eq!(created.len(), 1, "{:?}", replies.iter().map(|r| r.text()).collect::<Vec<_>>());
    let winner = created[0].json();
    assert_eq!(winner["site_id"], json!(c.ls));
    for (i, r) in replies.iter().enumerate().filter(|(_, r)| r.status != StatusCode::CREATED) {
        if i % 2 == 1 {
            assert_eq!(r.code(), "site_not_allowed", "虹桥 does not hold the day: {}", r.text());
            continue;
        }
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert_eq!(r.code(), "already_dosed_today");
        let details = &r.json()["error"]["details"];
        assert_eq!(details["site_id"], winner["site_id"], "names the winner's site");
        assert_eq!(details["given_at"], winner["given_at"], "and the winner's time");
    }
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
}

/// Doctors suspend patients while their doses are being given, each pair at once: whichever
/// arrives first, no dose is recorded after the suspension (the writer decides on what is
/// committed, even where the patient's day was read before the dose was queued).
#[actix_web::test]
async fn a_suspension_racing_a_dose_never_lets_the_dose_in_after_it() {
    let c = Clinic::new().await;
    let mut patients = Vec::new();
    for i in 0..24 {
        patients.push(c.patient_on(&format!("患者{i}"), 100 + i, 30.0).await);
    }
    let c = &c;
    let pairs = join_all(patients.iter().map(|p| async move {
        let suspend = json!({"status": "suspended", "reason": "住院"});
        let path = format!("/api/v1/patients/{p}/status");
        futures_util::future::join(c.give(&c.nurse, p, &c.ls, 30.0), c.app.post(&path, &c.doctor, suspend)).await
    }))
    .await;
    // Where an action on an entity stands in the audit trail, which is in commit order.
    let audit_seq = |entity: &'static str, id: String, action: &'static str| async move {
        let page = c.app.get(&format!("/api/v1/audit?entity={entity}&entity_id={id}"), &c.admin).await.json();
        let entries = page["entries"].as_array().unwrap().clone();
        let entry = entries.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {action}"));
        entry["seq"].as_i64().unwrap()
    };
    let mut given = 0;
    for (p, (dose, status)) in patients.iter().zip(&pairs) {
        assert_eq!(status.status, StatusCode::OK, "{}", status.text());
        let suspended_at = audit_seq("patient", p.clone(), "patient.status").await;
        if dose.status == StatusCode::CREATED {
            given += 1;
            let dosed_at = audit_seq("dose", dose.json()["id"].as_str().unwrap().to_string(), "dose.give").await;
            assert!(dosed_at < suspended_at, "dose recorded (entry {dosed_at}) after the suspension ({suspended_at})");
        } else {
            assert_eq!(dose.code(), "patient_not_active", "{}", dose.text());
        }
    }
    let mut standing = 0;
    for p in &patients {
        standing += c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json().as_array().unwrap().len();
    }
    assert_eq!(standing, given, "every dose answered 201 stands, and no other");
}

/// Fifty releases of the same day at once (two 柳市 nurses): one release, every answer the
/// same, and the day moves exactly once.
#[actix_web::test]
async fn fifty_simultaneous_releases_record_one() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let arrangement = c.arrange_guest(&p, &c.hq, "2026-11-10", "2026-11-12").await;
    let replies =
        join_all((0..50).map(|i| c.release(if i % 2 == 0 { &c.nurse } else { &c.nurse2 }, &p, &arrangement))).await;
    let times: Vec<Value> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.json()["released_at"].clone()
        })
        .collect();
    assert!(times.iter().all(|t| t == &times[0] && t.is_string()), "{times:?}");
    let audit = c.app.get(&format!("/api/v1/audit?entity=patient&entity_id={p}"), &c.admin).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text());
    let releases =
        audit.json()["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "patient.guest_release").count();
    assert_eq!(releases, 1, "{}", audit.text());
    assert_eq!(c.give(&c.nurse_hq, &p, &c.hq, 30.0).await.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn the_queue_lists_everyone_due_at_the_site_with_their_state() {
    let c = Clinic::new().await;
    let a = c.patient_on("张三", 1, 30.0).await;
    let b = c.patient_on("李四", 3, 25.0).await;
    let none = c.enrol("王五", 5).await["id"].as_str().unwrap().to_string();
    assert_eq!(c.give(&c.nurse, &a, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let q = c.app.get(&format!("/api/v1/sites/{}/queue", c.ls), &c.nurse).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    let q = q.json();
    let entry = |id: &str| q.as_array().unwrap().iter().find(|e| e["patient_id"] == id).unwrap().clone();
    assert_eq!(entry(&a)["state"], "dosed");
    assert_eq!((entry(&b)["state"].as_str(), entry(&b)["due_mg"].as_f64()), (Some("due"), Some(25.0)));
    assert_eq!(entry(&none)["state"], "blocked");
    assert_eq!(entry(&none)["blocks"][0]["code"], "no_active_order");
    assert_eq!(entry(&none)["blocks"][0]["details"], json!({}), "an object, as the contract says, even when empty");
    // Another site's nurse may not read this queue.
    let r = c.app.get(&format!("/api/v1/sites/{}/queue", c.ls), &c.nurse_hq).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Gives the patient a 30 mg dose at 柳市 that spills: its reversal asked by the nurse who
/// gave it and confirmed by a second nurse.
async fn spill_and_reverse(c: &Clinic, patient: &str) {
    let spilt = c.give(&c.nurse, patient, &c.ls, 30.0).await.json();
    let id = spilt["id"].as_str().unwrap();
    c.app.post(&format!("/api/v1/doses/{id}/reversal"), &c.nurse, json!({"reason": "洒出，未服下"})).await;
    let confirm =
        c.app.request(Method::POST, &format!("/api/v1/doses/{id}/reversal/confirm"), Some(&c.nurse2), None).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text());
}

/// A patient's last dose weeks back, behind a reversed one, on the day their order took
/// effect (where the walk back stops): the dosing screen, the queue and the history all find
/// it (on SQLite no index of the doses leads with the patient; they are read back day by
/// day).
#[actix_web::test]
async fn a_last_dose_weeks_back_is_found_by_the_decision_the_queue_and_the_history() {
    let mut c = Clinic::new().await; // 2026-11-10
    let gone = c.patient_on("张三", 1, 30.0).await; // dosed on the 10th only
    let back = c.patient_on("李四", 3, 30.0).await; // and on the 12th, a dose then reversed
    for p in [&gone, &back] {
        assert_eq!(c.give(&c.nurse, p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    }
    c.set_time("2026-11-12T08:00:00+08:00").await;
    spill_and_reverse(&c, &back).await;

    c.set_time("2026-12-05T08:00:00+08:00").await;
    let q = c.app.get(&format!("/api/v1/sites/{}/queue", c.ls), &c.nurse).await.json();
    for p in [&gone, &back] {
        let d = c.decision(&c.nurse, p, &c.ls).await;
        assert_eq!(d["last_dose"]["dose_day"], "2026-11-10", "{d}");
        assert_eq!(d["missed_days"], 24, "{d}");
        let entry = q.as_array().unwrap().iter().find(|e| e["patient_id"] == **p);
        assert_eq!(entry.map(|e| &e["missed_days"]), Some(&json!(24)), "{q}");
    }
    let h = c.app.get(&format!("/api/v1/patients/{back}/doses?from=2026-11-01&to=2026-12-05"), &c.nurse).await.json();
    let days: Vec<&str> = h.as_array().unwrap().iter().map(|e| e["dose_day"].as_str().unwrap()).collect();
    assert_eq!(days, ["2026-11-10", "2026-11-12"], "{h}");
}

/// The queue reads a site's last doses in bulk (yesterday's as one range of the day, then the
/// others'); each entry must say what the patient's own dosing screen says.
#[actix_web::test]
async fn the_queue_agrees_with_each_patients_decision_whatever_their_last_dose() {
    let mut c = Clinic::new().await; // 2026-11-10
    let a = c.patient_on("张三", 1, 30.0).await; // last dosed on the 10th
    let b = c.patient_on("李四", 3, 30.0).await; // every day
    let r = c.patient_on("王五", 5, 30.0).await; // the 12th's dose reversed: last standing the 11th
    let s = c.enrol("赵六", 7).await["id"].as_str().unwrap().to_string(); // split, both portions on the 12th
    let o = c.order(&s, json!({"daily_mg": 40, "portions_mg": [30, 10], "start_date": "2026-11-10", "phase": "induction", "reason": "start"})).await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text());
    for p in [&a, &b, &r] {
        assert_eq!(c.give(&c.nurse, p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    }
    c.set_time("2026-11-11T08:00:00+08:00").await;
    for p in [&b, &r] {
        assert_eq!(c.give(&c.nurse, p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    }
    c.set_time("2026-11-12T08:00:00+08:00").await;
    let never = c.patient_on("钱七", 9, 30.0).await; // ordered from the 12th, not come yet
    assert_eq!(c.give(&c.nurse, &b, &c.ls, 30.0).await.status, StatusCode::CREATED);
    assert_eq!(c.give(&c.nurse, &s, &c.ls, 30.0).await.status, StatusCode::CREATED);
    spill_and_reverse(&c, &r).await;
    c.set_time("2026-11-12T14:00:00+08:00").await;
    assert_eq!(c.give(&c.nurse, &s, &c.ls, 10.0).await.status, StatusCode::CREATED);

    c.set_time("2026-11-13T08:00:00+08:00").await;
    let q = c.app.get(&format!("/api/v1/sites/{}/queue", c.ls), &c.nurse).await.json();
    let expected = [(&a, 2, 30.0), (&b, 0, 30.0), (&r, 1, 30.0), (&s, 0, 30.0), (&never, 1, 30.0)];
    for (p, missed, due) in expected {
        let entry = q.as_array().unwrap().iter().find(|e| e["patient_id"] == **p).unwrap();
        let d = c.decision(&c.nurse, p, &c.ls).await;
        let seen = |v: &serde_json::Value| (v["missed_days"].as_u64(), v["due_mg"].as_f64());
        assert_eq!(seen(entry), (Some(missed), Some(due)), "queue entry of {}", entry["name"]);
        assert_eq!(seen(&d), seen(entry), "decision of {}", entry["name"]);
        assert_eq!((entry["state"].as_str(), d["can_dispense"].as_bool()), (Some("due"), Some(true)));
    }
}

/// A site's day sheet holds exactly the patients whose day the site holds: its own, less
/// those arranged to dose elsewhere that day, plus its guests; each line carries the
/// decision and the rule inputs the window keeps for offline dispensing.
#[actix_web::test]
async fn a_sites_day_sheet_holds_its_patients_less_those_dosing_elsewhere_plus_its_guests() {
    let c = Clinic::new().await; // 2026-11-10, 08:00 in 柳市
    let stays = c.patient_on("张三", 1, 30.0).await;
    let away = c.patient_on("李四", 3, 25.0).await;
    // Arranged this morning: 李四's day moves to 虹桥 once 柳市 releases it.
    let arrangement = c.arrange_guest(&away, &c.hq, "2026-11-10", "2026-11-10").await;
    let sheet_ids = |site: String, token: String| {
        let app = &c.app;
        async move {
            let r = app.get(&format!("/api/v1/sites/{site}/day-sheet"), &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let ids: Vec<String> = r.json()["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["patient_id"].as_str().unwrap().to_string())
                .collect();
            ids
        }
    };
    assert!(sheet_ids(c.ls.clone(), c.nurse.clone()).await.contains(&away), "柳市 holds the day until it releases it");
    assert!(!sheet_ids(c.hq.clone(), c.nurse_hq.clone()).await.contains(&away));
    // 柳市's queue asks for the release; 虹桥's shows him waiting for it.
    let queue = |site: String, token: String| {
        let app = &c.app;
        let away = away.clone();
        async move {
            let q = app.get(&format!("/api/v1/sites/{site}/queue"), &token).await.json();
            q.as_array().unwrap().iter().find(|e| e["patient_id"] == *away).cloned()
        }
    };
    let asked = queue(c.ls.clone(), c.nurse.clone()).await.unwrap();
    assert_eq!(asked["state"], "due");
    assert_eq!(asked["release_requests"][0]["arrangement_id"], arrangement["id"]);
    assert_eq!(asked["release_requests"][0]["site_name"], "虹桥服药点");
    let waiting = queue(c.hq.clone(), c.nurse_hq.clone()).await.unwrap();
    assert_eq!(
        (waiting["state"].as_str(), waiting["blocks"][0]["code"].as_str()),
        (Some("blocked"), Some("site_not_allowed"))
    );
    assert_eq!(waiting["blocks"][0]["details"]["site_name"], "柳市服药点");
    assert_eq!(c.release(&c.nurse, &away, &arrangement).await.status, StatusCode::OK);
    assert!(queue(c.ls.clone(), c.nurse.clone()).await.is_none(), "released: off 柳市's queue");
    assert_eq!(queue(c.hq.clone(), c.nurse_hq.clone()).await.unwrap()["state"], "due");
    let split = c.enrol("王五", 5).await["id"].as_str().unwrap().to_string();
    let o = c.order(&split, json!({"daily_mg": 40, "portions_mg": [30, 10], "start_date": "2026-11-10", "phase": "induction", "reason": "start"})).await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text());
    assert_eq!(c.give(&c.nurse, &split, &c.ls, 30.0).await.status, StatusCode::CREATED);

    let r = c.app.get(&format!("/api/v1/sites/{}/day-sheet", c.ls), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let sheet = r.json();
    assert_eq!((sheet["site_id"].as_str(), sheet["date"].as_str()), (Some(c.ls.as_str()), Some("2026-11-10")));
    let lines = sheet["lines"].as_array().unwrap();
    let ids: Vec<&str> = lines.iter().map(|l| l["patient_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&stays.as_str()) && ids.contains(&split.as_str()), "{ids:?}");
    assert!(!ids.contains(&away.as_str()), "李四 doses at 虹桥 today: not on 柳市's sheet");
    let line = |id: &str| lines.iter().find(|l| l["patient_id"] == id).unwrap().clone();
    let first = line(&stays);
    assert_eq!(
        (first["name"].as_str(), first["due_mg"].as_f64(), first["guest"].as_bool()),
        (Some("张三"), Some(30.0), Some(false))
    );
    assert_eq!(first["entry"]["order"]["daily_deci_mg"], 300);
    assert_eq!(
        (first["entry"]["limit_deci_mg"].as_i64(), first["entry"]["doses"].as_array().map(Vec::len)),
        (Some(300), Some(0))
    );
    // The split patient: the first portion given, the second not before six hours.
    let second = line(&split);
    assert_eq!(second["entry"]["order"]["portions_deci_mg"], json!([300, 100]));
    assert_eq!(second["entry"]["doses"][0]["deci_mg"], 300);
    assert_eq!(second["entry"]["split_min_interval_hours"], 6);
    // What the window shows offline beside the decision: the last dose, and whether a photo is
    // on file to keep.
    assert_eq!(
        (second["last_dose"]["dose_mg"].as_f64(), second["last_dose"]["site_name"].as_str()),
        (Some(30.0), Some("柳市服药点"))
    );
    assert_eq!((first["last_dose"].is_null(), first["has_photo"].as_bool()), (true, Some(false)));
    assert_eq!(
        (second["due_mg"].as_f64(), second["blocks"][0]["code"].as_str()),
        (Some(0.0), Some("split_interval_not_elapsed"))
    );

    // 虹桥's sheet holds 李四 as a guest; 柳市's is not 虹桥's nurse's to read.
    let hq = c.app.get(&format!("/api/v1/sites/{}/day-sheet", c.hq), &c.nurse_hq).await.json();
    let guest = hq["lines"].as_array().unwrap().iter().find(|l| l["patient_id"] == *away).cloned().unwrap();
    assert_eq!((guest["guest"].as_bool(), guest["due_mg"].as_f64()), (Some(true), Some(25.0)));
    let r = c.app.get(&format!("/api/v1/sites/{}/day-sheet", c.ls), &c.nurse_hq).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.app.get(&format!("/api/v1/sites/{}/day-sheet?date=2031-01-01", c.ls), &c.nurse).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"));
}

/// The day's sheets are fixed at 18:00 the evening before: guest dosing arranged before
/// then moves the day by itself; arranged later, it waits for the holding site's release.
#[actix_web::test]
async fn guest_dosing_arranged_before_the_evening_moves_the_day_by_itself() {
    let mut c = Clinic::at("2026-11-09T17:59:00+08:00").await;
    let early = c.patient_on("张三", 1, 30.0).await;
    let late = c.patient_on("李四", 3, 30.0).await;
    let a = c.arrange_guest(&early, &c.hq, "2026-11-10", "2026-11-10").await;
    assert_eq!(a["awaiting_release_from"], Value::Null, "before the sheets: no release needed");
    c.set_time("2026-11-09T18:00:00+08:00").await;
    let b = c.arrange_guest(&late, &c.hq, "2026-11-10", "2026-11-10").await;
    assert_eq!(b["awaiting_release_from"], json!(c.ls));
    c.set_time("2026-11-10T08:00:00+08:00").await;
    assert_eq!(c.give(&c.nurse, &early, &c.ls, 30.0).await.code(), "site_not_allowed");
    assert_eq!(c.give(&c.nurse_hq, &early, &c.hq, 30.0).await.status, StatusCode::CREATED);
    let r = c.release(&c.nurse, &early, &a).await;
    assert_eq!(r.code(), "validation_failed", "nothing to release: {}", r.text());
    assert_eq!(c.give(&c.nurse_hq, &late, &c.hq, 30.0).await.code(), "site_not_allowed");
    assert_eq!(c.release(&c.nurse, &late, &b).await.status, StatusCode::OK);
    assert_eq!(c.give(&c.nurse_hq, &late, &c.hq, 30.0).await.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn attendance_shows_each_day_and_mg_only_to_clinical_staff() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.give(&c.nurse, &p, &c.ls, 30.0).await;
    c.set_time("2026-11-13T08:00:00+08:00").await;
    c.give(&c.nurse, &p, &c.ls, 30.0).await;
    let days =
        c.app.get(&format!("/api/v1/patients/{p}/attendance?from=2026-11-09&to=2026-11-13"), &c.doctor).await.json();
    let statuses: Vec<&str> = days.as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["no_order", "dosed", "missed", "missed", "dosed"]);
    assert_eq!(days[1]["dose_mg"], 30.0);
    assert_eq!(days[2]["ordered_mg"], 30.0);
}

/// A window that lost the line gave a dose at 09:10 and uploads it at 10:30: recorded once,
/// at the window's time, with the time it arrived, and the register marks it offline.
#[actix_web::test]
async fn a_dose_given_offline_is_recorded_once_at_the_windows_time_and_marked_on_the_register() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.set_time("2026-11-10T10:30:00+08:00").await;
    let mut no_key = dose_body(&p, &c.ls, 30.0);
    no_key["offline"] = json!({"terminal_given_at": "2026-11-10T09:10:00+08:00"});
    let r = c.app.post("/api/v1/doses", &c.nurse, no_key).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into()), "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["field"], "Idempotency-Key");

    let r = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T09:10:00+08:00", "window-1-0001").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let dose = r.json();
    assert_eq!(dose["given_at"], "2026-11-10T01:10:00Z", "the window's reading");
    assert_eq!(dose["received_at"], "2026-11-10T02:30:00Z", "the server's");
    // The queue drained twice (the answer was lost): the same dose, not a second one.
    let again = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T09:10:00+08:00", "window-1-0001").await;
    assert_eq!((again.status, again.json()["id"].clone()), (StatusCode::CREATED, dose["id"].clone()));
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    // An online dose answers no receipt time.
    let q = c.patient_on("李四", 3, 25.0).await;
    let online = c.give(&c.nurse, &q, &c.ls, 25.0).await.json();
    assert!(online.get("received_at").is_none(), "{online}");

    let register =
        c.app.get(&format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date=2026-11-10", c.ls), &c.nurse).await;
    assert_eq!(register.status, StatusCode::OK);
    let text = common::pdf_text(&register.body);
    assert!(text.contains("09:10") && text.contains("离线发药，10:30上传"), "{text}");
    assert_eq!(text.matches("离线发药").count(), 1, "only the offline dose is marked: {text}");
}

/// The day is (wrongly) moved to 虹桥 while 柳市's window is offline: 柳市 gave the dose at
/// 09:00 from its sheet, 虹桥 at 09:40 after a 柳市 nurse released the day by phone. The
/// upload from 柳市 becomes an incident for a doctor; one dose counts.
#[actix_web::test]
async fn an_offline_dose_the_server_refuses_becomes_an_incident_never_a_second_dose() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let arrangement = c.arrange_guest(&p, &c.hq, "2026-11-10", "2026-11-10").await;
    c.set_time("2026-11-10T09:30:00+08:00").await;
    assert_eq!(c.release(&c.nurse2, &p, &arrangement).await.status, StatusCode::OK);
    c.set_time("2026-11-10T09:40:00+08:00").await;
    let at_hq = c.give(&c.nurse_hq, &p, &c.hq, 30.0).await;
    assert_eq!(at_hq.status, StatusCode::CREATED, "{}", at_hq.text());
    c.set_time("2026-11-10T10:00:00+08:00").await;

    let r = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T09:00:00+08:00", "ls-window-7").await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "offline_dose_conflict".into()), "{}", r.text());
    let details = r.json()["error"]["details"].clone();
    assert_eq!(details["reason"], "site_not_allowed", "{details}");
    assert_eq!(details["reason_details"]["site_name"], "虹桥服药点", "{details}");
    assert_eq!(details["reason_details"]["elsewhere"], true, "the window words it: 该患者今日在虹桥服药点服药");
    let incident_id = details["incident_id"].as_str().unwrap().to_string();
    // Sent again: the same incident, not a second one.
    let again = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T09:00:00+08:00", "ls-window-7").await;
    assert_eq!(again.json()["error"]["details"]["incident_id"], json!(incident_id));
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1, "one dose counts: {history}");

    let incidents = c.app.get("/api/v1/offline-incidents", &c.doctor).await;
    assert_eq!(incidents.status, StatusCode::OK, "{}", incidents.text());
    let list = incidents.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let i = &list[0];
    assert_eq!(i["id"], json!(incident_id));
    assert_eq!((i["patient_name"].as_str(), i["site_name"].as_str()), (Some("张三"), Some("柳市服药点")));
    assert_eq!((i["nurse_name"].is_string(), i["dose_mg"].as_f64()), (true, Some(30.0)));
    assert_eq!(i["terminal_given_at"], "2026-11-10T01:00:00Z");
    assert_eq!((i["reason"].as_str(), i["dose_day"].as_str()), (Some("site_not_allowed"), Some("2026-11-10")));
    // 虹桥's nurse cannot upload for 柳市 (nor leave an incident there).
    let r = c.give_offline(&c.nurse_hq, &p, &c.ls, "2026-11-10T09:00:00+08:00", "hq-window-1").await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "site_not_allowed".into()), "{}", r.text());
    let list = c.app.get("/api/v1/offline-incidents", &c.doctor).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1, "no incident from 虹桥's attempt: {list}");
    // 虹桥's nurse does not see 柳市's incidents, and cannot ask for them.
    let hq = c.app.get("/api/v1/offline-incidents", &c.nurse_hq).await.json();
    assert_eq!(hq, json!([]));
    let asked = c.app.get(&format!("/api/v1/offline-incidents?site_id={}", c.ls), &c.nurse_hq).await;
    assert_eq!(asked.status, StatusCode::FORBIDDEN);
    assert_eq!(c.app.get("/api/v1/offline-incidents", &c.worker).await.status, StatusCode::FORBIDDEN);
}

/// Uploads for a patient already dosed today, and for a day that has ended: incidents naming
/// why; a reading more than a week old is refused outright.
#[actix_web::test]
async fn offline_doses_already_given_or_of_an_ended_day_are_incidents() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let first = c.give(&c.nurse2, &p, &c.ls, 30.0).await.json();
    c.set_time("2026-11-10T11:00:00+08:00").await;
    let r = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T08:30:00+08:00", "k-dosed").await;
    assert_eq!(r.code(), "offline_dose_conflict", "{}", r.text());
    let details = &r.json()["error"]["details"];
    assert_eq!(details["reason"], "already_dosed_today");
    assert_eq!(details["reason_details"]["given_at"], first["given_at"], "names the dose that stands");

    c.set_time("2026-11-11T08:00:00+08:00").await;
    let q = c.patient_on("李四", 3, 25.0).await;
    let r = c.give_offline(&c.nurse, &q, &c.ls, "2026-11-10T23:50:00+08:00", "k-late").await;
    assert_eq!(r.code(), "offline_dose_conflict", "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["reason"], "offline_day_ended");
    let r = c.give_offline(&c.nurse, &q, &c.ls, "2026-11-01T09:00:00+08:00", "k-old").await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".into()), "{}", r.text());
    let list = c.app.get("/api/v1/offline-incidents?from=2026-11-10&to=2026-11-11", &c.doctor).await.json();
    let reasons: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["already_dosed_today", "offline_day_ended"]);
    for patient in [&p, &q] {
        let doses = c.app.get(&format!("/api/v1/patients/{patient}/doses"), &c.doctor).await.json();
        assert!(doses.as_array().unwrap().len() <= 1, "{doses}");
    }
}

/// The window's nurse stays signed in for offline doses: an access token that expired earlier
/// today uploads them, and nothing else; not after the day ends, nor after a sign-out.
#[actix_web::test]
async fn an_expired_token_uploads_offline_doses_only_and_only_until_the_end_of_its_day() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let q = c.patient_on("李四", 3, 25.0).await;
    let signed_out = c.app.login("nurse.li", common::PASSWORD).await;
    let r = c.app.request(Method::POST, "/api/v1/auth/logout", Some(&signed_out), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let admin = c.app.admin().await;
    c.app.set_clock(&admin, "2026-11-10T11:00:00+08:00").await; // the 08:00 tokens expired at 08:15

    assert_eq!(
        c.app.get(&format!("/api/v1/patients/{p}/dispensing?site_id={}", c.ls), &c.nurse).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::UNAUTHORIZED, "not online");
    let r = c.give_offline(&signed_out, &p, &c.ls, "2026-11-10T10:00:00+08:00", "k-out").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "signed out: {}", r.text());
    let r = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T10:00:00+08:00", "k-1").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let admin = c.app.admin().await;
    c.app.set_clock(&admin, "2026-11-11T00:30:00+08:00").await;
    let r = c.give_offline(&c.nurse, &q, &c.ls, "2026-11-10T23:50:00+08:00", "k-2").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the dose day of the token has ended: {}", r.text());
}

/// Ten windows upload offline doses of the same patient while ten press give online: one
/// dose; every offline loser is an incident, every online loser `already_dosed_today`.
#[actix_web::test]
async fn twenty_simultaneous_uploads_and_presses_give_one_dose_and_an_incident_per_offline_loser() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.set_time("2026-11-10T09:00:00+08:00").await;
    let keys: Vec<String> = (0..20).map(|i| format!("race-{i}")).collect();
    let (c, p) = (&c, &p);
    let calls = keys.iter().enumerate().map(|(i, key)| async move {
        let token = if i % 4 < 2 { &c.nurse } else { &c.nurse2 };
        if i % 2 == 0 {
            (true, c.give_offline(token, p, &c.ls, "2026-11-10T08:50:00+08:00", key).await)
        } else {
            (false, c.give(token, p, &c.ls, 30.0).await)
        }
    });
    let replies = join_all(calls).await;
    let created = replies.iter().filter(|(_, r)| r.status == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{:?}", replies.iter().map(|(_, r)| r.text()).collect::<Vec<_>>());
    let mut offline_losers = 0;
    for (offline, r) in replies.iter().filter(|(_, r)| r.status != StatusCode::CREATED) {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        if *offline {
            offline_losers += 1;
            assert_eq!(r.code(), "offline_dose_conflict");
            assert_eq!(r.json()["error"]["details"]["reason"], "already_dosed_today");
        } else {
            assert_eq!(r.code(), "already_dosed_today");
        }
    }
    let incidents = c.app.get("/api/v1/offline-incidents", &c.doctor).await.json();
    assert_eq!(incidents.as_array().unwrap().len(), offline_losers, "{incidents}");
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
}
