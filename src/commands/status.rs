//! `ferry status PLAN` and `ferry export-ids PLAN --out FILE`: what the journal knows.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, ExitStatus, Result};
use crate::journal::{Action, Journal, Kind};
use crate::output::{self, Painter};
use crate::plan::LoadOptions;
use crate::project::Project;

fn open(plan: &Path) -> Result<(Project, Journal)> {
    let project = Project::open(plan, LoadOptions::for_validation())?;
    let state = &project.plan.state;
    if !state.exists() {
        return Err(Error::Usage(format!(
            "no journal at {} yet: nothing has run for this plan",
            state.display()
        )));
    }
    let journal = Journal::open_to_read(state)?;
    Ok((project, journal))
}

pub fn status(plan: &Path) -> Result<ExitStatus> {
    let (project, journal) = open(plan)?;
    let painter = Painter::stdout();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} {} ({})",
        painter.strong("journal"),
        project.plan.state.display(),
        project.plan.name
    );
    for run in journal.runs()? {
        let changed = project
            .plan
            .checksum
            .describe_change(&run.checksum)
            .map(|c| format!(" — since then {c}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  run {:>3}  {}  revision {}  {}{}{}",
            run.id,
            run.started_at,
            run.revision,
            serde_json::to_value(run.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            if run.dry_run { " (dry run)" } else { "" },
            changed
        );
    }
    let summary = journal.summary()?;
    for kind in [
        Kind::User,
        Kind::TotpFactor,
        Kind::Organization,
        Kind::Membership,
    ] {
        let parts: Vec<String> = Action::ALL
            .into_iter()
            .filter_map(|action| {
                let count = summary.count(kind, action);
                (count > 0).then(|| format!("{} {}", output::thousands(count), action.as_str()))
            })
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(
                out,
                "{}: {}",
                kind.as_str().replace('_', " "),
                parts.join(", ")
            );
        }
    }
    let failed = journal.records_with(Kind::User, Action::Failed)?;
    for (id, state) in failed.iter().take(10) {
        let _ = writeln!(
            out,
            "  failed {id}: {}",
            state.reason.as_deref().unwrap_or("?")
        );
    }
    if failed.len() > 10 {
        let _ = writeln!(out, "  … and {} more failed", failed.len() - 10);
    }
    Ok(ExitStatus::Success)
}

pub fn export_ids(plan: &Path, out_path: &Path) -> Result<ExitStatus> {
    let (_, journal) = open(plan)?;
    let mut writer =
        csv::Writer::from_path(out_path).map_err(|e| Error::io("create", out_path, e.into()))?;
    let write_error = |e: csv::Error| Error::io("write", out_path, e.into());
    writer
        .write_record(["kind", "clerk_id", "workos_id"])
        .map_err(write_error)?;
    let mut rows = 0;
    for kind in [Kind::User, Kind::Organization] {
        for (clerk_id, workos_id) in journal.id_map(kind)? {
            writer
                .write_record([kind.as_str(), &clerk_id, &workos_id])
                .map_err(write_error)?;
            rows += 1;
        }
    }
    writer
        .flush()
        .map_err(|e| Error::io("write", out_path, e))?;
    println!(
        "wrote {} ids to {}",
        output::thousands(rows),
        out_path.display()
    );
    Ok(ExitStatus::Success)
}
