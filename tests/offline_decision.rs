//! The browser's offline copy of the dosing decision (`static/js/offline-decision.js`)
//! against the server's (`domain::dispensing::decide`), on generated days and event
//! sequences: for every generated patient day, its day-sheet entry and a sequence of
//! events at the window (time passing, the due dose given, a dose withheld), the offline
//! decision after each event must be the server's — the same codes in the same order, the
//! same due amount, portion, total and limit. Runs the copy in Node (Debian `nodejs`).

mod common;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mmt_clinic::domain::dispensing::{decide, DayRange, Decision, GivenDose, PatientDay, PatientStatus, SiteAccess};
use mmt_clinic::domain::offline::sheet_entry;
use mmt_clinic::domain::orders::{Order, OrderBook, Phase};
use mmt_clinic::domain::quantity::DeciMg;
use mmt_clinic::domain::rules::RuleSet;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const CASES: usize = 4000;

/// One generated patient day: everything `decide` reads, owned.
struct Case {
    date: NaiveDate,
    now: DateTime<Utc>,
    status: PatientStatus,
    orders: OrderBook,
    last_dose_day: Option<NaiveDate>,
    excused: Vec<DayRange>,
    review: Option<DeciMg>,
    withheld: bool,
    doses: Vec<GivenDose>,
    events: Vec<Event>,
}

#[derive(Clone, Copy)]
enum Event {
    Advance(i64),
    GiveDue,
    Withhold,
}

fn generate(rng: &mut StdRng) -> Case {
    let date = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
    let day = |back: i64| date - Duration::days(back);
    let deci = |rng: &mut StdRng, lo: i64, hi: i64| DeciMg(rng.gen_range(lo..=hi) * 5);
    let mut orders = Vec::new();
    if rng.gen_bool(0.9) {
        let daily = deci(rng, 2, 300);
        let portions = (rng.gen_bool(0.35) && daily.0 >= 20).then(|| {
            let first = DeciMg(rng.gen_range(1..daily.0 / 5) * 5);
            [first, DeciMg(daily.0 - first.0)]
        });
        let start = day(rng.gen_range(0..30));
        let end = match rng.gen_range(0..10) {
            0 => Some(day(1)), // ended yesterday: nothing covers today
            1 => Some(date + Duration::days(3)),
            _ => None,
        };
        let phase = [Phase::Induction, Phase::Maintenance, Phase::Taper][rng.gen_range(0..3)];
        orders.push(Order {
            id: "order-1".into(),
            daily,
            portions,
            start_date: start,
            end_date: end.filter(|e| *e >= start),
            phase,
            starts_episode: true,
            last_dose_on: None,
            effective_from: Some(start),
        });
    }
    let last_dose_day = rng.gen_bool(0.85).then(|| day(rng.gen_range(1..9)));
    let excused = if rng.gen_bool(0.2) {
        let from = day(rng.gen_range(1..7));
        vec![DayRange { from, to: from + Duration::days(rng.gen_range(0..3)) }]
    } else {
        vec![]
    };
    // The window opens at 07:00 in China (23:00 UTC the day before) and stays open till 18:00.
    let opening = Utc.with_ymd_and_hms(2026, 11, 9, 23, 0, 0).unwrap();
    let now = opening + Duration::minutes(rng.gen_range(0..11 * 60));
    let mut doses = Vec::new();
    let daily_portions = orders.first().and_then(|o: &Order| o.portions);
    match (rng.gen_range(0..6), daily_portions) {
        (0, _) => doses.push(given(1, deci(rng, 2, 300), now - Duration::minutes(rng.gen_range(1..240)))),
        (1, Some([first, _])) => {
            // Often right at the six hours between portions: a minute before, on it, after.
            let ago = if rng.gen_bool(0.3) { rng.gen_range(359..=361) } else { rng.gen_range(1..600) };
            doses.push(given(1, first, now - Duration::minutes(ago)))
        }
        _ => {}
    }
    let events = (0..rng.gen_range(0..6))
        .map(|_| match rng.gen_range(0..10) {
            0..=3 => Event::Advance(rng.gen_range(1..8 * 60)),
            4..=8 => Event::GiveDue,
            _ => Event::Withhold,
        })
        .collect();
    Case {
        date,
        now,
        status: if rng.gen_bool(0.92) { PatientStatus::Active } else { PatientStatus::Suspended },
        orders: OrderBook::new(orders),
        last_dose_day,
        excused,
        review: rng.gen_bool(0.25).then(|| deci(rng, 1, 300)),
        withheld: rng.gen_bool(0.1),
        doses,
        events,
    }
}

fn given(portion: u8, amount: DeciMg, at: DateTime<Utc>) -> GivenDose {
    GivenDose { portion, amount, given_at: at, site_id: "site-1".into(), home_visit: false }
}

/// What the window shows of a decision, in the offline copy's terms.
fn seen(d: &Decision) -> Value {
    json!({
        "can_dispense": d.can_dispense(),
        "due_deci_mg": d.due.0,
        "portion": d.portion,
        "given_deci_mg": d.given.0,
        "day_total_deci_mg": d.day_total.0,
        "review_limit_deci_mg": d.review_limit.map(|l| l.0),
        "missed_days": d.missed_days,
        "codes": d.blocks.iter().map(|b| b.violation.code.as_str()).collect::<Vec<_>>(),
    })
}

