//! Staff accounts: created and changed by admins, never deleted (deactivated instead).

use crate::error::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, AppState, Tx};
use crate::db::{self, auth as auth_q, sites as sites_q, staff as q};
use crate::domain::staff::{check_password_strength, normalize_username, Role};
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub site_ids: Vec<String>,
    #[serde(default)]
    pub townships: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub site_ids: Option<Vec<String>>,
    pub townships: Option<Vec<String>>,
    /// `false` deactivates the account: its sessions end at once.
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StaffView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub site_ids: Vec<String>,
    pub townships: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(record: q::StaffRecord) -> AppResult<StaffView> {
    Ok(StaffView {
        role: record.row.role,
        id: record.row.id,
        username: record.row.username,
        display_name: record.row.display_name,
        site_ids: record.site_ids,
        townships: record.townships,
        active: record.row.active,
        created_at: record.row.created_at.and_utc(),
        updated_at: record.row.updated_at.and_utc(),
    })
}

fn clean_display_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(AppError::invalid_field("display_name", "must be 1 to 60 characters"));
    }
    Ok(name.to_string())
}

fn clean_townships(list: &[String]) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in list {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 40 || t.chars().any(char::is_control) {
            return Err(AppError::invalid_field("townships", "each township must be 1 to 40 characters"));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

/// The assignments a role needs: doctors and nurses work at sites; rehab workers follow
/// townships; admins have neither.
fn check_assignments(role: Role, site_ids: &[String], townships: &[String]) -> AppResult<()> {
    if role.works_at_sites() && site_ids.is_empty() {
        return Err(AppError::invalid_field("site_ids", "doctors and nurses must be assigned to at least one site"));
    }
    if !role.works_at_sites() && !site_ids.is_empty() {
        return Err(AppError::invalid_field("site_ids", "only doctors and nurses are assigned to sites"));
    }
    if role.follows_townships() && townships.is_empty() {
        return Err(AppError::invalid_field("townships", "rehab workers must follow at least one township"));
    }
    if !role.follows_townships() && !townships.is_empty() {
        return Err(AppError::invalid_field("townships", "only rehab workers follow townships"));
    }
    Ok(())
}

fn dedup(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

fn check_sites_exist(tx: &mut Tx<'_>, site_ids: &[String]) -> AppResult<()> {
    let found = sites_q::existing_ids(tx.conn, site_ids)?;
    if let Some(missing) = site_ids.iter().find(|id| !found.contains(id)) {
        return Err(AppError::invalid_field("site_ids", format!("no site has id {missing}")));
    }
    Ok(())
}

/// Creates an account inside a write transaction, from an already-computed password hash.
pub fn create_in(
    tx: &mut Tx<'_>,
    actor_id: Option<&str>,
    new: &NewStaff,
    password_hash: String,
) -> AppResult<StaffView> {
    let username = normalize_username(&new.username).map_err(|m| AppError::invalid_field("username", m))?;
    let display_name = clean_display_name(&new.display_name)?;
    let site_ids = dedup(&new.site_ids);
    let townships = clean_townships(&new.townships)?;
    check_assignments(new.role, &site_ids, &townships)?;
    check_sites_exist(tx, &site_ids)?;
    if q::find_by_username(tx.conn, &username)?.is_some() {
        return Err(AppError::new(ErrorCode::DuplicateUsername, format!("The username {username} is taken.")));
    }
    let now = tx.now.naive_utc();
    let row = q::StaffRow {
        id: db::new_id(),
        username,
        display_name,
        role: new.role,
        password_hash,
        active: true,
        created_at: now,
        updated_at: now,
    };
    q::insert(tx.conn, &row, &site_ids, &townships)?;
    tx.audit(
        actor_id,
        "staff.create",
        "staff",
        Some(&row.id),
        format!(
            "account {} created as {} (sites: {}; townships: {})",
            row.username,
            row.role,
            site_ids.len(),
            townships.len()
        ),
    );
    view(q::find(tx.conn, &row.id)?.ok_or_else(AppError::not_found)?)
}

fn precheck_new(new: &NewStaff) -> AppResult<()> {
    normalize_username(&new.username).map_err(|m| AppError::invalid_field("username", m))?;
    check_password_strength(&new.password).map_err(|m| AppError::invalid_field("password", m))
}

pub async fn create(state: &AppState, actor: &Actor, new: NewStaff) -> AppResult<StaffView> {
    actor.require(&[Role::Admin])?;
    precheck_new(&new)?;
    let hash = state.passwords.hash(new.password.clone()).await?;
    let actor_id = actor.staff_id.clone();
    state.write(move |tx| create_in(tx, Some(&actor_id), &new, hash)).await
}

/// Creates an account with no signed-in actor (the command line).
pub async fn create_by_system(state: &AppState, new: NewStaff) -> AppResult<StaffView> {
    precheck_new(&new)?;
    let hash = state.passwords.hash(new.password.clone()).await?;
    state.write(move |tx| create_in(tx, None, &new, hash)).await
}

/// First start: creates `admin` when no staff exist. Returns the new id, if any.
pub async fn bootstrap_admin(state: &AppState, password: &str) -> AppResult<Option<String>> {
    let count = state.read(|conn| Ok(q::count(conn)?)).await?;
    if count > 0 {
        return Ok(None);
    }
    check_password_strength(password).map_err(|m| AppError::validation(format!("MMT_ADMIN_PASSWORD: {m}")))?;
    let hash = state.passwords.hash(password.to_string()).await?;
    state
        .write(move |tx| {
            // Re-check inside the transaction: two instances starting together create one admin.
            if q::count(tx.conn)? > 0 {
                tx.audit(None, "staff.bootstrap_skipped", "staff", None, "staff already exist");
                return Ok(None);
            }
            let new = NewStaff {
                username: "admin".into(),
                password: String::new(),
                display_name: "系统管理员".into(),
                role: Role::Admin,
                site_ids: vec![],
                townships: vec![],
            };
            create_in(tx, None, &new, hash).map(|v| Some(v.id))
        })
        .await
}

pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Vec<StaffView>> {
    actor.require(&[Role::Admin])?;
    state.read(|conn| q::list(conn)?.into_iter().map(view).collect()).await
}

pub async fn get(state: &AppState, actor: &Actor, id: String) -> AppResult<StaffView> {
    if actor.staff_id != id {
        actor.require(&[Role::Admin])?;
    }
    state.read(move |conn| view(q::find(conn, &id)?.ok_or_else(AppError::not_found)?)).await
}

pub async fn update(state: &AppState, actor: &Actor, id: String, change: StaffUpdate) -> AppResult<StaffView> {
    actor.require(&[Role::Admin])?;
    if id == actor.staff_id && (change.active == Some(false) || change.role.is_some_and(|r| r != Role::Admin)) {
        return Err(AppError::validation(
            "You cannot deactivate yourself or give up your own admin role; ask another admin.",
        ));
    }
    let password_hash = match &change.password {
        Some(p) => {
            check_password_strength(p).map_err(|m| AppError::invalid_field("password", m))?;
            Some(state.passwords.hash(p.clone()).await?)
        }
        None => None,
    };
    let actor_id = actor.staff_id.clone();
    let updated = state
        .write(move |tx| {
            let before = q::find(tx.conn, &id)?.ok_or_else(AppError::not_found)?;
            let before_role = before.row.role;
            let role = change.role.unwrap_or(before_role);
            let site_ids = match &change.site_ids {
                Some(ids) => dedup(ids),
                None if role.works_at_sites() => before.site_ids.clone(),
                None => vec![],
            };
            let townships = match &change.townships {
                Some(t) => clean_townships(t)?,
                None if role.follows_townships() => before.townships.clone(),
                None => vec![],
            };
            check_assignments(role, &site_ids, &townships)?;
            check_sites_exist(tx, &site_ids)?;
            let display_name = change.display_name.as_deref().map(clean_display_name).transpose()?;
            q::update(
                tx.conn,
                &id,
                &q::StaffChanges {
                    display_name: display_name.as_deref(),
                    role: change.role.map(Role::as_str),
                    password_hash: password_hash.as_deref(),
                    active: change.active,
                },
                tx.now.naive_utc(),
            )?;
            if site_ids != before.site_ids {
                q::replace_sites(tx.conn, &id, &site_ids)?;
            }
            if townships != before.townships {
                q::replace_townships(tx.conn, &id, &townships)?;
            }

            let mut what = Vec::new();
            if display_name.is_some() {
                what.push("display name".to_string());
            }
            if role != before_role {
                what.push(format!("role {} -> {}", before_role.as_str(), role.as_str()));
            }
            if site_ids != before.site_ids {
                what.push(format!("sites {} -> {}", before.site_ids.len(), site_ids.len()));
            }
            if townships != before.townships {
                what.push(format!("townships {} -> {}", before.townships.len(), townships.len()));
            }
            if password_hash.is_some() {
                what.push("password reset".into());
            }
            let deactivated = change.active == Some(false) && before.row.active;
            if let Some(active) = change.active.filter(|a| *a != before.row.active) {
                what.push(if active { "reactivated".into() } else { "deactivated".into() });
            }
            // Sessions end when the account is deactivated, its role changes or its
            // password is reset. (Site and township changes apply to live sessions at once,
            // since every request reads them afresh.)
            if deactivated || role != before_role || password_hash.is_some() {
                let n = auth_q::revoke_sessions_of(tx.conn, &id, "account_changed", tx.now.naive_utc())?;
                if n > 0 {
                    what.push(format!("{n} session(s) ended"));
                }
            }
            if what.is_empty() {
                what.push("no change".into());
            }
            tx.audit(
                Some(&actor_id),
                "staff.update",
                "staff",
                Some(&id),
                format!("account {}: {}", before.row.username, what.join(", ")),
            );
            view(q::find(tx.conn, &id)?.ok_or_else(AppError::not_found)?)
        })
        .await;
    // Roles, sites, townships and deactivation reach signed-in sessions at once.
    state.sessions.invalidate();
    updated
}
