//! Reading and verifying the audit trail, and preparing the chain at start-up.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit_chain::AuditChain;
use super::{Actor, AppState, StartupError};
use crate::db::append_only::{self, MissingTrigger, RowDigest, TABLES};
use crate::db::audit::{self as q, AuditDraft, AuditRowDigest};
use crate::db::{self, patients as patients_q, sites as sites_q, staff as staff_q, DbConn};
use crate::domain::audit::{compare_head, ChainBreak, ChainKey, ChainVerifier, HeadProblem, HeadRecord};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entity kind, e.g. `staff`, `site`, `session`, `dose`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    /// Only entries older than this sequence number (for paging).
    pub before: Option<i64>,
    /// At most this many entries (1–500, default 100).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_username: Option<String>,
    /// The actor's name as colleagues call them.
    pub actor_name: Option<String>,
    /// Stable code of what was done (`auth.login`, `dose.give`…); the UI words it.
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    /// The entity named as people call it: a patient's number and name (also for a dose,
    /// order, test, alert or case of that patient, with the case number), a staff member's
    /// or site's name.
    pub entity_label: Option<String>,
    /// The entry's structured details, when it recorded them as a JSON object.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// The entry as recorded (older entries: an English sentence).
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

pub async fn search(state: &AppState, actor: &Actor, query: AuditQuery) -> AppResult<AuditPage> {
    actor.require(&[Role::Admin])?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid_field("limit", "must be between 1 and 500"));
    }
    state
        .read(move |conn| {
            let rows = q::search(
                conn,
                &q::AuditFilter {
                    entity: query.entity.as_deref(),
                    entity_id: query.entity_id.as_deref(),
                    actor_id: query.actor_id.as_deref(),
                    before_seq: query.before,
                    limit,
                },
            )?;
            let staff: HashMap<String, (String, String)> =
                staff_q::list(conn)?.into_iter().map(|s| (s.row.id, (s.row.username, s.row.display_name))).collect();
            let labels = entity_labels(conn, &rows, &staff)?;
            let next_before = if rows.len() as i64 == limit { rows.last().map(|r| r.seq) } else { None };
            let entries = rows
                .into_iter()
                .map(|r| AuditEntryView {
                    actor_username: r.actor_id.as_ref().and_then(|id| staff.get(id).map(|s| s.0.clone())),
                    actor_name: r.actor_id.as_ref().and_then(|id| staff.get(id).map(|s| s.1.clone())),
                    entity_label: r
                        .entity_id
                        .as_ref()
                        .and_then(|id| labels.get(&(r.entity.clone(), id.clone())).cloned()),
                    details: serde_json::from_str::<serde_json::Value>(&r.summary).ok().filter(|v| v.is_object()),
                    seq: r.seq,
                    at: r.at.and_utc(),
                    actor_id: r.actor_id,
                    action: r.action,
                    entity: r.entity,
                    entity_id: r.entity_id,
                    summary: r.summary,
                    prev_hash: r.prev_hash,
                    hash: r.hash,
                })
                .collect();
            Ok(AuditPage { entries, next_before })
        })
        .await
}

