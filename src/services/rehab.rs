//! Community detox / rehab cases: creation by hand or from the rehab system's CSV export
//! (all or nothing), events (report, evasion, detention, release), the export of
//! attendance and alerts back to the rehab system, and the disclosure log.

use crate::domain::rehab::BasisKind;
use crate::error::ErrorCode;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::alerts::AlertView;
use super::dispensing::{attendance_days, AttendanceDay};
use super::scope::{self, case_states, CaseNow};
use super::sweep;
use super::validation::{clean_optional, clean_text};
use super::{day_range, Actor, AppState, Tx};
use crate::clock::local_midnight;
use crate::db::alerts::{self as alerts_q, ListFilter, StatusFilter};
use crate::db::patients::{self as patients_q, PatientRow};
use crate::db::rehab::{self as q, CaseEventRow, CaseRow, DisclosureFilter};
use crate::db::{self, staff as staff_q, DbConn};
use crate::domain::rehab::{
    case_date_problems, parse_case_row, Basis, CaseCsvRow, CaseEventKind, CaseKind, CaseStatus, RowError,
};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

/// Rows a CSV import may hold.
pub const IMPORT_MAX_ROWS: usize = 5000;
/// The columns of the rehab system's case export, in order.
pub const IMPORT_COLUMNS: [&str; 7] =
    ["case_ref", "id_number", "kind", "decision_date", "reported_on", "township", "worker_username"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: String,
    pub case_ref: Option<String>,
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub kind: CaseKind,
    pub decision_date: NaiveDate,
    pub reported_on: Option<NaiveDate>,
    /// Exactly three years after the report date.
    pub ends_on: Option<NaiveDate>,
    /// The last day to report without being overdue.
    pub report_due_by: NaiveDate,
    pub township: String,
    pub worker_id: String,
    pub worker_name: Option<String>,
    pub status: CaseStatus,
    /// Test refusals, evasions and an overdue report within the case.
    pub refusals: u32,
    /// Unresolved alerts of the patient.
    pub open_alerts: u32,
}

fn case_views(conn: &mut DbConn, cases: Vec<CaseNow>) -> AppResult<Vec<CaseView>> {
    let patient_ids: Vec<String> = cases.iter().map(|c| c.row.patient_id.clone()).collect();
    let patients: HashMap<String, (String, String)> =
        patients_q::find_many(conn, &patient_ids)?.into_iter().map(|p| (p.id, (p.patient_no, p.name))).collect();
    let worker_ids: Vec<String> = cases.iter().map(|c| c.row.worker_id.clone()).collect();
    let names = staff_q::names(conn, &worker_ids)?;
    let mut unresolved: HashMap<String, u32> = HashMap::new();
    if !patient_ids.is_empty() {
        let filter = ListFilter {
            status: StatusFilter::Unresolved,
            patient_ids: Some(&patient_ids),
            kind: None,
            limit: 100_000,
        };
        for (a, _, _) in alerts_q::list(conn, &filter)? {
            *unresolved.entry(a.patient_id).or_default() += 1;
        }
    }
    Ok(cases
        .into_iter()
        .map(|c| {
            let (patient_no, patient_name) = patients.get(&c.row.patient_id).cloned().unwrap_or_default();
            CaseView {
                id: c.row.id,
                case_ref: c.row.case_ref,
                open_alerts: unresolved.get(&c.row.patient_id).copied().unwrap_or(0),
                patient_id: c.row.patient_id,
                patient_no,
                patient_name,
                kind: c.facts.kind,
                decision_date: c.row.decision_date,
                reported_on: c.state.reported_on,
                ends_on: c.state.ends_on,
                report_due_by: c.state.report_due_by,
                township: c.row.township,
                worker_name: names.get(&c.row.worker_id).cloned(),
                worker_id: c.row.worker_id,
                status: c.state.status,
                refusals: c.state.refusals,
            }
        })
        .collect())
}

fn one_case(tx: &mut Tx<'_>, id: &str, today: NaiveDate, rules: &crate::domain::rules::RuleSet) -> AppResult<CaseView> {
    let row = q::find_case(tx.conn, id)?.ok_or_else(AppError::not_found)?;
    let states = case_states(tx.conn, vec![row], today, rules)?;
    case_views(tx.conn, states)?.pop().ok_or_else(AppError::not_found)
}

