//! The audit chain's key and its head outside the database.
//!
//! The key (`MMT_AUDIT_KEY`) keys every link of the chain; it is not in the database, so
//! whoever can write the database cannot recompute the chain. The head — the last entry's
//! sequence number and MAC — is copied to a small file outside the database (written
//! atomically, at most about once a second by a background task, and at shutdown), so that
//! entries cut from the chain's end are noticed: `verify-audit` requires the chain to still
//! hold that entry with that MAC.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rand::RngCore;

use super::{AppState, StartupError};
use crate::config::{AuditKeySource, Config};
use crate::db;
use crate::domain::audit::{format_head, parse_head, ChainKey, HeadRecord};
use crate::error::AppResult;

/// The key, where the head goes, and the newest head this process committed.
pub struct AuditChain {
    key: ChainKey,
    head_file: Option<PathBuf>,
    latest: Mutex<Option<HeadRecord>>,
    changed: tokio::sync::Notify,
}

impl std::fmt::Debug for AuditChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditChain").field("head_file", &self.head_file).finish_non_exhaustive()
    }
}

impl AuditChain {
    /// Takes the key from the configuration, or (development) from its key file, creating
    /// the file with a random key the first time.
    pub fn open(config: &Config) -> Result<AuditChain, StartupError> {
        let key = match &config.audit_key {
            AuditKeySource::Given(secret) => ChainKey::new(secret.expose().as_bytes()),
            AuditKeySource::File(path) => {
                let key = development_key(path)?;
                tracing::warn!(
                    key_file = %path.display(),
                    "MMT_AUDIT_KEY is not set: the audit chain is keyed with a development key kept in a file beside \
                     the database. Production must set MMT_AUDIT_KEY and keep it off the database server"
                );
                key
            }
            AuditKeySource::Ephemeral => {
                tracing::warn!("MMT_AUDIT_KEY is not set: the audit chain is keyed with a random key for this run");
                ChainKey::new(random_hex())
            }
        };
        if config.audit_head_file.is_none() {
            tracing::warn!(
                "MMT_AUDIT_HEAD_FILE is not set: the audit chain's head is kept only in the database, so entries cut \
                 from its end cannot be detected"
            );
        }
        Ok(AuditChain::new(key, config.audit_head_file.clone()))
    }

    pub fn new(key: ChainKey, head_file: Option<PathBuf>) -> AuditChain {
        AuditChain { key, head_file, latest: Mutex::new(None), changed: tokio::sync::Notify::new() }
    }

    pub fn key(&self) -> &ChainKey {
        &self.key
    }

    pub fn head_file(&self) -> Option<&Path> {
        self.head_file.as_deref()
    }

    /// A write transaction committed with this head.
    pub(crate) fn committed(&self, head: HeadRecord) {
        let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        if latest.as_ref().is_none_or(|l| l.seq < head.seq) {
            *latest = Some(head);
            self.changed.notify_one();
        }
    }

    fn latest(&self) -> Option<HeadRecord> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Reads the development key file, or creates it (mode 0600) with a random key.
fn development_key(path: &Path) -> Result<ChainKey, StartupError> {
    let fail = |what: &str, e: std::io::Error| {
        StartupError(format!("cannot {what} the audit key file {}: {e}", path.display()))
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = text.trim();
            if key.len() < 32 {
                return Err(StartupError(format!(
                    "the audit key file {} must hold at least 32 characters",
                    path.display()
                )));
            }
            return Ok(ChainKey::new(key.as_bytes()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail("read", e)),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail("create the folder of", e))?;
    }
    let key = random_hex();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| fail("create", e))?;
    file.write_all(format!("{key}\n").as_bytes()).and_then(|_| file.sync_all()).map_err(|e| fail("write", e))?;
    tracing::info!(key_file = %path.display(), "created a development audit key");
    Ok(ChainKey::new(key.as_bytes()))
}

/// Writes the head file atomically: a temporary file beside it, flushed, renamed over it.
pub fn write_head_file(path: &Path, head: &HeadRecord) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "audit-head".into());
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(format_head(head).as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename itself must survive a power cut.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads a head file (or a line copied from a register).
pub fn read_head_file(path: &Path) -> Result<HeadRecord, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_head(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the database's current head to the head file now (at shutdown, after a command).
pub async fn flush_head(state: &AppState) -> AppResult<()> {
    let Some(path) = state.audit.head_file().map(Path::to_path_buf) else { return Ok(()) };
    let head = state.read(|conn| Ok(db::audit::head(conn)?.record())).await?;
    tokio::task::spawn_blocking(move || write_head_file(&path, &head))
        .await?
        .map_err(|e| crate::error::AppError::internal(format!("cannot write the audit head file: {e}")))
}

/// Copies each new head to the head file, at most about once a second, off the request
/// path. Stop it with `abort` and call [`flush_head`] at shutdown.
pub fn spawn_head_writer(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(path) = state.audit.head_file().map(Path::to_path_buf) else { return };
        let mut written = -1;
        loop {
            state.audit.changed.notified().await;
            if let Some(head) = state.audit.latest().filter(|h| h.seq > written) {
                let path = path.clone();
                let seq = head.seq;
                match tokio::task::spawn_blocking(move || write_head_file(&path, &head)).await {
                    Ok(Ok(())) => written = seq,
                    Ok(Err(e)) => tracing::warn!(error = %e, "cannot write the audit head file"),
                    Err(e) => tracing::warn!(error = %e, "the audit head writer failed"),
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}
