//! `ferry status PLAN` and `ferry export-ids PLAN --out FILE`: what the journal knows.

use std::io::Write;

use ferry_core::history::History;
use ferry_core::journal::{Action, Kind};

use crate::args::{ExportIdsArgs, PlanFile};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::output::{self, Painter};

pub fn status(args: &PlanFile) -> Result<Exit> {
    let project = super::open::for_reading(args)?;
    let history = History::open(&project.plan)?;
    let status = history.status()?;
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
            state.reason.as_deref().unwrap_or("?")
        );
    }
    if failed.len() > 10 {
        let _ = writeln!(out, "  … and {} more failed", failed.len() - 10);
    }
    Ok(Exit::Success)
}

pub fn export_ids(args: &ExportIdsArgs) -> Result<Exit> {
    let project = super::open::for_reading(&args.plan)?;
    let history = History::open(&project.plan)?;
    let out_path = &args.out;
    let mut writer = csv::Writer::from_writer(
        ferry_wire::files::create(out_path).map_err(|e| Error::io("create", out_path, e))?,
    );
    let write_error = |e: csv::Error| Error::io("write", out_path, e.into());
    writer
        .write_record(["kind", "clerk_id", "workos_id"])
        .map_err(write_error)?;
    let mut rows = 0;
    for (kind, clerk_id, workos_id) in history.id_map()? {
        writer
            .write_record([kind.as_str(), &clerk_id, &workos_id])
            .map_err(write_error)?;
        rows += 1;
    }
    writer
        .flush()
        .map_err(|e| Error::io("write", out_path, e))?;
    println!(
        "wrote {} ids to {}",
        output::thousands(rows),
        out_path.display()
    );
    Ok(Exit::Success)
}
