//! Writes a terminal may retry (doses, stock entries, home-visit outcomes) with an
//! `Idempotency-Key`: the first answer is stored in the same transaction as the write, and a
//! retry with the same key and request replays it instead of writing again. The same key with
//! another request is refused (`idempotency_key_reused`).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Actor, AppState, Tx};
use crate::db::{self, idempotency};
use crate::domain::codes::ErrorCode;
use crate::error::{AppError, AppResult};

/// An answer as stored for a replay: the HTTP status and the JSON body.
#[derive(Debug, Clone)]
pub struct Replayable {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Replayable {
    pub fn of(status: u16, view: &impl Serialize) -> AppResult<Replayable> {
        Ok(Replayable { status, body: serde_json::to_value(view).map_err(AppError::internal)? })
    }
}

/// A client's key with the digest of the request it came with.
#[derive(Debug, Clone)]
pub struct Key {
    key: String,
    request_hash: String,
}

impl Key {
    /// Checks the header's value and binds it to this request: `what` names the write and
    /// what it acts on (a path's id), so that one key cannot stand for two different writes.
    pub fn of(header: Option<String>, what: &str, request: &impl Serialize) -> AppResult<Option<Key>> {
        let Some(key) = header else { return Ok(None) };
        if key.is_empty() || key.len() > 100 || key.chars().any(|c| c.is_control()) {
            return Err(AppError::invalid_field("Idempotency-Key", "must be 1 to 100 printable characters"));
        }
        let mut digest = Sha256::new();
        digest.update(what.as_bytes());
        digest.update([0]);
        digest.update(serde_json::to_vec(request).map_err(AppError::internal)?);
        Ok(Some(Key { key, request_hash: hex::encode(digest.finalize()) }))
    }
}

/// The stored answer for this key, if the key was answered before.
async fn stored(state: &AppState, actor: &Actor, key: &Key) -> AppResult<Option<Replayable>> {
    let (staff, k) = (actor.staff_id.clone(), key.key.clone());
    let Some((hash, status, body)) = state.read(move |conn| Ok(idempotency::find(conn, &staff, &k)?)).await? else {
        return Ok(None);
    };
    if hash != key.request_hash {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "This Idempotency-Key was already used for a different request.",
        ));
    }
    let body = serde_json::from_str(&body).map_err(AppError::internal)?;
    Ok(Some(Replayable { status: status as u16, body }))
}

/// Runs `write` in one transaction, once per key. `write` answers `Ok(Ok(answer))` for a
/// success and `Ok(Err(refusal))` for a refusal that commits what it wrote (a withheld dose):
/// both are stored with the key. An `Err` rolls everything back and stores nothing, so a
/// retry tries again. A [`ErrorCode::LostRace`] from `write` comes back to the caller unless
/// a twin with the same key won it, whose answer is then ours.
pub async fn write<F>(state: &AppState, actor: &Actor, key: Option<Key>, write: F) -> AppResult<Replayable>
where
    F: FnOnce(&mut Tx<'_>) -> AppResult<Result<Replayable, AppError>> + Send + 'static,
{
    // Requests with the same key take turns in this process, so a retry that overtakes its
    // original waits for it and replays its answer; across processes the key's unique row
    // decides.
    let _turn = match &key {
        Some(k) => Some(state.gates.idempotency.enter(&format!("{}\u{0}{}", actor.staff_id, k.key)).await),
        None => None,
    };
    let staff_id = actor.staff_id.clone();
    let key_c = key.clone();
    let outcome = state
        .write(move |tx| {
            if let Some(k) = &key_c {
                if idempotency::find(tx.conn, &staff_id, &k.key)?.is_some() {
                    // Answered before: roll back (nothing written) and replay below.
                    return Err(AppError::new(ErrorCode::IdempotencyAnswered, "this key was answered before"));
                }
            }
            let answer = write(tx)?;
            if let Some(k) = &key_c {
                let (status, body) = match &answer {
                    Ok(r) => (r.status, r.body.to_string()),
                    Err(e) => (e.status().as_u16(), e.body().to_string()),
                };
                let at = tx.now.naive_utc();
                match idempotency::insert(tx.conn, &staff_id, &k.key, &k.request_hash, i32::from(status), &body, at) {
                    Err(e) if db::is_unique_violation(&e) => {
                        return Err(AppError::new(
                            ErrorCode::IdempotencyAnswered,
                            "the same key was answered concurrently",
                        ))
                    }
                    other => other?,
                }
            }
            Ok(answer)
        })
        .await;
    match outcome {
        Ok(answer) => answer,
        Err(e) if e.code == ErrorCode::LostRace || e.code == ErrorCode::IdempotencyAnswered => {
            // Answered before, or lost to a twin with the same key in another process: that
            // answer is ours.
            if let Some(k) = &key {
                if let Some(answer) = stored(state, actor, k).await? {
                    return Ok(answer);
                }
            }
            if e.code == ErrorCode::IdempotencyAnswered {
                return Err(AppError::internal("an idempotency key's row vanished after its race"));
            }
            Err(e)
        }
        Err(e) => Err(e),
    }
}
