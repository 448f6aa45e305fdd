//! What the plan says of the APIs it points at that the layers below it
//! (the HTTP client, the WorkOS client) need too: WorkOS's documented rate
//! limits, which a plan may lower, and the loopback rule, which decides
//! where plain `http://` may go. They live here, at the configuration
//! layer, so the plan never imports the clients it configures.

use std::time::Duration;

/// How hard a client tries a request before it gives up, and how long it
/// waits; the plan sets it (`users.max_attempts`, `users.max_wait_secs`),
/// and every HTTP client of the run follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest single wait a server may ask for (`Retry-After`); a
    /// longer demand stops the run, to be resumed later.
    pub max_wait: Duration,
    /// How long one attempt may take, answer included; an attempt that
    /// takes longer counts toward the client's circuit breaker.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_wait: Duration::from_secs(300),
            attempt_timeout: Duration::from_secs(60),
        }
    }
}

/// How a run paces itself: the retry policy every client of every step
/// follows, and how many requests a step keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    pub retry: RetryPolicy,
    pub concurrency: usize,
}

impl Pacing {
    /// The plan's pacing: its `users` step's `max_attempts`,
    /// `max_wait_secs` and `concurrency`, or the defaults. The default
    /// concurrency keeps WorkOS's write bucket busy at up to two seconds
    /// of latency.
    pub fn resolve(
        max_attempts: Option<u32>,
        max_wait_secs: Option<u64>,
        concurrency: Option<u32>,
        limits: Option<&WorkosLimits>,
    ) -> Self {
        let defaults = RetryPolicy::default();
        let writes_per_second = limits.map_or(50.0, |l| f64::from(l.writes_per_10s) / 10.0);
        Self {
            retry: RetryPolicy {
                max_attempts: max_attempts.unwrap_or(defaults.max_attempts).max(1),
                max_wait: max_wait_secs.map_or(defaults.max_wait, Duration::from_secs),
                ..defaults
            },
            concurrency: concurrency
                .map(|c| c as usize)
                .unwrap_or_else(|| (writes_per_second * 2.0).ceil() as usize)
                .clamp(1, 512),
        }
    }
}

impl Default for Pacing {
    fn default() -> Self {
        Self::resolve(None, None, None, None)
    }
}

/// WorkOS's documented rate limits, which a plan may lower (or raise, for a sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WorkosLimits {
    pub writes_per_10s: u32,
    pub reads_per_10s: u32,
    pub requests_per_60s: u32,
    pub authenticate_per_60s: u32,
}

impl Default for WorkosLimits {
    fn default() -> Self {
        Self {
            writes_per_10s: 500,
            reads_per_10s: 1000,
            requests_per_60s: 6000,
            authenticate_per_60s: 10,
        }
    }
}

/// Whether a URL points at this machine (127.0.0.0/8, ::1 or localhost):
/// the only place plain `http://` may go, and a target whose limits any
/// plan may set.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}
