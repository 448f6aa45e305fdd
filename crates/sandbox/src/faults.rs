//! Fault injection: latency (fixed plus jitter), a fraction of 500/502/503
//! answers, a fraction of connection resets, a fraction of writes that
//! succeed on the server but whose response is dropped, and scripted 429
//! bursts. Every draw comes from one ChaCha RNG seeded by the config, taken in
//! request-arrival order, so a given seed and request sequence always meet
//! the same faults. Setting a config restarts the RNG and the request ordinal.

use std::sync::Mutex;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// What faults to inject: `ferry sandbox`'s fault flags parse straight into
/// it, and the admin route reads and replaces it as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the fault injector.
    #[arg(id = "fault_seed", long = "fault-seed", default_value_t = 0)]
    pub seed: u64,
    /// Add this latency to every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Add up to this much more latency, at random.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Fraction of requests answered 500, 502 or 503.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    pub error_rate: f64,
    /// Fraction of requests whose connection is reset without an answer.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    pub reset_rate: f64,
    /// Fraction of writes that take effect but whose answer is dropped.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    pub drop_write_rate: f64,
    /// Fraction of writes answered 400 with an HTML page echoing the whole request (headers and body), as a misbehaving proxy or server would.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    pub echo_rate: f64,
    /// A scripted 429 burst, AFTER:COUNT[:RETRY_AFTER_SECS] in request numbers (repeatable).
    #[arg(long, value_name = "AFTER:COUNT[:SECS]", value_parser = ThrottleBurst::parse)]
    pub throttle: Vec<ThrottleBurst>,
    /// Clerk's users, organizations and memberships listings answer at
    /// most this many objects a page, whatever the limit, with the true
    /// `total_count` (and user count): a server that cuts pages short.
    #[arg(long, value_name = "OBJECTS")]
    pub clerk_page_cap: Option<usize>,
    /// Once the users listing's first page (offset 0) is answered, this
    /// many of the users it held are deleted, once: every later row shifts
    /// up while the listing is being read.
    #[arg(long, value_name = "USERS")]
    pub delete_during_listing: Option<usize>,
    /// Every user create takes effect, but is answered with the oldest user
    /// WorkOS holds: a server that hands out one id for every create.
    #[arg(long)]
    pub one_user_answer: bool,
    /// `GET /events` ignores its `events` filter and answers every type: a
    /// server whose answer a client reading it as a record must not trust.
    #[arg(long)]
    pub events_unfiltered: bool,
    /// Refuse this `password_hash_type` with 400 `invalid_password_hash`,
    /// whatever the digest (repeatable): a target that does not take a
    /// layout, so tests can prove ferry's fallback.
    #[arg(long, value_name = "TYPE", value_parser = refused_hash_type)]
    pub refuse_hash_type: Vec<crate::hashes::HashKind>,
    /// Send `Retry-After` as an HTTP date rather than seconds.
    #[arg(
        long = "retry-after-http-date",
        num_args = 0,
        default_value = "seconds",
        default_missing_value = "http-date",
        value_enum
    )]
    pub retry_after_format: RetryAfterFormat,
}

fn refused_hash_type(label: &str) -> Result<crate::hashes::HashKind, String> {
    crate::hashes::HashKind::parse(label).ok_or_else(|| {
        format!(
            "`{label}` is not a WorkOS password_hash_type (bcrypt, firebase-scrypt, ssha, ssha256, scrypt, pbkdf2, argon2)"
        )
    })
}

/// `Retry-After: 3` or `Retry-After: Thu, 26 Nov 2026 11:30:03 GMT`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterFormat {
    #[default]
    Seconds,
    HttpDate,
}

/// Requests `after_requests + 1 ..= after_requests + count` get 429.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleBurst {
    pub after_requests: u64,
    pub count: u64,
    #[serde(default = "one")]
    pub retry_after_secs: u64,
}

fn one() -> u64 {
    1
}

impl ThrottleBurst {
    /// `AFTER:COUNT[:SECS]`, as `--throttle` takes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let numbers: Vec<u64> = text
            .split(':')
            .map(|part| part.trim().parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("`{text}` is not AFTER:COUNT[:SECS]"))?;
        let (after_requests, count, retry_after_secs) = match numbers[..] {
            [after, count] => (after, count, 1),
            [after, count, secs] => (after, count, secs),
            _ => return Err(format!("`{text}` is not AFTER:COUNT[:SECS]")),
        };
        Ok(Self {
            after_requests,
            count,
            retry_after_secs,
        })
    }
}

/// A rate: a number from 0 to 1.
pub fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
}