/// Who may manage cases in a township: admins anywhere, rehab workers in their own.
fn may_manage(actor: &Actor, township: &str) -> AppResult<()> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::RehabWorker if actor.townships.iter().any(|t| t == township) => Ok(()),
        Role::RehabWorker => Err(AppError::forbidden("This township is not one of yours.")),
        _ => Err(AppError::forbidden("Your role does not allow this.")),
    }
}

/// The worker a case is assigned to: an active rehab worker of that township.
fn check_worker(conn: &mut DbConn, worker_id: &str, township: &str) -> AppResult<()> {
    match staff_q::find(conn, worker_id)? {
        Some(w) if w.row.role == Role::RehabWorker && w.row.active && w.townships.iter().any(|t| t == township) => {
            Ok(())
        }
        _ => Err(AppError::invalid_field("worker_id", "must be an active rehab worker of this township")),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub patient_id: String,
    pub kind: CaseKind,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub decision_date: NaiveDate,
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub reported_on: Option<NaiveDate>,
    pub township: String,
    pub worker_id: String,
    /// The rehab system's own case number, if any (unique).
    pub case_ref: Option<String>,
}

fn check_dates(decision: NaiveDate, reported: Option<NaiveDate>, today: NaiveDate) -> AppResult<()> {
    match case_date_problems(decision, reported, today).first() {
        Some((field, problem)) => Err(AppError::invalid_field(field, *problem)),
        None => Ok(()),
    }
}

fn insert_case(tx: &mut Tx<'_>, actor: &Actor, patient: &PatientRow, row: CaseRow) -> AppResult<String> {
    q::insert_case(tx.conn, &mut tx.written, &row).map_err(|e| {
        if db::is_unique_violation(&e) {
            AppError::new(ErrorCode::DuplicateCaseRef, "A case with this case number already exists.")
        } else {
            e.into()
        }
    })?;
    tx.audit(
        Some(&actor.staff_id),
        "rehab_case.create",
        "rehab_case",
        Some(&row.id),
        format!("{} case for patient {} in {}", row.kind, patient.patient_no, row.township),
    );
    Ok(row.id)
}

/// Whether `actor` may open a case for `patient` in `township`: admins for anyone; a rehab
/// worker only for a patient recorded in one of their townships, and only in that township.
fn may_open_case(actor: &Actor, patient: &PatientRow, township: &str) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::RehabWorker => patient.township == township && actor.townships.contains(&patient.township),
        _ => false,
    }
}

pub async fn create(state: &AppState, actor: &Actor, new: NewCase) -> AppResult<CaseView> {
    actor.require(&[Role::Admin, Role::RehabWorker])?;
    let township = clean_text("township", &new.township, 40)?;
    let today = state.today();
    check_dates(new.decision_date, new.reported_on, today)?;
    let case_ref = match new.case_ref.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Some(clean_text("case_ref", r, 40)?),
        None => None,
    };
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            // Anything a rehab worker may not do here answers exactly as for a patient who
            // does not exist, after the same one lookup: the endpoint must not tell who is
            // in treatment.
            let patient = match patients_q::find(tx.conn, &new.patient_id)? {
                Some(p) if may_open_case(&actor, &p, &township) => p,
                _ => return Err(AppError::not_found()),
            };
            check_worker(tx.conn, &new.worker_id, &township)?;
            let row = CaseRow {
                id: db::new_id(),
                case_ref,
                patient_id: patient.id.clone(),
                kind: new.kind,
                decision_date: new.decision_date,
                reported_on: new.reported_on,
                township,
                worker_id: new.worker_id.clone(),
                created_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            let id = insert_case(tx, &actor, &patient, row)?;
            sweep::sweep_one(tx, &patient.id, today, &rules)?;
            one_case(tx, &id, today, &rules)
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub township: Option<String>,
    /// `awaiting_report`, `report_overdue`, `active`, `suspended` or `ended`; `open` for all
    /// but ended (default: every case).
    pub status: Option<String>,
}

