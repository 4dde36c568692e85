//! Dose orders and their activations; doctors' reviews; ECGs.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{ecgs, order_activations, orders, reviews};
use super::{DbConn, QueryResult};
use crate::domain::orders::Phase;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: String,
    pub patient_id: String,
    pub daily_deci_mg: i32,
    pub portion1_deci_mg: Option<i32>,
    pub portion2_deci_mg: Option<i32>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub phase: Phase,
    pub reason: String,
    pub override_reason: Option<String>,
    pub transfer_from: Option<String>,
    pub last_dose_on: Option<NaiveDate>,
    pub starts_episode: bool,
    pub needs_approval: bool,
    pub prescriber_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_activations)]
pub struct ActivationRow {
    pub order_id: String,
    pub patient_id: String,
    pub effective_from: NaiveDate,
    pub activated_at: NaiveDateTime,
    pub approved_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reviews)]
pub struct ReviewRow {
    pub id: String,
    pub patient_id: String,
    pub review_date: NaiveDate,
    pub approved_deci_mg: i32,
    pub note: String,
    pub doctor_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ecgs)]
pub struct EcgRow {
    pub id: String,
    pub patient_id: String,
    pub taken_on: NaiveDate,
    pub qtc_ms: i32,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

/// An order with its activation (none while pending).
pub type OrderWithActivation = (OrderRow, Option<ActivationRow>);

pub fn insert(conn: &mut DbConn, written: &mut Written, row: &OrderRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn activate(conn: &mut DbConn, written: &mut Written, row: &ActivationRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrderWithActivation>> {
    orders::table
        .left_join(order_activations::table)
        .filter(orders::id.eq(id))
        .select((OrderRow::as_select(), Option::<ActivationRow>::as_select()))
        .first(conn)
        .optional()
}

/// Every order of these patients, in creation order.
pub fn for_patients(conn: &mut DbConn, patient_ids: &[String]) -> QueryResult<Vec<OrderWithActivation>> {
    for_patient_ids!(patient_ids, orders::patient_id, |by_patient| native!(conn, |c| orders::table
        .left_join(order_activations::table)
        .filter(by_patient)
        .order((orders::created_at.asc(), orders::id.asc()))
        .select((OrderRow::as_select(), Option::<ActivationRow>::as_select()))
        .load(c)))
}

/// Orders waiting for a second doctor.
pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<OrderRow>> {
    orders::table
        .left_join(order_activations::table)
        .filter(orders::needs_approval.eq(true))
        .filter(order_activations::order_id.is_null())
        .order(orders::created_at.asc())
        .select(OrderRow::as_select())
        .load(conn)
}

pub fn insert_review(conn: &mut DbConn, written: &mut Written, row: &ReviewRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// Reviews of these patients for `day`.
pub fn reviews_on(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> QueryResult<Vec<ReviewRow>> {
    for_patient_ids!(patient_ids, reviews::patient_id, |by_patient| native!(conn, |c| reviews::table
        .filter(by_patient)
        .filter(reviews::review_date.eq(day))
        .select(ReviewRow::as_select())
        .load(c)))
}

pub fn insert_ecg(conn: &mut DbConn, written: &mut Written, row: &EcgRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// A patient's ECGs, newest first.
pub fn ecgs_of(conn: &mut DbConn, patient_id: &str) -> QueryResult<Vec<EcgRow>> {
    ecgs::table
        .filter(ecgs::patient_id.eq(patient_id))
        .order((ecgs::taken_on.desc(), ecgs::created_at.desc()))
        .select(EcgRow::as_select())
        .load(conn)
}

/// Every patient's activated orders that took effect on or before `day`, in creation order
/// (an order activated later takes effect later: never retroactively).
pub fn activated_through(conn: &mut DbConn, day: NaiveDate) -> QueryResult<Vec<OrderWithActivation>> {
    let rows: Vec<(OrderRow, ActivationRow)> = orders::table
        .inner_join(order_activations::table)
        .filter(order_activations::effective_from.le(day))
        .order((orders::created_at.asc(), orders::id.asc()))
        .select((OrderRow::as_select(), ActivationRow::as_select()))
        .load(conn)?;
    Ok(rows.into_iter().map(|(o, a)| (o, Some(a))).collect())
}
