//! The binary's one error type: the engine's and the sandbox's errors with
//! their typed sources, and the refusals only the command line makes. Each
//! has an [`ErrorKind`]; [`crate::exit`] turns kinds into exit codes.

use std::path::PathBuf;

use ferry_core::error::ErrorKind;
use ferry_core::support::diagnostic::Diagnostic;
use ferry_sandbox::SandboxError;

/// What the command line refuses to do on its own.
#[derive(Debug, thiserror::Error)]
pub enum CliRefusal {
    #[error("{paths} already exist{}; pass --force to overwrite", if *.count == 1 { "s" } else { "" })]
    WouldOverwrite { paths: String, count: usize },
    #[error("{} exists and is not a ferry demo folder; pass --dir to choose another", dir.display())]
    NotADemoFolder { dir: PathBuf },
    #[error("ferry {command} writes to {target} and needs confirmation; without a terminal, run:\n  ferry {command} {} --yes", plan.display())]
    NeedsConfirmation {
        command: &'static str,
        target: String,
        plan: PathBuf,
    },
    #[error("not confirmed: nothing was written")]
    NotConfirmed,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] ferry_core::error::Error),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Refused(#[from] CliRefusal),
}

impl Error {
    /// A file the command itself reads or writes could not be.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Core(ferry_core::error::Error::io(action, path, source))
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Core(error) => error.kind(),
            // Options, ports, tenant and CSV files are all the user's to fix.
            Self::Sandbox(_) => ErrorKind::Configuration,
            Self::Refused(_) => ErrorKind::Usage,
        }
    }

    /// Diagnostics to render under the message, when the error carries them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Core(error) => error.diagnostics(),
            _ => &[],
        }
    }
}

impl From<ferry_core::plan::PlanError> for Error {
    fn from(error: ferry_core::plan::PlanError) -> Self {
        Self::Core(error.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
