//! `ferry undo PLAN`: asks first (unless `--yes`), then has the engine take
//! away what ferry created in WorkOS, and says what it deleted, what it
//! kept and why, and how to resume.

use ferry_core::engine::Engine;
use ferry_core::journal::RunStatus;

use crate::args::UndoArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::thousands;

pub fn run(args: &UndoArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    if !args.yes {
        let scope = match args.options.run {
            Some(run) => format!("run {run}"),
            None => "every run".to_owned(),
        };
        super::run::ask(&project, "undo", |target| {
            format!(
                "Delete from {target} what {scope} of plan {} created (users who signed in since are {}; invitations ferry sent are revoked, but their emails cannot be unsent).",
                project.plan.name,
                if args.options.include_signed_in {
                    "deleted too"
                } else {
                    "kept"
                }
            )
        })?;
    }
    let summary = Engine::new(&project, &ferry_core::observe::Quiet).undo(args.options)?;
    let tally = &summary.tally;
    println!(
        "undo (run {}): deleted {}; {} already gone",
        summary.run_id,
        tally.deleted_words(),
        thousands(tally.gone)
    );
    if let Some((_, revoked)) = tally
        .deleted
        .iter()
        .find(|(kind, _)| *kind == ferry_core::journal::Kind::Invitation)
    {
        println!(
            "invitations: {} revoked in WorkOS; the emails already sent cannot be unsent: their links now lead to a revoked invitation",
            thousands(*revoked)
        );
    }
    println!(
        "kept: {} in {}",
        thousands(tally.kept.len() as u64),
        summary.kept_list.display()
    );
    for (kind, id, reason) in &tally.failed {
        println!(
            "failed: {} {id}: {}",
            kind.as_str(),
            ferry_wire::redact::redact(reason)
        );
    }
    Ok(match summary.status {
        RunStatus::Interrupted => {
            println!(
                "interrupted: `ferry undo {}` resumes",
                args.plan.plan.display()
            );
            Exit::Interrupted
        }
        RunStatus::FinishedWithFailures => Exit::RecordsFailed,
        _ => Exit::Success,
    })
}