impl FaultConfig {
    /// Rates must be fractions.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("reset_rate", self.reset_rate),
            ("drop_write_rate", self.drop_write_rate),
            ("echo_rate", self.echo_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, not {rate}"));
            }
        }
        Ok(())
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// 429 with this `Retry-After`.
    Throttle {
        retry_after_secs: u64,
    },
    /// Answer this 5xx status without running the handler.
    ServerError(u16),
    /// Drop the connection without running the handler.
    Reset,
    /// Run the handler, then drop the connection instead of answering.
    DropResponse,
    /// Answer 400 with an HTML page that echoes the request, secrets and all.
    Echo,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The request's number since the config was set (1-based).
    pub ordinal: u64,
    pub latency: Duration,
    pub fault: Fault,
}

struct Inner {
    config: FaultConfig,
    rng: ChaCha8Rng,
    ordinal: u64,
}

/// The live fault injector, shared by both servers.
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Self {
            inner: Mutex::new(Inner {
                config,
                rng,
                ordinal: 0,
            }),
        }
    }

    pub fn config(&self) -> FaultConfig {
        self.lock().config.clone()
    }

    /// Replaces the config and restarts the RNG and the ordinal.
    pub fn set(&self, config: FaultConfig) {
        let mut inner = self.lock();
        inner.rng = ChaCha8Rng::seed_from_u64(config.seed);
        inner.ordinal = 0;
        inner.config = config;
    }

    /// Decides the fate of the next request. Draws the same number of random
    /// values for every request so one request's kind does not shift the
    /// faults the following requests meet.
    pub fn decide(&self, is_write: bool) -> Decision {
        let mut inner = self.lock();
        inner.ordinal += 1;
        let ordinal = inner.ordinal;
        let jitter_draw: f64 = inner.rng.random();
        let error_draw: f64 = inner.rng.random();
        let status_draw: u32 = inner.rng.random_range(0..3);
        let reset_draw: f64 = inner.rng.random();
        let drop_draw: f64 = inner.rng.random();
        // Drawn only when asked for, so seeds keep meeting the faults they always met.
        let echo_draw: f64 = if inner.config.echo_rate > 0.0 {
            inner.rng.random()
        } else {
            1.0
        };
        let config = &inner.config;

        let jitter = (config.jitter_ms as f64 * jitter_draw).round() as u64;
        let latency = Duration::from_millis(config.latency_ms + jitter);
        let throttled = config.throttle.iter().find(|burst| {
            ordinal > burst.after_requests && ordinal <= burst.after_requests + burst.count
        });
        let fault = if let Some(burst) = throttled {
            Fault::Throttle {
                retry_after_secs: burst.retry_after_secs,
            }
        } else if error_draw < config.error_rate {
            Fault::ServerError([500, 502, 503][status_draw as usize])
        } else if reset_draw < config.reset_rate {
            Fault::Reset
        } else if is_write && drop_draw < config.drop_write_rate {
            Fault::DropResponse
        } else if is_write && echo_draw < config.echo_rate {
            Fault::Echo
        } else {
            Fault::None
        };
        Decision {
            ordinal,
            latency,
            fault,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> FaultConfig {
        FaultConfig {
            seed,
            jitter_ms: 100,
            error_rate: 0.2,
            reset_rate: 0.1,
            drop_write_rate: 0.3,
            ..FaultConfig::default()
        }
    }

    fn run(faults: &Faults) -> Vec<Decision> {
        (0..200).map(|i| faults.decide(i % 2 == 0)).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let first = run(&Faults::new(config(7)));
        assert_eq!(first, run(&Faults::new(config(7))));
        assert_ne!(first, run(&Faults::new(config(8))));
        let errors = first
            .iter()
            .filter(|d| matches!(d.fault, Fault::ServerError(_)))
            .count();
        assert!((20..=60).contains(&errors), "{errors} errors of 200 at 20%");
        // Reads are never dropped after the fact.
        assert!(
            first
                .iter()
                .skip(1)
                .step_by(2)
                .all(|d| d.fault != Fault::DropResponse)
        );
    }

    #[test]
    fn throttle_bursts_hit_exact_ordinals() {
        let faults = Faults::new(FaultConfig {
            throttle: vec![ThrottleBurst {
                after_requests: 2,
                count: 3,
                retry_after_secs: 4,
            }],
            ..FaultConfig::default()
        });
        let kinds: Vec<Fault> = (0..7).map(|_| faults.decide(true).fault).collect();
        let throttle = Fault::Throttle {
            retry_after_secs: 4,
        };
        assert_eq!(
            kinds,
            [
                Fault::None,
                Fault::None,
                throttle,
                throttle,
                throttle,
                Fault::None,
                Fault::None
            ]
        );
    }

    #[test]
    fn rates_must_be_fractions() {
        let bad = FaultConfig {
            error_rate: 1.5,
            ..FaultConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(FaultConfig::default().validate().is_ok());
    }
}
