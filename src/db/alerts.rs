//! Alerts with their acknowledgement and resolution, and the record of sweep runs.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{alert_acknowledgements, alert_resolutions, alerts, sweep_runs};
use super::{is_unique_violation, DbConn, QueryResult};
use crate::domain::alerts::{AlertKind, SweepCause};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    pub id: String,
    pub patient_id: String,
    pub kind: AlertKind,
    pub episode_key: String,
    pub case_id: Option<String>,
    pub message: String,
    pub details: String,
    pub opened_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_acknowledgements)]
pub struct AcknowledgementRow {
    pub alert_id: String,
    pub note: String,
    pub staff_id: String,
    pub at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_resolutions)]
pub struct ResolutionRow {
    pub alert_id: String,
    pub reason: String,
    pub staff_id: Option<String>,
    pub at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sweep_runs)]
pub struct SweepRunRow {
    pub id: String,
    pub cause: SweepCause,
    pub sweep_date: chrono::NaiveDate,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub patients: i32,
    pub opened: i32,
    pub resolved: i32,
    pub dropouts: i32,
    pub due_tests: i32,
}

/// An alert with its acknowledgement and resolution, if any.
pub type AlertWithState = (AlertRow, Option<AcknowledgementRow>, Option<ResolutionRow>);

/// Inserts an alert; `false` when its episode already has one (the unique key decides, so
/// two sweeps racing cannot open the same alert twice).
pub fn insert(conn: &mut DbConn, written: &mut Written, row: &AlertRow) -> QueryResult<bool> {
    match append_only::insert(conn, written, row) {
        Ok(()) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn insert_acknowledgement(conn: &mut DbConn, written: &mut Written, row: &AcknowledgementRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_resolution(conn: &mut DbConn, written: &mut Written, row: &ResolutionRow) -> QueryResult<bool> {
    match append_only::insert(conn, written, row) {
        Ok(()) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<AlertWithState>> {
    alerts::table
        .left_join(alert_acknowledgements::table)
        .left_join(alert_resolutions::table)
        .filter(alerts::id.eq(id))
        .select((
            AlertRow::as_select(),
            Option::<AcknowledgementRow>::as_select(),
            Option::<ResolutionRow>::as_select(),
        ))
        .first(conn)
        .optional()
}

/// The id of the patient's alert of `kind` for one episode.
pub fn find_by_episode(
    conn: &mut DbConn,
    patient_id: &str,
    kind: AlertKind,
    episode_key: &str,
) -> QueryResult<Option<String>> {
    alerts::table
        .filter(alerts::patient_id.eq(patient_id))
        .filter(alerts::kind.eq(kind.as_str()))
        .filter(alerts::episode_key.eq(episode_key))
        .select(alerts::id)
        .first(conn)
        .optional()
}

/// An alert as the sweep knows it: (id, patient, kind, episode key, resolved).
pub type KnownAlertRow = (String, String, AlertKind, String, bool);

/// Every alert of these patients.
pub fn known_for(conn: &mut DbConn, patient_ids: &[String]) -> QueryResult<Vec<KnownAlertRow>> {
    let rows: Vec<(String, String, AlertKind, String, Option<String>)> =
        for_patient_ids!(patient_ids, alerts::patient_id, |by_patient| alerts::table
            .left_join(alert_resolutions::table)
            .filter(by_patient)
            .select((
                alerts::id,
                alerts::patient_id,
                alerts::kind,
                alerts::episode_key,
                alert_resolutions::alert_id.nullable(),
            ))
            .load(conn))?;
    Ok(rows.into_iter().map(|(id, p, k, key, res)| (id, p, k, key, res.is_some())).collect())
}

/// Which alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    Acknowledged,
    Resolved,
    /// Open or acknowledged.
    Unresolved,
    All,
}

pub struct ListFilter<'a> {
    pub status: StatusFilter,
    /// `None`: every patient.
    pub patient_ids: Option<&'a [String]>,
    pub kind: Option<&'a str>,
    pub limit: i64,
}

/// Alerts, newest first.
pub fn list(conn: &mut DbConn, f: &ListFilter<'_>) -> QueryResult<Vec<AlertWithState>> {
    let mut q = alerts::table.left_join(alert_acknowledgements::table).left_join(alert_resolutions::table).into_boxed();
    if let Some(ids) = f.patient_ids {
        q = q.filter(alerts::patient_id.eq_any(ids.to_vec()));
    }
    if let Some(kind) = f.kind {
        q = q.filter(alerts::kind.eq(kind.to_string()));
    }
    q = match f.status {
        StatusFilter::Open => {
            q.filter(alert_resolutions::alert_id.is_null()).filter(alert_acknowledgements::alert_id.is_null())
        }
        StatusFilter::Acknowledged => {
            q.filter(alert_resolutions::alert_id.is_null()).filter(alert_acknowledgements::alert_id.is_not_null())
        }
        StatusFilter::Resolved => q.filter(alert_resolutions::alert_id.is_not_null()),
        StatusFilter::Unresolved => q.filter(alert_resolutions::alert_id.is_null()),
        StatusFilter::All => q,
    };
    q.order((alerts::opened_at.desc(), alerts::id.desc()))
        .limit(f.limit)
        .select((
            AlertRow::as_select(),
            Option::<AcknowledgementRow>::as_select(),
            Option::<ResolutionRow>::as_select(),
        ))
        .load(conn)
}

pub fn insert_sweep_run(conn: &mut DbConn, written: &mut Written, row: &SweepRunRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn latest_sweep_run(conn: &mut DbConn) -> QueryResult<Option<SweepRunRow>> {
    sweep_runs::table.order(sweep_runs::started_at.desc()).select(SweepRunRow::as_select()).first(conn).optional()
}

/// Alerts of these patients opened from `from` (inclusive) to `to` (exclusive), oldest first.
pub fn opened_between(
    conn: &mut DbConn,
    patient_ids: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<AlertRow>> {
    if patient_ids.is_empty() {
        return Ok(Vec::new());
    }
    for_patient_ids!(patient_ids, alerts::patient_id, |by_patient| alerts::table
        .filter(by_patient)
        .filter(alerts::opened_at.ge(from))
        .filter(alerts::opened_at.lt(to))
        .order((alerts::opened_at.asc(), alerts::id.asc()))
        .select(AlertRow::as_select())
        .load(conn))
}

/// Open alerts (neither acknowledged nor resolved) by kind, for `/metrics`.
pub fn open_by_kind(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    alerts::table
        .left_join(alert_acknowledgements::table)
        .left_join(alert_resolutions::table)
        .filter(alert_resolutions::alert_id.is_null())
        .filter(alert_acknowledgements::alert_id.is_null())
        .group_by(alerts::kind)
        .select((alerts::kind, diesel::dsl::count_star()))
        .load(conn)
}
