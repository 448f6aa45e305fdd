//! Opening a journal: for a run (created owner-only, migrated, locked so a
//! second run on it is refused), to read beside a run, or empty; and the
//! file modes and lock that guard it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::error::{JournalError, Result};
use super::model::*;
use super::schema;

pub struct Journal {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    /// Held for the journal's life when opened for a run.
    pub(super) _lock: Option<File>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Opens (creating if needed, mode 0600) and locks the journal for a run.
    pub fn open_for_run(path: &Path) -> Result<Self> {
        create_private(path)?;
        let lock = take_lock(path)?;
        let mut journal = Self::open_unlocked(path)?;
        // This process holds the lock now: a run still `running` died.
        journal.mark_running_interrupted()?;
        journal._lock = Some(lock);
        Ok(journal)
    }

    /// Marks as interrupted every run still `running` whose process is gone:
    /// when no one holds the journal's lock, no run is alive. Returns how
    /// many were marked. A journal a live run holds is left alone.
    pub fn mark_dead_runs(path: &Path) -> Result<u64> {
        if !path.exists() {
            return Ok(0);
        }
        let lock = match take_lock(path) {
            Ok(lock) => lock,
            Err(JournalError::Busy { .. }) => return Ok(0),
            Err(error) => return Err(error),
        };
        let journal = Self::open_unlocked(path)?;
        let marked = journal.mark_running_interrupted()?;
        drop(lock);
        Ok(marked)
    }

    pub(super) fn mark_running_interrupted(&self) -> Result<u64> {
        self.conn
            .execute(
                "UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?1) WHERE status = 'running'",
                params![now()],
            )
            .map(|n| n as u64)
            .map_err(|e| self.sqlite(e))
    }

    /// Opens the journal to read while a run may be writing (WAL allows it).
    pub fn open_to_read(path: &Path) -> Result<Self> {
        Self::open_unlocked(path)
    }

    /// Another write connection to the journal this run holds locked, for a
    /// step that runs beside another one: each step commits its own batches
    /// and SQLite takes them one at a time. Only the holder of the lock may
    /// ask for one.
    pub fn sibling(&self) -> Result<Self> {
        debug_assert!(
            self._lock.is_some(),
            "a sibling of a journal not locked for a run"
        );
        Self::open_unlocked(&self.path)
    }

    /// A journal with nothing in it, for previews of a plan that never ran.
    pub fn empty() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let sqlite = |source| JournalError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_in_memory().map_err(sqlite)?;
        schema::migrate(&conn, &path)?;
        Ok(Self {
            conn,
            path,
            _lock: None,
        })
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        let mut ids = self
            .conn
            .prepare("SELECT id FROM runs ORDER BY id")
            .map_err(|e| self.sqlite(e))?;
        let ids: Vec<i64> = ids
            .query_map([], |row| row.get(0))
            .map_err(|e| self.sqlite(e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.sqlite(e))?;
        ids.into_iter()
            .filter_map(|id| self.run(id).transpose())
            .collect()
    }

    /// When ferry began working on this journal's target: its first run
    /// that was not a dry run. An object WorkOS made earlier was not ferry's.
    pub fn working_since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.runs()
            .ok()?
            .into_iter()
            .filter(|run| !run.dry_run)
            .filter_map(|run| chrono::DateTime::parse_from_rfc3339(&run.started_at).ok())
            .map(|at| at.with_timezone(&chrono::Utc))
            .min()
    }

    pub(super) fn open_unlocked(path: &Path) -> Result<Self> {
        create_private(path)?;
        let sqlite = |source| JournalError::from_sqlite(path, source);
        let conn = Connection::open(path).map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sqlite)?;
        // Before anything changes it: not even its journal mode.
        schema::check_ours(&conn, path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(sqlite)?;
        schema::migrate(&conn, path)?;
        make_private(path)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            _lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn sqlite(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

/// Creates the file with mode 0600 before SQLite sees it, so the journal is
/// never readable by others, even for a moment. SQLite gives its `-wal` and
/// `-shm` files the database file's permissions.
fn create_private(path: &Path) -> Result<()> {
    // An existing file is left alone until it proves to be a ferry journal:
    // another program's database must not change under ferry's hands.
    if path.exists() {
        return Ok(());
    }
    ferry_wire::files::append(path)
        .map(drop)
        .map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Makes a journal owner-only, once it is known to be one.
fn make_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|source| {
        JournalError::Open {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Locks the journal file itself, not a name beside it: two paths to one
/// file (a symlink, a hard link, `..` in the path) still meet one lock.
fn take_lock(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let lock_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::Busy {
            path: path.to_path_buf(),
            lock: lock_path,
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(JournalError::Open {
            path: path.to_path_buf(),
            source,
        }),
    }
}
