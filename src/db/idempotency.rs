//! Stored answers of retried writes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{DbConn, QueryResult};

/// (request hash, status, body)
pub fn find(conn: &mut DbConn, staff_id: &str, key: &str) -> QueryResult<Option<(String, i32, String)>> {
    native!(conn, |c| idempotency_keys::table
        .find((staff_id, key))
        .select((idempotency_keys::request_hash, idempotency_keys::status, idempotency_keys::body))
        .first(c)
        .optional())
}

pub fn insert(
    conn: &mut DbConn,
    staff_id: &str,
    key: &str,
    request_hash: &str,
    status: i32,
    body: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    native!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::staff_id.eq(staff_id),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status.eq(status),
            idempotency_keys::body.eq(body),
            idempotency_keys::created_at.eq(at),
        ))
        .execute(c))
    .map(|_| ())
}
