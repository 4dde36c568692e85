//! The attendance/alert sweep (DESIGN.md, Jobs): at start-up, every night, and on demand.
//! It reads patients in pages (never a whole history: the last dose that stands, the orders,
//! absences, tests, cases and known alerts of one page at a time), asks the domain what to
//! do for each, and writes each patient's outcome in a transaction of its own, re-reading
//! that patient inside it so that a dose given meanwhile is seen. Running it twice changes
//! nothing the second time: every alert is keyed by its episode.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use super::clinical::order_book;
use super::scope::case_states;
use super::{AppState, Tx};
use crate::clock::local_instant;
use crate::db::alerts::{self as alerts_q, AlertRow, ResolutionRow, SweepRunRow};
use crate::db::doses as doses_q;
use crate::db::drug_tests as tests_q;
use crate::db::orders as orders_q;
use crate::db::patients::{self as patients_q, PatientRow, StatusChangeRow};
use crate::db::rehab as rehab_q;
use crate::db::{self, sites as sites_q, DbConn, QueryResult};
use crate::domain::alerts::{
    sweep_patient, AlertKind, KnownAlert, LastDose, SweepAction, SweepCause, SweepInput, SUPERSEDED_BY_DROPOUT,
};
use crate::domain::dispensing::{DayRange, PatientStatus};
use crate::domain::drug_tests::{due_tests, TestRecord, TestResult};
use crate::domain::orders::OrderBook;
use crate::domain::rehab::{CaseFacts, CaseState};
use crate::domain::rules::RuleSet;
use crate::error::AppResult;
use serde_json::json;

/// Patients read per page.
const PAGE: i64 = 500;

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SweepSummary {
    /// Alerts opened.
    pub opened: u32,
    /// Alerts resolved.
    pub resolved: u32,
    /// Patients marked as dropped out (脱失).
    pub dropouts: u32,
    /// Tests due today (patients × kinds) among patients in treatment.
    pub due_tests: u32,
    /// Patients looked at.
    pub patients: u32,
    pub took_ms: u64,
}

impl SweepSummary {
    fn add(&mut self, other: &SweepSummary) {
        self.opened += other.opened;
        self.resolved += other.resolved;
        self.dropouts += other.dropouts;
    }
}

/// Everything the domain needs about one patient for the sweep.
pub struct PatientInputs {
    pub patient: PatientRow,
    orders: OrderBook,
    last_dose: Option<LastDose>,
    excused: Vec<DayRange>,
    tests: Vec<TestRecord>,
    cases: Vec<(CaseFacts, CaseState)>,
    alerts: Vec<KnownAlert>,
}

impl PatientInputs {
    pub fn status(&self) -> PatientStatus {
        self.patient.status
    }

    pub fn actions(&self, today: NaiveDate, rules: &RuleSet) -> Vec<SweepAction> {
        let input = SweepInput {
            today,
            status: self.status(),
            orders: &self.orders,
            last_dose: self.last_dose.clone(),
            excused: &self.excused,
            tests: &self.tests,
            cases: &self.cases,
            alerts: &self.alerts,
        };
        sweep_patient(&input, rules)
    }

    /// Tests due today, for a patient in treatment.
    pub fn due_test_count(&self, today: NaiveDate, rules: &RuleSet) -> usize {
        if self.status() != PatientStatus::Active {
            return 0;
        }
        let risk = u8::try_from(self.patient.risk_level).unwrap_or(3);
        due_tests(risk, self.patient.enrolled_on, &self.tests, today, rules).len()
    }
}

/// Drug tests of rows, by patient, as the rules see them (a test without a result is pending).
pub fn test_records(rows: Vec<tests_q::TestFact>) -> HashMap<String, Vec<TestRecord>> {
    let mut out: HashMap<String, Vec<TestRecord>> = HashMap::new();
    for (id, patient_id, kind, sampled_on, result) in rows {
        let result = result.unwrap_or(TestResult::Pending);
        out.entry(patient_id).or_default().push(TestRecord { id, kind, sampled_on, result });
    }
    out
}

