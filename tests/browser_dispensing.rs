//! The dosing window and the doctor's order form in a real browser.

mod common;

use std::time::Duration;

use common::browser::*;
use common::clinic::*;
use common::*;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::json;

async fn text_of(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap()
}

async fn wait_for(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"));
}

#[actix_web::test]
async fn a_nurse_gives_a_dose_by_keyboard_and_sees_the_refusal_for_a_dose_given_at_the_other_window() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let a = c.patient_on("张三", 1, 30.0).await;
    let b = c.patient_on("李四", 3, 25.0).await;
    let number = |id: &str| {
        let id = id.to_string();
        let app = &c.app;
        let token = c.nurse.clone();
        async move {
            app.get(&format!("/api/v1/patients/{id}"), &token).await.json()["patient_no"].as_str().unwrap().to_string()
        }
    };
    let (no_a, no_b) = (number(&a).await, number(&b).await);
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "nurse.li", PASSWORD).await;

    // Scan (type) the number, Enter: the due dose in large type.
    let lookup = wait_css(&br, "#patient-lookup").await;
    lookup.send_keys(&format!("{no_a}{}", Key::Enter)).await.unwrap();
    wait_for(&br, "#decision[data-can-dispense=\"true\"]").await;
    assert_eq!(text_of(&br, "#due-mg").await.trim(), "30 mg");
    assert!(text_of(&br, "#patient-name").await.contains("张三"));
    // Identity ticked with the keyboard, Enter gives the dose.
    let identity = wait_css(&br, "#identity-confirmed").await;
    identity.send_keys(" ").await.unwrap();
    identity.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for(&br, "#dose-result.ok").await;
    assert!(text_of(&br, "#dose-result").await.contains("30 mg"));
    // The dose really was recorded, once.
    let history = c.app.get(&format!("/api/v1/patients/{a}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["dose_mg"], 30.0);
    // The queue beside it shows the patient dosed.
    wait_for(&br, &format!("#queue li[data-patient-id=\"{a}\"][data-state=\"dosed\"]")).await;

    // The next patient: the decision is on screen when the other window doses him first.
    let lookup = wait_css(&br, "#patient-lookup").await;
    lookup.send_keys(&format!("{no_b}{}", Key::Enter)).await.unwrap();
    wait_for(&br, "#decision[data-can-dispense=\"true\"]").await;
    let r = c.give(&c.nurse2, &b, &c.ls, 25.0).await;
    assert_eq!(r.status, actix_web::http::StatusCode::CREATED);
    let identity = wait_css(&br, "#identity-confirmed").await;
    identity.send_keys(" ").await.unwrap();
    identity.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for(&br, "#dose-result.blocked").await;
    let refusal = text_of(&br, "#dose-result").await;
    // 08:00 on the clinic's clock (Asia/Shanghai), whatever zone the browser runs in.
    assert!(refusal.contains("已于 08:00 在柳市服药点服药"), "{refusal}");
    // Still exactly one dose for him: the one given at the other window.
    let history = c.app.get(&format!("/api/v1/patients/{b}/doses"), &c.doctor).await.json();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["id"], r.json()["id"], "{history}");
    br.close().await.unwrap();
}

