//! The controlled-substance ledger of each site (专用账册): products, the dispensing
//! product, typed entries confirmed by a second person, transfers, and the day close. The
//! balance is always [`crate::domain::stock::ledger_days`] over the lines loaded by
//! [`load_ledger`]: the stock page, the close, the PDFs and the tests read the same.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::idempotency::{self, Key, Replayable};
use super::validation::{clean_optional, clean_text};
use super::{check_date, Actor, AppState};
use crate::db::home_visits as visits_q;
use crate::db::stock::{
    self as q, CloseConfirmationRow, CloseRow, EntryConfirmationRow, EntryRow, ProductRow, SiteProductRow,
};
use crate::db::{self, sites as sites_q, staff as staff_q, DbConn};
use crate::domain::dates::{self, Window};
use crate::domain::home_visits::{Step, VisitFacts};
use crate::domain::quantity::DeciMg;
use crate::domain::staff::check_second_person;
use crate::domain::staff::Role;
use crate::domain::stock::{
    check_close, dispensing_product_at, ledger_days, volume_of, CentiMl, ClosedDay, Concentration, DaySummary,
    EntryKind, LedgerLine, LineKind,
};
use crate::domain::RuleViolation;
use crate::error::{AppError, AppResult, ErrorCode};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub id: String,
    pub name: String,
    pub concentration_mg_per_ml: u32,
    /// "1 mg/mL": shown beside every volume.
    pub concentration_label: String,
}

impl ProductView {
    pub fn of(r: &ProductRow) -> ProductView {
        ProductView {
            id: r.id.clone(),
            name: r.name.clone(),
            concentration_mg_per_ml: r.concentration_mg_per_ml.max(0) as u32,
            concentration_label: format!("{} mg/mL", r.concentration_mg_per_ml),
        }
    }
}

pub fn concentration_of(r: &ProductRow) -> AppResult<Concentration> {
    u32::try_from(r.concentration_mg_per_ml)
        .ok()
        .and_then(|c| Concentration::new(c).ok())
        .ok_or_else(|| AppError::internal(format!("product {} has concentration {}", r.id, r.concentration_mg_per_ml)))
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: String,
    /// 1, 2, 5 or 10 (mg per mL).
    pub concentration_mg_per_ml: u32,
}

pub async fn list_products(state: &AppState, _actor: &Actor) -> AppResult<Vec<ProductView>> {
    state.read(|conn| Ok(q::products(conn)?.iter().map(ProductView::of).collect())).await
}

pub async fn create_product(state: &AppState, actor: &Actor, new: NewProduct) -> AppResult<ProductView> {
    actor.require(&[Role::Admin])?;
    let name = clean_text("name", &new.name, 100)?;
    let c = Concentration::new(new.concentration_mg_per_ml)
        .map_err(|m| AppError::invalid_field("concentration_mg_per_ml", m))?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            if q::products(tx.conn)?.iter().any(|p| p.name == name) {
                return Err(AppError::new(ErrorCode::DuplicateProduct, "A product with this name exists."));
            }
            let row = ProductRow {
                id: db::new_id(),
                name,
                concentration_mg_per_ml: c.mg_per_ml() as i32,
                created_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            q::insert_product(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "product.create",
                "product",
                Some(&row.id),
                format!("product at {}", c.label()),
            );
            Ok(ProductView::of(&row))
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteProductRequest {
    pub product_id: String,
}

/// An admin sets the product a site dispenses from now on.
pub async fn set_site_product(
    state: &AppState,
    actor: &Actor,
    site_id: String,
    req: SiteProductRequest,
) -> AppResult<ProductView> {
    actor.require(&[Role::Admin])?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            sites_q::find(tx.conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let product = q::find_product(tx.conn, &req.product_id)?
                .ok_or_else(|| AppError::invalid_field("product_id", "no product has this id"))?;
            let row = SiteProductRow {
                id: db::new_id(),
                site_id: site_id.clone(),
                product_id: product.id.clone(),
                set_by: actor.staff_id.clone(),
                set_at: tx.now.naive_utc(),
            };
            q::insert_site_product(tx.conn, &mut tx.written, &row)?;
            tx.audit(Some(&actor.staff_id), "site.product", "site", Some(&site_id), "dispensing product set");
            Ok(ProductView::of(&product))
        })
        .await
}

/// The product a site dispenses now, and whether an administrator set it (else it is the
/// network's only product, or none can be named).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SiteProductView {
    pub site_id: String,
    pub product: Option<ProductView>,
    /// When an administrator last set the site's product; absent while none was set.
    pub set_at: Option<DateTime<Utc>>,
}

/// Every site's dispensing product now, for the administrator's sites page.
pub async fn site_products(state: &AppState, actor: &Actor) -> AppResult<Vec<SiteProductView>> {
    actor.require(&[Role::Admin])?;
    let now = state.now();
    state
        .read(move |conn| {
            let products = q::products(conn)?;
            let created: Vec<_> = products.iter().map(|p| (p.created_at.and_utc(), p.id.clone())).collect();
            let settings = q::all_site_products(conn)?;
            let views = sites_q::list(conn)?
                .into_iter()
                .map(|site| {
                    let mine: Vec<_> = settings
                        .iter()
                        .filter(|a| a.site_id == site.id)
                        .map(|a| (a.set_at.and_utc(), a.product_id.clone()))
                        .collect();
                    let product = dispensing_product_at(&mine, &created, now)
                        .and_then(|id| products.iter().find(|p| p.id == id))
                        .map(ProductView::of);
                    SiteProductView { site_id: site.id, product, set_at: mine.last().map(|(t, _)| *t) }
                })
                .collect();
            Ok(views)
        })
        .await
}

/// Products and the site's dispensing-product settings, for attributing doses.
pub struct Catalogue {
    pub products: Vec<ProductRow>,
    pub assignments: Vec<(DateTime<Utc>, String)>,
    pub created: Vec<(DateTime<Utc>, String)>,
}

impl Catalogue {
    pub fn load(conn: &mut DbConn, site_id: &str) -> AppResult<Catalogue> {
        let products = q::products(conn)?;
        let assignments =
            q::site_products_of(conn, site_id)?.into_iter().map(|a| (a.set_at.and_utc(), a.product_id)).collect();
        let created = products.iter().map(|p| (p.created_at.and_utc(), p.id.clone())).collect();
        Ok(Catalogue { products, assignments, created })
    }

    pub fn product_at(&self, at: DateTime<Utc>) -> Option<&ProductRow> {
        let id = dispensing_product_at(&self.assignments, &self.created, at)?;
        self.products.iter().find(|p| p.id == id)
    }

