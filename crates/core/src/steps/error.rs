//! Why a step could not go on (as opposed to a record that failed, which is
//! an outcome the step records and moves past).

use crate::journal::JournalError;
use crate::source::read::SourceError;
use crate::support::kind::ErrorKind;
use crate::workos::client::WorkosError;

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("reading from WorkOS: {}", .0.reason())]
    Target(Box<WorkosError>),
    /// WorkOS answered with something ferry will not use.
    #[error("{0}")]
    Unreadable(&'static str),
    /// A list for people could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<WorkosError> for StepError {
    fn from(error: WorkosError) -> Self {
        Self::Target(Box::new(error))
    }
}

impl StepError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Source(error) => error.kind(),
            Self::Journal(error) => error.kind(),
            Self::Target(_) | Self::Write { .. } | Self::Unreadable(_) => ErrorKind::Unavailable,
        }
    }

    pub fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
