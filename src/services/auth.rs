//! Sign-in: login, refresh, logout, and authenticating each request.
//!
//! Access tokens are short HS256 JWTs naming a server-side session; every request checks
//! that session and the staff row, so logout, deactivation and changes of role or sites
//! take effect at once. Refresh tokens are opaque, stored hashed, and rotated; presenting
//! one that was already used revokes the whole session (it was stolen or replayed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Actor, AppState};
use crate::config::Config;
use crate::db::{self, auth as q, staff as staff_q};
use crate::domain::offline::expired_token_may_upload;
use crate::domain::signin::{check_token_time, TokenTimeError};
use crate::domain::staff::{normalize_username, Role};
use crate::error::{AppError, AppResult};

pub const ISSUER: &str = "mmt-clinic";
pub const AUDIENCE: &str = "mmt-clinic-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The staff id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_seconds: i64,
    session_seconds: i64,
}

impl TokenKeys {
    pub fn new(config: &Config) -> AppResult<Self> {
        let secret = config.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "nbf"]);
        // Time is checked by our own code against the service clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret).map_err(|e| AppError::internal(format!("jwt key: {e}")))?,
            decoding: DecodingKey::from_secret(secret).map_err(|e| AppError::internal(format!("jwt key: {e}")))?,
            validation,
            access_seconds: config.access_token_seconds,
            session_seconds: config.session_seconds,
        })
    }

    fn issue_access(&self, staff_id: &str, session_id: &str, now: chrono::DateTime<Utc>) -> AppResult<String> {
        let iat = now.timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: staff_id.into(),
            sid: session_id.into(),
            iat,
            nbf: iat,
            exp: iat + self.access_seconds,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::internal(format!("jwt encode: {e}")))
    }

    /// Signature, algorithm, issuer and audience; not time.
    fn decode(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|d| d.claims)
    }
}

/// The signed-in user, as API.md's `user` object.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub site_ids: Vec<String>,
    pub townships: Vec<String>,
}

