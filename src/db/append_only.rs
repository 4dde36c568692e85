//! The append-only tables: the one path that inserts into them, the digests of what was
//! written (for the transaction's audit entry), and what `verify-audit` needs to re-read
//! every row.
//!
//! Every append-only table is listed once, in [`append_only_tables!`] below, with its row
//! type and all of its columns. That one list makes the row type insertable only through
//! [`insert`] (the raw insert is a sealed trait, out of reach of other modules), which
//! records the row's digest in the transaction's [`Written`] list; it gives the canonical
//! form, built from an exhaustive destructuring of the row (a column added to the struct
//! and not to the list does not compile); and it gives `verify-audit` the table to scan.
//! A test compares each listed table's columns with the database's.

use diesel::prelude::*;

use super::alerts::{AcknowledgementRow, AlertRow, ResolutionRow, SweepRunRow};
use super::corrections::{LateConfirmationRow, LateCorrectionRow};
use super::doses::{
    ConfirmationRow, DoseRow, OfflineDoseRow, OfflineIncidentRow, ReleaseRow, ReversalRow, WithheldRow,
};
use super::drug_tests::{PoliceRow, ResultRow, SelectionRow, TestRow};
use super::home_visits::{AuthorizationRow, ScheduleEndRow, ScheduleRow, StepRow, VisitRow};
use super::orders::{ActivationRow, EcgRow, OrderRow, ReviewRow};
use super::patients::{PhotoRow, StatusChangeRow};
use super::rehab::{CaseEventRow, CaseRow, DisclosureRow};
use super::schema;
use super::stock::{CloseConfirmationRow, CloseRow, EntryConfirmationRow, EntryRow, ProductRow, SiteProductRow};
use super::{DbConn, QueryResult};
use crate::domain::audit::RowDigester;

/// A row of an append-only table.
pub trait AppendOnlyRow: sealed::RawInsert {
    /// The table's name.
    const TABLE: &'static str;
    /// The row's primary key.
    fn row_id(&self) -> &str;
    /// The digest of the row's canonical form.
    fn digest(&self) -> String;
}

mod sealed {
    /// The plain INSERT of a row. Only [`super::insert`] can name this trait, so no other
    /// code can write an append-only row without recording it.
    pub trait RawInsert {
        fn insert_raw(&self, conn: &mut super::DbConn) -> super::QueryResult<usize>;
    }
}

/// One row written in a transaction: where, which, and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDigest {
    pub table: &'static str,
    pub row_id: String,
    pub digest: String,
}

/// The append-only rows a write transaction has written and not yet attached to an audit
/// entry.
#[derive(Debug, Default)]
pub struct Written {
    rows: Vec<RowDigest>,
}

impl Written {
    pub fn new() -> Self {
        Self::default()
    }