    pub fn find(&self, id: &str) -> Option<&ProductRow> {
        self.products.iter().find(|p| p.id == id)
    }
}

/// The product a site dispenses now, with its concentration; 422 when none can be named.
pub fn dispensing_product(
    conn: &mut DbConn,
    site_id: &str,
    now: DateTime<Utc>,
) -> AppResult<(ProductRow, Concentration)> {
    let cat = Catalogue::load(conn, site_id)?;
    let p = cat.product_at(now).cloned().ok_or_else(|| {
        AppError::from(RuleViolation::new(
            ErrorCode::NoDispensingProduct,
            "No dispensing product is set for this site and the network has several products (or none). An \
             administrator must set the site's product first.",
        ))
    })?;
    let c = concentration_of(&p)?;
    Ok((p, c))
}

fn local_day(at: NaiveDateTime, tz: Tz) -> NaiveDate {
    at.and_utc().with_timezone(&tz).date_naive()
}

/// A site's ledger for one product, as lines and closes, ready for [`ledger_days`].
pub struct SiteLedger {
    pub product: ProductRow,
    pub concentration: Concentration,
    pub opening: CentiMl,
    /// The first day the lines are summed from (`opening` is the balance at its start).
    pub start: NaiveDate,
    pub lines: Vec<LedgerLine>,
    pub closes: Vec<ClosedDay>,
}

impl SiteLedger {
    pub fn days(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, DaySummary)> {
        if to < self.start {
            return Vec::new();
        }
        ledger_days(self.opening, &self.lines, &self.closes, self.start, to)
            .into_iter()
            .filter(|(d, _)| *d >= from)
            .collect()
    }

    pub fn day(&self, day: NaiveDate) -> DaySummary {
        self.days(day, day).pop().map(|(_, s)| s).unwrap_or_else(|| DaySummary {
            opening: self.opening,
            expected: self.opening,
            ..DaySummary::default()
        })
    }
}

/// Loads a site's ledger for a product up to `to`: starting at the last confirmed close
/// before `from` (its counted volume), or from the beginning.
pub fn load_ledger(
    conn: &mut DbConn,
    site_id: &str,
    product_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    tz: Tz,
) -> AppResult<SiteLedger> {
    let cat = Catalogue::load(conn, site_id)?;
    let product =
        cat.find(product_id).cloned().ok_or_else(|| AppError::invalid_field("product_id", "no product has this id"))?;
    let concentration = concentration_of(&product)?;
    let all_closes: Vec<CloseConfirmationRow> =
        q::confirmed_closes(conn, site_id)?.into_iter().filter(|c| c.product_id == product_id).collect();
    let anchor = all_closes.iter().filter(|c| c.close_day < from).max_by_key(|c| c.close_day).cloned();
    let (opening, start, since) = match &anchor {
        Some(c) => (CentiMl(i64::from(c.counted_cml)), c.close_day + Duration::days(1), c.close_day),
        None => (CentiMl::ZERO, dates::EARLIEST, dates::EARLIEST),
    };
    let mut lines = Vec::new();
    for (day, given_at, deci_mg) in q::window_doses(conn, site_id, since, to)? {
        let at = given_at.and_utc();
        if cat.product_at(at).is_some_and(|p| p.id == product_id) {
            let v = volume_of(DeciMg(i64::from(deci_mg)), concentration);
            lines.push(LedgerLine { kind: LineKind::Dispensed, day, at, change: -v });
        }
    }
    for s in visits_q::steps_at_site_since(conn, site_id, since)? {
        if s.product_id.as_deref() != Some(product_id) {
            continue;
        }
        let v = CentiMl(i64::from(s.centi_ml.unwrap_or(0)));
        let (kind, change) = match s.step {
            Step::CheckoutConfirm => (LineKind::HomeVisitOut, -v),
            Step::ReturnConfirm => (LineKind::HomeVisitReturn, v),
            _ => continue,
        };
        lines.push(LedgerLine { kind, day: local_day(s.at, tz), at: s.at.and_utc(), change });
    }
    let since_at = anchor.as_ref().map(|c| c.confirmed_at - Duration::days(2));
    for (e, c) in q::entries_of_site(conn, site_id, since_at)? {
        let (Some(c), true) = (c, e.product_id == product_id) else { continue };
        let day = local_day(c.confirmed_at, tz);
        if day < since || day > to {
            continue;
        }
        lines.push(LedgerLine {
            kind: line_kind(e.kind),
            day,
            at: c.confirmed_at.and_utc(),
            change: CentiMl(i64::from(e.centi_ml)),
        });
    }
    let closes = all_closes
        .iter()
        .map(|c| ClosedDay {
            day: c.close_day,
            closed_at: c.confirmed_at.and_utc(),
            counted: CentiMl(i64::from(c.counted_cml)),
            expected: CentiMl(i64::from(c.expected_cml)),
        })
        .collect();
    // Without a close to start from, the ledger starts at its first line (or `from`).
    let start = if anchor.is_none() { lines.iter().map(|l| l.day).min().unwrap_or(from).min(from) } else { start };
    Ok(SiteLedger { product, concentration, opening, start, lines, closes })
}

fn line_kind(k: EntryKind) -> LineKind {
    match k {
        EntryKind::Receipt => LineKind::Receipt,
        EntryKind::TransferOut => LineKind::TransferOut,
        EntryKind::TransferIn => LineKind::TransferIn,
        EntryKind::Waste => LineKind::Waste,
        EntryKind::Adjustment => LineKind::Adjustment,
        EntryKind::Reversal => LineKind::Reversal,
    }
}