/// Cases: every case for admins, the cases of their townships for rehab workers. Patients
/// with unresolved alerts come first.
pub async fn list(state: &AppState, actor: &Actor, query: CaseQuery) -> AppResult<Vec<CaseView>> {
    actor.require(&[Role::Admin, Role::RehabWorker])?;
    let wanted = query.status.clone();
    if let Some(s) = &wanted {
        let known = ["awaiting_report", "report_overdue", "active", "suspended", "ended", "open"];
        if !known.contains(&s.as_str()) {
            return Err(AppError::invalid_field("status", "is not a case status"));
        }
    }
    let today = state.today();
    let rules = state.config.rules.clone();
    let reader = actor.clone();
    let (cases, seen) = state
        .read(move |conn| {
            let towns: Option<Vec<String>> = match (reader.role, &query.township) {
                (Role::RehabWorker, Some(t)) => Some(reader.townships.iter().filter(|x| *x == t).cloned().collect()),
                (Role::RehabWorker, None) => Some(reader.townships.clone()),
                (_, Some(t)) => Some(vec![t.clone()]),
                (_, None) => None,
            };
            let rows = q::in_townships(conn, towns.as_deref())?;
            let states: Vec<CaseNow> = case_states(conn, rows, today, &rules)?
                .into_iter()
                .filter(|c| match wanted.as_deref() {
                    None => true,
                    Some("open") => c.state.status.is_open(),
                    Some(s) => c.state.status.as_str() == s,
                })
                .collect();
            let seen: Vec<(String, Basis)> = states
                .iter()
                .filter(|c| c.state.status.is_open())
                .map(|c| (c.row.patient_id.clone(), Basis::Case(c.row.id.clone())))
                .collect();
            let mut views = case_views(conn, states)?;
            views.sort_by(|a, b| {
                (b.open_alerts > 0).cmp(&(a.open_alerts > 0)).then_with(|| a.patient_no.cmp(&b.patient_no))
            });
            Ok((views, seen))
        })
        .await?;
    scope::disclose(state, actor, seen, "cases").await?;
    Ok(cases)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseEvent {
    pub kind: CaseEventKind,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub date: NaiveDate,
    pub note: Option<String>,
}

/// Records a case event: the report (报到), an evasion, a detention or a release.
pub async fn add_event(state: &AppState, actor: &Actor, case_id: String, new: NewCaseEvent) -> AppResult<CaseView> {
    actor.require(&[Role::Admin, Role::RehabWorker])?;
    let today = state.today();
    if new.date > today {
        return Err(AppError::invalid_field("date", "must not be in the future"));
    }
    let note = clean_optional("note", new.note.as_deref(), 500)?;
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let case = q::find_case(tx.conn, &case_id)?.ok_or_else(AppError::not_found)?;
            if may_manage(&actor, &case.township).is_err() {
                return Err(AppError::not_found());
            }
            if new.date < case.decision_date {
                return Err(AppError::invalid_field("date", "must not be before the decision date"));
            }
            let before =
                case_states(tx.conn, vec![case.clone()], today, &rules)?.pop().ok_or_else(AppError::not_found)?;
            match new.kind {
                CaseEventKind::Reported if before.state.reported_on.is_some() => {
                    return Err(AppError::new(ErrorCode::AlreadyReported, "This case already has a report date."))
                }
                CaseEventKind::Detention if before.state.status == CaseStatus::Suspended => {
                    return Err(AppError::new(
                        ErrorCode::AlreadyDetained,
                        "This case is already suspended for detention.",
                    ))
                }
                CaseEventKind::Release if before.state.status != CaseStatus::Suspended => {
                    return Err(AppError::new(ErrorCode::NotDetained, "This case is not suspended for detention."))
                }
                _ => {}
            }
            let row = CaseEventRow {
                id: db::new_id(),
                case_id: case.id.clone(),
                patient_id: case.patient_id.clone(),
                kind: new.kind,
                event_date: new.date,
                note,
                recorded_by: actor.staff_id.clone(),
                recorded_at: tx.now.naive_utc(),
            };
            q::insert_event(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                Some(&actor.staff_id),
                "rehab_case.event",
                "rehab_case",
                Some(&case.id),
                format!("case event {} on {}", row.kind, row.event_date),
            );
            sweep::sweep_one(tx, &case.patient_id, today, &rules)?;
            one_case(tx, &case.id, today, &rules)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub imported: usize,
    pub case_ids: Vec<String>,
}

/// Imports the rehab system's case export (CSV with the header of [`IMPORT_COLUMNS`]).
/// Every row is checked first; if any row is bad, nothing is imported and the answer lists
/// every problem by row and field.
pub async fn import_csv(state: &AppState, actor: &Actor, body: Vec<u8>) -> AppResult<ImportOutcome> {
    // Admins only: the import matches people by resident id number, which in other hands
    // would tell whether someone is in treatment.
    actor.require(&[Role::Admin])?;
    let text = String::from_utf8(body).map_err(|_| AppError::validation("The file must be UTF-8 text (CSV)."))?;
    let text = text.trim_start_matches('\u{feff}');
    let today = state.today();
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| AppError::validation("The file has no readable CSV header line."))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers != IMPORT_COLUMNS {
        return Err(AppError::validation(format!("The header must be exactly: {}", IMPORT_COLUMNS.join(",")))
            .with_details(serde_json::json!({"expected": IMPORT_COLUMNS, "found": headers})));
    }
    let mut parsed = Vec::new();
    let mut errors: Vec<RowError> = Vec::new();
    for (i, record) in reader.deserialize::<CaseCsvRow>().enumerate() {
        let row = i + 1;
        if row > IMPORT_MAX_ROWS {
            return Err(AppError::validation(format!("A file may hold at most {IMPORT_MAX_ROWS} rows.")));
        }
        match record {
            Err(_) => errors.push(RowError::new(row, "row", "cannot be read (wrong number of columns or bad quoting)")),
            Ok(raw) => match parse_case_row(row, &raw, today) {
                Ok(p) => parsed.push((row, p)),
                Err(mut e) => errors.append(&mut e),
            },
        }
    }
    if parsed.is_empty() && errors.is_empty() {
        return Err(AppError::validation("The file holds no cases."));
    }
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            // Checks against the database, still collecting every problem.
            let mut seen_refs: HashSet<String> = HashSet::new();
            let refs: Vec<String> = parsed.iter().map(|(_, p)| p.case_ref.clone()).collect();
            let taken: HashSet<String> = q::taken_refs(tx.conn, &refs)?.into_iter().collect();
            let mut ready = Vec::new();
            for (row, p) in &parsed {
                if !seen_refs.insert(p.case_ref.clone()) {
                    errors.push(RowError::new(*row, "case_ref", "appears twice in this file"));
                } else if taken.contains(&p.case_ref) {
                    errors.push(RowError::new(*row, "case_ref", "is already imported"));
                }
                let patient = patients_q::find_by_id_number(tx.conn, &p.id_number)?;
                if patient.is_none() {
                    errors.push(RowError::new(*row, "id_number", "no patient in treatment has this id number"));
                }
                let worker = staff_q::find_by_username(tx.conn, &p.worker_username)?;
                let worker_ok = match &worker {
                    Some(w) => check_worker(tx.conn, &w.id, &p.township).is_ok(),
                    None => false,
                };
                if !worker_ok {
                    errors.push(RowError::new(
                        *row,
                        "worker_username",
                        "must be an active rehab worker of this township",
                    ));
                }
                if let (Some(patient), Some(worker), true) = (patient, worker, worker_ok) {
                    ready.push((patient, worker.id, p.clone()));
                }
            }
            if !errors.is_empty() {
                errors.sort_by_key(|e| e.row);
                return Err(AppError::validation(format!(
                    "Nothing was imported: {} problem(s) in the file. Correct them and import the whole file again.",
                    errors.len()
                ))
                .with_details(serde_json::json!({ "rows": errors })));
            }
            let mut case_ids = Vec::new();
            for (patient, worker_id, p) in ready {
                let row = CaseRow {
                    id: db::new_id(),
                    case_ref: Some(p.case_ref),
                    patient_id: patient.id.clone(),
                    kind: p.kind,
                    decision_date: p.decision_date,
                    reported_on: p.reported_on,
                    township: p.township,
                    worker_id,
                    created_by: actor.staff_id.clone(),
                    created_at: tx.now.naive_utc(),
                };
                case_ids.push(insert_case(tx, &actor, &patient, row)?);
                sweep::sweep_one(tx, &patient.id, today, &rules)?;
            }
            Ok(ImportOutcome { imported: case_ids.len(), case_ids })
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `json` (default `json`).
    pub format: Option<String>,
    /// For CSV: `attendance` (default) or `alerts`.
    pub what: Option<String>,
    /// First day (default: 30 days before `to`).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExportedCase {
    pub case: CaseView,
    pub attendance: Vec<AttendanceDay>,
    pub alerts: Vec<AlertView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RehabExport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub generated_at: DateTime<Utc>,
    pub cases: Vec<ExportedCase>,
}

