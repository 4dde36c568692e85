//! Reading and verifying the audit trail.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, AppState};
use crate::db::{audit as q, staff as staff_q, DbConn};
use crate::domain::audit::{ChainBreak, ChainVerifier};
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
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
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
            let usernames: std::collections::HashMap<String, String> =
                staff_q::list(conn)?.into_iter().map(|s| (s.row.id, s.row.username)).collect();
            let next_before = if rows.len() as i64 == limit { rows.last().map(|r| r.seq) } else { None };
            let entries = rows
                .into_iter()
                .map(|r| AuditEntryView {
                    actor_username: r.actor_id.as_ref().and_then(|id| usernames.get(id).cloned()),
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

/// The outcome of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact { entries: u64 },
    Broken(ChainBreak),
}

/// Walks the chain in pages (never the whole trail in memory) and checks every link and
/// the head.
pub fn verify_chain(conn: &mut DbConn) -> AppResult<Verification> {
    const PAGE: i64 = 2000;
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let rows = q::page_in_order(conn, after, PAGE)?;
        for row in &rows {
            if let Err(b) = verifier.check(&row.to_stored()) {
                return Ok(Verification::Broken(b));
            }
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    let (head_seq, head_hash) = q::head(conn)?;
    Ok(match verifier.finish(head_seq, &head_hash) {
        Ok(entries) => Verification::Intact { entries },
        Err(b) => Verification::Broken(b),
    })
}
