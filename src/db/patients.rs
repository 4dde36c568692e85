//! Patients: enrolment, search, status history, photos.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{counters, patient_name_grams, patient_photos, patient_status_changes, patients};
use super::{DbConn, QueryResult};
use crate::domain::dispensing::PatientStatus;
use crate::domain::patients::Sex;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = patients)]
pub struct PatientRow {
    pub id: String,
    pub patient_no: String,
    pub name: String,
    pub id_number: String,
    pub id_number_rev: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub township: String,
    pub home_site_id: String,
    pub enrolled_on: NaiveDate,
    pub risk_level: i32,
    pub consent_to_share: bool,
    pub status: PatientStatus,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = patient_status_changes)]
pub struct StatusChangeRow {
    pub id: String,
    pub patient_id: String,
    pub from_status: PatientStatus,
    pub to_status: PatientStatus,
    pub reason: String,
    pub changed_by: Option<String>,
    pub changed_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = patient_photos)]
pub struct PhotoRow {
    pub id: String,
    pub patient_id: String,
    pub mime: String,
    pub data: Vec<u8>,
    pub uploaded_by: String,
    pub uploaded_at: NaiveDateTime,
}

/// The next network-wide patient number (a counter row, incremented inside the caller's
/// write transaction so that numbers are never handed out twice).
pub fn next_patient_no(conn: &mut DbConn) -> QueryResult<i64> {
    let row = counters::table.find("patient_no");
    diesel::update(row).set(counters::value.eq(counters::value + 1)).execute(conn)?;
    row.select(counters::value).first(conn)
}

/// Single characters and adjacent pairs of a name, lower-cased: any fragment of one or
/// more characters finds the name through one indexed lookup.
pub fn name_grams(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let mut grams: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    grams.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
    grams.sort();
    grams.dedup();
    grams
}

