//! Doses, their reversals, withheld doses, guest dosing and excused absences.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::not;
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{
    absences, dose_reversal_confirmations, dose_reversals, doses, guest_dosing, guest_dosing_releases,
    late_correction_confirmations, offline_doses, offline_incidents, order_activations, withheld_doses,
};
use super::{DbConn, QueryResult};
use crate::domain::dispensing::{DoseKind, IntoxicationCheck};
use crate::domain::patients::AbsenceReason;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = doses)]
pub struct DoseRow {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub dose_day: NaiveDate,
    pub portion: i32,
    pub generation: i32,
    pub deci_mg: i32,
    pub given_at: NaiveDateTime,
    pub nurse_id: String,
    pub order_id: String,
    pub kind: DoseKind,
    pub identity_confirmed: bool,
    pub intoxication_check: IntoxicationCheck,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dose_reversals)]
pub struct ReversalRow {
    pub id: String,
    pub dose_id: String,
    pub patient_id: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dose_reversal_confirmations)]
pub struct ConfirmationRow {
    pub reversal_id: String,
    pub dose_id: String,
    pub patient_id: String,
    pub confirmed_by: String,
    pub confirmed_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = withheld_doses)]
pub struct WithheldRow {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub dose_day: NaiveDate,
    pub intoxication_check: IntoxicationCheck,
    pub nurse_id: String,
    pub at: NaiveDateTime,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = guest_dosing)]
pub struct GuestDosingRow {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// The site that held a patient's day released it to a same-day guest arrangement.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = guest_dosing_releases)]
pub struct ReleaseRow {
    pub arrangement_id: String,
    pub patient_id: String,
    /// The releasing site.
    pub site_id: String,
    pub released_by: String,
    pub released_at: NaiveDateTime,
}

/// A dose given at a window that had lost the line: when its terminal said it was given,
/// and when the server received it.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offline_doses)]
pub struct OfflineDoseRow {
    pub dose_id: String,
    pub terminal_given_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
}

/// An offline dose the server refused to record: an incident for a doctor. `reason` is the
/// refusal's code, `details` its details (JSON).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = offline_incidents)]
pub struct OfflineIncidentRow {
    pub id: String,
    pub patient_id: String,
    pub site_id: String,
    pub nurse_id: String,
    pub dose_day: NaiveDate,
    pub deci_mg: i32,
    pub terminal_given_at: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub reason: String,
    pub details: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = absences)]
