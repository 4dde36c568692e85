//! Liveness of the service and its database; the admin's test clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, AppState};
use crate::db;
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// `true` when the database answers within two seconds.
pub async fn database_answers(state: &AppState) -> bool {
    let pool = state.pool.clone();
    let check = tokio::task::spawn_blocking(move || {
        let mut conn = pool.get_timeout(Duration::from_secs(2)).ok()?;
        db::ping(&mut conn).ok()
    });
    matches!(tokio::time::timeout(Duration::from_secs(3), check).await, Ok(Ok(Some(()))))
}

pub async fn health(state: &AppState) -> Health {
    let ok = database_answers(state).await;
    Health { status: if ok { "ok" } else { "unavailable" }, database: state.backend.name() }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClockSetting {
    pub now: DateTime<Utc>,
}

/// Sets the test clock (only when `MMT_TEST_CLOCK=1`; otherwise the route does not exist).
pub async fn set_clock(state: &AppState, actor: &Actor, now: DateTime<Utc>) -> AppResult<ClockSetting> {
    actor.require(&[Role::Admin])?;
    if !state.clock.is_settable() {
        return Err(AppError::not_found());
    }
    let before = state.now();
    let actor_id = actor.staff_id.clone();
    // Audit first, at the old time, then move the clock.
    state
        .write(move |tx| {
            tx.audit(Some(&actor_id), "clock.set", "clock", None, format!("test clock set from {before} to {now}"));
            Ok(())
        })
        .await?;
    state.clock.set(now);
    Ok(ClockSetting { now: state.now() })
}

/// The service clock as the UI needs it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClinicClock {
    pub now: DateTime<Utc>,
    /// The clinic's day (`YYYY-MM-DD` in `timezone`).
    pub today: chrono::NaiveDate,
    /// The IANA zone of the clinic (`MMT_TIMEZONE`).
    pub timezone: String,
}

pub fn clinic_clock(state: &AppState) -> ClinicClock {
    ClinicClock { now: state.now(), today: state.today(), timezone: state.config.timezone.name().to_string() }
}