pub(super) fn require_site(actor: &Actor, site_id: &str) -> AppResult<()> {
    if actor.works_at(site_id) {
        Ok(())
    } else {
        Err(AppError::forbidden("You are not assigned to this site: only its own staff keep its stock."))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    pub site_id: String,
    /// Required except for `transfer_in` (the transfer's product) and `reversal`.
    pub product_id: Option<String>,
    pub kind: EntryKind,
    /// mL, at most two decimals; positive, except an adjustment (signed: − takes out).
    /// For `transfer_in` and `reversal` it may be left out (the transfer's, the entry's).
    pub volume_ml: Option<f64>,
    /// Receipts: the lot number (批号), required.
    pub lot: Option<String>,
    /// Receipts: the supplier, required.
    pub supplier: Option<String>,
    /// Transfers out: the receiving site.
    pub counterpart_site_id: Option<String>,
    /// Transfers in: the id of the sending site's `transfer_out` entry.
    pub transfer_id: Option<String>,
    /// Reversals: the id of the confirmed entry to reverse.
    pub reverses_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: String,
    pub site_id: String,
    pub site_name: Option<String>,
    pub product: ProductView,
    pub kind: EntryKind,
    /// The signed change of the site's balance, mL.
    pub change_ml: f64,
    /// The volume moved, mL (positive).
    pub volume_ml: f64,
    pub lot: Option<String>,
    pub supplier: Option<String>,
    pub counterpart_site_id: Option<String>,
    pub counterpart_site_name: Option<String>,
    pub transfer_id: Option<String>,
    pub reverses_id: Option<String>,
    pub reason: String,
    pub entered_by: String,
    pub entered_by_name: Option<String>,
    pub entered_at: DateTime<Utc>,
    /// `pending` until a second person confirms, then `confirmed`.
    pub status: String,
    pub confirmed_by: Option<String>,
    pub confirmed_by_name: Option<String>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

fn entry_view(
    e: &EntryRow,
    c: Option<&EntryConfirmationRow>,
    products: &[ProductRow],
    sites: &HashMap<String, String>,
    names: &HashMap<String, String>,
) -> AppResult<EntryView> {
    let product = products
        .iter()
        .find(|p| p.id == e.product_id)
        .ok_or_else(|| AppError::internal("entry of an unknown product"))?;
    Ok(EntryView {
        id: e.id.clone(),
        site_id: e.site_id.clone(),
        site_name: sites.get(&e.site_id).cloned(),
        product: ProductView::of(product),
        kind: e.kind,
        change_ml: CentiMl(i64::from(e.centi_ml)).ml(),
        volume_ml: CentiMl(i64::from(e.centi_ml)).abs().ml(),
        lot: e.lot.clone(),
        supplier: e.supplier.clone(),
        counterpart_site_id: e.counterpart_site_id.clone(),
        counterpart_site_name: e.counterpart_site_id.as_ref().and_then(|s| sites.get(s).cloned()),
        transfer_id: e.transfer_id.clone(),
        reverses_id: e.reverses_id.clone(),
        reason: e.reason.clone(),
        entered_by: e.entered_by.clone(),
        entered_by_name: names.get(&e.entered_by).cloned(),
        entered_at: e.entered_at.and_utc(),
        status: if c.is_some() { "confirmed".into() } else { "pending".into() },
        confirmed_by: c.map(|c| c.confirmed_by.clone()),
        confirmed_by_name: c.and_then(|c| names.get(&c.confirmed_by).cloned()),
        confirmed_at: c.map(|c| c.confirmed_at.and_utc()),
    })
}

fn views(conn: &mut DbConn, rows: &[(EntryRow, Option<EntryConfirmationRow>)]) -> AppResult<Vec<EntryView>> {
    let products = q::products(conn)?;
    let sites = sites_q::names(conn)?;
    let mut ids: Vec<String> = rows.iter().map(|(e, _)| e.entered_by.clone()).collect();
    ids.extend(rows.iter().filter_map(|(_, c)| c.as_ref().map(|c| c.confirmed_by.clone())));
    let names = staff_q::names(conn, &ids)?;
    rows.iter().map(|(e, c)| entry_view(e, c.as_ref(), &products, &sites, &names)).collect()
}

fn positive_volume(v: Option<f64>) -> AppResult<CentiMl> {
    let v = v.ok_or_else(|| AppError::invalid_field("volume_ml", "the volume in mL is required"))?;
    let v = CentiMl::parse_ml(v).map_err(|m| AppError::invalid_field("volume_ml", m))?;
    if v.0 <= 0 {
        return Err(AppError::invalid_field("volume_ml", "must be more than 0"));
    }
    Ok(v)
}

/// Records a manual ledger entry, pending until a second person confirms it (201 with the
/// entry). With an `Idempotency-Key` a retried request replays the first answer.
pub async fn enter(state: &AppState, actor: &Actor, req: EntryRequest, key: Option<String>) -> AppResult<Replayable> {
    actor.require(&[Role::Nurse])?;
    require_site(actor, &req.site_id)?;
    let key = Key::of(key, "stock.entry", &req)?;
    let reason = clean_text("reason", &req.reason, 300)?;
    let lot = clean_optional("lot", req.lot.as_deref(), 60)?;
    let supplier = clean_optional("supplier", req.supplier.as_deref(), 100)?;
    let actor_c = actor.clone();
    idempotency::write(state, actor, key, move |tx| {
        let actor = actor_c;
        sites_q::find(tx.conn, &req.site_id)?.ok_or_else(AppError::not_found)?;
        let product_of = |conn: &mut DbConn, id: Option<&String>| -> AppResult<ProductRow> {
            let id =
                id.ok_or_else(|| AppError::invalid_field("product_id", "name the product (and so its concentration)"))?;
            q::find_product(conn, id)?.ok_or_else(|| AppError::invalid_field("product_id", "no product has this id"))
        };
        let mut row = EntryRow {
            id: db::new_id(),
            site_id: req.site_id.clone(),
            product_id: String::new(),
            kind: req.kind,
            centi_ml: 0,
            lot: lot.clone(),
            supplier: None,
            counterpart_site_id: None,
            transfer_id: None,
            reverses_id: None,
            reason,
            entered_by: actor.staff_id.clone(),
            entered_at: tx.now.naive_utc(),
        };
        let change = match req.kind {
            EntryKind::Receipt => {
                row.product_id = product_of(tx.conn, req.product_id.as_ref())?.id;
                if lot.is_none() {
                    return Err(AppError::invalid_field("lot", "a receipt names the lot number (批号) on the bottles"));
                }
                row.supplier = Some(
                    supplier
                        .clone()
                        .ok_or_else(|| AppError::invalid_field("supplier", "a receipt names the supplier"))?,
                );
                positive_volume(req.volume_ml)?
            }
            EntryKind::TransferOut => {
                row.product_id = product_of(tx.conn, req.product_id.as_ref())?.id;
                let to = req
                    .counterpart_site_id
                    .clone()
                    .ok_or_else(|| AppError::invalid_field("counterpart_site_id", "name the receiving site"))?;
                if to == req.site_id {
                    return Err(AppError::invalid_field("counterpart_site_id", "a transfer goes to another site"));
                }
                sites_q::find(tx.conn, &to)?
                    .ok_or_else(|| AppError::invalid_field("counterpart_site_id", "no site has this id"))?;
                row.counterpart_site_id = Some(to);
                -positive_volume(req.volume_ml)?
            }
            EntryKind::TransferIn => {
                let tid = req
                    .transfer_id
                    .clone()
                    .ok_or_else(|| AppError::invalid_field("transfer_id", "name the transfer being received"))?;
                let (out, confirmed) = q::find_entry(tx.conn, &tid)?
                    .filter(|(e, _)| e.kind == EntryKind::TransferOut)
                    .ok_or_else(|| AppError::invalid_field("transfer_id", "no transfer has this id"))?;
                if out.counterpart_site_id.as_deref() != Some(req.site_id.as_str()) {
                    return Err(AppError::invalid_field("transfer_id", "this transfer is addressed to another site"));
                }
                if confirmed.is_none() {
                    return Err(AppError::validation(
                        "The sending site has not confirmed this transfer yet: it has not left their stock. Ask them \
                             to confirm it first.",
                    ));
                }
                if q::receipt_of_transfer(tx.conn, &tid)?.is_some() {
                    return Err(AppError::new(ErrorCode::AlreadyConfirmed, "This transfer was already received."));
                }
                if req.product_id.as_ref().is_some_and(|p| *p != out.product_id) {
                    return Err(AppError::invalid_field("product_id", "the transfer is of another product"));
                }
                let sent = CentiMl(-i64::from(out.centi_ml));
                if let Some(v) = req.volume_ml {
                    let v = CentiMl::parse_ml(v).map_err(|m| AppError::invalid_field("volume_ml", m))?;
                    if v != sent {
                        return Err(AppError::invalid_field(
                            "volume_ml",
                            format!(
                                "the transfer is of {} mL: receive it as sent, then record any gap as an adjustment \
                                     with a reason",
                                sent.text()
                            ),
                        ));
                    }
                }
                row.product_id = out.product_id.clone();
                row.counterpart_site_id = Some(out.site_id.clone());
                row.lot = row.lot.or(out.lot.clone());
                row.transfer_id = Some(tid);
                sent
            }
            EntryKind::Waste => {
                row.product_id = product_of(tx.conn, req.product_id.as_ref())?.id;
                -positive_volume(req.volume_ml)?
            }
            EntryKind::Adjustment => {
                row.product_id = product_of(tx.conn, req.product_id.as_ref())?.id;
                let v = req
                    .volume_ml
                    .ok_or_else(|| AppError::invalid_field("volume_ml", "the change in mL is required"))?;
                let v = CentiMl::parse_ml(v).map_err(|m| AppError::invalid_field("volume_ml", m))?;
                if v.0 == 0 {
                    return Err(AppError::invalid_field("volume_ml", "an adjustment changes the balance: not 0"));
                }
                v
            }
            EntryKind::Reversal => {
                let rid = req
                    .reverses_id
                    .clone()
                    .ok_or_else(|| AppError::invalid_field("reverses_id", "name the entry to reverse"))?;
                let (orig, confirmed) = q::find_entry(tx.conn, &rid)?
                    .filter(|(e, _)| e.site_id == req.site_id)
                    .ok_or_else(|| AppError::invalid_field("reverses_id", "no entry of this site has this id"))?;
                if !matches!(orig.kind, EntryKind::Receipt | EntryKind::Waste | EntryKind::Adjustment) {
                    return Err(AppError::invalid_field(
                        "reverses_id",
                        "receipts, waste and adjustments are reversed; a transfer is corrected by a transfer back",
                    ));
                }
                if confirmed.is_none() {
                    return Err(AppError::invalid_field(
                        "reverses_id",
                        "the entry is not confirmed: it does not count yet",
                    ));
                }
                if q::reversal_of_entry(tx.conn, &rid)?.is_some() {
                    return Err(AppError::new(ErrorCode::AlreadyConfirmed, "This entry was already reversed."));
                }
                row.product_id = orig.product_id.clone();
                row.reverses_id = Some(rid);
                CentiMl(-i64::from(orig.centi_ml))
            }
        };
        row.centi_ml =
            i32::try_from(change.0).map_err(|_| AppError::invalid_field("volume_ml", "is not a plausible volume"))?;
        q::insert_entry(tx.conn, &mut tx.written, &row)?;
        tx.audit(
            Some(&actor.staff_id),
            "stock.entry",
            "stock_entry",
            Some(&row.id),
            format!("{} of {} mL entered; awaiting a second person", row.kind, change.abs().text()),
        );
        let rows = [(row, None)];
        Ok(Ok(Replayable::of(201, &views(tx.conn, &rows)?.remove(0))?))
    })
    .await
}

/// A second person confirms an entry: from then on it counts in the balance.
pub async fn confirm_entry(state: &AppState, actor: &Actor, entry_id: String) -> AppResult<EntryView> {
    actor.require(&[Role::Nurse])?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let (entry, confirmation) = q::find_entry(tx.conn, &entry_id)?.ok_or_else(AppError::not_found)?;
            require_site(&actor, &entry.site_id)?;
            if confirmation.is_some() {
                return Err(AppError::new(ErrorCode::AlreadyConfirmed, "This entry is already confirmed."));
            }
            check_second_person(&entry.entered_by, &actor.staff_id, "stock entry")?;
            let row = EntryConfirmationRow {
                entry_id: entry.id.clone(),
                site_id: entry.site_id.clone(),
                transfer_id: entry.transfer_id.clone(),
                reverses_id: entry.reverses_id.clone(),
                confirmed_by: actor.staff_id.clone(),
                confirmed_at: tx.now.naive_utc(),
            };
            match q::insert_entry_confirmation(tx.conn, &mut tx.written, &row) {
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(
                        ErrorCode::AlreadyConfirmed,
                        "Already confirmed (this transfer was received, or this entry reversed, by another entry).",
                    ))
                }
                other => other?,
            }
            tx.audit(
                Some(&actor.staff_id),
                "stock.entry_confirm",
                "stock_entry",
                Some(&entry.id),
                format!("{} confirmed by a second person", entry.kind),
            );
            let rows = [(entry, Some(row))];
            Ok(views(tx.conn, &rows)?.remove(0))
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// The day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
}

