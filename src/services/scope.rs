//! What a rehab worker may see (RULES.md: an open case in their townships, or consent within
//! them), and the disclosure log that records every time they see a patient.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Actor, AppState};
use crate::db::drug_tests as tests_q;
use crate::db::patients::{self as patients_q, PatientRow};
use crate::db::rehab::{self as rehab_q, CaseRow, DisclosureRow};
use crate::db::{self, DbConn, QueryResult};
use crate::domain::drug_tests::TestResult;
use crate::domain::rehab::{case_state, worker_basis, Basis, CaseEvent, CaseFacts, CaseState};
use crate::domain::rules::RuleSet;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

/// A case with its facts and where it stands today.
pub struct CaseNow {
    pub row: CaseRow,
    pub facts: CaseFacts,
    pub state: CaseState,
}

/// The state of `cases` on `today`: their events and the patients' test refusals loaded in
/// two queries whatever their number.
pub fn case_states(
    conn: &mut DbConn,
    cases: Vec<CaseRow>,
    today: NaiveDate,
    rules: &RuleSet,
) -> QueryResult<Vec<CaseNow>> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let case_ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let mut events: HashMap<String, Vec<CaseEvent>> = HashMap::new();
    for e in rehab_q::events_of(conn, &case_ids)? {
        events.entry(e.case_id).or_default().push(CaseEvent { kind: e.kind, date: e.event_date });
    }
    let mut patient_ids: Vec<String> = cases.iter().map(|c| c.patient_id.clone()).collect();
    patient_ids.sort();
    patient_ids.dedup();
    let mut refusals: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for (_, patient_id, _, sampled_on, result) in tests_q::facts_of(conn, &patient_ids)? {
        if result == Some(TestResult::Refused) {
            refusals.entry(patient_id).or_default().push(sampled_on);
        }
    }
    Ok(cases
        .into_iter()
        .map(|row| {
            let facts = CaseFacts {
                id: row.id.clone(),
                kind: row.kind,
                township: row.township.clone(),
                decision_date: row.decision_date,
                reported_on: row.reported_on,
                events: events.remove(&row.id).unwrap_or_default(),
            };
            let refused = refusals.get(&row.patient_id).map(Vec::as_slice).unwrap_or_default();
            let state = case_state(&facts, refused, today, rules);
            CaseNow { row, facts, state }
        })
        .collect())
}

/// On what basis the actor sees this patient: `Ok(None)` for clinical staff and admins
/// (their own duty), `Ok(Some(basis))` for a rehab worker in scope, 404 otherwise (never
/// "forbidden": that would tell an outsider the patient exists).
pub fn basis_for(
    conn: &mut DbConn,
    actor: &Actor,
    patient: &PatientRow,
    today: NaiveDate,
    rules: &RuleSet,
) -> AppResult<Option<Basis>> {
    if actor.role != Role::RehabWorker {
        return Ok(None);
    }
    let rows = rehab_q::of_patients(conn, std::slice::from_ref(&patient.id))?;
    let cases = case_states(conn, rows, today, rules)?;
    worker_basis(
        &actor.townships,
        &patient.township,
        patient.consent_to_share,
        cases.iter().map(|c| (&c.facts, &c.state)),
    )
    .map(Some)
    .ok_or_else(AppError::not_found)
}

/// Loads a patient that any staff member may see in their role: every patient for clinical
/// staff and admins, and a rehab worker's patients in scope (with the basis to disclose).
pub fn load_in_scope(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
    today: NaiveDate,
    rules: &RuleSet,
) -> AppResult<(PatientRow, Option<Basis>)> {
    let patient = patients_q::find(conn, id)?.ok_or_else(AppError::not_found)?;
    let basis = basis_for(conn, actor, &patient, today, rules)?;
    Ok((patient, basis))
}

/// Every patient a rehab worker may see, with the basis: open cases in their townships,
/// then consenting residents of their townships.
pub fn worker_patients(
    conn: &mut DbConn,
    actor: &Actor,
    today: NaiveDate,
    rules: &RuleSet,
) -> QueryResult<HashMap<String, Basis>> {
    let mut seen = HashMap::new();
    let rows = rehab_q::in_townships(conn, Some(&actor.townships))?;
    for c in case_states(conn, rows, today, rules)? {
        if c.state.status.is_open() {
            seen.entry(c.row.patient_id.clone()).or_insert(Basis::Case(c.row.id.clone()));
        }
    }
    for id in patients_q::consenting_in(conn, &actor.townships)? {
        seen.entry(id).or_insert(Basis::Consent);
    }
    Ok(seen)
}

/// Records that a rehab worker saw these patients (`what`: which view). Nothing is
/// recorded for clinical staff. The answer is sent only once this is written.
pub async fn disclose(
    state: &AppState,
    actor: &Actor,
    seen: Vec<(String, Basis)>,
    what: &'static str,
) -> AppResult<()> {
    if actor.role != Role::RehabWorker || seen.is_empty() {
        return Ok(());
    }
    let staff_id = actor.staff_id.clone();
    state
        .write(move |tx| {
            let at = tx.now.naive_utc();
            let rows: Vec<DisclosureRow> = seen
                .iter()
                .map(|(patient_id, basis)| DisclosureRow {
                    id: db::new_id(),
                    staff_id: staff_id.clone(),
                    patient_id: patient_id.clone(),
                    at,
                    basis: basis.kind(),
                    case_id: basis.case_id().map(str::to_string),
                    what: what.into(),
                })
                .collect();
            rehab_q::insert_disclosures(tx.conn, &mut tx.written, &rows)?;
            tx.audit(
                Some(&staff_id),
                "disclosure",
                "disclosure",
                None,
                serde_json::json!({"patients": rows.len(), "what": what}).to_string(),
            );
            Ok(())
        })
        .await
}
