//! Backups that are proven: a backup taken by the command line while the service writes
//! doses, restored into a fresh place, serves every dose acknowledged before the backup
//! began, with an intact audit chain; scheduled backups rotate. PostgreSQL is backed up
//! with its own tools, wrapped in scripts/pg-backup: the same proof through it.

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use common::*;
use futures_util::future::join_all;

/// Forty patients on 30 mg at 柳市, the first fifteen dosed: (patients, (patient, dose id)
/// of each dose acknowledged before a backup begins).
async fn forty_patients_fifteen_dosed(c: &Clinic) -> (Vec<String>, Vec<(String, String)>) {
    let mut patients = Vec::new();
    for n in 0..40 {
        patients.push(c.patient_on(&format!("病人{n}"), n + 1, 30.0).await);
    }
    let mut before = Vec::new();
    for p in &patients[..15] {
        let r = c.give(&c.nurse, p, &c.ls, 30.0).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        before.push((p.clone(), r.json()["id"].as_str().unwrap().to_string()));
    }
    (patients, before)
}

#[actix_web::test]
async fn a_backup_under_write_load_restores_into_a_fresh_place_with_every_acknowledged_dose() {
    if std::env::var("TEST_DATABASE_URL").is_ok() && cfg!(feature = "postgres") {
        eprintln!("SQLite backups only: PostgreSQL is backed up by scripts/pg-backup (pg_dump)");
        return;
    }
    let c = Clinic::new().await;
    let (patients, before) = forty_patients_fifteen_dosed(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.sqlite3");
    // The backup runs in another process while this one keeps dosing.
    let mut backup = c.app.db.cli().args(["backup", "--to", copy.to_str().unwrap()]).spawn().unwrap();
    let mut during = 0;
    for pair in patients[15..].chunks(2) {
        if backup.try_wait().unwrap().is_some() {
            break;
        }
        for r in join_all(pair.iter().map(|p| c.give(&c.nurse, p, &c.ls, 30.0))).await {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            during += 1;
        }
    }
    assert!(during > 0, "no dose was written while the backup ran");
    let out = backup.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Restore into a fresh folder, then serve from there.
    let fresh = tempfile::tempdir().unwrap();
    let restored = fresh.path().join("data").join("restored.sqlite3");
    let url = format!("sqlite://{}", restored.display());
    let out =
        c.app.db.cli().args(["restore", "--from", copy.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("integrity ok, audit trail intact"), "{said}");
    let out = c.app.db.cli().arg("verify-audit").env("DATABASE_URL", &url).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("matches the head"), "{text}");

    let url_for_app = url.clone();
    let app =
        TestApp::with(Options { rewrite_url: Some(Box::new(move |_| url_for_app.clone())), ..Options::default() })
            .await;
    let doctor = app.login("dr.chen", PASSWORD).await;
    for (p, dose) in &before {
        let history = app.get(&format!("/api/v1/patients/{p}/doses"), &doctor).await.json();
        let ids: Vec<&str> = history.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [dose.as_str()], "{p}: the dose acknowledged before the backup began");
    }
    assert!(app.verify_audit().is_intact());

    // Restoring over a database moves it aside, never overwrites it; a copy that does not
    // verify is refused.
    let out =
        c.app.db.cli().args(["restore", "--from", copy.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let aside = std::fs::read_dir(restored.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains("before-restore-"));
    assert!(aside, "the replaced database was kept");
    std::fs::remove_file(dir.path().join("copy.sqlite3.audit-head")).unwrap();
    let out =
        c.app.db.cli().args(["restore", "--from", copy.to_str().unwrap()]).env("DATABASE_URL", &url).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit-head is missing"));
}

/// The same on PostgreSQL, through `scripts/pg-backup`: the head file copied, then pg_dump of
/// the service's schema while it writes; pg_restore into a fresh database and verify-audit
/// against that head; the service started there serves every dose acknowledged before.
#[cfg(feature = "postgres")]
#[actix_web::test]
async fn a_postgres_backup_under_write_load_restores_into_a_fresh_database_with_every_acknowledged_dose() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("PostgreSQL backups only (scripts/pg-backup): run with TEST_DATABASE_URL");
        return;
    };
    let c = Clinic::new().await;
    let (patients, before) = forty_patients_fifteen_dosed(&c).await;
    c.app.write_head_file().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-backup");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(script);
        cmd.args(args).env("MMT_CLINIC", env!("CARGO_BIN_EXE_mmt-clinic")).env("MMT_LOG", "error");
        cmd.envs(c.app.db.env());
        cmd
    };
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("mmt.dump");
    let dump = dump.to_str().unwrap();
    let mut backup = run(&["backup", &c.app.db.url, dump]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut during = 0;
    for pair in patients[15..].chunks(2) {
        if during > 0 && backup.try_wait().unwrap().is_some() {
            break;
        }
        for r in join_all(pair.iter().map(|p| c.give(&c.nurse, p, &c.ls, 30.0))).await {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            during += 1;
        }
    }
    let out = backup.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A fresh database, restored from the dump and verified against the head copied first.
    let fresh = format!("restore_{}", uuid::Uuid::now_v7().simple());
    let admin_conn = || {
        use diesel::Connection;
        diesel::PgConnection::establish(&base).unwrap()
    };
    {
        use diesel::connection::SimpleConnection;
        admin_conn().batch_execute(&format!("CREATE DATABASE {fresh}")).unwrap();
    }
    let schema = c.app.db.url.rsplit("search_path%3D").next().unwrap().to_string();
    let (server, _) = base.split_once('?').map_or((base.as_str(), ""), |(s, q)| (s, q));
    let restored = format!("{}/{fresh}?options=-csearch_path%3D{schema}", server.rsplit_once('/').unwrap().0);
    let out = run(&["restore", dump, &restored]).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("its audit trail verifies"), "{said}");

    let url = restored.clone();
    let app = TestApp::with(Options { rewrite_url: Some(Box::new(move |_| url.clone())), ..Options::default() }).await;
    let doctor = app.login("dr.chen", PASSWORD).await;
    for (p, dose) in &before {
        let history = app.get(&format!("/api/v1/patients/{p}/doses"), &doctor).await.json();
        let ids: Vec<&str> = history.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [dose.as_str()], "{p}: the dose acknowledged before the backup began");
    }
    assert!(app.verify_audit().is_intact());
    drop(app);
    {
        use diesel::connection::SimpleConnection;
        admin_conn().batch_execute(&format!("DROP DATABASE {fresh} WITH (FORCE)")).unwrap();
    }
}