/// One product's day at a site (API.md's fields in mL, and the lines behind them).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StockDay {
    pub date: NaiveDate,
    pub product: ProductView,
    /// The site dispenses this product today.
    pub dispensing: bool,
    pub opening_ml: f64,
    pub in_ml: f64,
    pub out_ml: f64,
    pub expected_ml: f64,
    pub received_ml: f64,
    pub transfer_in_ml: f64,
    pub transfer_out_ml: f64,
    pub dispensed_ml: f64,
    pub home_visit_out_ml: f64,
    pub home_visit_returned_ml: f64,
    pub waste_ml: f64,
    pub adjusted_ml: f64,
    /// The balance went below zero during the day: the close needs an incident note.
    pub went_negative: bool,
    pub closed: bool,
    pub counted_ml: Option<f64>,
}

pub fn stock_day(day: NaiveDate, s: &DaySummary, product: &ProductRow, dispensing: bool) -> StockDay {
    StockDay {
        date: day,
        product: ProductView::of(product),
        dispensing,
        opening_ml: s.opening.ml(),
        in_ml: s.total_in.ml(),
        out_ml: s.total_out.ml(),
        expected_ml: s.expected.ml(),
        received_ml: s.received.ml(),
        transfer_in_ml: s.transfer_in.ml(),
        transfer_out_ml: s.transfer_out.ml(),
        dispensed_ml: s.dispensed.ml(),
        home_visit_out_ml: s.home_visit_out.ml(),
        home_visit_returned_ml: s.home_visit_returned.ml(),
        waste_ml: s.waste.ml(),
        adjusted_ml: s.adjusted.ml(),
        went_negative: s.went_negative,
        closed: s.closed.is_some(),
        counted_ml: s.closed.map(|c| c.counted.ml()),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CloseView {
    pub id: String,
    pub site_id: String,
    pub product_id: String,
    pub date: NaiveDate,
    pub counted_ml: f64,
    pub expected_ml: f64,
    pub gap_ml: f64,
    pub incident_note: Option<String>,
    pub requested_by: String,
    pub requested_by_name: Option<String>,
    /// `pending` until a second nurse confirms, then `confirmed`.
    pub status: String,
    pub confirmed_by_name: Option<String>,
}

fn close_view(r: &CloseRow, c: Option<&CloseConfirmationRow>, names: &HashMap<String, String>) -> CloseView {
    CloseView {
        id: r.id.clone(),
        site_id: r.site_id.clone(),
        product_id: r.product_id.clone(),
        date: r.close_day,
        counted_ml: CentiMl(i64::from(r.counted_cml)).ml(),
        expected_ml: CentiMl(i64::from(r.expected_cml)).ml(),
        gap_ml: CentiMl(i64::from(r.counted_cml) - i64::from(r.expected_cml)).ml(),
        incident_note: r.incident_note.clone(),
        requested_by: r.requested_by.clone(),
        requested_by_name: names.get(&r.requested_by).cloned(),
        status: if c.is_some() { "confirmed".into() } else { "pending".into() },
        confirmed_by_name: c.and_then(|c| names.get(&c.confirmed_by).cloned()),
    }
}

/// A home-visit dose that left the site and neither reached the patient nor came back.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutstandingVisit {
    pub visit_id: String,
    pub patient_id: String,
    pub visit_day: NaiveDate,
}

/// The site's stock page: each product's day, entries waiting for a second person,
/// transfers in transit (sent and on their way here), pending closes and outstanding
/// home-visit doses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StockPage {
    pub date: NaiveDate,
    pub site_id: String,
    pub products: Vec<StockDay>,
    pub pending_entries: Vec<EntryView>,
    /// Sent from this site, confirmed here, not yet received.
    pub transfers_out_in_transit: Vec<EntryView>,
    /// Sent to this site (confirmed at the sender), not yet received here.
    pub transfers_arriving: Vec<EntryView>,
    pub pending_closes: Vec<CloseView>,
    pub outstanding_home_visits: Vec<OutstandingVisit>,
    /// mL beyond which a close needs an incident note.
    pub close_tolerance_ml: f64,
}

