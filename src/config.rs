//! Typed configuration from the environment (and a `.env` file), validated at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use rand::RngCore;

use crate::db::DbUrl;
use crate::domain::rules::RuleSet;
use crate::domain::signin::ThrottlePolicy;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/mmt-clinic.sqlite3";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// A value that must never reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where the audit chain's key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditKeySource {
    /// `MMT_AUDIT_KEY`.
    Given(Secret),
    /// Development without `MMT_AUDIT_KEY`: a random key generated once and kept in this
    /// file (mode 0600) beside the database.
    File(PathBuf),
    /// Development on an in-memory database: a random key for this run.
    Ephemeral,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub database_url: DbUrl,
    pub bind: SocketAddr,
    pub timezone: Tz,
    pub jwt_secret: Secret,
    /// True when no `MMT_JWT_SECRET` was given and one was generated for this run.
    pub jwt_secret_generated: bool,
    pub admin_password: Option<Secret>,
    pub test_clock: bool,
    pub rules_file: Option<PathBuf>,
    pub rules: RuleSet,
    pub static_dir: Option<PathBuf>,
    /// Access-token lifetime in seconds (at most 15 minutes).
    pub access_token_seconds: i64,
    /// How long a sign-in session lasts without a new login, in seconds.
    pub session_seconds: i64,
    pub throttle: ThrottlePolicy,
    /// Take the client address from `X-Forwarded-For` (only behind our own reverse proxy).
    pub trust_proxy: bool,
    pub pool_size: u32,
    /// Local time of the nightly attendance/alert sweep (`MMT_SWEEP_AT`, HH:MM).
    pub sweep_at: chrono::NaiveTime,
    pub audit_key: AuditKeySource,
    /// Where the audit chain's head is written outside the database (`MMT_AUDIT_HEAD_FILE`;
    /// for SQLite by default beside the database file).
    pub audit_head_file: Option<PathBuf>,
    /// The longest any wait for the database lasts (a pooled connection, a new
    /// connection, a lock) before the request answers 503 (`MMT_DB_WAIT_SECONDS`).
    pub db_wait: std::time::Duration,
    /// The longest a request takes before it answers 503 (`MMT_REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout: std::time::Duration,
    /// Requests per minute one signed-in user may make (`MMT_RATE_LIMIT`); beyond, 429
    /// `too_many_requests` with `Retry-After`. 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Local time of the daily SQLite backup (`MMT_BACKUP_AT`, HH:MM); none when unset.
    pub backup_at: Option<chrono::NaiveTime>,
    /// Scheduled backups kept (`MMT_BACKUP_KEEP`); older ones are removed.
    pub backup_keep: u32,
    /// Where scheduled backups go (`MMT_BACKUP_DIR`; default `backups/` beside the database).
    pub backup_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

pub const MAX_ACCESS_TOKEN_SECONDS: i64 = 15 * 60;

