//! Health, OpenAPI, the UI shell being served, and the command line.

mod common;

use std::process::Command;

use actix_web::http::{Method, StatusCode};
use common::*;
use serde_json::Value;

#[actix_web::test]
async fn healthz_names_the_database() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let expected = if app.db.is_postgres() { "postgres" } else { "sqlite" };
    assert_eq!(r.json(), serde_json::json!({"status": "ok", "database": expected}));
}

#[actix_web::test]
async fn healthz_is_503_when_the_database_does_not_answer() {
    let app = TestApp::with(Options { pool_size: 1, ..Options::default() }).await;
    // Hold the only connection: the database cannot answer the health check.
    let held = app.conn();
    let r = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["status"], "unavailable");
    drop(held);
    assert_eq!(app.request(Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
}

/// Every endpoint the service routes is in the OpenAPI document, with its bodies and the
/// error codes it answers.
#[actix_web::test]
async fn the_openapi_document_describes_every_endpoint() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc: Value = r.json();
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/me"),
        ("get", "/api/v1/rules"),
        ("get", "/api/v1/clock"),
        ("put", "/api/v1/admin/clock"),
        ("post", "/api/v1/sites"),
        ("get", "/api/v1/sites"),
        ("patch", "/api/v1/sites/{id}"),
        ("post", "/api/v1/staff"),
        ("get", "/api/v1/staff"),
        ("get", "/api/v1/staff/{id}"),
        ("patch", "/api/v1/staff/{id}"),
        ("get", "/api/v1/audit"),
        ("post", "/api/v1/patients"),
        ("get", "/api/v1/patients"),
        ("get", "/api/v1/patients/{id}"),
        ("post", "/api/v1/patients/{id}/status"),
        ("put", "/api/v1/patients/{id}/photo"),
        ("get", "/api/v1/patients/{id}/photo"),
        ("post", "/api/v1/patients/{id}/guest-dosing"),
        ("post", "/api/v1/patients/{id}/guest-dosing/{aid}/release"),
        ("post", "/api/v1/patients/{id}/absences"),
        ("post", "/api/v1/patients/{id}/orders"),
        ("get", "/api/v1/patients/{id}/orders"),
        ("get", "/api/v1/orders/pending"),
        ("post", "/api/v1/orders/{id}/approve"),
        ("post", "/api/v1/patients/{id}/reviews"),
        ("get", "/api/v1/reviews/needed"),
        ("post", "/api/v1/patients/{id}/ecgs"),
        ("get", "/api/v1/patients/{id}/ecgs"),
        ("get", "/api/v1/patients/{id}/dispensing"),
        ("post", "/api/v1/doses"),
        ("post", "/api/v1/doses/{id}/reversal"),
        ("post", "/api/v1/doses/{id}/reversal/confirm"),
        ("post", "/api/v1/doses/{id}/late-correction"),
        ("post", "/api/v1/doses/{id}/late-correction/confirm"),
        ("get", "/api/v1/late-corrections/pending"),
        ("get", "/api/v1/offline-incidents"),
        ("get", "/api/v1/patients/{id}/doses"),
        ("get", "/api/v1/patients/{id}/attendance"),
        ("get", "/api/v1/sites/{id}/queue"),
        ("get", "/api/v1/sites/{id}/day-sheet"),
        ("get", "/api/v1/alerts"),
        ("post", "/api/v1/alerts/{id}/acknowledge"),
        ("post", "/api/v1/alerts/{id}/resolve"),
        ("post", "/api/v1/alerts/sweep"),
        ("post", "/api/v1/patients/{id}/tests"),
        ("get", "/api/v1/patients/{id}/tests"),
        ("post", "/api/v1/tests/{id}/result"),
        ("get", "/api/v1/tests/due"),
        ("post", "/api/v1/tests/urine-selections"),
        ("get", "/api/v1/tests/urine-selections"),
        ("post", "/api/v1/tests/{id}/police-notification"),
        ("get", "/api/v1/police-notifications/outstanding"),
        ("post", "/api/v1/rehab-cases"),
        ("get", "/api/v1/rehab-cases"),
        ("post", "/api/v1/rehab-cases/{id}/events"),
        ("post", "/api/v1/rehab-cases/import"),
        ("get", "/api/v1/rehab/export"),
        ("get", "/api/v1/disclosures"),
        ("get", "/api/v1/reports/dispensing-register.pdf"),
        ("get", "/api/v1/reports/patient-card.pdf"),
        ("get", "/api/v1/reports/patient-cards.pdf"),
        ("get", "/api/v1/reports/dose-history.pdf"),
        ("get", "/api/v1/reports/rehab-attendance.pdf"),
        ("get", "/api/v1/reports/rehab-attendance.csv"),
        ("get", "/api/v1/reports/monthly.pdf"),
        ("get", "/api/v1/reports/stock-ledger.pdf"),
        ("get", "/api/v1/reports/home-visit-log.pdf"),
        ("post", "/api/v1/patients/{id}/home-visit-authorizations"),
        ("get", "/api/v1/patients/{id}/home-visit-authorizations"),
        ("post", "/api/v1/home-visit-schedules"),
        ("post", "/api/v1/home-visit-schedules/{id}/end"),
        ("get", "/api/v1/patients/{id}/home-visit-schedules"),
        ("get", "/api/v1/sites/{id}/home-visits"),
        ("post", "/api/v1/home-visits/{id}/checkout"),
        ("post", "/api/v1/home-visits/{id}/checkout/confirm"),
        ("post", "/api/v1/home-visits/{id}/arrive"),
        ("post", "/api/v1/home-visits/{id}/outcome"),
        ("post", "/api/v1/home-visits/{id}/return"),
        ("post", "/api/v1/home-visits/{id}/return/confirm"),
        ("get", "/api/v1/products"),
        ("post", "/api/v1/products"),
        ("get", "/api/v1/site-products"),
        ("post", "/api/v1/sites/{id}/product"),
        ("post", "/api/v1/stock/entries"),
        ("post", "/api/v1/stock/entries/{id}/confirm"),
        ("get", "/api/v1/sites/{id}/stock"),
        ("get", "/api/v1/sites/{id}/stock/ledger"),
        ("post", "/api/v1/sites/{id}/day-close"),
        ("post", "/api/v1/sites/{id}/day-close/{cid}/confirm"),
    ];
    // Writes whose body is optional or absent.
    let no_body = [
        "/api/v1/auth/logout",
        "/api/v1/orders/{id}/approve",
        "/api/v1/doses/{id}/reversal/confirm",
        "/api/v1/doses/{id}/late-correction/confirm",
        "/api/v1/alerts/sweep",
        "/api/v1/home-visits/{id}/checkout/confirm",
        "/api/v1/home-visits/{id}/arrive",
        "/api/v1/home-visits/{id}/return",
        "/api/v1/home-visits/{id}/return/confirm",
        "/api/v1/stock/entries/{id}/confirm",
        "/api/v1/sites/{id}/day-close/{cid}/confirm",
        "/api/v1/patients/{id}/guest-dosing/{aid}/release",
    ];
    for (method, path) in expected {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} not documented"))[method];
        assert!(op.is_object(), "{method} {path} not documented");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path} has no success response");
        for (status, resp) in responses {
            // /healthz answers 503 with its own Health body, as API.md says.
            if (status.starts_with('4') || status.starts_with('5')) && path != "/healthz" {
                let schema = &resp["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
                assert!(resp["description"].as_str().unwrap().contains('`'), "{method} {path} {status} names no code");
            }
        }
        if method == "post" || method == "patch" || method == "put" {
            let needs_body = !no_body.contains(&path);
            assert_eq!(op["requestBody"].is_object(), needs_body, "{method} {path} request body");
        }
    }
    let total: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(total, expected.len(), "an endpoint is documented that this test does not know: update the list");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[actix_web::test]
