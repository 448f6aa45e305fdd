//! What one step came to ([`StepOutcome`]), the counts behind it
//! ([`Tally`]), and what a preview says a run would do with a record
//! ([`Planned`]). Plain data: the engine hands it to its observer and folds
//! it into the report.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::BTreeMap;

use serde::Serialize;

use super::accounting::ClerkSide;
use super::assessment::Assessment;
use super::mfa::MfaSummary;
use super::model::ListFile;
use super::verification::Verification;
use crate::journal::{Action, Kind};

/// What a plan step came to.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepOutcome {
    Assess(Box<Assessment>),
    /// A step that writes records (users, organizations, memberships).
    Records {
        /// The kind of record the step is about (a user step also counts TOTP factors).
        main: Kind,
        tally: Tally,
        /// The files for people this step wrote (failures, skipped, password resets).
        lists: Vec<ListFile>,
        /// Clerk counted this many more users than its listing returned.
        short_read: Option<u64>,
        /// What a users step saw of Clerk, for the accounting.
        clerk: Option<ClerkSide>,
        /// What a person should know (a role adopted with other permissions).
        notes: Vec<String>,
        /// The step's own section of the report, when it has one.
        section: Option<Box<Section>>,
    },
    MfaReport(MfaSummary),
    Verify(Verification),
    /// A preview of a step (`ferry plan`): counts by planned action.
    Previewed {
        counts: BTreeMap<PlannedAction, u64>,
        short_read: Option<u64>,
    },
    /// A step that has no preview yet; `ferry plan` says so rather than guess.
    NotPreviewed,
}

impl StepOutcome {
    /// What a records step counted, by kind and action (empty for the others).
    pub fn counts(&self) -> Option<&Tally> {
        match self {
            Self::Records { tally, .. } => Some(tally),
            _ => None,
        }
    }

    /// Records that failed in this step.
    pub fn failed(&self) -> u64 {
        match self {
            Self::Records { tally, .. } => tally.failed(),
            _ => 0,
        }
    }
}

/// A step's own section of the report, beside its counts.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "section", rename_all = "snake_case")]
pub enum Section {
    /// The connections step's Enterprise SSO summary.
    Sso(super::sso::SsoSummary),
    /// The invitations step's summary.
    Invitations(super::invitations::InvitationSummary),
}

/// Counts by kind and action for one step of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: BTreeMap<(Kind, Action), u64>,
}

impl Tally {
    pub fn add(&mut self, kind: Kind, action: Action) {
        *self.counts.entry((kind, action)).or_default() += 1;
    }

    pub fn get(&self, kind: Kind, action: Action) -> u64 {
        self.counts.get(&(kind, action)).copied().unwrap_or(0)
    }

    pub fn failed(&self) -> u64 {
        self.counts
            .iter()
            .filter(|((_, action), _)| *action == Action::Failed)
            .map(|(_, n)| n)
            .sum()
    }
}

/// `{"user": {"created": 3}}`: the shape people and the JSON report read.
impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut nested: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        for ((kind, action), n) in &self.counts {
            nested
                .entry(kind.as_str())
                .or_default()
                .insert(action.as_str(), *n);
        }
        nested.serialize(serializer)
    }
}

/// What `ferry plan` reports for one user.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub clerk_id: String,
    pub email: Option<String>,
    pub action: PlannedAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// (Users) The run would enroll the user's exported TOTP factor.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrolls_totp: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedAction {
    Create,
    Update,
    Adopt,
    Unchanged,
    Skip,
    Reject,
    Fail,
}

impl PlannedAction {
    pub const ALL: [PlannedAction; 7] = [
        Self::Create,
        Self::Update,
        Self::Adopt,
        Self::Unchanged,
        Self::Skip,
        Self::Reject,
        Self::Fail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Adopt => "adopt",
            Self::Unchanged => "unchanged",
            Self::Skip => "skip",
            Self::Reject => "reject",
            Self::Fail => "fail",
        }
    }
}

/// What a preview plans for a record the journal holds as written:
/// unchanged when its payload's fingerprint is the one written, else an
/// update (changed in Clerk since). `None` for a record never written.
pub fn planned_change(
    written: Option<&crate::journal::RecordState>,
    fingerprint: &str,
) -> Option<(PlannedAction, Option<Reason>)> {
    let written = written?;
    Some(match written.fingerprint.as_deref() == Some(fingerprint) {
        true => (PlannedAction::Unchanged, None),
        false => (
            PlannedAction::Update,
            Some(Reason::new(
                ReasonCode::SourceChanged,
                "changed in Clerk since it was written",
            )),
        ),
    })
}
