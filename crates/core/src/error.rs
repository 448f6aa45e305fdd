//! The engine's one error type, and the kinds that say what a person should
//! do about an error.
//!
//! Each layer keeps its own `thiserror` enum ([`crate::plan::PlanError`],
//! [`crate::journal::JournalError`], [`crate::steps::error::StepError`], …) and says
//! which [`ErrorKind`] each of its errors is. [`Error`] wraps them with their
//! typed source intact, so the binary prints the whole chain and maps the
//! kind to an exit code in one table; nothing here knows exit codes.

use std::io;
use std::path::PathBuf;

use crate::support::diagnostic::Diagnostic;

pub use crate::support::kind::ErrorKind;

/// A refusal: the request is understood, and declined for a reason.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(
        "run {run} did not finish, and since then {change} (revision {then} then, {now} now). Resuming with a different plan mixes two sets of decisions; review the change, then run again with --allow-changed-plan"
    )]
    ChangedPlan {
        run: i64,
        change: String,
        then: u32,
        now: u32,
    },
    #[error("{} has no `{step}` step to {what}", plan.display())]
    NoSuchStep {
        plan: PathBuf,
        step: &'static str,
        what: &'static str,
    },
    #[error("no journal at {}: nothing has run for this plan yet", journal.display())]
    NoJournal { journal: PathBuf },
    #[error(
        "no run of this plan has finished yet: `ferry run` first, then `ferry sync` applies what changed since"
    )]
    NothingToSync,
    #[error("the journal has no run {run}")]
    NoSuchRun { run: i64 },
    #[error("{}", match run { Some(id) => format!("run {id} has no report"), None => "no run has a report yet".to_owned() })]
    NoReport { run: Option<i64> },
    #[error("the report of run {run} cannot be read: {reason}")]
    UnreadableReport { run: i64, reason: String },
    /// WorkOS refused to make an Admin Portal link (an unknown organization).
    #[error("WorkOS refused the Admin Portal link for {organization}: {reason}")]
    NoPortalLink {
        organization: String,
        reason: crate::support::reason::Reason,
    },
}

/// A plan setting a command needs and the plan lacks.
#[derive(Debug, thiserror::Error)]
pub enum MissingSetting {
    #[error("{}: this needs `{key}`", plan.display())]
    Key { plan: PathBuf, key: &'static str },
    #[error("the `{step}` step reads Clerk's API: the plan needs source.clerk.secret_key")]
    ClerkKeyForStep { step: &'static str },
    #[error(
        "--offline reads the export alone: the plan needs source.clerk.export_csv or export_json"
    )]
    ExportForOffline,
    #[error("--sync lists Clerk to find what it no longer has: it cannot be --offline")]
    SyncOffline,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),

    #[error(transparent)]
    Script(#[from] crate::script::ScriptError),

    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),

    #[error(transparent)]
    Step(#[from] crate::steps::error::StepError),

    #[error(transparent)]
    MfaReport(#[from] crate::steps::mfa_report::MfaReportError),

    #[error(transparent)]
    Report(#[from] crate::report::ReportError),

    #[error(transparent)]
    Client(#[from] crate::http::client::ClientError),

    #[error(transparent)]
    Missing(#[from] MissingSetting),

    #[error(transparent)]
    Preflight(#[from] crate::target::preflight::PreflightError),

    #[error(transparent)]
    Refused(#[from] Refusal),

    #[error(transparent)]
    Webhooks(#[from] crate::target::webhooks::WebhookError),

    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl From<crate::steps::stage::StageError> for Error {
    fn from(error: crate::steps::stage::StageError) -> Self {
        use crate::steps::stage::StageError;
        match error {
            StageError::Step(error) => Self::Step(error),
            StageError::MfaReport(error) => Self::MfaReport(error),
            StageError::NoClerkKey { step } => {
                Self::Missing(MissingSetting::ClerkKeyForStep { step: step.name() })
            }
        }
    }
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Plan(error) => error.kind(),
            Self::Script(_) => ErrorKind::InvalidInput,
            Self::Journal(error) => error.kind(),
            Self::Step(error) => error.kind(),
            Self::MfaReport(error) => error.kind(),
            Self::Report(_) | Self::Client(_) | Self::Missing(_) | Self::Io { .. } => {
                ErrorKind::Configuration
            }
            Self::Refused(_) => ErrorKind::Usage,
            Self::Preflight(error) => error.kind(),
            Self::Webhooks(error) => error.kind(),
        }
    }

    /// Diagnostics to render under the message, when the error carries them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Plan(error) => error.diagnostics(),
            _ => &[],
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