/// The export for the rehab system: each open case in the caller's scope with its
/// attendance (statuses only, never mg) and its alerts.
pub async fn export(state: &AppState, actor: &Actor, query: &ExportQuery) -> AppResult<RehabExport> {
    actor.require(&[Role::Admin, Role::RehabWorker])?;
    let today = state.today();
    let (from, to) = day_range(query.from, query.to, today, 31, 93)?;
    let rules = state.config.rules.clone();
    let reader = actor.clone();
    let now = state.now();
    let (export, seen) = state
        .read(move |conn| {
            let towns = (reader.role == Role::RehabWorker).then(|| reader.townships.clone());
            let rows = q::in_townships(conn, towns.as_deref())?;
            let states: Vec<CaseNow> =
                case_states(conn, rows, today, &rules)?.into_iter().filter(|c| c.state.status.is_open()).collect();
            let seen: Vec<(String, Basis)> =
                states.iter().map(|c| (c.row.patient_id.clone(), Basis::Case(c.row.id.clone()))).collect();
            let views = case_views(conn, states)?;
            let patient_ids: Vec<String> = views.iter().map(|c| c.patient_id.clone()).collect();
            let patients: HashMap<String, PatientRow> =
                patients_q::find_many(conn, &patient_ids)?.into_iter().map(|p| (p.id.clone(), p)).collect();
            let filter =
                ListFilter { status: StatusFilter::All, patient_ids: Some(&patient_ids), kind: None, limit: 100_000 };
            let mut alerts: HashMap<String, Vec<AlertView>> = HashMap::new();
            let alert_rows = alerts_q::list(conn, &filter)?;
            for a in super::alerts::alert_views(conn, alert_rows)? {
                if a.opened_at.date_naive() <= to && a.resolved_at.is_none_or(|r| r.date_naive() >= from) {
                    alerts.entry(a.patient_id.clone()).or_default().push(a);
                }
            }
            let mut cases = Vec::new();
            for case in views {
                // A patient with two open cases appears under each; the attendance is theirs.
                let Some(patient) = patients.get(&case.patient_id).cloned() else { continue };
                let attendance = attendance_days(conn, patient, from, to, today, false)?;
                let alerts = alerts.get(&case.patient_id).cloned().unwrap_or_default();
                cases.push(ExportedCase { case, attendance, alerts });
            }
            Ok((RehabExport { from, to, generated_at: now, cases }, seen))
        })
        .await?;
    scope::disclose(state, actor, seen, "export").await?;
    Ok(export)
}

