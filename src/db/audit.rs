//! The audit trail's storage: appending to the hash chain and reading it back.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{audit_head, audit_log};
use super::{DbConn, QueryResult};
use crate::domain::audit::{chain_hash, AuditFields, StoredEntry};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub fn to_stored(&self) -> StoredEntry {
        StoredEntry {
            seq: self.seq,
            at: self.at.and_utc(),
            actor_id: self.actor_id.clone(),
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            summary: self.summary.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// An entry to append: what a use case records about its write.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    pub actor_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub summary: String,
}

/// Appends `drafts` to the chain. Call as the last step of a write transaction: the first
/// statement locks the head row (an UPDATE takes the row lock on PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already holds the write lock), so concurrent writers queue here and
/// the chain never forks.
pub fn append(conn: &mut DbConn, drafts: &[AuditDraft], at: DateTime<Utc>) -> QueryResult<()> {
    if drafts.is_empty() {
        return Ok(());
    }
    // Microsecond precision, as both backends store it, so the hash verifies on read-back.
    let at = DateTime::<Utc>::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
    let head = audit_head::table.find(1);
    if super::backend_of(conn) == super::Backend::Postgres {
        // Take the head row's lock before reading it (SQLite's `BEGIN IMMEDIATE` already
        // holds the database's write lock).
        diesel::update(head).set(audit_head::seq.eq(audit_head::seq)).execute(conn)?;
    }
    let (mut seq, mut prev_hash): (i64, String) = head.select((audit_head::seq, audit_head::hash)).first(conn)?;
    let mut rows = Vec::with_capacity(drafts.len());
    for d in drafts {
        seq += 1;
        let hash = chain_hash(
            &prev_hash,
            &AuditFields {
                seq,
                at,
                actor_id: d.actor_id.as_deref(),
                action: &d.action,
                entity: &d.entity,
                entity_id: d.entity_id.as_deref(),
                summary: &d.summary,
            },
        );
        rows.push(AuditRow {
            seq,
            at: at.naive_utc(),
            actor_id: d.actor_id.clone(),
            action: d.action.clone(),
            entity: d.entity.clone(),
            entity_id: d.entity_id.clone(),
            summary: d.summary.clone(),
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        });
    }
    for row in &rows {
        diesel::insert_into(audit_log::table).values(row).execute(conn)?;
    }
    diesel::update(head).set((audit_head::seq.eq(seq), audit_head::hash.eq(&prev_hash))).execute(conn)?;
    Ok(())
}

pub fn head(conn: &mut DbConn) -> QueryResult<(i64, String)> {
    audit_head::table.find(1).select((audit_head::seq, audit_head::hash)).first(conn)
}

/// A page of the chain in order, from `after_seq` (exclusive).
pub fn page_in_order(conn: &mut DbConn, after_seq: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .order(audit_log::seq.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

pub struct AuditFilter<'a> {
    pub entity: Option<&'a str>,
    pub entity_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Newest first, filtered.
pub fn search(conn: &mut DbConn, f: &AuditFilter<'_>) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(entity) = f.entity {
        q = q.filter(audit_log::entity.eq(entity));
    }
    if let Some(entity_id) = f.entity_id {
        q = q.filter(audit_log::entity_id.eq(entity_id));
    }
    if let Some(actor_id) = f.actor_id {
        q = q.filter(audit_log::actor_id.eq(actor_id));
    }
    if let Some(before) = f.before_seq {
        q = q.filter(audit_log::seq.lt(before));
    }
    q.order(audit_log::seq.desc()).limit(f.limit).select(AuditRow::as_select()).load(conn)
}