/// What people call each entity of these entries, by (entity kind, id).
fn entity_labels(
    conn: &mut DbConn,
    rows: &[q::AuditRow],
    staff: &HashMap<String, (String, String)>,
) -> AppResult<HashMap<(String, String), String>> {
    let mut by_kind: HashMap<&str, Vec<String>> = HashMap::new();
    for r in rows {
        if let Some(id) = &r.entity_id {
            by_kind.entry(r.entity.as_str()).or_default().push(id.clone());
        }
    }
    let mut out = HashMap::new();
    // Entities of one patient: the patient's number and name.
    let mut patient_of: Vec<(String, String, String)> = Vec::new(); // (kind, id, patient id)
    for (kind, ids) in &by_kind {
        match *kind {
            "patient" => patient_of.extend(ids.iter().map(|id| (kind.to_string(), id.clone(), id.clone()))),
            "staff" => {
                for id in ids {
                    if let Some((_, name)) = staff.get(id) {
                        out.insert((kind.to_string(), id.clone()), name.clone());
                    }
                }
            }
            "site" => {
                let names = sites_q::names(conn)?;
                for id in ids {
                    if let Some(name) = names.get(id) {
                        out.insert((kind.to_string(), id.clone()), name.clone());
                    }
                }
            }
            other => {
                for (id, patient) in q::patients_of(conn, other, ids)? {
                    patient_of.push((other.to_string(), id, patient));
                }
            }
        }
    }
    let patient_ids: Vec<String> = patient_of.iter().map(|(_, _, p)| p.clone()).collect();
    let patients: HashMap<String, String> = patients_q::find_many(conn, &patient_ids)?
        .into_iter()
        .map(|p| (p.id, format!("{} {}", p.patient_no, p.name)))
        .collect();
    let case_ids: Vec<String> =
        patient_of.iter().filter(|(k, _, _)| k == "rehab_case").map(|(_, id, _)| id.clone()).collect();
    let case_refs: HashMap<String, Option<String>> = q::case_refs(conn, &case_ids)?.into_iter().collect();
    for (kind, id, patient) in patient_of {
        let Some(label) = patients.get(&patient) else { continue };
        let label = match case_refs.get(&id) {
            Some(Some(case_ref)) => format!("{case_ref} · {label}"),
            _ => label.clone(),
        };
        out.insert((kind, id), label);
    }
    Ok(out)
}

/// Something `verify-audit` found wrong. Rows are named by table and id only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The chain itself breaks here.
    Chain(ChainBreak),
    /// The chain disagrees with the head recorded outside the database.
    Head(HeadProblem),
    /// A row's content no longer matches the digest its entry recorded.
    RowAltered {
        table: &'static str,
        row_id: String,
        seq: i64,
    },
    /// A row an entry recorded is no longer in its table.
    RowRemoved {
        table: &'static str,
        row_id: String,
        seq: i64,
    },
    /// A row no entry recorded.
    RowUnaudited {
        table: &'static str,
        row_id: String,
    },
    Trigger(MissingTrigger),
    /// The key in use is not the one the chain was written with.
    WrongKey,
    /// An upgraded database whose existing rows the service has not sealed yet.
    NotSealed {
        rows: u64,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Chain(b) => write!(f, "{b}"),
            Finding::Head(h) => write!(f, "{h}"),
            Finding::RowAltered { table, row_id, seq } => {
                write!(f, "{table} row {row_id} was changed after audit entry {seq} recorded it (edited or replaced)")
            }
            Finding::RowRemoved { table, row_id, seq } => {
                write!(f, "{table} row {row_id}, recorded by audit entry {seq}, is no longer in the table (removed)")
            }
            Finding::RowUnaudited { table, row_id } => {
                write!(f, "{table} row {row_id} is recorded by no audit entry (written behind the service's back)")
            }
            Finding::Trigger(m) => write!(f, "{m}"),
            Finding::WrongKey => write!(
                f,
                "the audit key in use is not the key this chain was written with (check MMT_AUDIT_KEY or the key file)"
            ),
            Finding::NotSealed { rows } => write!(
                f,
                "{rows} rows written before the upgrade are not sealed into the chain yet: run `mmt-clinic migrate` \
                 (or start the service) once with the production key, then verify again"
            ),
        }
    }
}

/// The outcome of `verify-audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries whose links verified.
    pub entries: u64,
    /// Rows of append-only tables read and compared with their entries.
    pub rows: u64,
    /// The first keyed entry.
    pub keyed_from: i64,
    /// The sequence number of the head recorded outside the database, when one was compared.
    pub head_compared: Option<i64>,
    pub findings: Vec<Finding>,
    /// Findings beyond those listed.
    pub more: u64,
}

impl AuditReport {
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }

    fn add(&mut self, finding: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding);
        } else {
            self.more += 1;
        }
    }
}

