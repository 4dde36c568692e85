//! Demo data: the real shape of a county network (乐清市), so that a newcomer sees a living
//! clinic — and a living rehab side: community detox/rehab cases in every state, drug tests
//! over the 90 days, and the alerts the attendance sweep opens over all of it. Only fills a
//! database that has no sites yet.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::{people, CaseSpec, DoseSpec, OrderSpec, TestSpec};
use crate::clock::local_instant;
use crate::db::doses::{self as doses_q, GuestDosingRow};
use crate::db::drug_tests::PoliceRow;
use crate::db::patients::PatientRow;
use crate::db::{sites as sites_q, staff as staff_q};
use crate::domain::alerts::SweepCause;
use crate::domain::drug_tests::{TestKind, TestResult};
use crate::domain::orders::Phase;
use crate::domain::patients::Sex;
use crate::domain::rehab::{CaseEventKind, CaseKind};
use crate::domain::staff::Role;
use crate::error::AppResult;
use crate::services::patients::{self, NewPatient};
use crate::services::sites::{self, NewSite, SiteKind};
use crate::services::staff::{self, NewStaff};
use crate::services::sweep::{self, SweepSummary};
use crate::services::{AppState, Tx};

/// The password every demo account shares. Demo data only: never on a real network.
pub const DEMO_PASSWORD: &str = "mmt-demo-2026";

pub struct DemoLogin {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub where_: String,
}

pub struct DemoOutcome {
    /// False when the database already had sites and nothing was added.
    pub created: bool,
    pub logins: Vec<DemoLogin>,
    pub patients: usize,
    pub rehab_cases: usize,
    pub drug_tests: usize,
    /// What the attendance sweep run over the new demo data did (None when nothing was added).
    pub sweep: Option<SweepSummary>,
}

const SITES: [(&str, &str, SiteKind, &str); 5] = [
    ("LQ", "乐清市美沙酮门诊部", SiteKind::Clinic, "浙江省乐清市乐成街道建设东路"),
    ("LS", "柳市服药点", SiteKind::Dispensary, "乐清市柳市镇柳青路"),
    ("HQ", "虹桥服药点", SiteKind::Dispensary, "乐清市虹桥镇虹桥中路"),
    ("BS", "白石服药点", SiteKind::Dispensary, "乐清市白石街道中雁路"),
    ("FR", "芙蓉服药点", SiteKind::Dispensary, "乐清市芙蓉镇芙蓉大道"),
];

/// (username, display name, role, site codes, townships)
type DemoStaff = (&'static str, &'static str, Role, &'static [&'static str], &'static [&'static str]);

const STAFF: [DemoStaff; 19] = [
    ("admin", "系统管理员", Role::Admin, &[], &[]),
    ("dr.chen", "陈建国", Role::Doctor, &["LQ", "LS", "HQ", "BS", "FR"], &[]),
    ("dr.wang", "王丽华", Role::Doctor, &["LQ", "LS", "HQ", "BS", "FR"], &[]),
    ("nurse.zhou", "周敏", Role::Nurse, &["LQ"], &[]),
    ("nurse.wu", "吴霞", Role::Nurse, &["LQ"], &[]),
    ("nurse.li", "李娜", Role::Nurse, &["LS"], &[]),
    ("nurse.xu", "徐静", Role::Nurse, &["LS"], &[]),
    ("nurse.huang", "黄燕", Role::Nurse, &["HQ"], &[]),
    ("nurse.ye", "叶青", Role::Nurse, &["HQ"], &[]),
    ("nurse.lin", "林芳", Role::Nurse, &["BS"], &[]),
    ("nurse.chi", "池丽", Role::Nurse, &["BS"], &[]),
    ("nurse.zheng", "郑红", Role::Nurse, &["FR"], &[]),
    ("nurse.jin", "金月", Role::Nurse, &["FR"], &[]),
    ("nurse.float", "蔡晓燕", Role::Nurse, &["LQ", "LS", "HQ", "BS", "FR"], &[]),
    ("sg.zhang", "张伟", Role::RehabWorker, &[], &["柳市镇", "北白象镇"]),
    ("sg.liu", "刘洋", Role::RehabWorker, &[], &["虹桥镇", "淡溪镇"]),
    ("sg.pan", "潘婷", Role::RehabWorker, &[], &["白石街道", "芙蓉镇", "乐成街道"]),
    ("sg.chen", "陈静", Role::RehabWorker, &[], &["乐成街道"]),
    ("sg.shi", "施晓东", Role::RehabWorker, &[], &["北白象镇"]),
];

/// Townships served by each site.
const TOWNSHIPS: [(&str, &[&str]); 5] = [
    ("LQ", &["乐成街道"]),
    ("LS", &["柳市镇", "北白象镇"]),
    ("HQ", &["虹桥镇", "淡溪镇"]),
    ("BS", &["白石街道"]),
    ("FR", &["芙蓉镇"]),
];

/// Patients per site in the demo network.
const PATIENTS_PER_SITE: usize = 60;

/// The rehab worker who holds the cases of each township (every township of [`TOWNSHIPS`]
/// has one; the township's other workers see the cases too).
const CASE_WORKERS: [(&str, &str); 7] = [
    ("乐成街道", "sg.chen"),
    ("柳市镇", "sg.zhang"),
    ("北白象镇", "sg.shi"),
    ("虹桥镇", "sg.liu"),
    ("淡溪镇", "sg.liu"),
    ("白石街道", "sg.pan"),
    ("芙蓉镇", "sg.pan"),
];

/// Community detox / rehab cases in the demo network.
const CASES: usize = 40;