/// Guest dosing at 虹桥 arranged this morning: 虹桥's queue says in Chinese which site must
/// release the patient's day; 柳市's queue asks for the release, the nurse gives it with one
/// click, and the patient moves from 柳市's queue to 虹桥's, due there.
#[actix_web::test]
async fn a_nurse_releases_a_patients_day_to_the_guest_site_from_the_queue() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    c.arrange_guest(&p, &c.hq, "2026-11-10", "2026-11-10").await;
    let base = serve(c.app.state.clone());
    let row = format!("#queue li[data-patient-id=\"{p}\"]");

    let hq = browser(&driver).await;
    sign_in(&hq, &base, "nurse.huang", PASSWORD).await;
    wait_for(&hq, &format!("{row}[data-state=\"blocked\"] .q-block")).await;
    let waiting = text_of(&hq, &format!("{row} .q-block")).await;
    assert!(waiting.contains("需柳市服药点先放行") && waiting.contains("请致电柳市服药点"), "{waiting}");

    let ls = browser(&driver).await;
    sign_in(&ls, &base, "nurse.li", PASSWORD).await;
    wait_for(&ls, &format!("{row} .q-release-button")).await;
    let asked = text_of(&ls, &format!("{row} .q-release")).await;
    assert!(asked.contains("虹桥服药点今日要为其发药") && asked.contains("放行到虹桥服药点"), "{asked}");
    wait_css(&ls, &format!("{row} .q-release-button")).await.click().await.unwrap();
    let mut gone = false;
    for _ in 0..100 {
        if ls.find_all(Locator::Css(&row)).await.unwrap().is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "released: 张三 leaves 柳市's queue");
    assert_eq!(text_of(&ls, "#queue-error").await.trim(), "", "no error shown");
    // Looked up at 柳市 now, the window says where he doses today.
    let no =
        c.app.get(&format!("/api/v1/patients/{p}"), &c.nurse).await.json()["patient_no"].as_str().unwrap().to_string();
    wait_css(&ls, "#patient-lookup").await.send_keys(&format!("{no}{}", Key::Enter)).await.unwrap();
    wait_for(&ls, "#decision[data-can-dispense=\"false\"]").await;
    let said = text_of(&ls, "#decision").await;
    assert!(said.contains("该患者今日在虹桥服药点服药"), "{said}");

    hq.refresh().await.unwrap();
    wait_for(&hq, &format!("{row}[data-state=\"due\"]")).await;
    hq.close().await.unwrap();
    ls.close().await.unwrap();
}

#[actix_web::test]
async fn a_doctor_sees_an_order_refused_inline_then_writes_one_that_is_accepted() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "dr.chen", PASSWORD).await;
    wait_for(&br, "#main-nav a[data-nav=\"patients\"]").await;
    br.goto(&format!("{base}/#/patients/{p}")).await.unwrap();
    wait_for(&br, "#order-form").await;
    wait_for(&br, "#dose-chart").await;

    let daily = wait_css(&br, "#order-daily-mg").await;
    daily.clear().await.unwrap();
    daily.send_keys("45").await.unwrap();
    wait_css(&br, "#order-reason").await.send_keys("反应欠佳").await.unwrap();
    wait_css(&br, "#order-submit").await.click().await.unwrap();
    wait_for(&br, "#order-error[data-code=\"dose_step_exceeded\"]").await;
    assert!(!text_of(&br, "#order-error").await.trim().is_empty());
    assert_eq!(
        wait_css(&br, "#order-daily-mg").await.prop("value").await.unwrap().as_deref(),
        Some("45"),
        "what the doctor typed stays"
    );

    let daily = wait_css(&br, "#order-daily-mg").await;
    daily.clear().await.unwrap();
    daily.send_keys("40").await.unwrap();
    wait_css(&br, "#order-submit").await.click().await.unwrap();
    wait_for(&br, "#order-result[data-status=\"active\"]").await;
    let orders = c.app.get(&format!("/api/v1/patients/{p}/orders"), &c.doctor).await.json();
    assert_eq!(orders[0]["daily_mg"], 40.0);
    assert_eq!(orders.as_array().unwrap().len(), 2, "the refused order left nothing behind");
    br.close().await.unwrap();
}