impl std::fmt::Display for AuditReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_intact() {
            write!(
                f,
                "Audit trail intact: {} entries, every link verified (keyed from entry {}); {} rows of {} append-only \
                 tables match their entries",
                self.entries,
                self.keyed_from,
                self.rows,
                TABLES.len()
            )?;
            match self.head_compared {
                Some(seq) => write!(f, "; entry {seq} matches the head recorded outside the database."),
                None => write!(f, "; no head file to compare (entries cut from the end could go unnoticed)."),
            }
        } else {
            write!(f, "AUDIT TRAIL BROKEN:")?;
            for finding in &self.findings {
                write!(f, "\n- {finding}")?;
            }
            if self.more > 0 {
                write!(f, "\n- … and {} more", self.more)?;
            }
            Ok(())
        }
    }
}

const MAX_FINDINGS: usize = 100;
const ENTRY_PAGE: i64 = 2000;
const ROW_PAGE: i64 = 5000;

/// Verifies the whole trail in one snapshot of the database: every link of the chain under
/// `key` with the rows each entry records, the head row, the head recorded outside the
/// database (if given), every row of every append-only table against its entry, and the
/// append-only triggers. Pages through everything; never the whole trail in memory.
pub fn verify(conn: &mut DbConn, key: &ChainKey, recorded: Option<&HeadRecord>) -> AppResult<AuditReport> {
    db::read_snapshot(conn, |conn| {
        let head = q::head(conn)?;
        let mut report = AuditReport {
            entries: 0,
            rows: 0,
            keyed_from: head.keyed_from,
            head_compared: None,
            findings: Vec::new(),
            more: 0,
        };
        for missing in append_only::missing_triggers(conn)? {
            report.add(Finding::Trigger(missing));
        }
        if head.key_check.as_ref().is_some_and(|c| *c != key.check_value()) {
            report.add(Finding::WrongKey);
        }
        let walk = walk_chain(conn, key, head.keyed_from, recorded.map(|r| r.seq))?;
        report.entries = walk.verified;
        match &walk.broken {
            Some(b) => report.add(Finding::Chain(b.clone())),
            None => {
                if let Err(b) = walk.verifier.finish(head.seq, &head.hash) {
                    report.add(Finding::Chain(b));
                }
            }
        }
        if let Some(recorded) = recorded {
            // A break before the recorded entry is reported already.
            if walk.mac_at_recorded.is_some() || walk.broken.is_none() {
                report.head_compared = Some(recorded.seq);
                let last_seq = walk.verifier.expected_seq() - 1;
                if let Err(p) = compare_head(recorded, walk.mac_at_recorded.as_deref(), last_seq, head.keyed_from) {
                    report.add(Finding::Head(p));
                }
            }
        }
        // An upgraded database before its first start: no keyed entry has sealed its rows.
        let unsealed = head.keyed_from > 1 && head.seq < head.keyed_from;
        check_rows(conn, &mut report, unsealed)?;
        Ok(report)
    })
}

struct Walk {
    verifier: ChainVerifier,
    verified: u64,
    broken: Option<ChainBreak>,
    mac_at_recorded: Option<String>,
}