async fn the_interactive_docs_are_served_by_the_binary() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/api/docs", None, None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    let r = app.request(Method::GET, "/api/docs/", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("swagger"), "{}", r.text());
    let r = app.request(Method::GET, "/api/docs/swagger-ui-bundle.js", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "Swagger UI's script must be served offline");
}

#[actix_web::test]
async fn the_ui_shell_is_served_at_the_root() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(r.text().contains("/js/app.js"));
    assert!(r.headers.get("content-security-policy").is_some());
    let js = app.request(Method::GET, "/js/app.js", None, None).await;
    assert_eq!(js.status, StatusCode::OK);
    let ct = js.headers.get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(ct.contains("javascript"), "{ct}");
    let zh = app.request(Method::GET, "/i18n/zh-CN.js", None, None).await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.text().contains("美沙酮"));
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mmt-clinic"));
    c.env("MMT_LOG", "error");
    c
}

#[test]
fn help_lists_every_command() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "create-user", "demo", "verify-audit", "backup"] {
        assert!(text.contains(cmd), "{cmd} missing from --help:\n{text}");
    }
    let out = bin().args(["create-user", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--role") && text.contains("Example"), "{text}");
}

#[test]
fn production_refuses_to_start_without_a_jwt_secret_in_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("migrate")
        .env("MMT_ENV", "production")
        .env_remove("MMT_JWT_SECRET")
        .env("DATABASE_URL", format!("sqlite://{}/x.sqlite3", dir.path().display()))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("MMT_JWT_SECRET is required"), "{err}");
}

