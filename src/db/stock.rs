//! Products, the sites' dispensing product, typed ledger entries and their confirmations,
//! and day closes. The derived lines (doses given at the window, home-visit check-outs and
//! returns) are read here too, for the ledger.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::not;
use diesel::prelude::*;

use super::append_only::{self, Written};
use super::schema::{
    day_close_confirmations, day_closes, dose_reversal_confirmations, doses, products, site_products, stock_entries,
    stock_entry_confirmations,
};
use super::{DbConn, QueryResult};
use crate::domain::dispensing::DoseKind;
use crate::domain::stock::EntryKind;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: String,
    pub name: String,
    pub concentration_mg_per_ml: i32,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = site_products)]
pub struct SiteProductRow {
    pub id: String,
    pub site_id: String,
    pub product_id: String,
    pub set_by: String,
    pub set_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_entries)]
pub struct EntryRow {
    pub id: String,
    pub site_id: String,
    pub product_id: String,
    pub kind: EntryKind,
    pub centi_ml: i32,
    pub lot: Option<String>,
    pub supplier: Option<String>,
    pub counterpart_site_id: Option<String>,
    pub transfer_id: Option<String>,
    pub reverses_id: Option<String>,
    pub reason: String,
    pub entered_by: String,
    pub entered_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stock_entry_confirmations)]
pub struct EntryConfirmationRow {
    pub entry_id: String,
    pub site_id: String,
    pub transfer_id: Option<String>,
    pub reverses_id: Option<String>,
    pub confirmed_by: String,
    pub confirmed_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = day_closes)]
pub struct CloseRow {
    pub id: String,
    pub site_id: String,
    pub product_id: String,
    pub close_day: NaiveDate,
    pub counted_cml: i32,
    pub expected_cml: i32,
    pub incident_note: Option<String>,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = day_close_confirmations)]
pub struct CloseConfirmationRow {
    pub close_id: String,
    pub site_id: String,
    pub product_id: String,
    pub close_day: NaiveDate,
    pub counted_cml: i32,
    pub expected_cml: i32,
    pub confirmed_by: String,
    pub confirmed_at: NaiveDateTime,
}

/// An entry with its confirmation, if any.
pub type EntryWithConfirmation = (EntryRow, Option<EntryConfirmationRow>);

pub fn insert_product(conn: &mut DbConn, written: &mut Written, row: &ProductRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn products(conn: &mut DbConn) -> QueryResult<Vec<ProductRow>> {
    products::table.order(products::created_at.asc()).select(ProductRow::as_select()).load(conn)
}

pub fn find_product(conn: &mut DbConn, id: &str) -> QueryResult<Option<ProductRow>> {
    products::table.find(id).select(ProductRow::as_select()).first(conn).optional()
}

pub fn insert_site_product(conn: &mut DbConn, written: &mut Written, row: &SiteProductRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

/// Every dispensing-product setting of a site, oldest first.
pub fn site_products_of(conn: &mut DbConn, site_id: &str) -> QueryResult<Vec<SiteProductRow>> {
    site_products::table
        .filter(site_products::site_id.eq(site_id))
        .order(site_products::set_at.asc())
        .select(SiteProductRow::as_select())
        .load(conn)
}

/// Every site's settings, oldest first.
pub fn all_site_products(conn: &mut DbConn) -> QueryResult<Vec<SiteProductRow>> {
    site_products::table.order(site_products::set_at.asc()).select(SiteProductRow::as_select()).load(conn)
}

pub fn insert_entry(conn: &mut DbConn, written: &mut Written, row: &EntryRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_entry_confirmation(
    conn: &mut DbConn,
    written: &mut Written,
    row: &EntryConfirmationRow,
) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn find_entry(conn: &mut DbConn, id: &str) -> QueryResult<Option<EntryWithConfirmation>> {
    let Some(entry) = stock_entries::table.find(id).select(EntryRow::as_select()).first(conn).optional()? else {
        return Ok(None);
    };
    let confirmation = confirmation_of(conn, id)?;
    Ok(Some((entry, confirmation)))
}

pub fn confirmation_of(conn: &mut DbConn, entry_id: &str) -> QueryResult<Option<EntryConfirmationRow>> {
    stock_entry_confirmations::table.find(entry_id).select(EntryConfirmationRow::as_select()).first(conn).optional()
}

fn attach(conn: &mut DbConn, entries: Vec<EntryRow>) -> QueryResult<Vec<EntryWithConfirmation>> {
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    let confirmations: Vec<EntryConfirmationRow> = stock_entry_confirmations::table
        .filter(stock_entry_confirmations::entry_id.eq_any(&ids))
        .select(EntryConfirmationRow::as_select())
        .load(conn)?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let c = confirmations.iter().find(|c| c.entry_id == e.id).cloned();
            (e, c)
        })
        .collect())
}

