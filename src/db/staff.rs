//! Staff accounts, their sites and their townships.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{staff, staff_sites, staff_townships};
use super::{DbConn, QueryResult};
use crate::domain::staff::Role;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff)]
pub struct StaffRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A staff row with its assignments.
#[derive(Debug, Clone)]
pub struct StaffRecord {
    pub row: StaffRow,
    pub site_ids: Vec<String>,
    pub townships: Vec<String>,
}

pub fn insert(conn: &mut DbConn, row: &StaffRow, site_ids: &[String], townships: &[String]) -> QueryResult<()> {
    diesel::insert_into(staff::table).values(row).execute(conn)?;
    replace_sites(conn, &row.id, site_ids)?;
    replace_townships(conn, &row.id, townships)
}

pub fn replace_sites(conn: &mut DbConn, staff_id: &str, site_ids: &[String]) -> QueryResult<()> {
    diesel::delete(staff_sites::table.filter(staff_sites::staff_id.eq(staff_id))).execute(conn)?;
    for site_id in site_ids {
        diesel::insert_into(staff_sites::table)
            .values((staff_sites::staff_id.eq(staff_id), staff_sites::site_id.eq(site_id)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn replace_townships(conn: &mut DbConn, staff_id: &str, townships: &[String]) -> QueryResult<()> {
    diesel::delete(staff_townships::table.filter(staff_townships::staff_id.eq(staff_id))).execute(conn)?;
    for township in townships {
        diesel::insert_into(staff_townships::table)
            .values((staff_townships::staff_id.eq(staff_id), staff_townships::township.eq(township)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_row(conn: &mut DbConn, id: &str) -> QueryResult<Option<StaffRow>> {
    native!(conn, |c| staff::table.find(id).select(StaffRow::as_select()).first(c).optional())
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<StaffRow>> {
    staff::table.filter(staff::username.eq(username)).select(StaffRow::as_select()).first(conn).optional()
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<StaffRecord>> {
    let Some(row) = find_row(conn, id)? else { return Ok(None) };
    // Every request's caller: on the backend's connection, like the dose path.
    let site_ids = native!(conn, |c| staff_sites::table
        .filter(staff_sites::staff_id.eq(id))
        .order(staff_sites::site_id.asc())
        .select(staff_sites::site_id)
        .load(c))?;
    let townships = native!(conn, |c| staff_townships::table
        .filter(staff_townships::staff_id.eq(id))
        .order(staff_townships::township.asc())
        .select(staff_townships::township)
        .load(c))?;
    Ok(Some(StaffRecord { row, site_ids, townships }))
}

/// Every staff member with assignments, in three queries.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<StaffRecord>> {
    let rows: Vec<StaffRow> =
        staff::table.order((staff::role.asc(), staff::username.asc())).select(StaffRow::as_select()).load(conn)?;
    let mut sites_by_staff: HashMap<String, Vec<String>> = HashMap::new();
    for (staff_id, site_id) in staff_sites::table
        .order(staff_sites::site_id.asc())
        .select((staff_sites::staff_id, staff_sites::site_id))
        .load::<(String, String)>(conn)?
    {
        sites_by_staff.entry(staff_id).or_default().push(site_id);
    }
    let mut towns_by_staff: HashMap<String, Vec<String>> = HashMap::new();
    for (staff_id, township) in staff_townships::table
        .order(staff_townships::township.asc())
        .select((staff_townships::staff_id, staff_townships::township))
        .load::<(String, String)>(conn)?
    {
        towns_by_staff.entry(staff_id).or_default().push(township);
    }
    Ok(rows
        .into_iter()
        .map(|row| StaffRecord {
            site_ids: sites_by_staff.remove(&row.id).unwrap_or_default(),
            townships: towns_by_staff.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    staff::table.count().get_result(conn)
}

pub struct StaffChanges<'a> {
    pub display_name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub active: Option<bool>,
}

pub fn update(conn: &mut DbConn, id: &str, changes: &StaffChanges<'_>, now: NaiveDateTime) -> QueryResult<()> {
    let target = staff::table.find(id);
    if let Some(v) = changes.display_name {
        diesel::update(target).set(staff::display_name.eq(v)).execute(conn)?;
    }
    if let Some(v) = changes.role {
        diesel::update(target).set(staff::role.eq(v)).execute(conn)?;
    }
    if let Some(v) = changes.password_hash {
        diesel::update(target).set(staff::password_hash.eq(v)).execute(conn)?;
    }
    if let Some(v) = changes.active {
        diesel::update(target).set(staff::active.eq(v)).execute(conn)?;
    }
    diesel::update(target).set(staff::updated_at.eq(now)).execute(conn).map(|_| ())
}

/// Display names of these staff members.
pub fn names(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    Ok(staff::table
        .filter(staff::id.eq_any(ids))
        .select((staff::id, staff::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
