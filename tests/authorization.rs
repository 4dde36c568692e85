//! The authorization matrix: every route of the OpenAPI document, called as every role,
//! in and out of site and township scope, each answer checked against the table below. A
//! route in the document without a row here fails the test, and so does a row for a route
//! the document no longer has: a new endpoint must say who may call it.
//!
//! Callers: admin; doctor (both sites); nurse of 柳市 (LS, in scope); nurse of 虹桥 only
//! (HQ: out of scope for LS's site routes); rehab worker of 柳市镇 (the patient's township:
//! in scope); rehab worker of 虹桥镇 (out of scope); and no token at all.
//!
//! `A` (allowed): the request reached its use case and was judged on its merits — any
//! answer but 401, 403, 404 and 5xx (a 409 or 422 for a repeat is fine). `F`: 403. `N`: 404
//! (a patient a rehab worker may not see does not exist for them). `S(n)`: exactly `n`.
//! Every route but the public ones answers 401 without a token.

mod common;

use std::collections::BTreeSet;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::clinic::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    A,
    F,
    N,
    S(u16),
}
use Expect::*;

const CALLERS: [&str; 6] = ["admin", "doctor", "nurse", "nurse_out", "worker", "worker_out"];

/// One row: method, the path as the OpenAPI document names it, the URL to call (ids filled
/// in from the fixtures: {patient} {site} {other_site} {staff} {order} {dose} {test}
/// {alert} {case} {today}), the body, and what each caller gets.
struct Row {
    method: &'static str,
    doc_path: &'static str,
    url: &'static str,
    body: Body,
    expect: [Expect; 6],
    /// Answers without a token as everyone (the public routes): that status.
    public: Option<u16>,
}

#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Raw(&'static str, &'static [u8]),
}

fn row(method: &'static str, doc_path: &'static str, url: &'static str, body: Body, expect: [Expect; 6]) -> Row {
    Row { method, doc_path, url, body, expect, public: None }
}

fn public(method: &'static str, path: &'static str, body: Body, status: u16) -> Row {
    Row { method, doc_path: path, url: path, body, expect: [S(status); 6], public: Some(status) }
}

fn j(v: Value) -> Body {
    Body::Json(v)
}