/// Yesterday's dose at the dosing window takes "申请更正" (not a reversal); a doctor who did
/// not request it confirms it on the patient page, and the dose is shown struck through.
#[actix_web::test]
async fn a_nurse_requests_a_late_correction_and_another_doctor_confirms_it_in_chinese() {
    let driver = start_driver();
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
    assert_eq!(r.status, actix_web::http::StatusCode::CREATED);
    let dose = r.json()["id"].as_str().unwrap().to_string();
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let no =
        c.app.get(&format!("/api/v1/patients/{p}"), &c.nurse).await.json()["patient_no"].as_str().unwrap().to_string();
    let base = serve(c.app.state.clone());

    // The nurse: yesterday's dose under the patient's name, with "申请更正".
    let br = browser(&driver).await;
    sign_in(&br, &base, "nurse.li", PASSWORD).await;
    let lookup = wait_css(&br, "#patient-lookup").await;
    lookup.send_keys(&format!("{no}{}", Key::Enter)).await.unwrap();
    wait_for(&br, "#decision[data-can-dispense=\"true\"]").await;
    let open = wait_css(&br, "#last-dose-correction-open").await;
    assert_eq!(open.text().await.unwrap().trim(), "申请更正");
    open.click().await.unwrap();
    let reason = wait_css(&br, "#last-dose-correction-reason").await;
    reason.send_keys(&format!("记在了同名患者名下{}", Key::Enter)).await.unwrap();
    wait_for(&br, "#last-dose-correction-message[data-status=\"pending\"]").await;
    assert!(text_of(&br, "#last-dose-correction-message").await.contains("待另一位医生确认"));
    br.close().await.unwrap();

    // The doctor: the pending correction on the approvals page and on the patient page.
    let br = browser(&driver).await;
    sign_in(&br, &base, "dr.wang", PASSWORD).await;
    wait_for(&br, "#main-nav a[data-nav=\"orders\"]").await;
    br.goto(&format!("{base}/#/orders")).await.unwrap();
    wait_for(&br, &format!("#late-corrections-table tr[data-dose-id=\"{dose}\"] [data-confirm-correction]")).await;
    let row = text_of(&br, &format!("#late-corrections-table tr[data-dose-id=\"{dose}\"]")).await;
    assert!(row.contains("张三") && row.contains("记在了同名患者名下") && row.contains("确认更正"), "{row}");
    br.goto(&format!("{base}/#/patients/{p}")).await.unwrap();
    let confirm = wait_css(&br, &format!("#doses-table tr[data-dose-id=\"{dose}\"] [data-confirm-correction]")).await;
    let before = text_of(&br, &format!("#doses-table tr[data-dose-id=\"{dose}\"]")).await;
    assert!(before.contains("更正待确认") && before.contains("nurse.li"), "{before}");
    confirm.click().await.unwrap();
    wait_for(&br, &format!("#doses-table tr[data-dose-id=\"{dose}\"][data-counts=\"false\"]")).await;
    let after = text_of(&br, "#doses-section").await;
    assert!(after.contains("已更正") && after.contains("确认医生：dr.wang"), "{after}");
    // Chinese throughout: no code or English word left in the section.
    for leftover in ["late_correction", "pending", "confirmed", "Request", "Confirm", "correction."] {
        assert!(!after.contains(leftover), "{leftover:?} in:\n{after}");
    }
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history[0]["late_correction"]["status"], "confirmed");
    br.close().await.unwrap();
}

/// More than due turns the button into the refusal (disabled, red, the reason, from the
/// decision's own due amount) and Enter sends nothing; less than due asks for the note first.
#[actix_web::test]
async fn the_give_button_never_offers_what_the_server_would_refuse() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let no =
        c.app.get(&format!("/api/v1/patients/{p}"), &c.nurse).await.json()["patient_no"].as_str().unwrap().to_string();
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "nurse.li", PASSWORD).await;
    let lookup = wait_css(&br, "#patient-lookup").await;
    lookup.send_keys(&format!("{no}{}", Key::Enter)).await.unwrap();
    wait_for(&br, "#decision[data-can-dispense=\"true\"]").await;
    wait_css(&br, "#identity-confirmed").await.send_keys(" ").await.unwrap();

    // 100 mg typed where 30 mg is due: the refusal state, with the reason.
    let amount = wait_css(&br, "#dose-mg").await;
    amount.clear().await.unwrap();
    amount.send_keys("100").await.unwrap();
    wait_for(&br, "#give-dose.refuse[data-state=\"refuse\"]:disabled").await;
    let button = text_of(&br, "#give-dose").await;
    assert!(button.contains("不能发药") && button.contains("30 mg") && !button.contains("100"), "{button}");
    let hint = text_of(&br, "#dose-mg-hint").await;
    assert!(hint.contains("30 mg"), "{hint}");
    let colour = wait_css(&br, "#give-dose").await.css_value("color").await.unwrap();
    assert!(colour.contains("138, 18, 18"), "red text: {colour}");
    // Enter in the amount field sends nothing.
    amount.send_keys(&Key::Enter.to_string()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json().as_array().unwrap().is_empty());
    assert!(br.find(Locator::Css("#dose-result.blocked")).await.is_err(), "no refusal was needed from the server");

    // 20 mg: the note first. Enter moves to the note and gives nothing.
    amount.clear().await.unwrap();
    amount.send_keys("20").await.unwrap();
    wait_for(&br, "#give-dose.needs-note[data-state=\"note\"]").await;
    assert!(text_of(&br, "#give-dose").await.contains("备注"));
    amount.send_keys(&Key::Enter.to_string()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json().as_array().unwrap().is_empty());
    let focused = br.execute("return document.activeElement.id", vec![]).await.unwrap();
    assert_eq!(focused, json!("dose-note"));
    // With the note written the button gives 20 mg, and Enter does.
    let note = wait_css(&br, "#dose-note").await;
    note.send_keys("患者要求减量").await.unwrap();
    wait_for(&br, "#give-dose[data-state=\"give\"]").await;
    assert!(text_of(&br, "#give-dose").await.contains("发药 20 mg"));
    note.send_keys(&Key::Enter.to_string()).await.unwrap();
    wait_for(&br, "#dose-result.ok").await;
    let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
    assert_eq!(history[0]["dose_mg"], 20.0);
    br.close().await.unwrap();
}

