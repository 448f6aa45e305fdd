//! What the journal remembers, for the commands that only read it: the runs
//! and every record's outcome (`ferry status`), the Clerk-to-WorkOS id map
//! (`ferry export-ids`), and a run's stored report (`ferry report`).

use std::path::Path;

use crate::error::{Refusal, Result};
use crate::journal::{Action, Journal, Kind, RecordCounts, RecordState, RunRecord};
use crate::plan::Plan;
use crate::report::model::Report;

/// The journal of a plan, which must exist.
pub struct History {
    journal: Journal,
}

/// What `ferry status` shows.
pub struct Status {
    pub runs: Vec<RunRecord>,
    pub summary: RecordCounts,
    /// Failed users, with their reasons, in journal order.
    pub failed_users: Vec<(String, RecordState)>,
}

impl History {
    pub fn open(plan: &Plan) -> Result<Self> {
        if !plan.state.exists() {
            return Err(Refusal::NoJournal {
                journal: plan.state.clone(),
            }
            .into());
        }
        Journal::mark_dead_runs(&plan.state)?;
        Ok(Self {
            journal: Journal::open_to_read(&plan.state)?,
        })
    }

    pub fn status(&self) -> Result<Status> {
        Ok(Status {
            runs: self.journal.runs()?,
            summary: self.journal.record_counts()?,
            failed_users: self.journal.records_with(Kind::User, Action::Failed)?,
        })
    }

    /// Users and organizations: `(kind, clerk id, WorkOS id)`.
    pub fn id_map(&self) -> Result<Vec<(Kind, String, String)>> {
        let mut rows = Vec::new();
        for kind in [Kind::User, Kind::Organization] {
            rows.extend(
                self.journal
                    .id_map(kind)?
                    .into_iter()
                    .map(|(clerk, workos)| (kind, clerk, workos)),
            );
        }
        Ok(rows)
    }

    /// A run's report (the last run's without `run`), as it was saved.
    pub fn report(&self, run: Option<i64>) -> Result<(i64, Report)> {
        let (id, json) = self.journal.report(run)?.ok_or(Refusal::NoReport { run })?;
        let report = serde_json::from_str(&json).map_err(|e| Refusal::UnreadableReport {
            run: id,
            reason: e.to_string(),
        })?;
        Ok((id, report))
    }
}

/// Where a run's report in `extension` goes by default.
pub fn report_path(plan: &Plan, run: i64, extension: &str) -> std::path::PathBuf {
    let dir: &Path = &plan.report.dir;
    dir.join(format!("{}-run-{run}.{extension}", plan.name))
}