fn table() -> Vec<Row> {
    let n = Body::None;
    vec![
        public("get", "/healthz", n.clone(), 200),
        // Five failed sign-ins on one account lock it: the last two callers are told to wait.
        Row {
            method: "post",
            doc_path: "/api/v1/auth/login",
            url: "/api/v1/auth/login",
            body: j(json!({"username": "nobody", "password": "wrong-password"})),
            expect: [S(401), S(401), S(401), S(401), S(429), S(429)],
            public: Some(401),
        },
        public("post", "/api/v1/auth/refresh", j(json!({"refresh_token": "not-a-token"})), 401),
        // From another machine (the test's address): admins only. From this one: anyone.
        row("get", "/metrics", "/metrics", n.clone(), [A, F, F, F, F, F]),
        row("get", "/api/v1/me", "/api/v1/me", n.clone(), [A, A, A, A, A, A]),
        row("get", "/api/v1/rules", "/api/v1/rules", n.clone(), [A, A, A, A, A, A]),
        row("get", "/api/v1/clock", "/api/v1/clock", n.clone(), [A, A, A, A, A, A]),
        row("put", "/api/v1/admin/clock", "/api/v1/admin/clock", j(json!({"now": "{now}"})), [A, F, F, F, F, F]),
        // Sites and staff: the admin's.
        row("get", "/api/v1/sites", "/api/v1/sites", n.clone(), [A, A, A, A, A, A]),
        row(
            "post",
            "/api/v1/sites",
            "/api/v1/sites",
            j(json!({"code": "BS", "name": "白石服药点", "kind": "dispensary"})),
            [A, F, F, F, F, F],
        ),
        row(
            "patch",
            "/api/v1/sites/{id}",
            "/api/v1/sites/{site}",
            j(json!({"address": "柳市镇 1 号"})),
            [A, F, F, F, F, F],
        ),
        row("get", "/api/v1/staff", "/api/v1/staff", n.clone(), [A, F, F, F, F, F]),
        row(
            "post",
            "/api/v1/staff",
            "/api/v1/staff",
            j(
                json!({"username": "nurse.new", "password": "a-good-password-1", "display_name": "新护士", "role": "nurse", "site_ids": ["{site}"]}),
            ),
            [A, F, F, F, F, F],
        ),
        row("get", "/api/v1/staff/{id}", "/api/v1/staff/{staff}", n.clone(), [A, F, F, F, F, F]),
        // Everyone may read their own account.
        row("get", "/api/v1/staff/{id}", "/api/v1/staff/{self}", n.clone(), [A, A, A, A, A, A]),
        row(
            "patch",
            "/api/v1/staff/{id}",
            "/api/v1/staff/{staff}",
            j(json!({"display_name": "张社工"})),
            [A, F, F, F, F, F],
        ),
        row("get", "/api/v1/audit", "/api/v1/audit", n.clone(), [A, F, F, F, F, F]),
        row("get", "/api/v1/disclosures", "/api/v1/disclosures", n.clone(), [A, F, F, F, F, F]),
        // Patients.
        row("get", "/api/v1/patients", "/api/v1/patients?q=%E7%97%85", n.clone(), [A, A, A, A, A, A]),
        row("get", "/api/v1/patients/{id}", "/api/v1/patients/{patient}", n.clone(), [A, A, A, A, A, N]),
        row(
            "get",
            "/api/v1/patients/{id}/photo",
            "/api/v1/patients/{patient}/photo",
            n.clone(),
            [S(404), S(404), S(404), S(404), F, F],
        ),
        row(
            "put",
            "/api/v1/patients/{id}/photo",
            "/api/v1/patients/{patient}/photo",
            Body::Raw("image/jpeg", b"not a jpeg"),
            [A, A, A, A, F, F],
        ),
        row(
            "post",
            "/api/v1/patients",
            "/api/v1/patients",
            j(
                json!({"name": "新病人", "id_number": "{new_id_number}", "sex": "M", "birth_date": "1985-06-12", "township": "柳市镇", "home_site_id": "{site}", "enrolled_on": "{today}", "risk_level": 1, "consent_to_share": false}),
            ),
            [A, A, F, F, F, F],
        ),
        row(
            "post",
            "/api/v1/patients/{id}/guest-dosing",
            "/api/v1/patients/{patient}/guest-dosing",
            j(json!({"site_id": "{other_site}", "from": "{today}", "to": "{today}", "reason": "出差"})),
            [A, A, F, F, F, F],
        ),
        row(
            "post",
            "/api/v1/patients/{id}/guest-dosing/{aid}/release",
            "/api/v1/patients/{traveller}/guest-dosing/{arrangement}/release",
            n.clone(),
            [F, F, A, F, F, F],
        ),
        row(
            "post",
            "/api/v1/patients/{id}/absences",
            "/api/v1/patients/{patient}/absences",
            j(json!({"from": "2026-11-20", "to": "2026-11-21", "reason": "hospital"})),
            [F, A, A, A, F, F],
        ),
        // Orders, reviews, ECGs: the doctor's.
        row("get", "/api/v1/patients/{id}/orders", "/api/v1/patients/{patient}/orders", n.clone(), [F, A, A, A, F, F]),
        row(
            "post",
            "/api/v1/patients/{id}/orders",
            "/api/v1/patients/{patient}/orders",
            j(json!({"daily_mg": 35, "start_date": "{today}", "phase": "maintenance", "reason": "调整"})),
            [F, A, F, F, F, F],
        ),
        row("get", "/api/v1/orders/pending", "/api/v1/orders/pending", n.clone(), [F, A, F, F, F, F]),
        row("post", "/api/v1/orders/{id}/approve", "/api/v1/orders/{order}/approve", n.clone(), [F, A, F, F, F, F]),
        row(
            "post",
            "/api/v1/patients/{id}/reviews",
            "/api/v1/patients/{patient}/reviews",
            j(json!({"date": "{today}", "approved_mg": 10, "note": "复核"})),
            [F, A, F, F, F, F],
        ),
        row("get", "/api/v1/reviews/needed", "/api/v1/reviews/needed", n.clone(), [F, A, F, F, F, F]),
        row("get", "/api/v1/patients/{id}/ecgs", "/api/v1/patients/{patient}/ecgs", n.clone(), [F, A, A, A, F, F]),
        row(
            "post",
            "/api/v1/patients/{id}/ecgs",
            "/api/v1/patients/{patient}/ecgs",
            j(json!({"taken_on": "{today}", "qtc_ms": 420})),
            [F, A, F, F, F, F],
        ),
        // Dispensing: the nurse's, at their own sites (the decision at another site answers
        // with that block: `site_not_allowed` among its blocks, not a 403).
        row(
            "get",
            "/api/v1/patients/{id}/dispensing",
            "/api/v1/patients/{patient}/dispensing?site_id={site}",
            n.clone(),
            [F, A, A, A, F, F],
        ),
        row(
            "post",
            "/api/v1/doses",
            "/api/v1/doses",
            j(
                json!({"patient_id": "{patient}", "site_id": "{site}", "dose_mg": 30, "identity_confirmed": true, "intoxication_check": "clear"}),
            ),
            [F, F, A, F, F, F],
        ),
        row("get", "/api/v1/patients/{id}/doses", "/api/v1/patients/{patient}/doses", n.clone(), [F, A, A, A, F, F]),
        row(
            "get",
            "/api/v1/patients/{id}/attendance",
            "/api/v1/patients/{patient}/attendance",
            n.clone(),
            [A, A, A, A, A, N],
        ),
        row("get", "/api/v1/sites/{id}/queue", "/api/v1/sites/{site}/queue", n.clone(), [F, A, A, F, F, F]),
        row("get", "/api/v1/sites/{id}/day-sheet", "/api/v1/sites/{site}/day-sheet", n.clone(), [F, A, A, F, F, F]),
        row(
            "post",
            "/api/v1/doses/{id}/late-correction",
            "/api/v1/doses/{dose}/late-correction",
            j(json!({"reason": "记错"})),
            [F, A, A, F, F, F],
        ),
        row(
            "post",
            "/api/v1/doses/{id}/late-correction/confirm",
            "/api/v1/doses/{dose}/late-correction/confirm",
            n.clone(),
            [F, A, F, F, F, F],
        ),
        // 柳市's incidents: its nurse and the doctors; 虹桥's nurse may not ask for them.
        row(
            "get",
            "/api/v1/offline-incidents",
            "/api/v1/offline-incidents?site_id={site}",
            n.clone(),
            [F, A, A, F, F, F],
        ),
        row(
            "get",
            "/api/v1/late-corrections/pending",
            "/api/v1/late-corrections/pending",
            n.clone(),
            [F, A, A, A, F, F],
        ),
        row(
            "post",
            "/api/v1/doses/{id}/reversal",
            "/api/v1/doses/{dose}/reversal",
            j(json!({"reason": "洒了"})),
            [F, A, A, F, F, F],
        ),
        row(
            "post",
            "/api/v1/doses/{id}/reversal/confirm",
            "/api/v1/doses/{dose}/reversal/confirm",
            n.clone(),
            [F, A, A, F, F, F],
        ),
        // Tests, alerts, rehab.
        row("get", "/api/v1/patients/{id}/tests", "/api/v1/patients/{patient}/tests", n.clone(), [A, A, A, A, A, N]),
        row(
            "post",
            "/api/v1/patients/{id}/tests",
            "/api/v1/patients/{patient}/tests",
            j(json!({"kind": "hair", "sampled_on": "{today}", "result": "pending"})),
            [F, A, A, A, F, F],
        ),
        row(
            "post",
            "/api/v1/tests/{id}/result",
            "/api/v1/tests/{test}/result",
            j(json!({"result": "negative"})),
            [F, A, A, A, F, F],
        ),
        row("get", "/api/v1/tests/due", "/api/v1/tests/due", n.clone(), [F, A, A, A, F, F]),
        row(
            "post",
            "/api/v1/tests/urine-selections",
            "/api/v1/tests/urine-selections",
            j(json!({"site_id": "{site}", "count": 1})),
            [F, A, A, F, F, F],
        ),
        row(
            "get",
            "/api/v1/tests/urine-selections",
            "/api/v1/tests/urine-selections?site_id={site}",
            n.clone(),
            [F, A, A, F, F, F],
        ),
        row(
            "post",
            "/api/v1/tests/{id}/police-notification",
            "/api/v1/tests/{test}/police-notification",
            j(json!({"notified_at": "{now}", "police_unit": "柳市派出所"})),
            [A, A, F, F, F, F],
        ),
        row(
            "get",
            "/api/v1/police-notifications/outstanding",
            "/api/v1/police-notifications/outstanding",
            n.clone(),
            [A, A, F, F, F, F],
        ),
        row("get", "/api/v1/alerts", "/api/v1/alerts?patient_id={patient}", n.clone(), [A, A, A, A, A, N]),
        row(
            "post",
            "/api/v1/alerts/{id}/acknowledge",
            "/api/v1/alerts/{alert}/acknowledge",
            j(json!({"note": "已联系"})),
            [A, A, A, A, A, N],
        ),
        row(
            "post",
            "/api/v1/alerts/{id}/resolve",
            "/api/v1/alerts/{alert}/resolve",
            j(json!({"note": "已处理"})),
            [A, A, F, F, A, N],
        ),
        row("post", "/api/v1/alerts/sweep", "/api/v1/alerts/sweep", n.clone(), [A, F, F, F, F, F]),
        row("get", "/api/v1/rehab-cases", "/api/v1/rehab-cases", n.clone(), [A, F, F, F, A, A]),
        row(
            "post",
            "/api/v1/rehab-cases",
            "/api/v1/rehab-cases",
            j(
                json!({"patient_id": "{patient}", "kind": "community_detox", "decision_date": "2026-11-01", "township": "柳市镇", "worker_id": "{worker}"}),
            ),
            [A, F, F, F, A, N],
        ),
        row(
            "post",
            "/api/v1/rehab-cases/{id}/events",
            "/api/v1/rehab-cases/{case}/events",
            j(json!({"kind": "reported", "date": "{today}"})),
            [A, F, F, F, A, N],
        ),
        row(
            "post",
            "/api/v1/rehab-cases/import",
            "/api/v1/rehab-cases/import",
            Body::Raw("text/csv", b"case_ref\n"),
            [A, F, F, F, F, F],
        ),
        // A rehab worker exports their own cases.
        row("get", "/api/v1/rehab/export", "/api/v1/rehab/export", n.clone(), [A, F, F, F, A, A]),
        // Reports.
        row(
            "get",
            "/api/v1/reports/dispensing-register.pdf",
            "/api/v1/reports/dispensing-register.pdf?site_id={site}&date={today}",
            n.clone(),
            [F, A, A, F, F, F],
        ),
        row(
            "get",
            "/api/v1/reports/patient-card.pdf",
            "/api/v1/reports/patient-card.pdf?patient_id={patient}",
            n.clone(),
            [F, A, A, A, F, F],
        ),
        row(
            "get",
            "/api/v1/reports/rehab-attendance.pdf",
            "/api/v1/reports/rehab-attendance.pdf?month=2026-11",
            n.clone(),
            [A, F, F, F, A, A],
        ),
        row(
            "get",
            "/api/v1/reports/rehab-attendance.csv",
            "/api/v1/reports/rehab-attendance.csv?month=2026-11",
            n.clone(),
            [A, F, F, F, A, A],
        ),
        row(
            "get",
            "/api/v1/reports/monthly.pdf",
            "/api/v1/reports/monthly.pdf?month=2026-11",
            n.clone(),
            [A, A, F, F, F, F],
        ),
        row(
            "get",
            "/api/v1/reports/dose-history.pdf",
            "/api/v1/reports/dose-history.pdf?patient_id={patient}",
            n.clone(),
            [F, A, A, A, F, F],
        ),
        row(
            "get",
            "/api/v1/reports/patient-cards.pdf",
            "/api/v1/reports/patient-cards.pdf?site_id={site}",
            n.clone(),
            [F, A, A, F, F, F],
        ),
        row(
            "get",
            "/api/v1/reports/stock-ledger.pdf",
            "/api/v1/reports/stock-ledger.pdf?site_id={site}",
            n.clone(),
            [A, F, A, F, F, F],
        ),
        row(
            "get",
            "/api/v1/reports/home-visit-log.pdf",
            "/api/v1/reports/home-visit-log.pdf?site_id={site}",
            n.clone(),
            [F, A, A, F, F, F],
        ),
        // Home visits: doctors authorize; nurses of the patient's site schedule and visit.
        row(
            "post",
            "/api/v1/patients/{id}/home-visit-authorizations",
            "/api/v1/patients/{patient}/home-visit-authorizations",
            j(json!({"reason": "行动不便", "valid_from": "{today}", "valid_to": "{today}"})),
            [F, A, F, F, F, F],
        ),
        row(
            "get",
            "/api/v1/patients/{id}/home-visit-authorizations",
            "/api/v1/patients/{patient}/home-visit-authorizations",
            n.clone(),
            [F, A, A, A, F, F],
        ),
        row(
            "post",
            "/api/v1/home-visit-schedules",
            "/api/v1/home-visit-schedules",
            j(
                json!({"patient_id": "{patient}", "site_id": "{site}", "weekdays": [1, 2, 3, 4, 5, 6, 7], "from": "{today}"}),
            ),
            [F, A, A, F, F, F],
        ),
        // A schedule that does not exist: doctors and nurses are told so.
        row(
            "post",
            "/api/v1/home-visit-schedules/{id}/end",
            "/api/v1/home-visit-schedules/{nobody}/end",
            j(json!({"last_day": "{today}", "reason": "可来窗口服药"})),
            [F, N, N, N, F, F],
        ),
        row(
            "get",
            "/api/v1/patients/{id}/home-visit-schedules",
            "/api/v1/patients/{patient}/home-visit-schedules",
            n.clone(),
            [F, A, A, A, F, F],
        ),
        row("get", "/api/v1/sites/{id}/home-visits", "/api/v1/sites/{site}/home-visits", n.clone(), [F, A, A, F, F, F]),
        // A visit that does not exist: nurses are told so, everyone else may not ask.
        row(
            "post",
            "/api/v1/home-visits/{id}/checkout",
            "/api/v1/home-visits/{nobody}/checkout",
            j(json!({"dose_mg": 30})),
            [F, F, N, N, F, F],
        ),
        row(
            "post",
            "/api/v1/home-visits/{id}/checkout/confirm",
            "/api/v1/home-visits/{nobody}/checkout/confirm",
            n.clone(),
            [F, F, N, N, F, F],
        ),
        row(
            "post",
            "/api/v1/home-visits/{id}/arrive",
            "/api/v1/home-visits/{nobody}/arrive",
            n.clone(),
            [F, F, N, N, F, F],
        ),
        row(
            "post",
            "/api/v1/home-visits/{id}/outcome",
            "/api/v1/home-visits/{nobody}/outcome",
            j(json!({"outcome": "not_home"})),
            [F, F, N, N, F, F],
        ),
        row(
            "post",
            "/api/v1/home-visits/{id}/return",
            "/api/v1/home-visits/{nobody}/return",
            n.clone(),
            [F, F, N, N, F, F],
        ),
        row(
            "post",
            "/api/v1/home-visits/{id}/return/confirm",
            "/api/v1/home-visits/{nobody}/return/confirm",
            n.clone(),
            [F, F, N, N, F, F],
        ),
        // Stock: products are the admin's; each site's ledger its nurses'.
        row("get", "/api/v1/products", "/api/v1/products", n.clone(), [A, A, A, A, A, A]),
        row(
            "post",
            "/api/v1/products",
            "/api/v1/products",
            j(json!({"name": "美沙酮口服溶液（矩阵）", "concentration_mg_per_ml": 10})),
            [A, F, F, F, F, F],
        ),
        row("get", "/api/v1/site-products", "/api/v1/site-products", n.clone(), [A, F, F, F, F, F]),
        row(
            "post",
            "/api/v1/sites/{id}/product",
            "/api/v1/sites/{site}/product",
            j(json!({"product_id": "{product}"})),
            [A, F, F, F, F, F],
        ),
        row(
            "post",
            "/api/v1/stock/entries",
            "/api/v1/stock/entries",
            j(
                json!({"site_id": "{site}", "product_id": "{product}", "kind": "receipt", "volume_ml": 100, "lot": "L1", "supplier": "药库", "reason": "到货"}),
            ),
            [F, F, A, F, F, F],
        ),
        // The nurse who made the entry may not confirm it (a 422, judged on its merits).
        row(
            "post",
            "/api/v1/stock/entries/{id}/confirm",
            "/api/v1/stock/entries/{entry}/confirm",
            n.clone(),
            [F, F, A, F, F, F],
        ),
        row("get", "/api/v1/sites/{id}/stock", "/api/v1/sites/{site}/stock", n.clone(), [A, A, A, F, F, F]),
        row(
            "get",
            "/api/v1/sites/{id}/stock/ledger",
            "/api/v1/sites/{site}/stock/ledger",
            n.clone(),
            [A, F, A, F, F, F],
        ),
        row(
            "post",
            "/api/v1/sites/{id}/day-close",
            "/api/v1/sites/{site}/day-close",
            j(json!({"date": "{today}", "product_id": "{product}", "counted_ml": 0})),
            [F, F, A, F, F, F],
        ),
        row(
            "post",
            "/api/v1/sites/{id}/day-close/{cid}/confirm",
            "/api/v1/sites/{site}/day-close/{nobody}/confirm",
            n.clone(),
            [F, F, N, F, F, F],
        ),
        // Late: a suspension changes what the routes above answer.
        row(
            "post",
            "/api/v1/patients/{id}/status",
            "/api/v1/patients/{patient}/status",
            j(json!({"status": "suspended", "reason": "矩阵"})),
            [F, A, F, F, F, F],
        ),
        // Last: it ends each caller's session.
        row("post", "/api/v1/auth/logout", "/api/v1/auth/logout", n, [A, A, A, A, A, A]),
    ]
}

