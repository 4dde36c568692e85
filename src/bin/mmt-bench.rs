//! The dose-path benchmark. In one run, on SQLite with the service's own settings
//! (WAL, synchronous=FULL):
//! 1. the raw durable single-row insert rate of the engine (one row per transaction): the
//!    physical limit a dose cannot beat;
//! 2. the real HTTP dose path — the decision GET then the dose POST, as the dosing screen
//!    does — driven by C concurrent keep-alive clients over N patients with active orders:
//!    doses/s, latency p50/p99, and the ratio to the raw rate;
//! 3. patient search latency with 100,000 patients enrolled.
//!
//! Run: `cargo run --release --bin mmt-bench -- --patients 4000 --clients 8`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use chrono::Duration as Days;
use clap::Parser;
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use mmt_clinic::config::Config;
use mmt_clinic::db::orders::{self as orders_q, ActivationRow, OrderRow};
use mmt_clinic::db::patients::{self as patients_q, PatientRow};
use mmt_clinic::db::{self, ConnManager, DbUrl};
use mmt_clinic::domain::staff::Role;
use mmt_clinic::services::sites::{NewSite, SiteKind};
use mmt_clinic::services::staff::NewStaff;
use mmt_clinic::services::{run_write, sites, staff, synthetic, AppState};