/// The card's barcode, decoded from the printed page, opens that patient at the window.
#[actix_web::test]
async fn the_cards_barcode_read_from_the_printed_page_opens_the_patient_at_the_window() {
    let driver = start_driver();
    let c = Clinic::new().await;
    c.patient_on("张三", 1, 30.0).await;
    let p = c.patient_on("李四", 2, 25.0).await;
    let pdf = c.app.get(&format!("/api/v1/reports/patient-card.pdf?patient_id={p}"), &c.nurse).await;
    assert_eq!(pdf.status, actix_web::http::StatusCode::OK);
    let codes = pdf_barcodes(&pdf.body);
    let scanned = codes
        .iter()
        .find_map(|c| c.strip_prefix("CODE-128:"))
        .unwrap_or_else(|| panic!("no Code 128 on the card: {codes:?}"))
        .to_string();
    assert!(codes.contains(&format!("QR-Code:{scanned}")), "{codes:?}");

    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "nurse.li", PASSWORD).await;
    // A scanner types what it read and Enter.
    let lookup = wait_css(&br, "#patient-lookup").await;
    lookup.send_keys(&format!("{scanned}{}", Key::Enter)).await.unwrap();
    wait_for(&br, &format!("#decision[data-patient-id=\"{p}\"]")).await;
    assert!(text_of(&br, "#patient-name").await.contains("李四"));
    assert_eq!(text_of(&br, "#due-mg").await.trim(), "25 mg");
    br.close().await.unwrap();
}

/// Polls until the text of `css` contains `needle` (10 seconds at most).
async fn wait_text(c: &Client, css: &str, needle: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if last.contains(needle) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never said {needle:?}; last: {last:?}");
}

/// Polls a script until it returns true.
async fn wait_script(c: &Client, script: &str, what: &str) {
    for _ in 0..100 {
        if c.execute_async(script, vec![]).await.unwrap() == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
}

/// Saves the page as `{name}.png` under `MMT_SCREENSHOTS`, when set, to be looked at.
async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("MMT_SCREENSHOTS") {
        std::fs::write(format!("{dir}/{name}.png"), c.screenshot().await.unwrap()).unwrap();
    }
}

/// Types a card number and Enter into the lookup.
async fn scan(c: &Client, number: &str) {
    let lookup = wait_css(c, "#patient-lookup").await;
    lookup.clear().await.unwrap();
    lookup.send_keys(&format!("{number}{}", Key::Enter)).await.unwrap();
}