pub async fn load(state: &AppState) -> AppResult<DemoOutcome> {
    let hash = state.passwords.hash(DEMO_PASSWORD.to_string()).await?;
    let tz = state.config.timezone;
    let (mut outcome, raise_candidates) = state
        .write(move |tx| {
            if sites_q::count(tx.conn)? > 0 {
                tx.audit(None, "demo.skipped", "demo", None, "database already has sites; no demo data added");
                let skipped = DemoOutcome {
                    created: false,
                    logins: Vec::new(),
                    patients: 0,
                    rehab_cases: 0,
                    drug_tests: 0,
                    sweep: None,
                };
                return Ok((skipped, Vec::new()));
            }
            let mut site_ids = std::collections::HashMap::new();
            let mut site_names = std::collections::HashMap::new();
            for (code, name, kind, address) in SITES {
                let site = sites::create_in(
                    tx,
                    None,
                    &NewSite { code: code.into(), name: name.into(), kind, address: Some(address.into()) },
                )?;
                site_ids.insert(code, site.id);
                site_names.insert(code, name);
            }
            let mut logins = Vec::new();
            let mut staff_ids: HashMap<&str, String> = HashMap::new();
            for (username, display_name, role, codes, townships) in STAFF {
                if let Some(existing) = staff_q::find_by_username(tx.conn, username)? {
                    staff_ids.insert(username, existing.id);
                    continue;
                }
                let new = NewStaff {
                    username: username.into(),
                    password: String::new(),
                    display_name: display_name.into(),
                    role,
                    site_ids: codes.iter().map(|c| site_ids[c].clone()).collect(),
                    townships: townships.iter().map(|t| t.to_string()).collect(),
                };
                let created = staff::create_in(tx, None, &new, hash.clone())?;
                staff_ids.insert(username, created.id);
                let where_ = if !codes.is_empty() {
                    codes.iter().map(|c| site_names[c]).collect::<Vec<_>>().join("、")
                } else {
                    townships.join("、")
                };
                logins.push(DemoLogin { username: username.into(), display_name: display_name.into(), role, where_ });
            }
            let mut rng = StdRng::seed_from_u64(20261129);
            let patients = load_patients(tx, &mut rng, tz, &site_ids, &staff_ids)?;
            let rehab = load_rehab(tx, &mut rng, tz, &patients, &staff_ids)?;
            let stock = load_stock(tx, &mut rng, tz, &site_ids, &staff_ids, &patients)?;
            guest_visit(tx, tz, &patients, &site_ids, &staff_ids)?;
            tx.audit(
                None,
                "demo.load",
                "demo",
                None,
                format!(
                    "demo network loaded: {} sites, {} staff, {} patients with up to 90 days of history, \
                     {} rehab cases, {} drug tests, {} closed stock days, {} home-visit patients",
                    SITES.len(),
                    logins.len(),
                    patients.len(),
                    rehab.cases,
                    rehab.tests,
                    stock.closed_days,
                    stock.home_visit_patients
                ),
            );
            // Patients in steady treatment, for the raises that wait for a second doctor.
            let today = tx.now.with_timezone(&tz).date_naive();
            let steady: Vec<String> = patients
                .iter()
                .filter(|p| p.stops_on.is_none() && p.start < today - Duration::days(45))
                .map(|p| p.row.id.clone())
                .collect();
            let outcome = DemoOutcome {
                created: true,
                logins,
                patients: patients.len(),
                rehab_cases: rehab.cases,
                drug_tests: rehab.tests,
                sweep: None,
            };
            Ok((outcome, steady))
        })
        .await?;
    if outcome.created {
        // The nightly sweep, run once now: the demo opens with the alerts its history calls for.
        outcome.sweep = Some(sweep::run(state, SweepCause::Demo).await?);
        pending_raises(state, &raise_candidates).await?;
    }
    Ok(outcome)
}

/// One 柳市 patient visiting family near 虹桥 from today, arranged this morning — after the
/// day's sheets were out — so 柳市's queue asks its nurse to release the day, and 虹桥's
/// window says whom to phone until then.
fn guest_visit(
    tx: &mut Tx<'_>,
    tz: Tz,
    patients: &[DemoPatient],
    site_ids: &HashMap<&str, String>,
    staff_ids: &HashMap<&str, String>,
) -> AppResult<()> {
    let today = tx.now.with_timezone(&tz).date_naive();
    let candidates: Vec<&DemoPatient> = patients
        .iter()
        .filter(|p| {
            p.site_code == "LS"
                && p.stops_on.is_none()
                && p.dosed.last() != Some(&today)
                && p.start < today - Duration::days(30)
        })
        .collect();
    let ids: Vec<String> = candidates.iter().map(|p| p.row.id.clone()).collect();
    // Not one of the home-visit patients: they do not travel.
    let at_home = crate::db::home_visits::authorizations_of(tx.conn, &ids)?;
    let Some(p) = candidates.into_iter().find(|p| !at_home.iter().any(|a| a.patient_id == p.row.id)) else {
        return Ok(());
    };
    let (Some(hq), Some(doctor)) = (site_ids.get("HQ"), staff_ids.get("dr.chen")) else { return Ok(()) };
    let row = GuestDosingRow {
        id: crate::db::new_id(),
        patient_id: p.row.id.clone(),
        site_id: hq.clone(),
        from_date: today,
        to_date: today + Duration::days(2),
        reason: "探亲".into(),
        created_by: doctor.clone(),
        created_at: tx.now.naive_utc(),
    };
    doses_q::insert_guest_dosing(tx.conn, &row)?;
    tx.audit(
        Some(doctor),
        "patient.guest_dosing",
        "patient",
        Some(&p.row.id),
        format!("patient {} may dose at HQ from {} to {}", p.row.patient_no, row.from_date, row.to_date),
    );
    Ok(())
}

/// Raises waiting for a second doctor's approval.
const PENDING_RAISES: usize = 2;

