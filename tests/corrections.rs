//! Corrections of recorded doses (RULES.md "Corrections"): a reversal only while the dose's
//! day is open; a late correction after, confirmed by a doctor who did not request it, shown
//! on the register of the day it was made and, reprinted, on the original day's register —
//! never a silent change of what was printed, and never a reopened day.

mod common;

use actix_web::http::{Method, StatusCode};
use common::clinic::*;
use common::pdf_text;
use futures_util::future::join_all;
use serde_json::{json, Value};

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

async fn post_empty(c: &Clinic, path: &str, token: &str) -> common::Reply {
    c.app.request(Method::POST, path, Some(token), None).await
}

async fn give_ok(c: &Clinic, patient: &str, mg: f64) -> String {
    let r = c.give(&c.nurse, patient, &c.ls, mg).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

async fn history(c: &Clinic, patient: &str, from: &str, to: &str) -> Value {
    let r = c.app.get(&format!("/api/v1/patients/{patient}/doses?from={from}&to={to}"), &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// A late correction requested by `by` and confirmed by `doctor`.
async fn late_correct(c: &Clinic, dose: &str, by: &str, doctor: &str, reason: &str) {
    let r = c.app.post(&format!("/api/v1/doses/{dose}/late-correction"), by, json!({ "reason": reason })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = post_empty(c, &format!("/api/v1/doses/{dose}/late-correction/confirm"), doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[actix_web::test]
async fn a_dose_of_yesterday_cannot_be_reversed_and_the_answer_says_what_to_do() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    c.set_time("2026-11-11T08:00:00+08:00").await;

    let r = c.app.post(&format!("/api/v1/doses/{dose}/reversal"), &c.nurse, json!({"reason": "录入错误"})).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "reversal_window_closed"));
    let error = &r.json()["error"];
    assert!(error["message"].as_str().unwrap().contains("late correction"), "{error}");
    assert_eq!(error["details"]["dose_day"], "2026-11-10");
    // Nothing was written: the dose stands, unreversed.
    let h = history(&c, &p, "2026-11-10", "2026-11-11").await;
    assert_eq!((h[0]["reversal"].clone(), h[0]["counts"].clone()), (json!(null), json!(true)));
    assert_eq!(h[0]["correction"], "late_correction");
}

#[actix_web::test]
async fn a_reversal_requested_yesterday_cannot_be_confirmed_today() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    let r = c.app.post(&format!("/api/v1/doses/{dose}/reversal"), &c.nurse, json!({"reason": "洒出"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    c.set_time("2026-11-11T08:00:00+08:00").await;

    let r = post_empty(&c, &format!("/api/v1/doses/{dose}/reversal/confirm"), &c.nurse2).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "reversal_window_closed"));
    // The request lapsed with its day: the dose still counts, and only a late correction is left.
    let h = history(&c, &p, "2026-11-10", "2026-11-11").await;
    assert_eq!(h[0]["reversal"]["status"], "expired");
    assert_eq!(h[0]["counts"], true);
    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!(d["missed_days"], 0, "yesterday's dose still counts");
    late_correct(&c, &dose, &c.nurse, &c.doctor, "洒出，未服下").await;
    assert_eq!(history(&c, &p, "2026-11-10", "2026-11-11").await[0]["late_correction"]["status"], "confirmed");
}

#[actix_web::test]
async fn a_late_correction_of_a_dose_of_today_is_refused_with_use_reversal() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    let r = c.app.post(&format!("/api/v1/doses/{dose}/late-correction"), &c.nurse, json!({"reason": "录入错误"})).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "use_reversal"));
    assert!(history(&c, &p, "2026-11-10", "2026-11-10").await[0]["late_correction"].is_null());
}

