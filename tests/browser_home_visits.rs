//! Home visits and the stock page in a real browser: the visit's steps on a phone-sized
//! screen with a second nurse confirming the check-out, an outcome whose answer is lost and
//! that is sent again, a delivered visit that makes the window refuse the patient, and a day
//! close whose gap asks for an incident note.

mod common;

use std::time::Duration;

use actix_web::http::StatusCode;
use common::browser::*;
use common::clinic::*;
use common::*;
use fantoccini::{Client, Locator};
use serde_json::json;

async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
}

async fn text_of(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap()
}

/// One 1 mg/mL product with 1000 mL at 柳市, and a home-visit patient on today's sheet.
async fn setup(c: &Clinic) -> (String, String, String) {
    let r =
        c.app.post("/api/v1/products", &c.admin, json!({"name": "美沙酮口服溶液", "concentration_mg_per_ml": 1})).await;
    let product = r.json()["id"].as_str().unwrap().to_string();
    let e = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse,
            json!({"site_id": c.ls, "product_id": product, "kind": "receipt", "volume_ml": 1000, "lot": "L1", "supplier": "温州医药", "reason": "领药"}),
        )
        .await
        .json();
    c.app.post(&format!("/api/v1/stock/entries/{}/confirm", e["id"].as_str().unwrap()), &c.nurse2, json!({})).await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.app
        .post(
            &format!("/api/v1/patients/{p}/home-visit-authorizations"),
            &c.doctor,
            json!({"reason": "卧床", "valid_from": "2026-11-01", "valid_to": "2026-12-31"}),
        )
        .await;
    let r = c
        .app
        .post(
            "/api/v1/home-visit-schedules",
            &c.nurse,
            json!({"patient_id": p, "site_id": c.ls, "weekdays": [1,2,3,4,5,6,7], "from": "2026-11-10"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sheet = c.app.get(&format!("/api/v1/sites/{}/home-visits", c.ls), &c.nurse).await.json();
    let visit = sheet[0]["id"].as_str().unwrap().to_string();
    (product, p, visit)
}

#[actix_web::test]
async fn on_a_phone_a_second_nurse_confirms_the_check_out_and_the_delivered_visit_makes_the_window_refuse() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let (_, p, visit) = setup(&c).await;
    let base = serve(c.app.state.clone());

    // The first nurse, on a 375 px phone, checks the dose out.
    let phone = browser(&driver).await;
    phone.set_window_size(375, 812).await.unwrap();
    sign_in(&phone, &base, "nurse.li", PASSWORD).await;
    wait_for(&phone, "#patient-lookup").await;
    phone.goto(&format!("{base}/#/home-visits")).await.unwrap();
    wait_for(&phone, &format!("#visit-{visit}[data-state=\"planned\"]")).await;
    assert!(phone.find(Locator::Css("[data-placeholder]")).await.is_err(), "the placeholder is gone");
    wait_css(&phone, &format!("#hv-checkout-{visit}")).await.click().await.unwrap();
    wait_for(&phone, &format!("#visit-{visit} [data-waiting=\"checkout\"]")).await;
    // She cannot confirm her own check-out: no button is offered.
    assert!(phone.find(Locator::Css(&format!("#hv-confirm-checkout-{visit}"))).await.is_err());
    // Nothing on the page is wider than the phone.
    let wide = phone.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap().as_i64().unwrap();
    if wide > 375 {
        let culprits = phone
            .execute("return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 15).join('\\n');", vec![])
            .await
            .unwrap();
        eprintln!("WIDE {}", culprits.as_str().unwrap_or_default());
        std::fs::write("/tmp/hv_debug.png", phone.screenshot().await.unwrap()).unwrap();
    }
    assert!(wide <= 375, "the page is {wide} px wide on a 375 px screen");

    // The second nurse confirms on her own screen.
    let other = browser(&driver).await;
    other.set_window_size(375, 812).await.unwrap();
    sign_in(&other, &base, "nurse.xu", PASSWORD).await;
    wait_for(&other, "#patient-lookup").await;
    other.goto(&format!("{base}/#/home-visits")).await.unwrap();
    wait_css(&other, &format!("#hv-confirm-checkout-{visit}")).await.click().await.unwrap();
    wait_for(&other, &format!("#visit-{visit}[data-state=\"checked_out\"]")).await;
    let dose = text_of(&other, &format!("#visit-{visit} .hv-dose")).await;
    if let Ok(dir) = std::env::var("MMT_SCREENSHOTS") {
        std::fs::write(format!("{dir}/home-visit-375.png"), other.screenshot().await.unwrap()).unwrap();
    }
    assert!(dose.contains("30 mL") && dose.contains("1 mg/mL"), "the volume with its concentration: {dose}");
    other.close().await.unwrap();

    // At the door, on a weak signal: "delivered" reaches the server but its answer is lost.
    phone.refresh().await.unwrap();
    let delivered = wait_css(&phone, &format!("#hv-delivered-{visit}")).await;
    phone
        .execute(
            "const real = window.fetch; let dropped = false;
             window.fetch = async (...args) => {
               const answer = await real(...args);
               if (!dropped && String(args[0]).endsWith('/outcome')) { dropped = true; throw new TypeError('line dropped'); }
               return answer;
             };
             return 0;",
            vec![],
        )
        .await
        .unwrap();
    delivered.click().await.unwrap();
    wait_for(&phone, &format!("#hv-msg-{visit}[data-code=\"network_error\"]")).await;
    // She presses again: the same request, answered as the first, and one dose.
    wait_css(&phone, &format!("#hv-delivered-{visit}")).await.click().await.unwrap();
    wait_for(&phone, &format!("#visit-{visit}[data-state=\"delivered\"]")).await;
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["kind"], "home_visit");

    // Back at the window the patient is refused, and the reason says where.
    phone.set_window_size(1366, 768).await.unwrap();
    phone.goto(&format!("{base}/#/dispensing?patient={p}")).await.unwrap();
    wait_for(&phone, "#decision[data-can-dispense=\"false\"]").await;
    wait_for(&phone, "#decision [data-code=\"already_dosed_today\"]").await;
    let words = text_of(&phone, "#decision [data-code=\"already_dosed_today\"]").await;
    assert!(words.contains("上门"), "{words}");
    phone.close().await.unwrap();
}