impl Config {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_environment() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::from_vars(|key| std::env::var(key).ok().filter(|v| !v.is_empty()))
    }

    /// Builds the config from a lookup function, so tests need not touch the environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let environment = match var("MMT_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError(format!("MMT_ENV must be 'development' or 'production', not {other:?}")))
            }
        };

        let url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let database_url = DbUrl::parse(&url).map_err(|e| ConfigError(e.to_string()))?;

        let bind_text = var("MMT_BIND").unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let bind = bind_text
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError(format!("MMT_BIND must be an address like 127.0.0.1:8080, not {bind_text:?}")))?;

        let tz_text = var("MMT_TIMEZONE").unwrap_or_else(|| "Asia/Shanghai".to_string());
        let timezone = tz_text.parse::<Tz>().map_err(|_| {
            ConfigError(format!("MMT_TIMEZONE must be an IANA zone like Asia/Shanghai, not {tz_text:?}"))
        })?;

        let (jwt_secret, jwt_secret_generated) = match var("MMT_JWT_SECRET") {
            Some(s) if s.len() >= 32 => (Secret::new(s), false),
            Some(_) => return Err(ConfigError("MMT_JWT_SECRET must be at least 32 characters".into())),
            None if environment == Environment::Production => {
                return Err(ConfigError(
                    "MMT_JWT_SECRET is required when MMT_ENV=production (at least 32 random characters)".into(),
                ))
            }
            None => {
                let mut bytes = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut bytes);
                (Secret::new(hex::encode(bytes)), true)
            }
        };

        let test_clock = parse_bool(var("MMT_TEST_CLOCK"), "MMT_TEST_CLOCK")?;
        if test_clock && environment == Environment::Production {
            return Err(ConfigError("MMT_TEST_CLOCK must not be enabled when MMT_ENV=production".into()));
        }

        let rules_file = var("MMT_RULES").map(PathBuf::from);
        let rules = match &rules_file {
            None => RuleSet::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("MMT_RULES: cannot read {}: {e}", path.display())))?;
                RuleSet::from_toml(&text).map_err(|e| ConfigError(format!("MMT_RULES {}: {e}", path.display())))?
            }
        };

        let access_token_seconds = parse_number(var("MMT_ACCESS_TOKEN_SECONDS"), "MMT_ACCESS_TOKEN_SECONDS", 900)?;
        if !(30..=MAX_ACCESS_TOKEN_SECONDS).contains(&access_token_seconds) {
            return Err(ConfigError("MMT_ACCESS_TOKEN_SECONDS must be between 30 and 900".into()));
        }
        let session_seconds = parse_number(var("MMT_SESSION_SECONDS"), "MMT_SESSION_SECONDS", 12 * 3600)?;
        if session_seconds < access_token_seconds {
            return Err(ConfigError("MMT_SESSION_SECONDS must not be shorter than the access token".into()));
        }
        let pool_size = parse_number(var("MMT_POOL_SIZE"), "MMT_POOL_SIZE", 8)?;
        if !(1..=256).contains(&pool_size) {
            return Err(ConfigError("MMT_POOL_SIZE must be between 1 and 256".into()));
        }

        let sweep_text = var("MMT_SWEEP_AT").unwrap_or_else(|| "00:30".to_string());
        let sweep_at = chrono::NaiveTime::parse_from_str(&sweep_text, "%H:%M")
            .map_err(|_| ConfigError(format!("MMT_SWEEP_AT must be a local time like 00:30, not {sweep_text:?}")))?;

        let sqlite_path = match &database_url {
            DbUrl::Sqlite(path) if path != ":memory:" => Some(path.clone()),
            _ => None,
        };
        let audit_key =
            match var("MMT_AUDIT_KEY") {
                Some(k) if k.len() >= 32 => AuditKeySource::Given(Secret::new(k)),
                Some(_) => return Err(ConfigError("MMT_AUDIT_KEY must be at least 32 characters".into())),
                None if environment == Environment::Production => return Err(ConfigError(
                    "MMT_AUDIT_KEY is required when MMT_ENV=production (at least 32 random characters, kept outside \
                     the database server)"
                        .into(),
                )),
                None => match (&database_url, &sqlite_path) {
                    (DbUrl::Sqlite(_), Some(path)) => AuditKeySource::File(PathBuf::from(format!("{path}.audit-key"))),
                    (DbUrl::Sqlite(_), None) => AuditKeySource::Ephemeral,
                    (DbUrl::Postgres(_), _) => AuditKeySource::File(PathBuf::from("data/mmt-clinic.audit-key")),
                },
            };
        let audit_head_file = match var("MMT_AUDIT_HEAD_FILE") {
            Some(path) => Some(PathBuf::from(path)),
            None if database_url.backend() == crate::db::Backend::Postgres
                && environment == Environment::Production =>
            {
                return Err(ConfigError(
                    "MMT_AUDIT_HEAD_FILE is required for PostgreSQL when MMT_ENV=production (a file outside the \
                     database server where the audit chain's head is kept)"
                        .into(),
                ))
            }
            None => sqlite_path.map(|path| PathBuf::from(format!("{path}.audit-head"))),
        };

        let db_wait = parse_number(var("MMT_DB_WAIT_SECONDS"), "MMT_DB_WAIT_SECONDS", 10)?;
        if !(1..=300).contains(&db_wait) {
            return Err(ConfigError("MMT_DB_WAIT_SECONDS must be between 1 and 300".into()));
        }
        let request_timeout = parse_number(var("MMT_REQUEST_TIMEOUT_SECONDS"), "MMT_REQUEST_TIMEOUT_SECONDS", 30)?;
        if !(1..=3600).contains(&request_timeout) {
            return Err(ConfigError("MMT_REQUEST_TIMEOUT_SECONDS must be between 1 and 3600".into()));
        }
        let rate_limit = parse_number(var("MMT_RATE_LIMIT"), "MMT_RATE_LIMIT", 600)?;
        if !(0..=1_000_000).contains(&rate_limit) {
            return Err(ConfigError("MMT_RATE_LIMIT must be between 0 (off) and 1000000 requests a minute".into()));
        }

        let backup_at = match var("MMT_BACKUP_AT") {
            None => None,
            Some(text) => Some(
                chrono::NaiveTime::parse_from_str(&text, "%H:%M")
                    .map_err(|_| ConfigError(format!("MMT_BACKUP_AT must be a local time like 02:00, not {text:?}")))?,
            ),
        };
        let backup_keep = parse_number(var("MMT_BACKUP_KEEP"), "MMT_BACKUP_KEEP", 14)?;
        if !(1..=3650).contains(&backup_keep) {
            return Err(ConfigError("MMT_BACKUP_KEEP must be between 1 and 3650".into()));
        }

        Ok(Config {
            environment,
            database_url,
            bind,
            timezone,
            jwt_secret,
            jwt_secret_generated,
            admin_password: var("MMT_ADMIN_PASSWORD").map(Secret::new),
            test_clock,
            rules_file,
            rules,
            static_dir: var("MMT_STATIC_DIR").map(PathBuf::from),
            access_token_seconds,
            session_seconds,
            throttle: ThrottlePolicy::default(),
            trust_proxy: parse_bool(var("MMT_TRUST_PROXY"), "MMT_TRUST_PROXY")?,
            pool_size: pool_size as u32,
            sweep_at,
            audit_key,
            audit_head_file,
            db_wait: std::time::Duration::from_secs(db_wait as u64),
            request_timeout: std::time::Duration::from_secs(request_timeout as u64),
            rate_limit_per_minute: rate_limit as u32,
            backup_at,
            backup_keep: backup_keep as u32,
            backup_dir: var("MMT_BACKUP_DIR").map(PathBuf::from),
        })
    }

    /// The resolved configuration for the start-up log, secrets masked.
    pub fn describe(&self) -> String {
        format!(
            "environment={:?} database={} bind={} timezone={} jwt_secret={} admin_password={} \
             test_clock={} rules={} static_dir={} access_token_seconds={} session_seconds={} \
             trust_proxy={} pool_size={} sweep_at={} audit_key={} audit_head_file={} db_wait_seconds={} \
             request_timeout_seconds={} rate_limit={}",
            self.environment,
            self.database_url.masked(),
            self.bind,
            self.timezone,
            if self.jwt_secret_generated { "generated-for-this-run" } else { "***" },
            if self.admin_password.is_some() { "***" } else { "unset" },
            self.test_clock,
            self.rules_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "defaults".into()),
            self.static_dir.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "embedded".into()),
            self.access_token_seconds,
            self.session_seconds,
            self.trust_proxy,
            self.pool_size,
            self.sweep_at.format("%H:%M"),
            match &self.audit_key {
                AuditKeySource::Given(_) => "***".to_string(),
                AuditKeySource::File(path) => format!("development-key-file:{}", path.display()),
                AuditKeySource::Ephemeral => "generated-for-this-run".to_string(),
            },
            self.audit_head_file.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none".into()),
            self.db_wait.as_secs(),
            self.request_timeout.as_secs(),
            self.rate_limit_per_minute,
        )
    }
}

