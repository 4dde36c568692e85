//! Patients: enrolment with a validated resident id, search, status, photo, and the
//! arrangements around dosing (guest dosing, excused absences).

use crate::domain::rehab::BasisKind;
use crate::error::ErrorCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::dispensing::{covering, covers};
use super::validation::{clean_optional, clean_text};
use super::{check_date, scope, sweep, Actor, AppState, Tx};
use crate::db::doses::{self as doses_q, AbsenceRow, GuestDosingRow, ReleaseRow};
use crate::db::patients::{self as q, PatientRow, SearchScope, StatusChangeRow};
use crate::db::{self, sites as sites_q, DbConn};
use crate::domain::dates::{self, Window};
use crate::domain::dispensing::PatientStatus;
use crate::domain::offline::{release, sheets_fixed_at, ReleaseRefusal};
use crate::domain::rehab::Basis;
use crate::domain::resident_id;
use crate::domain::staff::Role;
use crate::domain::RuleViolation;
use crate::error::{AppError, AppResult};
use serde_json::json;

pub const PHOTO_LIMIT: usize = 2 * 1024 * 1024;

pub use crate::domain::patients::{AbsenceReason, Sex};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    pub name: String,
    /// 18-character PRC resident identity number; its check digit is validated.
    pub id_number: String,
    pub sex: Sex,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub township: String,
    pub home_site_id: String,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub enrolled_on: NaiveDate,
    /// 1, 2 or 3 (the county's supervision level).
    pub risk_level: u8,
    pub consent_to_share: bool,
}

/// A patient as clinical staff see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PatientView {
    pub id: String,
    pub patient_no: String,
    pub name: String,
    pub id_number: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub township: String,
    pub home_site_id: String,
    pub enrolled_on: NaiveDate,
    pub risk_level: i32,
    pub consent_to_share: bool,
    pub status: PatientStatus,
    pub has_photo: bool,
    pub created_at: DateTime<Utc>,
}

/// A search hit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PatientSummary {
    pub id: String,
    pub patient_no: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub home_site_id: String,
    pub township: String,
    pub status: PatientStatus,
    pub has_photo: bool,
    /// The last four characters of the id number, to tell namesakes apart.
    pub id_number_tail: String,
}

fn view(row: PatientRow, has_photo: bool) -> PatientView {
    PatientView {
        id: row.id,
        patient_no: row.patient_no,
        name: row.name,
        id_number: row.id_number,
        sex: row.sex,
        birth_date: row.birth_date,
        phone: row.phone,
        address: row.address,
        township: row.township,
        home_site_id: row.home_site_id,
        enrolled_on: row.enrolled_on,
        risk_level: row.risk_level,
        consent_to_share: row.consent_to_share,
        status: row.status,
        has_photo,
        created_at: row.created_at.and_utc(),
    }
}

fn summary(row: PatientRow, has_photo: bool) -> PatientSummary {
    let tail: String = row.id_number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    PatientSummary {
        id: row.id,
        patient_no: row.patient_no,
        name: row.name,
        sex: row.sex,
        birth_date: row.birth_date,
        home_site_id: row.home_site_id,
        township: row.township,
        status: row.status,
        has_photo,
        id_number_tail: tail,
    }
}

/// Loads a patient for a clinical use (orders, doses, photos, ...), or answers 404.
/// Clinical staff and admins see every patient of the network. Rehab workers never reach
/// a patient's clinical record: the few views open to them go through
/// [`scope::load_in_scope`], which checks their scope and returns the basis to disclose.
pub fn load_visible(conn: &mut DbConn, actor: &Actor, id: &str) -> AppResult<PatientRow> {
    visible(q::find(conn, id)?, actor)
}

/// As [`load_visible`], the record held against a concurrent change until the transaction
/// ends ([`q::find_for_write`]): for a dose decided on it.
pub fn load_visible_for_write(conn: &mut DbConn, actor: &Actor, id: &str) -> AppResult<PatientRow> {
    visible(q::find_for_write(conn, id)?, actor)
}

fn visible(patient: Option<PatientRow>, actor: &Actor) -> AppResult<PatientRow> {
    match patient {
        Some(p) if actor.role != Role::RehabWorker => Ok(p),
        _ => Err(AppError::not_found()),
    }
}