#[actix_web::test]
async fn a_day_close_with_a_gap_asks_for_the_incident_note_and_a_second_nurse_confirms_it() {
    let driver = start_driver();
    let c = Clinic::new().await;
    setup(&c).await;
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "nurse.li", PASSWORD).await;
    wait_for(&br, "#patient-lookup").await;
    br.goto(&format!("{base}/#/stock")).await.unwrap();
    wait_for(&br, "#stock-products .stock-product").await;
    assert!(br.find(Locator::Css("[data-placeholder]")).await.is_err(), "the placeholder is gone");
    let expected = text_of(&br, "tr[data-line=\"expected_ml\"] td").await;
    assert!(expected.contains("1000 mL") && expected.contains("1 mg/mL"), "{expected}");
    // Counted 2 mL short; the note field is not filled: the server asks for it.
    let counted = wait_css(&br, "#close-counted").await;
    counted.send_keys("998").await.unwrap();
    // Submit with the note left empty.
    br.execute("document.getElementById('close-note').value = ''; return 0;", vec![]).await.unwrap();
    wait_css(&br, "#close-submit").await.click().await.unwrap();
    wait_for(&br, "#stock-status[data-code=\"stock_discrepancy\"]").await;
    let refusal = text_of(&br, "#stock-status").await;
    assert!(refusal.contains("事件说明"), "{refusal}");
    let note = wait_css(&br, "#close-note").await;
    assert!(note.is_displayed().await.unwrap(), "the incident note field is shown");
    note.send_keys("量杯残留，已复点两次").await.unwrap();
    let counted = wait_css(&br, "#close-counted").await;
    counted.clear().await.unwrap();
    counted.send_keys("998").await.unwrap();
    wait_css(&br, "#close-submit").await.click().await.unwrap();
    wait_for(&br, "#pending-closes li").await;
    // Not confirmable by the nurse who counted.
    assert!(br.find(Locator::Css("#pending-closes button")).await.is_err());
    br.close().await.unwrap();

    let second = browser(&driver).await;
    sign_in(&second, &base, "nurse.xu", PASSWORD).await;
    wait_for(&second, "#patient-lookup").await;
    second.goto(&format!("{base}/#/stock")).await.unwrap();
    wait_css(&second, "#pending-closes button").await.click().await.unwrap();
    wait_for(&second, ".stock-product [data-closed=\"true\"]").await;
    let counted = text_of(&second, "tr[data-line=\"counted_ml\"] td").await;
    assert!(counted.contains("998 mL"), "{counted}");
    second.close().await.unwrap();
}