pub fn insert(conn: &mut DbConn, row: &PatientRow) -> QueryResult<()> {
    diesel::insert_into(patients::table).values(row).execute(conn)?;
    for gram in name_grams(&row.name) {
        diesel::insert_into(patient_name_grams::table)
            .values((patient_name_grams::gram.eq(gram), patient_name_grams::patient_id.eq(&row.id)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PatientRow>> {
    native!(conn, |c| patients::table.find(id).select(PatientRow::as_select()).first(c).optional())
}

/// The patient, held against a concurrent change of their record until the transaction
/// ends: on PostgreSQL a share lock on the row, so that a status change waits for a dose
/// being decided, and a dose decided after the change sees it (SQLite's one writer orders
/// them already).
pub fn find_for_write(conn: &mut DbConn, id: &str) -> QueryResult<Option<PatientRow>> {
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => patients::table.find(id).select(PatientRow::as_select()).for_share().first(c).optional(),
        #[allow(unreachable_patterns)]
        _ => find(conn, id),
    }
}

pub fn find_by_id_number(conn: &mut DbConn, id_number: &str) -> QueryResult<Option<PatientRow>> {
    patients::table.filter(patients::id_number.eq(id_number)).select(PatientRow::as_select()).first(conn).optional()
}

pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<PatientRow>> {
    patients::table.filter(patients::id.eq_any(ids)).select(PatientRow::as_select()).load(conn)
}

/// Active patients whose home is `site_id`.
pub fn active_at_site(conn: &mut DbConn, site_id: &str) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(patients::home_site_id.eq(site_id))
        .filter(patients::status.eq(PatientStatus::Active))
        .order(patients::patient_no.asc())
        .select(PatientRow::as_select())
        .load(conn)
}

/// Who may see a patient in a search.
pub enum SearchScope<'a> {
    All,
    /// Rehab workers: only these patients.
    Only(&'a [String]),
}

/// Patients matching a patient number exactly, an id-number suffix (4+ characters), or a
/// name fragment — each an indexed lookup.
pub fn search(conn: &mut DbConn, q: &str, scope: &SearchScope<'_>, limit: i64) -> QueryResult<Vec<PatientRow>> {
    let q = q.trim();
    let mut query = patients::table.into_boxed();
    if let SearchScope::Only(ids) = scope {
        query = query.filter(patients::id.eq_any(ids.to_vec()));
    }
    let looks_like_number = q.len() >= 4 && q.chars().all(|c| c.is_ascii_digit() || c == 'x' || c == 'X');
    if looks_like_number {
        let rev: String = q.to_ascii_uppercase().chars().rev().collect();
        // Prefix range on the reversed id number: [rev, rev + U+FFFF).
        let upper = format!("{rev}\u{10FFFF}");
        query = query.filter(
            patients::patient_no
                .eq(q.to_string())
                .or(patients::id_number_rev.ge(rev).and(patients::id_number_rev.lt(upper))),
        );
    } else {
        let grams = name_grams(q);
        let key = grams.iter().filter(|g| g.chars().count() == 2).min().or_else(|| grams.first()).cloned();
        let Some(key) = key else { return Ok(Vec::new()) };
        let ids =
            patient_name_grams::table.filter(patient_name_grams::gram.eq(key)).select(patient_name_grams::patient_id);
        query = query.filter(patients::id.eq_any(ids)).filter(patients::name.like(format!("%{}%", escape_like(q))));
    }
    query
        .order((patients::name.asc(), patients::patient_no.asc()))
        .limit(limit)
        .select(PatientRow::as_select())
        .load(conn)
}

fn escape_like(s: &str) -> String {
    s.replace(['%', '_'], "")
}

pub fn set_status(conn: &mut DbConn, written: &mut Written, change: &StatusChangeRow) -> QueryResult<()> {
    append_only::insert(conn, written, change)?;
    diesel::update(patients::table.find(&change.patient_id))
        .set((patients::status.eq(&change.to_status), patients::updated_at.eq(change.changed_at)))
        .execute(conn)
        .map(|_| ())
}

pub fn status_changes(conn: &mut DbConn, patient_id: &str) -> QueryResult<Vec<StatusChangeRow>> {
    patient_status_changes::table
        .filter(patient_status_changes::patient_id.eq(patient_id))
        .order((patient_status_changes::changed_at.asc(), patient_status_changes::id.asc()))
        .select(StatusChangeRow::as_select())
        .load(conn)
}

pub fn insert_photo(conn: &mut DbConn, written: &mut Written, row: &PhotoRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// The latest photo: (mime, bytes).
pub fn latest_photo(conn: &mut DbConn, patient_id: &str) -> QueryResult<Option<(String, Vec<u8>)>> {
    patient_photos::table
        .filter(patient_photos::patient_id.eq(patient_id))
        .order((patient_photos::uploaded_at.desc(), patient_photos::id.desc()))
        .select((patient_photos::mime, patient_photos::data))
        .first(conn)
        .optional()
}

/// Which of `ids` have a photo.
pub fn with_photos(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    for_patient_ids!(ids, patient_photos::patient_id, |by_patient| patient_photos::table
        .filter(by_patient)
        .select(patient_photos::patient_id)
        .distinct()
        .load(conn))
}

/// Patients of these townships who consented to sharing.
pub fn consenting_in(conn: &mut DbConn, townships: &[String]) -> QueryResult<Vec<String>> {
    patients::table
        .filter(patients::township.eq_any(townships))
        .filter(patients::consent_to_share.eq(true))
        .select(patients::id)
        .load(conn)
}

/// A page of patients in id order, after `after` (keyset paging for the sweep).
pub fn page_after(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(patients::id.gt(after))
        .order(patients::id.asc())
        .limit(limit)
        .select(PatientRow::as_select())
        .load(conn)
}

/// Patients with a status, in patient-number order.
pub fn with_status(conn: &mut DbConn, status: PatientStatus) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(patients::status.eq(status))
        .order(patients::patient_no.asc())
        .select(PatientRow::as_select())
        .load(conn)
}

/// Patients enrolled on or before `day`.
pub fn enrolled_through(conn: &mut DbConn, day: NaiveDate) -> QueryResult<Vec<PatientRow>> {
    patients::table
        .filter(patients::enrolled_on.le(day))
        .order(patients::patient_no.asc())
        .select(PatientRow::as_select())
        .load(conn)
}

/// Every patient's status changes, oldest first.
pub fn all_status_changes(conn: &mut DbConn) -> QueryResult<Vec<StatusChangeRow>> {
    patient_status_changes::table
        .order((patient_status_changes::changed_at.asc(), patient_status_changes::id.asc()))
        .select(StatusChangeRow::as_select())
        .load(conn)
}