fn parse_bool(value: Option<String>, name: &str) -> Result<bool, ConfigError> {
    match value.as_deref() {
        None | Some("0") | Some("false") | Some("no") => Ok(false),
        Some("1") | Some("true") | Some("yes") => Ok(true),
        Some(other) => Err(ConfigError(format!("{name} must be 1 or 0, not {other:?}"))),
    }
}

fn parse_number(value: Option<String>, name: &str, default: i64) -> Result<i64, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => {
            text.trim().parse::<i64>().map_err(|_| ConfigError(format!("{name} must be a whole number, not {text:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_work_with_nothing_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, DbUrl::Sqlite("data/mmt-clinic.sqlite3".into()));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.timezone, chrono_tz::Asia::Shanghai);
        assert!(c.jwt_secret_generated);
        assert_eq!(c.access_token_seconds, 900);
        assert!(!c.test_clock);
    }

    #[test]
    fn production_refuses_to_start_without_a_jwt_secret() {
        let err = config(&[("MMT_ENV", "production")]).unwrap_err();
        assert!(err.to_string().contains("MMT_JWT_SECRET is required"), "{err}");
        let ok = config(&[
            ("MMT_ENV", "production"),
            ("MMT_JWT_SECRET", &"x".repeat(40)),
            ("MMT_AUDIT_KEY", &"k".repeat(40)),
        ]);
        assert!(ok.is_ok());
    }

    #[test]
    fn production_refuses_to_start_without_an_audit_key() {
        let jwt = "x".repeat(40);
        let err = config(&[("MMT_ENV", "production"), ("MMT_JWT_SECRET", &jwt)]).unwrap_err();
        assert!(err.to_string().contains("MMT_AUDIT_KEY is required"), "{err}");
        let err = config(&[("MMT_AUDIT_KEY", "short")]).unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }

    #[test]
    fn development_keeps_the_audit_key_and_head_beside_the_sqlite_database() {
        let c = config(&[("DATABASE_URL", "sqlite://data/x.sqlite3")]).unwrap();
        assert_eq!(c.audit_key, AuditKeySource::File(PathBuf::from("data/x.sqlite3.audit-key")));
        assert_eq!(c.audit_head_file, Some(PathBuf::from("data/x.sqlite3.audit-head")));
        let c = config(&[("DATABASE_URL", "sqlite://:memory:")]).unwrap();
        assert_eq!(c.audit_key, AuditKeySource::Ephemeral);
        assert_eq!(c.audit_head_file, None);
        let key = "k".repeat(40);
        let c = config(&[("MMT_AUDIT_KEY", &key), ("MMT_AUDIT_HEAD_FILE", "/var/lib/mmt/head")]).unwrap();
        assert_eq!(c.audit_key, AuditKeySource::Given(Secret::new(key.clone())));
        assert_eq!(c.audit_head_file, Some(PathBuf::from("/var/lib/mmt/head")));
        assert!(!c.describe().contains(&key), "{}", c.describe());
    }

    #[test]
    fn the_nightly_sweep_runs_at_half_past_midnight_unless_told_otherwise() {
        assert_eq!(config(&[]).unwrap().sweep_at, chrono::NaiveTime::from_hms_opt(0, 30, 0).unwrap());
        let c = config(&[("MMT_SWEEP_AT", "21:15")]).unwrap();
        assert_eq!(c.sweep_at, chrono::NaiveTime::from_hms_opt(21, 15, 0).unwrap());
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        assert!(config(&[("MMT_JWT_SECRET", "short")]).is_err());
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        for (key, value) in [
            ("MMT_BIND", "localhost"),
            ("MMT_TIMEZONE", "Mars/Olympus"),
            ("DATABASE_URL", "mysql://x"),
            ("MMT_TEST_CLOCK", "maybe"),
            ("MMT_ACCESS_TOKEN_SECONDS", "3600"),
            ("MMT_SWEEP_AT", "25:00"),
            ("MMT_DB_WAIT_SECONDS", "0"),
            ("MMT_REQUEST_TIMEOUT_SECONDS", "soon"),
            ("MMT_RATE_LIMIT", "-1"),
            ("MMT_BACKUP_AT", "2am"),
            ("MMT_BACKUP_KEEP", "0"),
        ] {
            let err = config(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(key) || err.contains("DATABASE_URL"), "{key}: {err}");
        }
    }

    #[test]
    fn secrets_are_masked_in_the_description() {
        let secret = "s".repeat(40);
        let c = config(&[
            ("MMT_JWT_SECRET", &secret),
            ("MMT_ADMIN_PASSWORD", "hunter2-hunter2"),
            ("DATABASE_URL", "postgres://mmt:pgsecret@db/mmt"),
        ]);
        // The postgres URL needs the postgres feature; check the masking either way.
        if let Ok(c) = c {
            let d = c.describe();
            assert!(!d.contains(&secret) && !d.contains("hunter2") && !d.contains("pgsecret"), "{d}");
        }
        assert_eq!(DbUrl::Postgres("postgres://mmt:pgsecret@db/mmt".into()).masked(), "postgres://mmt:***@db/mmt");
    }
}
