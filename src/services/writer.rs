//! Group commit on SQLite. One writer thread takes the write use cases that arrive
//! together and commits them as one durable transaction, each in a savepoint of its own:
//! one refusal (a lost race on a unique key, a rule) rolls back only its own savepoint, and
//! no answer goes out before the commit that holds it is durable. SQLite admits one writer
//! at a time anyway; this turns N fsyncs into one. The writer works on a connection of its
//! own, kept from group to group; the audit chain's head is read once per group, each write
//! links after the one before it, and the group's last head is stored once before the commit.
//!
//! The write-ahead log is checkpointed by a second thread, woken by the writer every
//! [`CHECKPOINT_EVERY`] writes (and once a second while there is something new): no commit
//! waits for the bulk of the copy into the database file and its sync, which on a database
//! with years of history touches pages all over the file. After each such round the writer
//! copies the few pages committed meanwhile itself, between two groups, so that the log is
//! complete in the file and the next group starts it again from the beginning (a log that is
//! never caught up grows without end under a steady load, and every read slows with it).
//!
//! PostgreSQL runs each use case in its own transaction on a pooled connection (its row
//! locks order writers, and it batches WAL flushes of concurrent commits itself).

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::audit_chain::AuditChain;
use super::Tx;
use crate::db::append_only::Written;
use crate::db::{self, ConnManager, DbConn, DbPool};
use crate::domain::audit::HeadRecord;
use crate::error::{AppError, AppResult};

/// Writes waiting for the writer at most; beyond, a write answers 503 at once.
pub const QUEUE: usize = 2048;
/// Writes committed together at most.
pub const MAX_BATCH: usize = 64;
/// Writes after which the writer wakes the checkpointer (a dose writes a few pages; SQLite's
/// own default is a checkpoint every thousand pages).
pub const CHECKPOINT_EVERY: usize = 128;

/// What a job tells the writer, and how its caller is answered once the group's commit is
/// known (`None`: committed).
type Reply = Box<dyn FnOnce(Option<AppError>) + Send>;

/// A use case as the writer runs it: `true` keeps its savepoint.
type Run = Box<dyn FnOnce(&mut Tx<'_>) -> (bool, Reply) + Send>;

struct Job {
    now: DateTime<Utc>,
    /// Writes no audit entry (the sign-in throttle's bookkeeping).
    bookkeeping: bool,
    span: tracing::Span,
    /// Runs the use case; `true` keeps its savepoint.
    run: Run,
    /// Answers without running (no connection to run it on).
    fail: Reply,
}

/// Hands write use cases to the writer thread.
#[derive(Clone)]
pub struct GroupWriter {
    jobs: SyncSender<Job>,
}

impl GroupWriter {
    /// Starts the writer thread, which opens connections of its own with `connections`
    /// (the pool serves the checkpointer); it ends when every `GroupWriter` is dropped.
    pub fn start(pool: DbPool, connections: ConnManager, chain: Arc<AuditChain>) -> GroupWriter {
        let (jobs, queue) = sync_channel(QUEUE);
        let (wake, woken) = sync_channel(1);
        let (written, copied) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let checkpoints = Checkpoints { wake, written: written.clone(), copied: copied.clone() };
        let spawned = std::thread::Builder::new()
            .name("mmt-writer".into())
            .spawn(move || run(queue, &connections, &chain, checkpoints))
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("mmt-checkpoint".into())
                    .spawn(move || checkpointer(woken, &written, &copied, &pool))
            });
        if let Err(e) = spawned {
            tracing::error!(cause = %e, "cannot start the writer thread");
        }
        GroupWriter { jobs }
    }

    /// Runs `f` in the next group, answering once its commit is durable.
    pub async fn write<T, F>(&self, now: DateTime<Utc>, bookkeeping: bool, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> AppResult<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<AppResult<T>>();
        // Shared by the run and the refusal to run; whichever answers first takes it.
        let answer = Arc::new(std::sync::Mutex::new(Some(answer)));
        let fail_answer = answer.clone();
        let fail: Reply = Box::new(move |error: Option<AppError>| {
            if let Some(sender) = fail_answer.lock().ok().and_then(|mut a| a.take()) {
                let _ = sender.send(Err(error.unwrap_or_else(AppError::unavailable)));
            }
        });
        let run: Run = Box::new(move |tx: &mut Tx<'_>| -> (bool, Reply) {
            let answer = answer.lock().ok().and_then(|mut a| a.take());
            let send = move |result: AppResult<T>| {
                if let Some(sender) = answer {
                    let _ = sender.send(result);
                }
            };
            match f(tx) {
                Ok(value) => (
                    true,
                    Box::new(move |failed: Option<AppError>| {
                        send(match failed {
                            None => Ok(value),
                            Some(e) => Err(e),
                        })
                    }),
                ),
                Err(e) => (false, Box::new(move |_| send(Err(e)))),
            }
        });
        let job = Job { now, bookkeeping, span: tracing::Span::current(), run, fail };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("the write queue is full");
                return Err(AppError::unavailable());
            }
            Err(TrySendError::Disconnected(_)) => return Err(AppError::internal("the writer thread has stopped")),
        }
        answered.await.map_err(|_| AppError::internal("the writer dropped a write"))?
    }
}

/// How the writer tells the checkpointer that there is something to copy.
struct Checkpoints {
    wake: SyncSender<()>,
    written: Arc<AtomicBool>,
    /// Set by the checkpointer after a round: the writer catches up the tail.
    copied: Arc<AtomicBool>,
}

