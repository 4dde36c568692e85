//! Per-user request rate: a token bucket. Each request takes one token; tokens come back
//! at a steady rate up to a burst. Pure: the caller passes the time in seconds.

/// How many requests a user may make: `per_minute` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateLimit {
    /// The limit for `per_minute` requests a minute, with bursts of ten seconds' worth (at
    /// least 20: a screen loads several things at once).
    pub fn per_minute(per_minute: u32) -> RateLimit {
        RateLimit { per_minute, burst: (per_minute / 6).max(20) }
    }

    fn per_second(self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }
}

/// One user's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: f64,
}

impl Bucket {
    /// A full bucket at time `now` (seconds).
    pub fn full(limit: RateLimit, now: f64) -> Bucket {
        Bucket { tokens: f64::from(limit.burst), at: now }
    }

    /// Takes one token at `now`: `Ok(())`, or `Err(seconds)` to wait before the next one
    /// (whole seconds, at least 1, as `Retry-After` says it).
    pub fn take(&mut self, limit: RateLimit, now: f64) -> Result<(), u64> {
        let elapsed = (now - self.at).max(0.0);
        self.tokens = (self.tokens + elapsed * limit.per_second()).min(f64::from(limit.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let rate = limit.per_second();
        if rate <= 0.0 {
            return Err(60);
        }
        Err((((1.0 - self.tokens) / rate).ceil() as u64).max(1))
    }

    /// The time of the last request (to forget idle buckets).
    pub fn last_seen(&self) -> f64 {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_ten_seconds_worth_and_at_least_twenty() {
        assert_eq!(RateLimit::per_minute(600).burst, 100);
        assert_eq!(RateLimit::per_minute(60).burst, 20);
    }

    /// Each row: requests already taken at t = 0, then the time of the next request, and
    /// whether it passes (or how long to wait).
    #[test]
    fn a_bucket_refills_at_the_steady_rate_up_to_the_burst() {
        let limit = RateLimit { per_minute: 60, burst: 3 }; // one a second
        let rows: [(u32, f64, Result<(), u64>); 6] = [
            (2, 0.0, Ok(())),   // the burst's last token
            (3, 0.0, Err(1)),   // empty: one second for the next
            (3, 0.5, Err(1)),   // half a token: still rounded up to a second
            (3, 1.0, Ok(())),   // one token back
            (3, 100.0, Ok(())), // long idle: full again, but no more than the burst
            (0, 0.0, Ok(())),
        ];
        for (taken, at, want) in rows {
            let mut b = Bucket::full(limit, 0.0);
            for _ in 0..taken {
                assert_eq!(b.take(limit, 0.0), Ok(()));
            }
            assert_eq!(b.take(limit, at), want, "after {taken} at t=0, one at t={at}");
        }
        let mut b = Bucket::full(limit, 0.0);
        for _ in 0..3 {
            b.take(limit, 0.0).unwrap();
        }
        // After a long idle time the bucket holds the burst, not more.
        let passed = (0..10).filter(|_| b.take(limit, 100.0).is_ok()).count();
        assert_eq!(passed, 3);
    }

    #[test]
    fn a_slow_rate_says_how_many_seconds_to_wait() {
        let limit = RateLimit { per_minute: 6, burst: 1 }; // one every ten seconds
        let mut b = Bucket::full(limit, 0.0);
        assert_eq!(b.take(limit, 0.0), Ok(()));
        assert_eq!(b.take(limit, 0.0), Err(10));
        assert_eq!(b.take(limit, 4.0), Err(6));
        let zero = RateLimit { per_minute: 0, burst: 0 };
        assert_eq!(Bucket::full(zero, 0.0).take(zero, 0.0), Err(60));
    }
}