pub async fn page(state: &AppState, actor: &Actor, site_id: String, date: Option<NaiveDate>) -> AppResult<StockPage> {
    actor.require(&[Role::Nurse, Role::Doctor, Role::Admin])?;
    if actor.role != Role::Admin {
        require_site(actor, &site_id)?;
    }
    let today = state.today();
    let date = date.unwrap_or(today);
    check_date("date", date, Window::new(dates::EARLIEST, today))?;
    let tz = state.config.timezone;
    let now = state.now();
    let tolerance = CentiMl(i64::from(state.config.rules.day_close_tolerance_deci_ml) * 10);
    state
        .read(move |conn| {
            sites_q::find(conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let cat = Catalogue::load(conn, &site_id)?;
            let current = cat.product_at(now).map(|p| p.id.clone());
            let mut products = Vec::new();
            for p in &cat.products {
                let ledger = load_ledger(conn, &site_id, &p.id, date, date, tz)?;
                let s = ledger.day(date);
                products.push(stock_day(date, &s, p, current.as_deref() == Some(p.id.as_str())));
            }
            // The dispensing product first.
            products.sort_by_key(|d| !d.dispensing);
            let entries = q::entries_of_site(conn, &site_id, None)?;
            let pending: Vec<_> = entries.iter().filter(|(_, c)| c.is_none()).cloned().collect();
            let outs: Vec<_> =
                entries.iter().filter(|(e, c)| e.kind == EntryKind::TransferOut && c.is_some()).cloned().collect();
            let out_ids: Vec<String> = outs.iter().map(|(e, _)| e.id.clone()).collect();
            let received: Vec<String> = q::entries_for_transfers(conn, &out_ids)?
                .into_iter()
                .filter_map(|(e, c)| c.and(e.transfer_id))
                .collect();
            let in_transit: Vec<_> = outs.into_iter().filter(|(e, _)| !received.contains(&e.id)).collect();
            let incoming: Vec<_> = q::transfers_to(conn, &site_id)?.into_iter().filter(|(_, c)| c.is_some()).collect();
            let incoming_ids: Vec<String> = incoming.iter().map(|(e, _)| e.id.clone()).collect();
            let arrived: Vec<String> = q::entries_for_transfers(conn, &incoming_ids)?
                .into_iter()
                .filter_map(|(e, c)| c.and(e.transfer_id))
                .collect();
            let arriving: Vec<_> = incoming.into_iter().filter(|(e, _)| !arrived.contains(&e.id)).collect();
            let closes = q::close_requests(conn, &site_id, date - Duration::days(7))?;
            let confirmed = q::confirmed_closes(conn, &site_id)?;
            let pending_closes: Vec<CloseRow> = closes
                .into_iter()
                .filter(|c| {
                    !confirmed
                        .iter()
                        .any(|k| k.site_id == c.site_id && k.product_id == c.product_id && k.close_day == c.close_day)
                })
                .collect();
            let names =
                staff_q::names(conn, &pending_closes.iter().map(|c| c.requested_by.clone()).collect::<Vec<_>>())?;
            Ok(StockPage {
                date,
                products,
                pending_entries: views(conn, &pending)?,
                transfers_out_in_transit: views(conn, &in_transit)?,
                transfers_arriving: views(conn, &arriving)?,
                pending_closes: pending_closes.iter().map(|c| close_view(c, None, &names)).collect(),
                outstanding_home_visits: outstanding_visits(conn, &site_id, date)?,
                close_tolerance_ml: tolerance.ml(),
                site_id,
            })
        })
        .await
}

/// Home-visit doses of a site checked out on or before `date` that were neither delivered
/// nor returned.
pub fn outstanding_visits(conn: &mut DbConn, site_id: &str, date: NaiveDate) -> AppResult<Vec<OutstandingVisit>> {
    let steps = visits_q::steps_at_site_since(conn, site_id, date - Duration::days(62))?;
    let mut by_visit: HashMap<String, Vec<&crate::db::home_visits::StepRow>> = HashMap::new();
    for s in steps.iter().filter(|s| s.visit_day <= date) {
        by_visit.entry(s.visit_id.clone()).or_default().push(s);
    }
    let mut out: Vec<OutstandingVisit> = by_visit
        .into_iter()
        .filter_map(|(id, steps)| {
            let facts = VisitFacts::of(&steps.iter().map(|s| (s.step, s.outcome)).collect::<Vec<_>>());
            let first = steps.first()?;
            facts.dose_outstanding().then(|| OutstandingVisit {
                visit_id: id,
                patient_id: first.patient_id.clone(),
                visit_day: first.visit_day,
            })
        })
        .collect();
    out.sort_by(|a, b| (a.visit_day, &a.visit_id).cmp(&(b.visit_day, &b.visit_id)));
    Ok(out)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub product_id: String,
    /// The volume counted on the shelf, mL.
    pub counted_ml: f64,
    /// Required when the gap exceeds the tolerance or the balance went below zero.
    pub incident_note: Option<String>,
}

fn refuse_outstanding(conn: &mut DbConn, site_id: &str, date: NaiveDate) -> AppResult<()> {
    let outstanding = outstanding_visits(conn, site_id, date)?;
    if !outstanding.is_empty() {
        return Err(AppError::from(
            RuleViolation::new(
                ErrorCode::HomeVisitDoseOutstanding,
                format!(
                    "{} home-visit dose(s) were checked out and neither delivered nor returned to stock. Record each \
                     visit's outcome and return undelivered doses (two nurses) before closing the day.",
                    outstanding.len()
                ),
            )
            .with_details(json!({"visits": outstanding.iter().map(|v| &v.visit_id).collect::<Vec<_>>()})),
        ));
    }
    Ok(())
}

/// A nurse counts the shelf and asks to close the day; a second nurse confirms.
pub async fn request_close(
    state: &AppState,
    actor: &Actor,
    site_id: String,
    req: CloseRequest,
) -> AppResult<CloseView> {
    actor.require(&[Role::Nurse])?;
    require_site(actor, &site_id)?;
    let today = state.today();
    check_date("date", req.date, Window::new(today - Duration::days(31), today))?;
    let counted = CentiMl::parse_ml(req.counted_ml).map_err(|m| AppError::invalid_field("counted_ml", m))?;
    if counted.0 < 0 {
        return Err(AppError::invalid_field("counted_ml", "a count is 0 or more"));
    }
    let note = clean_optional("incident_note", req.incident_note.as_deref(), 1000)?;
    let tz = state.config.timezone;
    let tolerance = CentiMl(i64::from(state.config.rules.day_close_tolerance_deci_ml) * 10);
    let actor = actor.clone();
    state
        .write(move |tx| {
            sites_q::find(tx.conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let ledger = load_ledger(tx.conn, &site_id, &req.product_id, req.date, req.date, tz)?;
            let s = ledger.day(req.date);
            if s.closed.is_some() {
                return Err(AppError::new(
                    ErrorCode::DayClosed,
                    format!("{} is already closed for this product.", req.date),
                ));
            }
            refuse_outstanding(tx.conn, &site_id, req.date)?;
            check_close(s.expected, counted, s.went_negative, note.is_some(), tolerance)?;
            let row = CloseRow {
                id: db::new_id(),
                site_id: site_id.clone(),
                product_id: req.product_id.clone(),
                close_day: req.date,
                counted_cml: i32::try_from(counted.0)
                    .map_err(|_| AppError::invalid_field("counted_ml", "is not plausible"))?,
                expected_cml: i32::try_from(s.expected.0).map_err(AppError::internal)?,
                incident_note: note,
                requested_by: actor.staff_id.clone(),
                requested_at: tx.now.naive_utc(),
            };
            q::insert_close(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "stock.close_request",
                "day_close",
                Some(&row.id),
                format!("day close of {} requested (gap {} mL)", row.close_day, (counted - s.expected).text()),
            );
            let names = staff_q::names(tx.conn, std::slice::from_ref(&row.requested_by))?;
            Ok(close_view(&row, None, &names))
        })
        .await
}

pub async fn confirm_close(state: &AppState, actor: &Actor, site_id: String, close_id: String) -> AppResult<CloseView> {
    actor.require(&[Role::Nurse])?;
    require_site(actor, &site_id)?;
    let tz = state.config.timezone;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let close = q::find_close(tx.conn, &close_id)?.filter(|c| c.site_id == site_id).ok_or_else(AppError::not_found)?;
            check_second_person(&close.requested_by, &actor.staff_id, "day close")?;
            let ledger = load_ledger(tx.conn, &site_id, &close.product_id, close.close_day, close.close_day, tz)?;
            let s = ledger.day(close.close_day);
            if s.closed.is_some() {
                return Err(AppError::new(ErrorCode::DayClosed, format!("{} is already closed for this product.", close.close_day)));
            }
            refuse_outstanding(tx.conn, &site_id, close.close_day)?;
            if s.expected.0 != i64::from(close.expected_cml) {
                return Err(AppError::validation(format!(
                    "The ledger changed since this count (expected now {} mL, then {} mL): count again and request a new \
                     close.",
                    s.expected.text(),
                    CentiMl(i64::from(close.expected_cml)).text()
                )));
            }
            let row = CloseConfirmationRow {
                close_id: close.id.clone(),
                site_id: site_id.clone(),
                product_id: close.product_id.clone(),
                close_day: close.close_day,
                counted_cml: close.counted_cml,
                expected_cml: close.expected_cml,
                confirmed_by: actor.staff_id.clone(),
                confirmed_at: tx.now.naive_utc(),
            };
            match q::insert_close_confirmation(tx.conn, &mut tx.written, &row) {
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(ErrorCode::DayClosed, "This day was just closed by another confirmation."))
                }
                other => other?,
            }
            tx.audit(Some(&actor.staff_id), "stock.close_confirm", "day_close", Some(&close.id), format!("day {} closed", close.close_day));
            let names = staff_q::names(tx.conn, &[close.requested_by.clone(), actor.staff_id.clone()])?;
            Ok(close_view(&close, Some(&row), &names))
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    pub product_id: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub to: Option<NaiveDate>,
}

