//! Demo data: the real shape of a county network (乐清市), so that a newcomer sees a living
//! clinic. Only fills a database that has no sites yet.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::sites::{self, NewSite, SiteKind};
use super::staff::{self, NewStaff};
use super::{synthetic, AppState, Tx};
use crate::db::doses::{self as doses_q, DoseRow};
use crate::db::orders::{self as orders_q, ActivationRow, EcgRow, OrderRow, ReviewRow};
use crate::db::patients::{self as patients_q, PatientRow};
use crate::db::{self, sites as sites_q, staff as staff_q};
use crate::domain::staff::Role;
use crate::error::AppResult;

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

const STAFF: [DemoStaff; 17] = [
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

pub async fn load(state: &AppState) -> AppResult<DemoOutcome> {
    let hash = state.passwords.hash(DEMO_PASSWORD.to_string()).await?;
    let tz = state.config.timezone;
    state
        .write(move |tx| {
            if sites_q::count(tx.conn)? > 0 {
                tx.audit(None, "demo.skipped", "demo", None, "database already has sites; no demo data added");
                return Ok(DemoOutcome { created: false, logins: Vec::new() });
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
            let patients = load_patients(tx, tz, &site_ids, &staff_ids)?;
            tx.audit(
                None,
                "demo.load",
                "demo",
                None,
                format!(
                    "demo network loaded: {} sites, {} staff, {patients} patients with up to 90 days of history",
                    SITES.len(),
                    logins.len()
                ),
            );
            Ok(DemoOutcome { created: true, logins })
        })
        .await
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

/// Patients with realistic titration histories and up to 90 days of observed doses, with
/// missed days, reviews after three missed days, a few high doses approved by a second
/// doctor, and a few patients who stopped coming. Returns how many patients.
fn load_patients(
    tx: &mut Tx<'_>,
    tz: Tz,
    site_ids: &HashMap<&str, String>,
    staff_ids: &HashMap<&str, String>,
) -> AppResult<usize> {
    let mut rng = StdRng::seed_from_u64(20261129);
    let now = tx.now;
    let today = now.with_timezone(&tz).date_naive();
    let nurses = nurses_by_site(staff_ids);
    let (Some(doctor), Some(doctor2)) = (staff_ids.get("dr.chen").cloned(), staff_ids.get("dr.wang").cloned()) else {
        return Ok(0);
    };
    let mut count = 0;
    for (code, townships) in TOWNSHIPS {
        let (Some(site_id), Some(site_nurses)) = (site_ids.get(code), nurses.get(code)) else { continue };
        for _ in 0..PATIENTS_PER_SITE {
            let plan = PatientPlan::draw(&mut rng, today);
            let patient = new_patient(tx, &mut rng, &plan, site_id, townships, today)?;
            if rng.gen_bool(0.9) {
                let photo = synthetic::placeholder_photo(&mut rng);
                patients_q::insert_photo(
                    tx.conn,
                    &db::new_id(),
                    &patient.id,
                    "image/png",
                    &photo,
                    &doctor,
                    now.naive_utc(),
                )?;
            }
            write_history(tx, &mut rng, &plan, &patient, site_id, site_nurses, (&doctor, &doctor2), tz, today, now)?;
            count += 1;
        }
    }
    Ok(count)
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

fn new_patient(
    tx: &mut Tx<'_>,
    rng: &mut StdRng,
    plan: &PatientPlan,
    site_id: &str,
    townships: &[&str],
    today: NaiveDate,
) -> AppResult<PatientRow> {
    let male = rng.gen_bool(0.85);
    let birth = synthetic::birth_date(rng, today);
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
        name: synthetic::name(rng),
        id_number_rev: id_number.chars().rev().collect(),
        id_number,
        sex: if male { "M".into() } else { "F".into() },
        birth_date: birth,
        phone: Some(format!("1{}{:09}", rng.gen_range(30..90), rng.gen_range(0..1_000_000_000u64))),
        address: None,
        township: townships[rng.gen_range(0..townships.len())].to_string(),
        home_site_id: site_id.to_string(),
        enrolled_on: plan.start - Duration::days(rng.gen_range(0..5)),
        risk_level: rng.gen_range(1..=3),
        consent_to_share: rng.gen_bool(0.75),
        status: "active".into(),
        created_at: at,
        updated_at: at,
    };
    patients_q::insert(tx.conn, &row)?;
    Ok(row)
}

/// Local morning time on `day` as UTC, not after `now`.
fn morning(rng: &mut StdRng, tz: Tz, day: NaiveDate, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let minutes = rng.gen_range(0..180);
    let local = day.and_hms_opt(7, 30, 0)? + Duration::minutes(minutes);
    let at = tz.from_local_datetime(&local).single()?.with_timezone(&Utc);
    (at <= now).then_some(at)
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
) -> AppResult<()> {
    let at = tx.now.naive_utc();
    let order = |tx: &mut Tx<'_>, mg: i32, day: NaiveDate, phase: &str, starts: bool| -> AppResult<String> {
        let high = mg > 100;
        let split = plan.split && high;
        if high {
            let ecg = EcgRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                taken_on: day - Duration::days(2),
                qtc_ms: 420 + mg % 37,
                recorded_by: doctor.clone(),
                created_at: at,
            };
            orders_q::insert_ecg(tx.conn, &ecg)?;
        }
        let row = OrderRow {
            id: db::new_id(),
            patient_id: patient.id.clone(),
            daily_deci_mg: mg * 10,
            portion1_deci_mg: split.then(|| (mg - 30) * 10),
            portion2_deci_mg: split.then_some(300),
            start_date: day,
            end_date: None,
            phase: phase.into(),
            reason: if starts { "入组诱导".into() } else { "按反应调整剂量".into() },
            override_reason: None,
            transfer_from: None,
            last_dose_on: None,
            starts_episode: starts,
            needs_approval: high,
            prescriber_id: doctor.clone(),
            created_at: at,
        };
        orders_q::insert(tx.conn, &row)?;
        orders_q::activate(
            tx.conn,
            &ActivationRow {
                order_id: row.id.clone(),
                patient_id: patient.id.clone(),
                effective_from: day,
                activated_at: at,
                approved_by: high.then(|| doctor2.clone()),
            },
        )?;
        Ok(row.id)
    };

    let mut daily = plan.first_mg;
    let mut order_id = order(tx, daily, plan.start, "induction", true)?;
    let mut next_increase = plan.start + Duration::days(rng.gen_range(3..6));
    let mut missed_run = 0;
    let mut day = plan.start;
    while day <= today {
        if day >= next_increase && daily < plan.target_mg {
            daily = (daily + if rng.gen_bool(0.7) { 10 } else { 5 }).min(plan.target_mg);
            let phase = if daily >= 60 { "maintenance" } else { "induction" };
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
        let Some(given_at) = (if skip { None } else { morning(rng, tz, day, now) }) else {
            if day < today {
                missed_run += 1;
            }
            day += Duration::days(1);
            continue;
        };
        let nurse = nurses[rng.gen_range(0..nurses.len())];
        let mut amount = daily * 10;
        if missed_run >= 3 {
            // Three missed days: the doctor's review comes first, then half the order.
            amount = daily * 10 / 2 / 10 * 10;
            orders_q::insert_review(
                tx.conn,
                &ReviewRow {
                    id: db::new_id(),
                    patient_id: patient.id.clone(),
                    review_date: day,
                    approved_deci_mg: amount,
                    note: "连续漏服3天，减半给药并宣教".into(),
                    doctor_id: doctor.clone(),
                    created_at: at,
                },
            )?;
        }
        let dose = |portion: i32, deci_mg: i32, given_at: DateTime<Utc>| DoseRow {
            id: db::new_id(),
            patient_id: patient.id.clone(),
            site_id: site_id.to_string(),
            dose_day: day,
            portion,
            generation: 0,
            deci_mg,
            given_at: given_at.naive_utc(),
            nurse_id: nurse.clone(),
            order_id: order_id.clone(),
            kind: "site".into(),
            identity_confirmed: true,
            intoxication_check: "clear".into(),
            note: None,
        };
        let split = plan.split && daily > 100 && missed_run < 3;
        if split {
            doses_q::insert(tx.conn, &dose(1, (daily - 30) * 10, given_at))?;
            let second = given_at + Duration::hours(7);
            if second <= now {
                doses_q::insert(tx.conn, &dose(2, 300, second))?;
            }
        } else {
            doses_q::insert(tx.conn, &dose(1, amount, given_at))?;
        }
        missed_run = 0;
        day += Duration::days(1);
    }
    Ok(())
}
