//! Drug tests: recording samples and results, the due list, the daily random urine-test
//! selection, and police notifications for positive hair tests.

use crate::error::ErrorCode;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::patients::load_visible;
use super::scope::{self, load_in_scope};
use super::sweep::{self, test_records};
use super::validation::{clean_optional, clean_text};
use super::{check_date, Actor, AppState};
use crate::db::drug_tests::{self as q, PoliceRow, ResultRow, SelectionRow, TestRow, TestWithResult};
use crate::db::{self, patients as patients_q, sites as sites_q, staff as staff_q, DbConn};
use crate::domain::dates::{self, Window};
use crate::domain::dispensing::PatientStatus;
use crate::domain::drug_tests::{
    due_group, police_notification_required, random_selection, tests_due_by, DueGroup, TestKind, TestResult,
};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

const CLINICAL: &[Role] = &[Role::Doctor, Role::Nurse];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PoliceNotificationView {
    pub notified_at: DateTime<Utc>,
    pub police_unit: String,
    pub note: Option<String>,
    pub recorded_by_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestView {
    pub id: String,
    pub patient_id: String,
    pub kind: TestKind,
    pub sampled_on: NaiveDate,
    pub result: TestResult,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_name: Option<String>,
    pub selection_id: Option<String>,
    /// A positive hair test: the police must be notified (and it is outstanding until
    /// `police_notification` is recorded).
    pub police_notification_required: bool,
    pub police_notification: Option<PoliceNotificationView>,
}

fn views(conn: &mut DbConn, rows: Vec<TestWithResult>) -> AppResult<Vec<TestView>> {
    let staff_ids: Vec<String> = rows
        .iter()
        .flat_map(|(t, r, p)| {
            [
                Some(t.recorded_by.clone()),
                r.as_ref().map(|r| r.recorded_by.clone()),
                p.as_ref().map(|p| p.notified_by.clone()),
            ]
        })
        .flatten()
        .collect();
    let names = staff_q::names(conn, &staff_ids)?;
    Ok(rows
        .into_iter()
        .map(|(t, r, p)| {
            let kind = t.kind;
            let result = r.as_ref().map_or(TestResult::Pending, |r| r.result);
            TestView {
                recorded_by_name: names.get(r.as_ref().map_or(&t.recorded_by, |r| &r.recorded_by)).cloned(),
                recorded_at: r.as_ref().map_or(t.recorded_at, |r| r.recorded_at).and_utc(),
                police_notification_required: police_notification_required(kind, result),
                police_notification: p.map(|p| PoliceNotificationView {
                    notified_at: p.notified_at.and_utc(),
                    recorded_by_name: names.get(&p.notified_by).cloned(),
                    police_unit: p.police_unit,
                    note: p.note,
                }),
                id: t.id,
                patient_id: t.patient_id,
                kind,
                sampled_on: t.sampled_on,
                result,
                selection_id: t.selection_id,
            }
        })
        .collect())
}

fn one(conn: &mut DbConn, id: &str) -> AppResult<TestView> {
    let row = q::find(conn, id)?.ok_or_else(AppError::not_found)?;
    views(conn, vec![row])?.pop().ok_or_else(AppError::not_found)
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTest {
    pub kind: TestKind,
    #[serde(deserialize_with = "crate::domain::dates::iso")]
    pub sampled_on: NaiveDate,
    pub result: TestResult,
    /// The random selection this sample answers, if any.
    pub selection_id: Option<String>,
}

/// Records a sample (and its result, unless pending). A positive or refused result opens
/// its alert at once; a negative one resolves earlier alerts of that kind.
pub async fn record(state: &AppState, actor: &Actor, patient_id: String, new: NewTest) -> AppResult<TestView> {
    actor.require(CLINICAL)?;
    let today = state.today();
    check_date("sampled_on", new.sampled_on, Window::past(dates::EARLIEST, today))?;
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let patient = load_visible(tx.conn, &actor, &patient_id)?;
            check_date("sampled_on", new.sampled_on, Window::past(patient.birth_date, today))?;
            if let Some(sel) = &new.selection_id {
                let found = q::find_selection(tx.conn, sel)?;
                if !found.is_some_and(|s| s.patient_ids.split(',').any(|p| p == patient.id)) {
                    return Err(AppError::invalid_field("selection_id", "this patient is not in that selection"));
                }
            }
            let at = tx.now.naive_utc();
            let row = TestRow {
                id: db::new_id(),
                patient_id: patient.id.clone(),
                kind: new.kind,
                sampled_on: new.sampled_on,
                selection_id: new.selection_id.clone(),
                recorded_by: actor.staff_id.clone(),
                recorded_at: at,
            };
            q::insert(tx.conn, &mut tx.written, &row)?;
            if new.result != TestResult::Pending {
                q::insert_result(
                    tx.conn,
                    &mut tx.written,
                    &ResultRow {
                        test_id: row.id.clone(),
                        patient_id: patient.id.clone(),
                        result: new.result,
                        recorded_by: actor.staff_id.clone(),
                        recorded_at: at,
                    },
                )?;
            }
            tx.audit(
                Some(&actor.staff_id),
                "test.record",
                "drug_test",
                Some(&row.id),
                format!("{} test of patient {}: {}", row.kind, patient.patient_no, new.result.as_str()),
            );
            sweep::sweep_one(tx, &patient.id, today, &rules)?;
            one(tx.conn, &row.id)
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestResultEntry {
    pub result: TestResult,
}

/// Enters the result of a pending test.
pub async fn enter_result(
    state: &AppState,
    actor: &Actor,
    test_id: String,
    entry: TestResultEntry,
) -> AppResult<TestView> {
    actor.require(CLINICAL)?;
    if entry.result == TestResult::Pending {
        return Err(AppError::invalid_field("result", "must be negative, positive or refused"));
    }
    let today = state.today();
    let rules = state.config.rules.clone();
    let actor = actor.clone();
    state
        .write(move |tx| {
            let (test, result, _) = q::find(tx.conn, &test_id)?.ok_or_else(AppError::not_found)?;
            let patient = load_visible(tx.conn, &actor, &test.patient_id)?;
            if result.is_some() {
                return Err(AppError::new(
                    ErrorCode::TestHasResult,
                    "This test already has a result; results are not changed.",
                ));
            }
            q::insert_result(
                tx.conn,
                &mut tx.written,
                &ResultRow {
                    test_id: test.id.clone(),
                    patient_id: patient.id.clone(),
                    result: entry.result,
                    recorded_by: actor.staff_id.clone(),
                    recorded_at: tx.now.naive_utc(),
                },
            )?;
            tx.audit(
                Some(&actor.staff_id),
                "test.result",
                "drug_test",
                Some(&test.id),
                format!("{} test of patient {}: {}", test.kind, patient.patient_no, entry.result.as_str()),
            );
            sweep::sweep_one(tx, &patient.id, today, &rules)?;
            one(tx.conn, &test.id)
        })
        .await
}

/// A patient's tests, newest first: clinical staff, and rehab workers in scope (test results
/// are theirs to see).
pub async fn of_patient(state: &AppState, actor: &Actor, patient_id: String) -> AppResult<Vec<TestView>> {
    let today = state.today();
    let rules = state.config.rules.clone();
    let reader = actor.clone();
    let (tests, basis) = state
        .read(move |conn| {
            let (patient, basis) = load_in_scope(conn, &reader, &patient_id, today, &rules)?;
            let rows = q::of_patients(conn, std::slice::from_ref(&patient.id))?;
            let mut tests = views(conn, rows)?;
            if basis.is_some() {
                // Results are the rehab worker's to see; the police notification is not.
                tests.iter_mut().for_each(|t| t.police_notification = None);
            }
            Ok((tests, basis.map(|b| (patient.id, b))))
        })
        .await?;
    scope::disclose(state, actor, basis.into_iter().collect(), "tests").await?;
    Ok(tests)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueTestView {
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub home_site_id: String,
    pub risk_level: i32,
    pub kind: TestKind,
    pub last_sampled_on: Option<NaiveDate>,
    pub due_since: NaiveDate,
    /// Days since it became due (negative: due in that many days).
    pub days_overdue: i64,
    /// `overdue`, `this_week` or `upcoming`.
    pub group: DueGroup,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// The day (default today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
    /// Only patients whose home is this site.
    pub site_id: Option<String>,
    /// Also the tests that become due in the next so many days (0–60, default 0: only those
    /// due on `date`), for the doctor's work list.
    pub within_days: Option<u32>,
}

/// Tests due on a day among patients in treatment, most overdue first.
pub async fn due(state: &AppState, actor: &Actor, query: DueQuery) -> AppResult<Vec<DueTestView>> {
    actor.require(CLINICAL)?;
    let date = query.date.unwrap_or_else(|| state.today());
    check_date("date", date, Window::day_view(state.today()))?;
    check_date("date", date, Window::day_view(state.today()))?;
    let within = query.within_days.unwrap_or(0);
    if within > 60 {
        return Err(AppError::invalid_field("within_days", "must be between 0 and 60"));
    }
    let until = date + chrono::Duration::days(i64::from(within));
    let rules = state.config.rules.clone();
    state
        .read(move |conn| {
            let mut patients = match &query.site_id {
                Some(site) => patients_q::active_at_site(conn, site)?,
                None => patients_q::with_status(conn, PatientStatus::Active)?,
            };
            patients.sort_by(|a, b| a.id.cmp(&b.id));
            let mut out = Vec::new();
            for page in patients.chunks(500) {
                let ids: Vec<String> = page.iter().map(|p| p.id.clone()).collect();
                let mut tests = test_records(q::facts_of(conn, &ids)?);
                for p in page {
                    let records = tests.remove(&p.id).unwrap_or_default();
                    let risk = u8::try_from(p.risk_level).unwrap_or(3);
                    for d in tests_due_by(risk, p.enrolled_on, &records, until, &rules) {
                        out.push(DueTestView {
                            patient_id: p.id.clone(),
                            patient_no: p.patient_no.clone(),
                            patient_name: p.name.clone(),
                            home_site_id: p.home_site_id.clone(),
                            risk_level: p.risk_level,
                            kind: d.kind,
                            last_sampled_on: d.last_sampled_on,
                            due_since: d.due_since,
                            days_overdue: (date - d.due_since).num_days(),
                            group: due_group(d.due_since, date),
                        });
                    }
                }
            }
            out.sort_by(|a, b| b.days_overdue.cmp(&a.days_overdue).then_with(|| a.patient_no.cmp(&b.patient_no)));
            Ok(out)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SelectedPatient {
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SelectionView {
    pub id: String,
    pub site_id: String,
    pub date: NaiveDate,
    /// Re-draw with `sha256(seed ‖ ":" ‖ patient_id)`, lowest first, over the candidates.
    pub seed: String,
    pub count: i32,
    pub candidates: i32,
    pub patients: Vec<SelectedPatient>,
    pub created_at: DateTime<Utc>,
    pub created_by_name: Option<String>,
}

fn selection_view(conn: &mut DbConn, row: SelectionRow) -> AppResult<SelectionView> {
    let ids: Vec<String> = row.patient_ids.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let found: HashMap<String, (String, String)> =
        patients_q::find_many(conn, &ids)?.into_iter().map(|p| (p.id, (p.patient_no, p.name))).collect();
    let names = staff_q::names(conn, std::slice::from_ref(&row.created_by))?;
    Ok(SelectionView {
        patients: ids
            .into_iter()
            .map(|id| {
                let (patient_no, patient_name) = found.get(&id).cloned().unwrap_or_default();
                SelectedPatient { patient_id: id, patient_no, patient_name }
            })
            .collect(),
        created_by_name: names.get(&row.created_by).cloned(),
        id: row.id,
        site_id: row.site_id,
        date: row.selection_date,
        seed: row.seed,
        count: row.wanted,
        candidates: row.candidates,
        created_at: row.created_at.and_utc(),
    })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSelection {
    pub site_id: String,
    /// How many patients to draw (1..=200).
    pub count: u32,
    /// The day (default today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
}

/// Draws the day's random urine tests at a site among its patients in treatment, and
/// records the draw with its seed. One draw per site and day (a unique key): asking again
/// returns it (`false`), so the selection cannot be redrawn until it suits someone.
pub async fn select_for_urine(state: &AppState, actor: &Actor, new: NewSelection) -> AppResult<(SelectionView, bool)> {
    actor.require(CLINICAL)?;
    if !actor.works_at(&new.site_id) {
        return Err(AppError::forbidden("You are not assigned to this site."));
    }
    if !(1..=200).contains(&new.count) {
        return Err(AppError::invalid_field("count", "must be between 1 and 200"));
    }
    let date = new.date.unwrap_or_else(|| state.today());
    check_date("date", date, Window::day_view(state.today()))?;
    let (site_id, existing_site) = (new.site_id.clone(), new.site_id.clone());
    let existing = move |conn: &mut DbConn| -> AppResult<Option<SelectionView>> {
        match q::selection_on(conn, &existing_site, date)? {
            Some(row) => selection_view(conn, row).map(Some),
            None => Ok(None),
        }
    };
    let check = existing.clone();
    if let Some(found) = state.read(move |conn| check(conn)).await? {
        return Ok((found, false));
    }
    let actor = actor.clone();
    let drawn = state
        .write(move |tx| {
            sites_q::find(tx.conn, &site_id)?.ok_or_else(AppError::not_found)?;
            let candidates: Vec<String> =
                patients_q::active_at_site(tx.conn, &site_id)?.into_iter().map(|p| p.id).collect();
            let mut bytes = [0u8; 16];
            rand::thread_rng().fill_bytes(&mut bytes);
            let seed = hex::encode(bytes);
            let chosen = random_selection(&seed, &candidates, new.count as usize);
            let row = SelectionRow {
                id: db::new_id(),
                site_id: site_id.clone(),
                selection_date: date,
                seed,
                wanted: new.count as i32,
                candidates: candidates.len() as i32,
                patient_ids: chosen.join(","),
                created_by: actor.staff_id.clone(),
                created_at: tx.now.naive_utc(),
            };
            q::insert_selection(tx.conn, &mut tx.written, &row).map_err(|e| {
                if db::is_unique_violation(&e) {
                    AppError::new(ErrorCode::LostRace, "This site already has a draw for the day.")
                } else {
                    e.into()
                }
            })?;
            tx.audit(
                Some(&actor.staff_id),
                "urine_selection.draw",
                "urine_selection",
                Some(&row.id),
                format!("{} of {} patients drawn for urine tests", chosen.len(), candidates.len()),
            );
            selection_view(tx.conn, row)
        })
        .await;
    match drawn {
        Ok(view) => Ok((view, true)),
        // Another terminal drew first (the unique key on site and day): theirs stands.
        Err(e) if e.code == ErrorCode::LostRace => {
            let found = state.read(move |conn| existing(conn)).await?;
            found.map(|v| (v, false)).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SelectionQuery {
    pub site_id: String,
    /// The day (default today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub date: Option<NaiveDate>,
}

pub async fn selection(state: &AppState, actor: &Actor, query: SelectionQuery) -> AppResult<SelectionView> {
    actor.require(CLINICAL)?;
    if !actor.works_at(&query.site_id) {
        return Err(AppError::forbidden("You are not assigned to this site."));
    }
    let date = query.date.unwrap_or_else(|| state.today());
    state
        .read(move |conn| {
            let row = q::selection_on(conn, &query.site_id, date)?.ok_or_else(AppError::not_found)?;
            selection_view(conn, row)
        })
        .await
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPoliceNotification {
    pub notified_at: DateTime<Utc>,
    /// The police station or unit notified.
    pub police_unit: String,
    pub note: Option<String>,
}

/// Records that the police were notified of a positive hair test.
pub async fn notify_police(
    state: &AppState,
    actor: &Actor,
    test_id: String,
    new: NewPoliceNotification,
) -> AppResult<TestView> {
    actor.require(&[Role::Doctor, Role::Admin])?;
    let unit = clean_text("police_unit", &new.police_unit, 80)?;
    let note = clean_optional("note", new.note.as_deref(), 500)?;
    if new.notified_at > state.now() {
        return Err(AppError::invalid_field("notified_at", "must not be in the future"));
    }
    let zone = state.config.timezone;
    let actor = actor.clone();
    state
        .write(move |tx| {
            let (test, result, police) = q::find(tx.conn, &test_id)?.ok_or_else(AppError::not_found)?;
            let patient = load_visible(tx.conn, &actor, &test.patient_id)?;
            if new.notified_at.with_timezone(&zone).date_naive() < test.sampled_on {
                return Err(AppError::invalid_field("notified_at", "must not be before the test was sampled"));
            }
            let kind = test.kind;
            let result = result.map_or(TestResult::Pending, |r| r.result);
            if !police_notification_required(kind, result) {
                return Err(AppError::new(
                    ErrorCode::PoliceNotificationNotRequired,
                    "Only a positive hair test is reported to the police.",
                ));
            }
            if police.is_some() {
                return Err(AppError::new(
                    ErrorCode::PoliceAlreadyNotified,
                    "The police notification is already recorded.",
                ));
            }
            q::insert_police(
                tx.conn,
                &mut tx.written,
                &PoliceRow {
                    test_id: test.id.clone(),
                    patient_id: patient.id.clone(),
                    notified_at: new.notified_at.naive_utc(),
                    police_unit: unit,
                    note,
                    notified_by: actor.staff_id.clone(),
                    recorded_at: tx.now.naive_utc(),
                },
            )?;
            tx.audit(
                Some(&actor.staff_id),
                "test.police_notified",
                "drug_test",
                Some(&test.id),
                format!("police notified of the positive hair test of patient {}", patient.patient_no),
            );
            one(tx.conn, &test.id)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutstandingPolice {
    pub test_id: String,
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub sampled_on: NaiveDate,
}

/// Positive hair tests whose police notification is not yet recorded.
pub async fn outstanding_police(state: &AppState, actor: &Actor) -> AppResult<Vec<OutstandingPolice>> {
    actor.require(&[Role::Doctor, Role::Admin])?;
    state
        .read(move |conn| {
            let tests = q::outstanding_police(conn)?;
            let ids: Vec<String> = tests.iter().map(|t| t.patient_id.clone()).collect();
            let patients: HashMap<String, (String, String)> =
                patients_q::find_many(conn, &ids)?.into_iter().map(|p| (p.id, (p.patient_no, p.name))).collect();
            Ok(tests
                .into_iter()
                .map(|t| {
                    let (patient_no, patient_name) = patients.get(&t.patient_id).cloned().unwrap_or_default();
                    OutstandingPolice {
                        test_id: t.id,
                        patient_id: t.patient_id,
                        patient_no,
                        patient_name,
                        sampled_on: t.sampled_on,
                    }
                })
                .collect())
        })
        .await
}