/// The line to the server drops at 柳市 in the morning rush (Chromium's offline emulation,
/// which cuts the service worker off too). The window says so and keeps
/// dosing from its day sheet: three patients it holds today; a patient whose day was released
/// to 虹桥 is refused ("phone the main clinic"), and so is one whose missed days need the
/// doctor. Reloaded with no network, the window still opens, the three doses still waiting.
/// The line comes back: the three doses reach the server once each, at the window's times,
/// and the register marks them offline.
#[actix_web::test]
async fn the_window_keeps_dosing_through_an_outage_and_uploads_each_dose_once() {
    let driver = start_driver();
    // 王五 was last dosed on 5 November: four missed days by the 10th need a doctor's review.
    let mut c = Clinic::at("2026-11-05T08:00:00+08:00").await;
    let review = c.patient_on("王五", 5, 30.0).await;
    assert_eq!(c.give(&c.nurse, &review, &c.ls, 30.0).await.status, actix_web::http::StatusCode::CREATED);
    c.set_time("2026-11-10T08:00:00+08:00").await;
    let held: Vec<String> = vec![
        c.patient_on("张三", 1, 30.0).await,
        c.patient_on("李四", 3, 25.0).await,
        c.patient_on("赵六", 7, 20.0).await,
    ];
    let moved = c.patient_on("钱七", 9, 20.0).await;
    let arrangement = c.arrange_guest(&moved, &c.hq, "2026-11-10", "2026-11-10").await;
    assert_eq!(c.release(&c.nurse2, &moved, &arrangement).await.status, actix_web::http::StatusCode::OK);
    let mut numbers = std::collections::HashMap::new();
    for id in held.iter().chain([&review, &moved]) {
        let p = c.app.get(&format!("/api/v1/patients/{id}"), &c.doctor).await.json();
        numbers.insert(id.clone(), p["patient_no"].as_str().unwrap().to_string());
    }

    // 张三 has a photo on file: the window keeps it for the offline comparison.
    use rand::SeedableRng;
    let png = mmt_clinic::seed::people::placeholder_photo(&mut rand::rngs::StdRng::seed_from_u64(7), "张三");
    let put = actix_web::test::TestRequest::put()
        .uri(&format!("/api/v1/patients/{}/photo", held[0]))
        .insert_header(("Authorization", format!("Bearer {}", c.doctor)))
        .insert_header(("Content-Type", "image/png"))
        .set_payload(png);
    assert_eq!(c.app.send(put).await.status, actix_web::http::StatusCode::NO_CONTENT);

    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "nurse.li", PASSWORD).await;
    wait_for(&br, &format!("#queue li[data-patient-id=\"{}\"][data-state=\"due\"]", held[0])).await;
    // The app's files are kept by the service worker; the day sheet is in the browser.
    wait_script(
        &br,
        "const done = arguments[0]; navigator.serviceWorker.ready.then(() => caches.match('/js/pages/dispensing.js')).then((hit) => done(Boolean(hit && navigator.serviceWorker.controller)));",
        "the service worker taking the page",
    )
    .await;
    wait_script(
        &br,
        &format!(
            "const done = arguments[0]; const open = indexedDB.open('mmt-offline'); open.onerror = () => done(false);
             open.onsuccess = () => {{ const get = open.result.transaction('photos').objectStore('photos').get('{}');
             get.onsuccess = () => done(Boolean(get.result)); get.onerror = () => done(false); }};",
            held[0]
        ),
        "张三's photo kept",
    )
    .await;

    set_offline(&br, &driver, true).await;
    for (i, id) in held.iter().enumerate() {
        scan(&br, &numbers[id]).await;
        wait_for(&br, &format!("#decision[data-patient-id=\"{id}\"][data-can-dispense=\"true\"]")).await;
        assert!(text_of(&br, "#offline-decision").await.contains("离线"));
        if i == 0 {
            wait_for(&br, "#patient-photo[data-photo=\"shown\"] img").await;
        }
        let identity = wait_css(&br, "#identity-confirmed").await;
        identity.send_keys(" ").await.unwrap();
        identity.send_keys(&Key::Enter.to_string()).await.unwrap();
        wait_for(&br, "#dose-result.ok-offline").await;
        screenshot(&br, &format!("offline-dose-{i}")).await;
        let banner = text_of(&br, "#offline-banner").await;
        assert!(
            banner.contains("离线：无法连接服务器") && banner.contains(&format!("待上传 {} 笔", i + 1)),
            "{banner}"
        );
    }
    // The same patient again: the sheet knows he was dosed.
    scan(&br, &numbers[&held[0]]).await;
    wait_for(
        &br,
        &format!(
            "#decision[data-patient-id=\"{}\"][data-can-dispense=\"false\"] li[data-code=\"already_dosed_today\"]",
            held[0]
        ),
    )
    .await;
    // Released to 虹桥 this morning: not on 柳市's sheet.
    scan(&br, &numbers[&moved]).await;
    wait_text(&br, "#lookup-status", "请致电总院").await;
    // Missed days: the doctor first, which needs the server.
    scan(&br, &numbers[&review]).await;
    wait_for(&br, &format!("#decision[data-patient-id=\"{review}\"] li[data-code=\"doctor_review_required\"]")).await;
    assert!(text_of(&br, "#offline-needs-doctor").await.contains("请致电总院"));
    // His last dose as the sheet had it; no late correction offered, which needs the server.
    assert!(text_of(&br, "#last-dose").await.contains("2026-11-05"));
    assert!(br.find_all(Locator::Css("[id^=\"last-dose-correction\"]")).await.unwrap().is_empty());
    screenshot(&br, "offline-needs-doctor").await;
    for id in &held {
        let doses = c.app.get(&format!("/api/v1/patients/{id}/doses"), &c.doctor).await.json();
        assert_eq!(doses, json!([]), "nothing reached the server yet");
    }

    // Reloaded with the line still down: the window opens from the service worker.
    br.refresh().await.unwrap();
    wait_text(&br, "#offline-banner", "待上传 3 笔").await;
    wait_css(&br, "#patient-lookup").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    screenshot(&br, "offline-reloaded").await;
    wait_for(&br, &format!("#queue li[data-patient-id=\"{}\"][data-state=\"dosed\"]", held[2])).await;

    // The line is back: at once (the browser says so), or at the window's next try (every 15
    // seconds), the queue drains.
    set_offline(&br, &driver, false).await;
    // 赵六, dosed last, is back at the window at once: whether or not his dose has gone up
    // yet, the window knows it.
    scan(&br, &numbers[&held[2]]).await;
    wait_for(
        &br,
        &format!(
            "#decision[data-patient-id=\"{}\"][data-can-dispense=\"false\"] li[data-code=\"already_dosed_today\"]",
            held[2]
        ),
    )
    .await;
    br.wait()
        .at_most(Duration::from_secs(45))
        .for_element(Locator::Css(".offline-window[data-pending=\"0\"][data-offline=\"false\"]"))
        .await
        .expect("the queue drains once the line is back");
    screenshot(&br, "offline-drained").await;
    let mut given_at = Vec::new();
    for id in &held {
        let doses = c.app.get(&format!("/api/v1/patients/{id}/doses"), &c.doctor).await.json();
        assert_eq!(doses.as_array().unwrap().len(), 1, "once each: {doses}");
        given_at.push(doses[0]["given_at"].as_str().unwrap().to_string());
    }
    assert!(given_at.iter().all(|t| t.starts_with("2026-11-10T00:")), "at the window's times (08:xx): {given_at:?}");
    let register =
        c.app.get(&format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date=2026-11-10", c.ls), &c.nurse).await;
    let text = pdf_text(&register.body);
    assert_eq!(text.matches("离线发药").count(), 3, "{text}");
    assert_eq!(c.app.get("/api/v1/offline-incidents", &c.doctor).await.json(), json!([]));
    br.close().await.unwrap();
}

