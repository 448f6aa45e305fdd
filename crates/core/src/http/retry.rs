//! When to try a request again, and how long to wait first.
//!
//! 429 waits out `Retry-After` (seconds or an HTTP date); 401, 403, 408,
//! 5xx and connection errors back off exponentially with full jitter; anything else
//! is the server's considered answer and is not retried. Attempts are
//! bounded: after the last one the record is marked failed and the run goes on.

use std::time::{Duration, SystemTime};

use rand::RngExt;

pub use crate::plan::endpoint::RetryPolicy;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAttempt {
    /// Try again after this long.
    RetryAfter(Duration),
    /// Do not try again.
    GiveUp,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after a transient failure: a
    /// random time up to `base × 2^(attempt-1)`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let millis = exp.as_millis().max(1) as u64;
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }

    /// Judges an HTTP status after attempt number `attempt` (1-based).
    pub fn after_status(
        &self,
        attempt: u32,
        status: u16,
        retry_after: Option<Duration>,
    ) -> NextAttempt {
        if attempt >= self.max_attempts {
            return NextAttempt::GiveUp;
        }
        match status {
            429 => NextAttempt::RetryAfter(
                retry_after
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(self.max_wait),
            ),
            // A refused key is retried too: if it is refused again and again,
            // the client's circuit breaker stops the run before any record
            // is marked failed for it.
            401 | 403 => NextAttempt::RetryAfter(self.backoff(attempt)),
            408 | 500..=599 => NextAttempt::RetryAfter(
                retry_after
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(self.max_delay),
            ),
            _ => NextAttempt::GiveUp,
        }
    }

    /// Judges a connection error (reset, refused, timeout) after attempt `attempt`.
    pub fn after_network_error(&self, attempt: u32) -> NextAttempt {
        if attempt >= self.max_attempts {
            NextAttempt::GiveUp
        } else {
            NextAttempt::RetryAfter(self.backoff(attempt))
        }
    }
}

/// `Retry-After` as a duration: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_transient_failures_only_and_stops() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_status(1, 429, Some(Duration::from_secs(3))),
            NextAttempt::RetryAfter(Duration::from_secs(3))
        );
        assert!(matches!(
            policy.after_status(1, 503, None),
            NextAttempt::RetryAfter(_)
        ));
        assert!(matches!(
            policy.after_status(1, 408, None),
            NextAttempt::RetryAfter(_)
        ));
        assert_eq!(policy.after_status(1, 400, None), NextAttempt::GiveUp);
        assert_eq!(policy.after_status(1, 404, None), NextAttempt::GiveUp);
        assert_eq!(policy.after_status(5, 503, None), NextAttempt::GiveUp);
        assert_eq!(policy.after_network_error(5), NextAttempt::GiveUp);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        assert!(policy.backoff(1) <= Duration::from_millis(200));
        assert!(policy.backoff(3) >= Duration::from_millis(400));
        assert!(policy.backoff(30) <= policy.max_delay);
    }

    #[test]
    fn parses_both_retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let parsed = parse_retry_after(&later).unwrap();
        assert!(parsed > Duration::from_secs(25) && parsed <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
