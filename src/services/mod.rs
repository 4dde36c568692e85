//! Use cases. Each opens one transaction (a write transaction ends by appending its audit
//! entries to the chain), asks the domain for decisions, and writes the outcome. Blocking
//! database work runs on the blocking pool, the whole use case in one closure.

pub mod alerts;
pub mod audit;
pub mod audit_chain;
pub mod auth;
pub mod backup;
pub mod clinical;
pub mod corrections;
pub mod dispensing;
pub mod drug_tests;
pub mod gate;
pub mod health;
pub mod home_visits;
pub mod idempotency;
pub mod metrics;
pub mod offline;
pub mod orders;
pub mod passwords;
pub mod patients;
pub mod rate_limit;
pub mod rehab;
pub mod reports;
pub mod scope;
pub mod sites;
pub mod staff;
pub mod stock;
pub mod sweep;
pub mod validation;
pub mod writer;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::append_only::Written;
use crate::db::audit::AuditDraft;
use crate::db::{self, Backend, DbConn, DbPool};
use crate::domain::audit::HeadRecord;
use crate::domain::dates::{self, Window};
use crate::domain::staff::Role;
use crate::error::{AppError, AppResult};
use audit_chain::AuditChain;

/// What every use case needs: configuration, the pool, the clock, and the sign-in keys.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: DbPool,
    pub clock: Clock,
    pub backend: Backend,
    pub passwords: passwords::PasswordService,
    pub tokens: Arc<auth::TokenKeys>,
    pub gates: Gates,
    /// Requests per minute per signed-in user.
    pub rate_limiter: rate_limit::RateLimiter,
    /// Request counts and latencies for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Live sessions as last read (see [`auth::SessionCache`]).
    pub sessions: auth::SessionCache,
    /// The audit chain's key and its head outside the database.
    pub audit: Arc<AuditChain>,
    /// SQLite: the writer thread that commits the writes arriving together as one durable
    /// transaction (see [`writer`]). PostgreSQL: none; each write is a transaction of its
    /// own on a pooled connection.
    writer: Option<writer::GroupWriter>,
    /// One attendance sweep at a time (start-up, nightly and on demand may meet).
    sweep_lane: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// Opens the database, applies migrations, prepares the audit chain (refusing to start
    /// when an append-only trigger is missing or the audit key is not the chain's), and
    /// creates the first admin when `MMT_ADMIN_PASSWORD` is set and no staff exist.
    pub async fn start(config: Config) -> Result<AppState, StartupError> {
        AppState::open(config, true).await
    }

    /// As [`AppState::start`], but without preparing the audit chain (nothing is written to
    /// it, and a missing trigger or another key does not stop it): for `verify-audit`, which
    /// reports them, and `backup`.
    pub async fn start_for_inspection(config: Config) -> Result<AppState, StartupError> {
        AppState::open(config, false).await
    }

    async fn open(config: Config, strict: bool) -> Result<AppState, StartupError> {
        let audit = Arc::new(AuditChain::open(&config)?);
        let pool = db::build_pool(&config.database_url, config.pool_size, config.db_wait)
            .map_err(|e| StartupError(format!("cannot open the database {}: {e}", config.database_url.masked())))?;
        let backend = config.database_url.backend();
        {
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || -> Result<usize, String> {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                db::run_migrations(&mut conn).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| StartupError(e.to_string()))?
            .map_err(StartupError)
            .map(|n| {
                if n > 0 {
                    tracing::info!(applied = n, "database migrations applied");
                }
            })?;
        }
        {
            let pool = pool.clone();
            let audit = audit.clone();
            tokio::task::spawn_blocking(move || -> Result<(), StartupError> {
                let mut conn = pool.get().map_err(|e| StartupError(e.to_string()))?;
                audit::prepare_chain(&mut conn, &audit, Utc::now(), !strict)
            })
            .await
            .map_err(|e| StartupError(e.to_string()))??;
        }
        let clock = if config.test_clock {
            tracing::warn!("MMT_TEST_CLOCK=1: the clock can be set by an admin; never use this in production");
            Clock::settable(Utc::now())
        } else {
            Clock::system()
        };
        let tokens = Arc::new(auth::TokenKeys::new(&config).map_err(|e| StartupError(e.message))?);
        let rate_limiter = rate_limit::RateLimiter::new(config.rate_limit_per_minute);
        let connections = db::connections(&config.database_url, config.db_wait);
        let state = AppState {
            config: Arc::new(config),
            pool: pool.clone(),
            clock,
            backend,
            passwords: passwords::PasswordService::new(),
            tokens,
            gates: Gates::default(),
            rate_limiter,
            metrics: metrics::Metrics::default(),
            sessions: auth::SessionCache::default(),
            writer: (backend == Backend::Sqlite)
                .then(|| writer::GroupWriter::start(pool.clone(), connections, audit.clone())),
            audit,
            sweep_lane: Arc::new(tokio::sync::Mutex::new(())),
        };
        if let Some(password) = state.config.admin_password.clone() {
            if let Some(created) =
                staff::bootstrap_admin(&state, password.expose()).await.map_err(|e| StartupError(e.message))?
            {
                tracing::info!(staff_id = %created, "created the first admin account 'admin'");
            }
        }
        Ok(state)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.today(self.config.timezone)
    }

    /// Runs read-only work on a pooled connection.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs a write use case in one transaction whose last step appends its audit entries.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> AppResult<T> + Send + 'static,
    {
        let now = self.now();
        if let Some(writer) = &self.writer {
            return writer.write(now, false, f).await;
        }
        let pool = self.pool.clone();
        let audit = self.audit.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            run_write(&mut conn, &audit, now, f)
        })
        .await?
    }
}

