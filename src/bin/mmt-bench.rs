//! The benchmarks, on SQLite with the service's own settings (WAL, synchronous=FULL).
//!
//! `mmt-bench [dose]` (the default), in one run:
//! 1. the raw durable single-row insert rate of the engine (one row per transaction): the
//!    physical limit a dose cannot beat;
//! 2. the real HTTP dose path — the decision GET then the dose POST, as the dosing screen
//!    does — driven by C concurrent keep-alive clients over N patients with active orders:
//!    doses/s, latency p50/p99, and the ratio to the raw rate;
//! 3. patient search latency with 100,000 patients enrolled.
//!
//! `mmt-bench sweep`: the attendance/alert sweep over N active patients with D days of
//! history each (doses with missed-day runs, excused absences, monthly urine tests, rehab
//! cases), on a fresh database per size: the first run (which opens the alerts) and a
//! second run (steady state: nothing to open or resolve), and how the time grows with N.
//!
//! `mmt-bench scale --database-url postgres://…`: a province on one PostgreSQL — 20,000 /
//! 100,000 / 200,000 patients over 800 sites with 30 days of history each: the nightly
//! sweep, dose POSTs at a steady 100/s, patient search, the site queue and register, and
//! the database's size.
//!
//! `mmt-bench overload`: hundreds of terminals dosing as fast as they are answered, with
//! the service's production limits: the health check and a window's dosing decisions still
//! answered, nothing but 201, 409, 422, 429 or 503 (with `Retry-After`) answered, and every
//! acknowledged dose in the database once.
//!
//! Run: `cargo run --release --bin mmt-bench -- --patients 4000 --clients 8`
//!      `cargo run --release --bin mmt-bench -- sweep --patients 5000,10000 --days 180`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use chrono::{Duration as Days, NaiveDate};
use clap::{Parser, Subcommand};
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use mmt_clinic::config::Config;
use mmt_clinic::db::patients::{self as patients_q, PatientRow};
use mmt_clinic::db::{self, ConnManager, DbUrl};
use mmt_clinic::domain::alerts::SweepCause;
use mmt_clinic::domain::drug_tests::{TestKind, TestResult};
use mmt_clinic::domain::orders::Phase;
use mmt_clinic::domain::patients::AbsenceReason;
use mmt_clinic::domain::rehab::CaseKind;
use mmt_clinic::domain::staff::Role;
use mmt_clinic::seed::{self, people, CaseSpec, DoseSpec, OrderSpec, PatientSpec, TestSpec};
use mmt_clinic::services::sites::{NewSite, SiteKind};
use mmt_clinic::services::staff::NewStaff;
use mmt_clinic::services::sweep::{self, SweepSummary};
use mmt_clinic::services::{run_write, sites, staff, AppState};

#[derive(Parser)]
#[command(
    about = "Benchmarks (release build; SQLite, synchronous=FULL): the dose path and search (default), or the sweep",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    #[command(flatten)]
    dose: DoseArgs,
}

#[derive(Subcommand)]
enum Mode {
    /// The raw insert rate, the HTTP dose path and patient search (the default).
    Dose(DoseArgs),
    /// The attendance/alert sweep at one or more sizes.
    Sweep(SweepArgs),
    /// A province on one PostgreSQL: many sites and patients, the sweep and the busiest paths.
    Scale(ScaleArgs),
    /// Far above the design peak: the health check, the window's decisions, nothing lost.
    Overload(OverloadArgs),
}

#[derive(clap::Args, Clone)]
struct DoseArgs {
    /// Patients with active orders to dose (one dose each).
    #[arg(long, default_value_t = 4000)]
    patients: usize,
    /// Concurrent keep-alive HTTP clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Rows for the raw insert measurement.
    #[arg(long, default_value_t = 4000)]
    raw_rows: usize,
    /// Patients enrolled for the search measurement.
    #[arg(long, default_value_t = 100_000)]
    search_patients: usize,
    /// Searches to time.
    #[arg(long, default_value_t = 1000)]
    searches: usize,
    /// Days of daily doses each patient has, one database per value besides the empty one
    /// (by default a day, where every patient has a last dose, and a year).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 365], value_parser = clap::value_parser!(i64).range(1..=3650))]
    history_days: Vec<i64>,
    /// Run on PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/test; a schema of its own).
    #[arg(long)]
    database_url: Option<String>,
    /// Where to put the databases (default: a temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
struct SweepArgs {
    /// Active patients, one size or several separated by commas (a fresh database each).
    #[arg(long, value_delimiter = ',', default_values_t = [5000, 10_000])]
    patients: Vec<usize>,
    /// Days of history per patient.
    #[arg(long, default_value_t = 180)]
    days: i64,
    /// Times to run the first and second sweep per size, each from the freshly seeded
    /// database (copied back); the medians are compared.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Where to put the databases (default: a temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
struct ScaleArgs {
    /// Patients, one size or several separated by commas (a fresh schema each).
    #[arg(long, value_delimiter = ',', default_values_t = [20_000, 100_000, 200_000])]
    patients: Vec<usize>,
    /// Dispensing sites the patients are spread over.
    #[arg(long, default_value_t = 800)]
    sites: usize,
    /// Days of daily doses each patient has.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Dose POSTs per second during the steady run.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Length of the steady dose run, seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Patient searches to time.
    #[arg(long, default_value_t = 500)]
    searches: usize,
    /// Site queues and registers to time (random sites).
    #[arg(long, default_value_t = 50)]
    views: usize,
    /// The PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/test; a schema of its own per size).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(clap::Args, Clone)]
struct OverloadArgs {
    /// Terminals dosing at once, each as fast as it is answered (keep-alive connections).
    #[arg(long, default_value_t = 400)]
    terminals: usize,
    /// Nurses they are signed in as (each under the service's per-user rate limit).
    #[arg(long, default_value_t = 40)]
    nurses: usize,
    /// Patients each terminal has to dose.
    #[arg(long, default_value_t = 60)]
    patients_per_terminal: usize,
    /// How long the terminals keep sending, seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Fail if a health check or a window's decision took longer than this (ms); not checked
    /// without it.
    #[arg(long)]
    bound_ms: Option<u64>,
    /// Run on PostgreSQL (e.g. postgres://postgres@127.0.0.1:5432/test; a schema of its own).
    #[arg(long)]
    database_url: Option<String>,
    /// Where to put the database (default: a temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
}

const PASSWORD: &str = "bench-password-1";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// A minimal HTTP/1.1 keep-alive client.
struct Client {
    stream: BufReader<TcpStream>,
    token: String,
}

impl Client {
    fn connect(port: u16, token: &str) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).ok();
        Client { stream: BufReader::new(s), token: token.to_string() }
    }

    fn request(&mut self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let answer = self.send(method, path, body, None);
        (answer.status, answer.body)
    }

    /// A request with an optional `Idempotency-Key`; `None` when the connection failed.
    fn try_send(&mut self, method: &str, path: &str, body: Option<&Value>, key: Option<&str>) -> Option<Answer> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let key = key.map(|k| format!("Idempotency-Key: {k}\r\n")).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {}\r\n{key}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).ok()?;
        let mut line = String::new();
        self.stream.read_line(&mut line).ok()?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok())?;
        let (mut length, mut retry_after) = (0, None);
        loop {
            line.clear();
            self.stream.read_line(&mut line).ok()?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                } else if k.eq_ignore_ascii_case("retry-after") {
                    retry_after = v.trim().parse().ok();
                }
            }
        }
        let mut buf = vec![0; length];
        self.stream.read_exact(&mut buf).ok()?;
        Some(Answer { status, body: serde_json::from_slice(&buf).unwrap_or(Value::Null), retry_after })
    }

    fn send(&mut self, method: &str, path: &str, body: Option<&Value>, key: Option<&str>) -> Answer {
        self.try_send(method, path, body, key).expect("the service answered")
    }
}

/// What the service answered.
struct Answer {
    status: u16,
    body: Value,
    /// `Retry-After`, seconds.
    retry_after: Option<u64>,
}

fn login(port: u16, username: &str) -> String {
    let mut c = Client::connect(port, "");
    let (status, body) =
        c.request("POST", "/api/v1/auth/login", Some(&json!({"username": username, "password": PASSWORD})));
    assert_eq!(status, 200, "login {username}: {body}");
    body["access_token"].as_str().unwrap_or_default().to_string()
}

fn serve(state: AppState) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || mmt_clinic::app(state.clone())).listen(listener).expect("listen").run().await
        })
    });
    port
}

