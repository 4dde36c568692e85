//! Seeding: the demo network and the benchmarks' data sets. One builder writes the rows of
//! a history (patients, orders, doses, tests, cases…) for both, inside the caller's write
//! transaction, so every row is recorded by the audit chain like any other; the demo goes
//! through the services where they are not too slow (sites, staff, enrolment).
//!
//! The builder writes what it is told, as of the day it is told: history cannot go through
//! the use cases, which act on "now". The demo's plans keep to the rules themselves (and a
//! test sweeps the result and checks it).

pub mod demo;
pub mod people;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::db::doses::{self as doses_q, AbsenceRow, DoseRow};
use crate::db::drug_tests::{self as tests_q, PoliceRow, ResultRow, TestRow};
use crate::db::orders::{self as orders_q, ActivationRow, EcgRow, OrderRow, ReviewRow};
use crate::db::patients::{self as patients_q, PatientRow, PhotoRow};
use crate::db::rehab::{self as rehab_q, CaseEventRow, CaseRow};
use crate::db::{self, DbConn, QueryResult};
use crate::domain::dispensing::{DoseKind, IntoxicationCheck, PatientStatus};
use crate::domain::drug_tests::{TestKind, TestResult};
use crate::domain::orders::Phase;
use crate::domain::patients::{AbsenceReason, Sex};
use crate::domain::rehab::{CaseEventKind, CaseKind};
use crate::error::AppResult;
use crate::services::Tx;

/// Who a seeded patient is and where they are treated.
pub struct PatientSpec<'a> {
    pub name: String,
    pub male: bool,
    pub birth: NaiveDate,
    /// A valid id number no patient has yet ([`people::free_id_number`]).
    pub id_number: String,
    pub phone: Option<String>,
    pub township: &'a str,
    pub home_site_id: &'a str,
    pub enrolled_on: NaiveDate,
    pub risk_level: i32,
    pub consent_to_share: bool,
}

/// An order and its activation, in force from `from`.
pub struct OrderSpec<'a> {
    pub patient_id: &'a str,
    pub daily_mg: i32,
    /// A split order's two portions, mg.
    pub portions_mg: Option<[i32; 2]>,
    pub from: NaiveDate,
    pub phase: Phase,
    pub starts_episode: bool,
    pub reason: &'a str,
    pub prescriber_id: &'a str,
    /// The second doctor of an order above 100 mg.
    pub approved_by: Option<&'a str>,
}

/// A dose as given at a site's window.
pub struct DoseSpec<'a> {
    pub patient_id: &'a str,
    pub site_id: &'a str,
    pub day: NaiveDate,
    pub portion: i32,
    pub deci_mg: i32,
    pub given_at: DateTime<Utc>,
    pub nurse_id: &'a str,
    pub order_id: &'a str,
}

/// A drug test: sampled by a nurse, its result recorded (unless pending) by `result_by`.
pub struct TestSpec<'a> {
    pub patient_id: &'a str,
    pub kind: TestKind,
    pub sampled_on: NaiveDate,
    pub sampled_by: &'a str,
    pub sampled_at: NaiveDateTime,
    pub result: TestResult,
    pub result_by: &'a str,
    pub result_at: NaiveDateTime,
}

/// A community detox / rehab case.
pub struct CaseSpec<'a> {
    pub case_ref: Option<String>,
    pub patient_id: &'a str,
    pub kind: CaseKind,
    pub decision_date: NaiveDate,
    pub reported_on: Option<NaiveDate>,
    pub township: &'a str,
    pub worker_id: &'a str,
    pub created_at: NaiveDateTime,
}

/// Enrols a patient, with the next patient number.
pub fn patient(tx: &mut Tx<'_>, spec: PatientSpec<'_>) -> AppResult<PatientRow> {
    let patient_no = patients_q::next_patient_no(tx.conn)?;
    let row = patient_row(spec, patient_no, tx.now.naive_utc());
    patients_q::insert(tx.conn, &row)?;
    Ok(row)
}

