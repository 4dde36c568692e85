//! Per-user request rate limits (`MMT_RATE_LIMIT` requests a minute per signed-in user):
//! one runaway terminal or script cannot starve the dosing windows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::domain::rate::{Bucket, RateLimit};
use crate::error::{AppError, AppResult, ErrorCode};

/// Buckets idle this long (seconds) are forgotten when the map is swept.
const FORGET_AFTER: f64 = 600.0;

#[derive(Clone)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    started: Instant,
    buckets: Arc<Mutex<HashMap<String, Bucket>>>,
}

impl RateLimiter {
    /// `per_minute` 0: no limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            limit: (per_minute > 0).then(|| RateLimit::per_minute(per_minute)),
            started: Instant::now(),
            buckets: Arc::default(),
        }
    }

    /// Counts one request of `user`; 429 `too_many_requests` with the seconds to wait
    /// (sent as `Retry-After`) when they are over their rate.
    pub fn check(&self, user: &str) -> AppResult<()> {
        let Some(limit) = self.limit else { return Ok(()) };
        let now = self.started.elapsed().as_secs_f64();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now - b.last_seen() < FORGET_AFTER);
        }
        let bucket = buckets.entry(user.to_string()).or_insert_with(|| Bucket::full(limit, now));
        bucket.take(limit, now).map_err(|seconds| {
            AppError::new(ErrorCode::TooManyRequests, "Too many requests. Wait a moment and try again.")
                .with_details(serde_json::json!({ "retry_after_seconds": seconds }))
        })
    }
}