impl AppState {
    /// Runs a write transaction that is bookkeeping, not history, and so carries no audit
    /// entry: only the sign-in throttle's attempt counter, whose outcome the sign-in's own
    /// audited transaction records.
    pub async fn write_bookkeeping<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
    {
        if let Some(writer) = &self.writer {
            return writer.write(self.now(), true, move |tx| f(tx.conn)).await;
        }
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            db::write_transaction(&mut conn, f)
        })
        .await?
    }
}

/// The body of [`AppState::write`], usable from blocking code (the command line, demo data).
pub fn run_write<T>(
    conn: &mut DbConn,
    chain: &AuditChain,
    now: DateTime<Utc>,
    f: impl FnOnce(&mut Tx<'_>) -> AppResult<T>,
) -> AppResult<T> {
    let (out, head) = db::write_transaction(conn, |conn| {
        let mut tx = Tx { conn, now, written: Written::new(), audit: Vec::new() };
        let out = f(&mut tx)?;
        let head = tx.finish(chain)?;
        Ok::<_, AppError>((out, head))
    })?;
    if let Some(head) = head {
        chain.committed(head);
    }
    Ok(out)
}

/// A write transaction in progress: the connection, the instant it acts at, the
/// append-only rows it wrote, and the audit entries it will append.
pub struct Tx<'c> {
    pub conn: &'c mut DbConn,
    pub now: DateTime<Utc>,
    /// Every append-only row written in this transaction (the `db` functions that write one
    /// take it); each goes into the next audit entry, the last ones into the last entry.
    pub written: Written,
    audit: Vec<AuditDraft>,
}

impl Tx<'_> {
    /// Records what this transaction did, with the append-only rows written since the last
    /// entry. `summary` must never hold patient names, id numbers or doses in plain words
    /// that identify a person.
    pub fn audit(
        &mut self,
        actor_id: Option<&str>,
        action: &str,
        entity: &str,
        entity_id: Option<&str>,
        summary: impl Into<String>,
    ) {
        self.audit.push(AuditDraft {
            actor_id: actor_id.map(str::to_string),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: entity_id.map(str::to_string),
            summary: summary.into(),
            rows: self.written.take(),
        });
    }

    /// Appends the entries to the chain and stores the new head.
    fn finish(mut self, chain: &AuditChain) -> AppResult<Option<HeadRecord>> {
        self.close_entries()?;
        Ok(db::audit::append(self.conn, chain.key(), &self.audit, self.now)?)
    }

    /// Appends the entries after `head` (read once by a group commit, which stores the
    /// group's last head once); the new head.
    fn finish_after(mut self, chain: &AuditChain, head: HeadRecord) -> AppResult<HeadRecord> {
        self.close_entries()?;
        Ok(db::audit::append_links(self.conn, chain.key(), &self.audit, self.now, head)?)
    }

    /// The last entry takes the rows written since it was recorded; a write must record one.
    fn close_entries(&mut self) -> AppResult<()> {
        let Some(last) = self.audit.last_mut() else {
            return Err(AppError::internal("a write transaction recorded no audit entry"));
        };
        last.rows.extend(self.written.take());
        Ok(())
    }
}

/// Keyed gates: concurrent requests about the same thing take turns in this process.
#[derive(Clone, Default)]
pub struct Gates {
    /// Per account: sign-in attempts.
    pub sign_in: gate::KeyedGate,
    /// Per staff member and `Idempotency-Key`: retried writes.
    pub idempotency: gate::KeyedGate,
}

/// The signed-in staff member a use case acts for.
#[derive(Debug, Clone)]
pub struct Actor {
    pub staff_id: String,
    pub session_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub site_ids: Vec<String>,
    pub townships: Vec<String>,
}

impl Actor {
    /// Refuses with 403 unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden("Your role does not allow this."))
        }
    }

    pub fn works_at(&self, site_id: &str) -> bool {
        self.site_ids.iter().any(|s| s == site_id)
    }
}

/// Refuses a date outside its window, before any work: 422 `validation_failed` naming the
/// field and the window.
pub fn check_date(field: &str, date: NaiveDate, window: Window) -> AppResult<()> {
    match window.problem(date) {
        Some(problem) => Err(AppError::invalid_field(field, problem)),
        None => Ok(()),
    }
}

/// The days a query asks for: `to` defaults to today and `from` to `default_days` days
/// ending on `to` (both included); the range must run forwards and hold at most `max_days`.
pub fn day_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
    default_days: i64,
    max_days: i64,
) -> AppResult<(NaiveDate, NaiveDate)> {
    let to = to.unwrap_or(today);
    check_date("to", to, Window::new(dates::EARLIEST, today + chrono::Duration::days(dates::DAY_VIEW_DAYS)))?;
    let from = from.unwrap_or(to - chrono::Duration::days(default_days - 1));
    check_date("from", from, Window::new(dates::EARLIEST, to))?;
    if from > to {
        return Err(AppError::invalid_field("from", "must not be after to"));
    }
    if (to - from).num_days() + 1 > max_days {
        return Err(AppError::invalid_field("from", format!("the range may cover at most {max_days} days")));
    }
    Ok((from, to))
}

/// Why the service could not start, in words for the person starting it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);