/// Raises above the high-dose line, prescribed by dr.wang through the same use cases a doctor
/// uses (an ECG first, then the order), so that each is one the order table accepts and
/// 医嘱审批 has work to show: the first steady patients whose dose can go 10 mg past the line.
async fn pending_raises(state: &AppState, candidates: &[String]) -> AppResult<usize> {
    use crate::services::{auth, orders};
    let wang = state
        .read(|conn| {
            let Some(row) = staff_q::find_by_username(conn, "dr.wang")? else { return Ok(None) };
            Ok(staff_q::find(conn, &row.id)?)
        })
        .await?;
    let Some(wang) = wang else { return Ok(0) };
    let actor = auth::actor_from(wang, "demo")?;
    let line = f64::from(state.config.rules.high_dose_threshold_mg);
    let tomorrow = state.today() + Duration::days(1);
    let mut written = 0;
    for patient_id in candidates {
        if written == PENDING_RAISES {
            break;
        }
        let current = orders::list(state, &actor, patient_id.clone()).await?;
        let Some(active) = current.iter().find(|o| o.status == "active" && o.portions_mg.is_none()) else { continue };
        let raised = active.daily_mg + 10.0;
        if raised <= line || active.daily_mg > line {
            continue;
        }
        // Above the line the order table asks for a recent ECG: the doctor records it first.
        let ecg = orders::NewEcg { taken_on: state.today() - Duration::days(2), qtc_ms: 432 };
        orders::add_ecg(state, &actor, patient_id.clone(), ecg).await?;
        let new = orders::NewOrder {
            daily_mg: raised,
            portions_mg: None,
            start_date: tomorrow,
            end_date: None,
            phase: Phase::Maintenance,
            reason: "仍有渴求感，午后戒断症状明显，加量 10 mg".into(),
            override_reason: None,
            transfer_from: None,
            last_dose_on: None,
        };
        // A raise the order table refuses for this patient (spacing, ECG) is simply not made.
        if let Ok(order) = orders::create(state, &actor, patient_id.clone(), new).await {
            if order.status == "pending_approval" {
                written += 1;
            }
        }
    }
    Ok(written)
}

/// The nurses of each site, by site code.
fn nurses_by_site<'a>(staff_ids: &'a HashMap<&str, String>) -> HashMap<&'static str, Vec<&'a String>> {
    let mut out: HashMap<&'static str, Vec<&String>> = HashMap::new();
    for (username, _, role, codes, _) in STAFF {
        if role == Role::Nurse && codes.len() == 1 {
            if let Some(id) = staff_ids.get(username) {
                out.entry(codes[0]).or_default().push(id);
            }
        }
    }
    out
}

/// A demo patient once its history is written: what its tests and rehab case build on.
struct DemoPatient {
    row: PatientRow,
    site_code: &'static str,
    start: NaiveDate,
    /// The day the patient stopped coming, if they did.
    stops_on: Option<NaiveDate>,
    /// Days with a dose, oldest first.
    dosed: Vec<NaiveDate>,
}

/// Patients with realistic titration histories and up to 90 days of observed doses, with
/// missed days, reviews after three missed days, a few high doses approved by a second
/// doctor, and a few patients who stopped coming.
fn load_patients(
    tx: &mut Tx<'_>,
    rng: &mut StdRng,
    tz: Tz,
    site_ids: &HashMap<&str, String>,
    staff_ids: &HashMap<&str, String>,
) -> AppResult<Vec<DemoPatient>> {
    let now = tx.now;
    let today = now.with_timezone(&tz).date_naive();
    let nurses = nurses_by_site(staff_ids);
    let (Some(doctor), Some(doctor2)) = (staff_ids.get("dr.chen").cloned(), staff_ids.get("dr.wang").cloned()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (code, townships) in TOWNSHIPS {
        let (Some(site_id), Some(site_nurses)) = (site_ids.get(code), nurses.get(code)) else { continue };
        for _ in 0..PATIENTS_PER_SITE {
            let plan = PatientPlan::draw(rng, today);
            let patient = new_patient(tx, rng, &plan, site_id, townships, today, &doctor)?;
            if rng.gen_bool(0.9) {
                super::photo(tx, &patient.id, people::placeholder_photo(rng, &patient.name), &doctor)?;
            }
            let dosed =
                write_history(tx, rng, &plan, &patient, site_id, site_nurses, (&doctor, &doctor2), tz, today, now)?;
            out.push(DemoPatient { row: patient, site_code: code, start: plan.start, stops_on: plan.stops_on, dosed });
        }
    }
    Ok(out)
}

/// How one demo patient's treatment goes.
struct PatientPlan {
    start: NaiveDate,
    first_mg: i32,
    target_mg: i32,
    miss_rate: f64,
    /// The patient stopped coming on this day (a dropout in the making).
    stops_on: Option<NaiveDate>,
    split: bool,
}

impl PatientPlan {
    fn draw(rng: &mut StdRng, today: NaiveDate) -> PatientPlan {
        let target_mg =
            *[40, 50, 55, 60, 60, 65, 70, 70, 80, 80, 90, 100, 110, 120].get(rng.gen_range(0..14)).unwrap_or(&60);
        let stops_on = match rng.gen_range(0..100) {
            0..=3 => Some(today - Duration::days(rng.gen_range(6..12))),
            4..=6 => Some(today - Duration::days(rng.gen_range(3..5))),
            _ => None,
        };
        PatientPlan {
            start: today - Duration::days(rng.gen_range(10..90)),
            first_mg: if rng.gen_bool(0.5) { 30 } else { 20 },
            target_mg,
            miss_rate: rng.gen_range(0.01..0.10),
            stops_on,
            split: target_mg >= 100 && rng.gen_bool(0.3),
        }
    }
}

/// Enrols a demo patient through the enrolment use case (its checks and audit entry).
fn new_patient(
    tx: &mut Tx<'_>,
    rng: &mut StdRng,
    plan: &PatientPlan,
    site_id: &str,
    townships: &[&str],
    today: NaiveDate,
    doctor: &str,
) -> AppResult<PatientRow> {
    let male = rng.gen_bool(0.85);
    let birth = people::birth_date(rng, today);
    let seq = crate::db::patients::next_patient_no(tx.conn)? as u32;
    let new = NewPatient {
        name: people::name(rng),
        id_number: people::free_id_number(tx.conn, birth, seq, male)?,
        sex: if male { Sex::M } else { Sex::F },
        birth_date: birth,
        phone: Some(people::mobile_number(rng)),
        address: None,
        township: townships[rng.gen_range(0..townships.len())].to_string(),
        home_site_id: site_id.to_string(),
        enrolled_on: plan.start - Duration::days(rng.gen_range(0..5)),
        risk_level: rng.gen_range(1..=3),
        consent_to_share: rng.gen_bool(0.75),
    };
    patients::enrol_in(tx, doctor, new, today)
}

/// A morning time on `day` (07:30 to 10:30 local) as UTC. The demo is the same clinic at
/// any hour: a dose of today whose time has not come yet (the demo loaded in the night or
/// during the morning rush) is placed at the same fraction of the time since local midnight,
/// so the same patients are dosed today whenever the demo is loaded.
fn morning(rng: &mut StdRng, tz: Tz, day: NaiveDate, now: DateTime<Utc>) -> DateTime<Utc> {
    const SPREAD_MINUTES: i32 = 180;
    let minutes = rng.gen_range(0..SPREAD_MINUTES);
    let at = local_instant(day, NaiveTime::from_hms_opt(7, 30, 0).unwrap_or(NaiveTime::MIN), tz)
        + Duration::minutes(i64::from(minutes));
    if at <= now {
        return at;
    }
    let midnight = local_instant(day, NaiveTime::MIN, tz);
    let since_midnight = (now - midnight).max(Duration::zero());
    midnight + since_midnight * minutes / SPREAD_MINUTES
}

#[allow(clippy::too_many_arguments)]
fn write_history(
    tx: &mut Tx<'_>,
    rng: &mut StdRng,
    plan: &PatientPlan,
    patient: &PatientRow,
    site_id: &str,
    nurses: &[&String],
    (doctor, doctor2): (&String, &String),
    tz: Tz,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<NaiveDate>> {
    let mut dosed = Vec::new();
    let order = |tx: &mut Tx<'_>, mg: i32, day: NaiveDate, phase: Phase, starts: bool| -> AppResult<String> {
        let high = mg > 100;
        if high {
            super::ecg(tx, &patient.id, day - Duration::days(2), 420 + mg % 37, doctor)?;
        }
        super::order(
            tx,
            OrderSpec {
                patient_id: &patient.id,
                daily_mg: mg,
                portions_mg: (plan.split && high).then_some([mg - 30, 30]),
                from: day,
                phase,
                starts_episode: starts,
                reason: if starts { "入组诱导" } else { "按反应调整剂量" },
                prescriber_id: doctor,
                approved_by: high.then_some(doctor2.as_str()),
            },
        )
    };

    let mut daily = plan.first_mg;
    let mut order_id = order(tx, daily, plan.start, Phase::Induction, true)?;
    let mut next_increase = plan.start + Duration::days(rng.gen_range(3..6));
    let mut missed_run = 0;
    let mut day = plan.start;
    while day <= today {
        if day >= next_increase && daily < plan.target_mg {
            daily = (daily + if rng.gen_bool(0.7) { 10 } else { 5 }).min(plan.target_mg);
            let phase = if daily >= 60 { Phase::Maintenance } else { Phase::Induction };
            order_id = order(tx, daily, day, phase, false)?;
            next_increase = day + Duration::days(rng.gen_range(3..8));
        }
        let stopped = plan.stops_on.is_some_and(|s| day >= s);
        // Today about half have been in already, so the morning queue has life in it.
        let not_yet_today = day == today && rng.gen_bool(0.55);
        let skip = stopped
            || not_yet_today
            || (missed_run < 2 && rng.gen_bool(plan.miss_rate))
            || (missed_run == 2 && rng.gen_bool(0.15));
        if skip {
            if day < today {
                missed_run += 1;
            }
            day += Duration::days(1);
            continue;
        }
        let given_at = morning(rng, tz, day, now);
        let nurse = nurses[rng.gen_range(0..nurses.len())];
        let mut amount = daily * 10;
        if missed_run >= 3 {
            // Three missed days: the doctor's review comes first, then half the order.
            amount = daily * 10 / 2 / 10 * 10;
            super::review(tx, &patient.id, day, amount, "连续漏服3天，减半给药并宣教", doctor)?;
        }
        let dose = |tx: &mut Tx<'_>, portion: i32, deci_mg: i32, given_at: DateTime<Utc>| {
            super::dose(
                tx,
                DoseSpec {
                    patient_id: &patient.id,
                    site_id,
                    day,
                    portion,
                    deci_mg,
                    given_at,
                    nurse_id: nurse,
                    order_id: &order_id,
                },
            )
        };
        let split = plan.split && daily > 100 && missed_run < 3;
        if split {
            dose(tx, 1, (daily - 30) * 10, given_at)?;
            let second = given_at + Duration::hours(7);
            if second <= now {
                dose(tx, 2, 300, second)?;
            }
        } else {
            dose(tx, 1, amount, given_at)?;
        }
        dosed.push(day);
        missed_run = 0;
        day += Duration::days(1);
    }
    Ok(dosed)
}

