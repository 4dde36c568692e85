//! The audit trail: every write leaves an entry; the chain is append-only in the database
//! itself, and any edit behind the triggers' back is caught by `verify-audit`.

mod common;

use actix_web::http::StatusCode;
use common::*;
use diesel::connection::SimpleConnection;
use futures_util::future::join_all;
use serde_json::json;

use mmt_clinic::services::audit::{verify_chain, Verification};

#[actix_web::test]
async fn writes_leave_entries_with_actor_entity_and_summary() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let page = app.get(&format!("/api/v1/audit?entity=staff&entity_id={}", net.nurse_id), &net.admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let entries = page.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["action"], "staff.create");
    assert_eq!(e["actor_username"], "admin");
    assert!(e["summary"].as_str().unwrap().contains("nurse.li"));
    assert_eq!(e["hash"].as_str().unwrap().len(), 64);

    app.patch(&format!("/api/v1/staff/{}", net.nurse_id), &net.admin, json!({"display_name": "李娜"})).await;
    let page = app.get(&format!("/api/v1/audit?entity=staff&entity_id={}", net.nurse_id), &net.admin).await.json();
    assert_eq!(page["entries"][0]["action"], "staff.update", "newest first");
}

#[actix_web::test]
async fn the_audit_list_pages_backwards() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let first = app.get("/api/v1/audit?limit=3", &net.admin).await.json();
    let seqs: Vec<i64> = first["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|w| w[0] > w[1]));
    let before = first["next_before"].as_i64().unwrap();
    let second = app.get(&format!("/api/v1/audit?limit=3&before={before}"), &net.admin).await.json();
    assert!(second["entries"][0]["seq"].as_i64().unwrap() < *seqs.last().unwrap());
}

fn disable_append_only_guard(app: &TestApp) -> &'static str {
    if app.db.is_postgres() {
        "ALTER TABLE audit_log DISABLE TRIGGER USER;"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
    }
}

#[actix_web::test]
async fn the_database_refuses_to_update_or_delete_audit_entries() {
    let app = TestApp::new().await;
    network(&app).await;
    let mut conn = app.conn();
    let update = conn.batch_execute("UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 2");
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.batch_execute("DELETE FROM audit_log WHERE seq = 2");
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert!(matches!(verify_chain(&mut conn).unwrap(), Verification::Intact { .. }));
}

#[actix_web::test]
async fn an_edit_behind_the_triggers_back_is_caught_and_named() {
    let app = TestApp::new().await;
    network(&app).await;
    {
        let mut conn = app.conn();
        assert!(matches!(verify_chain(&mut conn).unwrap(), Verification::Intact { entries } if entries >= 5));
        conn.batch_execute(disable_append_only_guard(&app)).unwrap();
        conn.batch_execute("UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 3").unwrap();
        let outcome = verify_chain(&mut conn).unwrap();
        let Verification::Broken(b) = outcome else { panic!("tampering not detected") };
        assert!(b.to_string().contains("entry 3"), "{b}");
    }

    // The command line says the same and exits non-zero.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mmt-clinic"))
        .arg("verify-audit")
        .env("DATABASE_URL", &app.db.url)
        .env("MMT_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("entry 3 was altered"), "{stdout}");
}

#[actix_web::test]
async fn a_deleted_entry_is_caught() {
    let app = TestApp::new().await;
    network(&app).await;
    let mut conn = app.conn();
    conn.batch_execute(disable_append_only_guard(&app)).unwrap();
    conn.batch_execute("DELETE FROM audit_log WHERE seq = 2").unwrap();
    let Verification::Broken(b) = verify_chain(&mut conn).unwrap() else { panic!("deletion not detected") };
    assert!(b.to_string().contains("entry 2 is missing"), "{b}");
}

#[actix_web::test]
async fn verify_audit_passes_on_an_untouched_trail() {
    let app = TestApp::new().await;
    network(&app).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mmt-clinic"))
        .arg("verify-audit")
        .env("DATABASE_URL", &app.db.url)
        .env("MMT_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));
}

/// Concurrent writers queue on the chain's head: no fork, no gap, no lost entry.
#[actix_web::test]
async fn concurrent_writers_leave_an_unbroken_chain() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = app.get("/api/v1/audit?limit=1", &admin).await.json()["entries"][0]["seq"].as_i64().unwrap();
    let calls = (0..24).map(|i| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.post(
                "/api/v1/sites",
                &admin,
                json!({"code": format!("S{i}"), "name": format!("site {i}"), "kind": "dispensary"}),
            )
            .await
            .status
        }
    });
    let statuses = join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let after = app.get("/api/v1/audit?limit=1", &admin).await.json()["entries"][0]["seq"].as_i64().unwrap();
    assert_eq!(after - before, 24);
    let mut conn = app.conn();
    assert!(matches!(verify_chain(&mut conn).unwrap(), Verification::Intact { .. }));
}