pub async fn enrol(state: &AppState, actor: &Actor, new: NewPatient) -> AppResult<PatientView> {
    actor.require(&[Role::Doctor, Role::Admin])?;
    let actor_id = actor.staff_id.clone();
    let today = state.today();
    state.write(move |tx| enrol_in(tx, &actor_id, new, today).map(|row| view(row, false))).await
}

/// Enrols a patient inside a write transaction: every check of the enrolment, then the row
/// and its audit entry (also used by the demo network).
pub fn enrol_in(tx: &mut Tx<'_>, actor_id: &str, new: NewPatient, today: NaiveDate) -> AppResult<PatientRow> {
    let name = clean_text("name", &new.name, 40)?;
    let rid = resident_id::parse(&new.id_number).map_err(|m| AppError::invalid_field("id_number", m))?;
    if rid.birth_date != new.birth_date {
        return Err(AppError::invalid_field("birth_date", "does not match the birth date inside the id number"));
    }
    if rid.male != (new.sex == Sex::M) {
        return Err(AppError::invalid_field("sex", "does not match the id number"));
    }
    let township = clean_text("township", &new.township, 40)?;
    let phone = clean_optional("phone", new.phone.as_deref(), 20)?;
    if phone.as_deref().is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))) {
        return Err(AppError::invalid_field("phone", "may contain only digits, '+', '-' and spaces"));
    }
    let address = clean_optional("address", new.address.as_deref(), 200)?;
    if !(1..=3).contains(&new.risk_level) {
        return Err(AppError::invalid_field("risk_level", "must be 1, 2 or 3"));
    }
    check_date("birth_date", new.birth_date, Window::past(dates::EARLIEST, today))?;
    check_date("enrolled_on", new.enrolled_on, Window::past(new.birth_date, today))?;
    match sites_q::find(tx.conn, &new.home_site_id)? {
        Some(site) if site.active => {}
        _ => return Err(AppError::invalid_field("home_site_id", "no active site has this id")),
    }
    if q::find_by_id_number(tx.conn, &rid.number)?.is_some() {
        return Err(AppError::new(
            ErrorCode::DuplicatePatient,
            "A patient with this id number is already enrolled. Search for them instead.",
        ));
    }
    let now = tx.now.naive_utc();
    let row = PatientRow {
        id: db::new_id(),
        patient_no: q::next_patient_no(tx.conn)?.to_string(),
        name,
        id_number_rev: rid.number.chars().rev().collect(),
        id_number: rid.number,
        sex: new.sex,
        birth_date: new.birth_date,
        phone,
        address,
        township,
        home_site_id: new.home_site_id.clone(),
        enrolled_on: new.enrolled_on,
        risk_level: i32::from(new.risk_level),
        consent_to_share: new.consent_to_share,
        status: PatientStatus::Active,
        created_at: now,
        updated_at: now,
    };
    match q::insert(tx.conn, &row) {
        Err(e) if db::is_unique_violation(&e) => {
            return Err(AppError::new(
                ErrorCode::DuplicatePatient,
                "A patient with this id number is already enrolled.",
            ))
        }
        other => other?,
    }
    tx.audit(
        Some(actor_id),
        "patient.enrol",
        "patient",
        Some(&row.id),
        format!("patient {} enrolled (risk level {})", row.patient_no, row.risk_level),
    );
    Ok(row)
}

pub async fn search(state: &AppState, actor: &Actor, q: String) -> AppResult<Vec<PatientSummary>> {
    let actor_for_log = actor.clone();
    let actor = actor.clone();
    if q.trim().is_empty() {
        return Ok(Vec::new());
    }
    if q.chars().count() > 40 {
        return Err(AppError::invalid_field("q", "must be at most 40 characters"));
    }
    let today = state.today();
    let rules = state.config.rules.clone();
    let (hits, seen) = state
        .read(move |conn| {
            let visible = match actor.role {
                Role::RehabWorker => Some(scope::worker_patients(conn, &actor, today, &rules)?),
                _ => None,
            };
            let ids: Option<Vec<String>> = visible.as_ref().map(|v| v.keys().cloned().collect());
            let search_scope = match &ids {
                Some(ids) => SearchScope::Only(ids),
                None => SearchScope::All,
            };
            let rows = q::search(conn, &q, &search_scope, 50)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let photos = q::with_photos(conn, &ids)?;
            let seen: Vec<(String, Basis)> = match &visible {
                Some(v) => rows.iter().filter_map(|r| v.get(&r.id).map(|b| (r.id.clone(), b.clone()))).collect(),
                None => Vec::new(),
            };
            let hits: Vec<PatientSummary> = rows
                .into_iter()
                .map(|r| {
                    let has = photos.contains(&r.id) && visible.is_none();
                    summary(r, has)
                })
                .collect();
            Ok((hits, seen))
        })
        .await?;
    scope::disclose(state, &actor_for_log, seen, "search").await?;
    Ok(hits)
}

