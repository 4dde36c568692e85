//! Alerts as staff see them: listed within their scope, acknowledged with a note, resolved
//! by hand when no later event resolves them.

use crate::domain::alerts::SweepCause;
use crate::error::ErrorCode;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::scope::{self, load_in_scope};
use super::sweep::{self, SweepSummary};
use super::validation::clean_text;
use super::{Actor, AppState};
use crate::db::alerts::{self as q, AcknowledgementRow, AlertWithState, ListFilter, ResolutionRow, StatusFilter};
use crate::db::{patients as patients_q, staff as staff_q, DbConn};
use crate::domain::alerts::{AlertKind, SUPERSEDED_BY_DROPOUT};
use crate::domain::rehab::Basis;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: String,
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub kind: AlertKind,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    pub opened_at: DateTime<Utc>,
    /// What happened, in words (Chinese).
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub case_id: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by_name: Option<String>,
    pub acknowledgement_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Why it was resolved (the sweep's reason or the staff member's note).
    pub resolution: Option<String>,
    pub resolved_by_name: Option<String>,
    /// For a `missed_doses` alert that gave way to the dropout alert of the same absence:
    /// that alert's id.
    pub superseded_by: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open`, `acknowledged`, `resolved`, `unresolved` (open or acknowledged) or `all`
    /// (default: `all` for one patient, `unresolved` otherwise).
    pub status: Option<String>,
    pub patient_id: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertNote {
    pub note: String,
}

pub fn alert_views(conn: &mut DbConn, rows: Vec<AlertWithState>) -> AppResult<Vec<AlertView>> {
    let patient_ids: Vec<String> = rows.iter().map(|(a, _, _)| a.patient_id.clone()).collect();
    let patients: HashMap<String, (String, String)> =
        patients_q::find_many(conn, &patient_ids)?.into_iter().map(|p| (p.id, (p.patient_no, p.name))).collect();
    let staff_ids: Vec<String> = rows
        .iter()
        .flat_map(|(_, a, r)| [a.as_ref().map(|a| a.staff_id.clone()), r.as_ref().and_then(|r| r.staff_id.clone())])
        .flatten()
        .collect();
    let names = staff_q::names(conn, &staff_ids)?;
    let mut superseded: HashMap<String, String> = HashMap::new();
    for (a, _, res) in &rows {
        let by_dropout = res.as_ref().is_some_and(|r| r.staff_id.is_none() && r.reason == SUPERSEDED_BY_DROPOUT);
        if a.kind == AlertKind::MissedDoses && by_dropout {
            if let Some(id) = q::find_by_episode(conn, &a.patient_id, AlertKind::Dropout, &a.episode_key)? {
                superseded.insert(a.id.clone(), id);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|(a, ack, res)| {
            let status = match (&ack, &res) {
                (_, Some(_)) => "resolved",
                (Some(_), None) => "acknowledged",
                (None, None) => "open",
            };
            let (patient_no, patient_name) = patients.get(&a.patient_id).cloned().unwrap_or_default();
            AlertView {
                kind: a.kind,
                status: status.into(),
                opened_at: a.opened_at.and_utc(),
                details: serde_json::from_str(&a.details).unwrap_or(serde_json::Value::Null),
                acknowledged_at: ack.as_ref().map(|x| x.at.and_utc()),
                acknowledged_by_name: ack.as_ref().and_then(|x| names.get(&x.staff_id).cloned()),
                acknowledgement_note: ack.map(|x| x.note),
                resolved_at: res.as_ref().map(|x| x.at.and_utc()),
                resolved_by_name: res.as_ref().and_then(|x| x.staff_id.as_ref()).and_then(|s| names.get(s).cloned()),
                resolution: res.map(|x| x.reason),
                superseded_by: superseded.remove(&a.id),
                id: a.id,
                patient_id: a.patient_id,
                patient_no,
                patient_name,
                message: a.message,
                case_id: a.case_id,
            }
        })
        .collect())
}

fn status_filter(value: Option<&str>, default: StatusFilter) -> AppResult<StatusFilter> {
    Ok(match value {
        None => default,
        Some("open") => StatusFilter::Open,
        Some("acknowledged") => StatusFilter::Acknowledged,
        Some("resolved") => StatusFilter::Resolved,
        Some("unresolved") => StatusFilter::Unresolved,
        Some("all") => StatusFilter::All,
        Some(_) => {
            return Err(AppError::invalid_field("status", "must be open, acknowledged, resolved, unresolved or all"))
        }
    })
}

/// Alerts in the actor's scope, newest first (at most 500).
pub async fn list(state: &AppState, actor: &Actor, query: AlertQuery) -> AppResult<Vec<AlertView>> {
    let default = if query.patient_id.is_some() { StatusFilter::All } else { StatusFilter::Unresolved };
    let status = status_filter(query.status.as_deref(), default)?;
    if let Some(kind) = &query.kind {
        AlertKind::parse(kind).ok_or_else(|| AppError::invalid_field("kind", "is not an alert kind"))?;
    }
    let today = state.today();
    let rules = state.config.rules.clone();
    let reader = actor.clone();
    let (alerts, seen) = state
        .read(move |conn| {
            // One patient when asked (in scope); a rehab worker's patients; or everyone. `bases`
            // holds what a rehab worker's view is disclosed on (empty for clinical staff).
            let (ids, bases): (Option<Vec<String>>, HashMap<String, Basis>) = match (&query.patient_id, reader.role) {
                (Some(id), _) => {
                    let (p, basis) = load_in_scope(conn, &reader, id, today, &rules)?;
                    (Some(vec![p.id.clone()]), basis.map(|b| (p.id, b)).into_iter().collect())
                }
                (None, Role::RehabWorker) => {
                    let bases = scope::worker_patients(conn, &reader, today, &rules)?;
                    (Some(bases.keys().cloned().collect()), bases)
                }
                (None, _) => (None, HashMap::new()),
            };
            let rows = q::list(
                conn,
                &ListFilter { status, patient_ids: ids.as_deref(), kind: query.kind.as_deref(), limit: 500 },
            )?;
            let mut shown: Vec<&String> = rows.iter().map(|(a, _, _)| &a.patient_id).collect();
            shown.sort();
            shown.dedup();
            let seen: Vec<(String, Basis)> =
                shown.into_iter().filter_map(|id| bases.get(id).map(|b| (id.clone(), b.clone()))).collect();
            Ok((alert_views(conn, rows)?, seen))
        })
        .await?;
    scope::disclose(state, actor, seen, "alerts").await?;
    Ok(alerts)
}

fn one(conn: &mut DbConn, id: &str) -> AppResult<AlertView> {
    let row = q::find(conn, id)?.ok_or_else(AppError::not_found)?;
    alert_views(conn, vec![row])?.pop().ok_or_else(AppError::not_found)
}

/// Loads an alert the actor may act on (404 outside their scope).
fn load_alert(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    today: chrono::NaiveDate,
    rules: &crate::domain::rules::RuleSet,
) -> AppResult<AlertWithState> {
    let alert = q::find(conn, id)?.ok_or_else(AppError::not_found)?;
    load_in_scope(conn, actor, &alert.0.patient_id, today, rules)?;
    Ok(alert)
}

/// Acknowledges an open alert with a note: someone has seen it and says what they do.
pub async fn acknowledge(state: &AppState, actor: &Actor, id: String, body: AlertNote) -> AppResult<AlertView> {
    let note = clean_text("note", &body.note, 500)?;
    let today = state.today();
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let (alert, ack, res) = load_alert(tx.conn, &actor, &id, today, &rules)?;
            if res.is_some() || ack.is_some() {
                return Err(AppError::new(
                    ErrorCode::AlertNotOpen,
                    "This alert was already acknowledged or resolved; reload to see who did it.",
                ));
            }
            let row = AcknowledgementRow {
                alert_id: alert.id.clone(),
                note,
                staff_id: actor.staff_id.clone(),
                at: tx.now.naive_utc(),
            };
            q::insert_acknowledgement(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "alert.acknowledge",
                "alert",
                Some(&alert.id),
                format!("{} alert acknowledged", alert.kind),
            );
            one(tx.conn, &alert.id)
        })
        .await
}

/// Resolves an alert by hand, with a note (for kinds no later event resolves, such as a
/// serious breach handled by the township office).
pub async fn resolve(state: &AppState, actor: &Actor, id: String, body: AlertNote) -> AppResult<AlertView> {
    actor.require(&[Role::Doctor, Role::Admin, Role::RehabWorker])?;
    let note = clean_text("note", &body.note, 500)?;
    let today = state.today();
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let (alert, _, res) = load_alert(tx.conn, &actor, &id, today, &rules)?;
            if res.is_some() {
                return Err(AppError::new(ErrorCode::AlertNotOpen, "This alert is already resolved."));
            }
            let row = ResolutionRow {
                alert_id: alert.id.clone(),
                reason: note,
                staff_id: Some(actor.staff_id.clone()),
                at: tx.now.naive_utc(),
            };
            q::insert_resolution(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "alert.resolve",
                "alert",
                Some(&alert.id),
                format!("{} alert resolved by hand", alert.kind),
            );
            one(tx.conn, &alert.id)
        })
        .await
}

/// Runs the sweep now (admins).
pub async fn sweep_now(state: &AppState, actor: &Actor) -> AppResult<SweepSummary> {
    actor.require(&[Role::Admin])?;
    sweep::run(state, SweepCause::Manual).await
}
