//! Hash probes as the journal keeps them (see migration 9): each cohort's
//! verdict on this journal's target, and each probe user from before its
//! create to after its delete. A probe user never marked removed is a
//! leftover the next command deletes.

use rusqlite::params;

use super::error::Result;
use super::model::now;
use super::open::Journal;

/// A cohort's verdict as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedVerdict {
    pub hasher: String,
    /// The conversions the probe tried (`convert` ids and version).
    pub conversions: String,
    /// `confirmed` or `failed`.
    pub verdict: String,
    /// The confirmed conversion's id.
    pub conversion: Option<String>,
    pub detail: String,
}

/// A probe user the journal knows of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeUser {
    pub token: String,
    pub email: String,
    pub external_id: String,
    /// The cohort it probed (`control` for the plain password).
    pub cohort: String,
    pub target_id: Option<String>,
}

/// How many probe users were made and removed, over every run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeCounts {
    pub made: u64,
    pub removed: u64,
}

impl Journal {
    /// Every row `sql` selects, each made by `row`.
    fn rows<T>(
        &self,
        sql: &str,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut select = self.conn.prepare(sql).map_err(|e| self.sqlite(e))?;
        let rows = select.query_map([], row).map_err(|e| self.sqlite(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.sqlite(e))
    }

    pub fn probe_verdicts(&self) -> Result<Vec<RecordedVerdict>> {
        self.rows(
            "SELECT hasher, conversions, verdict, conversion, detail FROM probe_verdicts ORDER BY hasher",
            |row| {
                Ok(RecordedVerdict {
                    hasher: row.get(0)?,
                    conversions: row.get(1)?,
                    verdict: row.get(2)?,
                    conversion: row.get(3)?,
                    detail: row.get(4)?,
                })
            },
        )
    }

    pub fn record_verdict(&self, run_id: i64, verdict: &RecordedVerdict) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO probe_verdicts (hasher, conversions, verdict, conversion, detail, run_id, probed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (hasher) DO UPDATE SET conversions = excluded.conversions,
                   verdict = excluded.verdict, conversion = excluded.conversion,
                   detail = excluded.detail, run_id = excluded.run_id, probed_at = excluded.probed_at",
                params![
                    verdict.hasher,
                    verdict.conversions,
                    verdict.verdict,
                    verdict.conversion,
                    verdict.detail,
                    run_id,
                    now()
                ],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// Written before the probe user's create is sent.
    pub fn probe_user_started(&self, run_id: i64, user: &ProbeUser) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO probe_users (token, email, external_id, cohort, target_id, run_id, made_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
                params![user.token, user.email, user.external_id, user.cohort, run_id, now()],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    pub fn probe_user_made(&self, token: &str, target_id: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE probe_users SET target_id = ?2 WHERE token = ?1",
                params![token, target_id],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// The probe user is gone from the target (deleted, or never made).
    pub fn probe_user_removed(&self, token: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE probe_users SET removed_at = ?2 WHERE token = ?1",
                params![token, now()],
            )
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// Probe users not known to be gone: a crash or a failed delete left them.
    pub fn leftover_probe_users(&self) -> Result<Vec<ProbeUser>> {
        self.rows(
            "SELECT token, email, external_id, cohort, target_id FROM probe_users
             WHERE removed_at IS NULL ORDER BY made_at",
            |row| {
                Ok(ProbeUser {
                    token: row.get(0)?,
                    email: row.get(1)?,
                    external_id: row.get(2)?,
                    cohort: row.get(3)?,
                    target_id: row.get(4)?,
                })
            },
        )
    }

    /// The WorkOS ids of every probe user made: their sign-ins are ferry's, not a cohort's.
    pub fn probe_user_ids(&self) -> Result<std::collections::HashSet<String>> {
        let ids = self.rows(
            "SELECT target_id FROM probe_users WHERE target_id IS NOT NULL",
            |row| row.get(0),
        )?;
        Ok(ids.into_iter().collect())
    }

    /// Probe users made (a create sent) and removed, over every run.
    pub fn probe_counts(&self) -> Result<ProbeCounts> {
        self.conn
            .query_row(
                "SELECT COUNT(*), COUNT(removed_at) FROM probe_users",
                [],
                |row| {
                    Ok(ProbeCounts {
                        made: row.get::<_, i64>(0)?.max(0) as u64,
                        removed: row.get::<_, i64>(1)?.max(0) as u64,
                    })
                },
            )
            .map_err(|e| self.sqlite(e))
    }

    /// The Clerk hasher of each user ferry imported a password for or
    /// listed for a reset, with how the user signs in, by WorkOS id: only
    /// the users `wanted` names are kept, so memory follows the sign-ins
    /// asked about, not the size of the migration.
    pub fn user_cohorts(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, String, String)>> {
        let mut select = self
            .conn
            .prepare(
                "SELECT target_id, COALESCE(hasher, ''), COALESCE(signs_in, '') FROM records
                 WHERE kind = 'user' AND target_id IS NOT NULL AND signs_in IS NOT NULL",
            )
            .map_err(|e| self.sqlite(e))?;
        let mut rows = select.query([]).map_err(|e| self.sqlite(e))?;
        let mut kept = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            let id: String = row.get(0).map_err(|e| self.sqlite(e))?;
            if wanted(&id) {
                kept.push((
                    id,
                    row.get(1).map_err(|e| self.sqlite(e))?,
                    row.get(2).map_err(|e| self.sqlite(e))?,
                ));
            }
        }
        Ok(kept)
    }
}