#[actix_web::test]
async fn scheduled_backups_keep_the_newest_ones() {
    if std::env::var("TEST_DATABASE_URL").is_ok() && cfg!(feature = "postgres") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::with(Options {
        extra: vec![("MMT_BACKUP_KEEP", "2".into()), ("MMT_BACKUP_DIR", dir.path().display().to_string())],
        ..Options::default()
    })
    .await;
    for _ in 0..3 {
        mmt_clinic::services::backup::scheduled_backup(&app.state).await.unwrap();
        // Names carry the second they were taken.
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    let kept = mmt_clinic::services::backup::scheduled_backups(dir.path());
    assert_eq!(kept.len(), 2, "{kept:?}");
    for k in &kept {
        assert!(mmt_clinic::services::backup::suffixed(k, "audit-head").is_file());
    }
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 2 * 3, "each kept backup with its head and development key, the rest removed");
    assert!(mmt_clinic::services::backup::newest_backup_age(&app.state).unwrap() < 60.0);
}

/// A restore under a running service would take the database from under it: refused while
/// the service runs (and a second service on the same file refuses to start), done once it
/// has stopped.
#[actix_web::test]
async fn restore_waits_until_the_service_on_the_database_has_stopped() {
    if std::env::var("TEST_DATABASE_URL").is_ok() && cfg!(feature = "postgres") {
        eprintln!("SQLite only: PostgreSQL is restored into a fresh database by scripts/pg-backup");
        return;
    }
    let c = Clinic::new().await;
    let p = c.patient_on("张三", 1, 30.0).await;
    assert_eq!(c.give(&c.nurse, &p, &c.ls, 30.0).await.status, StatusCode::CREATED);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.sqlite3");
    let out = c.app.db.cli().args(["backup", "--to", copy.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let live = format!("sqlite://{}", dir.path().join("live.sqlite3").display());
    let port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let addr = port();
    let serve = |addr: std::net::SocketAddr| {
        let mut cmd = c.app.db.cli();
        cmd.arg("serve").env("DATABASE_URL", &live).env("MMT_BIND", addr.to_string());
        cmd.stderr(std::process::Stdio::piped());
        cmd
    };
    let mut service = serve(addr).spawn().unwrap();
    let listening = (0..300).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(addr).is_ok()
    });
    assert!(listening, "the service did not start");

    let restore = || {
        c.app.db.cli().args(["restore", "--from", copy.to_str().unwrap()]).env("DATABASE_URL", &live).output().unwrap()
    };
    let refused = restore();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "restored under a running service");
    assert!(said.contains("stop it first"), "{said}");
    let second = serve(port()).output().unwrap();
    assert!(!second.status.success(), "a second service started on the same database");
    assert!(String::from_utf8_lossy(&second.stderr).contains("a running mmt-clinic serves"));

    service.kill().unwrap();
    service.wait().unwrap();
    let done = restore();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stdout).contains("integrity ok"));
}
