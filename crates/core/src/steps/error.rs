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
            Self::Target(_) => ErrorKind::Unavailable,
        }
    }
}
