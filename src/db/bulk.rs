//! Bulk history for the benchmarks: days of daily doses written by one statement, straight
//! into the database — not through the dose path and not recorded by the audit chain (a
//! benchmark's database is not a clinic's: `verify-audit` would name every such row).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Date, Text};

use super::{DbConn, QueryResult};

/// For every order, a dose on each day from `from` to `to` (both included) at `site_id`,
/// given by `nurse_id` at 01:00 UTC: the order's daily amount as one portion.
pub fn fill_daily_doses(
    conn: &mut DbConn,
    site_id: &str,
    nurse_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<usize> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => diesel::sql_query(
            "WITH RECURSIVE days(d) AS (SELECT ?1 UNION ALL SELECT date(d, '+1 day') FROM days WHERE d < ?2) \
             INSERT INTO doses (id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at, \
                                nurse_id, order_id, kind, identity_confirmed, intoxication_check, note) \
             SELECT lower(hex(randomblob(16))), o.patient_id, ?3, days.d, 1, 0, o.daily_deci_mg, \
                    days.d || ' 01:00:00', ?4, o.id, 'site', 1, 'clear', NULL \
             FROM orders o CROSS JOIN days",
        )
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(site_id)
        .bind::<Text, _>(nurse_id)
        .execute(c),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => diesel::sql_query(
            "INSERT INTO doses (id, patient_id, site_id, dose_day, portion, generation, deci_mg, given_at, \
                                nurse_id, order_id, kind, identity_confirmed, intoxication_check, note) \
             SELECT md5(o.id || d::text), o.patient_id, $3, d::date, 1, 0, o.daily_deci_mg, \
                    d::date + time '01:00', $4, o.id, 'site', true, 'clear', NULL \
             FROM orders o CROSS JOIN generate_series($1::date, $2::date, interval '1 day') AS d",
        )
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(site_id)
        .bind::<Text, _>(nurse_id)
        .execute(c),
    }
}

/// Refreshes the query planner's statistics after a bulk load.
pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("ANALYZE")
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