#[derive(Parser)]
#[command(about = "Dose-path and search benchmark (release build; SQLite, synchronous=FULL)")]
struct Args {
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
    /// Where to put the databases (default: a temporary folder).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

const PASSWORD: &str = "bench-password-1";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Raw durable inserts: one row per `BEGIN IMMEDIATE … COMMIT`, same pragmas as the service.
fn raw_insert_rate(dir: &std::path::Path, rows: usize) -> f64 {
    let url = DbUrl::Sqlite(dir.join("raw.sqlite3").display().to_string());
    let mut conn = ConnManager::new(url).establish().expect("raw database");
    conn.batch_execute(
        "CREATE TABLE raw (id TEXT PRIMARY KEY NOT NULL, patient_id TEXT NOT NULL, dose_day DATE NOT NULL, \
         deci_mg INTEGER NOT NULL, given_at TIMESTAMP NOT NULL)",
    )
    .expect("raw table");
    let started = Instant::now();
    for i in 0..rows {
        conn.batch_execute(&format!(
            "BEGIN IMMEDIATE; INSERT INTO raw VALUES ('{}', 'p{i}', '2026-11-29', 600, '2026-11-29 08:00:00'); COMMIT;",
            db::new_id()
        ))
        .expect("raw insert");
    }
    rows as f64 / started.elapsed().as_secs_f64()
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
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.token,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).expect("send");
        let mut line = String::new();
        self.stream.read_line(&mut line).expect("status line");
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0;
        loop {
            line.clear();
            self.stream.read_line(&mut line).expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut buf = vec![0; length];
        self.stream.read_exact(&mut buf).expect("body");
        (status, serde_json::from_slice(&buf).unwrap_or(Value::Null))
    }
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

/// Enrols `count` patients at `site_id` (bulk, in large transactions); with `order_mg`,
/// each gets an active induction order from today. Returns their ids and numbers.
fn seed_patients(
    state: &AppState,
    site_id: &str,
    doctor: &str,
    count: usize,
    order_mg: Option<i32>,
    seed: u64,
) -> Vec<(String, String, String, String)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let today = state.today();
    let mut out = Vec::with_capacity(count);
    let mut conn = state.pool.get().expect("connection");
    for chunk in (0..count).collect::<Vec<_>>().chunks(5000) {
        let batch = run_write(&mut conn, state.now(), |tx| {
            let mut batch = Vec::new();
            for _ in chunk {
                let male = rng.gen_bool(0.85);
                let birth = synthetic::birth_date(&mut rng, today);
                let no = patients_q::next_patient_no(tx.conn)?;
                let mut id_number = synthetic::id_number(birth, no as u32, male);
                let mut attempt = 1;
                while patients_q::find_by_id_number(tx.conn, &id_number)?.is_some() {
                    id_number = synthetic::id_number(birth, no as u32 + attempt * 7919, male);
                    attempt += 1;
                }
                let at = tx.now.naive_utc();
                let row = PatientRow {
                    id: db::new_id(),
                    patient_no: no.to_string(),
                    name: synthetic::name(&mut rng),
                    id_number_rev: id_number.chars().rev().collect(),
                    id_number: id_number.clone(),
                    sex: if male { "M".into() } else { "F".into() },
                    birth_date: birth,
                    phone: None,
                    address: None,
                    township: "柳市镇".into(),
                    home_site_id: site_id.to_string(),
                    enrolled_on: today - Days::days(30),
                    risk_level: 2,
                    consent_to_share: true,
                    status: "active".into(),
                    created_at: at,
                    updated_at: at,
                };
                patients_q::insert(tx.conn, &row)?;
                if let Some(mg) = order_mg {
                    let order = OrderRow {
                        id: db::new_id(),
                        patient_id: row.id.clone(),
                        daily_deci_mg: mg * 10,
                        portion1_deci_mg: None,
                        portion2_deci_mg: None,
                        start_date: today,
                        end_date: None,
                        phase: "induction".into(),
                        reason: "bench".into(),
                        override_reason: None,
                        transfer_from: None,
                        last_dose_on: None,
                        starts_episode: true,
                        needs_approval: false,
                        prescriber_id: doctor.to_string(),
                        created_at: at,
                    };
                    orders_q::insert(tx.conn, &order)?;
                    orders_q::activate(
                        tx.conn,
                        &ActivationRow {
                            order_id: order.id.clone(),
                            patient_id: row.id.clone(),
                            effective_from: today,
                            activated_at: at,
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
    let args = Args::parse();
    if std::env::var("MMT_LOG").is_err() {
        std::env::set_var("MMT_LOG", "warn");
    }
    mmt_clinic::telemetry::init();
    let tmp = tempfile_dir(args.dir.clone());
    let dir = tmp.as_path();
    println!("mmt-bench: SQLite, journal_mode=WAL, synchronous=FULL, data in {}", dir.display());
    println!("machine: {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));

    // 1. The physical limit.
    let raw = raw_insert_rate(dir, args.raw_rows);
    println!("\n[raw] durable single-row inserts: {raw:.0} rows/s ({} rows, one transaction each)", args.raw_rows);

    // 2. The service.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let db_path = dir.join("bench.sqlite3");
    let vars = [
        ("DATABASE_URL", format!("sqlite://{}", db_path.display())),
        ("MMT_JWT_SECRET", "bench-secret-of-at-least-32-characters".to_string()),
        ("MMT_ADMIN_PASSWORD", PASSWORD.to_string()),
    ];
    let config = Config::from_vars(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("config");
    let state = runtime.block_on(AppState::start(config)).expect("start");
    let (site_id, doctor_id) = runtime.block_on(async {
        let mut conn = state.pool.get().expect("connection");
        let site = run_write(&mut conn, state.now(), |tx| {
            sites::create_in(
                tx,
                None,
                &NewSite {
                    code: "LS".into(), name: "柳市服药点".into(), kind: SiteKind::Dispensary, address: None
                },
            )
        })
        .expect("site");
        for (username, role) in [("nurse.bench", Role::Nurse), ("dr.bench", Role::Doctor)] {
            staff::create_by_system(
                &state,
                NewStaff {
                    username: username.into(),
                    password: PASSWORD.into(),
                    display_name: username.into(),
                    role,
                    site_ids: vec![site.id.clone()],
                    townships: vec![],
                },
            )
            .await
            .expect("staff");
        }
        let doctor =
            state.read(|c| Ok(db::staff::find_by_username(c, "dr.bench")?.map(|s| s.id))).await.expect("doctor");
        (site.id, doctor.unwrap_or_default())
    });
    let seeded = Instant::now();
    let patients = seed_patients(&state, &site_id, &doctor_id, args.patients, Some(60), 1);
    println!("[seed] {} patients with active orders in {:.1} s", patients.len(), seeded.elapsed().as_secs_f64());

    let port = serve(state.clone());
    std::thread::sleep(Duration::from_millis(300));
    let token = login(port, "nurse.bench");
    let next = Arc::new(AtomicUsize::new(0));
    let patients = Arc::new(patients);
    let post_latencies = Arc::new(Mutex::new(Vec::with_capacity(args.patients)));
    let pair_latencies = Arc::new(Mutex::new(Vec::with_capacity(args.patients)));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..args.clients)
        .map(|_| {
            let (next, patients, posts, pairs, failures) =
                (next.clone(), patients.clone(), post_latencies.clone(), pair_latencies.clone(), failures.clone());
            let (token, site) = (token.clone(), site_id.clone());
            std::thread::spawn(move || {
                let mut client = Client::connect(port, &token);
                let (mut my_posts, mut my_pairs) = (Vec::new(), Vec::new());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((patient, ..)) = patients.get(i) else { break };
                    let t0 = Instant::now();
                    let (status, decision) =
                        client.request("GET", &format!("/api/v1/patients/{patient}/dispensing?site_id={site}"), None);
                    if status != 200 || decision["can_dispense"] != true {
                        failures.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let body = json!({"patient_id": patient, "site_id": site, "dose_mg": decision["due_mg"],
                                      "identity_confirmed": true, "intoxication_check": "clear"});
                    let t1 = Instant::now();
                    let (status, _) = client.request("POST", "/api/v1/doses", Some(&body));
                    let done = Instant::now();
                    if status != 201 {
                        failures.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    my_posts.push(done - t1);
                    my_pairs.push(done - t0);
                }
                posts.lock().map(|mut v| v.extend(my_posts)).ok();
                pairs.lock().map(|mut v| v.extend(my_pairs)).ok();
            })
        })
        .collect();
    for t in threads {
        t.join().ok();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut posts = post_latencies.lock().map(|v| v.clone()).unwrap_or_default();
    let mut pairs = pair_latencies.lock().map(|v| v.clone()).unwrap_or_default();
    posts.sort();
    pairs.sort();
    let rate = posts.len() as f64 / elapsed;
    println!(
        "\n[doses] {} doses by {} keep-alive clients in {elapsed:.2} s, {} failures",
        posts.len(),
        args.clients,
        failures.load(Ordering::Relaxed)
    );
    println!("[doses] throughput: {rate:.0} doses/s (each: decision GET + dose POST)");
    println!(
        "[doses] POST /doses latency: p50 {:.2} ms, p99 {:.2} ms; GET+POST p50 {:.2} ms, p99 {:.2} ms",
        percentile(&posts, 0.5),
        percentile(&posts, 0.99),
        percentile(&pairs, 0.5),
        percentile(&pairs, 0.99)
    );
    println!("[doses] ratio to the raw durable insert rate: {:.2}", rate / raw);

    // 3. Search at scale.
    let existing = patients.len();
    let more = args.search_patients.saturating_sub(existing);
    let seeded = Instant::now();
    let extra = seed_patients(&state, &site_id, &doctor_id, more, None, 2);
    println!(
        "\n[search] enrolled {} more patients ({} in all) in {:.1} s",
        extra.len(),
        existing + extra.len(),
        seeded.elapsed().as_secs_f64()
    );
    let doctor_token = login(port, "dr.bench");
    let mut client = Client::connect(port, &doctor_token);
    let mut rng = StdRng::seed_from_u64(3);
    let mut latencies = Vec::with_capacity(args.searches);
    let mut hits = 0usize;
    for i in 0..args.searches {
        let (_, no, name, id_number) = &extra[rng.gen_range(0..extra.len())];
        let q = match i % 3 {
            0 => name.chars().take(2).collect::<String>(),
            1 => no.clone(),
            _ => id_number[id_number.len() - 6..].to_string(),
        };
        let path = format!("/api/v1/patients?q={}", encode(&q));
        let t0 = Instant::now();
        let (status, body) = client.request("GET", &path, None);
        latencies.push(t0.elapsed());
        if status == 200 && body.as_array().is_some_and(|a| !a.is_empty()) {
            hits += 1;
        }
    }
    latencies.sort();
    println!(
        "[search] {} searches (name fragment / patient number / id suffix), {hits} with hits: p50 {:.2} ms, p99 {:.2} ms",
        args.searches,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
    std::process::exit(0);
}

fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The data folder: the one given, or a fresh temporary one.
fn tempfile_dir(dir: Option<std::path::PathBuf>) -> std::path::PathBuf {
    let path = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("mmt-bench-{}", std::process::id())));
    std::fs::create_dir_all(&path).expect("bench folder");
    path
}
