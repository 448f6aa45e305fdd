//! The report's model: what one run came to, step by step. Plain data,
//! serialised into the journal and rendered by [`super::render`]; it never
//! holds a digest, a secret or a key.

use crate::support::reason::ReasonCode;
use serde::{Deserialize, Serialize};

use super::accounting::Accounting;
use super::assessment::Assessment;
use super::mfa::MfaSummary;
use super::verification::Verification;
use crate::http::TrafficCounts;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub ferry_version: String,
    pub generated_at: String,
    pub plan: PlanInfo,
    pub run: RunInfo,
    pub assessment: Option<Assessment>,
    pub steps: Vec<StepReport>,
    pub mfa: Option<MfaSummary>,
    /// The connections step's Enterprise SSO section.
    #[serde(default)]
    pub sso: Option<super::sso::SsoSummary>,
    /// The invitations step's section.
    #[serde(default)]
    pub invitations: Option<super::invitations::InvitationSummary>,
    pub verification: Option<Verification>,
    /// The lists for people as the migration stands after this run (every
    /// run on this journal), with this run's change.
    #[serde(default)]
    pub people: Vec<PeopleList>,
    /// Where the run read and wrote, and what its requests came to.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Every user in one bucket, reconciled with Clerk's count.
    #[serde(default)]
    pub accounting: Option<Accounting>,
    /// The plan's steps this run did not finish (an interrupted run).
    #[serde(default)]
    pub not_run: Vec<String>,
    /// What to do now, in order.
    #[serde(default)]
    pub next_steps: Vec<String>,
}

/// One API the run talked to: named by URL and environment, never by key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    /// `source` or `target`.
    pub role: String,
    /// `Clerk` or `WorkOS`.
    pub service: String,
    pub api_url: String,
    /// What the key says of the environment (`sk_live_`: production; `sk_test_`: not).
    pub environment: String,
    /// The WorkOS client id (not a secret).
    pub client_id: Option<String>,
    pub traffic: TrafficCounts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanInfo {
    pub name: String,
    pub revision: u32,
    pub checksum: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `finished`, `finished_with_failures`, `interrupted`.
    pub status: String,
    pub outcome: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepReport {
    pub name: String,
    pub duration: String,
    pub duration_ms: u64,
    /// Records the step handled, and how many a second.
    #[serde(default)]
    pub records: u64,
    #[serde(default)]
    pub per_second: Option<u64>,
    /// What the step's own requests came to, Clerk's and WorkOS's together
    /// (requests, writes, retries, 429s).
    #[serde(default)]
    pub traffic: TrafficCounts,
    /// `created: 12`, …, in a fixed order; zero counts left out.
    pub counts: Vec<Count>,
    /// The records the journal holds skipped, rejected or failed, counted
    /// by action and reason code.
    #[serde(default)]
    pub reasons: Vec<ReasonCount>,
    /// The first failed or rejected records with their reasons.
    pub failures: Vec<Failure>,
    pub failures_total: u64,
    /// Files this step wrote for people.
    pub lists: Vec<ListFile>,
    pub notes: Vec<String>,
}

/// How many records of a step share an action and a reason code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    pub action: String,
    pub code: ReasonCode,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Count {
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub id: String,
    pub action: String,
    /// The reason's code (a report an earlier ferry saved has none).
    #[serde(default)]
    pub code: Option<ReasonCode>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListFile {
    pub label: String,
    pub path: String,
    pub rows: u64,
}

/// A list for people over the whole migration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeopleList {
    pub label: String,
    pub path: String,
    /// People on it now.
    pub total: u64,
    /// How this run changed it (negative: people it took off).
    pub change: i64,
}
