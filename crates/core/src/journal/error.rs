//! Why the journal could not be opened, read or written.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open journal {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another ferry run is using {} (lock held on {}); wait for it to finish", path.display(), lock.display())]
    Busy { path: PathBuf, lock: PathBuf },
    #[error("journal {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{} was made against another {side}: {then}; this plan's {side} is {now}. A journal belongs to one environment: give each its own `state:` (for example `state: .ferry/${{FERRY_ENV}}.db`)", path.display())]
    BoundElsewhere {
        path: PathBuf,
        side: &'static str,
        then: String,
        now: String,
    },
    #[error("{} is not a ferry journal: {why}; point `state:` at a new file (each environment has its own), or move this one aside and run again", path.display())]
    NotAJournal { path: PathBuf, why: String },
    #[error("journal {} was written by a newer ferry (schema {found}, this ferry knows {known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

impl JournalError {
    /// SQLite's error, told apart: a file that is not a database at all (or
    /// a damaged one) cannot be fixed by running again.
    pub fn from_sqlite(path: &std::path::Path, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Self::NotAJournal {
                path: path.to_path_buf(),
                why: "it is not an SQLite database".into(),
            },
            Some(ErrorCode::DatabaseCorrupt) => Self::NotAJournal {
                path: path.to_path_buf(),
                why: "the database is damaged".into(),
            },
            _ => Self::Sqlite {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// A journal that SQLite cannot read or write is taken for a disk
    /// problem that a later run gets past; the others are the user's to fix.
    pub fn kind(&self) -> crate::support::kind::ErrorKind {
        use crate::support::kind::ErrorKind;
        match self {
            Self::Sqlite { .. } => ErrorKind::Unavailable,
            Self::Open { .. }
            | Self::Busy { .. }
            | Self::NotAJournal { .. }
            | Self::BoundElsewhere { .. }
            | Self::TooNew { .. } => ErrorKind::Configuration,
        }
    }
}

pub type Result<T, E = JournalError> = std::result::Result<T, E>;