/// A patient as each role may see them: the whole record for clinical staff and admins;
/// for rehab workers only who the person is and where they are treated (no contact
/// details, no clinical fields).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum PatientDetail {
    Clinical(PatientView),
    Rehab(RehabPatientView),
}

/// What a rehab worker sees of a patient.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RehabPatientView {
    pub id: String,
    pub patient_no: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub township: String,
    pub home_site_id: String,
    pub enrolled_on: NaiveDate,
    pub status: PatientStatus,
    /// Why this worker may see the patient: `rehab_case` or `consent`.
    pub basis: BasisKind,
}

pub async fn get(state: &AppState, actor: &Actor, id: String) -> AppResult<PatientDetail> {
    let today = state.today();
    let rules = state.config.rules.clone();
    let reader = actor.clone();
    let (detail, basis) = state
        .read(move |conn| {
            let (row, basis) = scope::load_in_scope(conn, &reader, &id, today, &rules)?;
            if let Some(basis) = basis {
                let view = RehabPatientView {
                    basis: basis.kind(),
                    id: row.id.clone(),
                    patient_no: row.patient_no,
                    name: row.name,
                    sex: row.sex,
                    birth_date: row.birth_date,
                    township: row.township,
                    home_site_id: row.home_site_id,
                    enrolled_on: row.enrolled_on,
                    status: row.status,
                };
                return Ok((PatientDetail::Rehab(view), Some((row.id, basis))));
            }
            let has = !q::with_photos(conn, std::slice::from_ref(&row.id))?.is_empty();
            Ok((PatientDetail::Clinical(view(row, has)), None))
        })
        .await?;
    scope::disclose(state, actor, basis.into_iter().collect(), "patient").await?;
    Ok(detail)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `active`, `suspended`, `discharged` or `deceased` (dropout is set by the sweep).
    pub status: String,
    pub reason: String,
}

pub async fn set_status(state: &AppState, actor: &Actor, id: String, change: StatusChange) -> AppResult<PatientView> {
    actor.require(&[Role::Doctor])?;
    let actor = actor.clone();
    let today = state.today();
    let rules = state.config.rules.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &id)?;
            let to = match PatientStatus::parse(&change.status) {
                Some(s) if s != PatientStatus::DroppedOut => s,
                _ => {
                    return Err(AppError::invalid_field("status", "must be active, suspended, discharged or deceased"))
                }
            };
            let reason = clean_text("reason", &change.reason, 200)?;
            if patient.status == to {
                return Err(AppError::invalid_field("status", "the patient already has this status"));
            }
            if patient.status == PatientStatus::Deceased {
                return Err(AppError::validation("A deceased patient's status cannot change."));
            }
            q::set_status(
                tx.conn,
                &mut tx.written,
                &StatusChangeRow {
                    id: db::new_id(),
                    patient_id: patient.id.clone(),
                    from_status: patient.status,
                    to_status: to,
                    reason,
                    changed_by: Some(actor.staff_id.clone()),
                    changed_at: tx.now.naive_utc(),
                },
            )?;
            tx.audit(
                Some(&actor.staff_id),
                "patient.status",
                "patient",
                Some(&patient.id),
                format!("patient {} status {} -> {}", patient.patient_no, patient.status, to.as_str()),
            );
            // Re-entry ends a dropout alert; discharge ends missed-dose alerts.
            sweep::sweep_one(tx, &patient.id, today, &rules)?;
            let row = q::find(tx.conn, &patient.id)?.ok_or_else(AppError::not_found)?;
            let has = !q::with_photos(tx.conn, std::slice::from_ref(&row.id))?.is_empty();
            Ok(view(row, has))
        })
        .await
}

/// Recognizes a JPEG or PNG by its header and reads its size: (mime, width, height).
pub fn sniff_image(bytes: &[u8]) -> Result<(&'static str, u32, u32), &'static str> {
    if bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR" {
        let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        return Ok(("image/png", w, h));
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        // Walk the JPEG segments to the first start-of-frame marker.
        let mut i = 2;
        while i + 9 < bytes.len() {
            if bytes[i] != 0xFF {
                return Err("the JPEG data is damaged");
            }
            let marker = bytes[i + 1];
            let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if is_sof {
                let h = u32::from(u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]));
                let w = u32::from(u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]));
                return Ok(("image/jpeg", w, h));
            }
            i += 2 + len;
        }
        return Err("the JPEG data has no image frame");
    }
    Err("only JPEG and PNG images are accepted")
}

