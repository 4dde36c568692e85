//! Drug tests: the due list by rule, the recorded random urine-test draw, and the police
//! notification a positive hair test requires.

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use serde_json::{json, Value};

async fn due(c: &Clinic, query: &str) -> Vec<(String, String, String)> {
    let r = c.app.get(&format!("/api/v1/tests/due{query}"), &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut out: Vec<(String, String, String)> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["patient_name"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
                d["due_since"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn row(name: &str, kind: &str, since: &str) -> (String, String, String) {
    (name.into(), kind.into(), since.into())
}

async fn record(c: &Clinic, patient: &str, kind: &str, on: &str, result: &str) -> Value {
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{patient}/tests"),
            &c.doctor,
            json!({"kind": kind, "sampled_on": on, "result": result}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[actix_web::test]
async fn urine_is_due_every_30_days_and_hair_by_risk_level() {
    let c = Clinic::new().await;
    // Enrolled 2026-10-01 at risk level 2: never tested, both due since enrolment.
    let p = c.patient_on("冯二", 1, 30.0).await;
    assert_eq!(due(&c, "").await, [row("冯二", "hair", "2026-10-01"), row("冯二", "urine", "2026-10-01")]);

    record(&c, &p, "urine", "2026-10-12", "negative").await;
    record(&c, &p, "hair", "2026-10-12", "negative").await;
    assert!(due(&c, "?date=2026-11-10").await.is_empty(), "day 29 after the urine test");
    assert_eq!(due(&c, "?date=2026-11-11").await, [row("冯二", "urine", "2026-11-11")]);
    // Hair at risk level 2: 180 days.
    assert_eq!(
        due(&c, "?date=2027-04-10").await,
        [row("冯二", "hair", "2027-04-10"), row("冯二", "urine", "2026-11-11")]
    );
    // A refusal is not a test done.
    record(&c, &p, "urine", "2026-11-10", "refused").await;
    assert_eq!(due(&c, "?date=2026-11-11").await, [row("冯二", "urine", "2026-11-11")]);
    // Only patients of the asked site.
    assert!(due(&c, &format!("?date=2026-11-11&site_id={}", c.hq)).await.is_empty());
    assert_eq!(c.app.get("/api/v1/tests/due", &c.worker).await.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_random_urine_draw_is_recorded_once_per_site_and_day_and_can_be_redrawn_from_its_seed() {
    let c = Clinic::new().await;
    let mut ids = Vec::new();
    for i in 1..=12 {
        ids.push(c.patient_on(&format!("抽检{i}"), i, 30.0).await);
    }
    let draw = c.app.post("/api/v1/tests/urine-selections", &c.nurse, json!({"site_id": c.ls, "count": 3})).await;
    assert_eq!(draw.status, StatusCode::CREATED, "{}", draw.text());
    let d = draw.json();
    assert_eq!(
        (d["count"].as_u64(), d["candidates"].as_u64(), d["date"].as_str()),
        (Some(3), Some(12), Some("2026-11-10"))
    );
    let chosen: Vec<String> =
        d["patients"].as_array().unwrap().iter().map(|p| p["patient_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(chosen.len(), 3);
    // Anyone can re-draw it from the recorded seed and the candidates.
    let redrawn = mmt_clinic::domain::drug_tests::random_selection(d["seed"].as_str().unwrap(), &ids, 3);
    assert_eq!(redrawn, chosen);

    // Asking again the same day returns the same draw: it cannot be redrawn until it suits.
    let again = c.app.post("/api/v1/tests/urine-selections", &c.nurse2, json!({"site_id": c.ls, "count": 5})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], d["id"]);
    let fetched = c.app.get(&format!("/api/v1/tests/urine-selections?site_id={}", c.ls), &c.doctor).await;
    assert_eq!(fetched.json()["seed"], d["seed"]);

    // A test recorded for a selected patient names the draw; others cannot claim it.
    let selected = &chosen[0];
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{selected}/tests"),
            &c.nurse,
            json!({"kind": "urine", "sampled_on": "2026-11-10", "result": "negative", "selection_id": d["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let outsider = ids.iter().find(|i| !chosen.contains(i)).unwrap();
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{outsider}/tests"),
            &c.nurse,
            json!({"kind": "urine", "sampled_on": "2026-11-10", "result": "negative", "selection_id": d["id"]}),
        )
        .await;
    assert_eq!(r.json()["error"]["details"]["field"], "selection_id");

    let elsewhere =
        c.app.post("/api/v1/tests/urine-selections", &c.nurse_hq, json!({"site_id": c.ls, "count": 3})).await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    let none = c.app.post("/api/v1/tests/urine-selections", &c.nurse_hq, json!({"site_id": c.hq, "count": 0})).await;
    assert_eq!(none.code(), "validation_failed");
}

#[actix_web::test]
async fn a_positive_hair_test_waits_for_its_police_notification() {
    let c = Clinic::new().await;
    let p = c.patient_on("陈三", 1, 30.0).await;
    let urine = record(&c, &p, "urine", "2026-11-09", "positive").await;
    let hair = record(&c, &p, "hair", "2026-11-09", "positive").await;
    assert_eq!(
        (urine["police_notification_required"].as_bool(), hair["police_notification_required"].as_bool()),
        (Some(false), Some(true))
    );

    let outstanding = c.app.get("/api/v1/police-notifications/outstanding", &c.doctor).await.json();
    assert_eq!(outstanding.as_array().unwrap().len(), 1);
    assert_eq!(
        (outstanding[0]["test_id"].clone(), outstanding[0]["patient_name"].as_str()),
        (hair["id"].clone(), Some("陈三"))
    );

    let notify = |test: &Value, token: &str| {
        let (app, token, id) = (&c.app, token.to_string(), test["id"].as_str().unwrap().to_string());
        async move {
            app.post(
                &format!("/api/v1/tests/{id}/police-notification"),
                &token,
                json!({"notified_at": "2026-11-10T07:30:00+08:00", "police_unit": "柳市派出所", "note": "电话通报"}),
            )
            .await
        }
    };
    let urine_answer = notify(&urine, &c.doctor).await;
    assert_eq!(urine_answer.code(), "police_notification_not_required");
    assert_eq!(notify(&hair, &c.nurse).await.status, StatusCode::FORBIDDEN);
    let done = notify(&hair, &c.doctor).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text());
    let n = &done.json()["police_notification"];
    assert_eq!((n["police_unit"].as_str(), n["recorded_by_name"].as_str()), (Some("柳市派出所"), Some("dr.chen")));
    assert_eq!(n["notified_at"], "2026-11-09T23:30:00Z");
    assert_eq!(notify(&hair, &c.doctor).await.code(), "police_already_notified");
    let outstanding = c.app.get("/api/v1/police-notifications/outstanding", &c.doctor).await.json();
    assert_eq!(outstanding, json!([]));

    // The rehab worker (consent given) sees the results, not who notified the police.
    let tests = c.app.get(&format!("/api/v1/patients/{p}/tests"), &c.worker).await.json();
    assert_eq!(tests.as_array().unwrap().len(), 2);
    assert!(tests.as_array().unwrap().iter().all(|t| t["police_notification"].is_null()), "{tests}");
    let doctors = c.app.get(&format!("/api/v1/patients/{p}/tests"), &c.doctor).await.json();
    assert!(doctors.as_array().unwrap().iter().any(|t| t["police_notification"]["police_unit"] == "柳市派出所"));
}