/// `hour:minute` local time on `day` as a UTC timestamp, never after `now`.
fn local_at(tz: Tz, day: NaiveDate, hour: u32, minute: u32, now: DateTime<Utc>) -> NaiveDateTime {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
    local_instant(day, time, tz).min(now).naive_utc()
}

/// What happens in a demo case beyond the routine, so that every case status and every
/// alert kind is there to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    /// Reported on time; monthly urine tests.
    Routine,
    /// Detained on the day they stopped coming: the case is suspended (a detention event).
    Detained,
    /// No report within 15 days of the decision: overdue, treated as a refusal.
    ReportOverdue,
    /// Decided this many days ago; the report is still to come.
    AwaitingReport(i64),
    /// Three urine tests refused within the case: a serious breach.
    ThreeRefusals,
    /// Reported late and evaded a check once: two refusals, one short of a breach.
    LateAndEvaded,
    /// The last urine test was positive.
    PositiveUrine,
    /// A positive hair test; the police notified, or not yet.
    PositiveHair { police_notified: bool },
    /// Reported over three years ago: the case has ended.
    Ended,
}

/// Which patients have a case, and their stories: some of those who stopped coming (the
/// people rehab workers follow most closely) and others drawn at random.
fn draw_cases(rng: &mut StdRng, patients: &[DemoPatient], today: NaiveDate) -> Vec<(usize, Story)> {
    let mut order: Vec<usize> = (0..patients.len()).collect();
    order.shuffle(rng);
    let mut chosen: Vec<usize> = Vec::with_capacity(CASES);
    // Every township has cases; then some who stopped coming; then anyone.
    for town in TOWNSHIPS.iter().flat_map(|(_, towns)| towns.iter()) {
        chosen.extend(order.iter().copied().find(|&i| patients[i].row.township == *town));
    }
    let stopped: Vec<usize> = order
        .iter()
        .copied()
        .filter(|i| patients[*i].stops_on.is_some() && !chosen.contains(i))
        .take(CASES / 5)
        .collect();
    chosen.extend(stopped);
    let others: Vec<usize> = order.iter().copied().filter(|i| !chosen.contains(i)).take(CASES - chosen.len()).collect();
    chosen.extend(others);
    let mut cases: Vec<(usize, Story)> = chosen.into_iter().map(|i| (i, Story::Routine)).collect();
    let days_ago = |n: i64| today - Duration::days(n);
    if let Some(c) = cases.iter_mut().find(|(i, _)| patients[*i].stops_on.is_some_and(|s| s <= days_ago(6))) {
        c.1 = Story::Detained;
    }
    let coming = |i: usize| patients[i].stops_on.is_none();
    if let Some(c) = cases.iter_mut().find(|(i, _)| coming(*i) && patients[*i].start <= days_ago(62)) {
        c.1 = Story::ThreeRefusals;
    }
    let mut routine = cases.iter_mut().filter(|(i, s)| *s == Story::Routine && coming(*i));
    for story in [
        Story::ReportOverdue,
        Story::AwaitingReport(4),
        Story::AwaitingReport(9),
        Story::PositiveUrine,
        Story::PositiveHair { police_notified: true },
        Story::PositiveHair { police_notified: false },
        Story::LateAndEvaded,
        Story::Ended,
    ] {
        if let Some(c) = routine.next() {
            c.1 = story;
        }
    }
    cases
}

