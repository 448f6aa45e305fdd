//! Rate limits as the real services document them, one GCRA limiter
//! (governor) per bucket, keyed by API key or email. A request over a limit
//! gets 429 with `Retry-After` in whole seconds (rounded up, at least 1).
//! Every count scales with one factor so tests can make limits bite early
//! (factor < 1) or never (a large factor, or [`RateLimits::disabled`]).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as GovernorQuota, RateLimiter};
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

/// The live limiters built from [`RateLimits`].
pub struct Limiters {
    limits: RateLimits,
    buckets: HashMap<Bucket, DefaultKeyedRateLimiter<String>>,
}

impl Limiters {
    pub fn new(limits: RateLimits) -> Self {
        let buckets = [
            Bucket::ClerkTest,
            Bucket::ClerkLive,
            Bucket::WorkosWrites,
            Bucket::WorkosReads,
            Bucket::WorkosPerKey,
            Bucket::Authenticate,
            Bucket::OrganizationDeletes,
        ]
        .into_iter()
        .map(|bucket| {
            (
                bucket,
                RateLimiter::keyed(governor_quota(limits.quota(bucket))),
            )
        })
        .collect();
        Self { limits, buckets }
    }

    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Takes one request from `bucket` for `key`, or says when to retry.
    pub fn check(&self, bucket: Bucket, key: &str) -> Result<(), RetryAfter> {
        if !self.limits.enabled {
            return Ok(());
        }
        let Some(limiter) = self.buckets.get(&bucket) else {
            return Ok(());
        };
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            RetryAfter(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }
}

/// `requests` per window as GCRA: a burst of `requests`, refilled evenly.
fn governor_quota(quota: Quota) -> GovernorQuota {
    let requests = NonZeroU32::new(quota.requests.max(1)).unwrap_or(NonZeroU32::MIN);
    let window = Duration::from_secs_f64(quota.per_seconds.max(0.001));
    let period = (window / requests.get()).max(Duration::from_nanos(1));
    GovernorQuota::with_period(period)
        .unwrap_or_else(|| GovernorQuota::per_second(NonZeroU32::MIN))
        .allow_burst(requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_burst_with_a_retry_after() {
        let limiters = Limiters::new(RateLimits::default().scaled(0.01));
        // writes: 500 × 0.01 = 5 per 10 s.
        for _ in 0..5 {
            assert!(limiters.check(Bucket::WorkosWrites, "k").is_ok());
        }
        let refusal = limiters.check(Bucket::WorkosWrites, "k").unwrap_err();
        assert!((1..=2).contains(&refusal.header_seconds()));
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