/// The export as CSV: one row per case and day (`attendance`) or per alert (`alerts`).
pub fn export_csv(export: &RehabExport, what: &str) -> AppResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |_| AppError::internal("csv writing failed");
    match what {
        "attendance" => {
            w.write_record(["case_ref", "case_id", "township", "patient_no", "patient_name", "date", "status"])
                .map_err(fail)?;
            for c in &export.cases {
                for day in &c.attendance {
                    let status = serde_json::to_value(day.status).ok().and_then(|v| v.as_str().map(str::to_string));
                    w.write_record([
                        c.case.case_ref.as_deref().unwrap_or(""),
                        &c.case.id,
                        &c.case.township,
                        &c.case.patient_no,
                        &c.case.patient_name,
                        &day.date.to_string(),
                        status.as_deref().unwrap_or(""),
                    ])
                    .map_err(fail)?;
                }
            }
        }
        "alerts" => {
            w.write_record([
                "case_ref",
                "case_id",
                "township",
                "patient_no",
                "patient_name",
                "alert_id",
                "kind",
                "status",
                "opened_at",
                "message",
                "acknowledged_at",
                "acknowledgement_note",
                "resolved_at",
                "resolution",
            ])
            .map_err(fail)?;
            for c in &export.cases {
                for a in &c.alerts {
                    let kind = serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string));
                    w.write_record([
                        c.case.case_ref.as_deref().unwrap_or(""),
                        &c.case.id,
                        &c.case.township,
                        &c.case.patient_no,
                        &c.case.patient_name,
                        &a.id,
                        kind.as_deref().unwrap_or(""),
                        &a.status,
                        &a.opened_at.to_rfc3339(),
                        &a.message,
                        &a.acknowledged_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        a.acknowledgement_note.as_deref().unwrap_or(""),
                        &a.resolved_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        a.resolution.as_deref().unwrap_or(""),
                    ])
                    .map_err(fail)?;
                }
            }
        }
        _ => return Err(AppError::invalid_field("what", "must be attendance or alerts")),
    }
    let bytes = w.into_inner().map_err(|_| AppError::internal("csv writing failed"))?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisclosureQuery {
    pub staff_id: Option<String>,
    pub patient_id: Option<String>,
    /// First day (default: 30 days before `to`).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub from: Option<NaiveDate>,
    /// Last day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DisclosureView {
    pub id: String,
    pub staff_id: String,
    pub staff_name: Option<String>,
    pub patient_id: String,
    pub patient_no: Option<String>,
    pub patient_name: Option<String>,
    pub at: DateTime<Utc>,
    /// `rehab_case` or `consent`.
    pub basis: BasisKind,
    pub case_id: Option<String>,
    /// The rehab system's case number of that case, if it has one.
    pub case_ref: Option<String>,
    /// Which view: `patient`, `attendance`, `tests`, `alerts`, `cases`, `search`, `export`, `report`.
    pub what: String,
}

