//! Alerts: each kind appears once per episode, says what happened, is acknowledged with a
//! note, and resolves when the patient comes back, re-enters, reports or tests negative.
//! The sweep is idempotent.

mod common;

use actix_web::http::{Method, StatusCode};
use common::clinic::*;
use serde_json::{json, Value};

async fn sweep(c: &Clinic) -> Value {
    let r = c.app.post("/api/v1/alerts/sweep", &c.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn alerts_of(c: &Clinic, token: &str, patient: &str) -> Vec<Value> {
    let r = c.app.get(&format!("/api/v1/alerts?patient_id={patient}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json().as_array().unwrap().clone()
}

fn kinds_and_status(alerts: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = alerts
        .iter()
        .map(|a| (a["kind"].as_str().unwrap().to_string(), a["status"].as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

fn pair(kind: &str, status: &str) -> (String, String) {
    (kind.to_string(), status.to_string())
}

async fn record_test(c: &Clinic, patient: &str, kind: &str, on: &str, result: &str) -> Value {
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{patient}/tests"),
            &c.nurse,
            json!({"kind": kind, "sampled_on": on, "result": result}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[actix_web::test]
async fn three_missed_days_open_one_alert_that_ends_when_the_patient_comes_back() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);

    // Two missed days (11th, 12th): nothing yet.
    c.set_time("2026-11-13T08:00:00+08:00").await;
    assert_eq!(sweep(&c).await["opened"], 0);
    assert!(alerts_of(&c, &c.doctor, &p).await.is_empty());

    // The third missed day opens one alert, in words.
    c.set_time("2026-11-14T08:00:00+08:00").await;
    let first = sweep(&c).await;
    assert_eq!((first["opened"].as_u64(), first["resolved"].as_u64()), (Some(1), Some(0)));
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("missed_doses", "open")]);
    assert_eq!(alerts[0]["message"], "连续3天未服药，最后一次服药：11月10日 柳市服药点");
    assert_eq!(alerts[0]["details"]["missed_days"], 3);
    assert_eq!(alerts[0]["patient_name"], "张三");

    // Running it again, and on the next day, adds nothing: one alert per run.
    let again = sweep(&c).await;
    assert_eq!(
        (again["opened"].as_u64(), again["resolved"].as_u64(), again["dropouts"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    c.set_time("2026-11-15T08:00:00+08:00").await;
    assert_eq!(sweep(&c).await["opened"], 0);
    assert_eq!(alerts_of(&c, &c.doctor, &p).await.len(), 1);

    // Back after a doctor's review: the dose itself ends the alert, no sweep needed.
    c.review(&p, "2026-11-15", 15, "4 missed days").await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 15.0).await.status, StatusCode::CREATED);
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("missed_doses", "resolved")]);
    assert_eq!(alerts[0]["resolution"], "已恢复服药");

    // A later run of missed days is a new episode: a new alert.
    c.set_time("2026-11-19T08:00:00+08:00").await;
    assert_eq!(sweep(&c).await["opened"], 1);
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("missed_doses", "open"), pair("missed_doses", "resolved")]);
    assert_eq!(alerts[0]["message"], "连续3天未服药，最后一次服药：11月15日 柳市服药点");
}

/// The sweep reads a page of patients' last doses together, and each patient is judged on
/// their own: one who came this morning has missed nothing, one whose last dose was
/// reversed counts from the dose before it, one who came two days ago has missed one day.
#[actix_web::test]
async fn a_page_of_patients_is_swept_on_each_ones_own_last_dose() {
    let mut c = Clinic::new().await;
    let morning = c.patient_on("李四", 1, 30.0).await;
    let reversed = c.patient_on("王五", 2, 30.0).await;
    let recent = c.patient_on("赵六", 3, 30.0).await;
    for p in [&morning, &reversed, &recent] {
        assert_eq!(c.give(&c.nurse, p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    }
    // 王五's dose of the 11th was spilled: reversed by two nurses, it does not count.
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let dose = c.give(&c.nurse, &reversed, &c.ls, 30.0).await.json();
    let id = dose["id"].as_str().unwrap();
    let r = c.app.post(&format!("/api/v1/doses/{id}/reversal"), &c.nurse, json!({"reason": "洒出，未服下"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c.app.request(Method::POST, &format!("/api/v1/doses/{id}/reversal/confirm"), Some(&c.nurse2), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    c.set_time("2026-11-12T08:00:00+08:00").await;
    assert_eq!(c.give(&c.nurse, &recent, &c.ls, 30.0).await.status, StatusCode::CREATED);

    // The 14th: 李四 comes back this morning after a doctor's review, before the sweep.
    c.set_time("2026-11-14T08:00:00+08:00").await;
    c.review(&morning, "2026-11-14", 15, "3 missed days").await;
    assert_eq!(c.give(&c.nurse, &morning, &c.ls, 15.0).await.status, StatusCode::CREATED);

    sweep(&c).await;
    let open = |alerts: Vec<Value>| alerts.into_iter().filter(|a| a["status"] == "open").collect::<Vec<_>>();
    assert!(open(alerts_of(&c, &c.doctor, &morning).await).is_empty(), "dosed this morning");
    assert!(open(alerts_of(&c, &c.doctor, &recent).await).is_empty(), "one missed day only");
    let alerts = open(alerts_of(&c, &c.doctor, &reversed).await);
    assert_eq!(kinds_and_status(&alerts), [pair("missed_doses", "open")]);
    assert_eq!(alerts[0]["message"], "连续3天未服药，最后一次服药：11月10日 柳市服药点");
}

#[actix_web::test]
async fn seven_missed_days_mark_a_dropout_that_re_entry_resolves() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("李四", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);

    c.set_time("2026-11-18T08:00:00+08:00").await;
    let s = sweep(&c).await;
    assert_eq!((s["opened"].as_u64(), s["dropouts"].as_u64()), (Some(2), Some(1)));
    let patient = c.app.get(&format!("/api/v1/patients/{p}"), &c.doctor).await.json();
    assert_eq!(patient["status"], "dropped_out");
    // One absence, one alert: the run's missed-dose alert gave way to the dropout alert,
    // and stays readable, resolved, with the link.
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("dropout", "open"), pair("missed_doses", "resolved")]);
    let dropout = alerts.iter().find(|a| a["kind"] == "dropout").unwrap();
    assert_eq!(dropout["message"], "连续7天未服药，已列为脱失，最后一次服药：11月10日 柳市服药点");
    let missed = alerts.iter().find(|a| a["kind"] == "missed_doses").unwrap();
    assert_eq!(missed["superseded_by"], dropout["id"]);
    assert_eq!(missed["resolution"], "已转为脱失预警（同一次缺勤）");
    assert_eq!(s["resolved"].as_u64(), Some(1));

    // The rehab worker of the patient's township (consent given) has one thing to act on.
    let open = c.app.get("/api/v1/alerts?status=unresolved", &c.worker).await.json();
    let open: Vec<&Value> = open.as_array().unwrap().iter().filter(|a| a["patient_id"] == p.as_str()).collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["kind"], "dropout");
    assert_eq!(alerts_of(&c, &c.worker, &p).await.len(), 2, "the history keeps both");
    let again = sweep(&c).await;
    assert_eq!(
        (again["opened"].as_u64(), again["resolved"].as_u64()),
        (Some(0), Some(0)),
        "the second run changes nothing"
    );

    // Re-entry by a doctor ends the dropout.
    let r = c
        .app
        .post(&format!("/api/v1/patients/{p}/status"), &c.doctor, json!({"status": "active", "reason": "re-entry"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("dropout", "resolved"), pair("missed_doses", "resolved")]);
    // The same run does not drop the patient again.
    let s = sweep(&c).await;
    assert_eq!((s["opened"].as_u64(), s["dropouts"].as_u64()), (Some(0), Some(0)));
    let patient = c.app.get(&format!("/api/v1/patients/{p}"), &c.doctor).await.json();
    assert_eq!(patient["status"], "active");
}

#[actix_web::test]
async fn a_positive_or_refused_test_alerts_at_once_until_a_later_negative_test() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("王五", 1, 30.0).await;
    record_test(&c, &p, "urine", "2026-11-10", "positive").await;
    record_test(&c, &p, "hair", "2026-11-10", "refused").await;
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("positive_test", "open"), pair("test_refused", "open")]);
    let positive = alerts.iter().find(|a| a["kind"] == "positive_test").unwrap();
    assert_eq!(positive["message"], "11月10日尿检结果阳性");
    assert_eq!(sweep(&c).await["opened"], 0, "already open");

    c.set_time("2026-11-12T08:00:00+08:00").await;
    record_test(&c, &p, "urine", "2026-11-12", "negative").await;
    let alerts = alerts_of(&c, &c.doctor, &p).await;
    assert_eq!(
        kinds_and_status(&alerts),
        [pair("positive_test", "resolved"), pair("test_refused", "open")],
        "a negative urine test ends the urine alert, not the hair refusal"
    );

    // A pending sample alerts nobody until its result is entered, once.
    let pending = record_test(&c, &p, "urine", "2026-11-12", "pending").await;
    assert_eq!(pending["result"], "pending");
    assert_eq!(alerts_of(&c, &c.doctor, &p).await.len(), 2);
    let id = pending["id"].as_str().unwrap();
    let r = c.app.post(&format!("/api/v1/tests/{id}/result"), &c.doctor, json!({"result": "positive"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["result"], "positive");
    assert_eq!(alerts_of(&c, &c.doctor, &p).await.len(), 3);
    let again = c.app.post(&format!("/api/v1/tests/{id}/result"), &c.doctor, json!({"result": "negative"})).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "test_has_result".to_string()));
}

async fn open_case(c: &Clinic, patient: &str, decision: &str, reported: Option<&str>) -> Value {
    let r = c
        .app
        .post(
            "/api/v1/rehab-cases",
            &c.worker,
            json!({"patient_id": patient, "kind": "community_detox", "decision_date": decision,
                   "reported_on": reported, "township": "柳市镇", "worker_id": c.worker_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[actix_web::test]
async fn an_unreported_case_is_overdue_and_the_third_refusal_is_a_serious_breach() {
    let c = Clinic::new().await;
    let p = c.patient_on("赵六", 1, 30.0).await;
    // Decided on 1 October, never reported: overdue since 17 October, treated as a refusal.
    let case = open_case(&c, &p, "2026-10-01", None).await;
    assert_eq!(case["status"], "report_overdue");
    assert_eq!(case["report_due_by"], "2026-10-16");
    assert_eq!(case["refusals"], 1);
    let alerts = alerts_of(&c, &c.worker, &p).await;
    assert_eq!(kinds_and_status(&alerts), [pair("rehab_report_overdue", "open")]);
    assert_eq!(alerts[0]["message"], "社区戒毒决定书于10月1日作出，应于10月16日前报到，逾期未报到（视为拒绝）");
    assert_eq!(alerts[0]["case_id"], case["id"]);

    // The report ends that alert and starts the three years.
    let id = case["id"].as_str().unwrap();
    let r = c
        .app
        .post(&format!("/api/v1/rehab-cases/{id}/events"), &c.worker, json!({"kind": "reported", "date": "2026-11-10"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!((r.json()["status"].as_str(), r.json()["ends_on"].as_str()), (Some("active"), Some("2029-11-10")));
    let twice = c
        .app
        .post(&format!("/api/v1/rehab-cases/{id}/events"), &c.worker, json!({"kind": "reported", "date": "2026-11-10"}))
        .await;
    assert_eq!(twice.code(), "already_reported");
    assert_eq!(kinds_and_status(&alerts_of(&c, &c.worker, &p).await), [pair("rehab_report_overdue", "resolved")]);

    // Two refused tests after the overdue report: the third refusal is a serious breach.
    record_test(&c, &p, "urine", "2026-11-10", "refused").await;
    assert!(!alerts_of(&c, &c.worker, &p).await.iter().any(|a| a["kind"] == "serious_breach"));
    record_test(&c, &p, "hair", "2026-11-10", "refused").await;
    let alerts = alerts_of(&c, &c.worker, &p).await;
    let breach: Vec<&Value> = alerts.iter().filter(|a| a["kind"] == "serious_breach").collect();
    assert_eq!(breach.len(), 1);
    assert_eq!(breach[0]["message"], "社区戒毒期间第3次拒绝检测、逃避或逾期报到，属严重违反协议");
    assert_eq!(sweep(&c).await["opened"], 0);
}

#[actix_web::test]
async fn an_alert_is_acknowledged_with_a_note_once_and_resolved_by_hand() {
    let c = Clinic::new().await;
    let p = c.patient_on("钱七", 1, 30.0).await;
    record_test(&c, &p, "urine", "2026-11-10", "positive").await;
    let alert = alerts_of(&c, &c.worker, &p).await.pop().unwrap();
    let id = alert["id"].as_str().unwrap();
    let ack = |token: &str, note: &str| {
        let (app, token, note) = (&c.app, token.to_string(), note.to_string());
        async move { app.post(&format!("/api/v1/alerts/{id}/acknowledge"), &token, json!({"note": note})).await }
    };

    let empty = ack(&c.worker, "  ").await;
    assert_eq!((empty.status, empty.code()), (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed".to_string()));
    let outsider = ack(&c.worker_hq, "not mine").await;
    assert_eq!(outsider.status, StatusCode::NOT_FOUND, "another township's worker cannot even see it");

    let done = ack(&c.worker, "已电话联系本人，明日来门诊").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let a = done.json();
    assert_eq!(
        (a["status"].as_str(), a["acknowledgement_note"].as_str()),
        (Some("acknowledged"), Some("已电话联系本人，明日来门诊"))
    );
    assert_eq!(a["acknowledged_by_name"], "sg.zhang");
    let twice = ack(&c.doctor, "again").await;
    assert_eq!((twice.status, twice.code()), (StatusCode::CONFLICT, "alert_not_open".to_string()));

    let open = c.app.get("/api/v1/alerts?status=open", &c.worker).await.json();
    assert!(open.as_array().unwrap().is_empty());
    let acknowledged = c.app.get("/api/v1/alerts?status=acknowledged", &c.worker).await.json();
    assert_eq!(acknowledged.as_array().unwrap().len(), 1);

    let by_nurse = c.app.post(&format!("/api/v1/alerts/{id}/resolve"), &c.nurse, json!({"note": "x"})).await;
    assert_eq!(by_nurse.status, StatusCode::FORBIDDEN);
    let resolved = c.app.post(&format!("/api/v1/alerts/{id}/resolve"), &c.doctor, json!({"note": "复查后处理"})).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text());
    assert_eq!(
        (resolved.json()["status"].as_str(), resolved.json()["resolution"].as_str()),
        (Some("resolved"), Some("复查后处理"))
    );
    let bad = c.app.get("/api/v1/alerts?status=closed", &c.doctor).await;
    assert_eq!(bad.code(), "validation_failed");
}

#[actix_web::test]
async fn only_admins_run_the_sweep_and_two_sweeps_at_once_open_each_alert_once() {
    let mut c = Clinic::new().await;
    let mut patients = Vec::new();
    for i in 1..=4 {
        let p = c.patient_on(&format!("病人{i}"), i, 30.0).await;
        assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
        patients.push(p);
    }
    c.set_time("2026-11-14T08:00:00+08:00").await;
    let denied = c.app.post("/api/v1/alerts/sweep", &c.nurse, json!({})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let (a, b) = tokio::join!(sweep(&c), sweep(&c));
    assert_eq!(a["opened"].as_u64().unwrap() + b["opened"].as_u64().unwrap(), 4);
    assert_eq!(a["patients"], 4);
    for p in &patients {
        assert_eq!(alerts_of(&c, &c.doctor, p).await.len(), 1);
    }
    // Every change is in the audit trail, and the chain still holds.
    let audit = c.app.get("/api/v1/audit?entity=alert", &c.admin).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.text().matches("alert.open").count() >= 4, "{}", audit.text());
    let report = c.app.verify_audit();
    assert!(report.is_intact(), "{report}");
}

#[actix_web::test]
async fn a_sweep_interrupted_halfway_leaves_no_patient_half_done_and_the_next_run_finishes() {
    use diesel::connection::SimpleConnection;
    let mut c = Clinic::new().await;
    let mut ps = Vec::new();
    for (i, name) in ["甲", "乙", "丙"].iter().enumerate() {
        let p = c.patient_on(name, i as u32 + 1, 30.0).await;
        assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
        ps.push(p);
    }
    // Seven missed days: each patient's outcome is three writes (alert, dropout, alert).
    c.set_time("2026-11-18T08:00:00+08:00").await;
    // The database refuses the second patient's dropout alert, halfway through their outcome.
    let (a, b, third) = (&ps[0], &ps[1], &ps[2]);
    let mut conn = c.app.conn();
    if c.app.db.is_postgres() {
        conn.batch_execute(&format!(
            "CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$;
             CREATE TRIGGER fail_b BEFORE INSERT ON alerts FOR EACH ROW
             WHEN (NEW.kind = 'dropout' AND NEW.patient_id = '{b}') EXECUTE FUNCTION fail_once();"
        ))
        .unwrap();
    } else {
        conn.batch_execute(&format!(
            "CREATE TRIGGER fail_b BEFORE INSERT ON alerts WHEN NEW.kind = 'dropout' AND NEW.patient_id = '{b}'
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;"
        ))
        .unwrap();
    }
    let failed = c.app.post("/api/v1/alerts/sweep", &c.admin, json!({})).await;
    assert_eq!((failed.status, failed.code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal_error".to_string()));
    let status = |p: &str| {
        let (app, token, p) = (&c.app, c.doctor.clone(), p.to_string());
        async move { app.get(&format!("/api/v1/patients/{p}"), &token).await.json()["status"].as_str().unwrap().to_string() }
    };
    // The first patient is done; the second has nothing half-written (still active, no
    // missed-dose alert either); the third was not reached.
    assert_eq!((status(a).await.as_str(), alerts_of(&c, &c.doctor, a).await.len()), ("dropped_out", 2));
    assert_eq!((status(b).await.as_str(), alerts_of(&c, &c.doctor, b).await.len()), ("active", 0));
    assert_eq!((status(third).await.as_str(), alerts_of(&c, &c.doctor, third).await.len()), ("active", 0));

    conn.batch_execute("DROP TRIGGER fail_b ON alerts").or_else(|_| conn.batch_execute("DROP TRIGGER fail_b")).unwrap();
    let finished = sweep(&c).await;
    assert_eq!((finished["opened"].as_u64(), finished["dropouts"].as_u64()), (Some(4), Some(2)));
    for p in &ps {
        assert_eq!((status(p).await.as_str(), alerts_of(&c, &c.doctor, p).await.len()), ("dropped_out", 2));
    }
}
