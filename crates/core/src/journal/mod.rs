//! The journal: an SQLite file (the plan's `state:`) that makes every run
//! resumable and every rerun cheap.
//!
//! It records runs (plan checksum, revision, times, outcome), the outcome of
//! every record (Clerk id → WorkOS id, action, status, attempts, last error)
//! and per-step bookmarks. An outcome is written only after the API confirmed
//! it. It never holds a password digest, a TOTP secret or an API key: records
//! carry ids, an action, and a fingerprint of the non-secret fields written.
//!
//! One run at a time: [`Journal::open_for_run`] takes an exclusive lock on a
//! `.lock` file beside the database, so a second `ferry run` on the same
//! state is refused while the first is alive, and a crashed run's lock is
//! released by the operating system.

pub mod binding;
mod error;
mod kind;
mod people;
mod schema;

use crate::support::reason::{Reason, ReasonCode};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::support::checksum::Checksum;

pub use error::{JournalError, Result};
pub use kind::{Kind, SignsIn};
pub use people::{Counts as PeopleCounts, List, Person};

/// What a run did with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    /// Found in WorkOS already (a lost response, an earlier run) and taken over.
    Adopted,
    Unchanged,
    Skipped,
    Rejected,
    Failed,
    /// Taken away again by `ferry undo`: ferry made it, and it is gone.
    Deleted,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Self::Created,
        Self::Updated,
        Self::Adopted,
        Self::Unchanged,
        Self::Skipped,
        Self::Rejected,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Adopted => "adopted",
            Self::Unchanged => "unchanged",
            Self::Skipped => "skipped",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Deleted => "deleted",
        }
    }

    /// `ALL` holds what a run can come to; `deleted` is undo's alone.
    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Deleted])
            .find(|a| a.as_str() == text)
    }

    /// Whether the record exists in WorkOS as ferry wrote it: a rerun costs
    /// no write for it unless its source changed. Skipped, rejected and
    /// failed records are looked at again on every run.
    pub fn wrote_target(self) -> bool {
        matches!(
            self,
            Self::Created | Self::Updated | Self::Adopted | Self::Unchanged
        )
    }
}

/// One record's outcome, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: Kind,
    pub source_id: String,
    pub target_id: Option<String>,
    pub action: Action,
    pub attempts: u32,
    /// Why it failed, was rejected or skipped, or what a person should
    /// know of it. Never contains a secret.
    pub reason: Option<Reason>,
    /// SHA-256 of the non-secret fields written, to notice source changes on a rerun.
    pub fingerprint: Option<String>,
}

/// An outcome as the journal stores it, with what the people lists need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub outcome: Outcome,
    /// The person's email (the lists name it; never a secret).
    pub email: Option<String>,
    /// Why the password was not imported, when the user needs a reset.
    pub password_reset: Option<Reason>,
    /// A user's seal (see migration 6): replaced on every write, so an
    /// outcome written without one leaves none behind. Never a secret.
    pub seal: Option<String>,
    /// How a migrated user signs in (see migration 7); kept by later
    /// writes that leave it out while the user stays migrated.
    pub signs_in: Option<SignsIn>,
}

impl From<Outcome> for Entry {
    fn from(outcome: Outcome) -> Self {
        Self {
            outcome,
            email: None,
            password_reset: None,
            seal: None,
            signs_in: None,
        }
    }
}

/// Users of one standing ([`Journal::user_groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGroup {
    pub action: Action,
    pub signs_in: Option<SignsIn>,
    pub needs_reset: bool,
    /// Why they were skipped or rejected.
    pub reason: Option<ReasonCode>,
    pub count: u64,
}

/// One record's state, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordState {
    pub target_id: Option<String>,
    pub action: Action,
    pub attempts: u32,
    pub reason: Option<Reason>,
    pub fingerprint: Option<String>,
    pub run_id: i64,
}

/// A run, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub plan_name: String,
    pub revision: u32,
    pub checksum: Checksum,
    pub dry_run: bool,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished: running now, or it crashed.
    Running,
    Finished,
    /// Finished with some records failed.
    FinishedWithFailures,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::FinishedWithFailures => "finished_with_failures",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "finished" => Self::Finished,
            "finished_with_failures" => Self::FinishedWithFailures,
            "interrupted" => Self::Interrupted,
            _ => Self::Running,
        }
    }
}