/// Who saw which patient, when and on what basis (admins; newest first, at most 1000).
pub async fn disclosures(state: &AppState, actor: &Actor, query: DisclosureQuery) -> AppResult<Vec<DisclosureView>> {
    actor.require(&[Role::Admin])?;
    let zone = state.config.timezone;
    let (from, to) = day_range(query.from, query.to, state.today(), 31, 3 * 366 + 1)?;
    let filter = DisclosureFilter {
        staff_id: query.staff_id,
        patient_id: query.patient_id,
        from: local_midnight(from, zone),
        to: local_midnight(to + Duration::days(1), zone),
        limit: 1000,
    };
    state
        .read(move |conn| {
            let rows = q::list_disclosures(conn, &filter)?;
            let staff_ids: Vec<String> = rows.iter().map(|r| r.staff_id.clone()).collect();
            let names = staff_q::names(conn, &staff_ids)?;
            let patient_ids: Vec<String> = rows.iter().map(|r| r.patient_id.clone()).collect();
            let numbers: HashMap<String, (String, String)> = patients_q::find_many(conn, &patient_ids)?
                .into_iter()
                .map(|p| (p.id, (p.patient_no, p.name)))
                .collect();
            let case_refs: HashMap<String, String> =
                q::of_patients(conn, &patient_ids)?.into_iter().filter_map(|c| c.case_ref.map(|r| (c.id, r))).collect();
            Ok(rows
                .into_iter()
                .map(|r| DisclosureView {
                    staff_name: names.get(&r.staff_id).cloned(),
                    patient_no: numbers.get(&r.patient_id).map(|p| p.0.clone()),
                    patient_name: numbers.get(&r.patient_id).map(|p| p.1.clone()),
                    id: r.id,
                    staff_id: r.staff_id,
                    patient_id: r.patient_id,
                    at: r.at.and_utc(),
                    basis: r.basis,
                    case_ref: r.case_id.as_ref().and_then(|c| case_refs.get(c).cloned()),
                    case_id: r.case_id,
                    what: r.what,
                })
                .collect())
        })
        .await
}