pub struct AbsenceRow {
    pub id: String,
    pub patient_id: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub reason: AbsenceReason,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// A dose with its reversal request and confirmation, if any.
pub type DoseWithReversal = (DoseRow, Option<ReversalRow>, Option<ConfirmationRow>);

/// The ids of doses whose reversal was confirmed.
/// Whether the dose row at hand has a confirmed reversal: a correlated `EXISTS` on the
/// confirmations' `dose_id` index, one probe per dose row read. (An uncorrelated
/// `id IN (SELECT dose_id FROM …)` reads every confirmation of the network on each query:
/// its cost would grow with the table.)
macro_rules! reversed {
    () => {
        diesel::dsl::exists(
            dose_reversal_confirmations::table.filter(dose_reversal_confirmations::dose_id.eq(doses::id)),
        )
    };
}

/// Inserts a dose. A lost race on the (patient, day, portion, generation) key comes back as
/// a unique violation.
pub fn insert(conn: &mut DbConn, written: &mut Written, row: &DoseRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// The generation a new dose in this slot gets: how many doses of the slot were reversed.
pub fn next_generation(conn: &mut DbConn, patient_id: &str, day: NaiveDate, portion: i32) -> QueryResult<i32> {
    let n: i64 = native!(conn, |c| doses::table
        .filter(doses::patient_id.eq(patient_id))
        .filter(doses::dose_day.eq(day))
        .filter(doses::portion.eq(portion))
        .filter(reversed!())
        .count()
        .get_result(c))?;
    Ok(n as i32)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<DoseRow>> {
    doses::table.find(id).select(DoseRow::as_select()).first(conn).optional()
}

/// Doses that stand (not reversed) for these patients on `day`. For one patient the unique
/// key finds them; for a site's list they are read from the day's range (a few pages,
/// however long the patients' histories), not by one descent per patient.
pub fn standing_on(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> QueryResult<Vec<DoseRow>> {
    let on_day = doses::table.filter(doses::dose_day.eq(day)).filter(not(reversed!())).order(doses::given_at.asc());
    match (patient_ids, &*conn) {
        ([id], _) => native!(conn, |c| on_day.filter(doses::patient_id.eq(id)).select(DoseRow::as_select()).load(c)),
        // `+patient_id` has SQLite read the day's range of its unique key (day first) and
        // filter it, rather than descend once per patient; PostgreSQL chooses by its
        // statistics.
        #[cfg(feature = "sqlite")]
        (many, DbConn::Sqlite(_)) => on_day
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("+doses.patient_id IN (SELECT value FROM json_each(")
                    .bind::<diesel::sql_types::Text, _>(json_ids(many)?)
                    .sql("))"),
            )
            .select(DoseRow::as_select())
            .load(conn),
        #[cfg(feature = "postgres")]
        (many, DbConn::Postgres(_)) => {
            on_day.filter(doses::patient_id.eq_any(many)).select(DoseRow::as_select()).load(conn)
        }
    }
}

/// For each patient with one, the last dose before `day` that stands (the latest given on
/// the latest such day). First the day before, which holds the last dose of everyone who
/// came yesterday (for a list, one range of the day's key; for one patient, one probe).
/// For the others, on PostgreSQL one probe per patient into the unique key (patient first)
/// inside one statement; on SQLite, which has no index leading with the patient, a walk
/// back through the day-first key (see [`walk_back`]).
pub fn last_standing_before(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> QueryResult<Vec<DoseRow>> {
    let mut last: HashMap<String, DoseRow> = HashMap::new();
    let Some(day_before) = day.pred_opt() else { return Ok(Vec::new()) };
    // In given order: the latest of the day stays.
    for row in standing_on(conn, patient_ids, day_before)? {
        last.insert(row.patient_id.clone(), row);
    }
    let others: Vec<String> = patient_ids.iter().filter(|id| !last.contains_key(*id)).cloned().collect();
    if others.is_empty() {
        return Ok(last.into_values().collect());
    }
    let probed: Vec<DoseRow> = match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => walk_back(c, others, day_before)?,
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT doses.* FROM unnest($1::text[]) AS ids(id) JOIN doses ON doses.id = (\
             SELECT d.id FROM doses d WHERE d.patient_id = ids.id AND d.dose_day < $2 \
             AND NOT EXISTS (SELECT 1 FROM dose_reversal_confirmations c WHERE c.dose_id = d.id) \
             ORDER BY d.dose_day DESC, d.given_at DESC LIMIT 1)",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(others)
        .bind::<diesel::sql_types::Date, _>(day_before)
        .load(c)?,
    };
    Ok(last.into_values().chain(probed).collect())
}

/// The longest span of days [`walk_back`] reads in one statement.
#[cfg(feature = "sqlite")]
const WALK_SPAN_MAX: i64 = 256;

/// SQLite: each patient's last standing dose before `before`, read back from it in spans of
/// days that double (2, 4, 8, … up to [`WALK_SPAN_MAX`]) through the day-first unique key,
/// one probe per (day, patient) still unanswered, down to the first day an order of the
/// patient's took effect: a dose is given under the order in force on its day, so none lies
/// before that (a patient without an activated order has none). The cost grows with the
/// days since a patient's last dose, or since their first order for one never dosed (a few
/// probes for anyone who came this week), never with the years of history stored.
#[cfg(feature = "sqlite")]
fn walk_back(
    conn: &mut diesel::SqliteConnection,
    mut ids: Vec<String>,
    before: NaiveDate,
) -> QueryResult<Vec<DoseRow>> {
    let floors: HashMap<String, NaiveDate> = order_activations::table
        .filter(order_activations::patient_id.eq_any(&ids))
        .group_by(order_activations::patient_id)
        .select((order_activations::patient_id, diesel::dsl::min(order_activations::effective_from)))
        .load::<(String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .filter_map(|(id, floor)| Some((id, floor?)))
        .collect();
    let mut found: HashMap<String, DoseRow> = HashMap::new();
    let (mut end, mut span) = (before, 2);
    loop {
        ids.retain(|id| !found.contains_key(id) && floors.get(id).is_some_and(|floor| *floor < end));
        let Some(floor) = ids.iter().filter_map(|id| floors.get(id)).min().copied() else { break };
        let start = (end - chrono::Duration::days(span)).max(floor);
        let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d < end).collect();
        let rows: Vec<DoseRow> = doses::table
            .filter(doses::dose_day.eq_any(&days))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("doses.patient_id IN (SELECT value FROM json_each(")
                    .bind::<diesel::sql_types::Text, _>(json_ids(&ids)?)
                    .sql("))"),
            )
            .filter(not(reversed!()))
            .order((doses::dose_day.asc(), doses::given_at.asc()))
            .select(DoseRow::as_select())
            .load(conn)?;
        // In day and given order: each patient's latest stays.
        for row in rows {
            found.insert(row.patient_id.clone(), row);
        }
        (end, span) = (start, (span * 2).min(WALK_SPAN_MAX));
    }
    Ok(found.into_values().collect())
}

/// A list of ids as the JSON array SQLite's `json_each` reads.
#[cfg(feature = "sqlite")]
fn json_ids<T: serde::Serialize>(ids: &[T]) -> QueryResult<String> {
    serde_json::to_string(ids).map_err(|e| diesel::result::Error::SerializationError(e.into()))
}

/// Every dose of a patient in a date range, with its reversal request and confirmation.
pub fn history(
    conn: &mut DbConn,
    patient_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<DoseWithReversal>> {
    // Day by day through the unique key (day first on SQLite, see the migration
    // `doses_day_first`): the cost grows with the days asked for, not with those stored.
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let rows: Vec<DoseRow> = doses::table
        .filter(doses::patient_id.eq(patient_id))
        .filter(doses::dose_day.eq_any(&days))
        .order((doses::dose_day.asc(), doses::given_at.asc()))
        .select(DoseRow::as_select())
        .load(conn)?;
    attach_reversals(conn, rows)
}

/// Every dose given at a site on a day, with reversals (the register).
pub fn at_site_on(conn: &mut DbConn, site_id: &str, day: NaiveDate) -> QueryResult<Vec<DoseWithReversal>> {
    let rows: Vec<DoseRow> = doses::table
        .filter(doses::site_id.eq(site_id))
        .filter(doses::dose_day.eq(day))
        .order(doses::given_at.asc())
        .select(DoseRow::as_select())
        .load(conn)?;
    attach_reversals(conn, rows)
}

fn attach_reversals(conn: &mut DbConn, rows: Vec<DoseRow>) -> QueryResult<Vec<DoseWithReversal>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let reversals: Vec<ReversalRow> = dose_reversals::table
        .filter(dose_reversals::dose_id.eq_any(&ids))
        .select(ReversalRow::as_select())
        .load(conn)?;
    let confirmations: Vec<ConfirmationRow> = dose_reversal_confirmations::table
        .filter(dose_reversal_confirmations::dose_id.eq_any(&ids))
        .select(ConfirmationRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|d| {
            let r = reversals.iter().find(|r| r.dose_id == d.id).cloned();
            let c = confirmations.iter().find(|c| c.dose_id == d.id).cloned();
            (d, r, c)
        })
        .collect())
}

pub fn insert_reversal(conn: &mut DbConn, written: &mut Written, row: &ReversalRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn reversal_of(conn: &mut DbConn, dose_id: &str) -> QueryResult<Option<ReversalRow>> {
    dose_reversals::table
        .filter(dose_reversals::dose_id.eq(dose_id))
        .select(ReversalRow::as_select())
        .first(conn)
        .optional()
}

pub fn confirmation_of(conn: &mut DbConn, dose_id: &str) -> QueryResult<Option<ConfirmationRow>> {
    dose_reversal_confirmations::table
        .filter(dose_reversal_confirmations::dose_id.eq(dose_id))
        .select(ConfirmationRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_confirmation(conn: &mut DbConn, written: &mut Written, row: &ConfirmationRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_withheld(conn: &mut DbConn, written: &mut Written, row: &WithheldRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// Patients (of `patient_ids`) with a withheld dose on `day`.
pub fn withheld_on(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> QueryResult<Vec<String>> {
    for_patient_ids!(patient_ids, withheld_doses::patient_id, |by_patient| native!(conn, |c| withheld_doses::table
        .filter(by_patient)
        .filter(withheld_doses::dose_day.eq(day))
        .select(withheld_doses::patient_id)
        .distinct()
        .load(c)))
}

/// Days with a withheld dose for a patient in a range.
pub fn withheld_days(
    conn: &mut DbConn,
    patient_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<NaiveDate>> {
    withheld_doses::table
        .filter(withheld_doses::patient_id.eq(patient_id))
        .filter(withheld_doses::dose_day.ge(from))
        .filter(withheld_doses::dose_day.le(to))
        .select(withheld_doses::dose_day)
        .distinct()
        .load(conn)
}

pub fn insert_guest_dosing(conn: &mut DbConn, row: &GuestDosingRow) -> QueryResult<()> {
    diesel::insert_into(guest_dosing::table).values(row).execute(conn).map(|_| ())
}

/// Guest-dosing arrangements at `site_id` covering `day`.
pub fn guests_at(conn: &mut DbConn, site_id: &str, day: NaiveDate) -> QueryResult<Vec<GuestDosingRow>> {
    guest_dosing::table
        .filter(guest_dosing::site_id.eq(site_id))
        .filter(guest_dosing::from_date.le(day))
        .filter(guest_dosing::to_date.ge(day))
        .select(GuestDosingRow::as_select())
        .load(conn)
}

/// The guest-dosing arrangements of these patients that cover `day`, at any site.
pub fn guests_of(conn: &mut DbConn, patient_ids: &[String], day: NaiveDate) -> QueryResult<Vec<GuestDosingRow>> {
    for_patient_ids!(patient_ids, guest_dosing::patient_id, |by_patient| native!(conn, |c| guest_dosing::table
        .filter(by_patient)
        .filter(guest_dosing::from_date.le(day))
        .filter(guest_dosing::to_date.ge(day))
        .select(GuestDosingRow::as_select())
        .load(c)))
}

/// A guest-dosing arrangement by id.
pub fn find_guest_dosing(conn: &mut DbConn, id: &str) -> QueryResult<Option<GuestDosingRow>> {
    guest_dosing::table.find(id).select(GuestDosingRow::as_select()).first(conn).optional()
}

/// Records a release. A second release of the same arrangement (a lost race) comes back as
/// a unique violation.
pub fn insert_release(conn: &mut DbConn, written: &mut Written, row: &ReleaseRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// The release of an arrangement, if given.
pub fn release_of(conn: &mut DbConn, arrangement_id: &str) -> QueryResult<Option<ReleaseRow>> {
    guest_dosing_releases::table.find(arrangement_id).select(ReleaseRow::as_select()).first(conn).optional()
}

/// Which of these arrangements the site holding the day has released.
pub fn released(conn: &mut DbConn, arrangement_ids: &[String]) -> QueryResult<Vec<String>> {
    if arrangement_ids.is_empty() {
        return Ok(Vec::new());
    }
    guest_dosing_releases::table
        .filter(guest_dosing_releases::arrangement_id.eq_any(arrangement_ids))
        .select(guest_dosing_releases::arrangement_id)
        .load(conn)
}

pub fn insert_offline(conn: &mut DbConn, written: &mut Written, row: &OfflineDoseRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_incident(conn: &mut DbConn, written: &mut Written, row: &OfflineIncidentRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// Which of these doses were given offline, with their times.
pub fn offline_of(conn: &mut DbConn, dose_ids: &[String]) -> QueryResult<Vec<OfflineDoseRow>> {
    if dose_ids.is_empty() {
        return Ok(Vec::new());
    }
    offline_doses::table.filter(offline_doses::dose_id.eq_any(dose_ids)).select(OfflineDoseRow::as_select()).load(conn)
}

/// The incidents of dose days `from..=to`, at these sites (every site when `None`), oldest
/// first.
pub fn incidents(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
    site_ids: Option<&[String]>,
) -> QueryResult<Vec<OfflineIncidentRow>> {
    let mut query = offline_incidents::table
        .filter(offline_incidents::dose_day.between(from, to))
        .select(OfflineIncidentRow::as_select())
        .order((offline_incidents::received_at.asc(), offline_incidents::id.asc()))
        .into_boxed();
    if let Some(sites) = site_ids {
        query = query.filter(offline_incidents::site_id.eq_any(sites));
    }
    query.load(conn)
}

pub fn insert_absence(conn: &mut DbConn, row: &AbsenceRow) -> QueryResult<()> {
    diesel::insert_into(absences::table).values(row).execute(conn).map(|_| ())
}

/// Every excused absence of these patients.
pub fn absences_of(conn: &mut DbConn, patient_ids: &[String]) -> QueryResult<Vec<AbsenceRow>> {
    for_patient_ids!(patient_ids, absences::patient_id, |by_patient| native!(conn, |c| absences::table
        .filter(by_patient)
        .select(AbsenceRow::as_select())
        .load(c)))
}

/// The dose that stands in a slot (the winner of a race).
pub fn standing_in_slot(conn: &mut DbConn, patient_id: &str, day: NaiveDate) -> QueryResult<Option<DoseRow>> {
    doses::table
        .filter(doses::patient_id.eq(patient_id))
        .filter(doses::dose_day.eq(day))
        .filter(not(reversed!()))
        .order(doses::given_at.desc())
        .select(DoseRow::as_select())
        .first(conn)
        .optional()
}

/// Every dose that counts with a dose day from `from` to `to` (both included), for the
/// monthly figures: (patient, site, deci-mg, kind). Neither reversed doses nor doses taken
/// out by a confirmed late correction count.
pub fn standing_between(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, String, i32, DoseKind)>> {
    doses::table
        .filter(doses::dose_day.ge(from))
        .filter(doses::dose_day.le(to))
        .filter(not(reversed!()))
        .filter(not(diesel::dsl::exists(
            late_correction_confirmations::table.filter(late_correction_confirmations::dose_id.eq(doses::id)),
        )))
        .select((doses::patient_id, doses::site_id, doses::deci_mg, doses::kind))
        .load(conn)
}

/// Doses recorded on a dose day, by site, for `/metrics` (reversed ones included).
pub fn count_by_site_on(conn: &mut DbConn, day: chrono::NaiveDate) -> QueryResult<Vec<(String, i64)>> {
    doses::table
        .filter(doses::dose_day.eq(day))
        .group_by(doses::site_id)
        .select((doses::site_id, diesel::dsl::count_star()))
        .load(conn)
}
