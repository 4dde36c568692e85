//! Limits and overload: per-user rate limits, time limits on database waits, and a
//! database that goes away mid-load (PostgreSQL cut off and back; SQLite locked by another
//! process) answering 503 `service_unavailable` with `Retry-After`, never 500, with every
//! acknowledged dose kept once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::clinic::*;
use common::proxy::CutProxy;
use common::*;
use futures_util::future::join_all;

#[actix_web::test]
async fn a_user_over_their_rate_gets_429_with_retry_after_and_others_are_not_slowed() {
    let app = TestApp::with(Options { extra: vec![("MMT_RATE_LIMIT", "60".into())], ..Options::default() }).await;
    let net = network(&app).await;
    let nurse = app.login("nurse.li", PASSWORD).await;
    // A burst of 20 passes (60 a minute: bursts of at least 20); the next is refused.
    for n in 0..20 {
        let r = app.get("/api/v1/me", &nurse).await;
        assert_eq!(r.status, StatusCode::OK, "request {n}: {}", r.text());
    }
    let r = app.get("/api/v1/me", &nurse).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"));
    let wait: u64 = r.headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.json()["error"]["details"]["retry_after_seconds"], wait);
    // Another user is not affected, nor is the health check.
    assert_eq!(app.get("/api/v1/me", &net.admin).await.status, StatusCode::OK);
    assert_eq!(app.request(Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
    // One request a second comes back.
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get("/api/v1/me", &nurse).await.status, StatusCode::OK);
}

/// How the database goes away for a while: PostgreSQL is cut off (every connection
/// dropped, new ones refused), a SQLite file is locked by another process.
enum Outage {
    Postgres(Arc<CutProxy>),
    Sqlite(String),
}

impl Outage {
    /// Takes the database away now and brings it back after `for_`.
    fn begin(&self, for_: Duration) -> std::thread::JoinHandle<()> {
        match self {
            Outage::Postgres(proxy) => {
                proxy.cut();
                let proxy = proxy.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(for_);
                    proxy.restore();
                })
            }
            Outage::Sqlite(path) => {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                let mut conn = diesel::SqliteConnection::establish(path).expect("second connection");
                conn.batch_execute("BEGIN EXCLUSIVE").expect("lock");
                std::thread::spawn(move || {
                    std::thread::sleep(for_);
                    conn.batch_execute("COMMIT").expect("unlock");
                })
            }
        }
    }
}

/// The host and port in a PostgreSQL URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once('@').map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("127.0.0.1:5432");
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

