//! Talking to rate-limited HTTP APIs without tripping their limits: one
//! token bucket per documented limit ([`limiter`]), a retry policy with
//! jittered exponential backoff that honours `Retry-After` ([`retry`]), and
//! the client that puts both around every request ([`client`]), counting
//! what it sent ([`traffic`]).

pub mod client;
pub mod limiter;
pub mod listing;
pub mod retry;
pub mod traffic;

pub use client::{ApiClient, ApiError, ApiErrorKind, Request};
pub use limiter::Bucket;
pub use retry::RetryPolicy;
pub use traffic::{Traffic, TrafficCounts};
