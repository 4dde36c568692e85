//! Sites, staff, rules and the test clock: what admins do, and what nobody else may.

mod common;

use actix_web::http::{Method, StatusCode};
use common::*;
use serde_json::json;

#[actix_web::test]
async fn the_first_start_creates_admin_from_the_environment() {
    let app = TestApp::new().await;
    let r = app.login_reply("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user"]["role"], "admin");
}

#[actix_web::test]
async fn admins_create_and_list_sites() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/api/v1/sites",
            &admin,
            json!({"code": "ls", "name": "柳市服药点", "kind": "dispensary", "address": "柳市镇"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let site = r.json();
    assert_eq!(site["code"], "LS");
    assert_eq!(site["name"], "柳市服药点");
    assert_eq!(site["active"], true);

    let dup = app.post("/api/v1/sites", &admin, json!({"code": "LS", "name": "x", "kind": "clinic"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "duplicate_site");

    let list = app.get("/api/v1/sites", &admin).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], site["id"]);
}

#[actix_web::test]
async fn sites_are_deactivated_not_deleted() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let id = app.site(&admin, "BS", "白石服药点").await;
    let r = app.patch(&format!("/api/v1/sites/{id}"), &admin, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["active"], false);
    let r = app.request(Method::DELETE, &format!("/api/v1/sites/{id}"), Some(&admin), None).await;
    assert!(r.status.is_client_error());
    assert_eq!(app.get("/api/v1/sites", &admin).await.json().as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn every_staff_role_with_its_assignments() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let list = app.get("/api/v1/staff", &net.admin).await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    let by_name = |n: &str| list.as_array().unwrap().iter().find(|s| s["username"] == n).unwrap().clone();
    assert_eq!(by_name("nurse.li")["site_ids"], json!([net.site]));
    assert_eq!(by_name("sg.zhang")["townships"], json!(["柳市镇"]));
    assert_eq!(by_name("sg.zhang")["role"], "rehab_worker");
    assert_eq!(by_name("admin")["role"], "admin");
    assert!(list.as_array().unwrap().iter().all(|s| s.get("password_hash").is_none() && s.get("password").is_none()));
}

#[actix_web::test]
async fn staff_creation_checks_what_each_role_needs() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let cases = [
        (json!({"username": "nurse.two", "password": PASSWORD, "display_name": "x", "role": "nurse"}), "site_ids"),
        (
            json!({"username": "nurse.two", "password": PASSWORD, "display_name": "x", "role": "nurse", "site_ids": ["no-such-site"]}),
            "site_ids",
        ),
        (json!({"username": "sg.two", "password": PASSWORD, "display_name": "x", "role": "rehab_worker"}), "townships"),
        (
            json!({"username": "admin.two", "password": PASSWORD, "display_name": "x", "role": "admin", "site_ids": [net.site]}),
            "site_ids",
        ),
        (
            json!({"username": "nurse.two", "password": "short", "display_name": "x", "role": "nurse", "site_ids": [net.site]}),
            "password",
        ),
        (
            json!({"username": "nurse two", "password": PASSWORD, "display_name": "x", "role": "nurse", "site_ids": [net.site]}),
            "username",
        ),
        (
            json!({"username": "nurse.two", "password": PASSWORD, "display_name": " ", "role": "nurse", "site_ids": [net.site]}),
            "display_name",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/staff", &net.admin, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text());
        assert_eq!(r.code(), "validation_failed");
        assert!(r.json()["error"]["message"].as_str().unwrap().contains(field), "{body}: {}", r.text());
    }
    let dup = app
        .post("/api/v1/staff", &net.admin, json!({"username": "NURSE.LI", "password": PASSWORD, "display_name": "x", "role": "nurse", "site_ids": [net.site]}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "duplicate_username");
}

#[actix_web::test]
async fn an_unknown_role_is_refused() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/api/v1/staff",
            &admin,
            json!({"username": "boss", "password": PASSWORD, "display_name": "x", "role": "superuser"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "validation_failed");
}

#[actix_web::test]
async fn an_admin_cannot_lock_themselves_out() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let me = app.get("/api/v1/me", &admin).await.json();
    let id = me["id"].as_str().unwrap();
    let r = app.patch(&format!("/api/v1/staff/{id}"), &admin, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/me", &admin).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_password_reset_ends_sessions_and_the_new_password_works() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let token = app.login("nurse.li", PASSWORD).await;
    let r = app
        .patch(&format!("/api/v1/staff/{}", net.nurse_id), &net.admin, json!({"password": "a-brand-new-pass-7"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_reply("nurse.li", "a-brand-new-pass-7").await.status, StatusCode::OK);
}

/// Every admin endpoint refuses every other role (403) and anyone signed out (401).
#[actix_web::test]
async fn admin_endpoints_refuse_every_other_role() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let nurse = app.login("nurse.li", PASSWORD).await;
    let doctor = app.login("dr.chen", PASSWORD).await;
    let worker = app.login("sg.zhang", PASSWORD).await;
    let someone_else = app.staff(&net.admin, "nurse.xu", "nurse", &[&net.site], &[]).await;
    let endpoints = [
        (Method::POST, "/api/v1/sites".to_string(), Some(json!({"code": "X1", "name": "x", "kind": "dispensary"}))),
        (Method::PATCH, format!("/api/v1/sites/{}", net.site), Some(json!({"name": "renamed"}))),
        (
            Method::POST,
            "/api/v1/staff".to_string(),
            Some(json!({"username": "intruder", "password": PASSWORD, "display_name": "x", "role": "admin"})),
        ),
        (Method::GET, "/api/v1/staff".to_string(), None),
        (Method::GET, format!("/api/v1/staff/{someone_else}"), None),
        (Method::GET, "/api/v1/audit".to_string(), None),
        (Method::PUT, "/api/v1/admin/clock".to_string(), Some(json!({"now": app.state.now().to_rfc3339()}))),
        // Last: the admin's own call ends the nurse's session.
        (Method::PATCH, format!("/api/v1/staff/{}", net.nurse_id), Some(json!({"role": "admin"}))),
    ];
    for (method, path, body) in &endpoints {
        for (who, token) in [("nurse", &nurse), ("doctor", &doctor), ("rehab_worker", &worker)] {
            let r = app.request(method.clone(), path, Some(token), body.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {method} {path}: {}", r.text());
            assert_eq!(r.code(), "forbidden");
        }
        let r = app.request(method.clone(), path, None, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "anonymous {method} {path}");
        let r = app.request(method.clone(), path, Some(&net.admin), body.clone()).await;
        assert!(r.status.is_success(), "admin {method} {path}: {}", r.text());
    }
    // Nothing the refused calls tried happened.
    let nurse_row = app.get(&format!("/api/v1/staff/{}", net.nurse_id), &net.admin).await.json();
    assert_eq!(nurse_row["role"], "admin", "only the admin's own call changed the role");
    let staff = app.get("/api/v1/staff", &net.admin).await.json();
    assert!(staff.as_array().unwrap().iter().all(|s| s["username"] != "intruder" || s["role"] == "admin"));
}

#[actix_web::test]
async fn staff_may_read_their_own_account() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let nurse = app.login("nurse.li", PASSWORD).await;
    let r = app.get(&format!("/api/v1/staff/{}", net.nurse_id), &nurse).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["username"], "nurse.li");
}

#[actix_web::test]
async fn every_staff_member_reads_the_rules_in_force() {
    let app = TestApp::new().await;
    network(&app).await;
    let nurse = app.login("nurse.li", PASSWORD).await;
    let r = app.get("/api/v1/rules", &nurse).await;
    assert_eq!(r.status, StatusCode::OK);
    let rules = r.json();
    assert_eq!(rules["ceiling_mg"], 200);
    assert_eq!(rules["induction_max_portion_mg"], 30);
    assert_eq!(rules["missed_days_suspend"], 5);
}

#[actix_web::test]
async fn a_stricter_rules_file_is_what_the_service_shows() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.toml");
    std::fs::write(&file, "ceiling_mg = 150\n").unwrap();
    let app =
        TestApp::with(Options { extra: vec![("MMT_RULES", file.display().to_string())], ..Options::default() }).await;
    let admin = app.admin().await;
    assert_eq!(app.get("/api/v1/rules", &admin).await.json()["ceiling_mg"], 150);
}

#[actix_web::test]
async fn the_clock_endpoint_does_not_exist_without_the_test_clock() {
    let app = TestApp::with(Options { test_clock: false, ..Options::default() }).await;
    let admin = app.admin().await;
    let r = app.put("/api/v1/admin/clock", &admin, json!({"now": "2030-01-01T00:00:00Z"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
}

#[actix_web::test]
async fn the_test_clock_moves_the_service_time() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app.put("/api/v1/admin/clock", &admin, json!({"now": "2027-03-01T08:00:00+08:00"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["now"], "2027-03-01T00:00:00Z");
    let page = app.get("/api/v1/audit?entity=clock", &app.admin().await).await.json();
    assert_eq!(page["entries"][0]["action"], "clock.set");
}