/// Loads the sweep's inputs for `patients` in a fixed number of queries, whatever their
/// count and histories. Each patient's last dose counts today's: a patient dosed today has
/// missed nothing, and the missed-day count runs over the days before today.
pub fn load_inputs(
    conn: &mut DbConn,
    patients: Vec<PatientRow>,
    today: NaiveDate,
    rules: &RuleSet,
    site_names: &HashMap<String, String>,
) -> QueryResult<Vec<PatientInputs>> {
    let ids: Vec<String> = patients.iter().map(|p| p.id.clone()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut orders: HashMap<String, Vec<orders_q::OrderWithActivation>> = HashMap::new();
    for row in orders_q::for_patients(conn, &ids)? {
        orders.entry(row.0.patient_id.clone()).or_default().push(row);
    }
    let mut excused: HashMap<String, Vec<DayRange>> = HashMap::new();
    for a in doses_q::absences_of(conn, &ids)? {
        excused.entry(a.patient_id.clone()).or_default().push(DayRange { from: a.from_date, to: a.to_date });
    }
    let mut tests = test_records(tests_q::facts_of(conn, &ids)?);
    let mut cases: HashMap<String, Vec<(CaseFacts, CaseState)>> = HashMap::new();
    let case_rows = rehab_q::of_patients(conn, &ids)?;
    for c in case_states(conn, case_rows, today, rules)? {
        cases.entry(c.row.patient_id.clone()).or_default().push((c.facts, c.state));
    }
    let mut alerts: HashMap<String, Vec<KnownAlert>> = HashMap::new();
    for (id, patient_id, kind, episode_key, resolved) in alerts_q::known_for(conn, &ids)? {
        alerts.entry(patient_id).or_default().push(KnownAlert { id, kind, episode_key, resolved });
    }
    // The last dose through today is the last before tomorrow: for a page, one range of
    // today's doses, then the others' (`last_standing_before`).
    let through = today.succ_opt().unwrap_or(today);
    let mut last: HashMap<String, doses_q::DoseRow> =
        doses_q::last_standing_before(conn, &ids, through)?.into_iter().map(|d| (d.patient_id.clone(), d)).collect();
    let mut out = Vec::with_capacity(patients.len());
    for patient in patients {
        let last_dose = last
            .remove(&patient.id)
            .map(|d| LastDose { day: d.dose_day, site_name: site_names.get(&d.site_id).cloned().unwrap_or(d.site_id) });
        out.push(PatientInputs {
            orders: order_book(&orders.remove(&patient.id).unwrap_or_default()),
            last_dose,
            excused: excused.remove(&patient.id).unwrap_or_default(),
            tests: tests.remove(&patient.id).unwrap_or_default(),
            cases: cases.remove(&patient.id).unwrap_or_default(),
            alerts: alerts.remove(&patient.id).unwrap_or_default(),
            patient,
        });
    }
    Ok(out)
}

/// Sweeps one patient inside the caller's transaction: re-reads the patient and writes
/// what the domain decides. Used by the sweep and right after anything that can open or
/// end an alert (a test result, a case event, a status change, a dose after missed days).
pub fn sweep_one(tx: &mut Tx<'_>, patient_id: &str, today: NaiveDate, rules: &RuleSet) -> AppResult<SweepSummary> {
    let Some(patient) = patients_q::find(tx.conn, patient_id)? else { return Ok(SweepSummary::default()) };
    let site_names = sites_q::names(tx.conn)?;
    let Some(inputs) = load_inputs(tx.conn, vec![patient], today, rules, &site_names)?.pop() else {
        return Ok(SweepSummary::default());
    };
    let actions = inputs.actions(today, rules);
    apply(tx, &inputs.patient, &actions)
}

fn apply(tx: &mut Tx<'_>, patient: &PatientRow, actions: &[SweepAction]) -> AppResult<SweepSummary> {
    let mut done = SweepSummary::default();
    let at = tx.now.naive_utc();
    for action in actions {
        match action {
            SweepAction::Open(alert) => {
                let row = AlertRow {
                    id: db::new_id(),
                    patient_id: patient.id.clone(),
                    kind: alert.kind,
                    episode_key: alert.episode_key.clone(),
                    case_id: alert.case_id.clone(),
                    message: alert.message.clone(),
                    details: alert.details.to_string(),
                    opened_at: at,
                };
                if alerts_q::insert(tx.conn, &mut tx.written, &row)? {
                    tx.audit(
                        None,
                        "alert.open",
                        "alert",
                        Some(&row.id),
                        json!({"kind": row.kind, "patient_no": patient.patient_no}).to_string(),
                    );
                    done.opened += 1;
                }
            }
            SweepAction::Resolve { alert_id, reason } => {
                let row = ResolutionRow { alert_id: alert_id.clone(), reason: reason.clone(), staff_id: None, at };
                if alerts_q::insert_resolution(tx.conn, &mut tx.written, &row)? {
                    tx.audit(None, "alert.resolve", "alert", Some(alert_id), json!({"reason": reason}).to_string());
                    done.resolved += 1;
                }
            }
            SweepAction::Supersede { episode_key } => {
                let missed = alerts_q::find_by_episode(tx.conn, &patient.id, AlertKind::MissedDoses, episode_key)?;
                let dropout = alerts_q::find_by_episode(tx.conn, &patient.id, AlertKind::Dropout, episode_key)?;
                let (Some(missed), Some(dropout)) = (missed, dropout) else { continue };
                let row = ResolutionRow {
                    alert_id: missed.clone(),
                    reason: SUPERSEDED_BY_DROPOUT.into(),
                    staff_id: None,
                    at,
                };
                if alerts_q::insert_resolution(tx.conn, &mut tx.written, &row)? {
                    tx.audit(
                        None,
                        "alert.supersede",
                        "alert",
                        Some(&missed),
                        json!({"kind": AlertKind::MissedDoses, "superseded_by": dropout, "patient_no": patient.patient_no})
                            .to_string(),
                    );
                    done.resolved += 1;
                }
            }
            SweepAction::MarkDroppedOut { missed_days } => {
                patients_q::set_status(
                    tx.conn,
                    &mut tx.written,
                    &StatusChangeRow {
                        id: db::new_id(),
                        patient_id: patient.id.clone(),
                        from_status: patient.status,
                        to_status: PatientStatus::DroppedOut,
                        reason: format!("连续{missed_days}天未服药，系统列为脱失"),
                        changed_by: None,
                        changed_at: at,
                    },
                )?;
                tx.audit(
                    None,
                    "patient.status",
                    "patient",
                    Some(&patient.id),
                    json!({"from": patient.status, "to": PatientStatus::DroppedOut, "missed_days": missed_days})
                        .to_string(),
                );
                done.dropouts += 1;
            }
        }
    }
    Ok(done)
}

/// One page of the sweep, read: the patients' ids that have something to change.
struct Page {
    /// The last patient id of the page, when a next page may follow.
    next_after: Option<String>,
    patients: usize,
    due_tests: usize,
    to_write: Vec<String>,
}

/// Reads the page of patients after `after` and decides, for each, whether anything changes.
async fn read_page(state: &AppState, after: String, today: NaiveDate, rules: RuleSet) -> AppResult<Page> {
    state
        .read(move |conn| {
            let patients = patients_q::page_after(conn, &after, PAGE)?;
            let site_names = sites_q::names(conn)?;
            let count = patients.len();
            let next_after = patients.last().filter(|_| count as i64 == PAGE).map(|p| p.id.clone());
            let inputs = load_inputs(conn, patients, today, &rules, &site_names)?;
            let due_tests: usize = inputs.iter().map(|i| i.due_test_count(today, &rules)).sum();
            let to_write: Vec<String> =
                inputs.iter().filter(|i| !i.actions(today, &rules).is_empty()).map(|i| i.patient.id.clone()).collect();
            Ok(Page { next_after, patients: count, due_tests, to_write })
        })
        .await
}

/// Runs the sweep over every patient for today. One sweep at a time: a second caller waits
/// for the first and then finds nothing left to do.
pub async fn run(state: &AppState, cause: SweepCause) -> AppResult<SweepSummary> {
    let _one_at_a_time = state.sweep_lane.lock().await;
    let started = Instant::now();
    let started_at = state.now();
    let today = state.today();
    let rules = state.config.rules.clone();
    let mut summary = SweepSummary::default();
    let mut page = read_page(state, String::new(), today, rules.clone()).await?;
    loop {
        summary.patients += page.patients as u32;
        summary.due_tests += page.due_tests as u32;
        // The next page is read while this one's patients are written, each in a transaction
        // of its own: the read runs on another connection beside the writer (a reader never
        // waits for SQLite's writer in WAL mode), the pages share no patient, and each write
        // re-reads its patient anyway. Two pages at most are held.
        let next = async {
            match page.next_after.take() {
                Some(after) => read_page(state, after, today, rules.clone()).await.map(Some),
                None => Ok(None),
            }
        };
        let writes = async {
            let mut done = SweepSummary::default();
            for patient_id in std::mem::take(&mut page.to_write) {
                let rules = rules.clone();
                done.add(&state.write(move |tx| sweep_one(tx, &patient_id, today, &rules)).await?);
            }
            Ok::<_, crate::error::AppError>(done)
        };
        // Both run to the end (a write is never abandoned half-way), then errors count.
        let (next, done) = futures_util::future::join(next, writes).await;
        summary.add(&done?);
        match next? {
            Some(p) => page = p,
            None => break,
        }
    }
    summary.took_ms = started.elapsed().as_millis() as u64;
    let record = summary;
    state
        .write(move |tx| {
            let row = SweepRunRow {
                id: db::new_id(),
                cause,
                sweep_date: today,
                started_at: started_at.naive_utc(),
                finished_at: tx.now.naive_utc(),
                patients: record.patients as i32,
                opened: record.opened as i32,
                resolved: record.resolved as i32,
                dropouts: record.dropouts as i32,
                due_tests: record.due_tests as i32,
            };
            alerts_q::insert_sweep_run(tx.conn, &mut tx.written, &row)?;
            tx.audit(
                None,
                "sweep.run",
                "sweep",
                Some(&row.id),
                json!({
                    "cause": cause,
                    "patients": row.patients,
                    "opened": row.opened,
                    "resolved": row.resolved,
                    "dropouts": row.dropouts,
                })
                .to_string(),
            );
            Ok(())
        })
        .await?;
    tracing::info!(
        cause = cause.as_str(),
        patients = summary.patients,
        opened = summary.opened,
        resolved = summary.resolved,
        dropouts = summary.dropouts,
        took_ms = summary.took_ms,
        "attendance sweep done"
    );
    Ok(summary)
}

/// The next instant, after `now`, at which the local clock shows `at`.
pub fn next_run_after(now: DateTime<Utc>, at: NaiveTime, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let mut day = now.with_timezone(&zone).date_naive();
    loop {
        let t = local_instant(day, at, zone);
        if t > now {
            return t;
        }
        day += Duration::days(1);
    }
}

/// The sweep's schedule: once at start-up, then every night at `MMT_SWEEP_AT` local time.
/// It looks at the service clock every 30 seconds (so a test clock moved forward is seen).
pub fn spawn_schedule(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = run(&state, SweepCause::Startup).await {
            tracing::error!(code = e.code.as_str(), "the start-up sweep failed");
        }
        let at = state.config.sweep_at;
        let zone = state.config.timezone;
        let mut next = next_run_after(state.now(), at, zone);
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            let now = state.now();
            if now >= next {
                if let Err(e) = run(&state, SweepCause::Nightly).await {
                    tracing::error!(code = e.code.as_str(), "the nightly sweep failed");
                }
                next = next_run_after(state.now(), at, zone);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_nightly_run_is_at_the_next_local_time() {
        let zone: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        let at = NaiveTime::from_hms_opt(0, 30, 0).unwrap();
        // 2026-01-05 10:00 in Shanghai is 02:00 UTC; the next 00:30 local is 16:30 UTC.
        let now = Utc.with_ymd_and_hms(2026, 1, 5, 2, 0, 0).unwrap();
        assert_eq!(next_run_after(now, at, zone), Utc.with_ymd_and_hms(2026, 1, 5, 16, 30, 0).unwrap());
        // Exactly at the time: the next night.
        let now = Utc.with_ymd_and_hms(2026, 1, 5, 16, 30, 0).unwrap();
        assert_eq!(next_run_after(now, at, zone), Utc.with_ymd_and_hms(2026, 1, 6, 16, 30, 0).unwrap());
    }

    #[test]
    fn the_nightly_run_happens_on_nights_when_the_clocks_change() {
        let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let at = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        // 14 March 2027: the clocks jump from 02:00 to 03:00, so 02:30 does not exist; the
        // sweep runs at 03:00 EDT (07:00 UTC) instead of skipping the night.
        let evening = Utc.with_ymd_and_hms(2027, 3, 14, 2, 0, 0).unwrap();
        assert_eq!(next_run_after(evening, at, zone), Utc.with_ymd_and_hms(2027, 3, 14, 7, 0, 0).unwrap());
        // 7 November 2027: 01:00-02:00 happens twice, 02:30 once (EST, 07:30 UTC).
        let evening = Utc.with_ymd_and_hms(2027, 11, 7, 2, 0, 0).unwrap();
        assert_eq!(next_run_after(evening, at, zone), Utc.with_ymd_and_hms(2027, 11, 7, 7, 30, 0).unwrap());
        // The night after the jump is an ordinary night again (EDT, 06:30 UTC).
        let after = Utc.with_ymd_and_hms(2027, 3, 14, 7, 0, 0).unwrap();
        assert_eq!(next_run_after(after, at, zone), Utc.with_ymd_and_hms(2027, 3, 15, 6, 30, 0).unwrap());
    }
}
