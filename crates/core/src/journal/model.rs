//! The journal's vocabulary: what a run did with a record, an outcome as
//! written and as read back, a run as recorded, and the counts a journal
//! gives (every other part of the journal, and its callers, speak these).

use serde::Serialize;

use super::kind::{Kind, SignsIn};
use crate::support::checksum::Checksum;
use crate::support::reason::{Reason, ReasonCode};

/// What a run did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    /// Found in WorkOS already (a lost response, an earlier run) and taken over.
    Adopted,
    Unchanged,
    Skipped,
    Rejected,
    Failed,
    /// Taken away again by `ferry undo`: ferry made it, and it is gone.
    Deleted,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Self::Created,
        Self::Updated,
        Self::Adopted,
        Self::Unchanged,
        Self::Skipped,
        Self::Rejected,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Adopted => "adopted",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Deleted => "deleted",
        }
    }

    /// `ALL` holds what a run can come to; `deleted` is undo's alone.
    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Deleted])
            .find(|a| a.as_str() == text)
    }

    /// Whether the record exists in WorkOS as ferry wrote it: a rerun costs
    /// no write for it unless its source changed. Skipped, rejected and
    /// failed records are looked at again on every run.
    pub fn wrote_target(self) -> bool {
        matches!(
            self,
            Self::Created | Self::Updated | Self::Adopted | Self::Unchanged
        )
    }
}

/// One record's outcome, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: Kind,
    pub source_id: String,
    pub target_id: Option<String>,
    pub action: Action,
    pub attempts: u32,
    /// Why it failed, was rejected or skipped, or what a person should
    /// know of it. Never contains a secret.
    pub reason: Option<Reason>,
    /// SHA-256 of the non-secret fields written, to notice source changes on a rerun.
    pub fingerprint: Option<String>,
}

/// An outcome as the journal stores it, with what the people lists need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub outcome: Outcome,
    /// The person's email (the lists name it; never a secret).
    pub email: Option<String>,
    /// Why the password was not imported, when the user needs a reset.
    pub password_reset: Option<Reason>,
    /// A user's seal (see migration 6): replaced on every write, so an
    /// outcome written without one leaves none behind. Never a secret.
    pub seal: Option<String>,
    /// How a migrated user signs in (see migration 7); kept by later
    /// writes that leave it out while the user stays migrated.
    pub signs_in: Option<SignsIn>,
    /// The Clerk hasher of a user whose password this write imported or
    /// listed for a reset (see migration 9); kept like `signs_in`.
    pub hasher: Option<String>,
}

impl From<Outcome> for Entry {
    fn from(outcome: Outcome) -> Self {
        Self {
            outcome,
            email: None,
            password_reset: None,
            seal: None,
            signs_in: None,
            hasher: None,
        }
    }
}

/// Users of one standing ([`Journal::user_groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroup {
    pub action: Action,
    pub signs_in: Option<SignsIn>,
    pub needs_reset: bool,
    /// Why they were skipped or rejected.
    pub reason: Option<ReasonCode>,
    pub count: u64,
}

/// One record's state, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordState {
    pub target_id: Option<String>,
    pub action: Action,
    pub attempts: u32,
    pub reason: Option<Reason>,
    pub fingerprint: Option<String>,
    pub run_id: i64,
}

/// A run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub plan_name: String,
    pub revision: u32,
    pub checksum: Checksum,
    pub dry_run: bool,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished: running now, or it crashed.
    Running,
    Finished,
    /// Finished with some records failed.
    FinishedWithFailures,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::FinishedWithFailures => "finished_with_failures",
            Self::Interrupted => "interrupted",
        }
    }

    pub(super) fn parse(text: &str) -> Self {
        match text {
            "finished" => Self::Finished,
            "finished_with_failures" => Self::FinishedWithFailures,
            "interrupted" => Self::Interrupted,
            _ => Self::Running,
        }
    }
}

/// Counts by kind and action, for `ferry status` and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub rows: Vec<RecordCountRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordCountRow {
    pub kind: Kind,
    pub action: Action,
    pub count: u64,
}

impl RecordCounts {
    pub fn count(&self, kind: Kind, action: Action) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.kind == kind && r.action == action)
            .map(|r| r.count)
            .sum()
    }
}

/// Now, as the journal writes times (RFC 3339 in UTC, to the millisecond).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