/// The administrator adds the 10 mg/mL concentrate and sets it as 柳市's product on the
/// sites page; each site says where its product comes from, and none is ever guessed.
#[actix_web::test]
async fn an_admin_adds_a_product_and_sets_the_product_a_site_dispenses() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let (one_mg, _, _) = setup(&c).await;
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "admin", ADMIN_PASSWORD).await;
    wait_for(&br, "#main-nav a[data-nav=\"sites\"]").await;
    br.goto(&format!("{base}/#/admin/sites")).await.unwrap();
    // While the network has one product, every site dispenses it.
    let row = format!("#site-products-table tr[data-site-id=\"{}\"]", c.ls);
    wait_for(&br, &format!("{row}[data-product-id=\"{one_mg}\"]")).await;
    assert!(text_of(&br, &row).await.contains("仅有此一种品种"));

    wait_css(&br, "#product-name").await.send_keys("美沙酮浓缩液").await.unwrap();
    wait_css(&br, "#product-concentration option[value=\"10\"]").await.click().await.unwrap();
    wait_css(&br, "#product-create-submit").await.click().await.unwrap();
    wait_for(&br, "#products-table tr:nth-child(2)").await;
    let products = c.app.get("/api/v1/products", &c.admin).await.json();
    let ten_mg = products.as_array().unwrap().iter().find(|p| p["concentration_mg_per_ml"] == 10).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Two products and none set: not guessed, and said plainly.
    wait_for(&br, &format!("{row}[data-product-id=\"\"] .badge")).await;
    assert!(text_of(&br, &row).await.contains("未设定"), "{}", text_of(&br, &row).await);
    let save = format!("#site-product-save-{}", c.ls);
    assert!(!wait_css(&br, &save).await.is_enabled().await.unwrap(), "nothing to save before a choice");
    wait_css(&br, &format!("#site-product-{} option[value=\"{ten_mg}\"]", c.ls)).await.click().await.unwrap();
    wait_css(&br, &save).await.click().await.unwrap();
    wait_for(&br, &format!("{row}[data-product-id=\"{ten_mg}\"]")).await;
    let status = text_of(&br, "#products-status").await;
    assert!(status.contains("柳市服药点") && status.contains("10 mg/mL"), "{status}");
    if let Ok(dir) = std::env::var("MMT_SCREENSHOTS") {
        br.execute("document.getElementById('products-panel').scrollIntoView(); return 0;", vec![]).await.unwrap();
        std::fs::write(format!("{dir}/site-products.png"), br.screenshot().await.unwrap()).unwrap();
    }
    br.close().await.unwrap();

    let settings = c.app.get("/api/v1/site-products", &c.admin).await.json();
    let ls = settings.as_array().unwrap().iter().find(|s| s["site_id"] == c.ls.as_str()).unwrap().clone();
    assert_eq!(ls["product"]["concentration_label"], "10 mg/mL");
    assert!(ls["set_at"].is_string());
    let hq = settings.as_array().unwrap().iter().find(|s| s["site_id"] == c.hq.as_str()).unwrap().clone();
    assert_eq!(hq["product"], json!(null), "虹桥 has none set among two products");
}