/// Enrols `count` patients at `site_id` (bulk, in large transactions); with `order` (mg,
/// from), each gets an active order of that many mg from that day. Returns their ids and numbers.
fn seed_patients(
    state: &AppState,
    site_id: &str,
    doctor: &str,
    count: usize,
    order: Option<(i32, NaiveDate)>,
    seed: u64,
) -> Vec<(String, String, String, String)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = state.today();
    let mut out = Vec::with_capacity(count);
    let mut conn = state.pool.get().expect("connection");
    for chunk in (0..count).collect::<Vec<_>>().chunks(5000) {
        let batch = run_write(&mut conn, &state.audit, state.now(), |tx| {
            let mut batch = Vec::new();
            for _ in chunk {
                let male = rng.gen_bool(0.85);
                let birth = people::birth_date(&mut rng, today);
                let seq = patients_q::next_patient_no(tx.conn)? as u32;
                let id_number = seed::free_id_number(tx.conn, birth, seq, male)?;
                let row = seed::patient(
                    tx,
                    PatientSpec {
                        name: people::name(&mut rng),
                        male,
                        birth,
                        id_number: id_number.clone(),
                        phone: None,
                        township: "柳市镇",
                        home_site_id: site_id,
                        enrolled_on: order.map_or(today, |(_, from)| from) - Days::days(30),
                        risk_level: 2,
                        consent_to_share: true,
                    },
                )?;
                if let Some((mg, from)) = order {
                    seed::order(
                        tx,
                        OrderSpec {
                            patient_id: &row.id,
                            daily_mg: mg,
                            portions_mg: None,
                            from,
                            phase: Phase::Induction,
                            starts_episode: true,
                            reason: "bench",
                            prescriber_id: doctor,
                            approved_by: None,
                        },
                    )?;
                }
                batch.push((row.id.clone(), row.patient_no.clone(), row.name.clone(), id_number));
            }
            tx.audit(None, "bench.seed", "patient", None, format!("{} patients seeded", batch.len()));
            Ok(batch)
        })
        .expect("seed");
        out.extend(batch);
    }
    out
}

fn main() {
    let cli = Cli::parse();
    if std::env::var("MMT_LOG").is_err() {
        std::env::set_var("MMT_LOG", "warn");
    }
    mmt_clinic::telemetry::init();
    let url = match &cli.mode {
        None => cli.dose.database_url.as_deref(),
        Some(Mode::Dose(args)) => args.database_url.as_deref(),
        Some(Mode::Scale(args)) => args.database_url.as_deref(),
        Some(Mode::Overload(args)) => args.database_url.as_deref(),
        Some(Mode::Sweep(_)) => None,
    };
    if url.is_some_and(|u| u.starts_with("postgres")) && !cfg!(feature = "postgres") {
        eprintln!("this mmt-bench was built without PostgreSQL: build it with --features postgres");
        std::process::exit(2);
    }
    match cli.mode {
        None => dose_bench(cli.dose),
        Some(Mode::Dose(args)) => dose_bench(args),
        Some(Mode::Sweep(args)) => sweep_bench(args),
        Some(Mode::Scale(args)) => scale_bench(args),
        Some(Mode::Overload(args)) => overload_bench(args),
    }
    std::process::exit(0);
}

fn announce(dir: &Path, pg: Option<&str>) {
    match pg {
        None => println!("mmt-bench: SQLite, journal_mode=WAL, synchronous=FULL, data in {}", dir.display()),
        Some(_) => println!("mmt-bench: PostgreSQL (a schema of its own per database, dropped at the end)"),
    }
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
}

/// Where a benchmark's database lives: a SQLite file in the bench folder, or a schema of
/// its own in the PostgreSQL database given (dropped at the end).
struct BenchDb {
    url: String,
    pg: Option<(String, String)>,
}

impl BenchDb {
    fn new(dir: &Path, name: &str, pg_base: Option<&str>) -> BenchDb {
        match pg_base {
            None => BenchDb { url: format!("sqlite://{}", dir.join(format!("{name}.sqlite3")).display()), pg: None },
            Some(base) => {
                let schema = format!("bench_{name}_{}", std::process::id());
                let mut conn =
                    ConnManager::new(DbUrl::parse(base).expect("postgres url")).establish().expect("postgres");
                conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
                    .expect("bench schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                BenchDb {
                    url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
                    pg: Some((base.to_string(), schema)),
                }
            }
        }
    }

    fn conn(&self) -> db::DbConn {
        ConnManager::new(DbUrl::parse(&self.url).expect("url")).establish().expect("bench database")
    }

