//! The printed registers: the PDF's text, read back with `pdftotext`, carries the patients'
//! Chinese names, the doses, the totals and the signature lines.

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use common::{pdf_barcodes, pdf_pages_and_size, pdf_text, PASSWORD};
use serde_json::json;

#[actix_web::test]
async fn the_daily_register_lists_each_dose_with_chinese_names_totals_and_signatures() {
    let c = Clinic::new().await;
    let a = c.patient_on("张三丰", 1, 30.0).await;
    let b = c.patient_on("欧阳喆", 3, 25.0).await;
    c.give(&c.nurse, &a, &c.ls, 30.0).await;
    let mut body = dose_body(&b, &c.ls, 22.5);
    body["note"] = json!("患者要求减量，已告知医生");
    let given = c.app.post("/api/v1/doses", &c.nurse2, body).await.json();
    // A reversed dose is printed struck through and left out of the totals.
    let id = given["id"].as_str().unwrap();
    c.app.post(&format!("/api/v1/doses/{id}/reversal"), &c.nurse2, json!({"reason": "录入错误"})).await;
    c.app
        .request(actix_web::http::Method::POST, &format!("/api/v1/doses/{id}/reversal/confirm"), Some(&c.nurse), None)
        .await;

    let r =
        c.app.get(&format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date=2026-11-10", c.ls), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers.get("content-type").unwrap(), "application/pdf");
    assert!(r.body.starts_with(b"%PDF"));
    let text = pdf_text(&r.body);
    for expected in [
        "发药登记簿",
        "柳市服药点",
        "张三丰",
        "欧阳喆",
        "22.5",
        "录入错误",
        "合计",
        "30 mg",
        "30 mL",
        "nurse.li",
        "nurse.xu",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from the register:\n{text}");
    }
    let patient_no =
        c.app.get(&format!("/api/v1/patients/{a}"), &c.doctor).await.json()["patient_no"].as_str().unwrap().to_string();
    assert!(text.contains(&patient_no));
    assert!(text.contains("签名"), "signature lines:\n{text}");

    // Only staff of the site may print its register.
    let r = c
        .app
        .get(&format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date=2026-11-10", c.ls), &c.nurse_hq)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_dose_history_shows_the_order_and_the_doses() {
    let c = Clinic::new().await;
    let a = c.patient_on("张三丰", 1, 30.0).await;
    c.give(&c.nurse, &a, &c.ls, 30.0).await;
    let r = c.app.get(&format!("/api/v1/reports/dose-history.pdf?patient_id={a}"), &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = pdf_text(&r.body);
    for expected in ["服药记录", "张三丰", "每日 30 mg", "柳市服药点", "2026"] {
        assert!(text.contains(expected), "{expected:?} missing from the dose history:\n{text}");
    }
    let r = c.app.get("/api/v1/reports/dose-history.pdf?patient_id=nobody", &c.doctor).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The card is a card: one ID-1 page with the name, number, site and issue date, and a
/// Code 128 barcode and a QR code that both decode, from the printed page, to the number.
#[actix_web::test]
async fn the_patient_card_is_one_card_whose_codes_read_back_as_the_patient_number() {
    let c = Clinic::new().await;
    let a = c.patient_on("张三丰", 1, 30.0).await;
    let no =
        c.app.get(&format!("/api/v1/patients/{a}"), &c.doctor).await.json()["patient_no"].as_str().unwrap().to_string();
    let r = c.app.get(&format!("/api/v1/reports/patient-card.pdf?patient_id={a}"), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (pages, w, h) = pdf_pages_and_size(&r.body);
    assert_eq!(pages, 1);
    assert!((w - 85.6).abs() < 0.5 && (h - 54.0).abs() < 0.5, "{w} x {h} mm");
    let text = pdf_text(&r.body);
    for expected in ["服药卡", "张三丰", no.as_str(), "柳市服药点", "发卡"] {
        assert!(text.contains(expected), "{expected:?} missing from the card:\n{text}");
    }
    let codes = pdf_barcodes(&r.body);
    assert!(codes.contains(&format!("CODE-128:{no}")), "{codes:?}");
    assert!(codes.contains(&format!("QR-Code:{no}")), "{codes:?}");

    // A whole site's cards: ten to an A4 sheet.
    for i in 0..11 {
        c.patient_on(&format!("患者{i}"), 2 + i, 30.0).await;
    }
    let r = c.app.get(&format!("/api/v1/reports/patient-cards.pdf?site_id={}", c.ls), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (pages, w, h) = pdf_pages_and_size(&r.body);
    assert!((w - 210.0).abs() < 0.5 && (h - 297.0).abs() < 0.5, "{w} x {h} mm");
    assert_eq!(pages, 2, "12 cards, ten to a sheet");
    assert_eq!(pdf_barcodes(&r.body).iter().filter(|c| c.starts_with("QR-Code:")).count(), 10);
    // Only for the staff of that site.
    let r = c.app.get(&format!("/api/v1/reports/patient-cards.pdf?site_id={}", c.ls), &c.nurse_hq).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// A query-string value, percent-encoded (township names are Chinese).
fn enc(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The line of a pdftotext page holding all of `needles`, split into its cells.
fn cells_of_line(text: &str, needles: &[&str]) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{text}"));
    line.split_whitespace().map(str::to_string).collect()
}

fn csv_rows(body: &[u8]) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(body);
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(str::to_string)).collect()).collect()
}

/// November 2026 at two sites, read on 1 December.
///
/// 陈晓东 (柳市, enrolled in October, a community-detox case in 柳市镇) has an order from 1 to
/// 14 November: dosed on the 1st, 2nd and 4th, withheld (sedated) on the 3rd, missed the
/// 5th–7th (the sweep opens a missed-dose alert on the 8th), dosed 15 mg after the doctor's
/// review on the 8th, in hospital (excused) the 9th–12th, dosed the 13th and 14th, and a
/// positive urine test on the 14th: 6 days dosed (5 × 30 + 15 = 165 mg), 3 missed, 4 excused,
/// 1 withheld, longest run 3, 2 alerts. 欧阳喆 (虹桥, enrolled on 1 November, a
/// community-rehab case in 虹桥镇) is dosed 25 mg on the 1st to the 4th.
struct November {
    c: Clinic,
    a: String,
    a_case: String,
    worker_ls_id: String,
}

async fn november() -> November {
    let mut c = Clinic::at("2026-11-01T08:00:00+08:00").await;
    // The test clinic's rehab workers: sg.zhang (柳市镇) and sg.liu (虹桥镇).
    let worker_ls_id = c.worker_id.clone();
    let worker_hq_id = c
        .app
        .get("/api/v1/staff", &c.admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "sg.liu")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let a = c.enrol("陈晓东", 1).await["id"].as_str().unwrap().to_string();
    let r = c
        .order(
            &a,
            json!({"daily_mg": 30, "start_date": "2026-11-01", "end_date": "2026-11-14", "phase": "induction", "reason": "start"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c
        .app
        .post(
            "/api/v1/patients",
            &c.doctor,
            json!({"name": "欧阳喆", "id_number": id_number("1990-02-03", 7), "sex": "M", "birth_date": "1990-02-03",
                   "township": "虹桥镇", "home_site_id": c.hq, "enrolled_on": "2026-11-01", "risk_level": 2,
                   "consent_to_share": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let b = r.json()["id"].as_str().unwrap().to_string();
    let r = c
        .order(
            &b,
            json!({"daily_mg": 25, "start_date": "2026-11-01", "end_date": "2026-11-04", "phase": "induction", "reason": "start"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let case = |patient: &str, kind: &str, township: &str, worker: &str, case_ref: &str| {
        json!({"patient_id": patient, "kind": kind, "decision_date": "2026-10-20", "reported_on": "2026-10-25",
               "township": township, "worker_id": worker, "case_ref": case_ref})
    };
    let r = c
        .app
        .post("/api/v1/rehab-cases", &c.admin, case(&a, "community_detox", "柳市镇", &worker_ls_id, "LS-2026-007"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let a_case = r.json()["id"].as_str().unwrap().to_string();
    let r = c
        .app
        .post("/api/v1/rehab-cases", &c.admin, case(&b, "community_rehab", "虹桥镇", &worker_hq_id, "HQ-2026-003"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    for day in 1..=14 {
        if day > 1 {
            c.set_time(&format!("2026-11-{day:02}T08:00:00+08:00")).await;
        }
        if day <= 4 {
            let r = c.give(&c.nurse_hq, &b, &c.hq, 25.0).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        match day {
            1 | 2 | 4 | 13 | 14 => {
                let r = c.give(&c.nurse, &a, &c.ls, 30.0).await;
                assert_eq!(r.status, StatusCode::CREATED, "day {day}: {}", r.text());
            }
            3 => {
                let mut body = dose_body(&a, &c.ls, 30.0);
                body["intoxication_check"] = json!("sedated");
                let r = c.app.post("/api/v1/doses", &c.nurse, body).await;
                assert_eq!(r.code(), "dose_withheld_intoxicated", "{}", r.text());
            }
            8 => {
                let r = c.app.post("/api/v1/alerts/sweep", &c.admin, json!({})).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                c.review(&a, "2026-11-08", 15, "三天未服药，减半").await;
                let r = c.give(&c.nurse, &a, &c.ls, 15.0).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
                let r = c
                    .app
                    .post(
                        &format!("/api/v1/patients/{a}/absences"),
                        &c.doctor,
                        json!({"from": "2026-11-09", "to": "2026-11-12", "reason": "hospital"}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            }
            _ => {}
        }
    }
    let r = c
        .app
        .post(
            &format!("/api/v1/patients/{a}/tests"),
            &c.doctor,
            json!({"kind": "urine", "sampled_on": "2026-11-14", "result": "positive"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    c.set_time("2026-12-01T09:00:00+08:00").await;
    November { c, a, a_case, worker_ls_id }
}

#[actix_web::test]
async fn the_rehab_attendance_report_counts_each_cases_days_within_the_workers_townships() {
    let n = november().await;
    let c = &n.c;
    let worker_ls = c.app.login("sg.zhang", PASSWORD).await;
    let worker_hq = c.app.login("sg.liu", PASSWORD).await;
    let liushi = enc("柳市镇");

    let r =
        c.app.get(&format!("/api/v1/reports/rehab-attendance.pdf?month=2026-11&township={liushi}"), &worker_ls).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers.get("content-type").unwrap(), "application/pdf");
    let text = pdf_text(&r.body);
    for expected in [
        "社区戒毒/康复人员美沙酮维持治疗月度服药情况",
        "2026年11月",
        "柳市镇",
        "填表人：",
        "审核人：",
        "连续漏服",
        "检测阳性",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from the report:\n{text}");
    }
    assert!(!text.contains("欧阳喆"), "another township's case is not on this form");
    assert!(!text.contains("mg"), "a rehab worker never sees mg:\n{text}");
    // Case ref, patient no, name, kind, then dosed, home visit, missed, excused, withheld, longest run.
    let cells = cells_of_line(&text, &["陈晓东", "社区戒毒"]);
    assert_eq!(cells[0], "LS-2026-007", "{cells:?}");
    assert_eq!(cells[4..10], ["6", "0", "3", "4", "1", "3"], "{cells:?}");
    assert!(cells[10..].concat().starts_with("2漏服/阳性"), "{cells:?}");

    let r =
        c.app.get(&format!("/api/v1/reports/rehab-attendance.csv?month=2026-11&township={liushi}"), &worker_ls).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/csv"));
    assert!(r.text().starts_with("month,township,case_ref,"), "header row:\n{}", r.text());
    let rows = csv_rows(&r.body);
    assert_eq!(rows.len(), 1, "{}", r.text());
    let row = &rows[0];
    for (column, value) in [
        ("township", "柳市镇"),
        ("case_ref", "LS-2026-007"),
        ("case_id", n.a_case.as_str()),
        ("patient_name", "陈晓东"),
        ("case_kind", "community_detox"),
        ("days_dosed", "6"),
        ("home_visit_days", "0"),
        ("missed_days", "3"),
        ("excused_days", "4"),
        ("withheld_days", "1"),
        ("longest_missed_run", "3"),
        ("alerts_opened", "2"),
        ("alert_kinds", "missed_doses;positive_test"),
        ("tests", "2026-11-14 urine positive"),
    ] {
        assert_eq!(row[column], value, "column {column}");
    }

    // Each report shown to the worker is in the disclosure log, on the basis of the case.
    let r = c.app.get(&format!("/api/v1/disclosures?staff_id={}", n.worker_ls_id), &c.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let log = r.json();
    let reports: Vec<&serde_json::Value> = log.as_array().unwrap().iter().filter(|d| d["what"] == "report").collect();
    assert_eq!(reports.len(), 2, "one per report (PDF, CSV): {}", r.text());
    assert!(reports.iter().all(|d| d["patient_id"] == n.a.as_str() && d["case_id"] == n.a_case.as_str()));

    // Another township's worker: 403 for 柳市镇, and their own report does not show 陈晓东.
    let r =
        c.app.get(&format!("/api/v1/reports/rehab-attendance.pdf?month=2026-11&township={liushi}"), &worker_hq).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r =
        c.app.get(&format!("/api/v1/reports/rehab-attendance.csv?month=2026-11&township={liushi}"), &worker_hq).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = c.app.get("/api/v1/reports/rehab-attendance.pdf?month=2026-11", &worker_hq).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = pdf_text(&r.body);
    assert!(text.contains("欧阳喆") && text.contains("虹桥镇"), "{text}");
    assert!(!text.contains("陈晓东"), "{text}");
    let r = c.app.get("/api/v1/reports/rehab-attendance.csv?month=2026-11", &worker_hq).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rows = csv_rows(&r.body);
    assert_eq!(rows.len(), 1, "{}", r.text());
    assert_eq!((rows[0]["township"].as_str(), rows[0]["patient_name"].as_str()), ("虹桥镇", "欧阳喆"));
    assert_eq!((rows[0]["case_kind"].as_str(), rows[0]["days_dosed"].as_str()), ("community_rehab", "4"));

    // An admin gets every township, one form each.
    let r = c.app.get("/api/v1/reports/rehab-attendance.pdf?month=2026-11", &c.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = pdf_text(&r.body);
    assert!(text.contains("陈晓东") && text.contains("欧阳喆"), "{text}");
    assert_eq!(text.matches("填表人：").count(), 2, "{text}");

    // Nurses and doctors have no rehab report.
    for token in [&c.nurse, &c.doctor] {
        let r =
            c.app.get(&format!("/api/v1/reports/rehab-attendance.pdf?month=2026-11&township={liushi}"), token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        let r = c.app.get("/api/v1/reports/rehab-attendance.csv?month=2026-11", token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
}

#[actix_web::test]
async fn the_monthly_report_counts_each_sites_patients_doses_and_enrolments() {
    let n = november().await;
    let c = &n.c;
    let r = c.app.get("/api/v1/reports/monthly.pdf?month=2026-11", &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers.get("content-type").unwrap(), "application/pdf");
    let text = pdf_text(&r.body);
    for expected in ["美沙酮维持治疗月报", "2026年11月", "柳市服药点", "虹桥服药点", "全网合计", "填表人："]
    {
        assert!(text.contains(expected), "{expected:?} missing from the monthly report:\n{text}");
    }
    // Site, in treatment, doses, mg, new enrolments, dropouts, re-entries, retention, urine,
    // hair, positive rate, home visits.
    let liushi = cells_of_line(&text, &["柳市服药点"]);
    assert_eq!(liushi, ["柳市服药点", "1", "6", "165", "0", "0", "0", "100.0%", "1", "0", "100.0%", "0"]);
    let hongqiao = cells_of_line(&text, &["虹桥服药点"]);
    assert_eq!(hongqiao, ["虹桥服药点", "1", "4", "100", "1", "0", "0", "—", "0", "0", "—", "0"]);
    let total = cells_of_line(&text, &["全网合计"]);
    assert_eq!(total, ["全网合计", "2", "10", "265", "1", "0", "0", "100.0%", "1", "0", "100.0%", "0"]);

    // The month before: no doses yet, 陈晓东 already enrolled (in October).
    let r = c.app.get("/api/v1/reports/monthly.pdf?month=2026-10", &c.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let october = cells_of_line(&pdf_text(&r.body), &["全网合计"]);
    assert_eq!(october[1..5], ["0", "0", "0", "1"], "{october:?}");

    for token in [&c.nurse, &c.app.login("sg.zhang", PASSWORD).await] {
        let r = c.app.get("/api/v1/reports/monthly.pdf?month=2026-11", token).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
}

#[actix_web::test]
async fn a_report_month_must_be_written_yyyy_mm_and_not_lie_ahead() {
    let c = Clinic::new().await;
    let worker = c.app.login("sg.zhang", PASSWORD).await;
    for month in ["2026-13", "11-2026", "2026-1", "2026-11-01", "", "2027-01"] {
        let r = c.app.get(&format!("/api/v1/reports/monthly.pdf?month={month}"), &c.doctor).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{month:?}: {}", r.text());
        assert_eq!(r.code(), "validation_failed");
        for path in ["rehab-attendance.pdf", "rehab-attendance.csv"] {
            let r = c.app.get(&format!("/api/v1/reports/{path}?month={month}"), &worker).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {month:?}: {}", r.text());
            assert_eq!(r.code(), "validation_failed");
        }
    }
    let r = c.app.get("/api/v1/reports/monthly.pdf", &c.doctor).await;
    assert_eq!(r.code(), "validation_failed", "month is required");
    // The current month may be printed while it runs.
    let r = c.app.get("/api/v1/reports/monthly.pdf?month=2026-11", &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}
