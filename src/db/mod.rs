//! The database layer: connections for both backends, the pool, embedded migrations,
//! write transactions, and the queries. Nothing outside this module writes SQL.

/// Filters on a patient-id column: `= ?` for one id — a prepared statement SQLite can
/// cache, which the dosing window's one-patient path runs on every dose — and `IN (…)` for
/// several (the site's queue), whose SQL changes with the count and is prepared afresh.
macro_rules! for_patient_ids {
    ($ids:expr, $column:expr, |$filter:ident| $query:expr) => {
        match $ids {
            [one] => {
                let $filter = $column.eq(one);
                $query
            }
            many => {
                let $filter = $column.eq_any(many);
                $query
            }
        }
    };
}

/// Runs a statement on the backend's own connection instead of through [`DbConn`]: `native!(conn,
/// |c| query.load(c))`. Diesel's two-backend connection builds a statement's SQL text twice
/// on every run, cached or not (once to learn whether it may be cached, once more to bind
/// it); on the backend's connection a cached statement is found by its type and only bound.
/// For the statements every dose runs (measured: about a tenth of the group writer's time
/// went into that text). The query is the same for both backends.
macro_rules! native {
    ($conn:expr, |$c:ident| $run:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            $crate::db::DbConn::Sqlite($c) => $run,
            #[cfg(feature = "postgres")]
            $crate::db::DbConn::Postgres($c) => $run,
        }
    };
}

pub mod alerts;
pub mod append_only;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod corrections;
pub mod doses;
pub mod drug_tests;
pub mod enums;
pub mod home_visits;
pub mod idempotency;
pub mod orders;
pub mod patients;
pub mod rehab;
pub mod schema;
pub mod sites;
pub mod staff;
pub mod stock;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("enable at least one of the features `sqlite` and `postgres`");

#[cfg(feature = "sqlite")]
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
}

pub type DbPool = r2d2::Pool<ConnManager>;
pub type PooledConn = r2d2::PooledConnection<ConnManager>;
pub type QueryResult<T> = diesel::QueryResult<T>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed `DATABASE_URL`. The scheme decides the backend; we dispatch on it ourselves so
/// that a refused PostgreSQL connection reports PostgreSQL's own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A file path (or `:memory:`).
    Sqlite(String),
    Postgres(String),
}

#[derive(Debug, thiserror::Error)]
pub enum DbUrlError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got scheme {0:?})")]
    UnknownScheme(String),
    #[error("this binary was built without the `{0}` feature; rebuild with --features {0}")]
    FeatureMissing(&'static str),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<Self, DbUrlError> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if !cfg!(feature = "sqlite") {
                return Err(DbUrlError::FeatureMissing("sqlite"));
            }
            return Ok(DbUrl::Sqlite(path.to_string()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !cfg!(feature = "postgres") {
                return Err(DbUrlError::FeatureMissing("postgres"));
            }
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        let scheme = url.split(':').next().unwrap_or_default().to_string();
        Err(DbUrlError::UnknownScheme(scheme))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password replaced, for logs.
    pub fn masked(&self) -> String {
        match self {
            DbUrl::Sqlite(path) => format!("sqlite://{path}"),
            DbUrl::Postgres(url) => mask_password(url),
        }
    }
}

fn mask_password(url: &str) -> String {
    // postgres://user:secret@host/db -> postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Opens connections for the pool and sets SQLite's pragmas on each one.
#[derive(Debug, Clone)]
pub struct ConnManager {
    url: DbUrl,
    /// The longest a statement waits for a lock (SQLite's `busy_timeout`, PostgreSQL's
    /// `lock_timeout`) before it gives up, and the longest a connection attempt takes.
    wait: Duration,
    /// SQLite: the write-ahead log is checkpointed by a thread of its own
    /// ([`checkpoint`]), not by whichever commit crosses a thousand pages.
    background_checkpoints: bool,
}

/// The default of [`ConnManager`]'s wait, and of `MMT_DB_WAIT_SECONDS`.
pub const DEFAULT_DB_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("cannot create the database folder {0}: {1}")]
    Folder(String, std::io::Error),
}

/// Durability settings for every SQLite connection (after its `busy_timeout`, and WAL).
/// `synchronous=FULL`: the ledger must survive a power cut.
#[cfg(feature = "sqlite")]
const SQLITE_PRAGMAS: &str = "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;";

