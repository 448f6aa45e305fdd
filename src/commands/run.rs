//! `ferry run PLAN`: asks before writing (unless `--yes`; without a
//! terminal it refuses to guess), hands the plan to the engine with the
//! renderer as its observer, and says where the report and journal are.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use ferry_core::engine::{Engine, RunOptions, RunSummary, WriteEstimate};
use ferry_core::error::ErrorKind;
use ferry_core::observe::Quiet;
use ferry_core::plan::Project;
use ferry_core::support::cancel::Stop;

use crate::args::RunArgs;
use crate::error::{CliRefusal, Error, Result};
use crate::exit::Exit;
use crate::output::thousands;
use crate::render;

pub fn run(args: &RunArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    if !args.yes {
        confirm(&project)?;
    }
    run_project(&project, &args.plan.plan, args.options, args.json)
}

/// Runs a loaded project (`ferry demo` adjusts one in memory first).
pub fn run_project(
    project: &Project,
    plan_path: &Path,
    options: RunOptions,
    json: bool,
) -> Result<Exit> {
    let observer = render::for_run(json);
    let summary = Engine::new(project, observer.as_ref()).run(options)?;
    Ok(tell(&summary, plan_path, json, "run"))
}

/// Says what a run (or a sync, `command`) came to, and returns its exit.
pub fn tell(summary: &RunSummary, plan_path: &Path, json: bool, command: &str) -> Exit {
    let exit = exit_of(summary);
    if json {
        render::json::line(&serde_json::json!({
            "event": "summary",
            "run_id": summary.run_id,
            "status": summary.status,
            "stopped": summary.stopped,
            "failed": summary.failed,
            "verified": summary.verified,
            "reports": summary.written,
            "people": summary.report.people,
            "journal": summary.journal,
            "removals": summary.removals.as_ref().map(|(removals, list)| serde_json::json!({
                "deleted": removals.tally.deleted,
                "already_gone": removals.tally.gone,
                "kept": removals.tally.kept.len(),
                "kept_list": list,
                "failed": removals.tally.failed.len(),
                "not_diffed": removals.not_diffed,
            })),
            "exit_code": exit.code(),
        }));
    } else {
        if let Some((removals, list)) = &summary.removals {
            tell_removals(removals, list);
        }
        for list in &summary.report.people {
            println!(
                "{}: {} ({}{} this run) in {}",
                list.label,
                list.total,
                if list.change > 0 { "+" } else { "" },
                list.change,
                list.path
            );
        }
        for path in &summary.written {
            println!("report: {}", path.display());
        }
        println!(
            "journal: {} (run {})",
            summary.journal.display(),
            summary.run_id
        );
        if let Some(stop) = summary
            .stopped
            .as_ref()
            .filter(|s| **s != Stop::Interrupted)
        {
            eprintln!(
                "{}: {}",
                crate::output::Painter::stderr().error("stopped"),
                ferry_wire::redact::redact(&stop.to_string())
            );
        }
        if summary.interrupted() {
            println!(
                "interrupted: `ferry {command} {}` resumes",
                plan_path.display()
            );
        }
    }
    exit
}

/// A sync's removal pass, in words.
fn tell_removals(removals: &ferry_core::sync::Removals, list: &Path) {
    let tally = &removals.tally;
    println!(
        "gone from Clerk: deleted {}; {} already gone from WorkOS; {} left in WorkOS, in {}",
        tally.deleted_words(),
        thousands(tally.gone),
        thousands(tally.kept.len() as u64),
        list.display()
    );
    for (kind, id, reason) in &tally.failed {
        println!(
            "failed to delete: {} {id}: {}",
            kind.as_str(),
            ferry_wire::redact::redact(reason)
        );
    }
    for not in &removals.not_diffed {
        println!(
            "not diffed: {}s, so nothing of them was judged gone: {}",
            not.kind.as_str(),
            ferry_wire::inert::printable(&not.why)
        );
    }
}

fn exit_of(summary: &RunSummary) -> Exit {
    if let Some(stop) = &summary.stopped {
        return match stop.kind() {
            ErrorKind::Interrupted => Exit::Interrupted,
            kind => Exit::Error(kind),
        };
    }
    if summary.interrupted() {
        Exit::Interrupted
    } else if summary.failed > 0 {
        Exit::RecordsFailed
    } else if summary.verified == Some(false) {
        Exit::ProblemFound
    } else {
        Exit::Success
    }
}