/// A drug test to write: sampled by a nurse at the window; a urine result read there and
/// then, a hair result entered by a doctor when the laboratory answers (5 days later).
struct DemoTest<'a> {
    patient: &'a DemoPatient,
    kind: TestKind,
    sampled_on: NaiveDate,
    result: TestResult,
    nurse: &'a str,
    doctor: &'a str,
}

fn insert_test(tx: &mut Tx<'_>, tz: Tz, t: &DemoTest<'_>) -> AppResult<String> {
    let now = tx.now;
    let (result_by, result_at) = match t.kind {
        TestKind::Urine => (t.nurse, local_at(tz, t.sampled_on, 8, 55, now)),
        TestKind::Hair => (t.doctor, local_at(tz, t.sampled_on + Duration::days(5), 15, 0, now)),
    };
    super::test(
        tx,
        TestSpec {
            patient_id: &t.patient.row.id,
            kind: t.kind,
            sampled_on: t.sampled_on,
            sampled_by: t.nurse,
            sampled_at: local_at(tz, t.sampled_on, 8, 40, now),
            result: t.result,
            result_by,
            result_at,
        },
    )
}

/// The days of a patient's monthly urine tests: at the first dose, then at the first dose
/// 26–34 days after the last test.
fn monthly_urine_days(rng: &mut StdRng, dosed: &[NaiveDate]) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut next = match dosed.first() {
        Some(d) => *d,
        None => return days,
    };
    while let Some(day) = dosed.get(dosed.partition_point(|d| *d < next)) {
        days.push(*day);
        next = *day + Duration::days(rng.gen_range(26..=34));
    }
    days
}

/// The day of a patient's hair test, for most patients. The draws of the main generator
/// are the ones the demo made when only a few patients had one; the others come from a
/// generator of their own, so that the rest of the demo (cases, alerts) stays as it was.
fn hair_test_day(rng: &mut StdRng, hair_rng: &mut StdRng, dosed: &[NaiveDate]) -> Option<NaiveDate> {
    let few = rng.gen_bool(0.04);
    let most = hair_rng.gen_bool(0.85);
    if dosed.is_empty() || !(few || most) {
        return None;
    }
    Some(if few { dosed[rng.gen_range(0..dosed.len())] } else { dosed[hair_rng.gen_range(0..dosed.len())] })
}

/// How many cases and tests were written.
struct RehabCounts {
    cases: usize,
    tests: usize,
}