    /// The rows written since the last call.
    pub fn take(&mut self) -> Vec<RowDigest> {
        std::mem::take(&mut self.rows)
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Inserts a row into its append-only table and records its digest. A unique violation (a
/// lost race) comes back as the database's error, and nothing is recorded.
pub fn insert<R: AppendOnlyRow>(conn: &mut DbConn, written: &mut Written, row: &R) -> QueryResult<()> {
    sealed::RawInsert::insert_raw(row, conn)?;
    written.rows.push(RowDigest { table: R::TABLE, row_id: row.row_id().to_string(), digest: row.digest() });
    Ok(())
}

/// A row's id and digest, as read back.
pub type IdDigest = (String, String);

/// What `verify-audit` needs of one append-only table.
pub struct TableSpec {
    pub name: &'static str,
    /// Every column, in the order of the canonical form.
    pub columns: &'static [&'static str],
    /// Rows read per page (photos are large).
    pub page: i64,
    /// Up to `limit` rows with an id after `after`, in id order, as (id, digest).
    pub scan: fn(&mut DbConn, Option<&str>, i64) -> QueryResult<Vec<IdDigest>>,
    /// Which of these ids are in the table.
    pub present: fn(&mut DbConn, &[String]) -> QueryResult<Vec<String>>,
}

macro_rules! append_only_tables {
    ($( $table:ident : $row:ident, id = $id:ident, page = $page:expr, [ $($field:ident),+ $(,)? ] ; )+) => {
        $(
            impl sealed::RawInsert for $row {
                fn insert_raw(&self, conn: &mut DbConn) -> QueryResult<usize> {
                    native!(conn, |c| diesel::insert_into(schema::$table::table).values(self).execute(c))
                }
            }

            impl AppendOnlyRow for $row {
                const TABLE: &'static str = stringify!($table);

                fn row_id(&self) -> &str {
                    &self.$id
                }

                fn digest(&self) -> String {
                    // Exhaustive: a field missing here is a compile error.
                    let $row { $($field),+ } = self;
                    let mut d = RowDigester::new(stringify!($table));
                    $( d.field($field); )+
                    d.finish()
                }
            }
        )+

        /// Every append-only table whose rows the audit chain records.
        pub const TABLES: &[TableSpec] = &[
            $(
                TableSpec {
                    name: stringify!($table),
                    columns: &[$(stringify!($field)),+],
                    page: $page,
                    scan: |conn, after, limit| {
                        use schema::$table::dsl as t;
                        let rows: Vec<$row> = match after {
                            Some(after) => t::$table
                                .filter(t::$id.gt(after))
                                .order(t::$id.asc())
                                .limit(limit)
                                .select($row::as_select())
                                .load(conn)?,
                            None => t::$table.order(t::$id.asc()).limit(limit).select($row::as_select()).load(conn)?,
                        };
                        Ok(rows.iter().map(|r| (r.$id.clone(), r.digest())).collect())
                    },
                    present: |conn, ids| {
                        use schema::$table::dsl as t;
                        t::$table.filter(t::$id.eq_any(ids)).select(t::$id).load(conn)
                    },
                },
            )+
        ];
    };
}

append_only_tables! {
    patient_status_changes: StatusChangeRow, id = id, page = 1000,
        [id, patient_id, from_status, to_status, reason, changed_by, changed_at];
    patient_photos: PhotoRow, id = id, page = 20,
        [id, patient_id, mime, data, uploaded_by, uploaded_at];
    orders: OrderRow, id = id, page = 1000,
        [id, patient_id, daily_deci_mg, portion1_deci_mg, portion2_deci_mg, start_date, end_date, phase, reason,
         override_reason, transfer_from, last_dose_on, starts_episode, needs_approval, prescriber_id, created_at];
    order_activations: ActivationRow, id = order_id, page = 1000,
        [order_id, patient_id, effective_from, activated_at, approved_by];
    reviews: ReviewRow, id = id, page = 1000,
        [id, patient_id, review_date, approved_deci_mg, note, doctor_id, created_at];
    ecgs: EcgRow, id = id, page = 1000,
        [id, patient_id, taken_on, qtc_ms, recorded_by, created_at];
    doses: DoseRow, id = id, page = 1000,
        [id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at, nurse_id, order_id, kind,
         identity_confirmed, intoxication_check, note];
    dose_reversals: ReversalRow, id = id, page = 1000,
        [id, dose_id, patient_id, reason, requested_by, requested_at];
    dose_reversal_confirmations: ConfirmationRow, id = reversal_id, page = 1000,
        [reversal_id, dose_id, patient_id, confirmed_by, confirmed_at];
    guest_dosing_releases: ReleaseRow, id = arrangement_id, page = 1000,
        [arrangement_id, patient_id, site_id, released_by, released_at];
    offline_doses: OfflineDoseRow, id = dose_id, page = 1000,
        [dose_id, terminal_given_at, received_at];
    offline_incidents: OfflineIncidentRow, id = id, page = 1000,
        [id, patient_id, site_id, nurse_id, dose_day, deci_mg, terminal_given_at, received_at, reason, details];
    withheld_doses: WithheldRow, id = id, page = 1000,
        [id, patient_id, site_id, dose_day, intoxication_check, nurse_id, at, note];
    late_corrections: LateCorrectionRow, id = id, page = 1000,
        [id, dose_id, patient_id, site_id, dose_day, reason, requested_by, requested_at];
    late_correction_confirmations: LateConfirmationRow, id = late_correction_id, page = 1000,
        [late_correction_id, dose_id, patient_id, site_id, requested_by, confirmed_by, confirmed_at];
    rehab_cases: CaseRow, id = id, page = 1000,
        [id, case_ref, patient_id, kind, decision_date, reported_on, township, worker_id, created_by, created_at];
    rehab_case_events: CaseEventRow, id = id, page = 1000,
        [id, case_id, patient_id, kind, event_date, note, recorded_by, recorded_at];
    drug_tests: TestRow, id = id, page = 1000,
        [id, patient_id, kind, sampled_on, selection_id, recorded_by, recorded_at];
    test_results: ResultRow, id = test_id, page = 1000,
        [test_id, patient_id, result, recorded_by, recorded_at];
    police_notifications: PoliceRow, id = test_id, page = 1000,
        [test_id, patient_id, notified_at, police_unit, note, notified_by, recorded_at];
    urine_selections: SelectionRow, id = id, page = 1000,
        [id, site_id, selection_date, seed, wanted, candidates, patient_ids, created_by, created_at];
    alerts: AlertRow, id = id, page = 1000,
        [id, patient_id, kind, episode_key, case_id, message, details, opened_at];
    alert_acknowledgements: AcknowledgementRow, id = alert_id, page = 1000,
        [alert_id, note, staff_id, at];
    alert_resolutions: ResolutionRow, id = alert_id, page = 1000,
        [alert_id, reason, staff_id, at];
    disclosures: DisclosureRow, id = id, page = 1000,
        [id, staff_id, patient_id, at, basis, case_id, what];
    sweep_runs: SweepRunRow, id = id, page = 1000,
        [id, cause, sweep_date, started_at, finished_at, patients, opened, resolved, dropouts, due_tests];
    products: ProductRow, id = id, page = 1000,
        [id, name, concentration_mg_per_ml, created_by, created_at];
    site_products: SiteProductRow, id = id, page = 1000,
        [id, site_id, product_id, set_by, set_at];
    home_visit_authorizations: AuthorizationRow, id = id, page = 1000,
        [id, patient_id, reason, valid_from, valid_to, doctor_id, created_at];
    home_visit_schedules: ScheduleRow, id = id, page = 1000,
        [id, patient_id, site_id, weekdays, from_date, to_date, position, created_by, created_at];
    home_visit_schedule_ends: ScheduleEndRow, id = schedule_id, page = 1000,
        [schedule_id, patient_id, last_day, reason, ended_by, ended_at];
    home_visits: VisitRow, id = id, page = 1000,
        [id, schedule_id, patient_id, site_id, visit_day, position, planned_at];
    home_visit_steps: StepRow, id = id, page = 1000,
        [id, visit_id, patient_id, site_id, visit_day, step, outcome, deci_mg, portion, product_id, centi_ml,
         observed_at, dose_id, note, staff_id, at];
    stock_entries: EntryRow, id = id, page = 1000,
        [id, site_id, product_id, kind, centi_ml, lot, supplier, counterpart_site_id, transfer_id, reverses_id,
         reason, entered_by, entered_at];
    stock_entry_confirmations: EntryConfirmationRow, id = entry_id, page = 1000,
        [entry_id, site_id, transfer_id, reverses_id, confirmed_by, confirmed_at];
    day_closes: CloseRow, id = id, page = 1000,
        [id, site_id, product_id, close_day, counted_cml, expected_cml, incident_note, requested_by, requested_at];
    day_close_confirmations: CloseConfirmationRow, id = close_id, page = 1000,
        [close_id, site_id, product_id, close_day, counted_cml, expected_cml, confirmed_by, confirmed_at];
}

/// The tables that must carry append-only triggers: every table of [`TABLES`], the audit
/// log and its row digests.
pub fn guarded_tables() -> Vec<&'static str> {
    let mut names = vec!["audit_log", "audit_rows"];
    names.extend(TABLES.iter().map(|t| t.name));
    names
}

/// The message of the SQLite triggers that refuse a row whose key exists (a REPLACE, or a
/// plain INSERT that lost a race on the key): see the migration `audit_digests`.
pub const DUPLICATE_KEY_MESSAGE: &str = "already exists (append-only)";

/// An append-only trigger that the database lacks (or has disabled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTrigger {
    pub table: &'static str,
    pub trigger: String,
    pub disabled: bool,
}

