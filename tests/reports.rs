//! The printed registers: the PDF's text, read back with `pdftotext`, carries the patients'
//! Chinese names, the doses, the totals and the signature lines.

mod common;

use std::process::Command;

use actix_web::http::StatusCode;
use common::clinic::*;
use serde_json::json;

fn pdf_text(bytes: &[u8]) -> String {
    common::ensure_debian_packages(&[("/usr/bin/pdftotext", "poppler-utils")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdftotext").args(["-layout", path.to_str().unwrap(), "-"]).output().unwrap_or_else(|e| {
        panic!("pdftotext (Debian poppler-utils) is needed for this test: {e}");
    });
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
        "30.0 mL",
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
async fn the_patient_card_shows_the_order_and_the_doses() {
    let c = Clinic::new().await;
    let a = c.patient_on("张三丰", 1, 30.0).await;
    c.give(&c.nurse, &a, &c.ls, 30.0).await;
    let r = c.app.get(&format!("/api/v1/reports/patient-card.pdf?patient_id={a}"), &c.doctor).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = pdf_text(&r.body);
    for expected in ["服药卡", "张三丰", "每日 30 mg", "柳市服药点", "2026"] {
        assert!(text.contains(expected), "{expected:?} missing from the card:\n{text}");
    }
    let r = c.app.get("/api/v1/reports/patient-card.pdf?patient_id=nobody", &c.doctor).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
