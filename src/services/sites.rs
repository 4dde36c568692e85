//! Sites: the main clinic (门诊部) and the dispensing points (服药点).

use crate::error::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, AppState, Tx};
use crate::db::{self, sites as q};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

pub use crate::domain::sites::SiteKind;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Short code, unique in the network (e.g. `LS` for 柳市).
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteUpdate {
    pub name: Option<String>,
    pub address: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SiteView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub address: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<q::SiteRow> for SiteView {
    fn from(r: q::SiteRow) -> Self {
        SiteView {
            id: r.id,
            code: r.code,
            name: r.name,
            kind: r.kind,
            address: r.address,
            active: r.active,
            created_at: r.created_at.and_utc(),
        }
    }
}

fn clean(field: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid_field(field, "must not be empty"));
    }
    if v.chars().any(char::is_control) {
        return Err(AppError::invalid_field(field, "must not contain control characters"));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid_field(field, format!("must be at most {max} characters")));
    }
    Ok(v.to_string())
}

/// Creates a site inside a write transaction (shared by the API and the demo data).
pub fn create_in(tx: &mut Tx<'_>, actor_id: Option<&str>, new: &NewSite) -> AppResult<SiteView> {
    let code = clean("code", &new.code, 16)?.to_uppercase();
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::invalid_field("code", "use letters, digits and '-'"));
    }
    let name = clean("name", &new.name, 100)?;
    let address = new.address.as_deref().map(|a| clean("address", a, 200)).transpose()?;
    if q::find_by_code(tx.conn, &code)?.is_some() {
        return Err(AppError::new(ErrorCode::DuplicateSite, format!("A site with code {code} already exists.")));
    }
    let row = q::SiteRow {
        id: db::new_id(),
        code,
        name,
        kind: new.kind,
        address,
        active: true,
        created_at: tx.now.naive_utc(),
    };
    q::insert(tx.conn, &row)?;
    tx.audit(actor_id, "site.create", "site", Some(&row.id), format!("site {} ({}) created", row.code, row.kind));
    Ok(row.into())
}

pub async fn create(state: &AppState, actor: &Actor, new: NewSite) -> AppResult<SiteView> {
    actor.require(&[Role::Admin])?;
    let actor_id = actor.staff_id.clone();
    state.write(move |tx| create_in(tx, Some(&actor_id), &new)).await
}

pub async fn list(state: &AppState, _actor: &Actor) -> AppResult<Vec<SiteView>> {
    state.read(|conn| Ok(q::list(conn)?.into_iter().map(SiteView::from).collect())).await
}

pub async fn update(state: &AppState, actor: &Actor, id: String, change: SiteUpdate) -> AppResult<SiteView> {
    actor.require(&[Role::Admin])?;
    let actor_id = actor.staff_id.clone();
    state
        .write(move |tx| {
            let before = q::find(tx.conn, &id)?.ok_or_else(AppError::not_found)?;
            let name = change.name.as_deref().map(|n| clean("name", n, 100)).transpose()?;
            let address = change.address.as_deref().map(|a| clean("address", a, 200)).transpose()?;
            q::update(
                tx.conn,
                &id,
                &q::SiteChanges { name: name.as_deref(), address: address.as_deref().map(Some), active: change.active },
            )?;
            let mut what = Vec::new();
            if name.is_some() {
                what.push("name".to_string());
            }
            if address.is_some() {
                what.push("address".to_string());
            }
            if let Some(active) = change.active.filter(|a| *a != before.active) {
                what.push(if active { "reactivated".into() } else { "deactivated".into() });
            }
            tx.audit(
                Some(&actor_id),
                "site.update",
                "site",
                Some(&id),
                format!("site {} changed: {}", before.code, what.join(", ")),
            );
            Ok(q::find(tx.conn, &id)?.ok_or_else(AppError::not_found)?.into())
        })
        .await
}