#[actix_web::test]
async fn a_late_correction_is_confirmed_only_by_a_doctor_who_did_not_request_it() {
    let mut c = Clinic::new().await;
    let a = c.patient_on("张三", 1, 30.0).await;
    let b = c.patient_on("李四", 3, 30.0).await;
    let dose_a = give_ok(&c, &a, 30.0).await;
    let dose_b = give_ok(&c, &b, 30.0).await;
    c.set_time("2026-11-12T09:00:00+08:00").await;

    // Requested by a nurse, with a reason.
    let path = format!("/api/v1/doses/{dose_a}/late-correction");
    let r = c.app.post(&path, &c.nurse, json!({"reason": "   "})).await;
    assert_eq!(r.code(), "validation_failed", "a reason is required");
    let r = c.app.post(&path, &c.nurse, json!({"reason": "记在了同名患者名下"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let view = r.json();
    assert_eq!((view["status"].as_str(), view["dose_day"].as_str()), (Some("pending"), Some("2026-11-10")));
    let r = c.app.post(&path, &c.nurse2, json!({"reason": "again"})).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "late_correction_exists"));
    // Staff of another site may not ask.
    let r = c.app.post(&format!("/api/v1/doses/{dose_b}/late-correction"), &c.nurse_hq, json!({"reason": "x"})).await;
    assert_eq!(r.code(), "site_not_allowed");

    // The requester (a nurse) and another nurse may not confirm: only a doctor does.
    let confirm = format!("{path}/confirm");
    for token in [&c.nurse, &c.nurse2] {
        let r = post_empty(&c, &confirm, token).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    }
    let h = history(&c, &a, "2026-11-10", "2026-11-12").await;
    assert_eq!(h[0]["late_correction"]["status"], "pending");
    assert_eq!(h[0]["counts"], true, "a pending late correction changes nothing");

    // A doctor (who did not request it) confirms.
    let r = post_empty(&c, &confirm, &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "confirmed");
    let r = post_empty(&c, &confirm, &c.doctor2).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "already_confirmed"));

    // Requested by a doctor: the same doctor may not confirm, another doctor may.
    let path_b = format!("/api/v1/doses/{dose_b}/late-correction");
    let r = c.app.post(&path_b, &c.doctor, json!({"reason": "剂量抄错"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = post_empty(&c, &format!("{path_b}/confirm"), &c.doctor).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "second_doctor_required"));
    let r = post_empty(&c, &format!("{path_b}/confirm"), &c.doctor2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The history shows who, when and why, next to reversals.
    let h = history(&c, &a, "2026-11-10", "2026-11-12").await;
    let late = &h[0]["late_correction"];
    assert_eq!(late["status"], "confirmed");
    assert_eq!(late["reason"], "记在了同名患者名下");
    assert_eq!(
        (late["requested_by_name"].as_str(), late["confirmed_by_name"].as_str()),
        (Some("nurse.li"), Some("dr.chen"))
    );
    assert!(late["requested_at"].as_str().unwrap().starts_with("2026-11-12"));
    assert!(late["confirmed_at"].is_string());
    assert_eq!(h[0]["counts"], false);
    assert!(h[0]["reversal"].is_null());

    // Each step is in the audit trail, by patient number, never by name.
    let audit = c.app.get(&format!("/api/v1/audit?entity=dose&entity_id={dose_a}"), &c.admin).await.json();
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["dose.late_correction_confirm", "dose.late_correction_request", "dose.give"]);
    assert!(!audit.to_string().contains("张三"), "audit summaries name patients by number: {audit}");
}

#[actix_web::test]
async fn a_reversed_dose_takes_no_late_correction() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    c.app.post(&format!("/api/v1/doses/{dose}/reversal"), &c.nurse, json!({"reason": "洒出"})).await;
    assert_eq!(
        post_empty(&c, &format!("/api/v1/doses/{dose}/reversal/confirm"), &c.nurse2).await.status,
        StatusCode::OK
    );
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let r = c.app.post(&format!("/api/v1/doses/{dose}/late-correction"), &c.nurse, json!({"reason": "x"})).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "dose_reversed"));
}

