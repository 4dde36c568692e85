//! Bulk history for the benchmarks: days of daily doses written by one statement, straight
//! into the database — not through the dose path and not recorded by the audit chain (a
//! benchmark's database is not a clinic's: `verify-audit` would name every such row).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::patients::PatientRow;
use super::sites::SiteRow;

use super::{DbConn, QueryResult};

/// For every order, a dose on each day from `from` to `to` (both included) at the
/// patient's home site, given by `nurse_id` at 01:00 UTC: the order's daily amount as one
/// portion. Written as the service would have written them over those days: day after day
/// (the table's rows in that order) with time-ordered ids like the service's UUIDv7, so the
/// database has the layout a year of operation leaves, not a patient-by-patient one. With
/// `skip_every = Some(k)`, patients whose number is a multiple of `k` get none (they stopped
/// coming).
pub fn fill_daily_doses(
    conn: &mut DbConn,
    nurse_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    skip_every: Option<i64>,
) -> QueryResult<usize> {
    let skip = skip_every.unwrap_or(0);
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => diesel::sql_query(
            "WITH RECURSIVE days(d, ms) AS ( \
                 SELECT ?1, CAST((julianday(?1) - 2440587.5) * 86400000 AS INTEGER) + 3600000 \
                 UNION ALL SELECT date(d, '+1 day'), ms + 86400000 FROM days WHERE d < ?2) \
             INSERT INTO doses (id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at, \
                                nurse_id, order_id, kind, identity_confirmed, intoxication_check, note) \
             SELECT printf('%08x-%04x-7%03x-%04x-%012x', days.ms >> 16, days.ms & 65535, random() & 4095, \
                           (random() & 16383) | 32768, random() & 281474976710655), \
                    o.patient_id, p.home_site_id, days.d, 1, 0, o.daily_deci_mg, \
                    days.d || ' 01:00:00', ?3, o.id, 'site', 1, 'clear', NULL \
             FROM days CROSS JOIN orders o JOIN patients p ON p.id = o.patient_id \
             WHERE ?4 = 0 OR CAST(p.patient_no AS INTEGER) % ?4 <> 0 \
             ORDER BY days.d, p.patient_no",
        )
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(nurse_id)
        .bind::<BigInt, _>(skip)
        .execute(c),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => diesel::sql_query(
            "INSERT INTO doses (id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at, \
                                nurse_id, order_id, kind, identity_confirmed, intoxication_check, note) \
             SELECT substr(x, 1, 8) || '-' || substr(x, 9, 4) || '-7' || substr(x, 14, 3) || '-8' || \
                    substr(x, 18, 3) || '-' || substr(x, 21, 12), \
                    o.patient_id, p.home_site_id, d::date, 1, 0, o.daily_deci_mg, \
                    d::date + time '01:00', $3, o.id, 'site', true, 'clear', NULL \
             FROM generate_series($1::date, $2::date, interval '1 day') AS d \
             CROSS JOIN orders o JOIN patients p ON p.id = o.patient_id \
             CROSS JOIN LATERAL (SELECT lpad(to_hex((extract(epoch FROM d::date + time '01:00') * 1000)::bigint), 12, '0') \
                                        || md5(o.id || d::text) AS x) AS ids \
             WHERE $4 = 0 OR p.patient_no::bigint % $4 <> 0 \
             ORDER BY d, p.patient_no",
        )
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(nurse_id)
        .bind::<BigInt, _>(skip)
        .execute(c),
    }
}

/// Writes patients (and their name grams): multi-row inserts on PostgreSQL, one row at a
/// time on SQLite (in-process, as fast).
pub fn insert_patients(conn: &mut DbConn, rows: &[PatientRow]) -> QueryResult<()> {
    match conn {
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => {
            use super::schema::{patient_name_grams, patients};
            for chunk in rows.chunks(1000) {
                diesel::insert_into(patients::table).values(chunk).execute(c)?;
                let grams: Vec<_> = chunk
                    .iter()
                    .flat_map(|p| {
                        super::patients::name_grams(&p.name).into_iter().map(move |g| {
                            (patient_name_grams::gram.eq(g), patient_name_grams::patient_id.eq(p.id.clone()))
                        })
                    })
                    .collect();
                for grams in grams.chunks(5000) {
                    diesel::insert_into(patient_name_grams::table).values(grams).execute(c)?;
                }
            }
            Ok(())
        }
        #[allow(unreachable_patterns)]
        conn => rows.iter().try_for_each(|row| super::patients::insert(conn, row)),
    }
}