    /// The database's size on disk, MB.
    fn size_mb(&self) -> f64 {
        match &self.pg {
            None => {
                let path = self.url.trim_start_matches("sqlite://");
                ["", "-wal"]
                    .iter()
                    .filter_map(|s| std::fs::metadata(format!("{path}{s}")).ok())
                    .map(|m| m.len() as f64)
                    .sum::<f64>()
                    / 1e6
            }
            Some((_, schema)) => db::bulk::schema_size_bytes(&mut self.conn(), schema).unwrap_or(0) as f64 / 1e6,
        }
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg {
            if let Ok(mut conn) = ConnManager::new(DbUrl::parse(base).expect("url")).establish() {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// The service on the benchmark's database, with its own settings (a pool of 16, no
/// per-user rate limit: the benchmark is one nurse sending thousands of doses).
fn bench_state(runtime: &tokio::runtime::Runtime, db: &BenchDb) -> AppState {
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("MMT_JWT_SECRET", "bench-secret-of-at-least-32-characters".to_string()),
        ("MMT_ADMIN_PASSWORD", PASSWORD.to_string()),
        ("MMT_AUDIT_KEY", "bench-audit-key-of-at-least-32-characters".to_string()),
        ("MMT_POOL_SIZE", "16".to_string()),
        ("MMT_RATE_LIMIT", "0".to_string()),
    ];
    let config = Config::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("config");
    runtime.block_on(AppState::start(config)).expect("start")
}

/// The benchmark's dispensing site: its id.
fn bench_site(state: &AppState) -> String {
    let mut conn = state.pool.get().expect("connection");
    run_write(&mut conn, &state.audit, state.now(), |tx| {
        sites::create_in(
            tx,
            None,
            &NewSite { code: "LS".into(), name: "柳市服药点".into(), kind: SiteKind::Dispensary, address: None },
        )
    })
    .expect("site")
    .id
}

/// `nurse.bench` and `dr.bench`, working at `site_ids`: their ids (doctor, nurse).
fn bench_staff(runtime: &tokio::runtime::Runtime, state: &AppState, site_ids: Vec<String>) -> (String, String) {
    runtime.block_on(async {
        for (username, role) in [("nurse.bench", Role::Nurse), ("dr.bench", Role::Doctor)] {
            staff::create_by_system(
                state,
                NewStaff {
                    username: username.into(),
                    password: PASSWORD.into(),
                    display_name: username.into(),
                    role,
                    site_ids: site_ids.clone(),
                    townships: vec![],
                },
            )
            .await
            .expect("staff");
        }
        let id_of = |name: &'static str| state.read(move |c| Ok(db::staff::find_by_username(c, name)?.map(|s| s.id)));
        (
            id_of("dr.bench").await.expect("doctor").unwrap_or_default(),
            id_of("nurse.bench").await.expect("nurse").unwrap_or_default(),
        )
    })
}

/// Raw durable inserts: one row per transaction (SQLite: `BEGIN IMMEDIATE … COMMIT` with the
/// service's pragmas; PostgreSQL: autocommit), on the database under test.
fn raw_insert_rate(db: &BenchDb, rows: usize) -> f64 {
    let mut conn = db.conn();
    conn.batch_execute(
        "CREATE TABLE raw (id TEXT PRIMARY KEY NOT NULL, patient_id TEXT NOT NULL, dose_day DATE NOT NULL, \
         deci_mg INTEGER NOT NULL, given_at TIMESTAMP NOT NULL)",
    )
    .expect("raw table");
    let (begin, commit) = if db.pg.is_some() { ("BEGIN", "COMMIT") } else { ("BEGIN IMMEDIATE", "COMMIT") };
    let started = Instant::now();
    for i in 0..rows {
        conn.batch_execute(&format!(
            "{begin}; INSERT INTO raw VALUES ('{}', 'p{i}', '2026-11-29', 600, '2026-11-29 08:00:00'); {commit};",
            db::new_id()
        ))
        .expect("raw insert");
    }
    rows as f64 / started.elapsed().as_secs_f64()
}

/// What one run of the dose path measured.
#[derive(Default, Clone)]
struct DosePhase {
    dose_rows_before: usize,
    decision: Timings,
    post: Timings,
    queue: Timings,
    register: Timings,
    failures: usize,
    size_mb: f64,
}

#[derive(Default, Clone)]
struct Timings {
    count: usize,
    seconds: f64,
    sorted: Vec<Duration>,
    /// CPU time meanwhile of the group writer's thread, the checkpointer's and the whole
    /// process (see [`cpu_now`]).
    cpu: [Option<Duration>; 3],
}

/// The CPU time so far of this process's threads named `name` (all of them with `None`),
/// from Linux's per-thread scheduler statistics; none where there is no such thread or no
/// such statistics (a thread that ends meanwhile is left out).
fn threads_cpu(name: Option<&str>) -> Option<Duration> {
    let mut total = None;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        if name.is_some_and(|name| !std::fs::read_to_string(path.join("comm")).is_ok_and(|comm| comm.trim() == name)) {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("schedstat")).unwrap_or_default();
        if let Some(ns) = stat.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()) {
            total = Some(total.unwrap_or(Duration::ZERO) + Duration::from_nanos(ns));
        }
    }
    total
}

/// CPU time so far: the group writers' threads (`mmt-writer`, one per database served; none
/// on PostgreSQL), the checkpointers' and the whole process's (the clients included; not
/// PostgreSQL's own processes). Only the database being measured works meanwhile, so the
/// difference over a measurement is its own: figures of the work per dose that the speed of
/// the disk does not move.
fn cpu_now() -> [Option<Duration>; 3] {
    [threads_cpu(Some("mmt-writer")), threads_cpu(Some("mmt-checkpoint")), threads_cpu(None)]
}

impl Timings {
    fn of(mut sorted: Vec<Duration>, seconds: f64) -> Timings {
        sorted.sort();
        Timings { count: sorted.len(), seconds, sorted, cpu: [None; 3] }
    }
    /// Parts measured one after another, as one measurement.
    fn merge(parts: Vec<Timings>) -> Timings {
        let seconds = parts.iter().map(|t| t.seconds).sum();
        let cpu = std::array::from_fn(|i| parts.iter().map(|t| t.cpu[i]).sum());
        Timings { cpu, ..Timings::of(parts.into_iter().flat_map(|t| t.sorted).collect(), seconds) }
    }
    /// CPU time per request in milliseconds: the writer's, the checkpointer's, the process's.
    fn cpu_ms(&self) -> String {
        let per = |cpu: Option<Duration>| {
            cpu.map_or("-".into(), |c| format!("{:.3}", c.as_secs_f64() * 1e3 / self.count.max(1) as f64))
        };
        self.cpu.iter().map(|&c| per(c)).collect::<Vec<_>>().join(" / ")
    }
    fn rate(&self) -> f64 {
        self.count as f64 / self.seconds.max(1e-9)
    }
    fn p50(&self) -> f64 {
        percentile(&self.sorted, 0.5)
    }
    fn p99(&self) -> f64 {
        percentile(&self.sorted, 0.99)
    }
}

/// `clients` keep-alive clients share `requests` (one request each), as fast as they are
/// answered; the latencies.
fn drive(
    port: u16,
    token: &str,
    clients: usize,
    requests: Vec<(&'static str, String, Option<Value>)>,
) -> (Timings, usize) {
    drive_at(port, token, clients, None, requests)
}

/// `clients` keep-alive clients share `requests`; with a `rate`, request i is not sent
/// before i / rate seconds from the start.
fn drive_at(
    port: u16,
    token: &str,
    clients: usize,
    rate: Option<f64>,
    requests: Vec<(&'static str, String, Option<Value>)>,
) -> (Timings, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(requests);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(requests.len())));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (next, requests, latencies, failures) =
                (next.clone(), requests.clone(), latencies.clone(), failures.clone());
            let token = token.to_string();
            std::thread::spawn(move || {
                let mut client = Client::connect(port, &token);
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((method, path, body)) = requests.get(i) else { break };
                    if let Some(rate) = rate {
                        let due = started + Duration::from_secs_f64(i as f64 / rate.max(0.001));
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    let t0 = Instant::now();
                    let (status, _) = client.request(method, path, body.as_ref());
                    if (200..300).contains(&status) {
                        mine.push(t0.elapsed());
                    } else {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.lock().map(|mut v| v.extend(mine)).ok();
            })
        })
        .collect();
    for t in threads {
        t.join().ok();
    }
    let seconds = started.elapsed().as_secs_f64();
    let latencies = latencies.lock().map(|v| v.clone()).unwrap_or_default();
    (Timings::of(latencies, seconds), failures.load(Ordering::Relaxed))
}

/// A database ready for the dose path: one site with `patients` on active orders (with
/// `history_days` of daily doses each when asked), served over HTTP.
struct Prepared {
    state: AppState,
    port: u16,
    nurse_token: String,
    doctor_token: String,
    site_id: String,
    patients: Vec<(String, String, String, String)>,
    dose_rows_before: usize,
}

fn prepare(db: &BenchDb, args: &DoseArgs, history_days: i64) -> Prepared {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let state = bench_state(&runtime, db);
    let site_id = bench_site(&state);
    let (doctor_id, nurse_id) = bench_staff(&runtime, &state, vec![site_id.clone()]);
    let today = state.today();
    let start = today - Days::days(history_days);
    let seeded = Instant::now();
    let patients = seed_patients(&state, &site_id, &doctor_id, args.patients, Some((60, start)), 1);
    let mut dose_rows_before = 0;
    if history_days > 0 {
        let yesterday = today - Days::days(1);
        dose_rows_before =
            db::bulk::fill_daily_doses(&mut db.conn(), &nurse_id, start, yesterday, None).expect("history");
    }
    db::bulk::settle(&mut db.conn()).expect("settle");
    println!(
        "  seeded {} patients{} in {:.1} s",
        patients.len(),
        if history_days > 0 { format!(" and {dose_rows_before} doses of history") } else { String::new() },
        seeded.elapsed().as_secs_f64()
    );
    let port = serve(state.clone());
    std::thread::sleep(Duration::from_millis(300));
    Prepared {
        nurse_token: login(port, "nurse.bench"),
        doctor_token: login(port, "dr.bench"),
        state,
        port,
        site_id,
        patients,
        dose_rows_before,
    }
}

/// Slices each measurement is cut into, run in turn on each database, so that a change in
/// the machine's speed during the run (a shared disk, a neighbour's load) falls on both.
const SLICES: usize = 8;

/// Measures the dose path on each prepared database: every patient's dosing decision, every
/// patient's dose, then the site's queue and register 20 times — each in slices that
/// alternate between the databases.
fn measure(prepared: &[&Prepared], args: &DoseArgs) -> Vec<DosePhase> {
    type Requests = Vec<(&'static str, String, Option<Value>)>;
    let mut phases: Vec<DosePhase> =
        prepared.iter().map(|p| DosePhase { dose_rows_before: p.dose_rows_before, ..DosePhase::default() }).collect();
    // The patients come to the window in an order of their own, not in the order they were
    // enrolled (the same order on every database): in enrolment order the doses committed
    // together would all fall on one leaf of the patient index of an empty database, a
    // locality no morning at a window has.
    let mut arrival: Vec<usize> = (0..args.patients).collect();
    arrival.shuffle(&mut StdRng::seed_from_u64(7));
    let arriving = |p: &Prepared| -> Vec<String> {
        arrival.iter().filter_map(|&i| p.patients.get(i)).map(|(id, ..)| id.clone()).collect()
    };
    let run = |phases: &mut Vec<DosePhase>,
               clients: usize,
               requests: &dyn Fn(&Prepared) -> Requests,
               field: fn(&mut DosePhase) -> &mut Timings| {
        let all: Vec<Requests> = prepared.iter().map(|p| requests(p)).collect();
        let mut parts: Vec<Vec<Timings>> = vec![Vec::new(); prepared.len()];
        for slice in 0..SLICES {
            for (i, p) in prepared.iter().enumerate() {
                let n = all[i].len();
                let part = all[i][n * slice / SLICES..n * (slice + 1) / SLICES].to_vec();
                let before = cpu_now();
                let (t, failed) = drive(p.port, &p.nurse_token, clients, part);
                let after = cpu_now();
                let cpu = std::array::from_fn(|k| before[k].zip(after[k]).map(|(b, a)| a.saturating_sub(b)));
                parts[i].push(Timings { cpu, ..t });
                phases[i].failures += failed;
            }
        }
        for (i, parts) in parts.into_iter().enumerate() {
            *field(&mut phases[i]) = Timings::merge(parts);
        }
    };
    run(
        &mut phases,
        args.clients,
        &|p| {
            arriving(p)
                .into_iter()
                .map(|id| ("GET", format!("/api/v1/patients/{id}/dispensing?site_id={}", p.site_id), None))
                .collect()
        },
        |phase| &mut phase.decision,
    );
    run(
        &mut phases,
        args.clients,
        &|p| {
            arriving(p)
                .into_iter()
                .map(|id| {
                    let body = json!({"patient_id": id, "site_id": p.site_id, "dose_mg": 60,
                                      "identity_confirmed": true, "intoxication_check": "clear"});
                    ("POST", "/api/v1/doses".to_string(), Some(body))
                })
                .collect()
        },
        |phase| &mut phase.post,
    );
    let views = |path: String| (0..24).map(|_| ("GET", path.clone(), None)).collect::<Requests>();
    run(&mut phases, 1, &|p| views(format!("/api/v1/sites/{}/queue", p.site_id)), |phase| &mut phase.queue);
    run(
        &mut phases,
        1,
        &|p| {
            let today = p.state.today();
            views(format!("/api/v1/reports/dispensing-register.pdf?site_id={}&date={today}", p.site_id))
        },
        |phase| &mut phase.register,
    );
    phases
}

fn dose_bench(args: DoseArgs) {
    let tmp = tempfile_dir(args.dir.clone());
    let dir = tmp.as_path();
    let pg = args.database_url.as_deref();
    announce(dir, pg);

    // 1. The physical limit, measured in the same run.
    let raw = raw_insert_rate(&BenchDb::new(dir, "raw", pg), args.raw_rows);
    println!("\n[raw] durable single-row inserts: {raw:.0} rows/s ({} rows, one transaction each)", args.raw_rows);

    // 2. The dose path on an empty database and with a history for every patient, measured
    // side by side.
    println!("\n[empty] {} patients with active orders, no history", args.patients);
    let mut dbs = vec![(BenchDb::new(dir, "empty", pg), 0)];
    dbs.extend(args.history_days.iter().map(|&days| (BenchDb::new(dir, &format!("history{days}"), pg), days)));
    let prepared: Vec<Prepared> = dbs
        .iter()
        .map(|(db, days)| {
            if *days > 0 {
                println!("[{days} days] the same, with {days} days of daily doses each");
            }
            prepare(db, &args, *days)
        })
        .collect();
    let phases: Vec<DosePhase> = measure(&prepared.iter().collect::<Vec<_>>(), &args)
        .into_iter()
        .zip(&dbs)
        .map(|(phase, (db, _))| DosePhase { size_mb: db.size_mb(), ..phase })
        .collect();

    println!(
        "\n[doses] {} patients, {} keep-alive clients, in {SLICES} slices alternating between the databases; \
         SQLite synchronous=FULL / PostgreSQL defaults",
        args.patients, args.clients
    );
    let heads: Vec<String> = dbs
        .iter()
        .map(|(_, days)| if *days == 0 { "empty".into() } else { format!("{days} days of history") })
        .collect();
    println!("  {:<34}{}", "", heads.iter().map(|h| format!(" {h:>22}")).collect::<String>());
    let row = |label: &str, f: &dyn Fn(&DosePhase) -> String| {
        println!("  {label:<34}{}", phases.iter().map(|p| format!(" {:>22}", f(p))).collect::<String>());
    };
    row("dose rows before the run", &|p| p.dose_rows_before.to_string());
    row("dose POST rate (doses/s)", &|p| format!("{:.0}", p.post.rate()));
    row("dose POST p50 / p99 (ms)", &|p| format!("{:.2} / {:.2}", p.post.p50(), p.post.p99()));
    row("ratio to raw inserts", &|p| format!("{:.2}", p.post.rate() / raw));
    row("CPU per dose: writer / checkpoint / all (ms)", &|p| p.post.cpu_ms());
    row("decision GET rate (/s)", &|p| format!("{:.0}", p.decision.rate()));
    row("decision GET p50 / p99 (ms)", &|p| format!("{:.2} / {:.2}", p.decision.p50(), p.decision.p99()));
    row("site queue p50 / p99 (ms)", &|p| format!("{:.1} / {:.1}", p.queue.p50(), p.queue.p99()));
    row("day's register PDF p50 / p99 (ms)", &|p| format!("{:.1} / {:.1}", p.register.p50(), p.register.p99()));
    row("failed requests", &|p| p.failures.to_string());
    row("database size (MB)", &|p| format!("{:.0}", p.size_mb));
    // The dose and the decision against the empty database; the queue and the register,
    // which compute each patient's day from their last dose, against the shortest history.
    let (empty, shortest, longest) = (&phases[0], &phases[1.min(phases.len() - 1)], &phases[phases.len() - 1]);
    if phases.len() > 1 {
        println!(
            "  longest history / empty: dose POST rate {:.2}, decision GET rate {:.2}",
            longest.post.rate() / empty.post.rate(),
            longest.decision.rate() / empty.decision.rate()
        );
    }
    if phases.len() > 2 {
        println!(
            "  longest / shortest history: site queue p50 {:.2}, register p50 {:.2}",
            longest.queue.p50() / shortest.queue.p50(),
            longest.register.p50() / shortest.register.p50()
        );
    }

    // 3. Search at scale, on the first database.
    let search_failures = search_bench(&args, &prepared[0].state, prepared[0].port, &prepared[0].doctor_token);
    let failures = phases.iter().map(|p| p.failures).sum::<usize>() + search_failures;
    fail_if_any(failures);
}

/// A benchmark whose requests failed measured something else: it says so and fails.
fn fail_if_any(failures: usize) {
    if failures > 0 {
        eprintln!("mmt-bench: {failures} requests failed; the figures above do not stand");
        std::process::exit(1);
    }
}

/// Patient search with `args.search_patients` enrolled; the failed searches.
fn search_bench(args: &DoseArgs, state: &AppState, port: u16, doctor_token: &str) -> usize {
    let existing = args.patients;
    let more = args.search_patients.saturating_sub(existing);
    let seeded = Instant::now();
    let site = state.pool.get().ok().and_then(|mut c| db::sites::list(&mut c).ok()).and_then(|s| s.into_iter().next());
    let Some(site) = site else { return 1 };
    let doctor = state.pool.get().ok().and_then(|mut c| db::staff::find_by_username(&mut c, "dr.bench").ok().flatten());
    let Some(doctor) = doctor else { return 1 };
    let extra = seed_patients(state, &site.id, &doctor.id, more, None, 2);
    println!(
        "\n[search] enrolled {} more patients ({} in all) in {:.1} s",
        extra.len(),
        existing + extra.len(),
        seeded.elapsed().as_secs_f64()
    );
    if extra.is_empty() {
        return 0;
    }
    let mut rng = StdRng::seed_from_u64(3);
    let requests = (0..args.searches)
        .map(|i| {
            let (_, no, name, id_number) = &extra[rng.gen_range(0..extra.len())];
            let q = match i % 3 {
                0 => name.chars().take(2).collect::<String>(),
                1 => no.clone(),
                _ => id_number[id_number.len() - 6..].to_string(),
            };
            ("GET", format!("/api/v1/patients?q={}", encode(&q)), None)
        })
        .collect();
    let (t, failures) = drive(port, doctor_token, 1, requests);
    println!(
        "[search] {} searches (name fragment / patient number / id suffix), {failures} failed: p50 {:.2} ms, p99 {:.2} ms",
        t.count,
        t.p50(),
        t.p99()
    );
    failures
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The data folder: the one given, or a fresh temporary one.
fn tempfile_dir(dir: Option<PathBuf>) -> PathBuf {
    let path = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("mmt-bench-{}", std::process::id())));
    std::fs::create_dir_all(&path).expect("bench folder");
    path
}

// ---------------------------------------------------------------------------------------
// The sweep benchmark.

/// Sites of the sweep benchmark's network and the townships their patients live in.
const SWEEP_SITES: [(&str, &str, &[&str]); 5] = [
    ("LQ", "乐清市美沙酮门诊部", &["乐成街道"]),
    ("LS", "柳市服药点", &["柳市镇", "北白象镇"]),
    ("HQ", "虹桥服药点", &["虹桥镇", "淡溪镇"]),
    ("BS", "白石服药点", &["白石街道"]),
    ("FR", "芙蓉服药点", &["芙蓉镇"]),
];

/// Patients written per seeding transaction.
const SEED_BATCH: usize = 500;

/// Who the seeded history is recorded by.
struct SweepNetwork {
    /// (site id, its nurse, its townships)
    sites: Vec<(String, String, &'static [&'static str])>,
    doctor: String,
    /// A rehab worker of every township: (township, worker id).
    workers: Vec<(&'static str, String)>,
}

/// What the seeding wrote.
#[derive(Default)]
struct Seeded {
    doses: usize,
    absences: usize,
    tests: usize,
    cases: usize,
}

impl Seeded {
    fn add(&mut self, other: Seeded) {
        self.doses += other.doses;
        self.absences += other.absences;
        self.tests += other.tests;
        self.cases += other.cases;
    }
}

fn sweep_network(runtime: &tokio::runtime::Runtime, state: &AppState) -> SweepNetwork {
    runtime.block_on(async {
        let hash = state.passwords.hash(PASSWORD.to_string()).await.expect("hash");
        state
            .write(move |tx| {
                let mut network = SweepNetwork { sites: Vec::new(), doctor: String::new(), workers: Vec::new() };
                let mut site_ids = Vec::new();
                for (code, name, towns) in SWEEP_SITES {
                    let site = sites::create_in(
                        tx,
                        None,
                        &NewSite { code: code.into(), name: name.into(), kind: SiteKind::Dispensary, address: None },
                    )?;
                    let nurse = NewStaff {
                        username: format!("nurse.{}", code.to_lowercase()),
                        password: String::new(),
                        display_name: format!("护士{code}"),
                        role: Role::Nurse,
                        site_ids: vec![site.id.clone()],
                        townships: vec![],
                    };
                    let nurse = staff::create_in(tx, None, &nurse, hash.clone())?;
                    for town in towns {
                        let worker = NewStaff {
                            username: format!("sg.{}{}", code.to_lowercase(), network.workers.len()),
                            password: String::new(),
                            display_name: format!("社工{town}"),
                            role: Role::RehabWorker,
                            site_ids: vec![],
                            townships: vec![town.to_string()],
                        };
                        let worker = staff::create_in(tx, None, &worker, hash.clone())?;
                        network.workers.push((*town, worker.id));
                    }
                    site_ids.push(site.id.clone());
                    network.sites.push((site.id, nurse.id, towns));
                }
                let doctor = NewStaff {
                    username: "dr.bench".into(),
                    password: String::new(),
                    display_name: "医生".into(),
                    role: Role::Doctor,
                    site_ids,
                    townships: vec![],
                };
                network.doctor = staff::create_in(tx, None, &doctor, hash)?.id;
                Ok(network)
            })
            .await
            .expect("network")
    })
}

/// How a patient's history ends today.
enum Tail {
    /// Dosed yesterday, or missed one or two days: nothing to alert.
    UpToDate(i64),
    /// Missed the last `n` days (3–6: a missed-doses alert; 7 or more: a dropout too).
    Missed(i64),
    /// Missed the last `n` days, all covered by an excused absence (a hospital stay).
    Excused(i64),
}

/// `n` active patients with `days` days of history: an induction order then a maintenance
/// order, a dose on most days with a few runs of missed days, a past excused absence for some,
/// a monthly urine test for most (a few positive or refused), a hair test for some, and a
/// community detox/rehab case for some (a few not yet reported). Written in transactions of
/// [`SEED_BATCH`] patients on a connection of its own with a large page cache (the sweep then
/// runs on the pool's connections, with the service's settings only).
fn seed_history(state: &AppState, url: &DbUrl, network: &SweepNetwork, n: usize, days: i64, seed: u64) -> Seeded {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = state.today();
    let mut conn = ConnManager::new(url.clone()).establish().expect("seeding connection");
    conn.batch_execute("PRAGMA cache_size = -262144").expect("cache size");
    let mut seeded = Seeded::default();
    let mut left = n;
    while left > 0 {
        let batch = left.min(SEED_BATCH);
        left -= batch;
        let done = run_write(&mut conn, &state.audit, state.now(), |tx| {
            let mut done = Seeded::default();
            for _ in 0..batch {
                seed_patient(tx, &mut rng, network, today, days, &mut done)?;
            }
            tx.audit(
                None,
                "bench.seed",
                "patient",
                None,
                format!("{batch} patients with {days} days of history seeded"),
            );
            Ok(done)
        })
        .expect("seed");
        seeded.add(done);
    }
    seeded
}

fn seed_patient(
    tx: &mut mmt_clinic::services::Tx<'_>,
    rng: &mut StdRng,
    network: &SweepNetwork,
    today: NaiveDate,
    days: i64,
    done: &mut Seeded,
) -> mmt_clinic::error::AppResult<()> {
    let (site_id, nurse, towns) = &network.sites[rng.gen_range(0..network.sites.len())];
    let start = today - Days::days(days);
    let male = rng.gen_bool(0.85);
    let birth = people::birth_date(rng, today);
    let seq = patients_q::next_patient_no(tx.conn)? as u32;
    let id_number = seed::free_id_number(tx.conn, birth, seq, male)?;
    let township = towns[rng.gen_range(0..towns.len())];
    let patient = seed::patient(
        tx,
        PatientSpec {
            name: people::name(rng),
            male,
            birth,
            id_number,
            phone: None,
            township,
            home_site_id: site_id,
            enrolled_on: start,
            risk_level: rng.gen_range(1..=3),
            consent_to_share: rng.gen_bool(0.75),
        },
    )?;

    // An induction order from the first day, the maintenance dose from day 15.
    let mut orders = Vec::new();
    for (from, mg, phase, starts) in [
        (start, 30, Phase::Induction, true),
        (start + Days::days(14), rng.gen_range(12..=20) * 5, Phase::Maintenance, false),
    ] {
        let order_id = seed::order(
            tx,
            OrderSpec {
                patient_id: &patient.id,
                daily_mg: mg,
                portions_mg: None,
                from,
                phase,
                starts_episode: starts,
                reason: "bench",
                prescriber_id: &network.doctor,
                approved_by: None,
            },
        )?;
        orders.push((from, mg, order_id));
    }

    let tail = match rng.gen_range(0..1000) {
        0..=39 => Tail::Missed(rng.gen_range(3..=6)),
        40..=59 => Tail::Missed(rng.gen_range(7..=20)),
        60..=74 => Tail::Excused(rng.gen_range(3..=10)),
        75..=154 => Tail::UpToDate(rng.gen_range(2..=3)),
        _ => Tail::UpToDate(1),
    };
    let last_dose = match tail {
        Tail::UpToDate(n) | Tail::Missed(n) | Tail::Excused(n) => today - Days::days(n),
    };
    let mut absences: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    if let Tail::Excused(_) = tail {
        absences.push((last_dose + Days::days(1), today + Days::days(rng.gen_range(0..5))));
    }
    if rng.gen_bool(0.05) {
        let from = start + Days::days(rng.gen_range(20..days.max(40) - 15));
        absences.push((from, from + Days::days(rng.gen_range(2..10))));
    }
    for (from, to) in &absences {
        seed::absence(tx, &patient.id, *from, *to, AbsenceReason::Hospital, &network.doctor)?;
    }
    done.absences += absences.len();

    let mut next_urine = start + Days::days(rng.gen_range(0..7));
    let tested = rng.gen_bool(0.9);
    let mut missed_left = 0;
    let mut day = start;
    while day <= last_dose {
        let away = absences.iter().any(|(from, to)| *from <= day && day <= *to);
        if missed_left == 0 && day < last_dose && rng.gen_bool(0.004) {
            missed_left = rng.gen_range(3..=6);
        }
        let missed = missed_left > 0 || (day < last_dose && rng.gen_bool(0.02));
        missed_left = (missed_left - 1).max(0);
        if away || (missed && day != last_dose) {
            day += Days::days(1);
            continue;
        }
        let (_, mg, order_id) = orders.iter().rev().find(|(from, ..)| *from <= day).unwrap_or(&orders[0]);
        let minute = rng.gen_range(0..59);
        seed::dose(
            tx,
            DoseSpec {
                patient_id: &patient.id,
                site_id,
                day,
                portion: 1,
                deci_mg: mg * 10,
                given_at: day.and_hms_opt(1, minute, 0).unwrap_or_default().and_utc(),
                nurse_id: nurse,
                order_id,
            },
        )?;
        done.doses += 1;
        if tested && day >= next_urine {
            let result = match rng.gen_range(0..100) {
                0..=2 => TestResult::Positive,
                3 => TestResult::Refused,
                _ => TestResult::Negative,
            };
            seed_test(tx, &patient.id, TestKind::Urine, day, result, nurse)?;
            done.tests += 1;
            next_urine = day + Days::days(rng.gen_range(28..=32));
        }
        day += Days::days(1);
    }
    if rng.gen_bool(0.1) {
        seed_test(
            tx,
            &patient.id,
            TestKind::Hair,
            start + Days::days(rng.gen_range(0..days)),
            TestResult::Negative,
            nurse,
        )?;
        done.tests += 1;
    }

    if rng.gen_bool(0.04) {
        let worker = network.workers.iter().find(|(t, _)| *t == township).map(|(_, w)| w.clone()).unwrap_or_default();
        let decision = today - Days::days(rng.gen_range(20..900));
        seed::case(
            tx,
            CaseSpec {
                case_ref: None,
                patient_id: &patient.id,
                kind: if rng.gen_bool(0.7) { CaseKind::CommunityDetox } else { CaseKind::CommunityRehab },
                decision_date: decision,
                reported_on: rng.gen_bool(0.9).then(|| decision + Days::days(rng.gen_range(1..12))),
                township,
                worker_id: &worker,
                created_at: tx.now.naive_utc(),
            },
        )?;
        done.cases += 1;
    }
    Ok(())
}

fn seed_test(
    tx: &mut mmt_clinic::services::Tx<'_>,
    patient_id: &str,
    kind: TestKind,
    day: NaiveDate,
    result: TestResult,
    nurse: &str,
) -> mmt_clinic::error::AppResult<()> {
    let at = day.and_hms_opt(1, 30, 0).unwrap_or_default();
    seed::test(
        tx,
        TestSpec {
            patient_id,
            kind,
            sampled_on: day,
            sampled_by: nurse,
            sampled_at: at,
            result,
            result_by: nurse,
            result_at: at,
        },
    )?;
    Ok(())
}

/// One timed sweep.
struct TimedSweep {
    summary: SweepSummary,
    seconds: f64,
}

fn timed_sweep(runtime: &tokio::runtime::Runtime, state: &AppState) -> TimedSweep {
    let started = Instant::now();
    let summary = runtime.block_on(sweep::run(state, SweepCause::Bench)).expect("sweep");
    TimedSweep { summary, seconds: started.elapsed().as_secs_f64() }
}

fn print_sweep(label: &str, t: &TimedSweep) {
    let s = &t.summary;
    println!(
        "[sweep] {label}: {} patients, {} opened, {} resolved, {} dropouts ({} tests due) in {:.3} s: {:.0} patients/s",
        s.patients,
        s.opened,
        s.resolved,
        s.dropouts,
        s.due_tests,
        t.seconds,
        f64::from(s.patients) / t.seconds
    );
}

fn sweep_config(db_path: &Path) -> Config {
    let vars = [
        ("DATABASE_URL", format!("sqlite://{}", db_path.display())),
        ("MMT_ENV", "production".to_string()),
        ("MMT_JWT_SECRET", "bench-secret-of-at-least-32-characters".to_string()),
        ("MMT_AUDIT_KEY", "bench-audit-key-of-at-least-32-characters".to_string()),
    ];
    Config::from_vars(|k| vars.iter().find(|(name, _)| *name == k).map(|(_, v)| v.clone())).expect("config")
}

/// The median of some durations, in seconds.
fn median(mut seconds: Vec<f64>) -> f64 {
    seconds.sort_by(f64::total_cmp);
    seconds.get(seconds.len() / 2).copied().unwrap_or(0.0)
}

fn sweep_bench(args: SweepArgs) {
    let tmp = tempfile_dir(args.dir.clone());
    let dir = tmp.as_path();
    announce(dir, None);
    // The first run writes one durable transaction per patient with something to change:
    // this machine's commit rate bounds it.
    let raw = raw_insert_rate(&BenchDb::new(dir, "raw", None), 2000);
    println!("\n[raw] durable single-row commits: {raw:.0}/s ({:.2} ms each)", 1000.0 / raw);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let repeat = args.repeat.max(1);
    // (patients, median first run, median second run), in seconds.
    let mut results: Vec<(usize, f64, f64)> = Vec::new();
    for (i, &n) in args.patients.iter().enumerate() {
        let db_path = dir.join(format!("sweep-{n}.sqlite3"));
        let snapshot = dir.join(format!("sweep-{n}.seeded.sqlite3"));
        let config = sweep_config(&db_path);
        let url = config.database_url.clone();
        let mut state = runtime.block_on(AppState::start(config)).expect("start");
        let network = sweep_network(&runtime, &state);
        let started = Instant::now();
        let seeded = seed_history(&state, &url, &network, n, args.days, 10 + i as u64);
        println!(
            "\n[seed] {n} active patients × {} days: {} doses, {} excused absences, {} tests, {} rehab cases in {:.1} s",
            args.days,
            seeded.doses,
            seeded.absences,
            seeded.tests,
            seeded.cases,
            started.elapsed().as_secs_f64()
        );
        if repeat > 1 {
            // Each repetition starts again from the seeded database, so that every first run
            // has the alerts to open.
            runtime
                .block_on(state.read(|conn| Ok(conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?)))
                .expect("checkpoint");
            std::fs::copy(&db_path, &snapshot).expect("snapshot");
        }
        let (mut firsts, mut seconds) = (Vec::new(), Vec::new());
        for r in 0..repeat {
            if r > 0 {
                drop(state);
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
                }
                std::fs::copy(&snapshot, &db_path).expect("restore");
                state = runtime.block_on(AppState::start(sweep_config(&db_path))).expect("start");
            }
            let first = timed_sweep(&runtime, &state);
            print_sweep("first run ", &first);
            let changed = runtime.block_on(state.read(|conn| {
                use diesel::prelude::*;
                use mmt_clinic::db::schema::alerts;
                let patients: Vec<String> = alerts::table.select(alerts::patient_id).distinct().load(conn)?;
                Ok(patients.len())
            }));
            let changed = changed.expect("alerts");
            println!(
                "[sweep]   of which {changed} patients' transactions: at least {:.3} s of durable commits at the raw rate",
                changed as f64 / raw
            );
            let second = timed_sweep(&runtime, &state);
            print_sweep("second run", &second);
            let s = &second.summary;
            if s.opened + s.resolved + s.dropouts > 0 {
                println!("[sweep] ERROR: the second run changed something; the sweep is not idempotent");
                std::process::exit(1);
            }
            firsts.push(first.seconds);
            seconds.push(second.seconds);
        }
        let (first, second) = (median(firsts), median(seconds));
        if repeat > 1 {
            println!("[sweep] median of {repeat}: first run {first:.3} s, second run {second:.3} s");
        }
        results.push((n, first, second));
    }
    if let [(n1, first1, second1), .., (n2, first2, second2)] = results.as_slice() {
        println!(
            "\n[sweep] {n2} vs {n1} patients ({:.2}× as many): first run {:.2}× the time, second run {:.2}×",
            *n2 as f64 / *n1 as f64,
            first2 / first1,
            second2 / second1
        );
    }
}