/// Drug tests over the 90 days and community detox/rehab cases: urine roughly monthly for
/// most patients with a few positives and refusals, a hair test for most (one positive reported
/// to the police, one not yet), and the cases with their events.
fn load_rehab(
    tx: &mut Tx<'_>,
    rng: &mut StdRng,
    tz: Tz,
    patients: &[DemoPatient],
    staff_ids: &HashMap<&str, String>,
) -> AppResult<RehabCounts> {
    let now = tx.now;
    let today = now.with_timezone(&tz).date_naive();
    let days_ago = |n: i64| today - Duration::days(n);
    let nurses = nurses_by_site(staff_ids);
    let doctors: Vec<&String> = ["dr.chen", "dr.wang"].iter().filter_map(|u| staff_ids.get(u)).collect();
    let Some(&police_doctor) = doctors.first() else { return Ok(RehabCounts { cases: 0, tests: 0 }) };
    let cases = draw_cases(rng, patients, today);
    let story_of: HashMap<usize, Story> = cases.iter().copied().collect();

    let mut tests = 0;
    let mut hair_rng = StdRng::seed_from_u64(0x4841_4952);
    for (i, p) in patients.iter().enumerate() {
        let Some(site_nurses) = nurses.get(p.site_code).filter(|n| !n.is_empty()) else { continue };
        let nurse = site_nurses[rng.gen_range(0..site_nurses.len())].as_str();
        let doctor = doctors[rng.gen_range(0..doctors.len())].as_str();
        let test = |kind, sampled_on, result| DemoTest { patient: p, kind, sampled_on, result, nurse, doctor };
        let story = story_of.get(&i).copied().unwrap_or(Story::Routine);
        if story == Story::ThreeRefusals {
            // Tested at enrolment, then asked three times within the case and refused.
            if let Some(first) = p.dosed.first().filter(|d| **d < days_ago(62)) {
                insert_test(tx, tz, &test(TestKind::Urine, *first, TestResult::Negative))?;
                tests += 1;
            }
            for n in [62, 34, 6] {
                insert_test(tx, tz, &test(TestKind::Urine, days_ago(n).max(p.start), TestResult::Refused))?;
                tests += 1;
            }
            continue;
        }
        // Most patients are tested monthly; the rest are on the doctor's due list.
        let urine =
            if rng.gen_bool(0.88) || story != Story::Routine { monthly_urine_days(rng, &p.dosed) } else { Vec::new() };
        for (n, day) in urine.iter().enumerate() {
            let last = n + 1 == urine.len();
            let result = match rng.gen_range(0..1000) {
                _ if last && story == Story::PositiveUrine => TestResult::Positive,
                0..=39 => TestResult::Positive,
                40..=54 => TestResult::Refused,
                _ => TestResult::Negative,
            };
            insert_test(tx, tz, &test(TestKind::Urine, *day, result))?;
            tests += 1;
        }
        if let Story::PositiveHair { police_notified } = story {
            let wanted = days_ago(if police_notified { 40 } else { 25 });
            let Some(day) = p.dosed.get(p.dosed.partition_point(|d| *d < wanted)).copied() else { continue };
            let id = insert_test(tx, tz, &test(TestKind::Hair, day, TestResult::Positive))?;
            tests += 1;
            if police_notified {
                let town = p.row.township.trim_end_matches("街道").trim_end_matches('镇');
                super::police(
                    tx,
                    PoliceRow {
                        test_id: id,
                        patient_id: p.row.id.clone(),
                        notified_at: local_at(tz, day + Duration::days(6), 9, 30, now),
                        police_unit: format!("乐清市公安局{town}派出所"),
                        note: Some("电话通报并送达书面通知".into()),
                        notified_by: police_doctor.clone(),
                        recorded_at: local_at(tz, day + Duration::days(6), 9, 45, now),
                    },
                )?;
            }
        } else if let Some(day) = hair_test_day(rng, &mut hair_rng, &p.dosed) {
            // A hair test by risk level for most patients; the laboratory answers after five
            // days.
            let result = if day > days_ago(5) { TestResult::Pending } else { TestResult::Negative };
            insert_test(tx, tz, &test(TestKind::Hair, day, result))?;
            tests += 1;
        }
    }

    let workers: HashMap<&str, &String> =
        CASE_WORKERS.iter().filter_map(|(town, username)| Some((*town, staff_ids.get(username)?))).collect();
    let mut case_no = 3;
    let mut written = 0;
    for (i, story) in cases {
        let p = &patients[i];
        let Some(worker) = workers.get(p.row.township.as_str()).copied() else { continue };
        let kind = if story == Story::Ended || rng.gen_bool(0.35) {
            CaseKind::CommunityRehab
        } else {
            CaseKind::CommunityDetox
        };
        // (decision date, report date known when the case was entered, report recorded later)
        let (decision, reported_on, report_event) = match story {
            Story::ReportOverdue => (days_ago(24), None, None),
            Story::AwaitingReport(n) => (days_ago(n), None, None),
            Story::LateAndEvaded => (days_ago(70), None, Some(days_ago(49))),
            Story::Ended => (days_ago(3 * 365 + 60), Some(days_ago(3 * 365 + 54)), None),
            Story::ThreeRefusals => {
                let decision = days_ago(rng.gen_range(120..700));
                (decision, Some(decision + Duration::days(rng.gen_range(1..10))), None)
            }
            _ => {
                let decision = days_ago(rng.gen_range(40..900));
                let report = decision + Duration::days(rng.gen_range(1..12));
                // A recent case's report is recorded as an event by the worker; an older
                // one came with its report date from the rehab system.
                if decision > days_ago(90) {
                    (decision, None, Some(report))
                } else {
                    (decision, Some(report), None)
                }
            }
        };
        case_no += rng.gen_range(1..4);
        let case_ref = rng.gen_bool(0.8).then(|| {
            let code = if kind == CaseKind::CommunityDetox { "SJ" } else { "SK" };
            format!("LQ-{code}-{}-{case_no:04}", decision.year())
        });
        let case_id = super::case(
            tx,
            CaseSpec {
                case_ref,
                patient_id: &p.row.id,
                kind,
                decision_date: decision,
                reported_on,
                township: &p.row.township,
                worker_id: worker,
                created_at: local_at(tz, decision + Duration::days(1), 10, 0, now),
            },
        )?;
        written += 1;
        let mut events = Vec::new();
        if let Some(day) = report_event {
            events.push((CaseEventKind::Reported, day, "到镇（街道）禁毒办报到，签订社区戒毒（康复）协议"));
        }
        if story == Story::Detained {
            if let Some(day) = p.stops_on {
                events.push((CaseEventKind::Detention, day, "因吸毒被公安机关行政拘留"));
            }
        }
        if story == Story::LateAndEvaded {
            events.push((CaseEventKind::Evasion, days_ago(20), "未按约定接受检测，电话联系不上"));
        }
        for (kind, day, note) in events {
            let at = local_at(tz, day, 16, 0, now);
            super::case_event(tx, &case_id, &p.row.id, kind, day, note, worker, at)?;
        }
    }
    Ok(RehabCounts { cases: written, tests })
}

/// What the demo's ledger holds.
struct DemoStock {
    closed_days: usize,
    home_visit_patients: usize,
}

/// Days of closed ledger in the demo (three months).
const LEDGER_DAYS: i64 = 90;

/// Home-visit patients on each site's run sheet today.
const HOME_VISITS_PER_SITE: usize = 2;