/// 柳市's window, offline, gave 张三 his dose at 07:50 from its sheet; another window had
/// dosed him at 08:00. The upload becomes an incident, and the doctor's page shows it in
/// Chinese: who, when by the window's clock, and why it was not recorded.
#[actix_web::test]
async fn a_doctor_sees_the_incident_of_an_offline_dose_the_server_did_not_record() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse2, &p, &c.ls, 30.0).await.status, actix_web::http::StatusCode::CREATED);
    let r = c.give_offline(&c.nurse, &p, &c.ls, "2026-11-10T07:50:00+08:00", "window-2-0001").await;
    assert_eq!(r.code(), "offline_dose_conflict", "{}", r.text());
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "dr.chen", PASSWORD).await;
    wait_css(&br, "#main-nav a[data-nav=\"orders\"]").await.click().await.unwrap();
    let row = text_of(&br, &format!("#incidents-table tr[data-patient-id=\"{p}\"]")).await;
    for expected in ["张三", "2026-11-10 07:50", "柳市服药点", "30 mg", "已于 08:00 在柳市服药点服药"]
    {
        assert!(row.contains(expected), "{expected} missing from {row}");
    }
    br.execute("document.getElementById('incidents-section').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&br, "offline-incident-doctor").await;
    br.close().await.unwrap();
}