// ---------------------------------------------------------------------------------------
// A province on one PostgreSQL.

/// Patients of the scale benchmark who stopped coming: every `SCALE_DROPOUT_EVERY`th
/// patient has no dose in the history, so the first sweep has alerts to open.
const SCALE_DROPOUT_EVERY: i64 = 40;

/// What one size of the scale benchmark measured.
struct ScaleRow {
    patients: usize,
    dose_rows: usize,
    seed_seconds: f64,
    sweep_first: TimedSweep,
    sweep_steady: TimedSweep,
    post: Timings,
    post_rate_asked: f64,
    search: Timings,
    queue: Timings,
    register: Timings,
    failures: usize,
    size_mb: f64,
}

fn scale_bench(args: ScaleArgs) {
    let Some(base) = args.database_url.as_deref() else {
        eprintln!("mmt-bench scale needs --database-url postgres://… (a province runs on PostgreSQL)");
        std::process::exit(2);
    };
    if !base.starts_with("postgres") {
        eprintln!("mmt-bench scale runs on PostgreSQL: give a postgres:// URL");
        std::process::exit(2);
    }
    let tmp = tempfile_dir(None);
    announce(&tmp, Some(base));
    println!(
        "[scale] {} sites, {} days of history per patient (every {}th patient stopped coming), doses at a steady {}/s",
        args.sites, args.days, SCALE_DROPOUT_EVERY, args.rate
    );
    let mut rows = Vec::new();
    for &n in &args.patients {
        let db = BenchDb::new(&tmp, &format!("scale{n}"), Some(base));
        let row = scale_size(&db, &args, n);
        print_scale_row(&row);
        rows.push(row);
    }
    println!("\n[scale] summary (ms unless said)");
    println!(
        "  {:>9} {:>10} {:>12} {:>12} {:>14} {:>12} {:>12} {:>12} {:>9}",
        "patients",
        "doses",
        "sweep 1st s",
        "sweep 2nd s",
        "dose POST p99",
        "search p99",
        "queue p99",
        "register p99",
        "size MB"
    );
    for r in &rows {
        println!(
            "  {:>9} {:>10} {:>12.1} {:>12.1} {:>14.1} {:>12.1} {:>12.1} {:>12.1} {:>9.0}",
            r.patients,
            r.dose_rows,
            r.sweep_first.seconds,
            r.sweep_steady.seconds,
            r.post.p99(),
            r.search.p99(),
            r.queue.p99(),
            r.register.p99(),
            r.size_mb
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
    fail_if_any(rows.iter().map(|r| r.failures).sum());
}

fn print_scale_row(r: &ScaleRow) {
    println!("  seeded {} patients and {} doses in {:.1} s", r.patients, r.dose_rows, r.seed_seconds);
    print_sweep("first run ", &r.sweep_first);
    print_sweep("second run", &r.sweep_steady);
    println!(
        "  dose POST at {:.0}/s asked ({:.0}/s achieved, {} doses): p50 {:.1} ms, p99 {:.1} ms",
        r.post_rate_asked,
        r.post.rate(),
        r.post.count,
        r.post.p50(),
        r.post.p99()
    );
    println!(
        "  patient search: p50 {:.2} ms, p99 {:.2} ms ({} searches)",
        r.search.p50(),
        r.search.p99(),
        r.search.count
    );
    println!("  site queue: p50 {:.1} ms, p99 {:.1} ms", r.queue.p50(), r.queue.p99());
    println!("  day's register PDF: p50 {:.1} ms, p99 {:.1} ms", r.register.p50(), r.register.p99());
    println!("  failed requests: {}; database size {:.0} MB", r.failures, r.size_mb);
}

/// One size: a fresh schema with `args.sites` sites and `n` patients spread over them, each
/// with an active order and `args.days` days of history; then the sweep, doses at a steady
/// rate, searches, queues and registers.
fn scale_size(db: &BenchDb, args: &ScaleArgs, n: usize) -> ScaleRow {
    println!("\n[scale] {n} patients");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let state = bench_state(&runtime, db);
    let seeded = Instant::now();
    let today = state.today();
    let at = state.now().naive_utc();
    let site_rows: Vec<db::sites::SiteRow> = (0..args.sites.max(1))
        .map(|i| db::sites::SiteRow {
            id: db::new_id(),
            code: format!("S{i:04}"),
            name: format!("第{}服药点", i + 1),
            kind: SiteKind::Dispensary,
            address: None,
            active: true,
            created_at: at,
        })
        .collect();
    let site_ids: Vec<String> = site_rows.iter().map(|s| s.id.clone()).collect();
    db::bulk::insert_sites(&mut db.conn(), &site_rows).expect("sites");
    let (doctor_id, nurse_id) = bench_staff(&runtime, &state, site_ids.clone());

    // Patients spread evenly over the sites, each with an order from the first day of history.
    let start = today - Days::days(args.days);
    let mut rng = StdRng::seed_from_u64(20 + n as u64);
    let patients: Vec<PatientRow> = (0..n)
        .map(|i| {
            let male = rng.gen_bool(0.85);
            let birth = people::birth_date(&mut rng, today);
            let no = i as i64 + 1;
            seed::patient_row(
                PatientSpec {
                    name: people::name(&mut rng),
                    male,
                    birth,
                    // Sequence numbers cycle every 500: the birth date and a multiplier keep
                    // the numbers apart; the rare clash is stepped over.
                    id_number: people::id_number(birth, i as u32, male),
                    phone: None,
                    township: "柳市镇",
                    home_site_id: &site_ids[i % site_ids.len()],
                    enrolled_on: start - Days::days(30),
                    risk_level: 2,
                    consent_to_share: true,
                },
                no,
                at,
            )
        })
        .collect();
    let patients = unique_id_numbers(patients);
    let mut conn = db.conn();
    db::bulk::insert_patients(&mut conn, &patients).expect("patients");
    db::bulk::set_patient_counter(&mut conn, n as i64).expect("counter");
    db::bulk::order_everyone(&mut conn, 600, start, &doctor_id, at).expect("orders");
    let dose_rows = if args.days > 0 {
        db::bulk::fill_daily_doses(&mut conn, &nurse_id, start, today - Days::days(1), Some(SCALE_DROPOUT_EVERY))
            .expect("history")
    } else {
        0
    };
    db::bulk::settle(&mut conn).expect("settle");
    let seed_seconds = seeded.elapsed().as_secs_f64();

    let sweep_first = timed_sweep(&runtime, &state);
    // The first run opened alerts by the thousand in a table that was empty; autovacuum
    // gathers a table's statistics again once a tenth of it has changed, long before the
    // next night. Without that, plans made for an empty table would still be in use.
    db::bulk::settle(&mut db.conn()).expect("settle");
    let sweep_steady = timed_sweep(&runtime, &state);

    let port = serve(state.clone());
    std::thread::sleep(Duration::from_millis(300));
    let nurse = login(port, "nurse.bench");
    let doctor = login(port, "dr.bench");

    // Doses at a steady rate: patients still coming, none dosed twice.
    let coming: Vec<&PatientRow> = patients
        .iter()
        .filter(|p| !p.patient_no.parse::<i64>().is_ok_and(|no| no % SCALE_DROPOUT_EVERY == 0))
        .collect();
    let count = ((args.rate * args.seconds) as usize).min(coming.len());
    let step = (coming.len() / count.max(1)).max(1);
    let doses = coming
        .iter()
        .step_by(step)
        .take(count)
        .map(|p| {
            let body = json!({"patient_id": p.id, "site_id": p.home_site_id, "dose_mg": 60,
                              "identity_confirmed": true, "intoxication_check": "clear"});
            ("POST", "/api/v1/doses".to_string(), Some(body))
        })
        .collect();
    let (post, failed_posts) = drive_paced(port, &nurse, args.rate, doses);

    let searches = (0..args.searches)
        .map(|i| {
            let p = &patients[rng.gen_range(0..patients.len())];
            let q = match i % 3 {
                0 => p.name.chars().take(2).collect::<String>(),
                1 => p.patient_no.clone(),
                _ => p.id_number[p.id_number.len() - 6..].to_string(),
            };
            ("GET", format!("/api/v1/patients?q={}", encode(&q)), None)
        })
        .collect();
    let (search, failed_search) = drive(port, &doctor, 1, searches);
    let some_sites: Vec<&String> = (0..args.views).map(|_| &site_ids[rng.gen_range(0..site_ids.len())]).collect();
    let queues = some_sites.iter().map(|s| ("GET", format!("/api/v1/sites/{s}/queue"), None)).collect();
    let (queue, failed_queue) = drive(port, &nurse, 1, queues);
    let registers = some_sites
        .iter()
        .map(|s| ("GET", format!("/api/v1/reports/dispensing-register.pdf?site_id={s}&date={today}"), None))
        .collect();
    let (register, failed_register) = drive(port, &nurse, 1, registers);
    ScaleRow {
        patients: n,
        dose_rows,
        seed_seconds,
        sweep_first,
        sweep_steady,
        post,
        post_rate_asked: args.rate,
        search,
        queue,
        register,
        failures: failed_posts + failed_search + failed_queue + failed_register,
        size_mb: db.size_mb(),
    }
}

/// Gives every patient an id number of its own (stepping the sequence on a clash).
fn unique_id_numbers(mut patients: Vec<PatientRow>) -> Vec<PatientRow> {
    let mut seen = std::collections::HashSet::with_capacity(patients.len());
    for (i, p) in patients.iter_mut().enumerate() {
        let mut step = 1;
        while !seen.insert(p.id_number.clone()) {
            let male = p.sex == mmt_clinic::domain::patients::Sex::M;
            p.id_number = people::id_number(p.birth_date, i as u32 + step * 7919, male);
            p.id_number_rev = p.id_number.chars().rev().collect();
            step += 1;
        }
    }
    patients
}

/// Sends `requests` at a steady `rate` per second (open loop: each at its own moment,
/// whatever the answers before it took), from enough clients that a slow answer does not
/// hold the next one back; the latencies.
fn drive_paced(
    port: u16,
    token: &str,
    rate: f64,
    requests: Vec<(&'static str, String, Option<Value>)>,
) -> (Timings, usize) {
    drive_at(port, token, 16, Some(rate), requests)
}

// ---------------------------------------------------------------------------------------
// Overload.

/// What one terminal saw.
#[derive(Default)]
struct TerminalLog {
    /// (patient, dose id) of every 201.
    acknowledged: Vec<(String, String)>,
    /// Answers by status.
    statuses: std::collections::BTreeMap<u16, usize>,
    /// 429 and 503 answers without `Retry-After`.
    without_retry_after: usize,
    /// Requests whose connection failed (then reconnected).
    dropped: usize,
}

fn overload_bench(args: OverloadArgs) {
    let tmp = tempfile_dir(args.dir.clone());
    let pg = args.database_url.as_deref();
    announce(&tmp, pg);
    let db = BenchDb::new(&tmp, "overload", pg);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    // The service's production settings: its pool, its per-user rate limit, its time limits.
    let vars = [
        ("DATABASE_URL", db.url.clone()),
        ("MMT_JWT_SECRET", "bench-secret-of-at-least-32-characters".to_string()),
        ("MMT_ADMIN_PASSWORD", PASSWORD.to_string()),
        ("MMT_AUDIT_KEY", "bench-audit-key-of-at-least-32-characters".to_string()),
    ];
    let config = Config::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("config");
    let (rate_limit, pool_size) = (config.rate_limit_per_minute, config.pool_size);
    let state = runtime.block_on(AppState::start(config)).expect("start");
    let site_id = bench_site(&state);
    let (doctor_id, _) = bench_staff(&runtime, &state, vec![site_id.clone()]);
    let nurses = args.nurses.max(1);
    runtime.block_on(async {
        for n in 0..nurses {
            let new = NewStaff {
                username: format!("nurse.t{n}"),
                password: PASSWORD.into(),
                display_name: format!("nurse {n}"),
                role: Role::Nurse,
                site_ids: vec![site_id.clone()],
                townships: vec![],
            };
            staff::create_by_system(&state, new).await.expect("nurse");
        }
    });
    let today = state.today();
    let count = args.terminals * args.patients_per_terminal;
    let seeded = Instant::now();
    let patients = seed_patients(&state, &site_id, &doctor_id, count, Some((60, today)), 5);
    println!(
        "  seeded {count} patients with active orders and {nurses} nurses in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let port = serve(state.clone());
    std::thread::sleep(Duration::from_millis(300));
    let tokens: Vec<String> = (0..nurses).map(|n| login(port, &format!("nurse.t{n}"))).collect();
    let window_token = login(port, "nurse.bench");

    println!(
        "\n[overload] {} terminals signed in as {nurses} nurses (rate limit {rate_limit}/min each, pool {pool_size}), \
         each dosing its {} patients as fast as it is answered, for {:.0} s",
        args.terminals, args.patients_per_terminal, args.seconds
    );
    let until = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let terminals: Vec<_> = patients
        .chunks(args.patients_per_terminal.max(1))
        .enumerate()
        .map(|(t, mine)| {
            let token = tokens[t % tokens.len()].clone();
            let mine: Vec<String> = mine.iter().map(|(id, ..)| id.clone()).collect();
            let site_id = site_id.clone();
            std::thread::spawn(move || terminal(port, &token, &site_id, &mine, until))
        })
        .collect();
    // Meanwhile: a load balancer's health check and one window's dosing decisions, ten a second each.
    let probe = |path: Box<dyn Fn(usize) -> String + Send>, token: String, fresh_connection: bool| {
        std::thread::spawn(move || {
            let mut client = Client::connect(port, &token);
            let (mut times, mut failures) = (Vec::new(), Vec::new());
            let mut i = 0;
            while Instant::now() < until {
                if fresh_connection {
                    client = Client::connect(port, &token);
                }
                let t0 = Instant::now();
                match client.try_send("GET", &path(i), None, None) {
                    Some(a) if a.status == 200 => times.push(t0.elapsed()),
                    Some(a) => failures.push(a.status),
                    None => {
                        failures.push(0);
                        client = Client::connect(port, &token);
                    }
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            (Timings::of(times, 0.0), failures)
        })
    };
    let health = probe(Box::new(|_| "/healthz".to_string()), String::new(), true);
    let ids: Vec<String> = patients.iter().map(|(id, ..)| id.clone()).collect();
    let window_site = site_id.clone();
    let window = probe(
        Box::new(move |i| format!("/api/v1/patients/{}/dispensing?site_id={window_site}", ids[(i * 7919) % ids.len()])),
        window_token,
        false,
    );
    let logs: Vec<TerminalLog> = terminals.into_iter().map(|t| t.join().expect("terminal")).collect();
    let seconds = started.elapsed().as_secs_f64();
    let (health, health_failures) = health.join().expect("health probe");
    let (window, window_failures) = window.join().expect("window probe");

    // Every acknowledged dose is in the database, once; nothing else was given today.
    let acknowledged: Vec<(String, String)> = logs.iter().flat_map(|l| l.acknowledged.clone()).collect();
    let stored: Vec<(String, String)> = {
        use diesel::prelude::*;
        use mmt_clinic::db::schema::doses;
        doses::table
            .filter(doses::dose_day.eq(today))
            .select((doses::patient_id, doses::id))
            .load(&mut db.conn())
            .expect("doses")
    };
    let stored_ids: std::collections::HashSet<&String> = stored.iter().map(|(_, id)| id).collect();
    let lost = acknowledged.iter().filter(|(_, id)| !stored_ids.contains(id)).count();
    let mut per_patient: std::collections::HashMap<&String, usize> = std::collections::HashMap::new();
    for (p, _) in &stored {
        *per_patient.entry(p).or_default() += 1;
    }
    let twice = per_patient.values().filter(|&&n| n > 1).count();

    let mut statuses: std::collections::BTreeMap<u16, usize> = std::collections::BTreeMap::new();
    for log in &logs {
        for (s, n) in &log.statuses {
            *statuses.entry(*s).or_default() += n;
        }
    }
    let without_retry_after: usize = logs.iter().map(|l| l.without_retry_after).sum();
    let dropped: usize = logs.iter().map(|l| l.dropped).sum();
    let answered: usize = statuses.values().sum();
    println!("  requests answered          {answered} in {seconds:.1} s ({:.0}/s)", answered as f64 / seconds);
    let by_status: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    println!("  answers by status          {}", by_status.join(", "));
    println!("  connections dropped        {dropped}");
    println!("  doses acknowledged (201)   {} ({:.0}/s)", acknowledged.len(), acknowledged.len() as f64 / seconds);
    println!("  doses in the database      {} (patients with two: {twice})", stored.len());
    println!("  acknowledged but missing   {lost}");
    println!(
        "  health check               {} answered 200, {} not; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        health.count,
        health_failures.len(),
        health.p50(),
        health.p99(),
        percentile(&health.sorted, 1.0)
    );
    println!(
        "  a window's decisions       {} answered 200, {} not; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        window.count,
        window_failures.len(),
        window.p50(),
        window.p99(),
        percentile(&window.sorted, 1.0)
    );
    let mut problems = Vec::new();
    let unexpected: usize =
        statuses.iter().filter(|(s, _)| ![201, 409, 422, 429, 503].contains(*s)).map(|(_, n)| n).sum();
    if unexpected > 0 {
        problems.push(format!("{unexpected} answers other than 201, 409, 422, 429 or 503"));
    }
    if without_retry_after > 0 {
        problems.push(format!("{without_retry_after} answers 429/503 without Retry-After"));
    }
    if lost > 0 || twice > 0 {
        problems.push(format!("{lost} acknowledged doses missing, {twice} patients dosed twice"));
    }
    if !health_failures.is_empty() || health.count == 0 {
        problems.push(format!("the health check failed: {health_failures:?}"));
    }
    if !window_failures.is_empty() || window.count == 0 {
        problems.push(format!("the window's decisions failed: {window_failures:?}"));
    }
    if let Some(bound) = args.bound_ms {
        let worst = percentile(&health.sorted, 1.0).max(percentile(&window.sorted, 1.0));
        println!("  within {bound} ms             {}", if worst <= bound as f64 { "yes" } else { "no" });
        if worst > bound as f64 {
            problems.push(format!("a health check or decision took {worst:.0} ms (bound {bound} ms)"));
        }
    }
    if !problems.is_empty() {
        eprintln!("mmt-bench overload: {}", problems.join("; "));
        std::process::exit(1);
    }
}

/// One terminal: doses its patients one after another, each with its own Idempotency-Key,
/// waiting as told by `Retry-After` (at most a second) and sending the same key again.
fn terminal(port: u16, token: &str, site_id: &str, patients: &[String], until: Instant) -> TerminalLog {
    let mut log = TerminalLog::default();
    let mut client = Client::connect(port, token);
    for patient in patients {
        let key = db::new_id();
        let body = json!({"patient_id": patient, "site_id": site_id, "dose_mg": 60,
                          "identity_confirmed": true, "intoxication_check": "clear"});
        while Instant::now() < until {
            let Some(answer) = client.try_send("POST", "/api/v1/doses", Some(&body), Some(&key)) else {
                log.dropped += 1;
                client = Client::connect(port, token);
                continue;
            };
            *log.statuses.entry(answer.status).or_default() += 1;
            match answer.status {
                429 | 503 => {
                    let Some(wait) = answer.retry_after else {
                        log.without_retry_after += 1;
                        break;
                    };
                    std::thread::sleep(Duration::from_secs(wait).min(Duration::from_secs(1)));
                }
                201 => {
                    let id = answer.body["id"].as_str().unwrap_or_default().to_string();
                    log.acknowledged.push((patient.clone(), id));
                    break;
                }
                _ => break,
            }
        }
        if Instant::now() >= until {
            break;
        }
    }
    log
}