/// Moves the patient-number counter past the numbers a bulk load gave out.
pub fn set_patient_counter(conn: &mut DbConn, value: i64) -> QueryResult<()> {
    use super::schema::counters;
    diesel::update(counters::table.find("patient_no")).set(counters::value.eq(value)).execute(conn).map(|_| ())
}

/// Writes sites.
pub fn insert_sites(conn: &mut DbConn, rows: &[SiteRow]) -> QueryResult<()> {
    rows.iter().try_for_each(|row| super::sites::insert(conn, row))
}

/// Gives every patient one active order of `daily_deci_mg` from `from`, by `prescriber_id`.
pub fn order_everyone(
    conn: &mut DbConn,
    daily_deci_mg: i32,
    from: NaiveDate,
    prescriber_id: &str,
    at: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::sql_types::{Integer, Timestamp};
    let (orders, activations) = match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(_) => (
            "INSERT INTO orders (id, patient_id, daily_deci_mg, portion1_deci_mg, portion2_deci_mg, start_date, \
                                 end_date, phase, reason, override_reason, transfer_from, last_dose_on, \
                                 starts_episode, needs_approval, prescriber_id, created_at) \
             SELECT 'o-' || id, id, ?1, NULL, NULL, ?2, NULL, 'maintenance', 'bench', NULL, NULL, NULL, 1, 0, ?3, ?4 \
             FROM patients",
            "INSERT INTO order_activations (order_id, patient_id, effective_from, activated_at, approved_by) \
             SELECT id, patient_id, start_date, created_at, NULL FROM orders",
        ),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(_) => (
            "INSERT INTO orders (id, patient_id, daily_deci_mg, portion1_deci_mg, portion2_deci_mg, start_date, \
                                 end_date, phase, reason, override_reason, transfer_from, last_dose_on, \
                                 starts_episode, needs_approval, prescriber_id, created_at) \
             SELECT 'o-' || id, id, $1, NULL, NULL, $2, NULL, 'maintenance', 'bench', NULL, NULL, NULL, true, false, $3, $4 \
             FROM patients",
            "INSERT INTO order_activations (order_id, patient_id, effective_from, activated_at, approved_by) \
             SELECT id, patient_id, start_date, created_at, NULL FROM orders",
        ),
    };
    let n = diesel::sql_query(orders)
        .bind::<Integer, _>(daily_deci_mg)
        .bind::<Date, _>(from)
        .bind::<Text, _>(prescriber_id)
        .bind::<Timestamp, _>(at)
        .execute(conn)?;
    diesel::sql_query(activations).execute(conn)?;
    Ok(n)
}

/// After a bulk load, brings the database to where day-by-day operation would have left it.
/// On PostgreSQL: what autovacuum does a little after any large insert (the planner's
/// statistics, the visibility map that lets index-only scans skip the table, the rows'
/// commit hints set once instead of by the first reader of each page), then a checkpoint,
/// so that the measurement does not share the disk with the flush of the load. On SQLite,
/// whose statistics the service never gathers, the write-ahead log folded into the database
/// file (the service's commits checkpoint it every thousand pages; a year loaded in one
/// transaction would otherwise leave every later read going through a log of the year).
pub fn settle(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)"),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => {
            // Each on its own: VACUUM cannot run inside the transaction a multi-statement
            // string makes.
            c.batch_execute("VACUUM ANALYZE")?;
            c.batch_execute("CHECKPOINT")
        }
    }
}

#[derive(QueryableByName)]
struct Size {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

/// The size of a PostgreSQL schema's tables and indexes, bytes.
pub fn schema_size_bytes(conn: &mut DbConn, schema: &str) -> QueryResult<i64> {
    let size: Size = diesel::sql_query(
        "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'",
    )
    .bind::<Text, _>(schema)
    .get_result(conn)?;
    Ok(size.bytes)
}
