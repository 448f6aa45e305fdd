//! The one error type that reaches the edge, and the documented exit codes.
//!
//! Each layer has its own `thiserror` enum ([`crate::plan::PlanError`],
//! [`crate::script::ScriptError`], …); [`Error`] wraps them so that `main`
//! can print one message and pick one exit code. Outcomes that are not
//! errors but still fail the command (a failed test, an invalid plan reported
//! by `validate`) are an [`ExitStatus`] returned by the command.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::diagnostic::Diagnostic;

/// The exit codes ferry documents (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything asked for was done and holds.
    Success,
    /// 1: ferry found a problem: an invalid plan, a failed script test, a failed verification.
    ProblemFound,
    /// 2: a usage or configuration error: bad arguments, a missing file or variable.
    UsageError,
    /// 3: a run finished, but some records failed (see the failures file).
    RecordsFailed,
    /// 4: a run stopped before finishing (interrupted, target unreachable); `ferry run` resumes it.
    Aborted,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::ProblemFound => 1,
            Self::UsageError => 2,
            Self::RecordsFailed => 3,
            Self::Aborted => 4,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),

    #[error(transparent)]
    Script(#[from] crate::script::ScriptError),

    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),

    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),

    #[error(transparent)]
    Step(#[from] crate::steps::StepError),

    #[error("{0}")]
    Usage(String),

    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Plan(error) => error.exit_status(),
            Self::Script(_) => ExitStatus::ProblemFound,
            Self::Usage(_) | Self::Io { .. } => ExitStatus::UsageError,
            // Options, ports, tenant and CSV files are all the user's to fix.
            Self::Sandbox(_) => ExitStatus::UsageError,
            Self::Journal(error) => match error {
                crate::journal::JournalError::Sqlite { .. } => ExitStatus::Aborted,
                _ => ExitStatus::UsageError,
            },
            Self::Step(error) => match error {
                crate::steps::StepError::Source(crate::source::read::SourceError::Clerk(_)) => {
                    ExitStatus::Aborted
                }
                crate::steps::StepError::Journal(_) | crate::steps::StepError::Target(_) => {
                    ExitStatus::Aborted
                }
                crate::steps::StepError::Source(_) => ExitStatus::UsageError,
            },
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