/// Doses on the 10th to the 13th; on the 14th the last three are corrected. Treated like
/// reversals, they would make the 14th the third missed day (a doctor's review first) —
/// but a late correction never reopens or re-judges an old day.
#[actix_web::test]
async fn corrected_old_days_are_not_reopened_and_the_missed_day_count_stays() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let mut doses = Vec::new();
    for day in 10..=13 {
        if day > 10 {
            c.set_time(&format!("2026-11-{day}T08:00:00+08:00")).await;
        }
        doses.push(give_ok(&c, &p, 30.0).await);
    }
    c.set_time("2026-11-14T08:00:00+08:00").await;
    for dose in &doses[1..] {
        late_correct(&c, dose, &c.nurse, &c.doctor, "记在了同名患者名下").await;
    }

    let d = c.decision(&c.nurse, &p, &c.ls).await;
    assert_eq!((d["missed_days"].as_u64(), d["can_dispense"].as_bool()), (Some(0), Some(true)), "{d}");
    assert_eq!(d["due_mg"], 30.0);
    // The sweep opens no missed-dose alert for the corrected days.
    let r = c.app.post("/api/v1/alerts/sweep", &c.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let alerts = c.app.get("/api/v1/alerts?status=open", &c.doctor).await.json();
    assert!(
        !alerts.as_array().unwrap().iter().any(|a| a["patient_id"] == json!(p)),
        "no alert for corrected days: {alerts}"
    );
    // The old days stay as judged (dosed), their mg out of the figures from now on.
    let days =
        c.app.get(&format!("/api/v1/patients/{p}/attendance?from=2026-11-10&to=2026-11-13"), &c.doctor).await.json();
    let statuses: Vec<&str> = days.as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["dosed", "dosed", "dosed", "dosed"]);
    assert_eq!(days[0]["dose_mg"], 30.0);
    assert!(days[1]["dose_mg"].is_null(), "{}", days[1]);
    // No dose can be written for an old day, and today's one is given as usual, once.
    give_ok(&c, &p, 30.0).await;
    assert_eq!(c.give(&c.nurse2, &p, &c.ls, 30.0).await.code(), "already_dosed_today");
    let h = history(&c, &p, "2026-11-10", "2026-11-14").await;
    assert_eq!(h.as_array().unwrap().len(), 5, "four old doses, still listed, and today's");
    let counting: Vec<bool> = h.as_array().unwrap().iter().map(|e| e["counts"].as_bool().unwrap()).collect();
    assert_eq!(counting, [true, false, false, false, true]);
}

