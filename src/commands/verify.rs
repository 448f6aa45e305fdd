//! `ferry verify PLAN`: the verification checklist against WorkOS as it is
//! now, without running anything else. Exits 1 when a check fails.

use std::path::Path;
use std::sync::Mutex;

use crate::connect;
use crate::error::{Error, ExitStatus, Result};
use crate::journal::Journal;
use crate::output::Painter;
use crate::plan::LoadOptions;
use crate::project::Project;
use crate::source::read::Sources;
use crate::steps::verify::{Status, Verification, VerifyStep};

pub fn run(plan_path: &Path, json: bool) -> Result<ExitStatus> {
    let project = Project::open(plan_path, LoadOptions::for_use())?;
    let plan = &project.plan;
    let workos = connect::workos(plan)?;
    let clerk = connect::clerk(plan)?;
    if !plan.state.exists() {
        return Err(Error::Usage(format!(
            "no journal at {}: nothing was migrated with this plan yet",
            plan.state.display()
        )));
    }
    let journal = Mutex::new(Journal::open_to_read(&plan.state)?);
    let step = VerifyStep {
        plan,
        script: project.script.as_ref(),
        users_ctx: project.hook_context("users", true),
        memberships_ctx: project.hook_context("memberships", true),
        workos: &workos,
        clerk: clerk.as_ref(),
        journal: &journal,
        api_key: plan
            .target
            .as_ref()
            .and_then(|t| t.api_key.clone())
            .unwrap_or_default(),
    };
    let sources = Sources::of(&plan.source, clerk.as_ref());
    let verification = super::run::runtime()?.block_on(step.run(sources))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verification).unwrap_or_default()
        );
    } else {
        print(&verification, &Painter::stdout());
    }
    Ok(if verification.passed {
        ExitStatus::Success
    } else {
        ExitStatus::ProblemFound
    })
}

/// The checklist for people: one line per check, its evidence indented.
pub fn print(verification: &Verification, painter: &Painter) {
    println!(
        "verify: {}",
        if verification.passed {
            painter.success("passed")
        } else {
            painter.error("FAILED")
        }
    );
    for check in &verification.checks {
        let mark = match check.status {
            Status::Pass => painter.success("pass"),
            Status::Fail => painter.error("FAIL"),
            Status::Skipped => painter.dim("skip"),
        };
        println!("  {mark} {} ({})", check.title, check.id);
        for line in &check.evidence {
            println!("       {}", painter.dim(line));
        }
    }
}
