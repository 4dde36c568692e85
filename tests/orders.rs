//! Dose orders over HTTP: each refusal code of the order table, high doses and their
//! second doctor, and that orders are never edited.

mod common;

use actix_web::http::{Method, StatusCode};
use common::clinic::*;
use serde_json::json;

fn order(daily: f64, start: &str, phase: &str) -> serde_json::Value {
    json!({"daily_mg": daily, "start_date": start, "phase": phase, "reason": "clinical judgement"})
}

#[actix_web::test]
async fn the_first_order_is_an_induction_within_day_one_caps() {
    let c = Clinic::new().await;
    let p = c.enrol("张三", 1).await["id"].as_str().unwrap().to_string();
    let r = c.order(&p, order(30.0, "2026-11-10", "maintenance")).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "induction_required"));
    let r = c.order(&p, order(31.0, "2026-11-10", "induction")).await;
    assert_eq!(r.code(), "induction_dose_exceeded");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("30 mg"));
    let r = c.order(&p, json!({"daily_mg": 45, "portions_mg": [30, 15], "start_date": "2026-11-10", "phase": "induction", "reason": "x"})).await;
    assert_eq!(r.code(), "induction_dose_exceeded");
    let r = c
        .order(&p, json!({"daily_mg": 45, "portions_mg": [30, 15], "start_date": "2026-11-10", "phase": "induction", "reason": "x", "override_reason": "high tolerance, observed 4 h"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let o = r.json();
    assert_eq!((o["status"].as_str(), o["effective_from"].as_str()), (Some("active"), Some("2026-11-10")));
    assert_eq!(o["starts_episode"], true);
}

#[actix_web::test]
async fn steps_spacing_and_the_ceiling() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let r = c.order(&p, order(41.0, "2026-11-11", "induction")).await;
    assert_eq!(r.code(), "dose_step_exceeded");
    assert_eq!(c.order(&p, order(40.0, "2026-11-11", "induction")).await.status, StatusCode::CREATED);
    // The next increase may take effect 3 days after the 11th: the 14th, not the 13th.
    let r = c.order(&p, order(50.0, "2026-11-13", "induction")).await;
    assert_eq!(r.code(), "increase_too_soon");
    assert_eq!(r.json()["error"]["details"]["earliest"], "2026-11-14");
    assert_eq!(c.order(&p, order(50.0, "2026-11-14", "induction")).await.status, StatusCode::CREATED);
    // Decreases are free.
    assert_eq!(c.order(&p, order(35.0, "2026-11-15", "taper")).await.status, StatusCode::CREATED);
    c.set_time("2026-12-20T08:00:00+08:00").await;
    let r = c.order(&p, order(201.0, "2026-12-20", "maintenance")).await;
    assert_eq!(r.code(), "dose_above_ceiling");
}

#[actix_web::test]
async fn a_high_dose_needs_an_ecg_and_a_second_doctor() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    // Titrate to 100 mg: +10 every third day, dosed every day (missed days would suspend).
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let mut daily = 30.0;
    let mut day = chrono::NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
    while daily < 100.0 {
        day += chrono::Duration::days(1);
        c.set_time(&format!("{day}T08:00:00+08:00")).await;
        if (day - chrono::NaiveDate::from_ymd_opt(2026, 11, 10).unwrap()).num_days() % 3 == 0 {
            daily += 10.0;
            let r = c.order(&p, order(daily, &day.to_string(), "maintenance")).await;
            assert_eq!(r.status, StatusCode::CREATED, "{daily} on {day}: {}", r.text());
        }
        let r = c.give(&c.nurse, &p, &c.ls, daily).await;
        assert_eq!(r.status, StatusCode::CREATED, "{daily} on {day}: {}", r.text());
    }
    // Two more days at 100 mg; the third day after the last increase the next may start.
    for _ in 0..2 {
        day += chrono::Duration::days(1);
        c.set_time(&format!("{day}T08:00:00+08:00")).await;
        assert_eq!(c.give(&c.nurse, &p, &c.ls, daily).await.status, StatusCode::CREATED);
    }
    day += chrono::Duration::days(1);
    c.set_time(&format!("{day}T08:00:00+08:00")).await;
    let r = c.order(&p, order(110.0, &day.to_string(), "maintenance")).await;
    assert_eq!(r.code(), "ecg_required");
    let r = c.app.post(&format!("/api/v1/patients/{p}/ecgs"), &c.doctor, json!({"taken_on": day, "qtc_ms": 470})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c.order(&p, order(110.0, &day.to_string(), "maintenance")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let o = r.json();
    assert_eq!(o["status"], "pending_approval");
    assert_eq!(o["warnings"][0]["code"], "qtc_prolonged");
    let id = o["id"].as_str().unwrap();
    // Not in force until approved: the nurse still gives 100.
    assert_eq!(c.decision(&c.nurse, &p, &c.ls).await["due_mg"], 100.0);
    let pending = c.app.get("/api/v1/orders/pending", &c.doctor2).await.json();
    assert_eq!(pending[0]["order"]["id"], json!(id));
    let r = c.app.request(Method::POST, &format!("/api/v1/orders/{id}/approve"), Some(&c.doctor), None).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "second_doctor_required"));
    let r = c.app.request(Method::POST, &format!("/api/v1/orders/{id}/approve"), Some(&c.nurse), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c.app.request(Method::POST, &format!("/api/v1/orders/{id}/approve"), Some(&c.doctor2), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "active");
    assert_eq!(c.decision(&c.nurse, &p, &c.ls).await["due_mg"], 110.0);
    let r = c.app.request(Method::POST, &format!("/api/v1/orders/{id}/approve"), Some(&c.doctor2), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[actix_web::test]
async fn a_long_qtc_blocks_increases_without_an_override() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.app
        .post(&format!("/api/v1/patients/{p}/ecgs"), &c.doctor, json!({"taken_on": "2026-11-10", "qtc_ms": 510}))
        .await;
    c.set_time("2026-11-13T08:00:00+08:00").await;
    let r = c.order(&p, order(40.0, "2026-11-13", "induction")).await;
    assert_eq!(r.code(), "qtc_too_long");
    let mut body = order(40.0, "2026-11-13", "induction");
    body["override_reason"] = json!("cardiology consulted, benefit outweighs risk");
    assert_eq!(c.order(&p, body).await.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn an_order_written_after_todays_dose_takes_effect_tomorrow() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let r = c.order(&p, order(25.0, "2026-11-10", "induction")).await;
    assert_eq!(r.json()["effective_from"], "2026-11-11");
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["blocks"][0]["code"], "already_dosed_today", "no automatic top-up or change today");
}

#[actix_web::test]
async fn orders_are_history_never_edited() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.order(&p, order(25.0, "2026-11-12", "induction")).await;
    let list = c.app.get(&format!("/api/v1/patients/{p}/orders"), &c.nurse).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["daily_mg"], 25.0, "newest first");
    assert_eq!(list[0]["effective_from"], "2026-11-12");
    assert_eq!(list[1]["status"], "active", "the 30 mg order is in force until the 12th");
    assert_eq!(list[1]["prescriber_name"], "dr.chen");
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        let r = c
            .app
            .request(
                method,
                &format!("/api/v1/orders/{}", list[0]["id"].as_str().unwrap()),
                Some(&c.doctor),
                Some(json!({})),
            )
            .await;
        assert!(r.status == StatusCode::NOT_FOUND || r.status == StatusCode::METHOD_NOT_ALLOWED);
    }
    // Nurses and rehab workers never write orders.
    let r = c.app.post(&format!("/api/v1/patients/{p}/orders"), &c.nurse, order(30.0, "2026-11-12", "induction")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_transfer_starts_on_the_verified_dose_with_its_fields() {
    let c = Clinic::new().await;
    let p = c.enrol("张三", 1).await["id"].as_str().unwrap().to_string();
    let r = c.order(&p, order(80.0, "2026-11-10", "transfer")).await;
    assert_eq!(r.code(), "validation_failed");
    let mut body = order(80.0, "2026-11-10", "transfer");
    body["transfer_from"] = json!("温州市第七人民医院美沙酮门诊");
    body["last_dose_on"] = json!("2026-11-09");
    let r = c.order(&p, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(c.decision(&c.nurse, &p, &c.ls).await["due_mg"], 80.0);
}
