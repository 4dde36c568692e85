//! The rehab worker's screen and the doctor's due-tests list in a real browser.

mod common;

use std::time::Duration;

use common::browser::*;
use common::clinic::*;
use common::PASSWORD;
use fantoccini::{Client, Locator};
use serde_json::json;

async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

#[actix_web::test]
async fn a_rehab_worker_sees_the_missed_days_and_acknowledges_the_alert() {
    let driver = start_driver();
    let mut c = Clinic::new().await;
    let p = c.enrol_in("周小明", 1, "柳市镇", false).await["id"].as_str().unwrap().to_string();
    c.start_order(&p, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, actix_web::http::StatusCode::CREATED);
    let r = c
        .app
        .post(
            "/api/v1/rehab-cases",
            &c.worker,
            json!({"patient_id": p, "kind": "community_detox", "decision_date": "2026-11-01",
                   "reported_on": "2026-11-02", "township": "柳市镇", "worker_id": c.worker_id}),
        )
        .await;
    assert_eq!(r.status, actix_web::http::StatusCode::CREATED, "{}", r.text());
    c.set_time("2026-11-14T08:00:00+08:00").await;
    assert_eq!(c.app.post("/api/v1/alerts/sweep", &c.admin, json!({})).await.json()["opened"], 1);

    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "sg.zhang", PASSWORD).await;

    // The case card: the patient, the attendance strip with the missed days, the alert.
    let card = wait_for(&br, "article.case-card[data-open-alerts=\"1\"]").await;
    let text = card.text().await.unwrap();
    assert!(text.contains("周小明"), "{text}");
    assert!(text.contains("连续3天未服药，最后一次服药：11月10日 柳市服药点"), "{text}");
    // The strip loads after the card: wait for it before counting.
    wait_for(&br, "article.case-card .att-strip [data-status=\"missed\"]").await;
    let strip = card.find_all(Locator::Css(".att-strip [data-status=\"missed\"]")).await.unwrap();
    assert_eq!(strip.len(), 3, "11, 12 and 13 November missed");

    // Acknowledge: a note is required, then the alert shows as acknowledged with it.
    let alert = wait_for(&br, "li.alert-item[data-alert-status=\"open\"]").await;
    alert.find(Locator::Css("button.ack-button")).await.unwrap().click().await.unwrap();
    let message = alert.attr("data-alert-id").await.unwrap().unwrap();
    wait_for(&br, &format!("[data-alert-message=\"{message}\"]:not(:empty)")).await;
    alert.find(Locator::Css("textarea.ack-note")).await.unwrap().send_keys("已电话联系，本人住院").await.unwrap();
    alert.find(Locator::Css("button.ack-button")).await.unwrap().click().await.unwrap();
    let done = wait_for(&br, "li.alert-item[data-alert-status=\"acknowledged\"]").await;
    assert!(done.text().await.unwrap().contains("已电话联系，本人住院"));

    // The service has it: acknowledged by the worker with the note.
    let alerts = c.app.get(&format!("/api/v1/alerts?patient_id={p}"), &c.doctor).await.json();
    assert_eq!(alerts[0]["status"], "acknowledged");
    assert_eq!(alerts[0]["acknowledgement_note"], "已电话联系，本人住院");
    br.close().await.unwrap();
}

#[actix_web::test]
async fn a_doctor_enters_a_due_test_result_from_the_list() {
    let driver = start_driver();
    let c = Clinic::new().await;
    let p = c.patient_on("吴大伟", 1, 30.0).await;
    let base = serve(c.app.state.clone());
    let br = browser(&driver).await;
    sign_in(&br, &base, "dr.chen", PASSWORD).await;
    wait_for(&br, "#main-nav a[data-nav=\"tests\"]").await.click().await.unwrap();

    let row_css = format!("#due-tests-table tr[data-patient-id=\"{p}\"][data-kind=\"urine\"]");
    let row = wait_for(&br, &row_css).await;
    assert!(row.text().await.unwrap().contains("吴大伟"));
    // Never tested: due since enrolment, in the group shown first (the first with work).
    let group = row.attr("data-group").await.unwrap().unwrap();
    wait_for(&br, &format!("#due-tab-{group}[aria-selected=\"true\"]")).await;
    // The result form opens on demand.
    assert!(row.find(Locator::Css("select.test-result")).await.is_err());
    row.find(Locator::Css("button.due-open")).await.unwrap().click().await.unwrap();
    row.find(Locator::Css("select.test-result")).await.unwrap().select_by_value("negative").await.unwrap();
    row.find(Locator::Css("button.test-submit")).await.unwrap().click().await.unwrap();
    // The row leaves the list once the result is recorded.
    let mut gone = false;
    for _ in 0..50 {
        if br.find(Locator::Css(&row_css)).await.is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the urine row stays on the list");
    let tests = c.app.get(&format!("/api/v1/patients/{p}/tests"), &c.doctor).await.json();
    assert_eq!((tests[0]["kind"].as_str(), tests[0]["result"].as_str()), (Some("urine"), Some("negative")));
    br.close().await.unwrap();
}
