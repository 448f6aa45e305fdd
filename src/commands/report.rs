//! `ferry report PLAN`: renders a run's report again from the journal.

use std::path::{Path, PathBuf};

use crate::error::{Error, ExitStatus, Result};
use crate::journal::Journal;
use crate::plan::{LoadOptions, ReportFormat};
use crate::project::Project;
use crate::report::{self, Report};

pub fn run(
    plan_path: &Path,
    run_id: Option<i64>,
    format: ReportFormat,
    out: Option<PathBuf>,
) -> Result<ExitStatus> {
    let project = Project::open(plan_path, LoadOptions::for_validation())?;
    let plan = &project.plan;
    if !plan.state.exists() {
        return Err(Error::Usage(format!(
            "no journal at {}: nothing has run for this plan",
            plan.state.display()
        )));
    }
    let journal = Journal::open_to_read(&plan.state)?;
    let Some((id, json)) = journal.report(run_id)? else {
        return Err(Error::Usage(match run_id {
            Some(id) => format!("run {id} has no report"),
            None => "no run has a report yet".into(),
        }));
    };
    let report: Report = serde_json::from_str(&json)
        .map_err(|e| Error::Usage(format!("the report of run {id} cannot be read: {e}")))?;
    let text = report::render(&report, format, plan.report.templates.as_deref())
        .map_err(|e| Error::Usage(e.to_string()))?;
    let path = out.unwrap_or_else(|| {
        plan.report
            .dir
            .join(format!("{}-run-{id}.{}", plan.name, format.extension()))
    });
    report::write_private(&path, &text).map_err(|e| Error::Usage(e.to_string()))?;
    println!("{}", path.display());
    Ok(ExitStatus::Success)
}
