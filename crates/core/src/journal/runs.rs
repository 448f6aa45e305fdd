//! Runs, as the journal keeps them: the binding to one source and target,
//! a run's beginning and end, its saved report, and per-step bookmarks.

use rusqlite::{OptionalExtension, params};

use super::binding;
use super::error::{JournalError, Result};
use super::model::*;
use super::open::Journal;
use crate::support::checksum::Checksum;

impl Journal {
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

    pub(super) fn run_where<P: rusqlite::Params>(
        &self,
        clause: &str,
        params: P,
    ) -> Result<Option<RunRecord>> {
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