#[actix_web::test]
async fn a_database_that_goes_away_mid_load_answers_503_and_loses_nothing() {
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok() && cfg!(feature = "postgres");
    let proxy = postgres.then(|| {
        let url = std::env::var("TEST_DATABASE_URL").unwrap();
        Arc::new(CutProxy::start(host_port(&url)))
    });
    let rewrite_url: Option<common::UrlRewrite> = proxy.as_ref().map(|p| {
        let port = p.port;
        Box::new(move |url: &str| url.replacen(&host_port(url), &format!("127.0.0.1:{port}"), 1))
            as Box<dyn Fn(&str) -> String>
    });
    let opts = Options { extra: vec![("MMT_DB_WAIT_SECONDS", "1".into())], rewrite_url, ..Options::default() };
    let c = Clinic::with("2026-11-10T08:00:00+08:00", "Asia/Shanghai", opts).await;
    let outage = match proxy {
        Some(p) => Outage::Postgres(p),
        None => Outage::Sqlite(c.app.db.url.trim_start_matches("sqlite://").to_string()),
    };

    let mut patients = Vec::new();
    for n in 0..12 {
        patients.push(c.patient_on(&format!("病人{n}"), n + 1, 30.0).await);
    }
    let dose = |p: &str, key: String| {
        TestRequest::post()
            .uri("/api/v1/doses")
            .insert_header(("Authorization", format!("Bearer {}", c.nurse)))
            .insert_header(("Idempotency-Key", key))
            .set_json(dose_body(p, &c.ls, 30.0))
    };
    // Each terminal gives its dose, retrying with its key after each 503 until it is
    // acknowledged. Every answer is kept.
    let give_until_acknowledged = |p: String, key: String| {
        let c = &c;
        async move {
            let mut seen = Vec::new();
            for _ in 0..60 {
                let r = c.app.send(dose(&p, key.clone())).await;
                let retry_after = r.headers.get("retry-after").map(|v| v.to_str().unwrap().to_string());
                seen.push((r.status, r.code_or_empty(), retry_after));
                if r.status != StatusCode::SERVICE_UNAVAILABLE {
                    return (p, seen, Some(r.json()));
                }
                actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            }
            (p, seen, None)
        }
    };

    // The first half before the outage, the second half during it.
    let before =
        join_all(patients[..6].iter().enumerate().map(|(n, p)| give_until_acknowledged(p.clone(), format!("k{n}"))))
            .await;
    // Longer than the health check waits for the database (2 s).
    let back = outage.begin(Duration::from_millis(3000));
    if postgres {
        let h = c.app.request(Method::GET, "/healthz", None, None).await;
        assert_eq!(h.status, StatusCode::SERVICE_UNAVAILABLE, "{}", h.text());
    }
    let during = join_all(
        patients[6..].iter().enumerate().map(|(n, p)| give_until_acknowledged(p.clone(), format!("k{}", n + 6))),
    )
    .await;
    back.join().unwrap();

    let mut unavailable = 0;
    for (p, seen, acknowledged) in before.iter().chain(during.iter()) {
        for (status, code, retry_after) in seen {
            assert_ne!(*status, StatusCode::INTERNAL_SERVER_ERROR, "{p}: {seen:?}");
            if *status == StatusCode::SERVICE_UNAVAILABLE {
                unavailable += 1;
                assert_eq!(code, "service_unavailable", "{p}: {seen:?}");
                assert!(retry_after.is_some(), "503 without Retry-After: {seen:?}");
            }
        }
        let last = seen.last().unwrap().0;
        assert_eq!(last, StatusCode::CREATED, "{p}: {seen:?}");
        assert!(acknowledged.is_some());
    }
    assert!(unavailable > 0, "the outage was not seen: every write passed");
    // The service is back by itself, and every acknowledged dose is there exactly once.
    let h = c.app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text());
    for (p, _, acknowledged) in before.iter().chain(during.iter()) {
        let history = c.app.get(&format!("/api/v1/patients/{p}/doses"), &c.doctor).await.json();
        let doses = history.as_array().unwrap();
        assert_eq!(doses.len(), 1, "{p}: {history}");
        assert_eq!(doses[0]["id"], acknowledged.as_ref().unwrap()["id"], "{p}");
    }
}

/// Every wait is bounded: a request that cannot get the database within
/// `MMT_DB_WAIT_SECONDS`, or takes longer than `MMT_REQUEST_TIMEOUT_SECONDS`, answers 503
/// with `Retry-After` instead of hanging.
#[actix_web::test]
async fn waits_for_the_database_and_requests_have_time_limits() {
    // The request limit leaves the sign-in (a password hash) time even on a loaded machine.
    for (wait, timeout) in [("1", "30"), ("20", "4")] {
        let app = TestApp::with(Options {
            pool_size: 1,
            extra: vec![("MMT_DB_WAIT_SECONDS", wait.into()), ("MMT_REQUEST_TIMEOUT_SECONDS", timeout.into())],
            ..Options::default()
        })
        .await;
        let admin = app.admin().await;
        let held = app.conn(); // the only connection
        let started = std::time::Instant::now();
        let r = app.get("/api/v1/sites", &admin).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"));
        assert!(r.headers.get("retry-after").is_some());
        assert!(started.elapsed() < Duration::from_secs(10), "wait {wait}, timeout {timeout}");
        drop(held);
        assert_eq!(app.get("/api/v1/sites", &admin).await.status, StatusCode::OK);
    }
}
