//! `ferry status PLAN` and `ferry export-ids PLAN --out FILE`: what the journal knows.

use std::io::Write;

use ferry_core::commands::history::History;
use ferry_core::journal::{Action, Kind};

use crate::args::{ExportIdsArgs, JsonPlanArgs};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::output::{self, Painter};

pub fn status(args: &JsonPlanArgs) -> Result<Exit> {
    let project = super::open::for_reading(&args.plan)?;
    let history = History::open(&project.plan)?;
    let status = history.status()?;
    if args.json {
        println!("{}", as_json(&project, &status));
        return Ok(Exit::Success);
    }
    let painter = Painter::stdout();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} {} ({})",
        painter.strong("journal"),
        project.plan.state.display(),
        project.plan.name
    );
    for run in &status.runs {
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
            run.status.as_str(),
            if run.dry_run { " (dry run)" } else { "" },
            changed
        );
    }
    let summary = &status.summary;
    for kind in [
        Kind::User,
        Kind::TotpFactor,
        Kind::Organization,
        Kind::Membership,
        Kind::Connection,
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
    let failed = &status.failed_users;
    for (id, state) in failed.iter().take(10) {
        let _ = writeln!(
            out,
            "  failed {id}: {}",
            state.reason.as_ref().map_or("?", |r| r.detail.as_str())
        );
    }
    if failed.len() > 10 {
        let _ = writeln!(out, "  … and {} more failed", failed.len() - 10);
    }
    Ok(Exit::Success)
}

/// `ferry status --json`: the journal, its runs and the records' outcomes.
fn as_json(
    project: &ferry_core::plan::Project,
    status: &ferry_core::commands::history::Status,
) -> String {
    let runs: Vec<serde_json::Value> = status
        .runs
        .iter()
        .map(|run| {
            serde_json::json!({
                "id": run.id,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "revision": run.revision,
                "status": run.status.as_str(),
                "dry_run": run.dry_run,
                "plan_changed_since": project.plan.checksum.describe_change(&run.checksum),
            })
        })
        .collect();
    let mut records = serde_json::Map::new();
    for kind in Kind::ALL {
        let counts: serde_json::Map<String, serde_json::Value> = Action::ALL
            .into_iter()
            .map(|action| {
                (
                    action.as_str().to_owned(),
                    status.summary.count(kind, action).into(),
                )
            })
            .filter(|(_, count)| count != &serde_json::Value::from(0u64))
            .collect();
        if !counts.is_empty() {
            records.insert(kind.as_str().to_owned(), counts.into());
        }
    }
    let failed: Vec<serde_json::Value> = status
        .failed_users
        .iter()
        .map(|(id, state)| serde_json::json!({ "clerk_id": id, "reason": state.reason }))
        .collect();
    let value = serde_json::json!({
        "plan": project.plan.name,
        "journal": project.plan.state.display().to_string(),
        "runs": runs,
        "records": records,
        "failed_users": failed,
    });
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    ferry_wire::redact::redact(&text).into_owned()
}

pub fn export_ids(args: &ExportIdsArgs) -> Result<Exit> {
    let project = super::open::for_reading(&args.plan)?;
    let history = History::open(&project.plan)?;
    let out_path = &args.out;
    // `--out -`: the map on stdout, for a pipe; a file is created 0600.
    let to_stdout = out_path.as_os_str() == "-";
    let sink: Box<dyn std::io::Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(ferry_wire::files::create(out_path).map_err(|e| Error::io("create", out_path, e))?)
    };
    let mut writer = ferry_wire::inert::CsvWriter::new(sink);
    let write_error = |e: csv::Error| Error::io("write", out_path, e.into());
    writer
        .row(["kind", "clerk_id", "workos_id"])
        .map_err(write_error)?;
    let mut rows = 0;
    for (kind, clerk_id, workos_id) in history.id_map()? {
        writer
            .row([kind.as_str(), &clerk_id, &workos_id])
            .map_err(write_error)?;
        rows += 1;
    }
    writer
        .flush()
        .map_err(|e| Error::io("write", out_path, e))?;
    if to_stdout {
        eprintln!("wrote {} ids to standard output", output::thousands(rows));
    } else {
        println!(
            "wrote {} ids to {}",
            output::thousands(rows),
            out_path.display()
        );
    }
    Ok(Exit::Success)
}