/// A ledger line as printed: when, what, in, out, the balance after it, both staff.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerRow {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
    pub kind: LineKind,
    pub detail: String,
    pub in_ml: f64,
    pub out_ml: f64,
    pub balance_ml: f64,
    pub entered_by_name: Option<String>,
    pub confirmed_by_name: Option<String>,
}

/// The ledger of a site and product over a period, line by line, with each day's summary.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerView {
    pub site_id: String,
    pub site_name: String,
    pub product: ProductView,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_ml: f64,
    pub closing_ml: f64,
    pub rows: Vec<LedgerRow>,
    pub days: Vec<StockDay>,
}

/// The printed ledger: the typed entries and the derived lines (dispensed per day, each
/// home-visit movement), in booking order, with the running balance.
pub async fn ledger(state: &AppState, actor: &Actor, site_id: String, q_: LedgerQuery) -> AppResult<LedgerView> {
    actor.require(&[Role::Nurse, Role::Admin])?;
    if actor.role != Role::Admin {
        require_site(actor, &site_id)?;
    }
    let today = state.today();
    let (from, to) = super::day_range(q_.from, q_.to, today, 31, 370)?;
    let tz = state.config.timezone;
    let now = state.now();
    state.read(move |conn| ledger_in(conn, &site_id, q_.product_id, from, to, tz, now)).await
}