struct Fixtures {
    ids: Vec<(&'static str, String)>,
}

impl Fixtures {
    fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in &self.ids {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

async fn fixtures(c: &Clinic) -> Fixtures {
    let patient = c.enrol_in("病人甲", 1, "柳市镇", true).await["id"].as_str().unwrap().to_string();
    c.start_order(&patient, 30.0).await;
    let dose = c.give(&c.nurse, &patient, &c.ls, 30.0).await;
    assert_eq!(dose.status, StatusCode::CREATED, "{}", dose.text());
    let dose = dose.json()["id"].as_str().unwrap().to_string();
    let order = c.app.get(&format!("/api/v1/patients/{patient}/orders"), &c.doctor).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let case = c
        .app
        .post(
            "/api/v1/rehab-cases",
            &c.worker,
            json!({"patient_id": patient, "kind": "community_rehab", "decision_date": "2026-11-01",
                   "reported_on": "2026-11-03", "township": "柳市镇", "worker_id": c.worker_id}),
        )
        .await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text());
    let case = case.json()["id"].as_str().unwrap().to_string();
    let test = c
        .app
        .post(
            &format!("/api/v1/patients/{patient}/tests"),
            &c.nurse,
            json!({"kind": "hair", "sampled_on": c.today(), "result": "positive"}),
        )
        .await;
    assert_eq!(test.status, StatusCode::CREATED, "{}", test.text());
    let test = test.json()["id"].as_str().unwrap().to_string();
    // Someone who is none of the callers: nurse.xu.
    let other_staff = c.app.get("/api/v1/me", &c.nurse2).await.json()["id"].as_str().unwrap().to_string();
    let alerts = c.app.get(&format!("/api/v1/alerts?patient_id={patient}"), &c.admin).await.json();
    let products = c.app.get("/api/v1/products", &c.admin).await.json();
    let product = match products[0]["id"].as_str() {
        Some(id) => id.to_string(),
        None => {
            let made = c
                .app
                .post("/api/v1/products", &c.admin, json!({"name": "美沙酮口服溶液", "concentration_mg_per_ml": 1}))
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
            made.json()["id"].as_str().unwrap().to_string()
        }
    };
    let entry = c
        .app
        .post(
            "/api/v1/stock/entries",
            &c.nurse,
            json!({"site_id": c.ls, "product_id": product, "kind": "receipt", "volume_ml": 500,
                   "lot": "L0", "supplier": "药库", "reason": "到货"}),
        )
        .await;
    assert_eq!(entry.status, StatusCode::CREATED, "{}", entry.text());
    let entry = entry.json()["id"].as_str().unwrap().to_string();
    // Another 柳市 patient's guest dosing at 虹桥 today, arranged after the sheets: waiting for
    // 柳市's release (a patient of their own, so that the release moves no one else's day).
    let traveller = c.enrol_in("病人乙", 2, "柳市镇", true).await["id"].as_str().unwrap().to_string();
    let arrangement =
        c.arrange_guest(&traveller, &c.hq, &c.today(), &c.today()).await["id"].as_str().unwrap().to_string();
    let alert =
        alerts[0]["id"].as_str().unwrap_or_else(|| panic!("an alert for the positive test: {alerts}")).to_string();
    Fixtures {
        ids: vec![
            ("patient", patient),
            ("site", c.ls.clone()),
            ("other_site", c.hq.clone()),
            ("staff", other_staff),
            ("worker", c.worker_id.clone()),
            ("order", order),
            ("dose", dose),
            ("test", test),
            ("alert", alert),
            ("case", case),
            ("today", c.today()),
            ("now", c.now.clone()),
            ("new_id_number", id_number("1990-01-01", 7)),
            ("product", product),
            ("entry", entry),
            ("traveller", traveller),
            ("arrangement", arrangement),
            ("nobody", "no-such-id".to_string()),
        ],
    }
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            routes.insert((method.clone(), path.clone()));
        }
    }
    routes
}

