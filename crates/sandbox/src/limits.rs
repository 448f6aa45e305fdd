//! Rate limits as the real services document them ("N requests per
//! window"), one sliding window per bucket, keyed by API key or email. A request over a limit
//! gets 429 with `Retry-After` in whole seconds (rounded up, at least 1).
//! Every count scales with one factor so tests can make limits bite early
//! (factor < 1) or never (a large factor, or [`RateLimits::disabled`]).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// `requests` per `per_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub requests: u32,
    pub per_seconds: f64,
}

impl Quota {
    pub const fn new(requests: u32, per_seconds: f64) -> Self {
        Self {
            requests,
            per_seconds,
        }
    }
}

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Clerk, per `sk_test_` key.
    ClerkTest,
    /// Clerk, per `sk_live_` key.
    ClerkLive,
    /// WorkOS `/user_management/*` writes, per key.
    WorkosWrites,
    /// WorkOS `/user_management/*` reads, per key.
    WorkosReads,
    /// Every WorkOS request, per key.
    WorkosPerKey,
    /// `/user_management/authenticate`, per email.
    Authenticate,
    /// `DELETE /organizations/{id}`, per key.
    OrganizationDeletes,
}

/// The limits the sandbox enforces. Defaults are the documented ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub enabled: bool,
    pub clerk_test: Quota,
    pub clerk_live: Quota,
    pub workos_writes: Quota,
    pub workos_reads: Quota,
    pub workos_per_key: Quota,
    pub authenticate_per_email: Quota,
    pub organization_deletes: Quota,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            clerk_test: Quota::new(100, 10.0),
            clerk_live: Quota::new(1000, 10.0),
            workos_writes: Quota::new(500, 10.0),
            workos_reads: Quota::new(1000, 10.0),
            workos_per_key: Quota::new(6000, 60.0),
            authenticate_per_email: Quota::new(10, 60.0),
            organization_deletes: Quota::new(50, 60.0),
        }
    }
}

impl RateLimits {
    /// No limit at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Every request count multiplied by `factor` (at least 1 request per window).
    pub fn scaled(mut self, factor: f64) -> Self {
        for quota in [
            &mut self.clerk_test,
            &mut self.clerk_live,
            &mut self.workos_writes,
            &mut self.workos_reads,
            &mut self.workos_per_key,
            &mut self.authenticate_per_email,
            &mut self.organization_deletes,
        ] {
            let scaled = (f64::from(quota.requests) * factor).round();
            quota.requests = scaled.clamp(1.0, f64::from(u32::MAX)) as u32;
        }
        self
    }

    fn quota(&self, bucket: Bucket) -> Quota {
        match bucket {
            Bucket::ClerkTest => self.clerk_test,
            Bucket::ClerkLive => self.clerk_live,
            Bucket::WorkosWrites => self.workos_writes,
            Bucket::WorkosReads => self.workos_reads,
            Bucket::WorkosPerKey => self.workos_per_key,
            Bucket::Authenticate => self.authenticate_per_email,
            Bucket::OrganizationDeletes => self.organization_deletes,
        }
    }
}

/// A refusal: come back after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// The `Retry-After` header value: whole seconds, rounded up, at least 1.
    pub fn header_seconds(self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// The live limiters built from [`RateLimits`]: for each bucket and key,
/// when the requests of the current window arrived. A request is refused
/// when its window (the quota's length, ending at its arrival) already
/// holds the quota's count: "N requests per window" exactly, with no
/// burst beyond N and no even pace required within the window.
pub struct Limiters {
    limits: RateLimits,
    arrivals: Mutex<Arrivals>,
}

/// Arrival times per bucket and key, oldest first (at most the quota's
/// count each, and only those of the last window).
#[derive(Default)]
struct Arrivals {
    by_key: HashMap<(Bucket, String), VecDeque<Instant>>,
    /// Checks since keys whose window emptied were last dropped.
    since_sweep: usize,
}

/// Every this many checks, keys with no arrival in their window are
/// dropped, so one key per email does not pile up.
const SWEEP_EVERY: usize = 4096;

impl Limiters {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            arrivals: Mutex::new(Arrivals::default()),
        }
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Takes one request from `bucket` for `key`, or says when to retry.
    pub fn check(&self, bucket: Bucket, key: &str) -> Result<(), RetryAfter> {
        if !self.limits.enabled {
            return Ok(());
        }
        let quota = self.limits.quota(bucket);
        let window = Duration::from_secs_f64(quota.per_seconds.max(0.001));
        let count = quota.requests.max(1) as usize;
        let now = Instant::now();
        let mut arrivals = self.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        arrivals.since_sweep += 1;
        if arrivals.since_sweep >= SWEEP_EVERY {
            arrivals.since_sweep = 0;
            let limits = &self.limits;
            arrivals.by_key.retain(|(bucket, _), times| {
                let quota = limits.quota(*bucket);
                let window = Duration::from_secs_f64(quota.per_seconds.max(0.001));
                times
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
        let times = arrivals.by_key.entry((bucket, key.to_owned())).or_default();
        while times
            .front()
            .is_some_and(|first| now.duration_since(*first) >= window)
        {
            times.pop_front();
        }
        if times.len() < count {
            times.push_back(now);
            return Ok(());
        }
        // The window frees a place when its oldest arrival leaves it.
        let oldest = *times.front().expect("a full window holds an arrival");
        Err(RetryAfter((oldest + window).duration_since(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_count_with_a_retry_after() {
        let limiters = Limiters::new(RateLimits::default().scaled(0.01));
        // writes: 500 × 0.01 = 5 per 10 s.
        for _ in 0..5 {
            assert!(limiters.check(Bucket::WorkosWrites, "k").is_ok());
        }
        // The window frees a place when its first request leaves it.
        let refusal = limiters.check(Bucket::WorkosWrites, "k").unwrap_err();
        assert_eq!(refusal.header_seconds(), 10);
        // Another key has its own budget.
        assert!(limiters.check(Bucket::WorkosWrites, "other").is_ok());
    }

    #[test]
    fn disabled_never_refuses() {
        let limiters = Limiters::new(RateLimits::disabled());
        for _ in 0..10_000 {
            assert!(limiters.check(Bucket::Authenticate, "a@b.c").is_ok());
        }
    }
}
