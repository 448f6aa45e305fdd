//! Records: writing a batch of outcomes (skipping what the journal already
//! holds), and every read of them: one record, a kind's ids and seals,
//! what a run created or adopted, the counts, groups and lists for people.

use rusqlite::{OptionalExtension, params};

use super::error::{JournalError, Result};
use super::kind::{Kind, SignsIn};
use super::model::*;
use super::open::Journal;
use super::people::{self, Counts as PeopleCounts, List, Person};
use crate::support::reason::{Reason, ReasonCode};

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
                    "INSERT INTO records (kind, source_id, target_id, action, attempts, reason, fingerprint, run_id, updated_at, email, password_reset, created_by_run, seal, signs_in, reason_code, reset_code, hasher)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
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
                       END,
                       hasher = CASE
                         WHEN excluded.signs_in IS NOT NULL THEN excluded.hasher
                         WHEN excluded.action IN ('created', 'unchanged', 'updated', 'adopted')
                           THEN records.hasher
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
                hasher,
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
                        hasher,
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
    pub(super) fn holds(&self, entry: &Entry) -> Result<bool> {
        let outcome = &entry.outcome;
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT target_id, action, fingerprint, email, reason, password_reset, seal, signs_in, reason_code, reset_code, hasher FROM records WHERE kind = ?1 AND source_id = ?2",
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
                    row.get::<_, Option<String>>(10)?,
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
            hasher,
        )) = stored
        else {
            return Ok(false);
        };
        let reason = reason.map(|detail| Reason::stored(reason_code.as_deref(), detail));
        let password_reset =
            password_reset.map(|detail| Reason::stored(reset_code.as_deref(), detail));
        let signs_in_kept = entry.signs_in.is_none()
            || (entry.signs_in.map(SignsIn::as_str) == signs_in.as_deref()
                && entry.hasher == hasher);
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
    pub(super) fn id_pairs(
        &self,
        query: &str,
        kind: Kind,
        run: Option<i64>,
    ) -> Result<Vec<(String, String)>> {
        let mut select = self.conn.prepare(query).map_err(|e| self.sqlite(e))?;
        let rows = select
            .query_map(params![kind.as_str(), run], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.sqlite(e))
    }

    /// Every (source id, target id) of `kind` that names a WorkOS object,
    /// whatever became of it since (revoked, deleted): which Clerk record
    /// each WorkOS object was made for.
    pub fn every_target(&self, kind: Kind) -> Result<Vec<(String, String)>> {
        self.id_pairs(
            "SELECT source_id, target_id FROM records
             WHERE kind = ?1 AND target_id IS NOT NULL AND (?2 IS NULL OR run_id = ?2)",
            kind,
            None,
        )
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

    /// The record, when ferry wrote it to WorkOS (created, updated,
    /// adopted, unchanged): what a step builds on. A row that cannot be
    /// read counts as none, so the step decides as for a new record.
    pub fn written(&self, kind: Kind, source_id: &str) -> Option<RecordState> {
        self.record(kind, source_id)
            .ok()
            .flatten()
            .filter(|r| r.action.wrote_target())
    }

    /// The WorkOS id of a record ferry wrote.
    pub fn written_id(&self, kind: Kind, source_id: &str) -> Option<String> {
        self.written(kind, source_id).and_then(|r| r.target_id)
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

    pub fn record_counts(&self) -> Result<RecordCounts> {
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
        let mut summary = RecordCounts::default();
        for row in rows {
            let (kind, action, count) = row.map_err(|e| self.sqlite(e))?;
            if let (Some(kind), Some(action)) = (Kind::parse(&kind), Action::parse(&action)) {
                summary.rows.push(RecordCountRow {
                    kind,
                    action,
                    count: count.max(0) as u64,
                });
            }
        }
        Ok(summary)
    }
}