pub fn ledger_in(
    conn: &mut DbConn,
    site_id: &str,
    product_id: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
) -> AppResult<LedgerView> {
    let site = sites_q::find(conn, site_id)?.ok_or_else(AppError::not_found)?;
    let product_id = match product_id {
        Some(p) => p,
        None => dispensing_product(conn, site_id, now)?.0.id,
    };
    let ledger = load_ledger(conn, site_id, &product_id, from, to, tz)?;
    let days = ledger.days(from, to);
    // Typed entries with both names, for the lines.
    let entries = q::entries_of_site(conn, site_id, None)?;
    let mut staff: Vec<String> = entries.iter().map(|(e, _)| e.entered_by.clone()).collect();
    staff.extend(entries.iter().filter_map(|(_, c)| c.as_ref().map(|c| c.confirmed_by.clone())));
    let sites = sites_q::names(conn)?;
    let steps = visits_q::steps_at_site_since(conn, site_id, from - Duration::days(1))?;
    staff.extend(steps.iter().map(|s| s.staff_id.clone()));
    let closes = q::confirmed_closes(conn, site_id)?;
    let close_rows: Vec<CloseRow> =
        closes.iter().filter_map(|c| q::find_close(conn, &c.close_id).ok().flatten()).collect();
    staff.extend(close_rows.iter().map(|c| c.requested_by.clone()));
    staff.extend(closes.iter().map(|c| c.confirmed_by.clone()));
    let names = staff_q::names(conn, &staff)?;
    let mut rows = Vec::new();
    let opening = days.first().map_or(ledger.opening, |(_, s)| s.opening);
    let mut balance = opening;
    for (day, s) in &days {
        let mut day_rows: Vec<LedgerRow> = Vec::new();
        let booked = |l: &LedgerLine| crate::domain::stock::booking_day(l.day, l.at, &ledger.closes) == *day;
        // Typed entries.
        for (e, c) in &entries {
            let Some(c) = c else { continue };
            if e.product_id != product_id {
                continue;
            }
            let line = LedgerLine {
                kind: line_kind(e.kind),
                day: local_day(c.confirmed_at, tz),
                at: c.confirmed_at.and_utc(),
                change: CentiMl(i64::from(e.centi_ml)),
            };
            if !booked(&line) {
                continue;
            }
            let mut detail = e.reason.clone();
            if let Some(lot) = &e.lot {
                detail = format!("批号 {lot} · {detail}");
            }
            if let Some(s) = &e.supplier {
                detail = format!("{s} · {detail}");
            }
            if let Some(cp) = e.counterpart_site_id.as_ref().and_then(|id| sites.get(id)) {
                detail = format!("{cp} · {detail}");
            }
            day_rows.push(ledger_row(
                *day,
                &line,
                detail,
                names.get(&e.entered_by).cloned(),
                names.get(&c.confirmed_by).cloned(),
            ));
        }
        // Home-visit check-outs and returns.
        for st in &steps {
            if st.product_id.as_deref() != Some(product_id.as_str()) {
                continue;
            }
            let (kind, change) = match st.step {
                Step::CheckoutConfirm => (LineKind::HomeVisitOut, -CentiMl(i64::from(st.centi_ml.unwrap_or(0)))),
                Step::ReturnConfirm => (LineKind::HomeVisitReturn, CentiMl(i64::from(st.centi_ml.unwrap_or(0)))),
                _ => continue,
            };
            let line = LedgerLine { kind, day: local_day(st.at, tz), at: st.at.and_utc(), change };
            if !booked(&line) {
                continue;
            }
            let first = steps
                .iter()
                .find(|x| {
                    x.visit_id == st.visit_id
                        && x.step == if kind == LineKind::HomeVisitOut { Step::Checkout } else { Step::Return }
                })
                .map(|x| x.staff_id.clone());
            day_rows.push(ledger_row(
                *day,
                &line,
                format!("{} mg", DeciMg(i64::from(st.deci_mg.unwrap_or(0))).text()),
                first.and_then(|f| names.get(&f).cloned()),
                names.get(&st.staff_id).cloned(),
            ));
        }
        // The window's doses: one line for the day.
        if s.dispensed.0 != 0 {
            let at = ledger
                .lines
                .iter()
                .filter(|l| l.kind == LineKind::Dispensed && booked(l))
                .map(|l| l.at)
                .max()
                .unwrap_or(now);
            let n = ledger.lines.iter().filter(|l| l.kind == LineKind::Dispensed && booked(l)).count();
            let line = LedgerLine { kind: LineKind::Dispensed, day: *day, at, change: -s.dispensed };
            day_rows.push(ledger_row(*day, &line, format!("发药 {n} 人次"), None, None));
        }
        day_rows.sort_by_key(|r| r.at);
        for r in &mut day_rows {
            balance = balance + CentiMl::parse_ml(r.in_ml).unwrap_or_default()
                - CentiMl::parse_ml(r.out_ml).unwrap_or_default();
            r.balance_ml = balance.ml();
        }
        rows.extend(day_rows);
        if let Some(c) = &s.closed {
            let diff = c.counted - s.expected;
            let cr = closes.iter().find(|k| k.close_day == *day && k.product_id == product_id);
            let req = cr.and_then(|k| close_rows.iter().find(|r| r.id == k.close_id));
            balance = c.counted;
            rows.push(LedgerRow {
                date: *day,
                at: cr.map_or(now, |k| k.confirmed_at.and_utc()),
                kind: LineKind::CloseDifference,
                detail: match req.and_then(|r| r.incident_note.clone()) {
                    Some(note) => format!("盘点 {} mL (账面 {} mL) · {note}", c.counted.text(), s.expected.text()),
                    None => format!("盘点 {} mL (账面 {} mL)", c.counted.text(), s.expected.text()),
                },
                in_ml: if diff.0 > 0 { diff.ml() } else { 0.0 },
                out_ml: if diff.0 < 0 { (-diff).ml() } else { 0.0 },
                balance_ml: balance.ml(),
                entered_by_name: req.and_then(|r| names.get(&r.requested_by).cloned()),
                confirmed_by_name: cr.and_then(|k| names.get(&k.confirmed_by).cloned()),
            });
        }
    }
    let current = Catalogue::load(conn, site_id)?.product_at(now).map(|p| p.id.clone());
    Ok(LedgerView {
        site_id: site_id.to_string(),
        site_name: site.name,
        product: ProductView::of(&ledger.product),
        from,
        to,
        opening_ml: opening.ml(),
        closing_ml: balance.ml(),
        rows,
        days: days
            .iter()
            .map(|(d, s)| stock_day(*d, s, &ledger.product, current.as_deref() == Some(product_id.as_str())))
            .collect(),
    })
}

