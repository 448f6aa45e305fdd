//! `ferry init [DIR]`: a starter plan and script a team commits and edits.
//!
//! The starter is the reference plan and script shipped in `plans/` and
//! `scripts/`, so what `init` writes is exactly what the project documents
//! and tests; only the names change.

use std::io::Write;
use std::path::Path;

use crate::args::InitArgs;
use crate::error::{CliRefusal, Error, Result};
use crate::exit::Exit;
use crate::output::Painter;

const REFERENCE_PLAN: &str = include_str!("../../plans/clerk-to-workos.yaml");
const REFERENCE_SCRIPT: &str = include_str!("../../scripts/clerk-to-workos.rhai");

const EXAMPLE_PLAN: &str = include_str!("../../plans/examples/every-hook.yaml");
const EXAMPLE_SCRIPT: &str = include_str!("../../scripts/examples/every-hook.rhai");

const PLAN_PATH: &str = "plans/migration.yaml";
const SCRIPT_PATH: &str = "scripts/migration.rhai";
const EXAMPLE_PLAN_PATH: &str = "plans/examples/every-hook.yaml";
const EXAMPLE_SCRIPT_PATH: &str = "scripts/examples/every-hook.rhai";

/// The reference plan, renamed for the team that adopts it: its own name,
/// script and commands, and a pointer to the example of every hook.
fn starter_plan() -> String {
    REFERENCE_PLAN
        .replace(
            "# ferry reference plan: Clerk -> WorkOS with the defaults a team starts from.",
            "# ferry migration plan: Clerk -> WorkOS, written by `ferry init` with the\n\
             # reference plan's defaults. Every hook at work, with its tests:\n\
             # plans/examples/every-hook.yaml and scripts/examples/every-hook.rhai.",
        )
        .replace("plans/clerk-to-workos.yaml", PLAN_PATH)
        .replace(
            "../scripts/clerk-to-workos.rhai",
            "../scripts/migration.rhai",
        )
        .replace("name: clerk-to-workos ", "name: migration       ")
}

pub fn run(args: &InitArgs) -> Result<Exit> {
    let (dir, force): (&Path, bool) = (&args.dir, args.force);
    let plan = starter_plan();
    let files = [
        (PLAN_PATH, plan.as_str()),
        (SCRIPT_PATH, REFERENCE_SCRIPT),
        (EXAMPLE_PLAN_PATH, EXAMPLE_PLAN),
        (EXAMPLE_SCRIPT_PATH, EXAMPLE_SCRIPT),
    ];

    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|(path, _)| dir.join(path))
            .filter(|path| path.exists())
            .map(|path| path.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(CliRefusal::WouldOverwrite {
                paths: existing.join(" and "),
                count: existing.len(),
            }
            .into());
        }
    }
    for (relative, contents) in files {
        let path = dir.join(relative);
        ferry_wire::files::write(&path, contents.as_bytes())
            .map_err(|e| Error::io("write", &path, e))?;
    }

    let painter = Painter::stdout();
    let plan_path = dir.join(PLAN_PATH);
    let mut stdout = std::io::stdout().lock();
    for (relative, _) in files {
        let _ = writeln!(
            stdout,
            "{} {}",
            painter.success("wrote"),
            dir.join(relative).display()
        );
    }
    let _ = writeln!(
        stdout,
        "next: edit the plan, then `ferry validate {0}` and `ferry test {0}`",
        plan_path.display()
    );
    Ok(Exit::Success)
}
