//! Which requests each imitation saw, by route and outcome: what tests and
//! benchmarks count writes and 429s with.

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

#[derive(Default)]
pub struct RequestLog {
    counts: Mutex<RequestCounts>,
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

    pub fn reset(&self) {
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()) = RequestCounts::default();
    }
}
