//! Token buckets sized from an API's documented limits.
//!
//! Each [`Bucket`] paces requests so that no window of the limit's length
//! ever sees more than the limit, whatever the latency: a GCRA limiter
//! (governor) with a small burst and a rate just under the limit less the
//! burst (half a percent of margin for arrival jitter). When the server still answers 429, [`Bucket::pause`] makes
//! every task using the bucket wait out `Retry-After`, not just the one that
//! was refused.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

pub struct Bucket {
    name: String,
    limit: u32,
    window: Duration,
    limiter: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("name", &self.name)
            .field("limit", &self.limit)
            .field("window", &self.window)
            .finish()
    }
}

impl Bucket {
    /// A bucket for "`limit` requests per `window`".
    pub fn new(name: impl Into<String>, limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        let (burst, paced) = pacing(limit);
        let period = window / paced;
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .expect("a positive period")
            .allow_burst(NonZeroU32::new(burst).expect("burst is at least 1"));
        Self {
            name: name.into(),
            limit,
            window,
            limiter: RateLimiter::direct(quota),
            paused_until: Mutex::new(None),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The steady rate this bucket sends at, per second.
    pub fn rate_per_second(&self) -> f64 {
        let (_, paced) = pacing(self.limit);
        f64::from(paced) / self.window.as_secs_f64()
    }

    /// Waits until this bucket may send one more request.
    pub async fn acquire(&self) {
        loop {
            let pause = *self.paused_until.lock().expect("pause lock");
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        self.limiter.until_ready().await;
    }

    /// Makes every user of the bucket wait `duration` (a 429's `Retry-After`).
    pub fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut paused = self.paused_until.lock().expect("pause lock");
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
            // A wait people would notice is said once, when it begins.
            if duration >= Duration::from_secs(5) {
                let resume =
                    chrono::Local::now() + chrono::Duration::from_std(duration).unwrap_or_default();
                tracing::warn!(
                    "{}: the server asked to wait {} s; resuming at {}",
                    self.name,
                    duration.as_secs(),
                    resume.format("%H:%M:%S")
                );
            }
        }
        tracing::info!(bucket = %self.name, wait_ms = duration.as_millis() as u64, "rate limited: pausing");
    }
}

/// The burst and the paced count per window for a limit. In any window GCRA
/// admits at most burst + paced requests, which stays half a percent under
/// the limit so requests bunched up by network jitter still fit. The burst
/// (a hundredth of the limit) lets a sender that was busy for a moment
/// (hashing a page it just read, committing to the journal) catch up
/// rather than lose that moment's share of the limit for good.
fn pacing(limit: u32) -> (u32, u32) {
    let burst = (limit / 100).max(1);
    let margin = (limit / 200).max(1);
    (burst, limit.saturating_sub(burst + margin).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_under_the_limit() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let rate = bucket.rate_per_second();
        assert!((49.0..50.0).contains(&rate), "{rate}");
    }

    #[tokio::test]
    async fn never_more_than_the_limit_in_a_window() {
        // governor keeps real time, so this takes about a second.
        let bucket = Bucket::new("w", 200, Duration::from_secs(1));
        let start = std::time::Instant::now();
        let mut times = Vec::new();
        for _ in 0..300 {
            bucket.acquire().await;
            times.push(start.elapsed());
        }
        // Slide a one-second window over the send times.
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 200,
                "{in_window} sends within a second starting at {t:?}"
            );
        }
    }
}
