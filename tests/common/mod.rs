//! Test harness: a fresh, isolated database per test (a temporary SQLite file, or — with
//! `--features postgres` and `TEST_DATABASE_URL` — a PostgreSQL schema of its own, dropped
//! afterwards), the real application, and small helpers to call it as a client would.

#![allow(dead_code)]

use std::collections::HashMap;
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use mmt_clinic::config::Config;
use mmt_clinic::services::AppState;

pub const ADMIN_PASSWORD: &str = "admin-pass-2026";
pub const PASSWORD: &str = "staff-pass-2026";

pub use mmt_clinic::test_support::ensure_debian_packages;

/// The text of a PDF as `pdftotext -layout` reads it back (Debian poppler-utils).
pub fn pdf_text(bytes: &[u8]) -> String {
    ensure_debian_packages(&[("/usr/bin/pdftotext", "poppler-utils")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .unwrap_or_else(|e| panic!("pdftotext (Debian poppler-utils) is needed for this test: {e}"));
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PDF's page size in mm and page count, as `pdfinfo` reads them.
pub fn pdf_pages_and_size(bytes: &[u8]) -> (usize, f64, f64) {
    ensure_debian_packages(&[("/usr/bin/pdfinfo", "poppler-utils")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdfinfo").arg(&path).output().expect("pdfinfo");
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    let field =
        |name: &str| info.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}: {info}")).to_string();
    let pages: usize = field("Pages:").split_whitespace().nth(1).unwrap().parse().unwrap();
    // "Page size:      242.646 x 153.071 pts"
    let size = field("Page size:");
    let words: Vec<&str> = size.split_whitespace().collect();
    let pt = |s: &str| s.parse::<f64>().unwrap() * 25.4 / 72.0;
    (pages, pt(words[2]), pt(words[4]))
}

/// What the barcodes on the first page of a PDF decode to, rendered at 300 dpi
/// (`pdftoppm` from poppler-utils, `zbarimg` from zbar-tools): "CODE-128:…", "QR-Code:…".
pub fn pdf_barcodes(bytes: &[u8]) -> Vec<String> {
    ensure_debian_packages(&[("/usr/bin/pdftoppm", "poppler-utils"), ("/usr/bin/zbarimg", "zbar-tools")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    let prefix = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-f",
            "1",
            "-l",
            "1",
            "-png",
            "-singlefile",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ])
        .status()
        .expect("pdftoppm");
    assert!(status.success());
    let png = dir.path().join("page.png");
    if let Ok(keep) = std::env::var("MMT_SCREENSHOTS") {
        let _ = std::fs::copy(&png, format!("{keep}/card-page.png"));
    }
    let out = std::process::Command::new("zbarimg").args(["--quiet", png.to_str().unwrap()]).output().expect("zbarimg");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

/// Warnings and errors (with the causes of internal errors) go to the test's captured
/// output, shown when a test fails.
pub fn init_test_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_test_writer()
        .try_init();
}

/// Where a test's data lives; removed when dropped. On PostgreSQL the audit key is given
/// (`MMT_AUDIT_KEY`) and the audit head file lives in a folder of the test's own; on SQLite
/// both are the development defaults beside the database file.
pub struct TestDb {
    pub url: String,
    #[cfg(feature = "postgres")]
    pg: Option<(String, String)>,
    dir: tempfile::TempDir,
}

/// The audit key of PostgreSQL tests.
pub const PG_AUDIT_KEY: &str = "test-audit-key-of-at-least-32-characters";

impl TestDb {
    pub fn new() -> TestDb {
        #[cfg(feature = "postgres")]
        if let Ok(base) = std::env::var("TEST_DATABASE_URL") {
            return TestDb::postgres(base);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("test.sqlite3");
        TestDb {
            url: format!("sqlite://{}", path.display()),
            #[cfg(feature = "postgres")]
            pg: None,
            dir,
        }
    }

    #[cfg(feature = "postgres")]
    fn postgres(base: String) -> TestDb {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = diesel::PgConnection::establish(&base).expect("TEST_DATABASE_URL must reach PostgreSQL");
        conn.batch_execute(&format!("CREATE SCHEMA {schema}")).expect("create schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        TestDb {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
            pg: Some((base, schema)),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// Where the service writes the audit chain's head.
    pub fn head_file(&self) -> std::path::PathBuf {
        if self.is_postgres() {
            self.dir.path().join("audit-head")
        } else {
            self.dir.path().join("test.sqlite3.audit-head")
        }
    }

    /// The settings that reach this database and its audit key (for the service and for
    /// the command line).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![("DATABASE_URL", self.url.clone())];
        if self.is_postgres() {
            vars.push(("MMT_AUDIT_KEY", PG_AUDIT_KEY.to_string()));
            vars.push(("MMT_AUDIT_HEAD_FILE", self.head_file().display().to_string()));
        }
        vars
    }

    /// The `mmt-clinic` command line, set up for this database.
    pub fn cli(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mmt-clinic"));
        c.env("MMT_LOG", "error").env_remove("MMT_AUDIT_KEY").env_remove("MMT_AUDIT_HEAD_FILE");
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        #[cfg(feature = "postgres")]
        if let Some((base, schema)) = &self.pg {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            if let Ok(mut conn) = diesel::PgConnection::establish(base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// An answer, as a client sees it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!("expected a JSON body, got {:?} ({})", String::from_utf8_lossy(&self.body), self.status)
        })
    }

    /// The stable error code of an error reply.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
    }

    /// The error code, or "" for an answer that is not a JSON error.
    pub fn code_or_empty(&self) -> String {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

type Caller = Box<dyn Fn(actix_http::Request) -> LocalBoxFuture<'static, Reply>>;

pub struct TestApp {
    pub state: AppState,
    call: Caller,
    /// Set by tests that tamper with the database on purpose.
    tampered: std::cell::Cell<bool>,
    /// Last, so the database outlives every connection to it.
    pub db: TestDb,
}

/// Every test's writes must leave a trail that verifies: each append-only row recorded by
/// the entry of its transaction, every link intact. So a write path that forgets to record
/// its rows fails whichever test exercises it.
impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() || self.tampered.get() {
            return;
        }
        let report = self.verify_audit();
        assert!(report.is_intact(), "the test left an audit trail that does not verify:\n{report}");
    }
}

/// Turns the test database's URL into the one the service is given.
pub type UrlRewrite = Box<dyn Fn(&str) -> String>;

pub struct Options {
    pub test_clock: bool,
    pub pool_size: u32,
    pub extra: Vec<(&'static str, String)>,
    /// Reach the test's database by another URL (through a proxy): the test's URL in, the
    /// URL the service uses out.
    pub rewrite_url: Option<UrlRewrite>,
}

impl Default for Options {
    fn default() -> Self {
        Options { test_clock: true, pool_size: 8, extra: Vec::new(), rewrite_url: None }
    }
}

pub fn config_for(db: &TestDb, opts: &Options) -> Config {
    let mut vars: HashMap<&str, String> = HashMap::new();
    for (k, v) in db.env() {
        vars.insert(k, v);
    }
    if let Some(rewrite) = &opts.rewrite_url {
        vars.insert("DATABASE_URL", rewrite(&db.url));
    }
    vars.insert("MMT_JWT_SECRET", "test-secret-of-at-least-32-characters!".into());
    vars.insert("MMT_ADMIN_PASSWORD", ADMIN_PASSWORD.into());
    vars.insert("MMT_POOL_SIZE", opts.pool_size.to_string());
    // Tests call as fast as they can, as one user: the per-user rate limit is tested on
    // its own (tests/limits.rs).
    vars.insert("MMT_RATE_LIMIT", "0".into());
    if opts.test_clock {
        vars.insert("MMT_TEST_CLOCK", "1".into());
    }
    for (k, v) in &opts.extra {
        vars.insert(k, v.clone());
    }
    Config::from_vars(|k| vars.get(k).cloned()).expect("test config")
}

pub async fn wrap_service<S, B>(svc: S) -> Caller
where
    S: actix_web::dev::Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    let svc = Rc::new(svc);
    Box::new(move |req| {
        let svc = svc.clone();
        Box::pin(async move {
            match test::try_call_service(&*svc, req).await {
                Ok(res) => {
                    let status = res.status();
                    let headers = res.headers().clone();
                    let body = test::read_body(res).await.to_vec();
                    Reply { status, headers, body }
                }
                Err(e) => {
                    let res = e.error_response();
                    let status = res.status();
                    let headers = res.headers().clone();
                    let body = actix_web::body::to_bytes(res.into_body()).await.map(|b| b.to_vec()).unwrap_or_default();
                    Reply { status, headers, body }
                }
            }
        })
    })
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with(Options::default()).await
    }

    pub async fn with(opts: Options) -> TestApp {
        init_test_logging();
        let db = TestDb::new();
        let state = AppState::start(config_for(&db, &opts)).await.expect("app state");
        let svc = test::init_service(mmt_clinic::app(state.clone())).await;
        let call = wrap_service(svc).await;
        TestApp { state, db, call, tampered: std::cell::Cell::new(false) }
    }

    /// Verifies the audit trail as `verify-audit` does, with the head file if there is one.
    pub fn verify_audit(&self) -> mmt_clinic::services::audit::AuditReport {
        let head = self
            .state
            .audit
            .head_file()
            .filter(|p| p.exists())
            .map(|p| mmt_clinic::services::audit_chain::read_head_file(p).expect("readable head file"));
        let mut conn = self.conn();
        mmt_clinic::services::audit::verify(&mut conn, self.state.audit.key(), head.as_ref()).expect("verify")
    }

    /// This test tampers with the database: its trail is not expected to verify at the end.
    pub fn tampering(&self) {
        self.tampered.set(true);
    }

    /// Writes the audit chain's head file now, as the service does after commits.
    pub async fn write_head_file(&self) {
        mmt_clinic::services::audit_chain::flush_head(&self.state).await.expect("head file written");
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = test::TestRequest::default().method(method).uri(path).peer_addr("10.1.2.3:5000".parse().unwrap());
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(b) = body {
            req = req.set_json(b);
        }
        (self.call)(req.to_request()).await
    }

    /// Sends a prepared request (for raw bodies, odd headers, other peer addresses).
    pub async fn send(&self, req: test::TestRequest) -> Reply {
        (self.call)(req.to_request()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }

    /// A POST with an `Idempotency-Key`, as a terminal that may retry sends it.
    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: Value) -> Reply {
        let req = test::TestRequest::post()
            .uri(path)
            .peer_addr("10.1.2.3:5000".parse().unwrap())
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Idempotency-Key", key.to_string()))
            .set_json(body);
        (self.call)(req.to_request()).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Signs in and returns the whole answer.
    pub async fn login_reply(&self, username: &str, password: &str) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    /// Signs in and returns the access token (panics if refused).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.login_reply(username, password).await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {}", r.text());
        r.json()["access_token"].as_str().unwrap().to_string()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a site as admin; returns its id.
    pub async fn site(&self, admin: &str, code: &str, name: &str) -> String {
        let r = self.post("/api/v1/sites", admin, json!({"code": code, "name": name, "kind": "dispensary"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// Creates a staff member as admin with the common test password; returns the id.
    pub async fn staff(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        site_ids: &[&str],
        townships: &[&str],
    ) -> String {
        let r = self
            .post(
                "/api/v1/staff",
                admin,
                json!({"username": username, "password": PASSWORD, "display_name": username,
                       "role": role, "site_ids": site_ids, "townships": townships}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// Moves the test clock.
    pub async fn set_clock(&self, admin: &str, now: &str) {
        let r = self.put("/api/v1/admin/clock", admin, json!({"now": now})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }

    /// A pooled connection for checks behind the API's back.
    pub fn conn(&self) -> mmt_clinic::db::PooledConn {
        self.state.pool.get().expect("connection")
    }
}

/// A standard small network: admin, one site, a nurse, a doctor and a rehab worker.
pub struct Network {
    pub admin: String,
    pub site: String,
    pub other_site: String,
    pub nurse_id: String,
    pub doctor_id: String,
    pub worker_id: String,
}

pub async fn network(app: &TestApp) -> Network {
    let admin = app.admin().await;
    let site = app.site(&admin, "LS", "柳市服药点").await;
    let other_site = app.site(&admin, "HQ", "虹桥服药点").await;
    let nurse_id = app.staff(&admin, "nurse.li", "nurse", &[&site], &[]).await;
    let doctor_id = app.staff(&admin, "dr.chen", "doctor", &[&site, &other_site], &[]).await;
    let worker_id = app.staff(&admin, "sg.zhang", "rehab_worker", &[], &["柳市镇"]).await;
    Network { admin, site, other_site, nurse_id, doctor_id, worker_id }
}
pub mod browser;
pub mod clinic;
pub mod proxy;