fn judge(expect: Expect, status: StatusCode) -> bool {
    let s = status.as_u16();
    match expect {
        A => !matches!(s, 401 | 403 | 404) && s < 500,
        F => s == 403,
        N => s == 404,
        S(n) => s == n,
    }
}

#[actix_web::test]
async fn every_route_by_every_role_in_and_out_of_scope() {
    let c = Clinic::new().await;
    let doc = c.app.request(Method::GET, "/api/openapi.json", None, None).await.json();
    let table = table();
    let rows: BTreeSet<(String, String)> =
        table.iter().map(|r| (r.method.to_string(), r.doc_path.to_string())).collect();
    let documented = documented_routes(&doc);
    let missing: Vec<_> = documented.difference(&rows).collect();
    assert!(missing.is_empty(), "routes without a row in the authorization table: {missing:?}");
    let stale: Vec<_> = rows.difference(&documented).collect();
    assert!(stale.is_empty(), "rows for routes the OpenAPI document does not have: {stale:?}");

    let f = fixtures(&c).await;
    let tokens = [&c.admin, &c.doctor, &c.nurse, &c.nurse_hq, &c.worker, &c.worker_hq];
    let mut selves = Vec::new();
    for token in tokens {
        selves.push(c.app.get("/api/v1/me", token).await.json()["id"].as_str().unwrap().to_string());
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for r in &table {
        let method = Method::from_bytes(r.method.to_uppercase().as_bytes()).unwrap();
        let request = |token: Option<&str>, url: &str| {
            let mut req =
                TestRequest::default().method(method.clone()).uri(url).peer_addr("10.1.2.3:5000".parse().unwrap());
            if let Some(t) = token {
                req = req.insert_header(("Authorization", format!("Bearer {t}")));
            }
            match &r.body {
                Body::None => req,
                Body::Json(v) => req.set_json(serde_json::from_str::<Value>(&f.fill(&v.to_string())).unwrap()),
                Body::Raw(content_type, bytes) => {
                    req.insert_header(("Content-Type", *content_type)).set_payload(bytes.to_vec())
                }
            }
        };
        // Without a token.
        let url = f.fill(r.url).replace("{self}", &selves[0]);
        let anonymous = c.app.send(request(None, &url)).await;
        let want = r.public.unwrap_or(401);
        checked += 1;
        if anonymous.status.as_u16() != want {
            failures.push(format!(
                "{} {url} without a token: {} (want {want}) {}",
                r.method,
                anonymous.status,
                anonymous.text()
            ));
        }
        for (i, token) in tokens.iter().enumerate() {
            let url = f.fill(r.url).replace("{self}", &selves[i]);
            let reply = c.app.send(request(Some(token), &url)).await;
            checked += 1;
            if !judge(r.expect[i], reply.status) {
                failures.push(format!(
                    "{} {url} as {}: {} (want {:?}) {}",
                    r.method,
                    CALLERS[i],
                    reply.status,
                    r.expect[i],
                    reply.text().chars().take(160).collect::<String>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} answers were wrong:\n{}", failures.len(), failures.join("\n"));
}
