//! Sign-in policy: when failed logins are throttled, and whether a token's time window
//! holds at a given instant.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Limits on failed logins within a sliding window.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ThrottlePolicy {
    /// Failed attempts on one account before it is throttled.
    pub max_failures_per_account: u32,
    /// Failed attempts from one address (any account) before it is throttled.
    pub max_failures_per_address: u32,
    /// The window the failures are counted in, in seconds.
    pub window_seconds: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { max_failures_per_account: 5, max_failures_per_address: 20, window_seconds: 15 * 60 }
    }
}

impl ThrottlePolicy {
    /// The start of the window that ends at `now`.
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::seconds(self.window_seconds)
    }

    /// `account_failures` counts failures on the account since the later of the window
    /// start and its last successful login (a success clears the account's slate);
    /// `address_failures` counts failures from the address within the window. Only
    /// failures count, so staff who sign in many times a day are never throttled.
    pub fn is_throttled(&self, account_failures: u32, address_failures: u32) -> bool {
        account_failures >= self.max_failures_per_account || address_failures >= self.max_failures_per_address
    }
}

/// Why a token's time window does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTimeError {
    NotYetValid,
    Expired,
}

/// Checks `nbf <= now < exp` (seconds since the epoch) against the service clock, allowing
/// `leeway_seconds` for `nbf` only (clocks of other machines may be a little ahead).
pub fn check_token_time(nbf: i64, exp: i64, now: DateTime<Utc>, leeway_seconds: i64) -> Result<(), TokenTimeError> {
    let now = now.timestamp();
    if now + leeway_seconds < nbf {
        return Err(TokenTimeError::NotYetValid);
    }
    if now >= exp {
        return Err(TokenTimeError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_account_is_throttled_at_its_fifth_failure() {
        let p = ThrottlePolicy::default();
        assert!(!p.is_throttled(4, 4));
        assert!(p.is_throttled(5, 5));
    }

    #[test]
    fn an_address_is_throttled_at_its_twentieth_failure_across_accounts() {
        let p = ThrottlePolicy::default();
        assert!(!p.is_throttled(0, 19));
        assert!(p.is_throttled(0, 20));
    }

    #[test]
    fn the_window_ends_now() {
        let p = ThrottlePolicy::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
        assert_eq!(p.window_start(now), Utc.with_ymd_and_hms(2026, 11, 29, 7, 45, 0).unwrap());
    }

    #[test]
    fn a_token_is_valid_between_nbf_and_exp() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap();
        let t = now.timestamp();
        assert_eq!(check_token_time(t, t + 900, now, 0), Ok(()));
        assert_eq!(check_token_time(t - 900, t, now, 0), Err(TokenTimeError::Expired));
        assert_eq!(check_token_time(t - 900, t + 1, now, 0), Ok(()));
        assert_eq!(check_token_time(t + 10, t + 900, now, 0), Err(TokenTimeError::NotYetValid));
        assert_eq!(check_token_time(t + 10, t + 900, now, 30), Ok(()));
    }
}