pub async fn upload_photo(state: &AppState, actor: &Actor, id: String, bytes: Vec<u8>) -> AppResult<()> {
    actor.require(&[Role::Doctor, Role::Nurse, Role::Admin])?;
    if bytes.len() > PHOTO_LIMIT {
        return Err(AppError::payload_too_large());
    }
    let (mime, w, h) = sniff_image(&bytes).map_err(|m| AppError::invalid_field("photo", m))?;
    if !(32..=10_000).contains(&w) || !(32..=10_000).contains(&h) {
        return Err(AppError::invalid_field("photo", "the image must be between 32 and 10000 pixels on each side"));
    }
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &id)?;
            q::insert_photo(
                tx.conn,
                &mut tx.written,
                &q::PhotoRow {
                    id: db::new_id(),
                    patient_id: patient.id.clone(),
                    mime: mime.to_string(),
                    data: bytes,
                    uploaded_by: actor.staff_id.clone(),
                    uploaded_at: tx.now.naive_utc(),
                },
            )?;
            tx.audit(
                Some(&actor.staff_id),
                "patient.photo",
                "patient",
                Some(&patient.id),
                format!("photo of patient {} uploaded ({mime}, {w}x{h})", patient.patient_no),
            );
            Ok(())
        })
        .await
}

pub async fn photo(state: &AppState, actor: &Actor, id: String) -> AppResult<(String, Vec<u8>)> {
    actor.require(&[Role::Doctor, Role::Nurse, Role::Admin])?;
    let actor = actor.clone();
    state
        .read(move |conn| {
            let patient = load_visible(conn, &actor, &id)?;
            q::latest_photo(conn, &patient.id)?.ok_or_else(AppError::not_found)
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGuestDosing {
    pub site_id: String,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub to: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Arrangement {
    pub id: String,
    pub patient_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: String,
    /// For guest dosing: the site.
    pub site_id: Option<String>,
    /// For guest dosing arranged after the sheets of its first day were out (the evening
    /// before): the site holding that day, which must release it before the patient doses
    /// here. `null` once released, or when no release is needed.
    pub awaiting_release_from: Option<String>,
    /// When the holding site released the day (guest dosing).
    pub released_at: Option<DateTime<Utc>>,
}

/// An arrangement (guest dosing, an excused absence) lies within a year back and at most
/// [`dates::PLAN_AHEAD_DAYS`] ahead.
fn check_range(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> AppResult<()> {
    let window = Window::around(today, dates::DAY_VIEW_DAYS, dates::PLAN_AHEAD_DAYS);
    check_date("from", from, window)?;
    check_date("to", to, window)?;
    if to < from {
        return Err(AppError::invalid_field("to", "must not be before from"));
    }
    if (to - from).num_days() > 366 {
        return Err(AppError::invalid_field("to", "an arrangement may last at most a year"));
    }
    Ok(())
}

pub async fn add_guest_dosing(
    state: &AppState,
    actor: &Actor,
    id: String,
    new: NewGuestDosing,
) -> AppResult<Arrangement> {
    actor.require(&[Role::Doctor, Role::Admin])?;
    let today = state.today();
    let zone = state.config.timezone;
    check_range(new.from, new.to, today)?;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &id)?;
            let reason = clean_text("reason", &new.reason, 200)?;
            let site = match sites_q::find(tx.conn, &new.site_id)? {
                Some(s) if s.active => s,
                _ => return Err(AppError::invalid_field("site_id", "no active site has this id")),
            };
            if site.id == patient.home_site_id {
                return Err(AppError::invalid_field("site_id", "this is the patient's own site"));
            }
            let row = GuestDosingRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                site_id: site.id.clone(),
                from_date: new.from,
                to_date: new.to,
                reason: reason.clone(),
                created_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            doses_q::insert_guest_dosing(tx.conn, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "patient.guest_dosing",
                "patient",
                Some(&patient.id),
                format!("patient {} may dose at {} from {} to {}", patient.patient_no, site.code, new.from, new.to),
            );
            let awaiting_release_from = awaiting_release(tx.conn, &patient, &row, today, zone)?;
            Ok(Arrangement { awaiting_release_from, ..guest_view(row, None) })
        })
        .await
}

/// The day of an arrangement a release concerns (its first day ahead, today at the
/// earliest; none once its days have passed), and the verdict on its release by a nurse of
/// `nurse_sites` (see [`release`]).
fn release_verdict(
    conn: &mut DbConn,
    patient: &PatientRow,
    arrangement: &GuestDosingRow,
    today: NaiveDate,
    zone: chrono_tz::Tz,
    nurse_sites: &[String],
) -> AppResult<Option<(NaiveDate, Result<String, ReleaseRefusal>)>> {
    let day = arrangement.from_date.max(today);
    if day > arrangement.to_date {
        return Ok(None);
    }
    let (arrangements, released) = covering(conn, std::slice::from_ref(&patient.id), day)?;
    let mine: Vec<&GuestDosingRow> = arrangements.iter().collect();
    let Some(target) = mine.iter().position(|g| g.id == arrangement.id) else { return Ok(None) };
    let verdict =
        release(&patient.home_site_id, &covers(&mine, &released), sheets_fixed_at(day, zone), target, nurse_sites);
    Ok(Some((day, verdict.map(str::to_owned))))
}

/// The site that must release an arrangement's first day ahead, if it waits for a release.
fn awaiting_release(
    conn: &mut DbConn,
    patient: &PatientRow,
    arrangement: &GuestDosingRow,
    today: NaiveDate,
    zone: chrono_tz::Tz,
) -> AppResult<Option<String>> {
    Ok(match release_verdict(conn, patient, arrangement, today, zone, &[])? {
        Some((_, Err(ReleaseRefusal::NotTheHolder { holder }))) => Some(holder),
        _ => None,
    })
}

/// The site holding a patient's day releases it to a guest-dosing arrangement made after
/// the day's sheets were out (a nurse of that site, at its window: the site is online and
/// takes the patient off its day sheet). Releasing again answers the first release.
pub async fn release_guest_dosing(
    state: &AppState,
    actor: &Actor,
    patient_id: String,
    arrangement_id: String,
) -> AppResult<Arrangement> {
    actor.require(&[Role::Nurse])?;
    let today = state.today();
    let zone = state.config.timezone;
    let (a, p) = (actor.clone(), patient_id.clone());
    let (arrangement, released) = state.read(move |conn| guest_arrangement(conn, &a, &p, &arrangement_id)).await?;
    if let Some(done) = released {
        return given_release(state, actor, arrangement, done).await;
    }
    let actor_c = actor.clone();
    let row = arrangement.clone();
    let written = state
        .write(move |tx| {
            let actor = actor_c;
            let patient = load_visible(tx.conn, &actor, &patient_id)?;
            let verdict = release_verdict(tx.conn, &patient, &row, today, zone, &actor.site_ids)?;
            let (day, holder) = match verdict {
                Some((day, Ok(holder))) => (day, holder),
                Some((_, Err(ReleaseRefusal::NotTheHolder { holder }))) => return Err(not_the_holder(tx.conn, &holder)?),
                Some((_, Err(ReleaseRefusal::LaterHolds))) => {
                    return Err(AppError::validation(
                        "A later arrangement holds the patient's day; this one cannot take it.",
                    ))
                }
                None | Some((_, Err(ReleaseRefusal::NotAwaiting))) => {
                    if doses_q::release_of(tx.conn, &row.id)?.is_some() {
                        return Err(AppError::new(ErrorCode::LostRace, "released meanwhile"));
                    }
                    return Err(AppError::validation(
                        "This arrangement needs no release: it was made before the day's sheets were out, or its days have passed.",
                    ));
                }
            };
            let release = ReleaseRow {
                arrangement_id: row.id.clone(),
                patient_id: patient.id.clone(),
                site_id: holder,
                released_by: actor.staff_id.clone(),
                released_at: tx.now.naive_utc(),
            };
            match doses_q::insert_release(tx.conn, &mut tx.written, &release) {
                Ok(()) => {}
                Err(e) if db::is_unique_violation(&e) => {
                    return Err(AppError::new(ErrorCode::LostRace, "another release won the race"))
                }
                Err(e) => return Err(e.into()),
            }
            tx.audit(
                Some(&actor.staff_id),
                "patient.guest_release",
                "patient",
                Some(&patient.id),
                format!("patient {}'s day {} released to another site", patient.patient_no, day),
            );
            Ok(release)
        })
        .await;
    match written {
        Ok(release) => Ok(guest_view(arrangement, Some(&release))),
        // Another nurse released it at the same moment: answer theirs.
        Err(e) if e.code == ErrorCode::LostRace => {
            let a = actor.clone();
            let (patient_id, id) = (arrangement.patient_id.clone(), arrangement.id.clone());
            let (arrangement, released) = state.read(move |conn| guest_arrangement(conn, &a, &patient_id, &id)).await?;
            let done = released.ok_or_else(|| AppError::internal("a lost release race without a release"))?;
            given_release(state, actor, arrangement, done).await
        }
        Err(e) => Err(e),
    }
}

/// A patient's guest-dosing arrangement (404 unless it is theirs and they are visible) and
/// its release, if given.
fn guest_arrangement(
    conn: &mut DbConn,
    actor: &Actor,
    patient_id: &str,
    id: &str,
) -> AppResult<(GuestDosingRow, Option<ReleaseRow>)> {
    let patient = load_visible(conn, actor, patient_id)?;
    match doses_q::find_guest_dosing(conn, id)? {
        Some(g) if g.patient_id == patient.id => {
            let released = doses_q::release_of(conn, &g.id)?;
            Ok((g, released))
        }
        _ => Err(AppError::not_found()),
    }
}

/// A release given before: shown to the releasing site's nurses only.
async fn given_release(
    state: &AppState,
    actor: &Actor,
    arrangement: GuestDosingRow,
    done: ReleaseRow,
) -> AppResult<Arrangement> {
    if actor.works_at(&done.site_id) {
        return Ok(guest_view(arrangement, Some(&done)));
    }
    let site = done.site_id.clone();
    Err(state.read(move |conn| not_the_holder(conn, &site)).await?)
}

/// 403 `site_not_allowed` naming the site that holds the day.
fn not_the_holder(conn: &mut DbConn, holder: &str) -> AppResult<AppError> {
    let v = RuleViolation::new(
        ErrorCode::SiteNotAllowed,
        "Only a nurse of the site holding the patient's day can release it.",
    )
    .with_details(json!({"site_id": holder}));
    Ok(super::dispensing::with_site_name(v, &sites_q::names(conn)?))
}

fn guest_view(row: GuestDosingRow, release: Option<&ReleaseRow>) -> Arrangement {
    Arrangement {
        id: row.id,
        patient_id: row.patient_id,
        from: row.from_date,
        to: row.to_date,
        reason: row.reason,
        site_id: Some(row.site_id),
        awaiting_release_from: None,
        released_at: release.map(|r| r.released_at.and_utc()),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAbsence {
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub to: NaiveDate,
    pub reason: AbsenceReason,
}

pub async fn add_absence(state: &AppState, actor: &Actor, id: String, new: NewAbsence) -> AppResult<Arrangement> {
    actor.require(&[Role::Doctor, Role::Nurse])?;
    check_range(new.from, new.to, state.today())?;
    let actor = actor.clone();
    state
        .write(move |tx: &mut Tx<'_>| {
            let patient = load_visible(tx.conn, &actor, &id)?;
            let row = AbsenceRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                from_date: new.from,
                to_date: new.to,
                reason: new.reason,
                created_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            doses_q::insert_absence(tx.conn, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "patient.absence",
                "patient",
                Some(&patient.id),
                format!("patient {} excused from {} to {} ({})", patient.patient_no, new.from, new.to, row.reason),
            );
            Ok(Arrangement {
                id: row.id,
                patient_id: patient.id,
                from: new.from,
                to: new.to,
                reason: row.reason.as_str().into(),
                site_id: None,
                awaiting_release_from: None,
                released_at: None,
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn png_and_jpeg_headers_are_recognized_with_their_size() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        assert_eq!(sniff_image(&png), Ok(("image/png", 640, 480)));

        // SOI, an APP0 segment of 16 bytes, then SOF0 with height 300 and width 200.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x00, 0xC8, 0x03]);
        jpeg.extend_from_slice(&[0; 12]);
        assert_eq!(sniff_image(&jpeg), Ok(("image/jpeg", 200, 300)));
    }

    #[test]
    fn other_files_are_refused() {
        assert!(sniff_image(b"GIF89a....................").is_err());
        assert!(sniff_image(b"%PDF-1.7").is_err());
        assert!(sniff_image(&[0xFF, 0xD8, 0xFF, 0x00]).is_err());
    }
}
