//! Enrolment, search, status and photos.

mod common;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use common::clinic::*;
use serde_json::json;

#[actix_web::test]
async fn enrolment_assigns_a_network_number_and_refuses_a_second_enrolment() {
    let c = Clinic::new().await;
    let a = c.enrol("张三", 1).await;
    let b = c.enrol("李四", 2).await;
    assert_eq!(a["status"], "active");
    let (na, nb) = (a["patient_no"].as_str().unwrap(), b["patient_no"].as_str().unwrap());
    assert_eq!(nb.parse::<u64>().unwrap(), na.parse::<u64>().unwrap() + 1);

    let again = c
        .app
        .post(
            "/api/v1/patients",
            &c.doctor,
            json!({"name": "张三丰", "id_number": id_number("1985-06-12", 1), "sex": "M", "birth_date": "1985-06-12",
                   "township": "柳市镇", "home_site_id": c.ls, "enrolled_on": "2026-10-01", "risk_level": 1, "consent_to_share": false}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "duplicate_patient");
}

#[actix_web::test]
async fn the_id_number_is_validated() {
    let c = Clinic::new().await;
    let good = id_number("1985-06-12", 1);
    let mut bad_check = good.clone();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '1' { '2' } else { '1' });
    let base = json!({"name": "王五", "sex": "M", "birth_date": "1985-06-12", "township": "柳市镇",
                      "home_site_id": c.ls, "enrolled_on": "2026-10-01", "risk_level": 1, "consent_to_share": false});
    for (id, birth, sex, field) in [
        (bad_check.as_str(), "1985-06-12", "M", "id_number"),
        ("33038219850612001", "1985-06-12", "M", "id_number"),
        (good.as_str(), "1985-06-13", "M", "birth_date"),
        (good.as_str(), "1985-06-12", "F", "sex"),
    ] {
        let mut body = base.clone();
        body["id_number"] = json!(id);
        body["birth_date"] = json!(birth);
        body["sex"] = json!(sex);
        let r = c.app.post("/api/v1/patients", &c.doctor, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{id}: {}", r.text());
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.json()["error"]["details"]["field"], field, "{}", r.text());
    }
}

#[actix_web::test]
async fn nurses_cannot_enrol_and_nobody_sees_an_unknown_patient() {
    let c = Clinic::new().await;
    let r = c.app.post("/api/v1/patients", &c.nurse, json!({})).await;
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .app
        .post(
            "/api/v1/patients",
            &c.nurse,
            json!({"name": "王五", "id_number": id_number("1985-06-12", 3), "sex": "M", "birth_date": "1985-06-12",
                   "township": "柳市镇", "home_site_id": c.ls, "enrolled_on": "2026-10-01", "risk_level": 1, "consent_to_share": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        c.app.get("/api/v1/patients/0190aaaa-0000-7000-8000-000000000000", &c.doctor).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn search_finds_by_name_fragment_patient_number_and_id_suffix() {
    let c = Clinic::new().await;
    let zhang = c.enrol("张建国", 1).await;
    c.enrol("张伟", 3).await;
    c.enrol("李建华", 5).await;
    let names = |v: serde_json::Value| -> Vec<String> {
        let mut n: Vec<String> =
            v.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect();
        n.sort();
        n
    };
    let r = c.app.get("/api/v1/patients?q=%E5%BC%A0", &c.nurse).await; // 张
    assert_eq!(names(r.json()), ["张伟", "张建国"]);
    let r = c.app.get("/api/v1/patients?q=%E5%BB%BA", &c.nurse).await; // 建
    assert_eq!(names(r.json()), ["张建国", "李建华"]);
    let r = c.app.get("/api/v1/patients?q=%E5%BB%BA%E5%9B%BD", &c.nurse).await; // 建国
    assert_eq!(names(r.json()), ["张建国"]);
    let no = zhang["patient_no"].as_str().unwrap();
    let r = c.app.get(&format!("/api/v1/patients?q={no}"), &c.nurse).await.json();
    assert_eq!(r.as_array().unwrap().len(), 1);
    assert_eq!(r[0]["id"], zhang["id"]);
    let id = zhang["id_number"].as_str().unwrap();
    let suffix = &id[id.len() - 6..];
    let r = c.app.get(&format!("/api/v1/patients?q={suffix}"), &c.nurse).await.json();
    assert_eq!(r.as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r[0]["id_number_tail"], &id[id.len() - 4..]);
    assert!(r[0].get("id_number").is_none(), "search hits carry only the tail of the id number");
    let r = c.app.get("/api/v1/patients?q=%E7%8E%8B", &c.nurse).await.json(); // 王
    assert_eq!(r, json!([]));
}

#[actix_web::test]
async fn doctors_change_the_status_and_it_is_audited_without_names() {
    let c = Clinic::new().await;
    let p = c.enrol("张三", 1).await;
    let id = p["id"].as_str().unwrap();
    let r = c
        .app
        .post(&format!("/api/v1/patients/{id}/status"), &c.doctor, json!({"status": "suspended", "reason": "住院"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "suspended");
    let r = c
        .app
        .post(&format!("/api/v1/patients/{id}/status"), &c.nurse, json!({"status": "active", "reason": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .app
        .post(&format!("/api/v1/patients/{id}/status"), &c.doctor, json!({"status": "dropped_out", "reason": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let audit = c.app.get(&format!("/api/v1/audit?entity=patient&entity_id={id}"), &c.admin).await.text();
    assert!(audit.contains("patient.status") && audit.contains("patient.enrol"));
    assert!(!audit.contains("张三") && !audit.contains(p["id_number"].as_str().unwrap()), "{audit}");
}

fn tiny_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&64u32.to_be_bytes());
    png.extend_from_slice(&80u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png
}

#[actix_web::test]
async fn a_photo_is_uploaded_validated_and_shown_to_clinical_staff() {
    let c = Clinic::new().await;
    let p = c.enrol("张三", 1).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(c.app.get(&format!("/api/v1/patients/{id}/photo"), &c.nurse).await.status, StatusCode::NOT_FOUND);
    let put = |body: Vec<u8>, ct: &str| {
        TestRequest::put()
            .uri(&format!("/api/v1/patients/{id}/photo"))
            .insert_header(("Authorization", format!("Bearer {}", c.doctor)))
            .insert_header(("Content-Type", ct.to_string()))
            .set_payload(body)
    };
    let r = c.app.send(put(tiny_png(), "image/png")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = c.app.get(&format!("/api/v1/patients/{id}/photo"), &c.nurse).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-type").unwrap(), "image/png");
    assert_eq!(r.body, tiny_png());
    assert_eq!(c.app.get(&format!("/api/v1/patients/{id}"), &c.nurse).await.json()["has_photo"], true);

    let r = c.app.send(put(b"GIF89a not a photo at all".to_vec(), "image/gif")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut big = tiny_png();
    big.resize(2 * 1024 * 1024 + 4096, 0);
    let r = c.app.send(put(big, "image/png")).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.code(), "payload_too_large");
}
