//! Rehab cases and their events; disclosures of patients to rehab workers.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{disclosures, rehab_case_events, rehab_cases};
use super::{DbConn, QueryResult};
use crate::domain::rehab::{BasisKind, CaseEventKind, CaseKind};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rehab_cases)]
pub struct CaseRow {
    pub id: String,
    pub case_ref: Option<String>,
    pub patient_id: String,
    pub kind: CaseKind,
    pub decision_date: NaiveDate,
    pub reported_on: Option<NaiveDate>,
    pub township: String,
    pub worker_id: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = rehab_case_events)]
pub struct CaseEventRow {
    pub id: String,
    pub case_id: String,
    pub patient_id: String,
    pub kind: CaseEventKind,
    pub event_date: NaiveDate,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = disclosures)]
pub struct DisclosureRow {
    pub id: String,
    pub staff_id: String,
    pub patient_id: String,
    pub at: NaiveDateTime,
    pub basis: BasisKind,
    pub case_id: Option<String>,
    pub what: String,
}

pub fn insert_case(conn: &mut DbConn, written: &mut Written, row: &CaseRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_event(conn: &mut DbConn, written: &mut Written, row: &CaseEventRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn find_case(conn: &mut DbConn, id: &str) -> QueryResult<Option<CaseRow>> {
    rehab_cases::table.find(id).select(CaseRow::as_select()).first(conn).optional()
}

/// Which of `refs` are already taken by a case.
pub fn taken_refs(conn: &mut DbConn, refs: &[String]) -> QueryResult<Vec<String>> {
    rehab_cases::table
        .filter(rehab_cases::case_ref.eq_any(refs))
        .select(rehab_cases::case_ref.assume_not_null())
        .load(conn)
}

/// The cases of these patients.
pub fn of_patients(conn: &mut DbConn, patient_ids: &[String]) -> QueryResult<Vec<CaseRow>> {
    for_patient_ids!(patient_ids, rehab_cases::patient_id, |by_patient| rehab_cases::table
        .filter(by_patient)
        .order((rehab_cases::decision_date.asc(), rehab_cases::id.asc()))
        .select(CaseRow::as_select())
        .load(conn))
}

/// Cases in these townships (`None`: every case).
pub fn in_townships(conn: &mut DbConn, townships: Option<&[String]>) -> QueryResult<Vec<CaseRow>> {
    let mut q = rehab_cases::table.into_boxed();
    if let Some(towns) = townships {
        q = q.filter(rehab_cases::township.eq_any(towns.to_vec()));
    }
    q.order((rehab_cases::township.asc(), rehab_cases::decision_date.asc(), rehab_cases::id.asc()))
        .select(CaseRow::as_select())
        .load(conn)
}

/// The events of these cases, in date order.
pub fn events_of(conn: &mut DbConn, case_ids: &[String]) -> QueryResult<Vec<CaseEventRow>> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    rehab_case_events::table
        .filter(rehab_case_events::case_id.eq_any(case_ids))
        .order((rehab_case_events::event_date.asc(), rehab_case_events::recorded_at.asc()))
        .select(CaseEventRow::as_select())
        .load(conn)
}

pub fn insert_disclosures(conn: &mut DbConn, written: &mut Written, rows: &[DisclosureRow]) -> QueryResult<()> {
    // One statement per row: diesel's multi-row insert is not available over MultiConnection.
    for row in rows {
        append_only::insert(conn, written, row)?;
    }
    Ok(())
}

pub struct DisclosureFilter {
    pub staff_id: Option<String>,
    pub patient_id: Option<String>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub limit: i64,
}

/// Disclosures, newest first.
pub fn list_disclosures(conn: &mut DbConn, f: &DisclosureFilter) -> QueryResult<Vec<DisclosureRow>> {
    let mut q = disclosures::table.into_boxed();
    if let Some(s) = &f.staff_id {
        q = q.filter(disclosures::staff_id.eq(s.clone()));
    }
    if let Some(p) = &f.patient_id {
        q = q.filter(disclosures::patient_id.eq(p.clone()));
    }
    q.filter(disclosures::at.ge(f.from))
        .filter(disclosures::at.lt(f.to))
        .order((disclosures::at.desc(), disclosures::id.desc()))
        .limit(f.limit)
        .select(DisclosureRow::as_select())
        .load(conn)
}
