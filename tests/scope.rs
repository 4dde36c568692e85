//! Who sees which patient: every patient-related endpoint × every role × in and out of
//! scope. Rehab workers see their patients' attendance, alerts and test results only (the
//! API leaves mg, orders, ECGs and notes out), and every view is logged as a disclosure.

mod common;

use actix_web::http::{Method, StatusCode};
use common::clinic::*;
use serde_json::{json, Value};

/// The three patients of the matrix, all living in 柳市镇 (sg.zhang's township).
struct Patients {
    /// No consent, but an open rehab case in 柳市镇.
    case: String,
    /// Consented to sharing, no case.
    consent: String,
    /// Neither: out of every rehab worker's scope.
    out: String,
}

async fn patients(c: &Clinic) -> Patients {
    let case = c.enrol_in("案件人", 1, "柳市镇", false).await["id"].as_str().unwrap().to_string();
    let consent = c.enrol_in("同意人", 2, "柳市镇", true).await["id"].as_str().unwrap().to_string();
    let out = c.enrol_in("无关人", 3, "柳市镇", false).await["id"].as_str().unwrap().to_string();
    for p in [&case, &consent, &out] {
        c.start_order(p, 30.0).await;
        assert_eq!(c.give(&c.nurse, p, &c.ls, 30.0).await.status, StatusCode::CREATED);
        let r = c
            .app
            .post(
                &format!("/api/v1/patients/{p}/tests"),
                &c.nurse,
                json!({"kind": "urine", "sampled_on": "2026-11-10", "result": "positive"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = c
        .app
        .post(
            "/api/v1/rehab-cases",
            &c.worker,
            json!({"patient_id": case, "kind": "community_rehab", "decision_date": "2026-11-01",
                   "reported_on": "2026-11-03", "township": "柳市镇", "worker_id": c.worker_id, "case_ref": "LQ-SK-2026-0100"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    Patients { case, consent, out }
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Admin,
    Doctor,
    Nurse,
    /// sg.zhang (柳市镇).
    Worker,
    /// sg.liu (虹桥镇).
    OtherWorker,
}

fn token(c: &Clinic, who: Who) -> &str {
    match who {
        Who::Admin => &c.admin,
        Who::Doctor => &c.doctor,
        Who::Nurse => &c.nurse,
        Who::Worker => &c.worker,
        Who::OtherWorker => &c.worker_hq,
    }
}

/// One endpoint of the matrix: method, path (with `{p}` for the patient), body.
struct Endpoint {
    method: Method,
    path: &'static str,
    body: Option<Value>,
}

fn endpoints(site: &str) -> Vec<Endpoint> {
    let get = |path: &'static str| Endpoint { method: Method::GET, path, body: None };
    let post = |path: &'static str, body: Value| Endpoint { method: Method::POST, path, body: Some(body) };
    vec![
        get("/api/v1/patients/{p}"),
        get("/api/v1/patients/{p}/attendance"),
        get("/api/v1/patients/{p}/tests"),
        get("/api/v1/alerts?patient_id={p}"),
        get("/api/v1/patients/{p}/orders"),
        get("/api/v1/patients/{p}/doses"),
        get("/api/v1/patients/{p}/ecgs"),
        get("/api/v1/patients/{p}/photo"),
        get("/api/v1/reports/patient-card.pdf?patient_id={p}"),
        get("/api/v1/reports/dose-history.pdf?patient_id={p}"),
        Endpoint {
            method: Method::GET,
            path: Box::leak(format!("/api/v1/patients/{{p}}/dispensing?site_id={site}").into_boxed_str()),
            body: None,
        },
        post("/api/v1/patients/{p}/tests", json!({"kind": "hair", "sampled_on": "2026-11-10", "result": "pending"})),
        post("/api/v1/patients/{p}/absences", json!({"from": "2026-11-20", "to": "2026-11-21", "reason": "hospital"})),
        post("/api/v1/patients/{p}/status", json!({"status": "suspended", "reason": "matrix"})),
        post("/api/v1/patients/{p}/ecgs", json!({"taken_on": "2026-11-10", "qtc_ms": 420})),
    ]
}

/// The expected status for an endpoint, a role and whether a rehab worker's scope covers
/// the patient. Roles that may never use an endpoint get 403 whoever the patient is; a
/// rehab worker outside their scope gets 404 (never revealing that the patient exists).
fn expected(e: &Endpoint, who: Who, in_scope: bool) -> StatusCode {
    let path = e.path;
    let rehab_views = e.method == Method::GET
        && (path == "/api/v1/patients/{p}"
            || path.ends_with("/attendance")
            || path.ends_with("/tests")
            || path.starts_with("/api/v1/alerts"));
    let worker = matches!(who, Who::Worker | Who::OtherWorker);
    if rehab_views {
        return if worker && !in_scope { StatusCode::NOT_FOUND } else { StatusCode::OK };
    }
    let created =
        if e.method == Method::POST && !path.ends_with("/status") { StatusCode::CREATED } else { StatusCode::OK };
    let allowed = match (who, path) {
        (Who::Doctor, _) => true,
        (Who::Nurse, p) if p.ends_with("/status") || (e.method == Method::POST && p.ends_with("/ecgs")) => false,
        (Who::Nurse, _) => true,
        (Who::Admin, p) => p.ends_with("/photo"),
        _ => false,
    };
    match allowed {
        true if path.ends_with("/photo") => StatusCode::NOT_FOUND, // no photo uploaded
        true => created,
        false => StatusCode::FORBIDDEN,
    }
}

#[actix_web::test]
async fn every_patient_endpoint_by_every_role_in_and_out_of_scope() {
    let c = Clinic::new().await;
    let ps = patients(&c).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    // Writes go last for each patient so that a suspension does not change the reads.
    for (patient, worker_in_scope) in [(&ps.case, true), (&ps.consent, true), (&ps.out, false)] {
        for e in endpoints(&c.ls) {
            for who in [Who::Admin, Who::Doctor, Who::Nurse, Who::Worker, Who::OtherWorker] {
                let in_scope = match who {
                    Who::Worker => worker_in_scope,
                    Who::OtherWorker => false,
                    _ => true,
                };
                // A status change or an absence can only happen once: only the first
                // allowed caller's answer is checked against 200/201.
                let path = e.path.replace("{p}", patient);
                let r = c.app.request(e.method.clone(), &path, Some(token(&c, who)), e.body.clone()).await;
                let want = expected(&e, who, in_scope);
                let write_again =
                    e.method == Method::POST && r.status == StatusCode::UNPROCESSABLE_ENTITY && want.is_success();
                checked += 1;
                if r.status != want && !write_again {
                    failures.push(format!(
                        "{:?} {} {path} as {who:?} (in scope: {in_scope}): {} {}",
                        e.method,
                        e.path,
                        r.status,
                        r.text()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} answers were wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, 3 * 14 * 5);
}

#[actix_web::test]
async fn a_rehab_worker_gets_no_clinical_fields_at_all() {
    let c = Clinic::new().await;
    let ps = patients(&c).await;

    let p = c.app.get(&format!("/api/v1/patients/{}", ps.case), &c.worker).await.json();
    let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
    for hidden in ["id_number", "phone", "address", "risk_level", "consent_to_share", "has_photo"] {
        assert!(!keys.contains(&hidden), "{hidden} must be left out: {p}");
    }
    assert_eq!((p["name"].as_str(), p["basis"].as_str()), (Some("案件人"), Some("rehab_case")));
    let clinical = c.app.get(&format!("/api/v1/patients/{}", ps.case), &c.doctor).await.json();
    assert!(clinical.get("id_number").is_some());

    let days = c
        .app
        .get(&format!("/api/v1/patients/{}/attendance?from=2026-11-09&to=2026-11-10", ps.case), &c.worker)
        .await
        .json();
    assert_eq!(days, json!([{"date": "2026-11-09", "status": "no_order"}, {"date": "2026-11-10", "status": "dosed"}]));
    let doctors_view = c
        .app
        .get(&format!("/api/v1/patients/{}/attendance?from=2026-11-10&to=2026-11-10", ps.case), &c.doctor)
        .await
        .json();
    assert_eq!(doctors_view[0]["dose_mg"], 30.0);

    let tests = c.app.get(&format!("/api/v1/patients/{}/tests", ps.consent), &c.worker).await.json();
    assert_eq!(tests[0]["result"], "positive");

    // Search finds only patients in scope.
    let hits = c.app.get("/api/v1/patients?q=%E4%BA%BA", &c.worker).await.json();
    let mut names: Vec<&str> = hits.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["同意人", "案件人"]);
    assert!(c.app.get("/api/v1/patients?q=%E4%BA%BA", &c.worker_hq).await.json().as_array().unwrap().is_empty());

    // Alerts: only their patients'.
    let alerts = c.app.get("/api/v1/alerts", &c.worker).await.json();
    let mut who: Vec<&str> = alerts.as_array().unwrap().iter().map(|a| a["patient_name"].as_str().unwrap()).collect();
    who.sort();
    assert_eq!(who, ["同意人", "案件人"]);
}

#[actix_web::test]
async fn every_view_by_a_rehab_worker_is_a_disclosure_admins_can_list() {
    let c = Clinic::new().await;
    let ps = patients(&c).await;
    assert_eq!(c.app.get(&format!("/api/v1/patients/{}", ps.case), &c.worker).await.status, StatusCode::OK);
    assert_eq!(
        c.app.get(&format!("/api/v1/patients/{}/attendance", ps.consent), &c.worker).await.status,
        StatusCode::OK
    );
    assert_eq!(c.app.get(&format!("/api/v1/patients/{}", ps.out), &c.worker).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.app.get(&format!("/api/v1/patients/{}", ps.case), &c.doctor).await.status, StatusCode::OK);

    assert_eq!(c.app.get("/api/v1/disclosures", &c.worker).await.status, StatusCode::FORBIDDEN);
    let list = c.app.get(&format!("/api/v1/disclosures?staff_id={}", c.worker_id), &c.admin).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let rows = list.json();
    let mut seen: Vec<(String, String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let who = if d["patient_id"] == json!(ps.case) { "case" } else { "consent" };
            (who.to_string(), d["basis"].as_str().unwrap().to_string(), d["what"].as_str().unwrap().to_string())
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("case".into(), "rehab_case".into(), "patient".into()),
            ("consent".into(), "consent".into(), "attendance".into())
        ],
        "the refused view and the doctor's view are not disclosures"
    );
    assert!(rows[0]["at"].as_str().unwrap().starts_with("2026-11-10T00:00:00"));
    assert_eq!(rows[0]["staff_name"], "sg.zhang");
    let by_case = rows.as_array().unwrap().iter().find(|d| d["basis"] == "rehab_case").unwrap();
    assert_eq!(by_case["case_ref"], "LQ-SK-2026-0100");
}
