//! `/metrics` in the Prometheus text format: requests by route and status, latency
//! histograms, doses today per site, open alerts by kind, the sweep's duration and last
//! success, the newest backup's age, database pool use, and the audit chain's length.
//! Labels are routes, statuses, site ids and kinds: never names, id numbers or doses.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use super::AppState;
use crate::db;
use crate::error::AppResult;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Route {
    /// Answers by status.
    statuses: BTreeMap<u16, u64>,
    /// Answers at or under each bucket's bound.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Request counts and latencies, kept in memory since the start.
#[derive(Clone, Default)]
pub struct Metrics {
    routes: Arc<Mutex<BTreeMap<(String, String), Route>>>,
}

impl Metrics {
    /// Counts one answer. `route` is the route's pattern (`/api/v1/patients/{id}`), never
    /// the path itself.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let r = routes.entry((method.to_string(), route.to_string())).or_default();
        *r.statuses.entry(status).or_default() += 1;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                r.buckets[i] += 1;
            }
        }
        r.count += 1;
        r.sum_seconds += seconds;
    }

    fn write_requests(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str(
            "# HELP mmt_http_requests_total Answers by route and status.\n# TYPE mmt_http_requests_total counter\n",
        );
        for ((method, route), r) in routes.iter() {
            for (status, n) in &r.statuses {
                let _ = writeln!(
                    out,
                    "mmt_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP mmt_http_request_duration_seconds Time to answer, by route.\n\
             # TYPE mmt_http_request_duration_seconds histogram\n",
        );
        for ((method, route), r) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "mmt_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    r.buckets[i]
                );
            }
            let _ = writeln!(out, "mmt_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", r.count);
            let _ = writeln!(out, "mmt_http_request_duration_seconds_sum{{{labels}}} {}", r.sum_seconds);
            let _ = writeln!(out, "mmt_http_request_duration_seconds_count{{{labels}}} {}", r.count);
        }
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
}

/// The whole page.
pub async fn render(state: &AppState) -> AppResult<String> {
    let today = state.today();
    let (doses, alerts, sweep, head) = state
        .read(move |conn| {
            let doses = db::doses::count_by_site_on(conn, today)?;
            let alerts = db::alerts::open_by_kind(conn)?;
            let sweep = db::alerts::latest_sweep_run(conn)?;
            let head = db::audit::head(conn)?;
            Ok((doses, alerts, sweep, head))
        })
        .await?;
    let mut out = String::new();
    state.metrics.write_requests(&mut out);
    out.push_str(
        "# HELP mmt_doses_today Doses recorded today (the clinic's dose day), by site.\n# TYPE mmt_doses_today gauge\n",
    );
    for (site, n) in doses {
        let _ = writeln!(out, "mmt_doses_today{{site_id=\"{}\"}} {n}", escape(&site));
    }
    out.push_str(
        "# HELP mmt_alerts_open Open alerts (not acknowledged, not resolved), by kind.\n# TYPE mmt_alerts_open gauge\n",
    );
    for (kind, n) in alerts {
        let _ = writeln!(out, "mmt_alerts_open{{kind=\"{}\"}} {n}", escape(&kind));
    }
    if let Some(run) = sweep {
        let seconds = (run.finished_at - run.started_at).num_milliseconds() as f64 / 1000.0;
        gauge(&mut out, "mmt_sweep_duration_seconds", "How long the last attendance sweep took.", seconds);
        gauge(
            &mut out,
            "mmt_sweep_last_success_timestamp_seconds",
            "When the last attendance sweep finished (Unix time).",
            run.finished_at.and_utc().timestamp(),
        );
    }
    if let Some(age) = super::backup::newest_backup_age(state) {
        gauge(&mut out, "mmt_backup_age_seconds", "Age of the newest scheduled backup.", age.round());
    }
    let pool = state.pool.state();
    gauge(&mut out, "mmt_db_pool_connections", "Open database connections.", pool.connections);
    gauge(&mut out, "mmt_db_pool_idle_connections", "Idle database connections.", pool.idle_connections);
    gauge(&mut out, "mmt_db_pool_max_connections", "The pool's size (MMT_POOL_SIZE).", state.pool.max_size());
    gauge(&mut out, "mmt_audit_chain_length", "Entries in the audit chain.", head.seq);
    Ok(out)
}

/// The page for a caller: anyone on this machine (not through the proxy), or an admin.
pub async fn render_for(state: &AppState, actor: Option<&super::Actor>, from_this_machine: bool) -> AppResult<String> {
    if !from_this_machine {
        match actor {
            None => return Err(crate::error::AppError::unauthenticated()),
            Some(a) => a.require(&[crate::domain::staff::Role::Admin])?,
        }
    }
    render(state).await
}
