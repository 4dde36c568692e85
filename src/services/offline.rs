//! Doses given at a window that had lost the line: the incidents for doctors when the server
//! could not record one (the upload itself is [`super::dispensing::give`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{day_range, Actor, AppState};
use crate::db::doses as q;
use crate::db::{patients as patients_q, sites as sites_q, staff as staff_q};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult, ErrorCode};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// First dose day (default: 30 days ago).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub from: Option<NaiveDate>,
    /// Last dose day (default: today).
    #[serde(default, deserialize_with = "crate::domain::dates::iso_opt")]
    pub to: Option<NaiveDate>,
    /// One of the caller's sites (default: all of them).
    pub site_id: Option<String>,
}

/// A dose given offline that the server did not record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OfflineIncident {
    pub id: String,
    pub patient_id: String,
    pub patient_no: String,
    pub patient_name: String,
    pub site_id: String,
    pub site_name: Option<String>,
    pub nurse_id: String,
    pub nurse_name: Option<String>,
    pub dose_day: NaiveDate,
    pub dose_mg: f64,
    /// When the window's clock says the dose was given.
    pub terminal_given_at: DateTime<Utc>,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// Why it was not recorded: the refusal's code (`already_dosed_today`,
    /// `site_not_allowed`, `offline_day_ended`, ...).
    pub reason: ErrorCode,
    /// The refusal's details (for `already_dosed_today`, the dose that stands).
    #[schema(value_type = Object)]
    pub reason_details: serde_json::Value,
}

/// The incidents of the caller's sites (nurses and doctors), oldest first.
pub async fn incidents(state: &AppState, actor: &Actor, query: IncidentQuery) -> AppResult<Vec<OfflineIncident>> {
    actor.require(&[Role::Nurse, Role::Doctor])?;
    let (from, to) = day_range(query.from, query.to, state.today(), 30, 366)?;
    let sites = match query.site_id {
        Some(site) if actor.works_at(&site) => vec![site],
        Some(_) => return Err(AppError::new(ErrorCode::SiteNotAllowed, "You do not work at this site.")),
        None => actor.site_ids.clone(),
    };
    state
        .read(move |conn| {
            let rows = q::incidents(conn, from, to, Some(&sites))?;
            let patient_ids: Vec<String> = rows.iter().map(|r| r.patient_id.clone()).collect();
            let patients = patients_q::find_many(conn, &patient_ids)?;
            let nurse_ids: Vec<String> = rows.iter().map(|r| r.nurse_id.clone()).collect();
            let nurses = staff_q::names(conn, &nurse_ids)?;
            let site_names = sites_q::names(conn)?;
            rows.into_iter()
                .map(|r| {
                    let patient = patients
                        .iter()
                        .find(|p| p.id == r.patient_id)
                        .ok_or_else(|| AppError::internal("an incident's patient is missing"))?;
                    Ok(OfflineIncident {
                        patient_no: patient.patient_no.clone(),
                        patient_name: patient.name.clone(),
                        site_name: site_names.get(&r.site_id).cloned(),
                        nurse_name: nurses.get(&r.nurse_id).cloned(),
                        reason: ErrorCode::parse(&r.reason)
                            .ok_or_else(|| AppError::internal("an incident's reason is not a code"))?,
                        reason_details: serde_json::from_str(&r.details).map_err(AppError::internal)?,
                        id: r.id,
                        patient_id: r.patient_id,
                        site_id: r.site_id,
                        nurse_id: r.nurse_id,
                        dose_day: r.dose_day,
                        dose_mg: f64::from(r.deci_mg) / 10.0,
                        terminal_given_at: r.terminal_given_at.and_utc(),
                        received_at: r.received_at.and_utc(),
                    })
                })
                .collect()
        })
        .await
}