/// The row of an active patient numbered `patient_no`, enrolled at `at` (written by the
/// caller: one at a time by [`patient`], in bulk by the benchmarks).
pub fn patient_row(spec: PatientSpec<'_>, patient_no: i64, at: NaiveDateTime) -> PatientRow {
    PatientRow {
        id: db::new_id(),
        patient_no: patient_no.to_string(),
        name: spec.name,
        id_number_rev: spec.id_number.chars().rev().collect(),
        id_number: spec.id_number,
        sex: if spec.male { Sex::M } else { Sex::F },
        birth_date: spec.birth,
        phone: spec.phone,
        address: None,
        township: spec.township.to_string(),
        home_site_id: spec.home_site_id.to_string(),
        enrolled_on: spec.enrolled_on,
        risk_level: spec.risk_level,
        consent_to_share: spec.consent_to_share,
        status: PatientStatus::Active,
        created_at: at,
        updated_at: at,
    }
}

/// A valid id number for a birth date that no patient has yet.
pub fn free_id_number(conn: &mut DbConn, birth: NaiveDate, seq: u32, male: bool) -> QueryResult<String> {
    people::free_id_number(conn, birth, seq, male)
}

pub fn photo(tx: &mut Tx<'_>, patient_id: &str, png: Vec<u8>, by: &str) -> AppResult<()> {
    let row = PhotoRow {
        id: db::new_id(),
        patient_id: patient_id.to_string(),
        mime: "image/png".into(),
        data: png,
        uploaded_by: by.to_string(),
        uploaded_at: tx.now.naive_utc(),
    };
    patients_q::insert_photo(tx.conn, &mut tx.written, &row)?;
    Ok(())
}

/// Writes an order and its activation from `spec.from`; returns the order's id.
pub fn order(tx: &mut Tx<'_>, spec: OrderSpec<'_>) -> AppResult<String> {
    let at = tx.now.naive_utc();
    let row = OrderRow {
        id: db::new_id(),
        patient_id: spec.patient_id.to_string(),
        daily_deci_mg: spec.daily_mg * 10,
        portion1_deci_mg: spec.portions_mg.map(|p| p[0] * 10),
        portion2_deci_mg: spec.portions_mg.map(|p| p[1] * 10),
        start_date: spec.from,
        end_date: None,
        phase: spec.phase,
        reason: spec.reason.to_string(),
        override_reason: None,
        transfer_from: None,
        last_dose_on: None,
        starts_episode: spec.starts_episode,
        needs_approval: spec.approved_by.is_some(),
        prescriber_id: spec.prescriber_id.to_string(),
        created_at: at,
    };
    orders_q::insert(tx.conn, &mut tx.written, &row)?;
    let activation = ActivationRow {
        order_id: row.id.clone(),
        patient_id: row.patient_id.clone(),
        effective_from: spec.from,
        activated_at: at,
        approved_by: spec.approved_by.map(str::to_string),
    };
    orders_q::activate(tx.conn, &mut tx.written, &activation)?;
    Ok(row.id)
}

pub fn ecg(tx: &mut Tx<'_>, patient_id: &str, taken_on: NaiveDate, qtc_ms: i32, doctor_id: &str) -> AppResult<()> {
    let row = EcgRow {
        id: db::new_id(),
        patient_id: patient_id.to_string(),
        taken_on,
        qtc_ms,
        recorded_by: doctor_id.to_string(),
        created_at: tx.now.naive_utc(),
    };
    orders_q::insert_ecg(tx.conn, &mut tx.written, &row)?;
    Ok(())
}

/// A doctor's review approving `deci_mg` for `day`.
pub fn review(
    tx: &mut Tx<'_>,
    patient_id: &str,
    day: NaiveDate,
    deci_mg: i32,
    note: &str,
    doctor_id: &str,
) -> AppResult<()> {
    let row = ReviewRow {
        id: db::new_id(),
        patient_id: patient_id.to_string(),
        review_date: day,
        approved_deci_mg: deci_mg,
        note: note.to_string(),
        doctor_id: doctor_id.to_string(),
        created_at: tx.now.naive_utc(),
    };
    orders_q::insert_review(tx.conn, &mut tx.written, &row)?;
    Ok(())
}