/// Puts the database in WAL mode unless it is already: asking for WAL again takes a lock that
/// a busy writer holds (SQLite then answers "database is locked" without waiting), so a
/// connection opened while the service writes would fail for nothing.
#[cfg(feature = "sqlite")]
fn sqlite_wal(conn: &mut diesel::SqliteConnection) -> Result<(), ConnError> {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    let mode: Mode = diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA journal_mode"), conn)?;
    if !mode.journal_mode.eq_ignore_ascii_case("wal") {
        conn.batch_execute("PRAGMA journal_mode = WAL;")?;
    }
    Ok(())
}

impl ConnManager {
    pub fn new(url: DbUrl) -> Self {
        Self { url, wait: DEFAULT_DB_WAIT, background_checkpoints: false }
    }

    /// A manager whose connections wait at most `wait` for a lock or a connection.
    pub fn with_wait(url: DbUrl, wait: Duration) -> Self {
        Self { url, wait, background_checkpoints: false }
    }

    pub fn establish(&self) -> Result<DbConn, ConnError> {
        match &self.url {
            #[cfg(feature = "sqlite")]
            DbUrl::Sqlite(path) => {
                if path != ":memory:" {
                    if let Some(dir) = std::path::Path::new(path).parent() {
                        if !dir.as_os_str().is_empty() {
                            std::fs::create_dir_all(dir)
                                .map_err(|e| ConnError::Folder(dir.display().to_string(), e))?;
                        }
                    }
                }
                let mut conn = diesel::SqliteConnection::establish(path)?;
                conn.batch_execute(&format!("PRAGMA busy_timeout = {};", self.wait.as_millis()))?;
                sqlite_wal(&mut conn)?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                if self.background_checkpoints {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")?;
                }
                Ok(DbConn::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            DbUrl::Postgres(url) => {
                let url = with_connect_timeout(url, self.wait);
                let mut conn = diesel::PgConnection::establish(&url)?;
                conn.batch_execute(&format!("SET lock_timeout = {}", self.wait.as_millis()))?;
                Ok(DbConn::Postgres(conn))
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("DbUrl::parse refuses backends this binary lacks"),
        }
    }
}

impl ManageConnection for ConnManager {
    type Connection = DbConn;
    type Error = ConnError;

    fn connect(&self) -> Result<DbConn, ConnError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    /// A PostgreSQL connection that lost its server mid-transaction is not put back.
    fn has_broken(&self, conn: &mut DbConn) -> bool {
        match conn {
            #[cfg(feature = "postgres")]
            DbConn::Postgres(c) => diesel::r2d2::R2D2Connection::is_broken(c),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

/// The URL with libpq's `connect_timeout` (whole seconds, at least 2), unless it has one.
#[cfg(feature = "postgres")]
fn with_connect_timeout(url: &str, wait: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={}", wait.as_secs().max(2))
}

pub fn backend_of(conn: &DbConn) -> Backend {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(_) => Backend::Sqlite,
        #[cfg(feature = "postgres")]
        DbConn::Postgres(_) => Backend::Postgres,
    }
}

/// Builds the pool. SQLite serializes writers anyway; a few connections serve readers.
/// `wait` bounds every wait for the database: a free connection, a new connection, a lock.
pub fn build_pool(url: &DbUrl, max_size: u32, wait: Duration) -> Result<DbPool, r2d2::PoolError> {
    r2d2::Pool::builder()
        .max_size(max_size)
        .connection_timeout(wait)
        // A SQLite file connection does not go stale; a network connection to PostgreSQL
        // is checked before each use.
        .test_on_check_out(url.backend() == Backend::Postgres)
        .build(connections(url, wait))
}

/// How the service opens its connections: the pool's, and the SQLite writer's own.
pub fn connections(url: &DbUrl, wait: Duration) -> ConnManager {
    ConnManager { background_checkpoints: true, ..ConnManager::with_wait(url.clone(), wait) }
}

/// SQLite: copies what the write-ahead log holds into the database file, as far as no reader
/// still needs it, without holding up the writer (`PASSIVE`); the service's pool leaves this
/// to a thread of its own, so that no commit waits for the copy and its sync. PostgreSQL:
/// nothing (it checkpoints by itself).
pub fn checkpoint(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(PASSIVE)"),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(_) => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("database migration failed: {0}")]
pub struct MigrationError(String);

/// Applies the embedded migrations of this connection's backend. Returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, MigrationError> {
    let applied = match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| MigrationError(e.to_string()))
}

/// Reverts the last applied migration (its `down.sql`): for tests of an upgrade from the
/// previous schema. Returns the migration's name.
pub fn revert_last_migration(conn: &mut DbConn) -> Result<String, MigrationError> {
    let reverted = match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
    };
    reverted.map(|v| v.to_string()).map_err(|e| MigrationError(e.to_string()))
}

/// Runs `f` in a write transaction. On SQLite it begins with `BEGIN IMMEDIATE`, so that
/// concurrent writers queue on the write lock (up to `busy_timeout`) instead of failing
/// with SQLITE_BUSY when a read turns into a write.
/// Runs `f` in a savepoint of the transaction in progress: an error rolls back what `f`
/// wrote, and only that.
pub fn savepoint<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(f)
}

pub fn write_transaction<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    transaction_with(conn, "BEGIN IMMEDIATE", "BEGIN", f)
}

/// Runs `f` on one consistent snapshot of the database (a long read such as the audit
/// verification, while the service keeps writing): a read transaction on SQLite (WAL keeps
/// the snapshot of its first read), `REPEATABLE READ READ ONLY` on PostgreSQL.
pub fn read_snapshot<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    transaction_with(conn, "BEGIN DEFERRED", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", f)
}

fn transaction_with<T, E>(
    conn: &mut DbConn,
    #[allow(unused_variables)] sqlite_begin: &str,
    #[allow(unused_variables)] postgres_begin: &str,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        #[cfg(feature = "sqlite")]
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, sqlite_begin)?,
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(c, postgres_begin)?,
    }
    let outcome = f(conn);
    let finish = match (&outcome, &mut *conn) {
        #[cfg(feature = "sqlite")]
        (Ok(_), DbConn::Sqlite(c)) => {
            <AnsiTransactionManager as TransactionManager<diesel::SqliteConnection>>::commit_transaction(c)
        }
        #[cfg(feature = "sqlite")]
        (Err(_), DbConn::Sqlite(c)) => {
            <AnsiTransactionManager as TransactionManager<diesel::SqliteConnection>>::rollback_transaction(c)
        }
        #[cfg(feature = "postgres")]
        (Ok(_), DbConn::Postgres(c)) => {
            <AnsiTransactionManager as TransactionManager<diesel::PgConnection>>::commit_transaction(c)
        }
        #[cfg(feature = "postgres")]
        (Err(_), DbConn::Postgres(c)) => {
            <AnsiTransactionManager as TransactionManager<diesel::PgConnection>>::rollback_transaction(c)
        }
    };
    match outcome {
        Ok(value) => {
            finish?;
            Ok(value)
        }
        // The original error matters more than a failed rollback.
        Err(e) => Err(e),
    }
}