/// Counts by kind and action, for `ferry status` and reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub rows: Vec<SummaryRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub kind: Kind,
    pub action: Action,
    pub count: u64,
}

impl Summary {
    pub fn count(&self, kind: Kind, action: Action) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.kind == kind && r.action == action)
            .map(|r| r.count)
            .sum()
    }
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// Held for the journal's life when opened for a run.
    _lock: Option<File>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Every user the journal holds, grouped by how the migration stands
    /// for it: its action, how it signs in, whether it needs a reset, and
    /// (skipped or rejected) the reason. Each user is in one group.
    pub fn user_groups(&self) -> Result<Vec<UserGroup>> {
        let mut select = self
            .conn
            .prepare(
                "SELECT action, signs_in, password_reset IS NOT NULL,
                        CASE WHEN action IN ('skipped', 'rejected') THEN COALESCE(reason_code, 'unclassified') END,
                        COUNT(*)
                 FROM records WHERE kind = 'user' GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map(params![], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, bool>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut groups = Vec::new();
        for row in rows {
            let (action, signs_in, reset, reason, count) = row.map_err(|e| self.sqlite(e))?;
            let Some(action) = Action::parse(&action) else {
                continue;
            };
            groups.push(UserGroup {
                action,
                signs_in: signs_in.as_deref().and_then(SignsIn::parse),
                needs_reset: reset,
                reason: reason
                    .as_deref()
                    .map(|code| ReasonCode::parse(code).unwrap_or(ReasonCode::Unclassified)),
                count: count.max(0) as u64,
            });
        }
        Ok(groups)
    }

    /// The records of `kind` skipped, rejected or failed, counted by action
    /// and reason code (a row an earlier ferry wrote is `unclassified`),
    /// most first.
    pub fn reason_counts(&self, kind: Kind) -> Result<Vec<(Action, ReasonCode, u64)>> {
        let mut select = self
            .conn
            .prepare(
                "SELECT action, COALESCE(reason_code, 'unclassified'), COUNT(*) FROM records
                 WHERE kind = ?1 AND action IN ('skipped', 'rejected', 'failed')
                 GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map(params![kind.as_str()], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut counts = Vec::new();
        for row in rows {
            let (action, code, count) = row.map_err(|e| self.sqlite(e))?;
            if let Some(action) = Action::parse(&action) {
                let code = ReasonCode::parse(&code).unwrap_or(ReasonCode::Unclassified);
                counts.push((action, code, count.max(0) as u64));
            }
        }
        Ok(counts)
    }

    /// How many people each list for people has, over every run on this journal.
    pub fn people_counts(&self) -> Result<PeopleCounts> {
        people::counts(&self.conn, &self.path)
    }

    /// Whether anyone is on `list`.
    pub fn any_person(&self, list: List) -> Result<bool> {
        people::any(&self.conn, &self.path, list)
    }

    /// Hands each person on `list` to `each`, in Clerk-id order, without
    /// holding the list; the first error `each` returns ends it and is given back.
    pub fn each_person<E>(
        &self,
        list: List,
        each: impl FnMut(Person) -> std::result::Result<(), E>,
    ) -> Result<std::result::Result<(), E>> {
        people::each(&self.conn, &self.path, list, each)
    }

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

    fn mark_running_interrupted(&self) -> Result<u64> {
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

    fn open_unlocked(path: &Path) -> Result<Self> {
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

    fn sqlite(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Checks that the journal was made against `identity`'s side; binds a
    /// journal that has no binding for that side yet.
    pub fn check_binding(&self, identity: &binding::Identity, bind: bool) -> Result<()> {
        let bound = self
            .conn
            .query_row(
                "SELECT url, environment, key_fingerprint FROM bindings WHERE side = ?1",
                params![identity.side],
                |row| {
                    Ok(binding::Identity {
                        side: identity.side,
                        url: row.get(0)?,
                        environment: row.get(1)?,
                        key_fingerprint: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sqlite(e))?;
        match bound {
            Some(bound) if bound.agrees_with(identity) => {
                if bind && bound != *identity {
                    // Learn what the binding did not know yet (a key added since).
                    self.conn
                        .execute(
                            "UPDATE bindings SET environment = coalesce(environment, ?2), key_fingerprint = coalesce(key_fingerprint, ?3) WHERE side = ?1",
                            params![identity.side, identity.environment, identity.key_fingerprint],
                        )
                        .map_err(|e| self.sqlite(e))?;
                }
                Ok(())
            }
            Some(bound) => Err(JournalError::BoundElsewhere {
                path: self.path.clone(),
                side: identity.side,
                then: bound.to_string(),
                now: identity.to_string(),
            }),
            None if bind => {
                self.conn
                    .execute(
                        "INSERT INTO bindings (side, url, environment, key_fingerprint, bound_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![
                            identity.side,
                            identity.url,
                            identity.environment,
                            identity.key_fingerprint,
                            now()
                        ],
                    )
                    .map_err(|e| self.sqlite(e))?;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records the start of a run and returns its id.
    pub fn begin_run(
        &self,
        plan_name: &str,
        revision: u32,
        checksum: &Checksum,
        dry_run: bool,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs (plan_name, revision, checksum, plan_sha256, script_sha256, dry_run, started_at, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
                params![
                    plan_name,
                    revision,
                    checksum.combined,
                    checksum.plan,
                    checksum.script,
                    dry_run,
                    now()
                ],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&self, run_id: i64, status: RunStatus) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?1, status = ?2 WHERE id = ?3",
                params![now(), status.as_str(), run_id],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }

    /// The newest run that wrote (not a dry run), if any.
    pub fn last_run(&self) -> Result<Option<RunRecord>> {
        self.run_where("dry_run = 0 ORDER BY id DESC LIMIT 1", [])
    }

    pub fn run(&self, id: i64) -> Result<Option<RunRecord>> {
        self.run_where("id = ?1", [id])
    }

    fn run_where<P: rusqlite::Params>(&self, clause: &str, params: P) -> Result<Option<RunRecord>> {
        let sql = format!(
            "SELECT id, plan_name, revision, checksum, plan_sha256, script_sha256, dry_run, started_at, finished_at, status
             FROM runs WHERE {clause}"
        );
        self.conn
            .query_row(&sql, params, |row| {
                Ok(RunRecord {
                    id: row.get(0)?,
                    plan_name: row.get(1)?,
                    revision: row.get(2)?,
                    checksum: Checksum {
                        combined: row.get(3)?,
                        plan: row.get(4)?,
                        script: row.get(5)?,
                    },
                    dry_run: row.get(6)?,
                    started_at: row.get(7)?,
                    finished_at: row.get(8)?,
                    status: RunStatus::parse(&row.get::<_, String>(9)?),
                })
            })
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    /// Writes outcomes in one transaction. Callers batch: a commit per record
    /// would cap a run at the disk's sync rate.
    ///
    /// A user who stays migrated keeps the reset reason an earlier run
    /// recorded (an unchanged rerun does not take them off the list); a user
    /// who is no longer migrated leaves it.
    ///
    /// An entry the journal already holds (see [`Journal::holds`]) is not
    /// written again, so a rerun where nothing changed writes nothing: a
    /// record's `run_id` and `updated_at` say which run last changed it, and
    /// a record ferry created stays `created` until something changes it.
    pub fn record_all(&mut self, run_id: i64, entries: &[Entry]) -> Result<()> {
        // One read transaction for the batch's look-ups, not one per entry
        // (each would take and drop SQLite's locks again).
        let news = {
            let read = self
                .conn
                .unchecked_transaction()
                .map_err(|e| self.sqlite(e))?;
            let mut news = Vec::with_capacity(entries.len());
            for entry in entries {
                if !self.holds(entry)? {
                    news.push(entry);
                }
            }
            read.commit().map_err(|e| self.sqlite(e))?;
            news
        };
        if news.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let sqlite = |source| JournalError::Sqlite {
            path: path.clone(),
            source,
        };
        // Immediate: with two steps committing through their own connections,
        // a transaction that began as a read could not become a write.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO records (kind, source_id, target_id, action, attempts, reason, fingerprint, run_id, updated_at, email, password_reset, created_by_run, seal, signs_in, reason_code, reset_code)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                     ON CONFLICT (kind, source_id) DO UPDATE SET
                       created_by_run = CASE
                         WHEN excluded.action = 'created' THEN excluded.created_by_run
                         WHEN excluded.action IN ('adopted', 'deleted') THEN NULL
                         WHEN excluded.target_id IS NOT NULL AND records.target_id IS NOT NULL
                           AND excluded.target_id <> records.target_id THEN NULL
                         ELSE records.created_by_run
                       END,
                       target_id = COALESCE(excluded.target_id, records.target_id),
                       action = excluded.action,
                       attempts = excluded.attempts,
                       reason = excluded.reason,
                       reason_code = excluded.reason_code,
                       fingerprint = COALESCE(excluded.fingerprint, records.fingerprint),
                       run_id = excluded.run_id,
                       updated_at = excluded.updated_at,
                       email = COALESCE(excluded.email, records.email),
                       password_reset = CASE
                         WHEN excluded.action IN ('unchanged', 'updated', 'adopted')
                           THEN COALESCE(excluded.password_reset, records.password_reset)
                         ELSE excluded.password_reset
                       END,
                       reset_code = CASE
                         WHEN excluded.action IN ('unchanged', 'updated', 'adopted')
                           AND excluded.password_reset IS NULL THEN records.reset_code
                         ELSE excluded.reset_code
                       END,
                       seal = excluded.seal,
                       signs_in = CASE
                         WHEN excluded.action IN ('created', 'unchanged', 'updated', 'adopted')
                           THEN COALESCE(excluded.signs_in, records.signs_in)
                         ELSE NULL
                       END",
                )
                .map_err(sqlite)?;
            let at = now();
            for Entry {
                outcome,
                email,
                password_reset,
                seal,
                signs_in,
            } in news
            {
                insert
                    .execute(params![
                        outcome.kind.as_str(),
                        outcome.source_id,
                        outcome.target_id,
                        outcome.action.as_str(),
                        outcome.attempts,
                        outcome.reason.as_ref().map(|r| &r.detail),
                        outcome.fingerprint,
                        run_id,
                        at,
                        email,
                        password_reset.as_ref().map(|r| &r.detail),
                        (outcome.action == Action::Created).then_some(run_id),
                        seal,
                        signs_in.map(SignsIn::as_str),
                        outcome.reason.as_ref().map(|r| r.code.as_str()),
                        password_reset.as_ref().map(|r| r.code.as_str()),
                    ])
                    .map_err(sqlite)?;
            }
        }
        tx.commit().map_err(sqlite)
    }

    /// Whether writing `entry` would change nothing the journal says: the
    /// stored record has the same action (or the entry says unchanged of a
    /// record settled in WorkOS), the same reason, target id, fingerprint,
    /// email, reset reason and seal. A field the entry leaves out counts as
    /// the same where the upsert would keep the stored one.
    fn holds(&self, entry: &Entry) -> Result<bool> {
        let outcome = &entry.outcome;
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT target_id, action, fingerprint, email, reason, password_reset, seal, signs_in, reason_code, reset_code FROM records WHERE kind = ?1 AND source_id = ?2",
            )
            .map_err(|e| self.sqlite(e))?;
        let stored = select
            .query_row(params![outcome.kind.as_str(), outcome.source_id], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    Action::parse(&row.get::<_, String>(1)?),
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, Option<String>>(8)?,
                    row.get::<_, Option<String>>(9)?,
                ))
            })
            .optional()
            .map_err(|e| self.sqlite(e))?;
        let Some((
            target_id,
            Some(action),
            fingerprint,
            email,
            reason,
            password_reset,
            seal,
            signs_in,
            reason_code,
            reset_code,
        )) = stored
        else {
            return Ok(false);
        };
        let reason = reason.map(|detail| Reason::stored(reason_code.as_deref(), detail));
        let password_reset =
            password_reset.map(|detail| Reason::stored(reset_code.as_deref(), detail));
        let signs_in_kept =
            entry.signs_in.is_none() || entry.signs_in.map(SignsIn::as_str) == signs_in.as_deref();
        fn kept<T: PartialEq>(new: &Option<T>, old: &Option<T>) -> bool {
            new.is_none() || new == old
        }
        let same_action = outcome.action == action
            || (outcome.action == Action::Unchanged && action.wrote_target());
        // The upsert keeps a stored reset reason only for a user still migrated.
        let reset_kept = match outcome.action {
            Action::Unchanged | Action::Updated | Action::Adopted => {
                kept(&entry.password_reset, &password_reset)
            }
            _ => entry.password_reset == password_reset,
        };
        Ok(same_action
            && signs_in_kept
            && entry.seal == seal
            && outcome.reason == reason
            && reset_kept
            && kept(&outcome.target_id, &target_id)
            && kept(&outcome.fingerprint, &fingerprint)
            && kept(&entry.email, &email))
    }

    /// How many records `run_id` was the last to change (a run that found
    /// nothing new changed none).
    pub fn records_changed_by(&self, run_id: i64) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM records WHERE run_id = ?1",
                [run_id],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| count.max(0) as u64)
            .map_err(|e| self.sqlite(e))
    }

    /// The objects of `kind` that ferry created and that are still there
    /// as far as the journal knows, as (source id, target id): made by run
    /// `run`, or by any run. An object ferry adopted is never among them,
    /// even when a later run updated it.
    pub fn created_by(&self, kind: Kind, run: Option<i64>) -> Result<Vec<(String, String)>> {
        self.id_pairs(
            "SELECT source_id, target_id FROM records
             WHERE kind = ?1 AND created_by_run IS NOT NULL AND (?2 IS NULL OR created_by_run = ?2)
               AND target_id IS NOT NULL AND action IN ('created', 'updated', 'unchanged')
             ORDER BY source_id",
            kind,
            run,
        )
    }

    /// Objects of `kind` that stand in WorkOS but that ferry does not know
    /// it created (adopted: there before ferry, or a create whose answer
    /// was lost), last written in run `run` or in any run: what undo
    /// never deletes, and lists.
    pub fn adopted_by(&self, kind: Kind, run: Option<i64>) -> Result<Vec<(String, String)>> {
        self.id_pairs(
            "SELECT source_id, target_id FROM records
             WHERE kind = ?1 AND created_by_run IS NULL AND (?2 IS NULL OR run_id = ?2)
               AND target_id IS NOT NULL AND action IN ('created', 'updated', 'adopted', 'unchanged')
             ORDER BY source_id",
            kind,
            run,
        )
    }

    /// The (source id, target id) pairs `query` selects for `kind` (?1)
    /// and `run` (?2).
    fn id_pairs(&self, query: &str, kind: Kind, run: Option<i64>) -> Result<Vec<(String, String)>> {
        let mut select = self.conn.prepare(query).map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map(params![kind.as_str(), run], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.sqlite(e))
    }

    /// Whether run `run_id` recorded anything: a run that stopped before
    /// its first record (a failed preflight) changed nothing a later plan
    /// edit could contradict.
    pub fn run_recorded(&self, run_id: i64) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM records WHERE run_id = ?1)",
                params![run_id],
                |row| row.get(0),
            )
            .map_err(|e| self.sqlite(e))
    }

    /// What the journal knows of one record.
    pub fn record(&self, kind: Kind, source_id: &str) -> Result<Option<RecordState>> {
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT target_id, action, attempts, reason, fingerprint, run_id, reason_code FROM records WHERE kind = ?1 AND source_id = ?2",
            )
            .map_err(|e| self.sqlite(e))?;
        select
            .query_row(params![kind.as_str(), source_id], |row| {
                Ok(RecordState {
                    target_id: row.get(0)?,
                    action: Action::parse(&row.get::<_, String>(1)?).unwrap_or(Action::Failed),
                    attempts: row.get(2)?,
                    reason: row.get::<_, Option<String>>(3)?.map(|detail| {
                        Reason::stored(
                            row.get::<_, Option<String>>(6).ok().flatten().as_deref(),
                            detail,
                        )
                    }),
                    fingerprint: row.get(4)?,
                    run_id: row.get(5)?,
                })
            })
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    /// Calls `each` with the source id and seal of every record of `kind`
    /// that carries a seal and stands in WorkOS as ferry wrote it or was
    /// skipped: one range read of the table, in source-id order. A user
    /// whose TOTP factor the journal holds as deleted (by undo, sync or an
    /// edit) is left out: the next run decides it again and enrolls the
    /// factor, instead of counting it unchanged.
    pub fn each_seal(&self, kind: Kind, mut each: impl FnMut(&str, &str)) -> Result<()> {
        let mut select = self
            .conn
            .prepare(
                "SELECT source_id, seal FROM records
                 WHERE kind = ?1 AND seal IS NOT NULL
                   AND (action = 'skipped'
                     OR (target_id IS NOT NULL AND action IN ('created', 'updated', 'unchanged', 'adopted')))
                   AND NOT (?1 = 'user' AND EXISTS (
                     SELECT 1 FROM records factor
                     WHERE factor.kind = 'totp_factor' AND factor.source_id = records.source_id
                       AND factor.action = 'deleted'))",
            )
            .map_err(|e| self.sqlite(e))?;
        let mut rows = select
            .query(params![kind.as_str()])
            .map_err(|e| self.sqlite(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            let source_id = row.get_ref(0).and_then(|v| Ok(v.as_str()?));
            let seal = row.get_ref(1).and_then(|v| Ok(v.as_str()?));
            if let (Ok(source_id), Ok(seal)) = (source_id, seal) {
                each(source_id, seal);
            }
        }
        Ok(())
    }

    /// Every Clerk id → WorkOS id of a kind, in Clerk-id order: only records
    /// that stand in WorkOS as ferry wrote them (a failed, rejected or
    /// skipped record may still carry an id it once had, or one `--reconcile`
    /// found to be someone else's now).
    pub fn id_map(&self, kind: Kind) -> Result<Vec<(String, String)>> {
        let mut select = self
            .conn
            .prepare(
                "SELECT source_id, target_id FROM records WHERE kind = ?1 AND target_id IS NOT NULL
                 AND action IN ('created', 'updated', 'adopted', 'unchanged') ORDER BY source_id",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map([kind.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.sqlite(e))
    }

    /// Records of a kind with a given action (e.g. every failure, with reasons).
    pub fn records_with(&self, kind: Kind, action: Action) -> Result<Vec<(String, RecordState)>> {
        let mut select = self
            .conn
            .prepare(
                "SELECT source_id, target_id, action, attempts, reason, fingerprint, run_id, reason_code FROM records
                 WHERE kind = ?1 AND action = ?2 ORDER BY source_id",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map(params![kind.as_str(), action.as_str()], |row| {
                Ok((
                    row.get(0)?,
                    RecordState {
                        target_id: row.get(1)?,
                        action,
                        attempts: row.get(3)?,
                        reason: row.get::<_, Option<String>>(4)?.map(|detail| {
                            Reason::stored(
                                row.get::<_, Option<String>>(7).ok().flatten().as_deref(),
                                detail,
                            )
                        }),
                        fingerprint: row.get(5)?,
                        run_id: row.get(6)?,
                    },
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.sqlite(e))
    }

    pub fn summary(&self) -> Result<Summary> {
        let mut select = self
            .conn
            .prepare("SELECT kind, action, COUNT(*) FROM records GROUP BY kind, action ORDER BY kind, action")
            .map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.sqlite(e))?;
        let mut summary = Summary::default();
        for row in rows {
            let (kind, action, count) = row.map_err(|e| self.sqlite(e))?;
            if let (Some(kind), Some(action)) = (Kind::parse(&kind), Action::parse(&action)) {
                summary.rows.push(SummaryRow {
                    kind,
                    action,
                    count: count.max(0) as u64,
                });
            }
        }
        Ok(summary)
    }

    /// Stores a run's report (JSON without secrets), replacing an earlier one.
    pub fn save_report(&self, run_id: i64, json: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO reports (run_id, json) VALUES (?1, ?2)
                 ON CONFLICT (run_id) DO UPDATE SET json = excluded.json",
                params![run_id, json],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }

    /// A run's report, or the newest run's when `run_id` is `None`.
    pub fn report(&self, run_id: Option<i64>) -> Result<Option<(i64, String)>> {
        let (sql, id) = match run_id {
            Some(id) => ("SELECT run_id, json FROM reports WHERE run_id = ?1", id),
            None => (
                "SELECT run_id, json FROM reports WHERE ?1 = ?1 ORDER BY run_id DESC LIMIT 1",
                0,
            ),
        };
        self.conn
            .query_row(sql, [id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    pub fn set_bookmark(&self, step: &str, cursor: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO bookmarks (step, cursor, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (step) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
                params![step, cursor, now()],
            )
            .map_err(|e| self.sqlite(e))?;
        Ok(())
    }

    pub fn bookmark(&self, step: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT cursor FROM bookmarks WHERE step = ?1",
                [step],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.sqlite(e))
    }

    pub fn clear_bookmark(&self, step: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM bookmarks WHERE step = ?1", [step])
            .map_err(|e| self.sqlite(e))?;
        Ok(())
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

/// Now, as the journal writes times (RFC 3339 in UTC, to the millisecond).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn outcome(id: &str, action: Action) -> Outcome {
        Outcome {
            kind: Kind::User,
            source_id: id.into(),
            target_id: Some(format!("wos_{id}")),
            action,
            attempts: 1,
            reason: None,
            fingerprint: Some("f1".into()),
        }
    }

    #[test]
    fn how_a_user_signs_in_outlives_writes_that_leave_it_out_while_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
        let checksum = Checksum::compute(b"plan", None);
        let run = journal.begin_run("p", 1, &checksum, false).unwrap();
        let signing = |id: &str, action, signs_in| Entry {
            signs_in,
            ..outcome(id, action).into()
        };
        journal
            .record_all(
                run,
                &[
                    signing("user_1", Action::Created, Some(SignsIn::Password)),
                    signing("user_2", Action::Created, Some(SignsIn::NoPassword)),
                    signing("user_3", Action::Created, Some(SignsIn::Password)),
                ],
            )
            .unwrap();
        journal
            .record_all(
                run,
                &[
                    signing("user_1", Action::Unchanged, None),
                    signing("user_3", Action::Skipped, None),
                ],
            )
            .unwrap();
        let mut groups: Vec<(Action, Option<SignsIn>, u64)> = journal
            .user_groups()
            .unwrap()
            .into_iter()
            .map(|g| (g.action, g.signs_in, g.count))
            .collect();
        groups.sort_by_key(|g| (g.0.as_str(), g.1));
        assert_eq!(
            groups,
            // user_1's unchanged changes nothing the journal says; user_3
            // skipped no longer signs in at all.
            [
                (Action::Created, Some(SignsIn::Password), 1),
                (Action::Created, Some(SignsIn::NoPassword), 1),
                (Action::Skipped, None, 1),
            ]
        );
    }

    #[test]
    fn records_runs_outcomes_and_bookmarks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/j.db");
        let mut journal = Journal::open_for_run(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let checksum = Checksum::compute(b"plan", Some(b"script"));
        let run = journal.begin_run("p", 2, &checksum, false).unwrap();
        journal
            .record_all(
                run,
                &[
                    outcome("user_1", Action::Created).into(),
                    outcome("user_2", Action::Failed).into(),
                ],
            )
            .unwrap();
        // A later outcome replaces the earlier one but keeps the known target id.
        let mut retry = outcome("user_2", Action::Adopted);
        retry.target_id = None;
        retry.attempts = 3;
        journal.record_all(run, &[retry.into()]).unwrap();
        let state = journal.record(Kind::User, "user_2").unwrap().unwrap();
        assert_eq!(
            (state.action, state.attempts, state.target_id.as_deref()),
            (Action::Adopted, 3, Some("wos_user_2"))
        );

        assert_eq!(
            journal
                .summary()
                .unwrap()
                .count(Kind::User, Action::Created),
            1
        );
        assert_eq!(journal.id_map(Kind::User).unwrap().len(), 2);
        // A record that failed later keeps its old id, but names no WorkOS object.
        journal
            .record_all(run, &[outcome("user_1", Action::Failed).into()])
            .unwrap();
        assert_eq!(journal.id_map(Kind::User).unwrap().len(), 1);
        journal.set_bookmark("users", "user_2").unwrap();
        assert_eq!(
            journal.bookmark("users").unwrap().as_deref(),
            Some("user_2")
        );

        journal.finish_run(run, RunStatus::Finished).unwrap();
        let last = journal.last_run().unwrap().unwrap();
        assert_eq!(
            (last.revision, last.status, last.checksum),
            (2, RunStatus::Finished, checksum)
        );
    }

    #[test]
    fn an_unchanged_record_the_journal_already_holds_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
        let checksum = Checksum::compute(b"plan", None);
        let first = journal.begin_run("p", 1, &checksum, false).unwrap();
        let created = |id: &str| Entry {
            email: Some(format!("{id}@example.test")),
            ..outcome(id, Action::Created).into()
        };
        let skipped = || {
            let mut entry: Entry = outcome("user_4", Action::Skipped).into();
            entry.outcome.target_id = None;
            entry.outcome.reason = Some(Reason::new(
                ReasonCode::NoEmail,
                "no email address (phone-only user)",
            ));
            entry
        };
        journal
            .record_all(
                first,
                &[
                    created("user_1"),
                    created("user_2"),
                    created("user_3"),
                    skipped(),
                ],
            )
            .unwrap();
        let second = journal.begin_run("p", 1, &checksum, false).unwrap();
        let unchanged = |id: &str| Entry {
            email: Some(format!("{id}@example.test")),
            ..outcome(id, Action::Unchanged).into()
        };
        let mut drifted = unchanged("user_2");
        drifted.outcome.reason = Some(Reason::new(
            ReasonCode::ChangedOutsideFerry,
            "first_name changed in WorkOS",
        ));
        let mut refingerprinted = unchanged("user_3");
        refingerprinted.outcome.fingerprint = Some("f2".into());
        journal
            .record_all(
                second,
                &[unchanged("user_1"), drifted, refingerprinted, skipped()],
            )
            .unwrap();
        // user_1 is exactly as stored: untouched, still `created` by run 1;
        // user_4 is skipped again for the same reason: untouched too.
        let user_1 = journal.record(Kind::User, "user_1").unwrap().unwrap();
        assert_eq!((user_1.action, user_1.run_id), (Action::Created, first));
        // A reason or a new fingerprint is news, and is written.
        assert_eq!(journal.records_changed_by(second).unwrap(), 2);
        // Once the reason is gone, the drifted record is written again to clear it.
        let third = journal.begin_run("p", 1, &checksum, false).unwrap();
        journal
            .record_all(third, &[unchanged("user_1"), unchanged("user_2")])
            .unwrap();
        assert_eq!(journal.records_changed_by(third).unwrap(), 1);
        assert_eq!(
            journal
                .record(Kind::User, "user_2")
                .unwrap()
                .unwrap()
                .reason,
            None
        );
    }

    #[test]
    fn the_run_that_created_an_object_is_kept_through_later_updates() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
        let checksum = Checksum::compute(b"plan", None);
        let first = journal.begin_run("p", 1, &checksum, false).unwrap();
        journal
            .record_all(
                first,
                &[
                    outcome("user_1", Action::Created).into(),
                    outcome("user_2", Action::Adopted).into(),
                ],
            )
            .unwrap();
        let second = journal.begin_run("p", 1, &checksum, false).unwrap();
        journal
            .record_all(
                second,
                &[
                    outcome("user_1", Action::Updated).into(),
                    outcome("user_2", Action::Updated).into(),
                    outcome("user_3", Action::Created).into(),
                ],
            )
            .unwrap();
        let ids = |run| {
            journal
                .created_by(Kind::User, run)
                .unwrap()
                .into_iter()
                .map(|(source, _)| source)
                .collect::<Vec<_>>()
        };
        // user_2 was adopted: updating it later does not make it ferry's.
        assert_eq!(ids(None), ["user_1", "user_3"]);
        assert_eq!(ids(Some(first)), ["user_1"]);
        assert_eq!(ids(Some(second)), ["user_3"]);
    }

    #[test]
    fn an_object_undone_or_replaced_is_no_longer_ferry_s() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
        let checksum = Checksum::compute(b"plan", None);
        let first = journal.begin_run("p", 1, &checksum, false).unwrap();
        let created: Vec<Entry> = ["user_1", "user_2", "user_3"]
            .into_iter()
            .map(|id| outcome(id, Action::Created).into())
            .collect();
        journal.record_all(first, &created).unwrap();
        let second = journal.begin_run("p", 1, &checksum, false).unwrap();
        let deleted = Outcome {
            target_id: None,
            ..outcome("user_1", Action::Deleted)
        };
        // user_2 now stands for another WorkOS object (someone re-made it, or
        // a later run took over someone else's account).
        let elsewhere = Outcome {
            target_id: Some("wos_someone_else".into()),
            ..outcome("user_2", Action::Unchanged)
        };
        journal
            .record_all(second, &[deleted.into(), elsewhere.into()])
            .unwrap();
        let third = journal.begin_run("p", 1, &checksum, false).unwrap();
        // After the undo, a run takes over an existing account for user_1.
        let taken_over = Outcome {
            target_id: Some("wos_existing".into()),
            ..outcome("user_1", Action::Updated)
        };
        journal.record_all(third, &[taken_over.into()]).unwrap();
        let ids: Vec<String> = journal
            .created_by(Kind::User, None)
            .unwrap()
            .into_iter()
            .map(|(source, _)| source)
            .collect();
        assert_eq!(ids, ["user_3"], "only what ferry made and still stands for");
    }

    #[test]
    fn a_second_run_on_the_same_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let first = Journal::open_for_run(&path).unwrap();
        let second = Journal::open_for_run(&path);
        assert!(
            matches!(second, Err(JournalError::Busy { .. })),
            "{second:?}"
        );
        // Reading while a run holds the lock is fine.
        Journal::open_to_read(&path).unwrap();
        drop(first);
        Journal::open_for_run(&path).unwrap();
    }
}