/// Asks on the terminal, saying how much the run will write; without a
/// terminal, says how to run non-interactively.
fn confirm(project: &Project) -> Result<()> {
    let plan = &project.plan;
    let steps: Vec<_> = plan.steps.iter().map(|s| s.name()).collect();
    ask(project, "run", |target| {
        // One request to Clerk; if it fails, the preflight will say why.
        let estimate = Engine::new(project, &Quiet).estimate().ok();
        format!(
            "Run plan {} (revision {}) against {target}: steps {}.{}",
            plan.name,
            plan.revision,
            steps.join(", "),
            estimate.map(writes).unwrap_or_default()
        )
    })
}

/// The question's sentences on how many users the run will write, and
/// how many invitation emails it may cause.
fn writes(estimate: WriteEstimate) -> String {
    let users = match (estimate.clerk_users, estimate.users_to_write()) {
        (Some(clerk), Some(0)) => format!(
            " The journal has settled all {} of Clerk's users: only those changed in Clerk since are written.",
            thousands(clerk)
        ),
        (Some(clerk), Some(to_write)) => format!(
            " Clerk holds {} users and the journal has settled {}: up to {} users will be written, each with its TOTP factor and memberships.",
            thousands(clerk),
            thousands(estimate.settled_users),
            thousands(to_write)
        ),
        _ => String::new(),
    };
    users + emails(estimate.invitation_emails).as_str()
}

/// The question's sentence on invitation emails (`send: true` only).
pub fn emails(invitation_emails: Option<u64>) -> String {
    match invitation_emails {
        None => String::new(),
        Some(0) => " No invitation email will be sent: every pending invitation was sent before."
            .to_owned(),
        Some(n) => format!(
            " Up to {} invitation emails will be sent (WorkOS emails each pending invitee ferry has not invited yet, once; members are never invited).",
            thousands(n)
        ),
    }
}

/// Asks `question` (given the target's URL) with "Continue? [y/N]" on the
/// terminal before `command` writes; without a terminal, refuses and says
/// how to run it non-interactively.
pub fn ask(
    project: &Project,
    command: &'static str,
    question: impl Fn(&str) -> String,
) -> Result<()> {
    let plan = &project.plan;
    let target = plan
        .target
        .as_ref()
        .map(|t| t.api_url.as_str())
        .unwrap_or("WorkOS");
    if !std::io::stdin().is_terminal() {
        return Err(CliRefusal::NeedsConfirmation {
            command,
            target: target.to_owned(),
            plan: plan.path.clone(),
        }
        .into());
    }
    eprint!("{} Continue? [y/N] ", question(target));
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("read", "the answer", e))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliRefusal::NotConfirmed.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_says_how_many_users_will_be_written() {
        let estimate = |clerk_users, settled_users| {
            writes(WriteEstimate {
                clerk_users,
                settled_users,
                invitation_emails: None,
            })
        };
        assert_eq!(
            estimate(Some(1200), 200),
            " Clerk holds 1,200 users and the journal has settled 200: up to 1,000 users will be written, each with its TOTP factor and memberships."
        );
        assert!(estimate(Some(5), 5).contains("settled all 5"));
        assert_eq!(estimate(None, 3), "");
    }

    #[test]
    fn the_question_counts_the_invitation_emails() {
        let estimate = |invitation_emails| {
            writes(WriteEstimate {
                clerk_users: Some(10),
                settled_users: 10,
                invitation_emails,
            })
        };
        let settled = " The journal has settled all 10 of Clerk's users: only those changed in Clerk since are written.";
        assert_eq!(estimate(None), settled);
        assert_eq!(
            estimate(Some(1234)),
            format!(
                "{settled} Up to 1,234 invitation emails will be sent (WorkOS emails each pending invitee ferry has not invited yet, once; members are never invited)."
            )
        );
        assert_eq!(
            estimate(Some(0)),
            format!(
                "{settled} No invitation email will be sent: every pending invitation was sent before."
            )
        );
    }
}