/// The ledger of every site: two products (1 mg/mL everywhere, the main clinic on the
/// 10 mg/mL concentrate), weekly receipts with lot and supplier, a spill now and then, a
/// transfer between sites, three months of closed days (one with an incident note for a
/// gap), one transfer in transit today, and home-visit patients on every run sheet today.
/// Every typed entry is entered by one nurse of the site and confirmed by another.
fn load_stock(
    tx: &mut Tx<'_>,
    rng: &mut StdRng,
    tz: Tz,
    site_ids: &HashMap<&str, String>,
    staff_ids: &HashMap<&str, String>,
    patients: &[DemoPatient],
) -> AppResult<DemoStock> {
    use crate::db::home_visits::{self as hv_q, AuthorizationRow, ScheduleRow};
    use crate::db::stock::{
        self as stock_q, CloseConfirmationRow, CloseRow, EntryConfirmationRow, EntryRow, ProductRow, SiteProductRow,
    };
    use crate::domain::stock::{ledger_days, CentiMl, EntryKind, LineKind};
    use crate::services::stock::load_ledger;

    let now = tx.now;
    let today = now.with_timezone(&tz).date_naive();
    let first = today - Duration::days(LEDGER_DAYS);
    let nurses = nurses_by_site(staff_ids);
    let (Some(admin), Some(doctor)) = (staff_ids.get("admin").cloned(), staff_ids.get("dr.chen").cloned()) else {
        return Ok(DemoStock { closed_days: 0, home_visit_patients: 0 });
    };
    let long_ago = local_instant(first - Duration::days(10), NaiveTime::MIN, tz).naive_utc();
    let mut products = Vec::new();
    for (name, conc) in [("盐酸美沙酮口服溶液", 1), ("盐酸美沙酮口服浓溶液", 10)] {
        let row = ProductRow {
            id: crate::db::new_id(),
            name: name.into(),
            concentration_mg_per_ml: conc,
            created_by: admin.clone(),
            created_at: long_ago,
        };
        stock_q::insert_product(tx.conn, &mut tx.written, &row)?;
        products.push(row);
    }
    for (code, _, _, _) in SITES {
        let Some(site_id) = site_ids.get(code) else { continue };
        let product = if code == "LQ" { &products[1] } else { &products[0] };
        let row = SiteProductRow {
            id: crate::db::new_id(),
            site_id: site_id.clone(),
            product_id: product.id.clone(),
            set_by: admin.clone(),
            set_at: long_ago,
        };
        stock_q::insert_site_product(tx.conn, &mut tx.written, &row)?;
    }
    tx.audit(Some(&admin), "demo.products", "product", None, "demo products and the sites' dispensing products");

    let at = |day: NaiveDate, h: u32, m: u32| local_at(tz, day, h, m, now);
    let entry = |tx: &mut Tx<'_>, e: EntryRow, confirmed_by: &str, confirmed_at: NaiveDateTime| -> AppResult<String> {
        let c = EntryConfirmationRow {
            entry_id: e.id.clone(),
            site_id: e.site_id.clone(),
            transfer_id: e.transfer_id.clone(),
            reverses_id: e.reverses_id.clone(),
            confirmed_by: confirmed_by.to_string(),
            confirmed_at,
        };
        stock_q::insert_entry(tx.conn, &mut tx.written, &e)?;
        stock_q::insert_entry_confirmation(tx.conn, &mut tx.written, &c)?;
        Ok(e.id)
    };
    let new_entry =
        |site: &str, product: &ProductRow, kind: EntryKind, cml: i64, by: &str, when: NaiveDateTime| EntryRow {
            id: crate::db::new_id(),
            site_id: site.to_string(),
            product_id: product.id.clone(),
            kind,
            centi_ml: cml as i32,
            lot: None,
            supplier: None,
            counterpart_site_id: None,
            transfer_id: None,
            reverses_id: None,
            reason: String::new(),
            entered_by: by.to_string(),
            entered_at: when,
        };
    let mut closed_days = 0;
    let incident_site = "HQ";
    let incident_day = today - Duration::days(37);
    for (code, _, _, _) in SITES {
        let (Some(site_id), Some(site_nurses)) = (site_ids.get(code), nurses.get(code)) else { continue };
        let (a, b) = (site_nurses[0].as_str(), site_nurses[site_nurses.len() - 1].as_str());
        let product = if code == "LQ" { products[1].clone() } else { products[0].clone() };
        // What the window gave each day (derived from the doses written above).
        let dispensed: Vec<LedgerDay> = {
            let ledger = load_ledger(tx.conn, site_id, &product.id, first, today, tz)?;
            let mut by_day: HashMap<NaiveDate, i64> = HashMap::new();
            for l in ledger.lines.iter().filter(|l| l.kind == LineKind::Dispensed) {
                *by_day.entry(l.day).or_default() -= l.change.0;
            }
            let mut v: Vec<LedgerDay> = by_day.into_iter().collect();
            v.sort();
            v
        };
        let used = |from: NaiveDate, to: NaiveDate| -> i64 {
            dispensed.iter().filter(|(d, _)| *d >= from && *d < to).map(|(_, v)| *v).sum()
        };
        // Weekly receipts: the coming week's use and a reserve, in whole bottles of 500 mL.
        let mut day = first;
        let mut lot_no = 1;
        while day < today {
            if day == first || day.weekday() == chrono::Weekday::Mon {
                let need = used(day, day + Duration::days(8)) + if day == first { 300_000 } else { 50_000 };
                let bottles = (need + 49_999) / 50_000;
                let mut e = new_entry(site_id, &product, EntryKind::Receipt, bottles * 50_000, a, at(day, 7, 50));
                e.lot = Some(format!("{}{:02}", day.format("%Y%m"), lot_no));
                e.supplier = Some("温州市医药公司（定点供应）".into());
                e.reason = format!("每周领药 {bottles} 瓶（500 mL/瓶）");
                lot_no += 1;
                entry(tx, e, b, at(day, 8, 0))?;
            }
            if rng.gen_bool(0.06) {
                let mut e =
                    new_entry(site_id, &product, EntryKind::Waste, -rng.gen_range(1..=4) * 50, b, at(day, 11, 20));
                e.reason = "量取时洒出，见证人在场".into();
                entry(tx, e, a, at(day, 11, 25))?;
            }
            day += Duration::days(1);
        }
        // A completed transfer 20 days ago from the clinic's reserve… of the 1 mg/mL product
        // at 柳市 to 白石 (same product at both).
        if code == "LS" {
            if let (Some(bs), Some(bs_nurses)) = (site_ids.get("BS"), nurses.get("BS")) {
                let d = today - Duration::days(20);
                let mut out = new_entry(site_id, &product, EntryKind::TransferOut, -100_000, a, at(d, 9, 0));
                out.counterpart_site_id = Some(bs.clone());
                out.lot = Some(format!("{}01", d.format("%Y%m")));
                out.reason = "白石服药点库存不足，调拨支援".into();
                let out_id = entry(tx, out, b, at(d, 9, 5))?;
                let mut inn = new_entry(bs, &product, EntryKind::TransferIn, 100_000, bs_nurses[0], at(d, 11, 0));
                inn.counterpart_site_id = Some(site_id.clone());
                inn.transfer_id = Some(out_id);
                inn.reason = "调拨到货".into();
                entry(tx, inn, bs_nurses[bs_nurses.len() - 1], at(d, 11, 5))?;
            }
        }
    }
    // Three months of closed days, each counted by one nurse and confirmed by another.
    for (code, _, _, _) in SITES {
        let (Some(site_id), Some(site_nurses)) = (site_ids.get(code), nurses.get(code)) else { continue };
        let (a, b) = (site_nurses[0].as_str(), site_nurses[site_nurses.len() - 1].as_str());
        let product = if code == "LQ" { &products[1] } else { &products[0] };
        let ledger = load_ledger(tx.conn, site_id, &product.id, first, today, tz)?;
        let mut balance = CentiMl::ZERO;
        let mut day = ledger.start;
        while day < today {
            let summary = ledger_days(balance, &ledger.lines, &[], day, day);
            let expected = summary.first().map_or(balance, |(_, s)| s.expected);
            if day >= first {
                let incident = code == incident_site && day == incident_day;
                let counted = if incident { expected - CentiMl(350) } else { expected };
                let close = CloseRow {
                    id: crate::db::new_id(),
                    site_id: site_id.clone(),
                    product_id: product.id.clone(),
                    close_day: day,
                    counted_cml: counted.0 as i32,
                    expected_cml: expected.0 as i32,
                    incident_note: incident
                        .then(|| "量杯破损，约3.5 mL洒出未能回收；已报告科室负责人并拍照留存".to_string()),
                    requested_by: a.to_string(),
                    requested_at: at(day, 18, 20),
                };
                let confirmation = CloseConfirmationRow {
                    close_id: close.id.clone(),
                    site_id: close.site_id.clone(),
                    product_id: close.product_id.clone(),
                    close_day: day,
                    counted_cml: close.counted_cml,
                    expected_cml: close.expected_cml,
                    confirmed_by: b.to_string(),
                    confirmed_at: at(day, 18, 30),
                };
                stock_q::insert_close(tx.conn, &mut tx.written, &close)?;
                stock_q::insert_close_confirmation(tx.conn, &mut tx.written, &confirmation)?;
                closed_days += 1;
                balance = counted;
            } else {
                balance = expected;
            }
            day += Duration::days(1);
        }
    }
    tx.audit(None, "demo.stock", "stock", None, format!("demo ledger: {closed_days} closed days"));

    // Today: one transfer from 虹桥 to 芙蓉 confirmed at the sender, not yet received.
    if let (Some(hq), Some(fr), Some(hq_nurses)) = (site_ids.get("HQ"), site_ids.get("FR"), nurses.get("HQ")) {
        let mut out = new_entry(hq, &products[0], EntryKind::TransferOut, -50_000, hq_nurses[0], at(today, 7, 40));
        out.counterpart_site_id = Some(fr.clone());
        out.reason = "芙蓉服药点周末用量调拨".into();
        entry(tx, out, hq_nurses[hq_nurses.len() - 1], at(today, 7, 45))?;
    }

    // Home-visit patients: on every site's run sheet today (the sheet plans them when read).
    let yesterday = today - Duration::days(1);
    let mut home_visit_patients = 0;
    for (code, _, _, _) in SITES {
        let (Some(site_id), Some(site_nurses)) = (site_ids.get(code), nurses.get(code)) else { continue };
        let chosen: Vec<&DemoPatient> = patients
            .iter()
            .filter(|p| {
                p.site_code == code
                    && p.stops_on.is_none()
                    && p.start < today - Duration::days(20)
                    && p.dosed.contains(&yesterday)
                    && !p.dosed.contains(&today)
            })
            .take(HOME_VISITS_PER_SITE)
            .collect();
        for (i, p) in chosen.iter().enumerate() {
            let auth = AuthorizationRow {
                id: crate::db::new_id(),
                patient_id: p.row.id.clone(),
                reason: if i == 0 {
                    "股骨骨折术后，卧床"
                } else {
                    "慢性阻塞性肺病急性加重，行动不便"
                }
                .into(),
                valid_from: today - Duration::days(10),
                valid_to: today + Duration::days(50),
                doctor_id: doctor.clone(),
                created_at: at(today - Duration::days(10), 9, 0),
            };
            hv_q::insert_authorization(tx.conn, &mut tx.written, &auth)?;
            let schedule = ScheduleRow {
                id: crate::db::new_id(),
                patient_id: p.row.id.clone(),
                site_id: site_id.clone(),
                weekdays: "1,2,3,4,5,6,7".into(),
                from_date: today,
                to_date: Some(today + Duration::days(50)),
                position: (i as i32 + 1) * 10,
                created_by: site_nurses[0].clone(),
                created_at: at(today - Duration::days(10), 9, 30),
            };
            hv_q::insert_schedule(tx.conn, &mut tx.written, &schedule)?;
            home_visit_patients += 1;
        }
    }
    tx.audit(
        None,
        "demo.home_visits",
        "home_visit",
        None,
        format!("{home_visit_patients} home-visit patients scheduled"),
    );
    Ok(DemoStock { closed_days, home_visit_patients })
}

