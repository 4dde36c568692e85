//! The audit trail's storage: appending to the chain with the rows each entry records, and
//! reading both back.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::append_only::RowDigest;
use super::schema::{audit_head, audit_log, audit_rows};
use super::{DbConn, QueryResult};
use crate::domain::audit::{keyed_link, AuditFields, ChainKey, HeadRecord, RowRef, StoredEntry, KEYED_VERSION};

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
    pub version: i32,
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
            version: self.version,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
        }
    }
}

/// One row an entry records, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_rows)]
pub struct AuditRowDigest {
    pub seq: i64,
    pub ord: i32,
    pub table_name: String,
    pub row_id: String,
    pub digest: String,
}

impl AuditRowDigest {
    pub fn as_ref(&self) -> RowRef<'_> {
        RowRef { table: &self.table_name, row_id: &self.row_id, digest: &self.digest }
    }
}

/// An entry to append: what a use case records about its write, with the append-only rows
/// it wrote.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    pub actor_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub summary: String,
    pub rows: Vec<RowDigest>,
}

/// Appends `drafts` to the chain, each a keyed link covering its rows; returns the new head.
/// Call as the last step of a write transaction: the first statement locks the head row (an
/// UPDATE takes the row lock on PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the
/// write lock), so concurrent writers queue here and the chain never forks.
pub fn append(
    conn: &mut DbConn,
    key: &ChainKey,
    drafts: &[AuditDraft],
    at: DateTime<Utc>,
) -> QueryResult<Option<HeadRecord>> {
    if drafts.is_empty() {
        return Ok(None);
    }
    let head = head_for_append(conn)?;
    let head = append_links(conn, key, drafts, at, head)?;
    store_head(conn, &head)?;
    Ok(Some(head))
}

/// The head to append after, read inside the write transaction. On PostgreSQL its row is
/// locked first (SQLite's `BEGIN IMMEDIATE` already holds the database's write lock).
pub fn head_for_append(conn: &mut DbConn) -> QueryResult<HeadRecord> {
    let head = audit_head::table.find(1);
    if super::backend_of(conn) == super::Backend::Postgres {
        diesel::update(head).set(audit_head::seq.eq(audit_head::seq)).execute(conn)?;
    }
    let (seq, mac, keyed_from): (i64, String, i64) =
        native!(conn, |c| head.select((audit_head::seq, audit_head::hash, audit_head::keyed_from)).first(c))?;
    Ok(HeadRecord { seq, mac, keyed_from: Some(keyed_from) })
}

/// Writes `drafts` as the links after `head` (their entries and the rows each covers) and
/// returns the new head, without storing it: the caller stores the last head of its
/// transaction with [`store_head`] (a group commit once for the whole group).
pub fn append_links(
    conn: &mut DbConn,
    key: &ChainKey,
    drafts: &[AuditDraft],
    at: DateTime<Utc>,
    head: HeadRecord,
) -> QueryResult<HeadRecord> {
    // Microsecond precision, as both backends store it, so the link verifies on read-back.
    let at = DateTime::<Utc>::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
    let HeadRecord { mut seq, mac: mut prev_hash, keyed_from } = head;
    for d in drafts {
        seq += 1;
        let rows: Vec<RowRef<'_>> =
            d.rows.iter().map(|r| RowRef { table: r.table, row_id: &r.row_id, digest: &r.digest }).collect();
        let fields = AuditFields {
            seq,
            at,
            actor_id: d.actor_id.as_deref(),
            action: &d.action,
            entity: &d.entity,
            entity_id: d.entity_id.as_deref(),
            summary: &d.summary,
        };
        let hash = keyed_link(key, &prev_hash, &fields, &rows);
        let row = AuditRow {
            seq,
            at: at.naive_utc(),
            actor_id: d.actor_id.clone(),
            action: d.action.clone(),
            entity: d.entity.clone(),
            entity_id: d.entity_id.clone(),
            summary: d.summary.clone(),
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
            version: KEYED_VERSION,
        };
        native!(conn, |c| diesel::insert_into(audit_log::table).values(&row).execute(c))?;
        for (ord, r) in d.rows.iter().enumerate() {
            let row = AuditRowDigest {
                seq,
                ord: ord as i32,
                table_name: r.table.to_string(),
                row_id: r.row_id.clone(),
                digest: r.digest.clone(),
            };
            native!(conn, |c| diesel::insert_into(audit_rows::table).values(&row).execute(c))?;
        }
    }
    Ok(HeadRecord { seq, mac: prev_hash, keyed_from })
}

/// Stores the chain's head (the last link written in this transaction).
pub fn store_head(conn: &mut DbConn, head: &HeadRecord) -> QueryResult<()> {
    native!(conn, |c| diesel::update(audit_head::table.find(1))
        .set((audit_head::seq.eq(head.seq), audit_head::hash.eq(&head.mac)))
        .execute(c))
    .map(|_| ())
}