pub fn dose(tx: &mut Tx<'_>, spec: DoseSpec<'_>) -> AppResult<()> {
    let row = DoseRow {
        id: db::new_id(),
        patient_id: spec.patient_id.to_string(),
        site_id: spec.site_id.to_string(),
        dose_day: spec.day,
        portion: spec.portion,
        generation: 0,
        deci_mg: spec.deci_mg,
        given_at: spec.given_at.naive_utc(),
        nurse_id: spec.nurse_id.to_string(),
        order_id: spec.order_id.to_string(),
        kind: DoseKind::Site,
        identity_confirmed: true,
        intoxication_check: IntoxicationCheck::Clear,
        note: None,
    };
    doses_q::insert(tx.conn, &mut tx.written, &row)?;
    Ok(())
}

pub fn absence(
    tx: &mut Tx<'_>,
    patient_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    reason: AbsenceReason,
    by: &str,
) -> AppResult<()> {
    let row = AbsenceRow {
        id: db::new_id(),
        patient_id: patient_id.to_string(),
        from_date: from,
        to_date: to,
        reason,
        created_by: by.to_string(),
        created_at: tx.now.naive_utc(),
    };
    doses_q::insert_absence(tx.conn, &row)?;
    Ok(())
}

/// Writes a test and its result (none while pending); returns the test's id.
pub fn test(tx: &mut Tx<'_>, spec: TestSpec<'_>) -> AppResult<String> {
    let row = TestRow {
        id: db::new_id(),
        patient_id: spec.patient_id.to_string(),
        kind: spec.kind,
        sampled_on: spec.sampled_on,
        selection_id: None,
        recorded_by: spec.sampled_by.to_string(),
        recorded_at: spec.sampled_at,
    };
    tests_q::insert(tx.conn, &mut tx.written, &row)?;
    if spec.result != TestResult::Pending {
        let result = ResultRow {
            test_id: row.id.clone(),
            patient_id: row.patient_id.clone(),
            result: spec.result,
            recorded_by: spec.result_by.to_string(),
            recorded_at: spec.result_at,
        };
        tests_q::insert_result(tx.conn, &mut tx.written, &result)?;
    }
    Ok(row.id)
}

/// The police notification of a positive hair test.
pub fn police(tx: &mut Tx<'_>, row: PoliceRow) -> AppResult<()> {
    tests_q::insert_police(tx.conn, &mut tx.written, &row)?;
    Ok(())
}

/// Opens a case; returns its id.
pub fn case(tx: &mut Tx<'_>, spec: CaseSpec<'_>) -> AppResult<String> {
    let row = CaseRow {
        id: db::new_id(),
        case_ref: spec.case_ref,
        patient_id: spec.patient_id.to_string(),
        kind: spec.kind,
        decision_date: spec.decision_date,
        reported_on: spec.reported_on,
        township: spec.township.to_string(),
        worker_id: spec.worker_id.to_string(),
        created_by: spec.worker_id.to_string(),
        created_at: spec.created_at,
    };
    rehab_q::insert_case(tx.conn, &mut tx.written, &row)?;
    Ok(row.id)
}

/// Records a case event (the report, an evasion, a detention).
#[allow(clippy::too_many_arguments)]
pub fn case_event(
    tx: &mut Tx<'_>,
    case_id: &str,
    patient_id: &str,
    kind: CaseEventKind,
    date: NaiveDate,
    note: &str,
    by: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    let row = CaseEventRow {
        id: db::new_id(),
        case_id: case_id.to_string(),
        patient_id: patient_id.to_string(),
        kind,
        event_date: date,
        note: Some(note.to_string()),
        recorded_by: by.to_string(),
        recorded_at: at,
    };
    rehab_q::insert_event(tx.conn, &mut tx.written, &row)?;
    Ok(())
}