/// Is this error the loser's side of a race on a unique key? On SQLite, a row whose primary
/// key exists in an append-only table is refused by a trigger before the key's own check
/// (so that REPLACE cannot rewrite history); its message says so.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match err {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            info.message().ends_with(append_only::DUPLICATE_KEY_MESSAGE)
        }
        _ => false,
    }
}

/// A new opaque id: a UUIDv7, so ids sort by creation time and index well.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `SELECT 1`, for the health check.
pub fn ping(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// The audit chain's head of a SQLite database file (a backup copy), read as the file is:
/// without the service's connection settings, which would change its journal mode.
pub fn sqlite_file_head(path: &str) -> Result<crate::domain::audit::HeadRecord, ConnError> {
    #[cfg(feature = "sqlite")]
    {
        let mut conn = DbConn::Sqlite(diesel::SqliteConnection::establish(path)?);
        Ok(audit::head(&mut conn)?.record())
    }
    #[cfg(not(feature = "sqlite"))]
    {
        Err(ConnError::Connection(diesel::ConnectionError::InvalidConnectionUrl(format!(
            "{path}: this binary was built without SQLite"
        ))))
    }
}

/// SQLite's own check of a database file (`PRAGMA integrity_check`): "ok", or what is wrong.
pub fn sqlite_integrity_check(path: &str) -> Result<String, ConnError> {
    #[cfg(feature = "sqlite")]
    {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = Text)]
            integrity_check: String,
        }
        let mut conn = diesel::SqliteConnection::establish(path)?;
        let lines: Vec<Line> = diesel::RunQueryDsl::load(diesel::sql_query("PRAGMA integrity_check"), &mut conn)?;
        Ok(lines.into_iter().map(|l| l.integrity_check).collect::<Vec<_>>().join("; "))
    }
    #[cfg(not(feature = "sqlite"))]
    {
        Err(ConnError::Connection(diesel::ConnectionError::InvalidConnectionUrl(format!(
            "{path}: this binary was built without SQLite"
        ))))
    }
}

/// SQLite online backup to a file (`VACUUM INTO`): a consistent copy while serving.
pub fn backup_sqlite(conn: &mut DbConn, target: &str) -> QueryResult<()> {
    let escaped = target.replace('\'', "''");
    conn.batch_execute(&format!("VACUUM INTO '{escaped}'"))
}