/// The case: three doses on 5 October at 柳市 (90 mg), one of them corrected 86
/// days later. The 5 October register reprinted keeps the row, struck through, with the
/// amendment under it and both totals; the 30 December register lists the correction.
#[actix_web::test]
async fn the_late_correction_appears_on_the_original_days_and_the_correction_days_registers() {
    let mut c = Clinic::at("2026-10-05T08:00:00+08:00").await;
    let a = c.patient_on("张三丰", 1, 30.0).await;
    let b = c.patient_on("欧阳喆", 3, 30.0).await;
    let e = c.patient_on("李秀英", 5, 30.0).await;
    for p in [&a, &b] {
        give_ok(&c, p, 30.0).await;
    }
    let corrected = give_ok(&c, &e, 30.0).await;
    let ls = c.ls.clone();
    let register = move |date: &str| format!("/api/v1/reports/dispensing-register.pdf?site_id={ls}&date={date}");
    let before = pdf_text(&c.app.get(&register("2026-10-05"), &c.nurse).await.body);
    assert!(squeeze(&before).contains("发药人次：3合计90mg"), "{before}");

    c.set_time("2026-12-30T10:00:00+08:00").await;
    let r = c
        .app
        .post(&format!("/api/v1/doses/{corrected}/late-correction"), &c.nurse, json!({"reason": "重复登记"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    c.set_time("2026-12-30T10:20:00+08:00").await;
    let r = post_empty(&c, &format!("/api/v1/doses/{corrected}/late-correction/confirm"), &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let e_no =
        c.app.get(&format!("/api/v1/patients/{e}"), &c.doctor).await.json()["patient_no"].as_str().unwrap().to_string();

    // The original day, reprinted.
    let r = c.app.get(&register("2026-10-05"), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = pdf_text(&r.body);
    let flat = squeeze(&text);
    let row = text.lines().find(|l| l.contains(&e_no)).unwrap_or_else(|| panic!("the corrected row is gone:\n{text}"));
    assert!(row.contains("李秀英") && row.contains("30") && row.contains("已事后更正"), "{row}");
    for expected in [
        "事后更正（2026年12月30日确认）：重复登记。申请人：nurse.li；确认医生：dr.chen。",
        "原合计（当日登记）：发药人次：3合计90mg",
        "更正后合计（扣除事后更正1笔）：发药人次：2合计60mg",
    ] {
        assert!(flat.contains(expected), "{expected:?} missing from the reprint:\n{text}");
    }
    assert!(!flat.contains("更正记录"), "the correction was not made on 5 October:\n{text}");

    // The day the correction was made.
    let text = pdf_text(&c.app.get(&register("2026-12-30"), &c.nurse).await.body);
    let flat = squeeze(&text);
    for expected in
        ["更正记录", "本日无发药记录", "2026-10-05", &e_no, "李秀英", "更正原因：重复登记", "更正确认医生：dr.chen"]
    {
        assert!(flat.contains(&squeeze(expected)), "{expected:?} missing from the correction day's register:\n{text}");
    }
    let line = text.lines().find(|l| l.contains(&e_no)).unwrap();
    assert!(
        line.contains("10:20") && line.contains("nurse.li") && line.contains("dr.chen") && line.contains("30"),
        "{line}"
    );
    // Another site's register, or another day's, does not list it.
    for other in
        [register("2026-12-29"), format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date=2026-12-30", c.hq)]
    {
        let token = if other.contains(&c.hq) { &c.nurse_both } else { &c.nurse };
        let text = pdf_text(&c.app.get(&other, token).await.body);
        assert!(!text.contains("更正记录"), "{other}:\n{text}");
    }
    // The dose history strikes it and leaves it out.
    let card = pdf_text(&c.app.get(&format!("/api/v1/reports/dose-history.pdf?patient_id={e}"), &c.doctor).await.body);
    assert!(squeeze(&card).contains("经事后更正"), "{card}");
}

#[actix_web::test]
async fn two_doctors_confirming_at_once_record_one_confirmation() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let r = c.app.post(&format!("/api/v1/doses/{dose}/late-correction"), &c.nurse, json!({"reason": "重复登记"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let path = format!("/api/v1/doses/{dose}/late-correction/confirm");
    let calls = (0..8).map(|i| {
        let token = if i % 2 == 0 { &c.doctor } else { &c.doctor2 };
        post_empty(&c, &path, token)
    });
    let replies = join_all(calls).await;
    let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| r.text()).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "already_confirmed"), "{}", r.text());
    }
    let audit = c.app.get(&format!("/api/v1/audit?entity=dose&entity_id={dose}"), &c.admin).await.text();
    assert_eq!(audit.matches("dose.late_correction_confirm").count(), 1, "{audit}");
}

#[actix_web::test]
async fn late_corrections_are_append_only_and_the_database_refuses_a_self_confirmation() {
    use diesel::connection::SimpleConnection;
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let r =
        c.app.post(&format!("/api/v1/doses/{dose}/late-correction"), &c.doctor, json!({"reason": "重复登记"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let mut conn = c.app.conn();
    // The requester confirming their own correction, behind the service's back.
    let self_confirm = format!(
        "INSERT INTO late_correction_confirmations (late_correction_id, dose_id, patient_id, site_id, requested_by, \
         confirmed_by, confirmed_at) SELECT id, dose_id, patient_id, site_id, requested_by, requested_by, requested_at \
         FROM late_corrections WHERE id = '{id}'"
    );
    assert!(conn.batch_execute(&self_confirm).is_err(), "the CHECK refuses the requester as confirmer");
    assert!(conn.batch_execute("UPDATE late_corrections SET reason = 'x'").is_err());
    assert!(conn.batch_execute("DELETE FROM late_corrections").is_err());
    drop(conn);
    assert_eq!(
        post_empty(&c, &format!("/api/v1/doses/{dose}/late-correction/confirm"), &c.doctor2).await.status,
        StatusCode::OK
    );
    let mut conn = c.app.conn();
    assert!(conn.batch_execute("UPDATE late_correction_confirmations SET confirmed_by = requested_by").is_err());
    assert!(conn.batch_execute("DELETE FROM late_correction_confirmations").is_err());
}

#[actix_web::test]
async fn doctors_see_the_late_corrections_awaiting_them() {
    let mut c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    let dose = give_ok(&c, &p, 30.0).await;
    c.set_time("2026-11-11T08:00:00+08:00").await;
    let r =
        c.app.post(&format!("/api/v1/doses/{dose}/late-correction"), &c.doctor, json!({"reason": "重复登记"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let mine = c.app.get("/api/v1/late-corrections/pending", &c.doctor).await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!((mine[0]["can_confirm"].as_bool(), mine[0]["patient_name"].as_str()), (Some(false), Some("张三")));
    let theirs = c.app.get("/api/v1/late-corrections/pending", &c.doctor2).await.json();
    assert_eq!((theirs[0]["can_confirm"].as_bool(), theirs[0]["dose_mg"].as_f64()), (Some(true), Some(30.0)));
    assert_eq!(theirs[0]["dose_day"], "2026-11-10");
    // Another site's nurse does not see it; once confirmed it leaves the list.
    assert_eq!(c.app.get("/api/v1/late-corrections/pending", &c.nurse_hq).await.json(), json!([]));
    assert_eq!(
        post_empty(&c, &format!("/api/v1/doses/{dose}/late-correction/confirm"), &c.doctor2).await.status,
        StatusCode::OK
    );
    assert_eq!(c.app.get("/api/v1/late-corrections/pending", &c.doctor2).await.json(), json!([]));
    assert_eq!(c.app.get("/api/v1/late-corrections/pending", &c.admin).await.status, StatusCode::FORBIDDEN);
}
