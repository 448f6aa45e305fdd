//! Which requests each imitation saw, by route and outcome: what tests and
//! benchmarks count writes and 429s with; and, when asked for
//! ([`crate::SandboxOptions::with_capture`]), every answer whole, so a test
//! can hold each one to the official OpenAPI spec.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Which imitation a request reached, for error bodies and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Clerk,
    Workos,
}

/// Requests seen, by `METHOD /route/{pattern}` and outcome (a status code,
/// `reset`, or `<status> dropped` for a write whose answer was dropped).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub total: u64,
    /// Non-GET requests that reached the WorkOS imitation, whatever their outcome.
    pub workos_writes: u64,
    pub clerk: BTreeMap<String, BTreeMap<String, u64>>,
    pub workos: BTreeMap<String, BTreeMap<String, u64>>,
}

impl RequestCounts {
    /// How many `route` requests ended with `outcome`, on either server.
    pub fn count(&self, route: &str, outcome: &str) -> u64 {
        [&self.clerk, &self.workos]
            .iter()
            .filter_map(|routes| routes.get(route)?.get(outcome))
            .sum()
    }

    /// Every request to `route`, whatever the outcome.
    pub fn route_total(&self, route: &str) -> u64 {
        [&self.clerk, &self.workos]
            .iter()
            .filter_map(|routes| routes.get(route))
            .flat_map(|outcomes| outcomes.values())
            .sum()
    }
}

/// One answer, as the client received it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub flavor: Flavor,
    pub method: String,
    /// The route pattern, e.g. `/user_management/users/{id}`.
    pub route: String,
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Default)]
pub struct RequestLog {
    counts: Mutex<RequestCounts>,
    /// `Some` when answers are captured.
    captured: Mutex<Option<Vec<Captured>>>,
}

impl RequestLog {
    pub fn record(&self, flavor: Flavor, route: &str, outcome: &str, is_write: bool) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total += 1;
        if is_write && flavor == Flavor::Workos {
            counts.workos_writes += 1;
        }
        let routes = match flavor {
            Flavor::Clerk => &mut counts.clerk,
            Flavor::Workos => &mut counts.workos,
        };
        *routes
            .entry(route.to_owned())
            .or_default()
            .entry(outcome.to_owned())
            .or_default() += 1;
    }

    pub fn snapshot(&self) -> RequestCounts {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn capture_answers(&self) {
        *self.captured.lock().unwrap_or_else(|p| p.into_inner()) = Some(Vec::new());
    }

    pub fn capturing(&self) -> bool {
        self.captured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    pub fn capture(&self, answer: Captured) {
        if let Some(all) = self
            .captured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            all.push(answer);
        }
    }

    /// The answers captured since the last call.
    pub fn take_captured(&self) -> Vec<Captured> {
        self.captured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    pub fn reset(&self) {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = RequestCounts::default();
    }
}
