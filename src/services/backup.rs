//! Backups of a SQLite database while the service runs (`VACUUM INTO`: one consistent
//! snapshot), each with its audit head beside it; scheduled backups with rotation
//! (`MMT_BACKUP_AT`, `MMT_BACKUP_KEEP`, `MMT_BACKUP_DIR`); and the checks a restore makes
//! before it puts a copy in place. PostgreSQL is backed up with its own tools
//! (`scripts/pg-backup`, deploy/postgresql.md).

use std::path::{Path, PathBuf};

use super::audit_chain::write_head_file;
use super::AppState;
use crate::config::AuditKeySource;
use crate::db;
use crate::error::AppError;

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupMade {
    pub file: PathBuf,
    pub head_file: PathBuf,
    pub head_seq: i64,
    /// The development audit key copied beside it (production keeps `MMT_AUDIT_KEY` apart).
    pub key_file: Option<PathBuf>,
}

/// Copies the SQLite database to `to` (which must not exist, in a folder that does), with
/// the copy's audit head in `to.audit-head` and, in development, its key in `to.audit-key`.
pub async fn backup_to(state: &AppState, to: &Path) -> Result<BackupMade, String> {
    if state.backend != db::Backend::Sqlite {
        return Err(
            "backup copies the SQLite database; for PostgreSQL use scripts/pg-backup (see deploy/postgresql.md)".into(),
        );
    }
    if to.exists() {
        return Err(format!("{} already exists; choose a new file", to.display()));
    }
    let folder = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(format!("the folder {} does not exist; create it first", folder.display()));
    }
    let target = to.display().to_string();
    state
        .read(move |conn| db::backup_sqlite(conn, &target).map_err(|e| AppError::validation(e.to_string())))
        .await
        .map_err(|e| format!("could not write {}: {}", to.display(), e.message))?;
    let copy = to.display().to_string();
    let head = tokio::task::spawn_blocking(move || db::sqlite_file_head(&copy))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot read the copy's audit head: {e}"))?;
    let head_file = suffixed(to, "audit-head");
    write_head_file(&head_file, &head).map_err(|e| format!("{}: {e}", head_file.display()))?;
    let key_file = match &state.config.audit_key {
        AuditKeySource::File(key) => {
            let copy_key = suffixed(to, "audit-key");
            copy_private(key, &copy_key).map_err(|e| format!("{}: {e}", copy_key.display()))?;
            Some(copy_key)
        }
        _ => None,
    };
    Ok(BackupMade { file: to.to_path_buf(), head_file, head_seq: head.seq, key_file })
}

/// Takes the lock a serving process holds on a SQLite database (`<database>.lock` beside
/// it) for as long as the returned file is open, so that `restore`, or a second service,
/// cannot take the database from under it. The operating system releases it when the
/// process ends, however it ends.
pub fn lock_database(path: &Path) -> Result<std::fs::File, String> {
    let lock_path = suffixed(path, "lock");
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "a running mmt-clinic serves {} (it holds {}): stop it first",
            path.display(),
            lock_path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("{}: {e}", lock_path.display())),
    }
}

/// `path` with `.suffix` appended to its whole name.
pub fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Copies a secret file, readable by its owner only.
pub fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let bytes = std::fs::read(from)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(to)?.write_all(&bytes)
}

/// The folder of scheduled backups: `MMT_BACKUP_DIR`, or `backups/` beside the database.
pub fn backup_dir(state: &AppState) -> Option<PathBuf> {
    if let Some(dir) = &state.config.backup_dir {
        return Some(dir.clone());
    }
    match &state.config.database_url {
        db::DbUrl::Sqlite(path) if path != ":memory:" => {
            let parent = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(parent.join("backups"))
        }
        _ => None,
    }
}

/// The scheduled backups in `dir`, oldest first (their names sort by time).
pub fn scheduled_backups(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("mmt-") && n.ends_with(".sqlite3"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Seconds since the newest scheduled backup was written, if there is one.
pub fn newest_backup_age(state: &AppState) -> Option<f64> {
    let dir = backup_dir(state)?;
    let newest = scheduled_backups(&dir).pop()?;
    let modified = std::fs::metadata(newest).ok()?.modified().ok()?;
    Some(modified.elapsed().map(|d| d.as_secs_f64()).unwrap_or(0.0))
}

/// Takes one scheduled backup into the backup folder and removes the oldest beyond `keep`.
pub async fn scheduled_backup(state: &AppState) -> Result<BackupMade, String> {
    let dir = backup_dir(state).ok_or("no backup folder (MMT_BACKUP_DIR)")?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let made = backup_to(state, &dir.join(format!("mmt-{stamp}.sqlite3"))).await?;
    let files = scheduled_backups(&dir);
    let excess = files.len().saturating_sub(state.config.backup_keep as usize);
    for old in &files[..excess] {
        for f in [old.clone(), suffixed(old, "audit-head"), suffixed(old, "audit-key")] {
            let _ = std::fs::remove_file(f);
        }
    }
    Ok(made)
}

/// Backs up every day at `MMT_BACKUP_AT` (local time) when it is set.
pub fn spawn_schedule(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let at = state.config.backup_at?;
    if state.backend != db::Backend::Sqlite {
        tracing::warn!("MMT_BACKUP_AT is for SQLite; back PostgreSQL up with scripts/pg-backup from cron");
        return None;
    }
    Some(tokio::spawn(async move {
        let zone = state.config.timezone;
        let mut next = super::sweep::next_run_after(chrono::Utc::now(), at, zone);
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(20)).await;
            if chrono::Utc::now() < next {
                continue;
            }
            match scheduled_backup(&state).await {
                Ok(made) => {
                    tracing::info!(file = %made.file.display(), head = made.head_seq, "scheduled backup written")
                }
                Err(e) => tracing::error!(error = %e, "the scheduled backup failed"),
            }
            next = super::sweep::next_run_after(chrono::Utc::now(), at, zone);
        }
    }))
}