#[test]
fn migrate_creates_the_default_database_folder_and_create_user_and_demo_work() {
    let dir = tempfile::tempdir().unwrap();
    // The default DATABASE_URL, relative to the working directory.
    let out = bin().arg("migrate").env_remove("DATABASE_URL").current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("data/mmt-clinic.sqlite3").is_file());

    let out = bin().arg("demo").env_remove("DATABASE_URL").current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "乐清市美沙酮门诊部",
        "柳市服药点",
        "虹桥服药点",
        "白石服药点",
        "芙蓉服药点",
        "nurse.li",
        "dr.chen",
        "sg.zhang",
        "sg.chen",
        "sg.shi",
        "admin",
        "community detox/rehab cases",
        "alerts opened",
    ] {
        assert!(text.contains(expected), "{expected} missing from demo output:\n{text}");
    }

    let mut child = bin()
        .args(["create-user", "--username", "nurse.new", "--display-name", "新护士", "--role", "nurse", "--site", "LS"])
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"a-good-password-1\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created nurse.new (nurse)"));

    // A second demo run leaves the data alone.
    let out = bin().arg("demo").env_remove("DATABASE_URL").current_dir(dir.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("already has data"));

    // A backup into a folder that does not exist says so in one line.
    let nowhere = dir.path().join("no-such-folder").join("backup.sqlite3");
    let out = bin()
        .args(["backup", "--to", nowhere.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    assert!(said.contains("no-such-folder") && said.contains("does not exist"), "{said}");

    // Backup makes a copy that verifies.
    let copy = dir.path().join("backup.sqlite3");
    let out = bin()
        .args(["backup", "--to", copy.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(copy.with_extension("sqlite3.audit-head").is_file(), "the copy's own head file");
    let out = bin().arg("verify-audit").env("DATABASE_URL", format!("sqlite://{}", copy.display())).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("matches the head recorded outside the database"), "{text}");
    // The demo's rows were all recorded, in the service's data folder too.
    let out = bin().arg("verify-audit").env_remove("DATABASE_URL").current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("matches the head"), "{text}");
}

fn raw_http(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return String::new() };
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// SIGTERM stops the service cleanly, and requests already in flight still get their answer.
#[test]
fn sigterm_finishes_in_flight_requests_then_exits_cleanly() {
    let db = TestDb::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = db
        .cli()
        .arg("serve")
        .env("MMT_BIND", format!("127.0.0.1:{port}"))
        .env("MMT_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("MMT_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !raw_http(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").contains("200 OK") {
        assert!(std::time::Instant::now() < deadline, "service did not come up");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The audit chain's head reaches its file while serving (the start-up writes: the first
    // admin, the sweep), within about a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !db.head_file().exists() {
        assert!(std::time::Instant::now() < deadline, "no audit head file while serving");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Six logins: with at most two password hashes at a time they take a while.
    let body = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let in_flight: Vec<_> = (0..6)
        .map(|_| {
            let request = request.clone();
            std::thread::spawn(move || raw_http(port, &request))
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(30));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    for t in in_flight {
        let reply = t.join().unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "an in-flight request was cut off: {reply:?}");
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut log = String::new();
    use std::io::Read;
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("stopped"), "{log}");
    // The attendance/alert sweep ran at start-up.
    let sweep = log.lines().find(|l| l.contains("attendance sweep done")).unwrap_or_else(|| panic!("no sweep: {log}"));
    assert!(sweep.contains("startup"), "{sweep}");
    // At shutdown the audit chain's head was written outside the database, and it matches.
    let out = db.cli().arg("verify-audit").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("matches the head recorded outside the database"), "{text}");
}

/// `/metrics`: Prometheus text for this machine or an admin; never patient data.
#[actix_web::test]
async fn metrics_are_served_to_this_machine_and_to_admins() {
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let net = network(&app).await;
    let nurse = app.login("nurse.li", PASSWORD).await;
    assert_eq!(app.get("/api/v1/sites", &nurse).await.status, StatusCode::OK);
    let sweep = app.request(Method::POST, "/api/v1/alerts/sweep", Some(&net.admin), None).await;
    assert_eq!(sweep.status, StatusCode::OK, "{}", sweep.text());
    let r = app.get("/metrics", &net.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let page = r.text();
    for expected in [
        "mmt_http_requests_total{method=\"GET\",route=\"/api/v1/sites\",status=\"200\"} 1",
        "mmt_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/sites\",le=\"+Inf\"} 1",
        "mmt_db_pool_max_connections 8",
        "mmt_audit_chain_length ",
        "mmt_sweep_last_success_timestamp_seconds ",
    ] {
        assert!(page.contains(expected), "{expected} missing:\n{page}");
    }
    assert_eq!(app.get("/metrics", &nurse).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.request(Method::GET, "/metrics", None, None).await.status, StatusCode::UNAUTHORIZED);
    let local = || TestRequest::get().uri("/metrics").peer_addr("127.0.0.1:40000".parse().unwrap());
    assert_eq!(app.send(local()).await.status, StatusCode::OK);
    // Through the reverse proxy on the same machine it is not "this machine".
    let proxied = app.send(local().insert_header(("X-Forwarded-For", "203.0.113.9"))).await;
    assert_eq!(proxied.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn json_logs_are_one_json_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("migrate")
        .env("MMT_LOG", "info")
        .env("MMT_LOG_FORMAT", "json")
        .env("DATABASE_URL", format!("sqlite://{}/x.sqlite3", dir.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = log.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
}