/// A day and the volume the window gave, in hundredths of a mL.
type LedgerDay = (NaiveDate, i64);

#[cfg(test)]
mod tests {
    use super::*;

    fn workers_of(township: &str) -> Vec<&'static str> {
        STAFF
            .iter()
            .filter(|(_, _, role, _, towns)| *role == Role::RehabWorker && towns.contains(&township))
            .map(|(username, ..)| *username)
            .collect()
    }

    #[test]
    fn every_township_demo_patients_live_in_has_a_rehab_worker_who_holds_its_cases() {
        for (_, townships) in TOWNSHIPS {
            for town in townships {
                assert!(!workers_of(town).is_empty(), "{town} has no rehab worker");
                let holder = CASE_WORKERS.iter().find(|(t, _)| t == town).map(|(_, u)| *u);
                assert!(holder.is_some_and(|u| workers_of(town).contains(&u)), "{town}: {holder:?}");
            }
        }
    }

    #[test]
    fn monthly_urine_tests_fall_on_days_the_patient_came() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let dosed: Vec<NaiveDate> = (0..90).filter(|n| n % 7 != 3).map(|n| start + Duration::days(n)).collect();
        let days = monthly_urine_days(&mut StdRng::seed_from_u64(1), &dosed);
        assert_eq!(days[0], start);
        assert!((3..=4).contains(&days.len()), "{days:?}");
        assert!(days.iter().all(|d| dosed.contains(d)));
        assert!(days.windows(2).all(|w| (26..=40).contains(&(w[1] - w[0]).num_days())), "{days:?}");
    }
}
