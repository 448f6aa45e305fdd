//! What a client's requests came to over a run: attempts sent, how many
//! were writes, retries and 429s. Counted where every request passes
//! ([`super::client::ApiClient::send`]), read once for the report: a
//! sign-off names the pressure a run met, not only its result.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Live counters, shared by every task using one client.
#[derive(Debug, Default)]
pub struct Traffic {
    attempts: AtomicU64,
    writes: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
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
    }

    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
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
}
