//! The UI shell in a real browser: sign in through the page and see the navigation of your
//! role, in Chinese by default and in English on request.

mod common;

use std::time::Duration;

use common::browser::*;
use common::*;
use fantoccini::Locator;
use mmt_clinic::services::{demo, AppState};

async fn demo_server() -> (TestDb, String) {
    let db = TestDb::new();
    let state = AppState::start(config_for(&db, &Options::default())).await.unwrap();
    demo::load(&state).await.unwrap();
    (db, serve(state))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nurse_signs_in_and_sees_the_dispensing_navigation() {
    let driver = start_driver();
    let (_db, base) = demo_server().await;
    let c = browser(&driver).await;

    // A wrong password is refused on the page.
    sign_in(&c, &base, "nurse.li", "wrong-password-1").await;
    let err = wait_css(&c, "#login-error").await;
    c.wait().at_most(Duration::from_secs(5)).for_element(Locator::Css("#login-error:not(:empty)")).await.unwrap();
    assert!(err.text().await.unwrap().contains("密码"), "{}", err.text().await.unwrap());

    sign_in(&c, &base, "nurse.li", demo::DEMO_PASSWORD).await;
    wait_css(&c, "#main-nav a[data-nav=\"dispensing\"]").await;
    assert_eq!(nav_keys(&c).await, ["dispensing", "queue", "home-visits", "stock", "registers"]);
    let who = wait_css(&c, "#current-user").await.text().await.unwrap();
    assert!(who.contains("李娜"), "{who}");
    let nav_text = wait_css(&c, "#main-nav").await.text().await.unwrap();
    assert!(nav_text.contains("发药"), "Chinese by default: {nav_text}");

    // An admin page is not the nurse's: the shell sends her home.
    c.goto(&format!("{base}/#/admin/staff")).await.unwrap();
    wait_css(&c, ".page[data-page=\"dispensing\"]").await;

    // English on request, remembered.
    wait_css(&c, "#lang-switch").await.select_by_value("en").await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//nav[@id='main-nav']//a[contains(., 'Dispens')]"))
        .await
        .expect("navigation in English");

    wait_css(&c, "#logout").await.click().await.unwrap();
    wait_css(&c, "#username").await;
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehab_worker_sees_only_cases_alerts_and_reports() {
    let driver = start_driver();
    let (_db, base) = demo_server().await;
    let c = browser(&driver).await;
    sign_in(&c, &base, "sg.zhang", demo::DEMO_PASSWORD).await;
    wait_css(&c, "#main-nav a[data-nav=\"cases\"]").await;
    assert_eq!(nav_keys(&c).await, ["cases", "alerts", "rehab-reports"]);
    let who = wait_css(&c, "#current-user").await.text().await.unwrap();
    assert!(who.contains("张伟"), "{who}");
    // No clinical or admin page is reachable from the navigation.
    for forbidden in ["dispensing", "patients", "orders", "staff", "audit"] {
        assert!(c.find(Locator::Css(&format!("#main-nav a[data-nav=\"{forbidden}\"]"))).await.is_err());
    }
    c.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_site_through_the_page() {
    let driver = start_driver();
    let (_db, base) = demo_server().await;
    let c = browser(&driver).await;
    sign_in(&c, &base, "admin", ADMIN_PASSWORD).await;
    wait_css(&c, "#main-nav a[data-nav=\"sites\"]").await;
    assert_eq!(nav_keys(&c).await, ["sites", "staff", "audit", "alerts", "disclosures", "rules"]);
    c.goto(&format!("{base}/#/admin/sites")).await.unwrap();
    wait_css(&c, "#site-code").await.send_keys("DX").await.unwrap();
    wait_css(&c, "#site-name").await.send_keys("淡溪服药点").await.unwrap();
    wait_css(&c, "#site-create-submit").await.click().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//table[@id='sites-table']//td[contains(., '淡溪服药点')]"))
        .await
        .expect("the new site is listed");
    c.close().await.unwrap();
}