/// Walks the entries and, in step, the rows they record (both in chain order).
fn walk_chain(conn: &mut DbConn, key: &ChainKey, keyed_from: i64, recorded_seq: Option<i64>) -> AppResult<Walk> {
    let mut walk = Walk {
        verifier: ChainVerifier::new(key.clone(), keyed_from),
        verified: 0,
        broken: None,
        mac_at_recorded: None,
    };
    let mut rows = RowCursor::default();
    let mut after = 0;
    'pages: loop {
        let entries = q::page_in_order(conn, after, ENTRY_PAGE)?;
        for entry in &entries {
            let stored = entry.to_stored();
            let mut check = match walk.verifier.begin(&stored) {
                Ok(c) => c,
                Err(b) => {
                    walk.broken = Some(b);
                    break 'pages;
                }
            };
            while let Some(row) = rows.peek(conn)? {
                if row.seq > entry.seq {
                    break;
                }
                if row.seq < entry.seq {
                    walk.broken = Some(ChainBreak::OrphanRows { seq: row.seq });
                    break 'pages;
                }
                check.row(row.as_ref());
                rows.pop();
            }
            if let Err(b) = walk.verifier.end(check, &stored) {
                walk.broken = Some(b);
                break 'pages;
            }
            walk.verified += 1;
            if recorded_seq == Some(entry.seq) {
                walk.mac_at_recorded = Some(entry.hash.clone());
            }
        }
        match entries.last() {
            Some(last) if entries.len() as i64 == ENTRY_PAGE => after = last.seq,
            _ => break,
        }
    }
    if walk.broken.is_none() {
        if let Some(row) = rows.peek(conn)? {
            walk.broken = Some(ChainBreak::OrphanRows { seq: row.seq });
        }
    }
    Ok(walk)
}

/// The recorded rows in chain order, a page at a time.
struct RowCursor {
    buffer: VecDeque<AuditRowDigest>,
    seq: i64,
    ord: i32,
    done: bool,
}

impl Default for RowCursor {
    fn default() -> Self {
        RowCursor { buffer: VecDeque::new(), seq: 0, ord: -1, done: false }
    }
}

impl RowCursor {
    fn peek(&mut self, conn: &mut DbConn) -> AppResult<Option<&AuditRowDigest>> {
        if self.buffer.is_empty() && !self.done {
            let page = q::rows_after(conn, self.seq, self.ord, ROW_PAGE)?;
            self.done = (page.len() as i64) < ROW_PAGE;
            if let Some(last) = page.last() {
                (self.seq, self.ord) = (last.seq, last.ord);
            }
            self.buffer.extend(page);
        }
        Ok(self.buffer.front())
    }

    fn pop(&mut self) {
        self.buffer.pop_front();
    }
}

/// Re-reads every row of every append-only table and compares it with its entry's digest;
/// then looks for recorded rows that are gone. `unsealed`: rows recorded by no entry are
/// expected (an upgraded database not started yet), and counted as one finding.
fn check_rows(conn: &mut DbConn, report: &mut AuditReport, unsealed: bool) -> AppResult<()> {
    let mut unrecorded = 0u64;
    for table in TABLES {
        let mut matched: i64 = 0;
        let mut after: Option<String> = None;
        loop {
            let page = (table.scan)(conn, after.as_deref(), table.page)?;
            let ids: Vec<String> = page.iter().map(|(id, _)| id.clone()).collect();
            let recorded: HashMap<String, (i64, String)> = q::recorded_digests(conn, table.name, &ids)?
                .into_iter()
                .map(|(id, seq, digest)| (id, (seq, digest)))
                .collect();
            matched += recorded.len() as i64;
            report.rows += page.len() as u64;
            for (id, digest) in &page {
                match recorded.get(id) {
                    None if unsealed => unrecorded += 1,
                    None => report.add(Finding::RowUnaudited { table: table.name, row_id: id.clone() }),
                    Some((seq, d)) if d != digest => {
                        report.add(Finding::RowAltered { table: table.name, row_id: id.clone(), seq: *seq })
                    }
                    Some(_) => {}
                }
            }
            if (page.len() as i64) < table.page {
                break;
            }
            after = ids.last().cloned();
        }
        if q::recorded_count(conn, table.name)? > matched {
            let mut after = String::new();
            loop {
                let page = q::recorded_ids(conn, table.name, &after, 1000)?;
                let ids: Vec<String> = page.iter().map(|(id, _)| id.clone()).collect();
                let present: HashSet<String> = (table.present)(conn, &ids)?.into_iter().collect();
                for (id, seq) in &page {
                    if !present.contains(id) {
                        report.add(Finding::RowRemoved { table: table.name, row_id: id.clone(), seq: *seq });
                    }
                }
                match page.last() {
                    Some((last, _)) if page.len() == 1000 => after = last.clone(),
                    _ => break,
                }
            }
        }
    }
    if unrecorded > 0 {
        report.add(Finding::NotSealed { rows: unrecorded });
    }
    Ok(())
}

