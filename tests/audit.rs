//! The audit trail: every write leaves an entry that records the rows it wrote; the chain
//! is keyed and append-only in the database itself; and any tampering behind the service's
//! back — an edit, a REPLACE, a removed or inserted row, a recomputed chain, a cut end — is
//! caught by `verify-audit`, naming the entry or the row (table and id).

mod common;

use actix_web::http::StatusCode;
use common::clinic::Clinic;
use common::*;
use diesel::connection::SimpleConnection;
use futures_util::future::join_all;
use serde_json::json;

use mmt_clinic::db::append_only::{guarded_tables, table_columns, TABLES};
use mmt_clinic::db::{self, audit as audit_q};
use mmt_clinic::domain::audit::{chain_hash, keyed_link, ChainKey, RowRef, UNKEYED_VERSION};
use mmt_clinic::services::audit::AuditReport;
use mmt_clinic::services::AppState;

/// `verify-audit` on the command line: its exit status and what it printed.
fn verify_cli(app: &TestApp, extra: &[&str]) -> (bool, String) {
    let out = app.db.cli().arg("verify-audit").args(extra).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn broken(app: &TestApp) -> AuditReport {
    let report = app.verify_audit();
    assert!(!report.is_intact(), "tampering not detected: {report}");
    report
}

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

fn restore_append_only_guard(app: &TestApp) -> &'static str {
    if app.db.is_postgres() {
        "ALTER TABLE audit_log ENABLE TRIGGER USER;"
    } else {
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
         CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;"
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
    drop(conn);
    assert!(app.verify_audit().is_intact());
}

#[actix_web::test]
async fn an_edit_behind_the_triggers_back_is_caught_and_named() {
    let app = TestApp::new().await;
    network(&app).await;
    let report = app.verify_audit();
    assert!(report.is_intact() && report.entries >= 5, "{report}");
    app.tampering();
    app.conn().batch_execute(disable_append_only_guard(&app)).unwrap();
    app.conn().batch_execute("UPDATE audit_log SET summary = 'nothing happened' WHERE seq = 3").unwrap();
    assert!(broken(&app).to_string().contains("entry 3 was altered"));

    // The command line says the same and exits non-zero.
    let (ok, out) = verify_cli(&app, &[]);
    assert!(!ok);
    assert!(out.contains("entry 3 was altered"), "{out}");
}

#[actix_web::test]
async fn a_deleted_entry_is_caught() {
    let app = TestApp::new().await;
    network(&app).await;
    app.tampering();
    let mut conn = app.conn();
    conn.batch_execute(disable_append_only_guard(&app)).unwrap();
    conn.batch_execute("DELETE FROM audit_log WHERE seq = 2").unwrap();
    drop(conn);
    assert!(broken(&app).to_string().contains("entry 2 is missing"));
}

#[actix_web::test]
async fn verify_audit_passes_on_an_untouched_trail() {
    let c = Clinic::new().await;
    let p = c.patient_on("王五", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let (ok, out) = verify_cli(&c.app, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("intact") && out.contains("rows of"), "{out}");
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
    let report = app.verify_audit();
    assert!(report.is_intact(), "{report}");
}

/// Concurrent dose writers: each dose recorded by the entry of its own transaction.
#[actix_web::test]
async fn concurrent_doses_are_each_recorded_by_their_entry() {
    let c = Clinic::new().await;
    let mut patients = Vec::new();
    for i in 0..8 {
        patients.push(c.patient_on(&format!("病人{i}"), i + 1, 30.0).await);
    }
    let gives = patients.iter().map(|p| c.give(&c.nurse, p, &c.ls, 30.0));
    let statuses: Vec<StatusCode> = join_all(gives).await.into_iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let report = c.app.verify_audit();
    assert!(report.is_intact(), "{report}");
    assert!(report.rows >= 8 + 8 + 8, "doses, orders and activations: {report}");
}

// ---------------------------------------------------------------------------------------
// Tampering with rows behind the service's back
// ---------------------------------------------------------------------------------------

/// A clinic with two doses given today (30 mg each); their ids.
async fn two_doses() -> (Clinic, String, String) {
    let c = Clinic::new().await;
    let mut ids = Vec::new();
    for (i, name) in ["张三", "李四"].iter().enumerate() {
        let p = c.patient_on(name, i as u32 + 1, 30.0).await;
        let r = c.give(&c.nurse, &p, &c.ls, 30.0).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    assert!(c.app.verify_audit().is_intact());
    c.app.tampering();
    (c, ids.remove(0), ids.remove(0))
}

const DOSE_COLUMNS: &str = "id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at, nurse_id, \
                            order_id, kind, identity_confirmed, intoxication_check, note";

fn deci_mg_of(app: &TestApp, dose: &str) -> i32 {
    db::doses::find(&mut app.conn(), dose).unwrap().map(|d| d.deci_mg).unwrap_or(-1)
}

#[actix_web::test]
async fn a_dose_changed_behind_the_services_back_is_named() {
    let (c, dose, _) = two_doses().await;
    // 30 mg → 1 mg.
    if c.app.db.is_postgres() {
        c.app
            .conn()
            .batch_execute(&format!(
                "SET session_replication_role = replica; UPDATE doses SET deci_mg = 10 WHERE id = '{dose}'; \
                 SET session_replication_role = DEFAULT;"
            ))
            .unwrap();
    } else {
        // Whoever can write the file can drop the trigger that refuses REPLACE.
        c.app
            .conn()
            .batch_execute(&format!(
                "DROP TRIGGER doses_no_replace; \
                 INSERT OR REPLACE INTO doses ({DOSE_COLUMNS}) SELECT id, patient_id, site_id, dose_day, portion, \
                 generation, 10, given_at, nurse_id, order_id, kind, identity_confirmed, intoxication_check, note \
                 FROM doses WHERE id = '{dose}';"
            ))
            .unwrap();
    }
    assert_eq!(deci_mg_of(&c.app, &dose), 10);
    let report = broken(&c.app).to_string();
    assert!(report.contains(&format!("doses row {dose} was changed after audit entry")), "{report}");
    assert!(!report.contains("张三") && !report.contains("mg"), "no patient data: {report}");

    let (ok, out) = verify_cli(&c.app, &[]);
    assert!(!ok && out.contains(&format!("doses row {dose} was changed")), "{out}");
}

#[actix_web::test]
async fn a_dose_changed_with_its_trigger_disabled_is_named() {
    let (c, dose, other) = two_doses().await;
    let tamper = if c.app.db.is_postgres() {
        format!(
            "ALTER TABLE doses DISABLE TRIGGER doses_append_only; UPDATE doses SET deci_mg = 10 WHERE id = '{dose}'; \
             ALTER TABLE doses ENABLE TRIGGER doses_append_only;"
        )
    } else {
        format!(
            "DROP TRIGGER doses_no_update; UPDATE doses SET deci_mg = 10 WHERE id = '{dose}'; \
             CREATE TRIGGER doses_no_update BEFORE UPDATE ON doses \
             BEGIN SELECT RAISE(ABORT, 'doses is append-only'); END;"
        )
    };
    c.app.conn().batch_execute(&tamper).unwrap();
    let report = broken(&c.app).to_string();
    assert!(report.contains(&format!("doses row {dose} was changed")), "{report}");
    assert!(!report.contains(&other), "only the changed dose is named: {report}");
}

#[actix_web::test]
async fn a_dose_removed_by_replacement_is_named() {
    let (c, dose, _) = two_doses().await;
    let newcomer = "0190aaaa-0000-7000-8000-000000000001";
    if c.app.db.is_postgres() {
        c.app
            .conn()
            .batch_execute(&format!(
                "SET session_replication_role = replica; DELETE FROM doses WHERE id = '{dose}'; \
                 SET session_replication_role = DEFAULT; \
                 INSERT INTO doses ({DOSE_COLUMNS}) SELECT '{newcomer}', patient_id, site_id, dose_day, portion, \
                 generation + 1, 10, given_at, nurse_id, order_id, kind, identity_confirmed, intoxication_check, \
                 note FROM doses WHERE id <> '{dose}' LIMIT 1;"
            ))
            .unwrap();
    } else {
        // REPLACE on the (patient, day, portion, generation) key: SQLite deletes the dose that
        // holds the key without firing its delete trigger. No trigger can refuse this (the
        // new row's id is new): the row check must catch it.
        c.app
            .conn()
            .batch_execute(&format!(
                "INSERT OR REPLACE INTO doses ({DOSE_COLUMNS}) SELECT '{newcomer}', patient_id, site_id, dose_day, \
                 portion, generation, 10, given_at, nurse_id, order_id, kind, identity_confirmed, \
                 intoxication_check, note FROM doses WHERE id = '{dose}';"
            ))
            .unwrap();
    }
    assert_eq!(deci_mg_of(&c.app, &dose), -1, "the dose is gone");
    let report = broken(&c.app).to_string();
    assert!(report.contains(&format!("doses row {dose}, recorded by audit entry")), "{report}");
    assert!(report.contains("is no longer in the table (removed)"), "{report}");
    assert!(report.contains(&format!("doses row {newcomer} is recorded by no audit entry")), "{report}");
}

#[actix_web::test]
async fn a_row_inserted_behind_the_services_back_is_named() {
    let (c, dose, _) = two_doses().await;
    let forged = "0190aaaa-0000-7000-8000-000000000002";
    c.app
        .conn()
        .batch_execute(&format!(
            "INSERT INTO doses ({DOSE_COLUMNS}) SELECT '{forged}', patient_id, site_id, '2026-11-09', portion, \
             generation, deci_mg, given_at, nurse_id, order_id, kind, identity_confirmed, intoxication_check, note \
             FROM doses WHERE id = '{dose}';"
        ))
        .unwrap();
    let report = broken(&c.app);
    assert_eq!(report.findings.len(), 1, "{report}");
    assert!(report.to_string().contains(&format!("doses row {forged} is recorded by no audit entry")), "{report}");
}

// ---------------------------------------------------------------------------------------
// SQLite: REPLACE refused; lost races still read as unique violations
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn the_database_refuses_to_replace_an_append_only_row() {
    let (c, dose, _) = two_doses().await;
    let mut conn = c.app.conn();
    let replace = if c.app.db.is_postgres() {
        // PostgreSQL has no REPLACE; an upsert meets the UPDATE trigger.
        format!(
            "INSERT INTO doses ({DOSE_COLUMNS}) SELECT {DOSE_COLUMNS} FROM doses WHERE id = '{dose}' \
             ON CONFLICT (id) DO UPDATE SET deci_mg = 10"
        )
    } else {
        format!(
            "INSERT OR REPLACE INTO doses ({DOSE_COLUMNS}) SELECT id, patient_id, site_id, dose_day, portion, \
             generation, 10, given_at, nurse_id, order_id, kind, identity_confirmed, intoxication_check, note \
             FROM doses WHERE id = '{dose}'"
        )
    };
    let err = conn.batch_execute(&replace).unwrap_err().to_string();
    assert!(err.contains("append-only"), "{err}");
    if !c.app.db.is_postgres() {
        let err = conn.batch_execute("REPLACE INTO audit_log SELECT * FROM audit_log WHERE seq = 2").unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        let err = conn.batch_execute("REPLACE INTO audit_rows SELECT * FROM audit_rows LIMIT 1").unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    // A plain INSERT of an existing key (what a lost race looks like) is a unique violation
    // to the code that maps it to 409.
    use diesel::RunQueryDsl;
    let duplicate = diesel::sql_query(format!(
        "INSERT INTO doses ({DOSE_COLUMNS}) SELECT {DOSE_COLUMNS} FROM doses WHERE id = '{dose}'"
    ))
    .execute(&mut *conn)
    .unwrap_err();
    assert!(db::is_unique_violation(&duplicate), "{duplicate:?}");
    drop(conn);
    assert_eq!(deci_mg_of(&c.app, &dose), 300);
    assert!(c.app.verify_audit().is_intact(), "nothing changed");
}

// ---------------------------------------------------------------------------------------
// The chain: keyed, and its head kept outside the database
// ---------------------------------------------------------------------------------------

/// How a tamperer recomputes the links.
enum Relink {
    /// Plain sha256, marked as unkeyed entries.
    Sha256Unkeyed,
    /// Plain sha256 in place of the MAC.
    Sha256,
    /// An HMAC under another key.
    WrongKey,
}

/// Edits entry `from` and recomputes every link from it to the end, then moves the head.
fn rewrite_chain_from(app: &TestApp, from: i64, relink: Relink) {
    let mut conn = app.conn();
    let entries = audit_q::page_in_order(&mut conn, 0, 100_000).unwrap();
    let rows = audit_q::rows_after(&mut conn, 0, -1, 100_000).unwrap();
    conn.batch_execute(disable_append_only_guard(app)).unwrap();
    let wrong = ChainKey::new("a wrong key of at least 32 characters");
    let mut prev = entries[(from - 2) as usize].hash.clone();
    let mut sql = String::new();
    for e in entries.iter().filter(|e| e.seq >= from) {
        let mut stored = e.to_stored();
        if e.seq == from {
            stored.summary = "nothing happened".into();
        }
        let refs: Vec<RowRef<'_>> = rows.iter().filter(|r| r.seq == e.seq).map(|r| r.as_ref()).collect();
        let (hash, version) = match relink {
            Relink::Sha256Unkeyed => (chain_hash(&prev, &stored.fields()), UNKEYED_VERSION),
            Relink::Sha256 => (chain_hash(&prev, &stored.fields()), e.version),
            Relink::WrongKey => (keyed_link(&wrong, &prev, &stored.fields(), &refs), e.version),
        };
        sql.push_str(&format!(
            "UPDATE audit_log SET summary = '{}', prev_hash = '{prev}', hash = '{hash}', version = {version} \
             WHERE seq = {};",
            stored.summary.replace('\'', "''"),
            e.seq
        ));
        prev = hash;
    }
    sql.push_str(&format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1;"));
    conn.batch_execute(&sql).unwrap();
}

#[actix_web::test]
async fn a_chain_recomputed_without_the_key_fails() {
    for relink in [Relink::Sha256Unkeyed, Relink::Sha256, Relink::WrongKey] {
        let app = TestApp::new().await;
        network(&app).await;
        app.tampering();
        rewrite_chain_from(&app, 4, relink);
        let report = broken(&app).to_string();
        assert!(report.contains("entry 4 "), "{report}");
        assert!(!report.contains("entry 3 "), "{report}");
        let (ok, out) = verify_cli(&app, &[]);
        assert!(!ok && out.contains("entry 4 "), "{out}");
    }
}

#[actix_web::test]
async fn entries_cut_from_the_end_are_caught_with_the_head_file() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    for i in 0..10 {
        app.post(
            "/api/v1/sites",
            &net.admin,
            json!({"code": format!("C{i}"), "name": format!("点{i}"), "kind": "dispensary"}),
        )
        .await;
    }
    app.write_head_file().await;
    let head = std::fs::read_to_string(app.db.head_file()).unwrap();
    let last = audit_q::head(&mut app.conn()).unwrap();
    assert!(head.contains(&format!("seq {}", last.seq)) && head.contains(&last.hash), "{head}");

    // Cut the last 10 entries and move the head back to the entry before them.
    app.tampering();
    let keep = last.seq - 10;
    let kept = audit_q::page_in_order(&mut app.conn(), keep - 1, 1).unwrap().remove(0);
    app.conn().batch_execute(disable_append_only_guard(&app)).unwrap();
    app.conn()
        .batch_execute(&format!(
            "DELETE FROM audit_log WHERE seq > {keep}; UPDATE audit_head SET seq = {keep}, hash = '{}' WHERE id = 1;",
            kept.hash
        ))
        .unwrap();
    app.conn().batch_execute(restore_append_only_guard(&app)).unwrap();

    // In itself the shorter chain is consistent: only the head kept outside shows the cut.
    let mut conn = app.conn();
    let alone = mmt_clinic::services::audit::verify(&mut conn, app.state.audit.key(), None).unwrap();
    assert!(alone.is_intact(), "{alone}");
    drop(conn);
    let report = broken(&app).to_string();
    let expected =
        format!("the head recorded outside the database is entry {}, but the chain ends at entry {keep}", last.seq);
    assert!(report.contains(&expected), "{report}");

    // The command line uses the head file by default, or the one given.
    let (ok, out) = verify_cli(&app, &[]);
    assert!(!ok && out.contains(&expected), "{out}");
    let paper = app.db.head_file().with_file_name("from-register.txt");
    std::fs::write(&paper, format!("审计链 #{} {}\n", last.seq, &last.hash[..12])).unwrap();
    let (ok, out) = verify_cli(&app, &["--head", paper.to_str().unwrap()]);
    assert!(!ok && out.contains(&expected), "{out}");
}

#[actix_web::test]
async fn a_head_file_of_another_chain_does_not_match() {
    let app = TestApp::new().await;
    network(&app).await;
    app.write_head_file().await;
    let (ok, out) = verify_cli(&app, &[]);
    assert!(ok && out.contains("matches the head recorded outside the database"), "{out}");
    // A chain whose entry at the recorded head is another one (as after a rewrite by someone
    // holding the key, or a database swapped for another) does not match.
    let head = audit_q::head(&mut app.conn()).unwrap();
    let other = mmt_clinic::domain::audit::HeadRecord { seq: head.seq, mac: "0".repeat(64), keyed_from: None };
    let report = mmt_clinic::services::audit::verify(&mut app.conn(), app.state.audit.key(), Some(&other)).unwrap();
    let expected = format!("entry {} is not the entry recorded outside the database", head.seq);
    assert!(report.to_string().contains(&expected), "{report}");
    // A moved start of the keyed chain does not match either.
    let moved = mmt_clinic::domain::audit::HeadRecord { keyed_from: Some(head.keyed_from + 1), ..head.record() };
    let report = mmt_clinic::services::audit::verify(&mut app.conn(), app.state.audit.key(), Some(&moved)).unwrap();
    assert!(report.to_string().contains("the keyed chain starts at entry 1 in the database"), "{report}");
}

#[actix_web::test]
async fn the_register_carries_the_chains_head() {
    let c = Clinic::new().await;
    let p = c.patient_on("王五", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let head = audit_q::head(&mut c.app.conn()).unwrap();
    let pdf = c
        .app
        .get(&format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date={}", c.ls, c.today()), &c.nurse)
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let text = pdf_text(&pdf.body);
    let line = format!("审计链 #{} {}", head.seq, &head.hash[..12]);
    assert!(text.contains(&line), "{line:?} missing from:\n{text}");
}

fn pdf_text(pdf: &[u8]) -> String {
    ensure_debian_packages(&[("/usr/bin/pdftotext", "poppler-utils")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext").arg(&path).arg("-").output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------
// Start-up: the triggers must be there
// ---------------------------------------------------------------------------------------

#[actix_web::test]
async fn the_service_refuses_to_start_when_an_append_only_trigger_is_missing() {
    let app = TestApp::new().await;
    network(&app).await;
    app.tampering();
    let (drop_it, trigger) = if app.db.is_postgres() {
        ("DROP TRIGGER doses_append_only ON doses", "doses_append_only")
    } else {
        ("DROP TRIGGER doses_no_replace", "doses_no_replace")
    };
    app.conn().batch_execute(drop_it).unwrap();

    let err = AppState::start(config_for(&app.db, &Options::default())).await.err().expect("refused");
    assert!(err.to_string().contains(&format!("the append-only trigger {trigger} of table doses is missing")), "{err}");

    // One clear line from the command line, naming the table.
    let out = app.db.cli().arg("migrate").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("refusing to start") && stderr.contains("table doses"), "{stderr}");

    // verify-audit still runs, and reports it.
    let (ok, out) = verify_cli(&app, &[]);
    assert!(!ok && out.contains(&format!("{trigger} of table doses is missing")), "{out}");
}

#[actix_web::test]
async fn the_service_refuses_to_start_when_an_append_only_trigger_is_disabled() {
    let app = TestApp::new().await;
    app.tampering();
    let disable = if app.db.is_postgres() {
        "ALTER TABLE audit_rows DISABLE TRIGGER audit_rows_append_only"
    } else {
        // SQLite cannot disable a trigger; a body that no longer refuses is the same.
        "DROP TRIGGER audit_rows_no_delete; CREATE TRIGGER audit_rows_no_delete BEFORE DELETE ON audit_rows BEGIN SELECT 1; END;"
    };
    app.conn().batch_execute(disable).unwrap();
    let err = AppState::start(config_for(&app.db, &Options::default())).await.err().expect("refused");
    assert!(err.to_string().contains("of table audit_rows is disabled"), "{err}");
}

#[actix_web::test]
async fn the_service_refuses_to_continue_the_chain_under_another_key() {
    let app = TestApp::new().await;
    network(&app).await;
    let other_key = "another audit key, at least 32 characters".to_string();
    let opts = Options { extra: vec![("MMT_AUDIT_KEY", other_key.clone())], ..Options::default() };
    let err = AppState::start(config_for(&app.db, &opts)).await.err().expect("refused");
    assert!(err.to_string().contains("MMT_AUDIT_KEY is not the key"), "{err}");
    let (ok, out) = {
        let out = app.db.cli().arg("verify-audit").env("MMT_AUDIT_KEY", &other_key).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert!(!ok && out.contains("the audit key in use is not the key this chain was written with"), "{out}");
}

// ---------------------------------------------------------------------------------------
// Completeness: every append-only table, every column
// ---------------------------------------------------------------------------------------

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The tables the database itself treats as append-only (they have the trigger that
/// refuses DELETE).
fn tables_with_delete_triggers(app: &TestApp) -> Vec<String> {
    use diesel::RunQueryDsl;
    let mut conn = app.conn();
    let names: Vec<Name> = match &mut *conn {
        db::DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT tbl_name AS name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%no_delete'",
        )
        .load(c)
        .unwrap(),
        #[cfg(feature = "postgres")]
        db::DbConn::Postgres(c) => diesel::sql_query(
            "SELECT DISTINCT c.relname::text AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND t.tgname LIKE '%append_only'",
        )
        .load(c)
        .unwrap(),
    };
    let mut names: Vec<String> = names.into_iter().map(|n| n.name).collect();
    names.sort();
    names
}

#[actix_web::test]
async fn every_append_only_table_is_recorded_with_every_column() {
    let app = TestApp::new().await;
    let mut listed: Vec<String> = guarded_tables().into_iter().map(str::to_string).collect();
    listed.sort();
    assert_eq!(tables_with_delete_triggers(&app), listed, "an append-only table is missing from db::append_only");
    for table in TABLES {
        let mut in_db = table_columns(&mut app.conn(), table.name).unwrap();
        in_db.sort();
        let mut in_form: Vec<String> = table.columns.iter().map(|c| c.to_string()).collect();
        in_form.sort();
        assert_eq!(in_form, in_db, "the canonical form of {} must cover all its columns", table.name);
    }
}

// ---------------------------------------------------------------------------------------
// Upgrade from the previous schema
// ---------------------------------------------------------------------------------------

/// Turns the database back into one written by the previous version: the chain rewritten
/// as the unkeyed sha256 links it had then, and the audit_digests migration reverted.
fn downgrade(app: &TestApp) {
    let mut conn = app.conn();
    let entries = audit_q::page_in_order(&mut conn, 0, 100_000).unwrap();
    conn.batch_execute(disable_append_only_guard(app)).unwrap();
    let mut prev = mmt_clinic::domain::audit::GENESIS_HASH.to_string();
    let mut sql = String::new();
    for e in &entries {
        let hash = chain_hash(&prev, &e.to_stored().fields());
        sql.push_str(&format!("UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {};", e.seq));
        prev = hash;
    }
    sql.push_str(&format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1;"));
    sql.push_str(restore_append_only_guard(app));
    conn.batch_execute(&sql).unwrap();
    revert_audit_digests(&mut conn);
}

/// Reverts the audit_digests migration and the ones after it; returns how many.
fn revert_audit_digests(conn: &mut db::PooledConn) -> usize {
    let mut reverted = 0;
    loop {
        let version = db::revert_last_migration(conn).unwrap();
        reverted += 1;
        if version == "20261130000001" {
            return reverted;
        }
        assert!(version.as_str() > "20261130000001", "went past the audit_digests migration: {version}");
    }
}

#[actix_web::test]
async fn a_database_of_the_previous_version_is_upgraded_and_sealed() {
    let (c, dose, _) = {
        let c = Clinic::new().await;
        let mut ids = Vec::new();
        for (i, name) in ["张三", "李四"].iter().enumerate() {
            let p = c.patient_on(name, i as u32 + 1, 30.0).await;
            ids.push(c.give(&c.nurse, &p, &c.ls, 30.0).await.json()["id"].as_str().unwrap().to_string());
        }
        (c, ids.remove(0), ids.remove(0))
    };
    downgrade(&c.app);
    let old_head = {
        let mut conn = c.app.conn();
        let page = audit_q::page_in_order(&mut conn, 0, 1);
        assert!(page.is_err(), "the previous schema has no version column");
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Seq {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            seq: i64,
        }
        diesel::sql_query("SELECT seq FROM audit_head").get_result::<Seq>(&mut *conn).unwrap().seq
    };

    // verify-audit alone writes nothing to the chain: it says the rows are not sealed yet.
    let (ok, out) = verify_cli(&c.app, &[]);
    assert!(!ok && out.contains("rows written before the upgrade are not sealed into the chain yet"), "{out}");

    // The new version starts on it: the migration runs again, the existing rows are sealed.
    let state = AppState::start(config_for(&c.app.db, &Options::default())).await.expect("upgrade");
    let head = audit_q::head(&mut state.pool.get().unwrap()).unwrap();
    assert_eq!(head.keyed_from, old_head + 1, "keyed from the first entry after the upgrade");
    assert!(head.seq > old_head, "the seal entries");
    let report = c.app.verify_audit();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.entries as i64, head.seq);
    assert!(report.rows >= 6, "{report}");

    // The service goes on writing keyed entries.
    let p = c.patient_on("王五", 3, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    assert!(c.app.verify_audit().is_intact());

    // A dose of before the upgrade, changed now, is named.
    c.app.tampering();
    let tamper = if c.app.db.is_postgres() {
        format!(
            "SET session_replication_role = replica; UPDATE doses SET deci_mg = 10 WHERE id = '{dose}'; \
             SET session_replication_role = DEFAULT;"
        )
    } else {
        format!("DROP TRIGGER doses_no_update; UPDATE doses SET deci_mg = 10 WHERE id = '{dose}';")
    };
    c.app.conn().batch_execute(&tamper).unwrap();
    let report = broken(&c.app).to_string();
    assert!(report.contains(&format!("doses row {dose} was changed after audit entry")), "{report}");
    // And an edit of an unkeyed entry of before the upgrade breaks the chain there.
    c.app.conn().batch_execute(disable_append_only_guard(&c.app)).unwrap();
    c.app.conn().batch_execute("UPDATE audit_log SET summary = 'nothing' WHERE seq = 2").unwrap();
    assert!(broken(&c.app).to_string().contains("entry 2 was altered"));
}

/// A migration that fails leaves the database as it was: the newest migration meets a
/// table in its way half-way through (after its ALTERs), the service refuses to start
/// naming it, the ALTERs are rolled back, the migration is not recorded, the data is all
/// there; once the obstacle is gone the upgrade goes through. On both backends.
#[actix_web::test]
async fn a_failed_migration_leaves_the_database_as_it_was() {
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    c.app.tampering(); // the chain of a reverted schema is not the current one's
    let mut conn = c.app.conn();
    // Back to before `audit_digests`, taking the migrations that came after it along.
    let reverted = revert_audit_digests(&mut conn);
    // What the migration creates after its ALTERs, already there.
    conn.batch_execute("CREATE TABLE audit_rows (obstacle INTEGER)").unwrap();
    let doses_before = count(&mut conn, "SELECT count(*) AS n FROM doses");

    let err = AppState::start(config_for(&c.app.db, &Options::default())).await.err().expect("the upgrade fails");
    assert!(err.to_string().contains("migration"), "{err}");
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM doses"), doses_before);
    let has_version = if c.app.db.is_postgres() {
        "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'audit_log' \
         AND column_name = 'version' AND table_schema = current_schema()"
    } else {
        "SELECT count(*) AS n FROM pragma_table_info('audit_log') WHERE name = 'version'"
    };
    assert_eq!(count(&mut conn, has_version), 0, "the migration's first ALTER was rolled back");
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM __diesel_schema_migrations WHERE version = '20261130000001'"),
        0,
        "the failed migration is not recorded"
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM audit_rows"), 0, "the obstacle is untouched");

    conn.batch_execute("DROP TABLE audit_rows").unwrap();
    assert_eq!(db::run_migrations(&mut conn).unwrap(), reverted);
    assert_eq!(count(&mut conn, has_version), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM doses"), doses_before);
}

fn count(conn: &mut db::PooledConn, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(&mut **conn).unwrap().n
}