/// The doctor plans a patient's home visits on the patient page: authorizes them, schedules
/// them from the home site, and ends the schedule when the patient can come in again.
#[actix_web::test]
async fn a_doctor_authorizes_schedules_and_ends_home_visits_on_the_patient_page() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let p = c.patient_on("王五", 3, 30.0).await;
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "dr.chen", PASSWORD).await;
    wait_for(&br, "#main-nav a[data-nav=\"patients\"]").await;
    br.goto(&format!("{base}/#/patients/{p}")).await.unwrap();
    wait_for(&br, "#home-visit-section #hvplan-site").await;
    // Without an authorization the schedule is refused, in words.
    wait_css(&br, "#hvplan-schedule-submit").await.click().await.unwrap();
    wait_for(&br, "#hvplan-error:not(:empty)").await;
    let refusal = text_of(&br, "#hvplan-error").await;
    assert!(refusal.contains("授权"), "{refusal}");

    wait_css(&br, "#hvplan-reason").await.send_keys("下肢骨折，行动不便").await.unwrap();
    wait_css(&br, "#hvplan-auth-submit").await.click().await.unwrap();
    wait_for(&br, "#hvplan-auth-table tr[data-state=\"valid\"]").await;
    let auth = text_of(&br, "#hvplan-auth-table tr[data-state=\"valid\"]").await;
    assert!(auth.contains("下肢骨折") && auth.contains("dr.chen"), "the doctor by name: {auth}");

    // Weekdays only.
    for d in [6, 7] {
        wait_css(&br, &format!("#hvplan-day-{d}")).await.click().await.unwrap();
    }
    wait_css(&br, "#hvplan-schedule-submit").await.click().await.unwrap();
    wait_for(&br, "#hvplan-schedule-table tr[data-ended=\"false\"]").await;
    let row = text_of(&br, "#hvplan-schedule-table tr[data-ended=\"false\"]").await;
    assert!(row.contains("柳市服药点") && row.contains("周一") && !row.contains("周六"), "{row}");
    let schedules = c.app.get(&format!("/api/v1/patients/{p}/home-visit-schedules"), &c.doctor).await.json();
    assert_eq!(schedules[0]["weekdays"], json!([1, 2, 3, 4, 5]));
    let id = schedules[0]["id"].as_str().unwrap().to_string();

    // The patient can walk again: the schedule ends today.
    wait_css(&br, &format!("#hvplan-end-{id}")).await.click().await.unwrap();
    wait_css(&br, &format!("#hvplan-end-reason-{id}")).await.send_keys("已康复，可来窗口服药").await.unwrap();
    wait_css(&br, &format!("#hvplan-end-confirm-{id}")).await.click().await.unwrap();
    wait_for(&br, "#hvplan-schedule-table tr[data-ended=\"true\"]").await;
    let ended = text_of(&br, "#hvplan-schedule-table tr[data-ended=\"true\"]").await;
    assert!(ended.contains("已康复"), "{ended}");
    assert!(
        br.find(Locator::Css(&format!("#hvplan-end-{id}"))).await.is_err(),
        "an ended schedule is not offered again"
    );
    if let Ok(dir) = std::env::var("MMT_SCREENSHOTS") {
        br.execute("document.getElementById('home-visit-section').scrollIntoView(); return 0;", vec![]).await.unwrap();
        std::fs::write(format!("{dir}/home-visit-plan.png"), br.screenshot().await.unwrap()).unwrap();
    }
    br.close().await.unwrap();
    let listed = c.app.get(&format!("/api/v1/patients/{p}/home-visit-schedules"), &c.doctor).await.json();
    assert_eq!(listed[0]["ended"]["last_day"], c.today());
}