fn run(queue: Receiver<Job>, connections: &ConnManager, chain: &AuditChain, checkpoints: Checkpoints) {
    let mut since_wake = 0;
    // The writer's own connection, kept from group to group and not one of the pool's: a
    // morning of reads cannot keep the writer waiting for a connection, and its page cache
    // (the trees' upper levels) is not discarded, as a pooled connection's is whenever
    // another connection has committed since it last read.
    let mut own: Option<DbConn> = None;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        since_wake += batch.len();
        let conn = match own.take().map_or_else(|| writer_connection(connections), Ok) {
            Ok(conn) => conn,
            Err(error) => {
                for job in batch {
                    (job.fail)(Some(error.clone()));
                }
                continue;
            }
        };
        own = commit_group(batch, conn, chain);
        checkpoints.written.store(true, Ordering::Release);
        if checkpoints.copied.swap(false, Ordering::AcqRel) {
            if let Some(conn) = own.as_mut() {
                if let Err(cause) = db::checkpoint(conn) {
                    tracing::warn!(%cause, "a checkpoint of the write-ahead log failed");
                }
            }
        }
        if since_wake >= CHECKPOINT_EVERY {
            since_wake = 0;
            // Full: the checkpointer is already woken.
            let _ = checkpoints.wake.try_send(());
        }
    }
}

fn writer_connection(connections: &ConnManager) -> Result<DbConn, AppError> {
    connections.establish().map_err(|e| {
        tracing::error!(cause = %e, "the writer cannot open its connection");
        AppError::unavailable()
    })
}

fn checkpoint(pool: &DbPool) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    db::checkpoint(&mut conn).map_err(|e| e.to_string())
}

/// Checkpoints the write-ahead log when woken, and once a second while something was
/// written since the last time; ends with the writer.
fn checkpointer(woken: Receiver<()>, written: &AtomicBool, copied: &AtomicBool, pool: &DbPool) {
    loop {
        match woken.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if !written.swap(false, Ordering::AcqRel) {
            continue;
        }
        match checkpoint(pool) {
            Ok(()) => copied.store(true, Ordering::Release),
            Err(cause) => {
                // The next round tries again; SQLite keeps the log meanwhile.
                written.store(true, Ordering::Release);
                tracing::warn!(%cause, "a checkpoint of the write-ahead log failed");
            }
        }
    }
}

/// Runs a group in one transaction on the writer's connection and answers each job after
/// the commit; gives the connection back unless the group failed (the next group then
/// starts on a fresh one).
fn commit_group(batch: Vec<Job>, mut conn: DbConn, chain: &AuditChain) -> Option<DbConn> {
    let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
    // The chain's head after the last job kept so far (the first job to link reads it).
    let mut head: Option<HeadRecord> = None;
    // Taken by the transaction once it has begun; still here if it could not begin (the
    // database locked or gone), and then answered with that error.
    let mut pending = Some(batch);
    let outcome = db::write_transaction(&mut conn, |conn| {
        for job in pending.take().unwrap_or_default() {
            let Job { now, bookkeeping, span, run, fail: _ } = job;
            let _entered = span.enter();
            let mut reply = None;
            let kept = db::savepoint(conn, |conn| {
                let mut tx = Tx { conn, now, written: Written::new(), audit: Vec::new() };
                let ran = std::panic::catch_unwind(AssertUnwindSafe(|| run(&mut tx)));
                let (keep, answer) = match ran {
                    Ok(done) => done,
                    Err(_) => {
                        tracing::error!("a write use case panicked");
                        let answer: Reply = Box::new(|_| {});
                        reply = Some(answer);
                        return Err(AppError::internal_silent());
                    }
                };
                if !keep {
                    reply = Some(answer);
                    return Err(AppError::internal_silent()); // roll the savepoint back
                }
                if bookkeeping {
                    reply = Some(answer);
                    return Ok(None);
                }
                let linked = match &head {
                    Some(h) => Ok(h.clone()),
                    None => db::audit::head_for_append(tx.conn).map_err(AppError::from),
                }
                .and_then(|h| tx.finish_after(chain, h));
                match linked {
                    Ok(new_head) => {
                        reply = Some(answer);
                        Ok(Some(new_head))
                    }
                    Err(e) => {
                        // Its audit entry could not be written: nothing of it stays.
                        let failed: Reply = Box::new(move |_| answer(Some(e)));
                        reply = Some(failed);
                        Err(AppError::internal_silent())
                    }
                }
            });
            if let Ok(Some(new_head)) = kept {
                head = Some(new_head);
            }
            replies.push(reply.unwrap_or_else(|| Box::new(|_| {})));
        }
        // The group's last link is the head, stored once.
        match &head {
            Some(h) => db::audit::store_head(conn, h).map_err(AppError::from),
            None => Ok(()),
        }
    });
    match outcome {
        Ok(()) => {
            if let Some(head) = head {
                chain.committed(head);
            }
            for reply in replies {
                reply(None);
            }
            Some(conn)
        }
        Err(e) => {
            tracing::error!(code = e.code.as_str(), "a group commit failed");
            for reply in replies {
                reply(Some(e.clone()));
            }
            for job in pending.into_iter().flatten() {
                (job.fail)(Some(e.clone()));
            }
            None
        }
    }
}