impl std::fmt::Display for MissingTrigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.disabled { "disabled" } else { "missing" };
        write!(f, "the append-only trigger {} of table {} is {state}", self.trigger, self.table)
    }
}

#[derive(QueryableByName)]
struct TriggerInfo {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    trigger_name: String,
    /// SQLite: the trigger's SQL; PostgreSQL: `tgenabled` ('D' when disabled).
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The append-only triggers the database should have and does not: on SQLite
/// `<table>_no_update`, `_no_delete` and `_no_replace`, each raising an error; on
/// PostgreSQL `<table>_append_only` and `_no_truncate`, enabled.
pub fn missing_triggers(conn: &mut DbConn) -> QueryResult<Vec<MissingTrigger>> {
    let (found, suffixes): (Vec<TriggerInfo>, &[&str]) = match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => (
            diesel::sql_query(
                "SELECT tbl_name AS table_name, name AS trigger_name, COALESCE(sql, '') AS detail \
                 FROM sqlite_master WHERE type = 'trigger'",
            )
            .load(c)?,
            &["no_update", "no_delete", "no_replace"],
        ),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => (
            diesel::sql_query(
                "SELECT c.relname::text AS table_name, t.tgname::text AS trigger_name, t.tgenabled::text AS detail \
                 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
            )
            .load(c)?,
            &["append_only", "no_truncate"],
        ),
    };
    let mut missing = Vec::new();
    for table in guarded_tables() {
        for suffix in suffixes {
            let name = format!("{table}_{suffix}");
            let trigger = found.iter().find(|t| t.table_name == table && t.trigger_name == name);
            let disabled = match (trigger, super::backend_of(conn)) {
                (None, _) => {
                    missing.push(MissingTrigger { table, trigger: name, disabled: false });
                    continue;
                }
                (Some(t), super::Backend::Sqlite) => !t.detail.to_ascii_uppercase().contains("RAISE(ABORT"),
                (Some(t), super::Backend::Postgres) => t.detail == "D",
            };
            if disabled {
                missing.push(MissingTrigger { table, trigger: name, disabled: true });
            }
        }
    }
    Ok(missing)
}

#[derive(QueryableByName)]
struct ColumnName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The columns of a table as the database has them.
pub fn table_columns(conn: &mut DbConn, table: &str) -> QueryResult<Vec<String>> {
    use diesel::sql_types::Text;
    let rows: Vec<ColumnName> = match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => {
            diesel::sql_query("SELECT name FROM pragma_table_info(?)").bind::<Text, _>(table).load(c)?
        }
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT column_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind::<Text, _>(table)
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.name).collect())
}