/// The chain's head row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_head)]
pub struct HeadRow {
    pub seq: i64,
    pub hash: String,
    /// The first sequence number that must be keyed.
    pub keyed_from: i64,
    /// [`ChainKey::check_value`] of the key the chain is written with, once known.
    pub key_check: Option<String>,
}

impl HeadRow {
    pub fn record(&self) -> HeadRecord {
        HeadRecord { seq: self.seq, mac: self.hash.clone(), keyed_from: Some(self.keyed_from) }
    }
}

pub fn head(conn: &mut DbConn) -> QueryResult<HeadRow> {
    audit_head::table.find(1).select(HeadRow::as_select()).first(conn)
}

pub fn set_key_check(conn: &mut DbConn, value: &str) -> QueryResult<()> {
    diesel::update(audit_head::table.find(1)).set(audit_head::key_check.eq(value)).execute(conn).map(|_| ())
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

/// The next `limit` recorded rows in chain order after (`seq`, `ord`): the rest of entry
/// `seq`, then the entries after it. Two index range scans, so that an entry recording
/// many rows (an upgrade's seal) pages as cheaply as any other.
pub fn rows_after(conn: &mut DbConn, seq: i64, ord: i32, limit: i64) -> QueryResult<Vec<AuditRowDigest>> {
    let mut rows: Vec<AuditRowDigest> = audit_rows::table
        .filter(audit_rows::seq.eq(seq))
        .filter(audit_rows::ord.gt(ord))
        .order(audit_rows::ord.asc())
        .limit(limit)
        .select(AuditRowDigest::as_select())
        .load(conn)?;
    let left = limit - rows.len() as i64;
    if left > 0 {
        rows.extend(
            audit_rows::table
                .filter(audit_rows::seq.gt(seq))
                .order((audit_rows::seq.asc(), audit_rows::ord.asc()))
                .limit(left)
                .select(AuditRowDigest::as_select())
                .load::<AuditRowDigest>(conn)?,
        );
    }
    Ok(rows)
}

/// The recorded (id, entry, digest) of these rows of `table`.
pub fn recorded_digests(conn: &mut DbConn, table: &str, ids: &[String]) -> QueryResult<Vec<(String, i64, String)>> {
    audit_rows::table
        .filter(audit_rows::table_name.eq(table))
        .filter(audit_rows::row_id.eq_any(ids))
        .select((audit_rows::row_id, audit_rows::seq, audit_rows::digest))
        .load(conn)
}

/// How many rows of `table` the chain records.
pub fn recorded_count(conn: &mut DbConn, table: &str) -> QueryResult<i64> {
    audit_rows::table.filter(audit_rows::table_name.eq(table)).count().get_result(conn)
}

/// A page of the recorded rows of `table`, in id order after `after`: (id, entry).
pub fn recorded_ids(conn: &mut DbConn, table: &str, after: &str, limit: i64) -> QueryResult<Vec<(String, i64)>> {
    audit_rows::table
        .filter(audit_rows::table_name.eq(table))
        .filter(audit_rows::row_id.gt(after))
        .order(audit_rows::row_id.asc())
        .limit(limit)
        .select((audit_rows::row_id, audit_rows::seq))
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

/// The patient each of these entities belongs to, for entity kinds that belong to one
/// (`alert`, `dose`, `drug_test`, `order`, `rehab_case`): (entity id, patient id).
pub fn patients_of(conn: &mut DbConn, entity: &str, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    use super::schema::{alerts, doses, drug_tests, orders, rehab_cases};
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    match entity {
        "alert" => alerts::table.filter(alerts::id.eq_any(ids)).select((alerts::id, alerts::patient_id)).load(conn),
        "dose" => doses::table.filter(doses::id.eq_any(ids)).select((doses::id, doses::patient_id)).load(conn),
        "drug_test" => drug_tests::table
            .filter(drug_tests::id.eq_any(ids))
            .select((drug_tests::id, drug_tests::patient_id))
            .load(conn),
        "order" => orders::table.filter(orders::id.eq_any(ids)).select((orders::id, orders::patient_id)).load(conn),
        "rehab_case" => rehab_cases::table
            .filter(rehab_cases::id.eq_any(ids))
            .select((rehab_cases::id, rehab_cases::patient_id))
            .load(conn),
        _ => Ok(Vec::new()),
    }
}

/// Case numbers of these rehab cases (those that have one).
pub fn case_refs(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<(String, Option<String>)>> {
    use super::schema::rehab_cases;
    rehab_cases::table.filter(rehab_cases::id.eq_any(ids)).select((rehab_cases::id, rehab_cases::case_ref)).load(conn)
}
