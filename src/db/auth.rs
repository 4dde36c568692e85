//! Sign-in sessions, refresh tokens and login attempts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{login_attempts, refresh_tokens, sessions};
use super::{DbConn, QueryResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub staff_id: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub issued_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(row).execute(conn).map(|_| ())
}

pub fn find_session(conn: &mut DbConn, id: &str) -> QueryResult<Option<SessionRow>> {
    native!(conn, |c| sessions::table.find(id).select(SessionRow::as_select()).first(c).optional())
}

pub fn revoke_session(conn: &mut DbConn, id: &str, reason: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
}

/// Revokes every open session of a staff member; returns how many.
pub fn revoke_sessions_of(conn: &mut DbConn, staff_id: &str, reason: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::staff_id.eq(staff_id)).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(now), sessions::revoked_reason.eq(reason)))
        .execute(conn)
}

pub fn insert_refresh_token(conn: &mut DbConn, row: &RefreshTokenRow) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table).values(row).execute(conn).map(|_| ())
}

pub fn find_refresh_token(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table.find(token_hash).select(RefreshTokenRow::as_select()).first(conn).optional()
}

/// Marks a refresh token used, if it was not already. `false` means someone used it first.
pub fn use_refresh_token(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(refresh_tokens::table.find(token_hash).filter(refresh_tokens::used_at.is_null()))
        .set(refresh_tokens::used_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

/// Serializes sign-in attempts' count-and-record step across connections: PostgreSQL
/// takes a transaction-scoped advisory lock; on SQLite `BEGIN IMMEDIATE` already holds the
/// database's write lock.
pub fn lock_login_gate(conn: &mut DbConn) -> QueryResult<()> {
    if super::backend_of(conn) == super::Backend::Postgres {
        // An arbitrary constant naming the sign-in gate.
        diesel::sql_query("SELECT pg_advisory_xact_lock(727311001)").execute(conn)?;
    }
    Ok(())
}

/// Records a sign-in attempt as failed — before its password is checked, so that parallel
/// attempts count against the throttle at once — and returns its id.
pub fn record_login_attempt(
    conn: &mut DbConn,
    username: &str,
    address: &str,
    at: NaiveDateTime,
) -> QueryResult<String> {
    let id = super::new_id();
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::id.eq(&id),
            login_attempts::username.eq(username),
            login_attempts::address.eq(address),
            login_attempts::succeeded.eq(false),
            login_attempts::at.eq(at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Marks a recorded attempt as successful once its password checked out.
pub fn mark_login_succeeded(conn: &mut DbConn, attempt_id: &str) -> QueryResult<()> {
    diesel::update(login_attempts::table.find(attempt_id)).set(login_attempts::succeeded.eq(true)).execute(conn)?;
    Ok(())
}

/// Failed attempts on `username` since `since` and after its last successful login.
/// Attempt ids are UUIDv7, monotonic in the order attempts were made, so "after" holds
/// even when the service clock stands still (the test clock).
pub fn account_failures_since(conn: &mut DbConn, username: &str, since: NaiveDateTime) -> QueryResult<i64> {
    let last_success: Option<String> = login_attempts::table
        .filter(login_attempts::username.eq(username))
        .filter(login_attempts::succeeded.eq(true))
        .filter(login_attempts::at.ge(since))
        .select(diesel::dsl::max(login_attempts::id))
        .first(conn)?;
    let mut failures = login_attempts::table
        .filter(login_attempts::username.eq(username))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::at.ge(since))
        .into_boxed();
    if let Some(last) = last_success {
        failures = failures.filter(login_attempts::id.gt(last));
    }
    failures.count().get_result(conn)
}

/// Failed attempts from `address` since `since`.
pub fn address_failures_since(conn: &mut DbConn, address: &str, since: NaiveDateTime) -> QueryResult<i64> {
    login_attempts::table
        .filter(login_attempts::address.eq(address))
        .filter(login_attempts::succeeded.eq(false))
        .filter(login_attempts::at.ge(since))
        .count()
        .get_result(conn)
}
