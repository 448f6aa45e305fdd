//! `ferry run PLAN`: does the migration, resumably.
//!
//! Asks before writing unless `--yes` (and refuses to guess without a
//! terminal), refuses a second run on the same journal, and refuses to
//! continue an interrupted run with a changed plan unless told to. Ends
//! with a summary and the lists a person needs (failures, skipped users,
//! password resets).

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use crate::connect;
use crate::error::{Error, ExitStatus, Result};
use crate::journal::{Action, Journal, Kind, RunStatus};
use crate::mapping::user::UserSettings;
use crate::output::{self, Painter};
use crate::plan::{LoadOptions, Step};
use crate::project::Project;
use crate::source::read::Sources;
use crate::steps::recorder::{RunLists, Tally};
use crate::steps::users::{Mode, UsersStep};
use crate::steps::{self, Cancel, UsersRun};

pub struct RunSettings<'a> {
    pub plan: &'a Path,
    pub yes: bool,
    pub allow_changed_plan: bool,
}

pub fn run(settings: RunSettings<'_>) -> Result<ExitStatus> {
    let project = Project::open(settings.plan, LoadOptions::for_use())?;
    let plan = &project.plan;
    let workos = connect::workos(plan)?;
    let clerk = connect::clerk(plan)?;

    if !settings.yes && !confirm(&project)? {
        return Ok(ExitStatus::UsageError);
    }

    let journal = Journal::open_for_run(&plan.state)?;
    if let Some(last) = journal.last_run()?
        && matches!(last.status, RunStatus::Running | RunStatus::Interrupted)
        && let Some(change) = plan.checksum.describe_change(&last.checksum)
        && !settings.allow_changed_plan
    {
        return Err(Error::Usage(format!(
            "run {} did not finish, and since then {change} (revision {} then, {} now). Resuming with a different plan mixes two sets of decisions; review the change, then run again with --allow-changed-plan",
            last.id, last.revision, plan.revision
        )));
    }
    let run_id = journal.begin_run(&plan.name, plan.revision, &plan.checksum, false)?;
    let reader = std::sync::Mutex::new(Journal::open_to_read(&plan.state)?);

    let runtime = runtime()?;
    let cancel = Cancel::default();
    let painter = Painter::stdout();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{} run {run_id} of {} (revision {})",
        painter.strong("ferry"),
        plan.name,
        plan.revision
    );

    let mut journal = Some(journal);
    let mut outcome: Option<UsersRun> = None;
    for step in &plan.steps {
        match step {
            Step::Users(options) => {
                let settings = UserSettings::from_options(options);
                let step = UsersStep {
                    settings,
                    script: project.script.as_ref(),
                    ctx: project.hook_context("users", false),
                    workos: Some(&workos),
                    journal: &reader,
                    mode: Mode::Write,
                };
                let sources = Sources {
                    clerk: clerk.as_ref(),
                    export_csv: plan.source.export_csv.as_deref(),
                    export_json: plan.source.export_json.as_deref(),
                };
                let lists = RunLists::new(&plan.report.dir, &format!("{}-run-{run_id}", plan.name));
                let total = runtime.block_on(async {
                    match &clerk {
                        Some(clerk) => clerk.user_count().await.ok(),
                        None => None,
                    }
                });
                let progress = output::progress_bar(total, "users");
                let cancel_on_signal = cancel.clone();
                let result = runtime.block_on(async {
                    tokio::spawn(async move {
                        if tokio::signal::ctrl_c().await.is_ok() {
                            eprintln!("\nstopping: finishing the requests in flight (Ctrl-C again to force)");
                            cancel_on_signal.cancel();
                            let _ = tokio::signal::ctrl_c().await;
                            std::process::exit(130);
                        }
                    });
                    steps::run_users(
                        &step,
                        sources,
                        journal.take().expect("the journal"),
                        run_id,
                        lists,
                        progress.clone(),
                        connect::concurrency(plan),
                        &cancel,
                    )
                    .await
                });
                progress.finish_and_clear();
                let (done, returned) = result?;
                journal = Some(returned);
                print_users(&mut stdout, &painter, &done);
                let stop = done.interrupted;
                outcome = Some(done);
                if stop {
                    break;
                }
            }
            other => {
                let _ = writeln!(
                    stdout,
                    "{}: not implemented in this version; skipped",
                    other.name()
                );
            }
        }
    }

    let journal = journal.expect("the journal");
    let interrupted = outcome.as_ref().is_some_and(|o| o.interrupted);
    let failed = outcome.as_ref().map_or(0, |o| o.tally.failed());
    let status = if interrupted {
        RunStatus::Interrupted
    } else if failed > 0 {
        RunStatus::FinishedWithFailures
    } else {
        RunStatus::Finished
    };
    journal.finish_run(run_id, status)?;
    let _ = writeln!(stdout, "journal: {} (run {run_id})", plan.state.display());
    Ok(if interrupted {
        let _ = writeln!(
            stdout,
            "interrupted: `ferry run {}` resumes",
            settings.plan.display()
        );
        ExitStatus::Aborted
    } else if failed > 0 {
        ExitStatus::RecordsFailed
    } else {
        ExitStatus::Success
    })
}

fn print_users(out: &mut impl Write, painter: &Painter, run: &UsersRun) {
    let tally: &Tally = &run.tally;
    let count = |action| output::thousands(tally.get(Kind::User, action));
    let _ = writeln!(
        out,
        "users: {} created, {} updated, {} adopted, {} unchanged, {} skipped, {} rejected, {} failed",
        count(Action::Created),
        count(Action::Updated),
        count(Action::Adopted),
        count(Action::Unchanged),
        count(Action::Skipped),
        count(Action::Rejected),
        if tally.get(Kind::User, Action::Failed) > 0 {
            painter.error(&count(Action::Failed))
        } else {
            count(Action::Failed)
        },
    );
    let totp = |action| tally.get(Kind::TotpFactor, action);
    let enrolled = totp(Action::Created) + totp(Action::Adopted) + totp(Action::Unchanged);
    if enrolled + totp(Action::Failed) > 0 {
        let _ = writeln!(
            out,
            "totp factors: {} enrolled, {} already there, {} failed",
            totp(Action::Created),
            totp(Action::Adopted) + totp(Action::Unchanged),
            totp(Action::Failed)
        );
    }
    if let Some(missing) = run.stats.short_read() {
        let _ = writeln!(
            out,
            "{}: Clerk counted {} more users than its listing returned; run again to pick them up",
            painter.warning("warning"),
            missing
        );
    }
    for (label, list) in [
        ("failures", &run.lists.failures),
        ("skipped users", &run.lists.skipped),
        ("password resets needed", &run.lists.password_resets),
    ] {
        if list.rows() > 0 {
            let _ = writeln!(out, "{label}: {} in {}", list.rows(), list.path().display());
        }
    }
}

/// Asks on the terminal; without one, says how to run non-interactively.
fn confirm(project: &Project) -> Result<bool> {
    let plan = &project.plan;
    let target = plan
        .target
        .as_ref()
        .map(|t| t.api_url.as_str())
        .unwrap_or("WorkOS");
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "{}: ferry run writes to {target} and needs confirmation; without a terminal, run:\n  ferry run {} --yes",
            Painter::stderr().error("error"),
            plan.path.display()
        );
        return Ok(false);
    }
    let steps: Vec<_> = plan.steps.iter().map(|s| s.name()).collect();
    eprint!(
        "Run plan {} (revision {}) against {target}: steps {}. Continue? [y/N] ",
        plan.name,
        plan.revision,
        steps.join(", ")
    );
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("read", "the answer", e))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start", "the async runtime", e))
}
