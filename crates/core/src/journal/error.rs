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
    #[error("journal {} was written by a newer ferry (schema {found}, this ferry knows {known})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

impl JournalError {
    /// A journal that SQLite cannot read or write is taken for a disk
    /// problem that a later run gets past; the others are the user's to fix.
    pub fn kind(&self) -> crate::kind::ErrorKind {
        use crate::kind::ErrorKind;
        match self {
            Self::Sqlite { .. } => ErrorKind::Unavailable,
            Self::Open { .. } | Self::Busy { .. } | Self::TooNew { .. } => ErrorKind::Configuration,
        }
    }
}

pub type Result<T, E = JournalError> = std::result::Result<T, E>;