fn ledger_row(
    day: NaiveDate,
    l: &LedgerLine,
    detail: String,
    by: Option<String>,
    confirmed: Option<String>,
) -> LedgerRow {
    LedgerRow {
        date: day,
        at: l.at,
        kind: l.kind,
        detail,
        in_ml: if l.change.0 > 0 { l.change.ml() } else { 0.0 },
        out_ml: if l.change.0 < 0 { (-l.change).ml() } else { 0.0 },
        balance_ml: 0.0,
        entered_by_name: by,
        confirmed_by_name: confirmed,
    }
}

/// What the day's dispensing register prints of the ledger: the product the site dispensed
/// that day, the lot(s) in use (the latest confirmed receipt or transfer in up to that day),
/// and the day's stock lines.
pub struct RegisterStock {
    pub product: ProductRow,
    pub lot: Option<String>,
    pub day: DaySummary,
}

pub fn register_stock(
    conn: &mut DbConn,
    site_id: &str,
    date: NaiveDate,
    tz: Tz,
    end_of_day: DateTime<Utc>,
) -> AppResult<Option<RegisterStock>> {
    let Some(product) = Catalogue::load(conn, site_id)?.product_at(end_of_day).cloned() else {
        return Ok(None);
    };
    let ledger = load_ledger(conn, site_id, &product.id, date, date, tz)?;
    let day = ledger.day(date);
    let lot = q::entries_of_site(conn, site_id, None)?
        .into_iter()
        .filter(|(e, c)| {
            e.product_id == product.id
                && matches!(e.kind, EntryKind::Receipt | EntryKind::TransferIn)
                && e.lot.is_some()
                && c.as_ref().is_some_and(|c| c.confirmed_at.and_utc() <= end_of_day)
        })
        .filter_map(|(e, _)| e.lot)
        .next_back();
    Ok(Some(RegisterStock { product, lot, day }))
}

fn line_label(k: LineKind) -> &'static str {
    match k {
        LineKind::Receipt => "入库",
        LineKind::TransferIn => "调入",
        LineKind::TransferOut => "调出",
        LineKind::Dispensed => "窗口发药",
        LineKind::HomeVisitOut => "上门出库",
        LineKind::HomeVisitReturn => "上门退回",
        LineKind::Waste => "损耗",
        LineKind::Adjustment => "调整",
        LineKind::Reversal => "冲正",
        LineKind::CloseDifference => "日结盘点",
    }
}

fn cml(ml: f64) -> i64 {
    (ml * 100.0).round() as i64
}

/// The stock-ledger PDF of a site and product (the site's dispensing product by default).
pub async fn ledger_pdf(state: &AppState, actor: &Actor, site_id: String, q_: LedgerQuery) -> AppResult<Vec<u8>> {
    actor.require(&[Role::Nurse, Role::Admin])?;
    if actor.role != Role::Admin {
        require_site(actor, &site_id)?;
    }
    let today = state.today();
    let (from, to) = super::day_range(q_.from, q_.to, today, 31, 370)?;
    let tz = state.config.timezone;
    let now = state.now();
    let printed_at = now.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let printed_by = actor.display_name.clone();
    let data = state
        .read(move |conn| {
            let view = ledger_in(conn, &site_id, q_.product_id, from, to, tz, now)?;
            let site = sites_q::find(conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let clinic = sites_q::list(conn)?
                .into_iter()
                .find(|s| s.kind == crate::domain::sites::SiteKind::Clinic)
                .map_or_else(|| "美沙酮维持治疗门诊".to_string(), |s| s.name);
            Ok(crate::reports::stock_ledger::LedgerData {
                clinic_name: clinic,
                site_name: site.name,
                site_code: site.code,
                product_label: format!("{} {}", view.product.name, view.product.concentration_label),
                from,
                to,
                opening_cml: cml(view.opening_ml),
                closing_cml: cml(view.closing_ml),
                lines: view
                    .rows
                    .iter()
                    .map(|r| crate::reports::stock_ledger::LedgerLine {
                        date: r.date,
                        time: r.at.with_timezone(&tz).format("%H:%M").to_string(),
                        entry: line_label(r.kind).to_string(),
                        detail: r.detail.clone(),
                        in_cml: cml(r.in_ml),
                        out_cml: cml(r.out_ml),
                        balance_cml: cml(r.balance_ml),
                        entered_by: r.entered_by_name.clone().unwrap_or_default(),
                        confirmed_by: r.confirmed_by_name.clone().unwrap_or_default(),
                    })
                    .collect(),
                printed_at,
                printed_by,
            })
        })
        .await?;
    let pdf = tokio::task::spawn_blocking(move || crate::reports::stock_ledger::stock_ledger_pdf(&data)).await?;
    pdf.map_err(AppError::internal)
}