impl From<&Actor> for UserView {
    fn from(a: &Actor) -> Self {
        UserView {
            id: a.staff_id.clone(),
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            site_ids: a.site_ids.clone(),
            townships: a.townships.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub token_type: &'static str,
    pub user: UserView,
}

fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The actor a staff record acts as (in a session, or in the demo's own writes).
pub(crate) fn actor_from(record: db::staff::StaffRecord, session_id: &str) -> AppResult<Actor> {
    let role = record.row.role;
    Ok(Actor {
        staff_id: record.row.id,
        session_id: session_id.to_string(),
        username: record.row.username,
        display_name: record.row.display_name,
        role,
        site_ids: record.site_ids,
        townships: record.townships,
    })
}

/// Signs a staff member in. `address` is the client's address, for throttling.
pub async fn login(state: &AppState, username: &str, password: String, address: String) -> AppResult<TokenPair> {
    // An impossible username is still a failed attempt on that (trimmed, bounded) name.
    let username =
        normalize_username(username).unwrap_or_else(|_| username.trim().to_lowercase().chars().take(64).collect());
    // One sign-in at a time per account in this process: concurrent attempts see each
    // other's outcome (a burst of right passwords all sign in; of wrong ones, at most the
    // policy's number is checked). The count in the database holds across processes.
    let _turn = state.gates.sign_in.enter(&username).await;
    let policy = state.config.throttle.clone();
    let now = state.now();
    let since = policy.window_start(now).naive_utc();

    // Count and record in one serialized step, before the password is checked: however
    // many attempts arrive at once, at most the policy's number of passwords is verified.
    let reservation = {
        let username = username.clone();
        let address = address.clone();
        state
            .write_bookkeeping(move |conn| {
                q::lock_login_gate(conn)?;
                let account = q::account_failures_since(conn, &username, since)?;
                let from_address = q::address_failures_since(conn, &address, since)?;
                if policy.is_throttled(account as u32, from_address as u32) {
                    return Ok(None);
                }
                let attempt = q::record_login_attempt(conn, &username, &address, now.naive_utc())?;
                Ok(Some((attempt, staff_q::find_by_username(conn, &username)?)))
            })
            .await?
    };
    let Some((attempt_id, staff)) = reservation else {
        tracing::warn!("sign-in throttled");
        return Err(AppError::too_many_attempts());
    };

    let usable = staff.filter(|s| s.active);
    let password_ok = state.passwords.verify(password, usable.as_ref().map(|s| s.password_hash.clone())).await?;
    let keys = state.tokens.clone();

    let outcome = state
        .write(move |tx| {
            let now = tx.now;
            let staff = match (&usable, password_ok) {
                (Some(staff), true) => staff,
                (staff, _) => {
                    tx.audit(
                        None,
                        "auth.login_failed",
                        "staff",
                        staff.as_ref().map(|s| s.id.as_str()),
                        format!("failed sign-in for {username} from {address}"),
                    );
                    return Ok(Err(AppError::invalid_credentials()));
                }
            };
            q::mark_login_succeeded(tx.conn, &attempt_id)?;
            let session_id = db::new_id();
            q::insert_session(
                tx.conn,
                &q::SessionRow {
                    id: session_id.clone(),
                    staff_id: staff.id.clone(),
                    created_at: now.naive_utc(),
                    expires_at: (now + Duration::seconds(keys.session_seconds)).naive_utc(),
                    revoked_at: None,
                    revoked_reason: None,
                },
            )?;
            let pair = issue_pair(tx, &keys, &staff.id, &session_id)?;
            tx.audit(
                Some(&staff.id),
                "auth.login",
                "session",
                Some(&session_id),
                serde_json::json!({"address": address}).to_string(),
            );
            Ok(Ok(pair))
        })
        .await?;
    if outcome.is_err() {
        tracing::info!("sign-in refused");
    }
    outcome
}

/// Issues an access token and a fresh refresh token for a session, with the user object.
fn issue_pair(tx: &mut super::Tx<'_>, keys: &TokenKeys, staff_id: &str, session_id: &str) -> AppResult<TokenPair> {
    let refresh = new_refresh_token();
    q::insert_refresh_token(
        tx.conn,
        &q::RefreshTokenRow {
            token_hash: hash_token(&refresh),
            session_id: session_id.to_string(),
            issued_at: tx.now.naive_utc(),
            used_at: None,
        },
    )?;
    let record = staff_q::find(tx.conn, staff_id)?.ok_or_else(AppError::unauthenticated)?;
    let actor = actor_from(record, session_id)?;
    Ok(TokenPair {
        access_token: keys.issue_access(staff_id, session_id, tx.now)?,
        refresh_token: refresh,
        expires_in: keys.access_seconds,
        token_type: "Bearer",
        user: UserView::from(&actor),
    })
}

/// Exchanges a refresh token for a new pair. The old refresh token stops working; if it
/// had already been used, the whole session is revoked.
pub async fn refresh(state: &AppState, refresh_token: String) -> AppResult<TokenPair> {
    let keys = state.tokens.clone();
    let outcome = state
        .write(move |tx| {
            let now = tx.now.naive_utc();
            let token_hash = hash_token(&refresh_token);
            let Some(token) = q::find_refresh_token(tx.conn, &token_hash)? else {
                tx.audit(None, "auth.refresh_failed", "session", None, "unknown refresh token");
                return Ok(Err(AppError::unauthenticated()));
            };
            let session = q::find_session(tx.conn, &token.session_id)?.ok_or_else(AppError::unauthenticated)?;
            if token.used_at.is_some() || !q::use_refresh_token(tx.conn, &token_hash, now)? {
                q::revoke_session(tx.conn, &session.id, "refresh_token_reuse", now)?;
                tx.audit(
                    Some(&session.staff_id),
                    "auth.refresh_reuse",
                    "session",
                    Some(&session.id),
                    "a used refresh token was presented again; session revoked",
                );
                tracing::warn!("refresh token reuse: session revoked");
                return Ok(Err(AppError::unauthenticated()));
            }
            let staff_active = staff_q::find_row(tx.conn, &session.staff_id)?.is_some_and(|s| s.active);
            if session.revoked_at.is_some() || session.expires_at <= now || !staff_active {
                tx.audit(Some(&session.staff_id), "auth.refresh_failed", "session", Some(&session.id), "session ended");
                return Ok(Err(AppError::unauthenticated()));
            }
            let pair = issue_pair(tx, &keys, &session.staff_id, &session.id)?;
            tx.audit(Some(&session.staff_id), "auth.refresh", "session", Some(&session.id), "tokens rotated");
            Ok(Ok(pair))
        })
        .await?;
    if outcome.is_err() {
        // A refused refresh may have revoked its session.
        state.sessions.invalidate();
    }
    outcome
}

/// Ends the actor's session: its access and refresh tokens stop working.
pub async fn logout(state: &AppState, actor: &Actor) -> AppResult<()> {
    let actor = actor.clone();
    state
        .write(move |tx| {
            q::revoke_session(tx.conn, &actor.session_id, "logout", tx.now.naive_utc())?;
            tx.audit(Some(&actor.staff_id), "auth.logout", "session", Some(&actor.session_id), "signed out");
            Ok(())
        })
        .await?;
    state.sessions.invalidate();
    Ok(())
}

/// Live sessions as last read, so that a request does not read its session and staff row
/// again on every call. Any write that ends sessions or changes staff (sign-out, a reused
/// refresh token, an account change) invalidates every entry at once, after it commits; an
/// entry also lasts at most [`SESSION_CACHE_SECONDS`], the most another process's such
/// change can take to reach this one.
#[derive(Clone, Default)]
pub struct SessionCache {
    entries: Arc<Mutex<HashMap<String, CachedSession>>>,
    generation: Arc<AtomicU64>,
}

/// How long a cached session is trusted without reading it again.
pub const SESSION_CACHE_SECONDS: u64 = 10;
const SESSION_CACHE_ENTRIES: usize = 10_000;

#[derive(Clone)]
struct CachedSession {
    actor: Actor,
    expires_at: chrono::NaiveDateTime,
    generation: u64,
    read_at: Instant,
}

impl SessionCache {
    fn get(&self, session_id: &str, staff_id: &str, now: chrono::NaiveDateTime) -> Option<Actor> {
        let generation = self.generation.load(AtomicOrdering::Acquire);
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let hit = entries.get(session_id)?;
        let fresh = hit.generation == generation
            && hit.read_at.elapsed().as_secs() < SESSION_CACHE_SECONDS
            && hit.expires_at > now
            && hit.actor.staff_id == staff_id;
        fresh.then(|| hit.actor.clone())
    }

    fn put(&self, generation: u64, actor: Actor, expires_at: chrono::NaiveDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SESSION_CACHE_ENTRIES {
            entries.clear();
        }
        let read_at = Instant::now();
        entries.insert(actor.session_id.clone(), CachedSession { actor, expires_at, generation, read_at });
    }

    /// Forgets every session: call after a write that ends sessions or changes staff commits.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, AtomicOrdering::AcqRel);
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Who is calling: checks the token's signature, audience and time on the service clock,
/// then the live session and staff row (as last read, see [`SessionCache`]).
pub async fn authenticate(state: &AppState, bearer: &str) -> AppResult<Actor> {
    authenticate_as(state, bearer, false).await.map(|(actor, _)| actor)
}

/// Like [`authenticate`], but an access token that expired earlier in this dose day is
/// accepted too, and said to be expired (`true`): a window that lost the line keeps its nurse
/// signed in for the doses it gave offline (see [`expired_token_may_upload`]). The session
/// must not have been ended (logout, deactivation), though its own time may have run out.
pub async fn authenticate_upload(state: &AppState, bearer: &str) -> AppResult<(Actor, bool)> {
    authenticate_as(state, bearer, true).await
}

async fn authenticate_as(state: &AppState, bearer: &str, upload: bool) -> AppResult<(Actor, bool)> {
    let claims = state.tokens.decode(bearer).ok_or_else(AppError::unauthenticated)?;
    let clock = state.now();
    let expired = match check_token_time(claims.nbf, claims.exp, clock, 0) {
        Ok(()) => false,
        Err(TokenTimeError::Expired)
            if upload
                && chrono::DateTime::from_timestamp(claims.exp, 0)
                    .is_some_and(|exp| expired_token_may_upload(exp, clock, state.config.timezone)) =>
        {
            true
        }
        Err(_) => return Err(AppError::unauthenticated()),
    };
    let now = clock.naive_utc();
    if !expired {
        if let Some(actor) = state.sessions.get(&claims.sid, &claims.sub, now) {
            return Ok((actor, false));
        }
    }
    // Read before the lookup: a change committed meanwhile makes this entry stale at once.
    let generation = state.sessions.generation.load(AtomicOrdering::Acquire);
    let (actor, expires_at) = state
        .read(move |conn| {
            let session = q::find_session(conn, &claims.sid)?.ok_or_else(AppError::unauthenticated)?;
            let timed_out = session.expires_at <= now && !expired;
            if session.staff_id != claims.sub || session.revoked_at.is_some() || timed_out {
                return Err(AppError::unauthenticated());
            }
            let record = staff_q::find(conn, &session.staff_id)?.ok_or_else(AppError::unauthenticated)?;
            if !record.row.active {
                return Err(AppError::unauthenticated());
            }
            Ok((actor_from(record, &session.id)?, session.expires_at))
        })
        .await?;
    if !expired {
        state.sessions.put(generation, actor.clone(), expires_at);
    }
    Ok((actor, expired))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        let config = Config::from_vars(|k| match k {
            "MMT_JWT_SECRET" => Some("k".repeat(40)),
            _ => None,
        })
        .unwrap();
        TokenKeys::new(&config).unwrap()
    }

    #[test]
    fn an_issued_token_decodes_with_its_session() {
        let k = keys();
        let token = k.issue_access("staff-1", "session-1", Utc::now()).unwrap();
        let claims = k.decode(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("staff-1", "session-1"));
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = Config::from_vars(|k| match k {
            "MMT_JWT_SECRET" => Some("z".repeat(40)),
            _ => None,
        })
        .unwrap();
        let token = TokenKeys::new(&other).unwrap().issue_access("s", "x", Utc::now()).unwrap();
        assert!(keys().decode(&token).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(a.len(), 64);
        assert_ne!(hash_token(&a), a);
    }
}
