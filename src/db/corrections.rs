//! Late corrections of doses of earlier days: the request and its confirmation, both
//! append-only rows beside the dose, which is never touched.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::doses::DoseRow;
use super::schema::{doses, late_correction_confirmations, late_corrections};
use super::{DbConn, QueryResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = late_corrections)]
pub struct LateCorrectionRow {
    pub id: String,
    pub dose_id: String,
    pub patient_id: String,
    pub site_id: String,
    pub dose_day: chrono::NaiveDate,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = late_correction_confirmations)]
pub struct LateConfirmationRow {
    pub late_correction_id: String,
    pub dose_id: String,
    pub patient_id: String,
    pub site_id: String,
    pub requested_by: String,
    pub confirmed_by: String,
    pub confirmed_at: NaiveDateTime,
}

/// A late correction with its confirmation, if any.
pub type LateCorrection = (LateCorrectionRow, Option<LateConfirmationRow>);

pub fn insert(conn: &mut DbConn, written: &mut Written, row: &LateCorrectionRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_confirmation(conn: &mut DbConn, written: &mut Written, row: &LateConfirmationRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// The late correction of a dose, with its confirmation.
pub fn of_dose(conn: &mut DbConn, dose_id: &str) -> QueryResult<Option<LateCorrection>> {
    Ok(of_doses(conn, &[dose_id.to_string()])?.remove(dose_id))
}

/// The late corrections of these doses, by dose id.
pub fn of_doses(conn: &mut DbConn, dose_ids: &[String]) -> QueryResult<HashMap<String, LateCorrection>> {
    if dose_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(LateCorrectionRow, Option<LateConfirmationRow>)> = late_corrections::table
        .left_join(
            late_correction_confirmations::table
                .on(late_correction_confirmations::late_correction_id.eq(late_corrections::id)),
        )
        .filter(late_corrections::dose_id.eq_any(dose_ids))
        .select((LateCorrectionRow::as_select(), Option::<LateConfirmationRow>::as_select()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(r, c)| (r.dose_id.clone(), (r, c))).collect())
}

/// Late corrections confirmed at a site from `from` to before `to` (UTC instants): the
/// register of the day they were made. Oldest first, each with its dose.
pub fn confirmed_at_site_between(
    conn: &mut DbConn,
    site_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(LateConfirmationRow, LateCorrectionRow, DoseRow)>> {
    late_correction_confirmations::table
        .inner_join(
            late_corrections::table.on(late_corrections::id.eq(late_correction_confirmations::late_correction_id)),
        )
        .inner_join(doses::table.on(doses::id.eq(late_correction_confirmations::dose_id)))
        .filter(late_correction_confirmations::site_id.eq(site_id))
        .filter(late_correction_confirmations::confirmed_at.ge(from))
        .filter(late_correction_confirmations::confirmed_at.lt(to))
        .order(late_correction_confirmations::confirmed_at.asc())
        .select((LateConfirmationRow::as_select(), LateCorrectionRow::as_select(), DoseRow::as_select()))
        .load(conn)
}

/// Late corrections not yet confirmed for doses given at any of `site_ids`, oldest first,
/// each with its dose.
pub fn pending_at_sites(conn: &mut DbConn, site_ids: &[String]) -> QueryResult<Vec<(LateCorrectionRow, DoseRow)>> {
    if site_ids.is_empty() {
        return Ok(Vec::new());
    }
    late_corrections::table
        .inner_join(doses::table.on(doses::id.eq(late_corrections::dose_id)))
        .filter(late_corrections::site_id.eq_any(site_ids))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            late_correction_confirmations::table
                .filter(late_correction_confirmations::late_correction_id.eq(late_corrections::id)),
        )))
        .order(late_corrections::requested_at.asc())
        .select((LateCorrectionRow::as_select(), DoseRow::as_select()))
        .load(conn)
}
