//! The UI shell in a real browser, on the demo network: sign in through the page and see the
//! navigation of your role, in Chinese by default and in English on request. And the demo
//! network itself, through the API: the rehab side has cases, tests and open alerts to show.

mod common;

use std::time::Duration;

use std::collections::BTreeSet;

use common::browser::*;
use common::*;
use fantoccini::Locator;
use mmt_clinic::seed::demo;
use mmt_clinic::services::AppState;
use serde_json::{json, Value};

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
    // The demo gives her cases to follow, those with open alerts first.
    let first = wait_css(&c, "#cases-list article.case-card").await;
    assert_eq!(first.attr("class").await.unwrap().map(|c| c.contains("has-open-alerts")), Some(true));
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

fn strings(items: &Value, key: &str) -> BTreeSet<String> {
    items.as_array().unwrap().iter().filter_map(|i| i[key].as_str().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_network_has_rehab_cases_tests_and_the_alerts_of_its_history() {
    let app = TestApp::new().await;
    let outcome = demo::load(&app.state).await.unwrap();
    assert!(outcome.created);
    let admin = app.admin().await;
    let today = app.state.today();
    let days_ago = |n: i64| today - chrono::Duration::days(n);

    // Cases in every township, of both kinds, in every state but the rare ones.
    let cases = app.get("/api/v1/rehab-cases", &admin).await.json();
    let list = cases.as_array().unwrap();
    assert!((30..=50).contains(&list.len()), "{} cases", list.len());
    assert_eq!(strings(&cases, "kind"), BTreeSet::from(["community_detox".into(), "community_rehab".into()]));
    let statuses = strings(&cases, "status");
    for status in ["active", "awaiting_report", "report_overdue", "suspended", "ended"] {
        assert!(statuses.contains(status), "no {status} case: {statuses:?}");
    }
    assert_eq!(strings(&cases, "township").len(), 7, "cases in every township");
    assert!(list.iter().any(|c| c["case_ref"].as_str().is_some_and(|r| r.starts_with("LQ-SJ-20"))));

    // Two raises above the high-dose line wait for a second doctor, prescribed by 王丽华:
    // 陈建国 has them to approve.
    let chen = app.login("dr.chen", demo::DEMO_PASSWORD).await;
    let pending = app.get("/api/v1/orders/pending", &chen).await.json();
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 2, "{pending:?}");
    for p in pending {
        assert!(p["order"]["daily_mg"].as_f64().unwrap() > 100.0, "{p}");
        assert_eq!(p["order"]["prescriber_name"], "王丽华");
    }

    // The sweep ran over the history: alerts of every kind are open.
    let alerts = app.get("/api/v1/alerts", &admin).await.json();
    let kinds = strings(&alerts, "kind");
    for kind in ["missed_doses", "dropout", "positive_test", "test_refused", "rehab_report_overdue", "serious_breach"] {
        assert!(kinds.contains(kind), "no open {kind} alert: {kinds:?}");
    }
    let breach = alerts.as_array().unwrap().iter().find(|a| a["kind"] == "serious_breach").unwrap();
    let tests = app.get(&format!("/api/v1/patients/{}/tests", breach["patient_id"].as_str().unwrap()), &admin).await;
    let refused = tests.json().as_array().unwrap().iter().filter(|t| t["result"] == "refused").count();
    assert_eq!(refused, 3, "{}", tests.text());

    // Positive hair tests: one reported to the police, one still to report.
    let outstanding = app.get("/api/v1/police-notifications/outstanding", &admin).await.json();
    assert_eq!(outstanding.as_array().unwrap().len(), 1, "{outstanding}");

    // A rehab worker sees the cases and alerts of her townships only.
    let worker = app.login("sg.zhang", demo::DEMO_PASSWORD).await;
    let mine = app.get("/api/v1/rehab-cases", &worker).await.json();
    assert!(!mine.as_array().unwrap().is_empty());
    let towns = strings(&mine, "township");
    assert!(towns.iter().all(|t| t == "柳市镇" || t == "北白象镇"), "{towns:?}");
    let mine = app.get("/api/v1/alerts", &worker).await.json();
    assert!(!mine.as_array().unwrap().is_empty());

    // Urine tests over the 90 days for most patients: the doctor's due list is not everyone.
    let doctor = app.login("dr.chen", demo::DEMO_PASSWORD).await;
    let due = app.get("/api/v1/tests/due", &doctor).await.json();
    let due_urine = due.as_array().unwrap().iter().filter(|d| d["kind"] == "urine").count();
    assert!(due_urine < outcome.patients / 3, "{due_urine} of {} patients due a urine test", outcome.patients);
    // And a hair test for most: the patients never hair-tested are a minority.
    let never_hair =
        due.as_array().unwrap().iter().filter(|d| d["kind"] == "hair" && d["last_sampled_on"].is_null()).count();
    assert!(never_hair < outcome.patients / 4, "{never_hair} of {} patients never hair-tested", outcome.patients);

    // A living ledger: every site's run sheet has home-visit patients today, three months
    // of closed days (one with an incident note), and a transfer in transit.
    let nurse = app.login("nurse.float", demo::DEMO_PASSWORD).await;
    let mut arriving = 0;
    let mut incidents = 0;
    for site in app.get("/api/v1/sites", &nurse).await.json().as_array().unwrap() {
        let id = site["id"].as_str().unwrap();
        let sheet = app.get(&format!("/api/v1/sites/{id}/home-visits"), &nurse).await.json();
        assert!(!sheet.as_array().unwrap().is_empty(), "no home visits at {}", site["code"]);
        let stock = app.get(&format!("/api/v1/sites/{id}/stock"), &nurse).await.json();
        arriving += stock["transfers_arriving"].as_array().unwrap().len();
        let ledger =
            app.get(&format!("/api/v1/sites/{id}/stock/ledger?from={}&to={}", days_ago(90), days_ago(1)), &nurse).await;
        assert_eq!(ledger.status, actix_web::http::StatusCode::OK, "{}", ledger.text());
        let ledger = ledger.json();
        let days = ledger["days"].as_array().unwrap();
        assert_eq!(days.len(), 90);
        assert!(days.iter().all(|d| d["closed"] == true), "{}: a day not closed", site["code"]);
        incidents += days
            .iter()
            .filter(|d| (d["counted_ml"].as_f64().unwrap() - d["expected_ml"].as_f64().unwrap()).abs() > 1.0)
            .count();
        assert!(days.iter().all(|d| !d["went_negative"].as_bool().unwrap()));
    }
    assert_eq!(arriving, 1, "one transfer in transit");
    assert_eq!(incidents, 1, "one incident");

    // The sweep has nothing left to do.
    let again = app.post("/api/v1/alerts/sweep", &admin, json!({})).await.json();
    assert_eq!(
        (again["opened"].as_u64(), again["resolved"].as_u64(), again["dropouts"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
}

/// What a newcomer sees of the demo network: open alerts by patient and kind, each rehab
/// worker's cases with open alerts, the patients due a test, and each site's queue.
#[derive(Debug)]
struct DemoPicture {
    open_alerts: BTreeSet<(String, String)>,
    cases_with_open_alerts: Vec<(&'static str, usize)>,
    due_tests: BTreeSet<(String, String)>,
    /// Per site: how many are in today's queue and how many of them have had a dose today.
    queue: Vec<(String, usize, usize)>,
    /// Per site: (due, dosed) in today's queue. Split orders' second portions come six
    /// hours after the first, so these move with the hour; they are checked, not compared.
    queue_states: Vec<(String, usize, usize)>,
}

async fn demo_picture_at(clinic_time: chrono::DateTime<chrono::Utc>) -> DemoPicture {
    let app = TestApp::new().await;
    app.state.clock.set(clinic_time);
    demo::load(&app.state).await.unwrap();
    let admin = app.admin().await;
    let alerts = app.get("/api/v1/alerts?status=open", &admin).await.json();
    let open_alerts = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["patient_no"].as_str().unwrap().to_string(), a["kind"].as_str().unwrap().to_string()))
        .collect();
    let mut cases_with_open_alerts = Vec::new();
    for worker in ["sg.zhang", "sg.liu", "sg.pan", "sg.chen", "sg.shi"] {
        let token = app.login(worker, demo::DEMO_PASSWORD).await;
        let cases = app.get("/api/v1/rehab-cases", &token).await.json();
        let open = cases.as_array().unwrap().iter().filter(|c| c["open_alerts"].as_u64().unwrap_or(0) > 0).count();
        cases_with_open_alerts.push((worker, open));
    }
    let doctor = app.login("dr.chen", demo::DEMO_PASSWORD).await;
    let due = app.get("/api/v1/tests/due", &doctor).await.json();
    let due_tests = due
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["patient_no"].as_str().unwrap().to_string(), d["kind"].as_str().unwrap().to_string()))
        .collect();
    let nurse = app.login("nurse.float", demo::DEMO_PASSWORD).await;
    let (mut queue, mut queue_states) = (Vec::new(), Vec::new());
    for site in app.get("/api/v1/sites", &nurse).await.json().as_array().unwrap() {
        let entries = app.get(&format!("/api/v1/sites/{}/queue", site["id"].as_str().unwrap()), &nurse).await.json();
        let entries = entries.as_array().unwrap();
        let code = site["code"].as_str().unwrap().to_string();
        let count = |state: &str| entries.iter().filter(|e| e["state"] == state).count();
        let given = entries.iter().filter(|e| e["given_mg"].as_f64().unwrap_or(0.0) > 0.0).count();
        let sheet =
            app.get(&format!("/api/v1/sites/{}/home-visits", site["id"].as_str().unwrap()), &nurse).await.json();
        let home_visits = entries.iter().filter(|e| e["state"] == "home_visit").count();
        assert!(
            home_visits > 0 && home_visits == sheet.as_array().unwrap().len(),
            "{code}: {home_visits} in the queue as home visits, {} on the sheet: {sheet}",
            sheet.as_array().unwrap().len()
        );
        queue.push((code.clone(), entries.len(), given + 1000 * home_visits));
        queue_states.push((code, count("due"), count("dosed")));
    }
    DemoPicture { open_alerts, cases_with_open_alerts, due_tests, queue, queue_states }
}

/// The demo is written up to "now": loaded at night, before the morning rush, at noon or
/// just before midnight, it is the same living clinic — rehab workers have open alerts to
/// act on, the queue has patients due and patients already dosed, doctors have tests due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_the_same_living_clinic_at_any_hour_of_the_day() {
    use chrono::TimeZone;
    let zone = chrono_tz::Asia::Shanghai;
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let at = |h: u32, m: u32, s: u32| {
        zone.from_local_datetime(&today.and_hms_opt(h, m, s).unwrap()).unwrap().with_timezone(&chrono::Utc)
    };
    let hours = [at(0, 0, 30), at(2, 0, 0), at(7, 45, 0), at(11, 0, 0), at(23, 59, 0)];
    let pictures = futures_util::future::join_all(hours.iter().map(|t| demo_picture_at(*t))).await;
    let noon = &pictures[3];
    for (worker, open) in &noon.cases_with_open_alerts {
        assert!(*open > 0, "{worker} has no case with an open alert: {:?}", noon.cases_with_open_alerts);
    }
    assert!(!noon.due_tests.is_empty(), "no tests due");
    for (picture, hour) in pictures.iter().zip(["00:00:30", "02:00", "07:45", "11:00", "23:59"]) {
        for (site, due, dosed) in &picture.queue_states {
            assert!(*due > 0 && *dosed > 0, "at {hour}, site {site}: {due} due and {dosed} dosed today");
        }
        let same = (&picture.open_alerts, &picture.cases_with_open_alerts, &picture.due_tests, &picture.queue);
        assert_eq!(
            same,
            (&noon.open_alerts, &noon.cases_with_open_alerts, &noon.due_tests, &noon.queue),
            "the demo loaded at {hour} differs from the one loaded at 11:00"
        );
    }
}