/// At start-up, after the migrations: checks that every append-only trigger is in place and
/// that the key is the chain's own (refusing to start otherwise), records the key's check
/// value the first time, and seals rows written before the chain recorded row contents (a
/// database upgraded from the previous schema). Not when `inspecting` (`verify-audit`,
/// `backup`), which must not write to the chain: a key given by mistake would otherwise
/// become the chain's key.
pub fn prepare_chain(
    conn: &mut DbConn,
    chain: &AuditChain,
    now: DateTime<Utc>,
    inspecting: bool,
) -> Result<(), StartupError> {
    if inspecting {
        return Ok(());
    }
    let db_err = |e: diesel::result::Error| StartupError(format!("cannot prepare the audit chain: {e}"));
    if let Some(first) = append_only::missing_triggers(conn).map_err(db_err)?.first() {
        return Err(StartupError(format!(
            "refusing to start: {first}: the database was changed outside the service; recreate the trigger \
             (migrations/ in the source) or restore a backup, then run `mmt-clinic verify-audit`"
        )));
    }
    let head = q::head(conn).map_err(db_err)?;
    let check = chain.key().check_value();
    match head.key_check {
        Some(found) if found != check => {
            return Err(StartupError(
                "refusing to start: MMT_AUDIT_KEY is not the key this database's audit chain was written with \
                 (a chain continued under another key could never be verified); set the right key"
                    .into(),
            ))
        }
        Some(_) => {}
        None => db::write_transaction(conn, |conn| q::set_key_check(conn, &check)).map_err(db_err)?,
    }
    if head.seq < head.keyed_from {
        let sealed = seal_existing_rows(conn, chain, now)
            .map_err(|e| StartupError(format!("cannot seal the existing rows into the audit chain: {}", e.message)))?;
        if sealed > 0 {
            tracing::info!(
                rows = sealed,
                keyed_from = head.keyed_from,
                "rows written before the audit chain recorded row contents were sealed into it, as found"
            );
        }
    }
    Ok(())
}

/// Records every row that no entry records yet in keyed `audit.seal` entries (one per
/// table and page), in one transaction. Rows changed before this cannot be told from
/// rows as written; from now on, any change is.
fn seal_existing_rows(conn: &mut DbConn, chain: &AuditChain, now: DateTime<Utc>) -> AppResult<u64> {
    let (sealed, head) = db::write_transaction(conn, |conn| {
        let mut sealed = 0u64;
        let mut head = None;
        for table in TABLES {
            let mut after: Option<String> = None;
            loop {
                let page = (table.scan)(conn, after.as_deref(), table.page)?;
                let full = page.len() as i64 == table.page;
                after = page.last().map(|(id, _)| id.clone());
                let ids: Vec<String> = page.iter().map(|(id, _)| id.clone()).collect();
                let known: HashSet<String> =
                    q::recorded_digests(conn, table.name, &ids)?.into_iter().map(|(id, _, _)| id).collect();
                let rows: Vec<RowDigest> = page
                    .into_iter()
                    .filter(|(id, _)| !known.contains(id))
                    .map(|(row_id, digest)| RowDigest { table: table.name, row_id, digest })
                    .collect();
                if !rows.is_empty() {
                    sealed += rows.len() as u64;
                    let draft = AuditDraft {
                        actor_id: None,
                        action: "audit.seal".into(),
                        entity: table.name.into(),
                        entity_id: None,
                        summary: format!(
                            "{} rows written before the audit chain recorded row contents, sealed as found",
                            rows.len()
                        ),
                        rows,
                    };
                    head = q::append(conn, chain.key(), &[draft], now)?.or(head);
                }
                if !full {
                    break;
                }
            }
        }
        Ok::<_, AppError>((sealed, head))
    })?;
    if let Some(head) = head {
        chain.committed(head);
    }
    Ok(sealed)
}
