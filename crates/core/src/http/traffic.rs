//! What a client's requests came to over a run: attempts sent, how many
//! were writes, retries and 429s, in all and per plan step. Counted where
//! every request passes ([`super::client::ApiClient::send`]), read once for
//! the report: a sign-off names the pressure a run met, not only its result.
//!
//! The step is the one whose future sends the request ([`STEP`], set by
//! the engine around each step); steps overlap, so this is how their
//! requests are told apart on one client.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

tokio::task_local! {
    /// The plan step the current task works for.
    pub static STEP: &'static str;
}

/// Live counters, shared by every task using one client.
#[derive(Debug, Default)]
pub struct Traffic {
    attempts: AtomicU64,
    writes: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    by_step: Mutex<BTreeMap<&'static str, TrafficCounts>>,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficCounts {
    /// HTTP attempts sent (a retried request counts each attempt).
    pub requests: u64,
    /// Attempts that were not reads (POST, PUT, PATCH, DELETE).
    pub writes: u64,
    /// Attempts after the first of their request.
    pub retries: u64,
    /// Answers that were 429 Too Many Requests.
    pub throttled: u64,
}

impl Traffic {
    /// One attempt sent: the `attempt`-th of its request.
    pub fn sent(&self, attempt: u32, write: bool) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if write {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        if attempt > 1 {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        self.step(|counts| {
            counts.requests += 1;
            counts.writes += u64::from(write);
            counts.retries += u64::from(attempt > 1);
        });
    }

    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
        self.step(|counts| counts.throttled += 1);
    }

    /// Counts into the current step's counters, when a step is current.
    fn step(&self, count: impl FnOnce(&mut TrafficCounts)) {
        if let Ok(step) = STEP.try_with(|step| *step) {
            let mut by_step = self.by_step.lock().unwrap_or_else(|p| p.into_inner());
            count(by_step.entry(step).or_default());
        }
    }

    /// What `step`'s tasks sent through this client.
    pub fn counts_of(&self, step: &str) -> TrafficCounts {
        let by_step = self.by_step.lock().unwrap_or_else(|p| p.into_inner());
        by_step.get(step).copied().unwrap_or_default()
    }

    pub fn counts(&self) -> TrafficCounts {
        TrafficCounts {
            requests: self.attempts.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Add for TrafficCounts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            requests: self.requests + other.requests,
            writes: self.writes + other.writes,
            retries: self.retries + other.retries,
            throttled: self.throttled + other.throttled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_writes_retries_and_429s_are_counted_apart() {
        let traffic = Traffic::default();
        traffic.sent(1, false);
        traffic.sent(1, true);
        traffic.sent(2, true);
        traffic.throttled();
        assert_eq!(traffic.counts_of("users"), TrafficCounts::default());
        assert_eq!(
            traffic.counts(),
            TrafficCounts {
                requests: 3,
                writes: 2,
                retries: 1,
                throttled: 1
            }
        );
    }

    #[tokio::test]
    async fn each_step_s_requests_are_counted_apart() {
        let traffic = Traffic::default();
        STEP.scope("users", async {
            traffic.sent(1, true);
            traffic.sent(2, true);
            traffic.throttled();
        })
        .await;
        STEP.scope("organizations", async { traffic.sent(1, false) })
            .await;
        assert_eq!(
            traffic.counts_of("users"),
            TrafficCounts {
                requests: 2,
                writes: 2,
                retries: 1,
                throttled: 1
            }
        );
        assert_eq!(traffic.counts_of("organizations").requests, 1);
        assert_eq!(traffic.counts().requests, 3);
    }
}