/// The server's decisions: at the start, then after each event.
/// The case's day as the server sees it with these doses, at this time.
fn patient_day<'a>(case: &'a Case, doses: &'a [GivenDose], now: DateTime<Utc>, withheld: bool) -> PatientDay<'a> {
    PatientDay {
        date: case.date,
        now,
        status: case.status,
        orders: &case.orders,
        last_dose_day: case.last_dose_day,
        doses,
        excused: &case.excused,
        review: case.review,
        withheld,
    }
}

fn server_run(case: &Case, rules: &RuleSet) -> (Value, Vec<Value>) {
    let access = Some(SiteAccess::HELD);
    let mut doses = case.doses.clone();
    let (mut now, mut withheld) = (case.now, case.withheld);
    let entry = sheet_entry(&patient_day(case, &doses, now, withheld), rules);
    let mut decision = decide(&patient_day(case, &doses, now, withheld), access, rules);
    let mut out = vec![seen(&decision)];
    for event in &case.events {
        match *event {
            Event::Advance(minutes) => now += Duration::minutes(minutes),
            Event::GiveDue if decision.can_dispense() => doses.push(given(decision.portion, decision.due, now)),
            Event::GiveDue => {}
            Event::Withhold => withheld = true,
        }
        decision = decide(&patient_day(case, &doses, now, withheld), access, rules);
        out.push(seen(&decision));
    }
    (serde_json::to_value(entry).unwrap(), out)
}

/// Runs every case through the offline copy in one Node process.
fn offline_run(cases: &[Value]) -> Vec<Vec<Value>> {
    common::ensure_debian_packages(&[("/usr/bin/node", "nodejs")]);
    let module = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static/js/offline-decision.js");
    let dir = tempfile::tempdir().unwrap();
    let harness = dir.path().join("harness.mjs");
    std::fs::write(
        &harness,
        format!(
            r#"import {{ decideOffline, withDose, withWithheld }} from {module:?};
import {{ readFileSync }} from "node:fs";
const seen = (d) => ({{
  can_dispense: d.can_dispense, due_deci_mg: d.due_deci_mg, portion: d.portion,
  given_deci_mg: d.given_deci_mg, day_total_deci_mg: d.day_total_deci_mg,
  review_limit_deci_mg: d.review_limit_deci_mg, missed_days: d.missed_days,
  codes: d.blocks.map((b) => b.code),
}});
const out = JSON.parse(readFileSync(0, "utf8")).map(({{ entry, now, events }}) => {{
  let time = Date.parse(now);
  let decision = decideOffline(entry, time);
  const steps = [seen(decision)];
  for (const event of events) {{
    if (event.advance_minutes) time += event.advance_minutes * 60000;
    if (event.give && decision.can_dispense) {{
      entry = withDose(entry, {{ portion: decision.portion, deci_mg: decision.due_deci_mg, given_at: new Date(time).toISOString() }});
    }}
    if (event.withhold) entry = withWithheld(entry);
    decision = decideOffline(entry, time);
    steps.push(seen(decision));
  }}
  return steps;
}});
process.stdout.write(JSON.stringify(out));
"#,
            module = format!("file://{}", module.display())
        ),
    )
    .unwrap();
    let input = dir.path().join("cases.json");
    std::fs::write(&input, serde_json::to_vec(cases).unwrap()).unwrap();
    let output = std::process::Command::new("node")
        .arg(&harness)
        .stdin(std::fs::File::open(&input).unwrap())
        .output()
        .expect("running node");
    assert!(output.status.success(), "node: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the harness's answer")
}

#[test]
fn the_offline_decision_agrees_with_the_servers_on_generated_days() {
    let rules = RuleSet::default();
    let mut rng = StdRng::seed_from_u64(15);
    let cases: Vec<Case> = (0..CASES).map(|_| generate(&mut rng)).collect();
    let mut inputs = Vec::new();
    let mut expected = Vec::new();
    for case in &cases {
        let (entry, steps) = server_run(case, &rules);
        let events: Vec<Value> = case
            .events
            .iter()
            .map(|e| match *e {
                Event::Advance(m) => json!({"advance_minutes": m}),
                Event::GiveDue => json!({"give": true}),
                Event::Withhold => json!({"withhold": true}),
            })
            .collect();
        inputs.push(json!({"entry": entry, "now": case.now.to_rfc3339(), "events": events}));
        expected.push(steps);
    }
    let actual = offline_run(&inputs);
    assert_eq!(actual.len(), cases.len());
    for (i, (offline, server)) in actual.iter().zip(&expected).enumerate() {
        for (step, (o, s)) in offline.iter().zip(server).enumerate() {
            assert_eq!(o, s, "case {i}, step {step}: offline differs from the server; input {}", inputs[i]);
        }
        assert_eq!(offline.len(), server.len(), "case {i}");
    }

    // The generator reaches every way the decision can end, or the agreement means little.
    let all: Vec<&Value> = expected.iter().flatten().collect();
    for code in [
        "patient_not_active",
        "no_active_order",
        "already_dosed_today",
        "split_interval_not_elapsed",
        "reinduction_required",
        "doctor_review_required",
    ] {
        let n = all.iter().filter(|s| s["codes"].as_array().unwrap().iter().any(|c| c == code)).count();
        assert!(n >= 20, "only {n} decisions blocked by {code}");
    }
    let dispensable = all.iter().filter(|s| s["can_dispense"] == true).count();
    let second_portions = all.iter().filter(|s| s["can_dispense"] == true && s["portion"] == 2).count();
    let reviewed = all.iter().filter(|s| s["can_dispense"] == true && !s["review_limit_deci_mg"].is_null()).count();
    assert!(
        dispensable >= 1000 && second_portions >= 50 && reviewed >= 50,
        "{dispensable} {second_portions} {reviewed}"
    );
}
