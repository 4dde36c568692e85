//! Home-visit authorizations, schedules, the run sheet's visits and their steps.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{
    home_visit_authorizations, home_visit_schedule_ends, home_visit_schedules, home_visit_steps, home_visits,
};
use super::{DbConn, QueryResult};
use crate::domain::home_visits::{Outcome, Step};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = home_visit_authorizations)]
pub struct AuthorizationRow {
    pub id: String,
    pub patient_id: String,
    pub reason: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub doctor_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = home_visit_schedules)]
pub struct ScheduleRow {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub weekdays: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
    pub position: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// A schedule ended early: no visit from it after `last_day`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = home_visit_schedule_ends)]
pub struct ScheduleEndRow {
    pub schedule_id: String,
    pub patient_id: String,
    pub last_day: NaiveDate,
    pub reason: String,
    pub ended_by: String,
    pub ended_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = home_visits)]
pub struct VisitRow {
    pub id: String,
    pub schedule_id: String,
    pub patient_id: String,
    pub site_id: String,
    pub visit_day: NaiveDate,
    pub position: i32,
    pub planned_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = home_visit_steps)]
pub struct StepRow {
    pub id: String,
    pub visit_id: String,
    pub patient_id: String,
    pub site_id: String,
    pub visit_day: NaiveDate,
    pub step: Step,
    pub outcome: Option<Outcome>,
    pub deci_mg: Option<i32>,
    pub portion: Option<i32>,
    pub product_id: Option<String>,
    pub centi_ml: Option<i32>,
    pub observed_at: Option<NaiveDateTime>,
    pub dose_id: Option<String>,
    pub note: Option<String>,
    pub staff_id: String,
    pub at: NaiveDateTime,
}

pub fn insert_authorization(conn: &mut DbConn, written: &mut Written, row: &AuthorizationRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn authorizations_of(conn: &mut DbConn, patient_ids: &[String]) -> QueryResult<Vec<AuthorizationRow>> {
    home_visit_authorizations::table
        .filter(home_visit_authorizations::patient_id.eq_any(patient_ids))
        .order(home_visit_authorizations::created_at.asc())
        .select(AuthorizationRow::as_select())
        .load(conn)
}

pub fn insert_schedule(conn: &mut DbConn, written: &mut Written, row: &ScheduleRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// The schedules of a site that may fall on `day` (started by then, not ended before).
/// The site's schedules that cover `day` (from, to, and not ended before it).
pub fn schedules_at(conn: &mut DbConn, site_id: &str, day: NaiveDate) -> QueryResult<Vec<ScheduleRow>> {
    let ended_before = home_visit_schedule_ends::table
        .filter(home_visit_schedule_ends::last_day.lt(day))
        .select(home_visit_schedule_ends::schedule_id);
    home_visit_schedules::table
        .filter(home_visit_schedules::site_id.eq(site_id))
        .filter(home_visit_schedules::from_date.le(day))
        .filter(home_visit_schedules::to_date.is_null().or(home_visit_schedules::to_date.ge(day)))
        .filter(home_visit_schedules::id.ne_all(ended_before))
        .order(home_visit_schedules::created_at.asc())
        .select(ScheduleRow::as_select())
        .load(conn)
}

pub fn find_schedule(conn: &mut DbConn, id: &str) -> QueryResult<Option<ScheduleRow>> {
    home_visit_schedules::table.find(id).select(ScheduleRow::as_select()).first(conn).optional()
}

pub fn schedule_ends_of_patient(conn: &mut DbConn, patient_id: &str) -> QueryResult<Vec<ScheduleEndRow>> {
    home_visit_schedule_ends::table
        .filter(home_visit_schedule_ends::patient_id.eq(patient_id))
        .select(ScheduleEndRow::as_select())
        .load(conn)
}

/// Ends a schedule; a second end of the same schedule comes back as a unique violation.
pub fn insert_schedule_end(conn: &mut DbConn, written: &mut Written, row: &ScheduleEndRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn schedules_of_patient(conn: &mut DbConn, patient_id: &str) -> QueryResult<Vec<ScheduleRow>> {
    home_visit_schedules::table
        .filter(home_visit_schedules::patient_id.eq(patient_id))
        .order(home_visit_schedules::created_at.asc())
        .select(ScheduleRow::as_select())
        .load(conn)
}

/// Inserts a planned visit. A visit for the patient and day that exists already (another
/// reader materialized it first) comes back as a unique violation.
pub fn insert_visit(conn: &mut DbConn, written: &mut Written, row: &VisitRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn visits_at(conn: &mut DbConn, site_id: &str, day: NaiveDate) -> QueryResult<Vec<VisitRow>> {
    home_visits::table
        .filter(home_visits::site_id.eq(site_id))
        .filter(home_visits::visit_day.eq(day))
        .order((home_visits::position.asc(), home_visits::planned_at.asc()))
        .select(VisitRow::as_select())
        .load(conn)
}

/// Visits of a site from `from` to `to`.
pub fn visits_between(conn: &mut DbConn, site_id: &str, from: NaiveDate, to: NaiveDate) -> QueryResult<Vec<VisitRow>> {
    home_visits::table
        .filter(home_visits::site_id.eq(site_id))
        .filter(home_visits::visit_day.ge(from))
        .filter(home_visits::visit_day.le(to))
        .order((home_visits::visit_day.asc(), home_visits::position.asc()))
        .select(VisitRow::as_select())
        .load(conn)
}

/// Patients (of `patient_ids`) with a visit on `day`.
pub fn visited_on(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> QueryResult<Vec<VisitRow>> {
    home_visits::table
        .filter(home_visits::patient_id.eq_any(patient_ids))
        .filter(home_visits::visit_day.eq(day))
        .select(VisitRow::as_select())
        .load(conn)
}

pub fn find_visit(conn: &mut DbConn, id: &str) -> QueryResult<Option<VisitRow>> {
    home_visits::table.find(id).select(VisitRow::as_select()).first(conn).optional()
}

pub fn insert_step(conn: &mut DbConn, written: &mut Written, row: &StepRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn steps_of(conn: &mut DbConn, visit_ids: &[String]) -> QueryResult<Vec<StepRow>> {
    home_visit_steps::table
        .filter(home_visit_steps::visit_id.eq_any(visit_ids))
        .order(home_visit_steps::at.asc())
        .select(StepRow::as_select())
        .load(conn)
}

/// Steps recorded at a site from `from` on (every visit day), for the ledger.
pub fn steps_at_site_since(conn: &mut DbConn, site_id: &str, from: NaiveDate) -> QueryResult<Vec<StepRow>> {
    home_visit_steps::table
        .filter(home_visit_steps::site_id.eq(site_id))
        .filter(home_visit_steps::visit_day.ge(from))
        .order(home_visit_steps::at.asc())
        .select(StepRow::as_select())
        .load(conn)
}