/// Every entry of a site (all products), entered from `since` on, with confirmations.
pub fn entries_of_site(
    conn: &mut DbConn,
    site_id: &str,
    since: Option<NaiveDateTime>,
) -> QueryResult<Vec<EntryWithConfirmation>> {
    let mut q = stock_entries::table.filter(stock_entries::site_id.eq(site_id)).into_boxed();
    if let Some(since) = since {
        q = q.filter(stock_entries::entered_at.ge(since));
    }
    let rows = q.order(stock_entries::entered_at.asc()).select(EntryRow::as_select()).load(conn)?;
    attach(conn, rows)
}

/// Transfers sent to a site (confirmed at the sender or not), with confirmations.
pub fn transfers_to(conn: &mut DbConn, site_id: &str) -> QueryResult<Vec<EntryWithConfirmation>> {
    let rows = stock_entries::table
        .filter(stock_entries::counterpart_site_id.eq(site_id))
        .filter(stock_entries::kind.eq(EntryKind::TransferOut))
        .order(stock_entries::entered_at.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    attach(conn, rows)
}

/// The confirmed receipt of a transfer, if any: (entry, confirmation).
pub fn receipt_of_transfer(conn: &mut DbConn, transfer_id: &str) -> QueryResult<Option<EntryConfirmationRow>> {
    stock_entry_confirmations::table
        .filter(stock_entry_confirmations::transfer_id.eq(transfer_id))
        .select(EntryConfirmationRow::as_select())
        .first(conn)
        .optional()
}

/// Entries received for these transfers (pending or confirmed).
pub fn entries_for_transfers(conn: &mut DbConn, transfer_ids: &[String]) -> QueryResult<Vec<EntryWithConfirmation>> {
    let rows = stock_entries::table
        .filter(stock_entries::transfer_id.eq_any(transfer_ids))
        .select(EntryRow::as_select())
        .load(conn)?;
    attach(conn, rows)
}

/// The confirmed reversal of an entry, if any.
pub fn reversal_of_entry(conn: &mut DbConn, entry_id: &str) -> QueryResult<Option<EntryConfirmationRow>> {
    stock_entry_confirmations::table
        .filter(stock_entry_confirmations::reverses_id.eq(entry_id))
        .select(EntryConfirmationRow::as_select())
        .first(conn)
        .optional()
}

/// Doses given at the window of a site (not on a home visit) that stand, from `from`:
/// (dose day, given at, deci-mg).
pub fn window_doses(
    conn: &mut DbConn,
    site_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, NaiveDateTime, i32)>> {
    doses::table
        .filter(doses::site_id.eq(site_id))
        .filter(doses::dose_day.ge(from))
        .filter(doses::dose_day.le(to))
        .filter(doses::kind.eq(DoseKind::Site))
        .filter(not(diesel::dsl::exists(
            dose_reversal_confirmations::table.filter(dose_reversal_confirmations::dose_id.eq(doses::id)),
        )))
        .select((doses::dose_day, doses::given_at, doses::deci_mg))
        .load(conn)
}

pub fn insert_close(conn: &mut DbConn, written: &mut Written, row: &CloseRow) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn insert_close_confirmation(
    conn: &mut DbConn,
    written: &mut Written,
    row: &CloseConfirmationRow,
) -> QueryResult<()> {
    append_only::insert(conn, written, row)
}

pub fn find_close(conn: &mut DbConn, id: &str) -> QueryResult<Option<CloseRow>> {
    day_closes::table.find(id).select(CloseRow::as_select()).first(conn).optional()
}

/// The confirmed closes of a site (all products), oldest first.
pub fn confirmed_closes(conn: &mut DbConn, site_id: &str) -> QueryResult<Vec<CloseConfirmationRow>> {
    day_close_confirmations::table
        .filter(day_close_confirmations::site_id.eq(site_id))
        .order(day_close_confirmations::close_day.asc())
        .select(CloseConfirmationRow::as_select())
        .load(conn)
}

/// Close requests of a site, newest first.
pub fn close_requests(conn: &mut DbConn, site_id: &str, since: NaiveDate) -> QueryResult<Vec<CloseRow>> {
    day_closes::table
        .filter(day_closes::site_id.eq(site_id))
        .filter(day_closes::close_day.ge(since))
        .order(day_closes::requested_at.desc())
        .select(CloseRow::as_select())
        .load(conn)
}

/// Is the site's day closed (for any product)?
pub fn day_closed(conn: &mut DbConn, site_id: &str, day: NaiveDate) -> QueryResult<bool> {
    let n: i64 = day_close_confirmations::table
        .filter(day_close_confirmations::site_id.eq(site_id))
        .filter(day_close_confirmations::close_day.eq(day))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
