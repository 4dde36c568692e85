//! Sites: the main clinic and its dispensing points.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sites;
use super::{DbConn, QueryResult};
use crate::domain::sites::SiteKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
pub struct SiteRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: SiteKind,
    pub address: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &SiteRow) -> QueryResult<()> {
    diesel::insert_into(sites::table).values(row).execute(conn).map(|_| ())
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<SiteRow>> {
    sites::table.order((sites::kind.asc(), sites::code.asc())).select(SiteRow::as_select()).load(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SiteRow>> {
    native!(conn, |c| sites::table.find(id).select(SiteRow::as_select()).first(c).optional())
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<SiteRow>> {
    sites::table.filter(sites::code.eq(code)).select(SiteRow::as_select()).first(conn).optional()
}

/// Which of `ids` name existing sites.
pub fn existing_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    sites::table.filter(sites::id.eq_any(ids)).select(sites::id).load(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    sites::table.count().get_result(conn)
}

pub struct SiteChanges<'a> {
    pub name: Option<&'a str>,
    pub address: Option<Option<&'a str>>,
    pub active: Option<bool>,
}

pub fn update(conn: &mut DbConn, id: &str, changes: &SiteChanges<'_>) -> QueryResult<()> {
    if let Some(name) = changes.name {
        diesel::update(sites::table.find(id)).set(sites::name.eq(name)).execute(conn)?;
    }
    if let Some(address) = changes.address {
        diesel::update(sites::table.find(id)).set(sites::address.eq(address)).execute(conn)?;
    }
    if let Some(active) = changes.active {
        diesel::update(sites::table.find(id)).set(sites::active.eq(active)).execute(conn)?;
    }
    Ok(())
}

/// Site names by id.
pub fn names(conn: &mut DbConn) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(sites::table.select((sites::id, sites::name)).load::<(String, String)>(conn)?.into_iter().collect())
}
