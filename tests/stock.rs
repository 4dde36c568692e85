//! The controlled-substance ledger through the API, on SQLite (and PostgreSQL with
//! TEST_DATABASE_URL): two people for every entry, a transfer in exactly one place at a
//! time, the day close's tolerance, a frozen closed day, both concentrations, and a month
//! that balances to the millilitre.

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use common::*;
use serde_json::{json, Value};

async fn product(c: &Clinic, name: &str, conc: u32) -> String {
    let r = c.app.post("/api/v1/products", &c.admin, json!({"name": name, "concentration_mg_per_ml": conc})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

/// An entry by `by`, confirmed by `confirm` (if given); returns the entry's id.
async fn entry(c: &Clinic, by: &str, confirm: Option<&str>, body: Value) -> String {
    let r = c.app.post("/api/v1/stock/entries", by, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "pending");
    let id = r.json()["id"].as_str().unwrap().to_string();
    if let Some(second) = confirm {
        let r = c.app.post(&format!("/api/v1/stock/entries/{id}/confirm"), second, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["status"], "confirmed");
    }
    id
}

fn receipt(site: &str, product: &str, ml: f64) -> Value {
    json!({"site_id": site, "product_id": product, "kind": "receipt", "volume_ml": ml, "lot": "20261101",
           "supplier": "温州医药公司", "reason": "领药"})
}

async fn day(c: &Clinic, token: &str, site: &str, date: Option<&str>) -> Value {
    let q = date.map(|d| format!("?date={d}")).unwrap_or_default();
    let r = c.app.get(&format!("/api/v1/sites/{site}/stock{q}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

#[actix_web::test]
async fn every_manual_entry_needs_a_second_person() {
    let c = Clinic::new().await;
    let p = product(&c, "美沙酮口服溶液", 1).await;
    let e = entry(&c, &c.nurse, None, receipt(&c.ls, &p, 500.0)).await;
    // Pending: not yet in the balance, and listed for a second person.
    let s = day(&c, &c.nurse2, &c.ls, None).await;
    assert_eq!(s["products"][0]["expected_ml"], 0.0);
    assert_eq!(s["pending_entries"][0]["id"], e.as_str());
    let same = c.app.post(&format!("/api/v1/stock/entries/{e}/confirm"), &c.nurse, json!({})).await;
    assert_eq!((same.status, same.code()), (StatusCode::UNPROCESSABLE_ENTITY, "two_person_rule".into()));
    let ok = c.app.post(&format!("/api/v1/stock/entries/{e}/confirm"), &c.nurse2, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK);
    let again = c.app.post(&format!("/api/v1/stock/entries/{e}/confirm"), &c.nurse2, json!({})).await;
    assert_eq!(again.code(), "already_confirmed");
    let mut last = String::new();
    for (kind, ml) in [("waste", 2.5), ("adjustment", -0.5)] {
        let e = entry(
            &c,
            &c.nurse2,
            None,
            json!({"site_id": c.ls, "product_id": p, "kind": kind, "volume_ml": ml, "reason": "打翻"}),
        )
        .await;
        let same = c.app.post(&format!("/api/v1/stock/entries/{e}/confirm"), &c.nurse2, json!({})).await;
        assert_eq!(same.code(), "two_person_rule", "{kind}");
        assert_eq!(
            c.app.post(&format!("/api/v1/stock/entries/{e}/confirm"), &c.nurse, json!({})).await.status,
            StatusCode::OK
        );
        last = e;
    }
    let e = last; // the adjustment of −0.5 mL
    let s = day(&c, &c.nurse, &c.ls, None).await;
    assert_eq!(s["products"][0]["expected_ml"], 497.0);
    assert_eq!(s["products"][0]["waste_ml"], 2.5);
    // A receipt names its lot and supplier; every entry names its product.
    let r = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse,
            json!({"site_id": c.ls, "product_id": p, "kind": "receipt", "volume_ml": 5, "reason": "x"}),
        )
        .await;
    assert_eq!(r.code(), "validation_failed");
    let r = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse,
            json!({"site_id": c.ls, "kind": "waste", "volume_ml": 5, "reason": "x"}),
        )
        .await;
    assert_eq!(r.code(), "validation_failed");
    // A mistake is reversed by a new entry, confirmed by a second person, once.
    let rev = entry(
        &c,
        &c.nurse,
        Some(&c.nurse2),
        json!({"site_id": c.ls, "kind": "reversal", "reverses_id": e, "reason": "录错"}),
    )
    .await;
    assert!(!rev.is_empty());
    assert_eq!(day(&c, &c.nurse, &c.ls, None).await["products"][0]["expected_ml"], 497.5);
    let twice = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse,
            json!({"site_id": c.ls, "kind": "reversal", "reverses_id": e, "reason": "again"}),
        )
        .await;
    assert_eq!(twice.code(), "already_confirmed");
}

/// A terminal that retries a receipt (a lost answer, a double click) records it once: every
/// retry with the key gets the first answer, and the key cannot stand for another entry.
#[actix_web::test]
async fn a_retried_entry_with_the_same_key_is_recorded_once() {
    let c = Clinic::new().await;
    let p = product(&c, "美沙酮口服溶液", 1).await;
    let replies = futures_util::future::join_all(
        (0..8).map(|_| c.app.post_with_key("/api/v1/stock/entries", &c.nurse, "receipt-1", receipt(&c.ls, &p, 500.0))),
    )
    .await;
    let first = replies[0].json();
    for r in &replies {
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json(), first, "the same entry every time");
    }
    let later = c.app.post_with_key("/api/v1/stock/entries", &c.nurse, "receipt-1", receipt(&c.ls, &p, 500.0)).await;
    assert_eq!((later.status, later.json()), (StatusCode::CREATED, first.clone()));
    let other = c.app.post_with_key("/api/v1/stock/entries", &c.nurse, "receipt-1", receipt(&c.ls, &p, 50.0)).await;
    assert_eq!((other.status, other.code()), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused".into()));
    let s = day(&c, &c.nurse2, &c.ls, None).await;
    assert_eq!(s["pending_entries"].as_array().unwrap().len(), 1, "one entry, however many retries");
    assert_eq!(s["pending_entries"][0]["id"], first["id"]);
    // Another nurse's key of the same name is hers: it records her own entry.
    let hers = c.app.post_with_key("/api/v1/stock/entries", &c.nurse2, "receipt-1", receipt(&c.ls, &p, 500.0)).await;
    assert_eq!(hers.status, StatusCode::CREATED, "{}", hers.text());
    assert_ne!(hers.json()["id"], first["id"]);
    // A refusal writes nothing and is not stored: the corrected retry goes through.
    let bad = json!({"site_id": c.ls, "product_id": p, "kind": "waste", "volume_ml": 0, "reason": "打翻"});
    assert_eq!(
        c.app.post_with_key("/api/v1/stock/entries", &c.nurse, "waste-1", bad).await.code(),
        "validation_failed"
    );
    let good = json!({"site_id": c.ls, "product_id": p, "kind": "waste", "volume_ml": 1, "reason": "打翻"});
    assert_eq!(
        c.app.post_with_key("/api/v1/stock/entries", &c.nurse, "waste-1", good).await.status,
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn a_transfer_is_in_exactly_one_place_at_a_time() {
    let c = Clinic::new().await;
    let p = product(&c, "美沙酮口服溶液", 1).await;
    entry(&c, &c.nurse, Some(&c.nurse2), receipt(&c.ls, &p, 1000.0)).await;
    let out = entry(
        &c,
        &c.nurse,
        Some(&c.nurse2),
        json!({"site_id": c.ls, "product_id": p, "kind": "transfer_out", "volume_ml": 200, "counterpart_site_id": c.hq, "reason": "调拨"}),
    )
    .await;
    let total = |ls: &Value, hq: &Value| {
        ls["products"][0]["expected_ml"].as_f64().unwrap()
            + hq["products"][0]["expected_ml"].as_f64().unwrap()
            + ls["transfers_out_in_transit"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["volume_ml"].as_f64().unwrap())
                .sum::<f64>()
    };
    let ls = day(&c, &c.nurse, &c.ls, None).await;
    let hq = day(&c, &c.nurse_hq, &c.hq, None).await;
    assert_eq!(ls["products"][0]["expected_ml"], 800.0);
    assert_eq!(ls["transfers_out_in_transit"][0]["id"], out.as_str());
    assert_eq!(hq["transfers_arriving"][0]["id"], out.as_str());
    assert_eq!(hq["products"][0]["expected_ml"], 0.0);
    assert_eq!(total(&ls, &hq), 1000.0, "in transit, in neither balance");
    // The receiving site books it in with two of its own staff; the volume is the one sent.
    let wrong = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse_hq,
            json!({"site_id": c.hq, "kind": "transfer_in", "transfer_id": out, "volume_ml": 150, "reason": "到货"}),
        )
        .await;
    assert_eq!(wrong.code(), "validation_failed");
    let inn = entry(
        &c,
        &c.nurse_hq,
        Some(&c.nurse_both),
        json!({"site_id": c.hq, "kind": "transfer_in", "transfer_id": out, "reason": "到货"}),
    )
    .await;
    assert!(!inn.is_empty());
    let ls = day(&c, &c.nurse, &c.ls, None).await;
    let hq = day(&c, &c.nurse_hq, &c.hq, None).await;
    assert_eq!(hq["products"][0]["expected_ml"], 200.0);
    assert_eq!(hq["products"][0]["transfer_in_ml"], 200.0);
    assert!(ls["transfers_out_in_transit"].as_array().unwrap().is_empty());
    assert!(hq["transfers_arriving"].as_array().unwrap().is_empty());
    assert_eq!(total(&ls, &hq), 1000.0);
    // Never received twice.
    let twice = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse_hq,
            json!({"site_id": c.hq, "kind": "transfer_in", "transfer_id": out, "reason": "again"}),
        )
        .await;
    assert_eq!(twice.code(), "already_confirmed");
    // A nurse of one site cannot touch the other's stock.
    assert_eq!(c.app.get(&format!("/api/v1/sites/{}/stock", c.ls), &c.nurse_hq).await.status, StatusCode::FORBIDDEN);
    let r = c.app.post("/api/v1/stock/entries", &c.nurse_hq, receipt(&c.ls, &p, 10.0)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let pending = entry(&c, &c.nurse, None, receipt(&c.ls, &p, 10.0)).await;
    let r = c.app.post(&format!("/api/v1/stock/entries/{pending}/confirm"), &c.nurse_hq, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_close_tolerance_is_one_millilitre_and_beyond_it_an_incident_note() {
    let c = Clinic::new().await;
    let p = product(&c, "美沙酮口服溶液", 1).await;
    entry(&c, &c.nurse_hq, Some(&c.nurse_both), receipt(&c.hq, &p, 100.0)).await;
    entry(&c, &c.nurse, Some(&c.nurse2), receipt(&c.ls, &p, 100.0)).await;
    async fn close_at(c: &Clinic, p: &str, site: &str, counted: f64, note: Option<&str>) -> Reply {
        let body = json!({"date": "2026-11-10", "product_id": p, "counted_ml": counted, "incident_note": note});
        c.app.post(&format!("/api/v1/sites/{site}/day-close"), &c.nurse_both, body).await
    }
    // 1.1 mL short: refused without a note.
    let r = close_at(&c, &p, &c.ls, 98.9, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "stock_discrepancy".into()), "{}", r.text());
    assert_eq!(r.json()["error"]["details"]["gap_ml"], -1.1);
    // 1.0 mL closes (and 0.9 mL at the other site).
    let r = close_at(&c, &p, &c.ls, 99.0, None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cid = r.json()["id"].as_str().unwrap().to_string();
    let same = c.app.post(&format!("/api/v1/sites/{}/day-close/{cid}/confirm", c.ls), &c.nurse_both, json!({})).await;
    assert_eq!(same.code(), "two_person_rule");
    let ok = c.app.post(&format!("/api/v1/sites/{}/day-close/{cid}/confirm", c.ls), &c.nurse2, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let s = day(&c, &c.nurse, &c.ls, None).await;
    assert_eq!(s["products"][0]["closed"], true);
    assert_eq!(s["products"][0]["expected_ml"], 100.0);
    assert_eq!(s["products"][0]["counted_ml"], 99.0);
    assert_eq!(close_at(&c, &p, &c.ls, 99.0, None).await.code(), "day_closed");
    assert_eq!(close_at(&c, &p, &c.hq, 99.1, None).await.status, StatusCode::CREATED);
    // With an incident note a bigger gap is asked for, and confirmed by a second person.
    let r = close_at(&c, &p, &c.hq, 90.0, Some("量杯破损，洒出约10mL，已报告科长")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["gap_ml"], -10.0);
}

#[actix_web::test]
async fn a_closed_day_is_frozen() {
    let mut c = Clinic::new().await;
    let p = product(&c, "美沙酮口服溶液", 1).await;
    entry(&c, &c.nurse, Some(&c.nurse2), receipt(&c.ls, &p, 100.0)).await;
    let patient = c.patient_on("张三", 1, 30.0).await;
    let dose = c.give(&c.nurse, &patient, &c.ls, 30.0).await.json()["id"].as_str().unwrap().to_string();
    let r = c
        .app
        .post(
            &format!("/api/v1/sites/{}/day-close", c.ls),
            &c.nurse,
            json!({"date": "2026-11-10", "product_id": p, "counted_ml": 70}),
        )
        .await;
    let cid = r.json()["id"].as_str().unwrap().to_string();
    c.set_time("2026-11-10T18:00:00+08:00").await;
    assert_eq!(
        c.app.post(&format!("/api/v1/sites/{}/day-close/{cid}/confirm", c.ls), &c.nurse2, json!({})).await.status,
        StatusCode::OK
    );
    // The dose of a closed day is not reversed.
    let r = c.app.post(&format!("/api/v1/doses/{dose}/reversal"), &c.nurse, json!({"reason": "录错"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "reversal_window_closed".into()),
        "{}",
        r.text()
    );
    // An entry confirmed after the close goes to the next day.
    c.set_time("2026-11-10T19:00:00+08:00").await;
    entry(&c, &c.nurse, Some(&c.nurse2), receipt(&c.ls, &p, 50.0)).await;
    let today = day(&c, &c.nurse, &c.ls, Some("2026-11-10")).await;
    assert_eq!(today["products"][0]["received_ml"], 100.0);
    assert_eq!(today["products"][0]["counted_ml"], 70.0);
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let next = day(&c, &c.nurse, &c.ls, Some("2026-11-11")).await;
    assert_eq!(next["products"][0]["opening_ml"], 70.0);
    assert_eq!(next["products"][0]["received_ml"], 50.0);
    assert_eq!(next["products"][0]["expected_ml"], 120.0);
}

#[actix_web::test]
async fn each_site_dispenses_its_product_and_the_volume_follows_the_concentration() {
    let c = Clinic::new().await;
    let one = product(&c, "美沙酮口服溶液 1mg/mL", 1).await;
    let ten = product(&c, "美沙酮口服浓溶液 10mg/mL", 10).await;
    let r = c.app.post(&format!("/api/v1/sites/{}/product", c.hq), &c.admin, json!({"product_id": ten})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = c.app.post(&format!("/api/v1/sites/{}/product", c.ls), &c.nurse, json!({"product_id": one})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "admins set products");
    c.app.post(&format!("/api/v1/sites/{}/product", c.ls), &c.admin, json!({"product_id": one})).await;
    let bad = c.app.post("/api/v1/products", &c.admin, json!({"name": "x", "concentration_mg_per_ml": 3})).await;
    assert_eq!(bad.code(), "validation_failed");
    // 27.5 mg: 2.75 mL at 虹桥 (10 mg/mL); 30 mg: 30 mL at 柳市 (1 mg/mL).
    let a = c.patient_on("张三", 1, 30.0).await;
    let guest = c.arrange_guest(&a, &c.hq, "2026-11-10", "2026-11-10").await;
    assert_eq!(c.release(&c.nurse, &a, &guest).await.status, StatusCode::OK);
    let b = c.patient_on("李四", 2, 30.0).await;
    assert_eq!(
        c.give(&c.nurse_hq, &a, &c.hq, 27.5).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "less needs a note"
    );
    let mut body = dose_body(&a, &c.hq, 27.5);
    body["note"] = json!("患者要求减量");
    assert_eq!(c.app.post("/api/v1/doses", &c.nurse_hq, body).await.status, StatusCode::CREATED);
    assert_eq!(c.give(&c.nurse, &b, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let hq = day(&c, &c.nurse_hq, &c.hq, None).await;
    let hq_ten =
        hq["products"].as_array().unwrap().iter().find(|p| p["product"]["id"] == ten.as_str()).unwrap().clone();
    assert_eq!(hq_ten["dispensing"], true);
    assert_eq!(hq_ten["dispensed_ml"], 2.75);
    assert_eq!(hq_ten["product"]["concentration_label"], "10 mg/mL");
    let ls = day(&c, &c.nurse, &c.ls, None).await;
    let ls_one =
        ls["products"].as_array().unwrap().iter().find(|p| p["product"]["id"] == one.as_str()).unwrap().clone();
    assert_eq!(ls_one["dispensed_ml"], 30.0);
    let ls_ten =
        ls["products"].as_array().unwrap().iter().find(|p| p["product"]["id"] == ten.as_str()).unwrap().clone();
    assert_eq!(ls_ten["dispensed_ml"], 0.0, "never booked against the other product");
}

#[actix_web::test]
async fn a_month_of_ledger_balances_to_the_millilitre() {
    let mut c = Clinic::at("2026-10-01T08:00:00+08:00").await;
    let p = product(&c, "美沙酮口服溶液", 1).await;
    let patient = c.patient_on("张三", 1, 30.0).await;
    let mut expected = 0.0f64;
    let mut received = 0.0;
    let mut dispensed = 0.0;
    let mut wasted = 0.0;
    let mut gaps = 0.0;
    for d in 1..=30u32 {
        let date = format!("2026-10-{d:02}");
        if d > 1 {
            c.app.set_clock(&c.admin, &format!("{date}T08:00:00+08:00")).await;
            c.admin = c.app.admin().await;
            c.nurse = c.app.login("nurse.li", PASSWORD).await;
            c.nurse2 = c.app.login("nurse.xu", PASSWORD).await;
            c.now = format!("{date}T08:00:00+08:00");
        }
        if d % 7 == 1 {
            entry(&c, &c.nurse, Some(&c.nurse2), receipt(&c.ls, &p, 250.0)).await;
            expected += 250.0;
            received += 250.0;
        }
        let r = c.give(&c.nurse, &patient, &c.ls, 30.0).await;
        assert_eq!(r.status, StatusCode::CREATED, "{date}: {}", r.text());
        expected -= 30.0;
        dispensed += 30.0;
        if d % 10 == 5 {
            entry(
                &c,
                &c.nurse2,
                Some(&c.nurse),
                json!({"site_id": c.ls, "product_id": p, "kind": "waste", "volume_ml": 1.25, "reason": "洒出"}),
            )
            .await;
            expected -= 1.25;
            wasted += 1.25;
        }
        // The count: exact, except a 0.5 mL shortfall on the 15th.
        let counted = if d == 15 { expected - 0.5 } else { expected };
        let r = c
            .app
            .post(
                &format!("/api/v1/sites/{}/day-close", c.ls),
                &c.nurse,
                json!({"date": date, "product_id": p, "counted_ml": counted}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{date}: {}", r.text());
        assert_eq!(r.json()["expected_ml"], expected, "{date}");
        let cid = r.json()["id"].as_str().unwrap().to_string();
        let r = c.app.post(&format!("/api/v1/sites/{}/day-close/{cid}/confirm", c.ls), &c.nurse2, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{date}: {}", r.text());
        gaps += counted - expected;
        expected = counted;
    }
    let r = c.app.get(&format!("/api/v1/sites/{}/stock/ledger?from=2026-10-01&to=2026-10-30", c.ls), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let ledger = r.json();
    assert_eq!(ledger["opening_ml"], 0.0);
    assert_eq!(ledger["closing_ml"], expected);
    assert_eq!(expected, received - dispensed - wasted + gaps);
    assert_eq!(expected, 1250.0 - 900.0 - 3.75 - 0.5);
    let rows = ledger["rows"].as_array().unwrap();
    let sum_in: f64 = rows.iter().map(|r| r["in_ml"].as_f64().unwrap()).sum();
    let sum_out: f64 = rows.iter().map(|r| r["out_ml"].as_f64().unwrap()).sum();
    assert!((sum_in - sum_out - expected).abs() < 1e-9, "in {sum_in} − out {sum_out} ≠ {expected}");
    // Every row's balance follows from the one before it.
    let mut balance = 0.0;
    for row in rows {
        balance += row["in_ml"].as_f64().unwrap() - row["out_ml"].as_f64().unwrap();
        assert!((row["balance_ml"].as_f64().unwrap() - balance).abs() < 1e-9, "{row}");
    }
    let days = ledger["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert!(days.iter().all(|d| d["closed"] == true));
    assert_eq!(days[14]["counted_ml"].as_f64().unwrap() - days[14]["expected_ml"].as_f64().unwrap(), -0.5);
    assert_eq!(days.iter().map(|d| d["dispensed_ml"].as_f64().unwrap()).sum::<f64>(), 900.0);
}
