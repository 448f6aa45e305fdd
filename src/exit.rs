//! The exit codes ferry documents (README, "Exit codes"), mapped in one place.
//!
//! A command ends either with an [`Exit`] it chose (success, a problem
//! found, some records failed, interrupted) or with an error, whose
//! [`ErrorKind`] decides the code. This table is the only place that knows
//! the numbers.

use std::process::ExitCode;

use ferry_core::error::ErrorKind;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done and holds.
    Success,
    /// ferry found a problem: an invalid plan, a failed script test, a failed verification.
    ProblemFound,
    /// A run finished, but some records failed (see the failures file).
    RecordsFailed,
    /// A run stopped before finishing; `ferry run` resumes it.
    Interrupted,
    /// The command line did not parse.
    BadArguments,
    /// The command failed with an error of this kind.
    Error(ErrorKind),
}

impl Exit {
    /// The one table.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::ProblemFound | Self::Error(ErrorKind::InvalidInput) => 1,
            Self::BadArguments
            | Self::Error(ErrorKind::Usage)
            | Self::Error(ErrorKind::Configuration) => 2,
            Self::RecordsFailed => 3,
            Self::Interrupted
            | Self::Error(ErrorKind::Interrupted)
            | Self::Error(ErrorKind::Unavailable) => 4,
            Self::Error(ErrorKind::Internal) => 5,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_documented_code() {
        let table = [
            (Exit::Success, 0),
            (Exit::ProblemFound, 1),
            (Exit::Error(ErrorKind::InvalidInput), 1),
            (Exit::BadArguments, 2),
            (Exit::Error(ErrorKind::Usage), 2),
            (Exit::Error(ErrorKind::Configuration), 2),
            (Exit::RecordsFailed, 3),
            (Exit::Interrupted, 4),
            (Exit::Error(ErrorKind::Interrupted), 4),
            (Exit::Error(ErrorKind::Unavailable), 4),
            (Exit::Error(ErrorKind::Internal), 5),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }
}
