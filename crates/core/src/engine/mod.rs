//! The run engine: one type that runs a plan's steps through one step
//! interface ([`crate::steps::stage::Stage`]) and tells an [`Observer`] what happens.
//!
//! `ferry run` and `ferry demo` call [`Engine::run`]: it opens the journal
//! for writing (one run at a time), refuses to resume an interrupted run
//! whose plan changed, runs each step once the earlier steps it depends on
//! have finished (so organizations and roles overlap with users, see
//! [`schedule`]), stops taking new records on Ctrl-C, closes the run's
//! journal entry, and writes the report.
//! `ferry plan` calls [`Engine::preview`], which runs each step's preview
//! and writes nothing. `ferry assess` and `ferry verify` run one step alone
//! ([`Engine::assess`], [`Engine::verify`]) without opening a run.
//!
//! The engine prints nothing and knows no exit code: it returns what the
//! run came to and leaves rendering and exit status to the binary.

mod people;
mod schedule;

use ferry_wire::secret::Secret;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::clerk::client::ClerkClient;
use crate::commands::connect;
use crate::error::{Error, MissingSetting, Refusal, Result};
use crate::journal::{Action, Journal, Kind, RunStatus};
use crate::observe::{Event, Observer};
use crate::plan::Project;
use crate::plan::StepKind;
use crate::report::assemble;
use crate::report::assessment::Assessment;
use crate::report::model::Report;
use crate::report::outcome::StepOutcome;
use crate::report::verification::Verification;
use crate::source::shared_users::SharedUsers;
use crate::steps::ended::Ended;
use crate::steps::error::StepError;
use crate::steps::stage::{PreviewContext, RunContext, Stage};
use crate::support::cancel::{Cancel, Stop};
use crate::target::preflight;
use crate::target::webhooks;
use crate::undo::delete::Deleter;
use crate::undo::{UndoOptions, UndoTally};
use crate::workos::client::WorkosClient;

/// How a run may proceed (`ferry run`'s flags parse straight into it).
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RunOptions {
    /// Continue an interrupted run even though the plan or script changed since.
    #[cfg_attr(feature = "clap", arg(long))]
    pub allow_changed_plan: bool,
    /// List WorkOS first and check the journal against it: make again what
    /// is gone, never write to an id that now belongs to someone else, adopt
    /// what exists but the journal lost (reads cost a page per 100 objects).
    #[cfg_attr(feature = "clap", arg(long))]
    pub reconcile: bool,
}

/// What a run came to.
#[derive(Debug)]
pub struct RunSummary {
    pub run_id: i64,
    pub status: RunStatus,
    /// Why the run stopped early, when it did.
    pub stopped: Option<Stop>,
    /// Records that failed, over all steps.
    pub failed: u64,
    /// The verification's verdict, when the plan has a `verify` step that ran.
    pub verified: Option<bool>,
    pub report: Report,
    /// The report files written.
    pub written: Vec<PathBuf>,
    pub journal: PathBuf,
    /// A sync's removal pass, and the list of what Clerk no longer has
    /// that stayed in WorkOS.
    pub removals: Option<(crate::sync::Removals, PathBuf)>,
}

impl RunSummary {
    pub fn interrupted(&self) -> bool {
        self.status == RunStatus::Interrupted
    }
}

/// What an undo came to.
#[derive(Debug)]
pub struct UndoSummary {
    pub run_id: i64,
    pub status: RunStatus,
    pub tally: UndoTally,
    /// The objects left in place, with why (`kind,clerk_id,workos_id,reason`).
    pub kept_list: PathBuf,
}

/// A file the close of a run writes: its error is the run's, unless the
/// run already failed (a preflight that found the report folder
/// unwritable, say): then that first error is the one told, and this one
/// is logged, not lost.
fn closing<T>(written: Result<T>, failure: &Option<Error>, instead: T) -> Result<T> {
    match (written, failure) {
        (Ok(value), _) => Ok(value),
        (Err(error), Some(_)) => {
            tracing::warn!("the run's report could not be written: {error}");
            Ok(instead)
        }
        (Err(error), None) => Err(error),
    }
}

/// Lists what undo left in place (written even when empty, mode 0600).
fn write_kept(path: &std::path::Path, kept: &[crate::undo::Kept]) -> Result<()> {
    if let Some(dir) = path.parent() {
        ferry_wire::files::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    ferry_wire::files::write_with(path, |out| {
        let mut writer = ferry_wire::inert::CsvWriter::new(out);
        writer.row(["kind", "clerk_id", "workos_id", "code", "reason"])?;
        for object in kept {
            writer.row([
                object.kind.as_str(),
                &object.source_id,
                &object.target_id,
                object.reason.code.as_str(),
                &ferry_wire::redact::redact(&object.reason.detail),
            ])?;
        }
        writer.flush()
    })
    .map_err(|e| Error::io("write", path, e))
}

/// How much a run is about to write ([`Engine::estimate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteEstimate {
    /// Clerk's count of users; `None` when the plan reads an export only.
    pub clerk_users: Option<u64>,
    /// Users the journal has settled (written, unchanged, skipped or rejected).
    pub settled_users: u64,
    /// With `invitations: { send: true }`: the pending Clerk invitations
    /// the journal has not sent, each an email at most (WorkOS sends it).
    pub invitation_emails: Option<u64>,
}

impl WriteEstimate {
    /// Users a run may still write: Clerk's count less what is settled.
    /// A settled user is written again only when it changed in Clerk.
    pub fn users_to_write(&self) -> Option<u64> {
        self.clerk_users
            .map(|clerk| clerk.saturating_sub(self.settled_users))
    }
}

/// What a preview came to: each step and its preview.
#[derive(Debug)]
pub struct PreviewSummary {
    pub steps: Vec<(StepKind, StepOutcome)>,
    /// With `--sync`: what the removal pass would do, per kind.
    pub gone: Option<Vec<crate::sync::GonePreview>>,
}

/// What every step of one run shares; each step adds its own journal
/// connection to make its [`RunContext`].
struct Shared<'r> {
    workos: &'r WorkosClient,
    clerk: Option<&'r ClerkClient>,
    reader: &'r Mutex<Journal>,
    run_id: i64,
    reconcile: bool,
    /// `None` when a single step reads users: a copy would only cost.
    users: Option<&'r SharedUsers>,
    /// In a sync: what the listings hold.
    seen: Option<&'r crate::steps::seen::Seen>,
}

/// A run between its journal entry and its report: what its phases share.
struct OpenRun {
    workos: WorkosClient,
    clerk: Option<ClerkClient>,
    journal: Journal,
    /// A read connection for look-ups while the write connection is busy.
    reader: Mutex<Journal>,
    run_id: i64,
    runtime: tokio::runtime::Runtime,
    /// Each Ctrl-C or SIGTERM, for the observer.
    stops: mpsc::UnboundedReceiver<()>,
    /// The people lists' sizes before the run, for their change.
    people_before: crate::journal::PeopleCounts,
    started_at: String,
    /// The first error that ends the run, told once the run is closed.
    failure: Option<Error>,
}

/// The API clients a run's plan asks for, built (and so checked) before
/// the journal is opened.
struct Clients {
    workos: WorkosClient,
    clerk: Option<ClerkClient>,
}

/// What the steps that finished came to, in plan order.
#[derive(Default)]
struct Finished {
    reports: Vec<crate::report::model::StepReport>,
    outcomes: Vec<StepOutcome>,
}

/// Runs a project's plan.
pub struct Engine<'a> {
    project: &'a Project,
    observer: &'a dyn Observer,
    cancel: Cancel,
}

impl<'a> Engine<'a> {
    pub fn new(project: &'a Project, observer: &'a dyn Observer) -> Self {
        Self {
            project,
            observer,
            cancel: Cancel::default(),
        }
    }

    /// The flag that stops the engine; Ctrl-C sets it during a run.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// Runs every step of the plan, writing to WorkOS.
    pub fn run(&self, options: RunOptions) -> Result<RunSummary> {
        self.execute(options, false)
    }

    /// After a finished run, applies what changed in Clerk since
    /// ([`crate::sync`]): the plan's writing steps, then the removal pass.
    pub fn sync(&self, options: RunOptions) -> Result<RunSummary> {
        let plan = &self.project.plan;
        require_journal(plan)?;
        Journal::mark_dead_runs(&plan.state)?;
        let finished = Journal::open_to_read(&plan.state)?
            .runs()?
            .iter()
            .any(|run| {
                matches!(
                    run.status,
                    RunStatus::Finished | RunStatus::FinishedWithFailures
                )
            });
        if !finished {
            return Err(Refusal::NothingToSync.into());
        }
        self.execute(options, true)
    }

    /// A run or a sync, in its phases: guard the journal, open the run,
    /// preflight and webhooks, the steps, the removal pass (sync), close.
    /// A phase that fails ends the run, but the run still closes its
    /// journal entry and writes its report before the error is told.
    fn execute(&self, options: RunOptions, sync: bool) -> Result<RunSummary> {
        let (journal, clients) = self.guard(&options)?;
        let mut open = self.open(journal, clients)?;
        self.prepare(&mut open);
        // A sync runs the steps that write; `ferry verify` proves the result.
        let stages: Vec<Box<dyn Stage + '_>> = self
            .project
            .plan
            .steps
            .iter()
            .filter(|step| !sync || step.kind().runs_in_sync())
            .map(crate::steps::stage)
            .collect();
        let seen = sync.then(crate::steps::seen::Seen::default);
        let finished = self.steps(&mut open, &stages, options.reconcile, seen.as_ref());
        let removals = match &seen {
            Some(seen) => self.removals(&mut open, &stages, seen),
            None => None,
        };
        self.close(open, &stages, finished, removals, sync)
    }

    /// Checks the plan names both APIs, then opens the journal for a run,
    /// refusing to resume an interrupted run whose plan changed (unless
    /// allowed) and a journal bound elsewhere.
    fn guard(&self, options: &RunOptions) -> Result<(Journal, Clients)> {
        let plan = &self.project.plan;
        let clients = Clients {
            workos: connect::workos(plan, &self.cancel)?,
            clerk: connect::clerk(plan, &self.cancel)?,
        };
        let journal = Journal::open_for_run(&plan.state)?;
        if let Some(last) = journal.last_run()?
            && matches!(last.status, RunStatus::Running | RunStatus::Interrupted)
            && let Some(change) = plan.checksum.describe_change(&last.checksum)
            && !options.allow_changed_plan
            && journal.run_recorded(last.id)?
        {
            return Err(Refusal::ChangedPlan {
                run: last.id,
                change,
                then: last.revision,
                now: plan.revision,
            }
            .into());
        }
        check_bindings(&journal, plan, true)?;
        SharedUsers::remove_leftover(&plan.state);
        Ok((journal, clients))
    }

    /// Connects, begins the run's journal entry and listens for Ctrl-C.
    /// WorkOS writes pass the webhook gate, which pauses the plan's
    /// endpoints just before the first write (a run that writes nothing
    /// pauses nothing).
    fn open(&self, journal: Journal, Clients { workos, clerk }: Clients) -> Result<OpenRun> {
        let plan = &self.project.plan;
        let runtime = runtime()?;
        let people_before = journal.people_counts()?;
        let started_at = crate::journal::now();
        let run_id = journal.begin_run(&plan.name, plan.revision, &plan.checksum, false)?;
        let reader = Mutex::new(Journal::open_to_read(&plan.state)?);
        let gate = webhooks::PauseBeforeFirstWrite::new(
            plan,
            journal.sibling()?,
            connect::workos(plan, &self.cancel)?,
            self.cancel.clone(),
        );
        let workos = workos.with_write_gate(std::sync::Arc::new(gate));
        self.observer.event(&Event::RunStarted {
            run_id: Some(run_id),
            plan: &plan.name,
            revision: plan.revision,
            preview: false,
        });
        let stops = self.stop_on_ctrl_c(&runtime);
        Ok(OpenRun {
            workos,
            clerk,
            journal,
            reader,
            run_id,
            runtime,
            stops,
            people_before,
            started_at,
            failure: None,
        })
    }

    /// The preflight, then the webhook endpoints a crashed run paused are
    /// enabled again (through a client without the gate: these are not the
    /// run's writes).
    fn prepare(&self, open: &mut OpenRun) {
        let plan = &self.project.plan;
        let checked =
            open.runtime
                .block_on(self.preflight(open.clerk.as_ref(), &open.workos, false));
        let resumed = checked.and_then(|findings| {
            self.observer.event(&Event::Preflight {
                findings: &findings,
            });
            open.runtime.block_on(async {
                let ungated = connect::workos(plan, &self.cancel)?;
                webhooks::resume_leftover(&open.journal, &ungated)
                    .await
                    .map_err(Error::from)
            })
        });
        if let Err(error) = resumed {
            open.failure = Some(error);
        }
    }

    /// Runs the stages (unless an earlier phase failed); the report section
    /// and outcome of each that finished.
    fn steps(
        &self,
        open: &mut OpenRun,
        stages: &[Box<dyn Stage + '_>],
        reconcile: bool,
        seen: Option<&crate::steps::seen::Seen>,
    ) -> Finished {
        let mut finished = Finished::default();
        if open.failure.is_some() {
            return finished;
        }
        let plan = &self.project.plan;
        // Shared when two steps or more read users; removed (with its spill
        // file) when the run ends.
        let readers = plan
            .steps
            .iter()
            .filter(|step| step.kind().reads_users())
            .count();
        let shared_users = (readers > 1).then(|| SharedUsers::beside(&plan.state));
        // Each step records through its own connection, so steps can overlap.
        let mut connections: Vec<Journal> =
            match stages.iter().map(|_| open.journal.sibling()).collect() {
                Ok(connections) => connections,
                Err(error) => {
                    open.failure = Some(error.into());
                    return finished;
                }
            };
        let shared = Shared {
            workos: &open.workos,
            clerk: open.clerk.as_ref(),
            reader: &open.reader,
            run_id: open.run_id,
            reconcile,
            users: shared_users.as_ref(),
            seen,
        };
        let results = open.runtime.block_on(self.until_done(
            self.run_steps(stages, &mut connections, &shared),
            &mut open.stops,
        ));
        for (stage, result) in stages.iter().zip(results) {
            match result {
                Some(Ok((outcome, duration_ms))) => {
                    let traffic = open.workos.traffic_of(stage.name())
                        + open
                            .clerk
                            .as_ref()
                            .map(|clerk| clerk.traffic_of(stage.name()))
                            .unwrap_or_default();
                    finished.reports.push(assemble::step_report(
                        stage.name(),
                        &outcome,
                        duration_ms,
                        traffic,
                        &open.reader,
                    ));
                    finished.outcomes.push(outcome);
                }
                // Stopped mid-step (a wait cut short): the step simply did not finish.
                Some(Err(_)) if self.cancel.is_cancelled() => {}
                Some(Err(error)) => {
                    open.failure.get_or_insert(error);
                }
                None => {}
            }
        }
        finished
    }

    /// The removal pass of a sync, once every step finished: what Clerk no
    /// longer lists.
    fn removals(
        &self,
        open: &mut OpenRun,
        stages: &[Box<dyn Stage + '_>],
        seen: &crate::steps::seen::Seen,
    ) -> Option<crate::sync::Removals> {
        let clerk = open.clerk.as_ref()?;
        if open.failure.is_some() || self.cancel.is_cancelled() {
            return None;
        }
        let kinds: Vec<StepKind> = stages.iter().map(|stage| stage.kind()).collect();
        let mut removal = crate::sync::Removal {
            deleter: self.deleter(&open.workos, &mut open.journal, open.run_id, "sync"),
            clerk,
            on_deleted: self.project.plan.on_deleted,
            listed: crate::sync::listed_by(&kinds),
            started_at: open.started_at.clone(),
        };
        tracing::info!("the removal pass started");
        match open
            .runtime
            .block_on(self.until_done(removal.run(seen), &mut open.stops))
        {
            Ok(done) => {
                tracing::info!("the removal pass finished");
                Some(done)
            }
            Err(error) => {
                open.failure = Some(error);
                None
            }
        }
    }

    /// Closes the run: the webhook endpoints enabled again, the run's
    /// status, the people lists, the report (saved in the journal and
    /// written out), then the first error, if one ended the run.
    fn close(
        &self,
        mut open: OpenRun,
        stages: &[Box<dyn Stage + '_>],
        finished: Finished,
        removals: Option<crate::sync::Removals>,
        sync: bool,
    ) -> Result<RunSummary> {
        let plan = &self.project.plan;
        if let Err(error) = resume_webhooks(&open.runtime, plan, &open.journal) {
            open.failure.get_or_insert(error);
        }
        let OpenRun {
            workos,
            clerk,
            journal,
            run_id,
            people_before,
            failure,
            ..
        } = open;
        let failed: u64 = finished
            .outcomes
            .iter()
            .map(StepOutcome::failed)
            .sum::<u64>()
            + removals.as_ref().map_or(0, |r| r.tally.failed.len() as u64);
        let verified = finished.outcomes.iter().find_map(|outcome| match outcome {
            StepOutcome::Verify(verification) => Some(verification.passed),
            _ => None,
        });
        let interrupted = self.cancel.is_cancelled() || failure.is_some();
        let status = match (interrupted, failed) {
            (true, _) => RunStatus::Interrupted,
            (false, 0) => RunStatus::Finished,
            (false, _) => RunStatus::FinishedWithFailures,
        };
        journal.finish_run(run_id, status)?;
        let run = journal
            .run(run_id)?
            .ok_or(Refusal::NoSuchRun { run: run_id })?;
        let outcome = match self.cancel.reason() {
            Some(stop) if stop != Stop::Interrupted => format!("stopped: {stop}"),
            _ => assemble::outcome_words(interrupted, failed, verified.unwrap_or(true)),
        };
        let people = closing(
            people::write_lists(&journal, &plan.report.dir, &plan.name, &people_before),
            &failure,
            Vec::new(),
        )?;
        let planned: Vec<StepKind> = stages.iter().map(|stage| stage.kind()).collect();
        let report = assemble::run(assemble::RunClosed {
            plan,
            run: &run,
            outcome,
            steps: finished.reports,
            outcomes: &finished.outcomes,
            planned: &planned,
            people,
            clerk: clerk.as_ref(),
            workos: &workos,
            user_groups: match plan.has(StepKind::Users) {
                true => Some(journal.user_groups()?),
                false => None,
            },
            command: if sync { "sync" } else { "run" },
        });
        let gone_list = match &removals {
            Some(removals) => {
                let path = plan.report.dir.join(format!(
                    "{}-sync-run-{run_id}-gone-from-clerk.csv",
                    plan.name
                ));
                write_kept(&path, &removals.tally.kept)?;
                Some(path)
            }
            None => None,
        };
        let json = serde_json::to_string(&report).unwrap_or_default();
        journal.save_report(run_id, &ferry_wire::redact::redact(&json))?;
        let written = closing(
            crate::report::write_all(
                &report,
                &plan.report.dir,
                &plan.report.formats,
                plan.report.templates.as_deref(),
            )
            .map_err(Error::from),
            &failure,
            Vec::new(),
        )?;
        if let Some(error) = failure {
            return Err(error);
        }
        Ok(RunSummary {
            run_id,
            status,
            stopped: self.cancel.reason(),
            failed,
            verified,
            report,
            written,
            journal: plan.state.clone(),
            removals: removals.zip(gone_list),
        })
    }

    /// What deletes for `by` (undo, sync) in run `run_id`, at the plan's
    /// concurrency, stopped by this engine's cancel.
    fn deleter<'d>(
        &'d self,
        workos: &'d WorkosClient,
        journal: &'d mut Journal,
        run_id: i64,
        by: &'static str,
    ) -> Deleter<'d> {
        Deleter {
            workos,
            journal,
            run_id,
            concurrency: self.project.plan.pacing.concurrency,
            cancel: &self.cancel,
            by,
        }
    }

    /// Runs the plan's steps, each as soon as the earlier steps it reads
    /// have finished ([`schedule::waits_for`]), and each recording through
    /// its own journal connection. Once a step fails or the run is stopped,
    /// no new step starts; the ones in flight finish. Each step's outcome
    /// and duration, in plan order; `None` for a step that never started.
    async fn run_steps(
        &self,
        stages: &[Box<dyn Stage + '_>],
        connections: &mut [Journal],
        shared: &Shared<'_>,
    ) -> Vec<Option<Result<(StepOutcome, u64)>>> {
        let kinds: Vec<StepKind> = stages.iter().map(|stage| stage.kind()).collect();
        let ended_steps = Ended::new(kinds.iter().copied());
        let ended = &ended_steps;
        let settled_users = crate::steps::users::settled::SettledUsers::default();
        let settled_users = &settled_users;
        let mut contexts: Vec<RunContext<'_>> = connections
            .iter_mut()
            .map(|journal| RunContext {
                project: self.project,
                workos: shared.workos,
                clerk: shared.clerk,
                journal,
                reader: shared.reader,
                run_id: shared.run_id,
                reconcile: shared.reconcile,
                cancel: &self.cancel,
                observer: self.observer,
                shared_users: shared.users,
                ended: Some(ended),
                seen: shared.seen,
                settled_users: Some(settled_users),
            })
            .collect();
        // Futures do nothing until polled: each starts when the schedule says.
        let steps: Vec<_> = stages
            .iter()
            .zip(contexts.iter_mut())
            .map(|(stage, cx)| async move {
                tracing::info!("step {} started", stage.name());
                self.observer
                    .event(&Event::StepStarted { step: stage.kind() });
                let started = Instant::now();
                // The steps share one task, and so tokio's cooperative
                // budget: a busy step (users, reading a million records)
                // spent it all, and a light one polled after it found every
                // channel and socket "not ready" (10,000 unchanged
                // organizations took as long as the users beside them, 27 s
                // instead of 0.6). Each step yields where it waits instead.
                let outcome = tokio::task::unconstrained(
                    crate::http::traffic::STEP.scope(stage.name(), stage.run(cx)),
                )
                .await;
                ended.end(stage.kind(), outcome.is_ok() && !self.cancel.is_cancelled());
                let outcome = outcome?;
                let duration_ms = started.elapsed().as_millis() as u64;
                tracing::info!(
                    "step {} finished in {} ms: {}",
                    stage.name(),
                    duration_ms,
                    serde_json::to_string(&outcome.counts()).unwrap_or_default()
                );
                self.observer.event(&Event::StepFinished {
                    step: stage.kind(),
                    duration_ms,
                    outcome: &outcome,
                });
                Ok((outcome, duration_ms))
            })
            .collect();
        schedule::run(
            steps,
            &schedule::waits_for(&kinds),
            |result| result.is_err() || self.cancel.is_cancelled(),
            |never| ended.end(kinds[never], false),
        )
        .await
    }

    /// Takes away what ferry created in WorkOS ([`crate::undo`]), as a run
    /// of its own in the journal: one at a time with `run`, resumable, and
    /// refused on a journal bound to another target.
    pub fn undo(&self, options: UndoOptions) -> Result<UndoSummary> {
        let plan = &self.project.plan;
        let workos = connect::workos(plan, &self.cancel)?;
        require_journal(plan)?;
        let mut journal = Journal::open_for_run(&plan.state)?;
        check_bindings(&journal, plan, false)?;
        SharedUsers::remove_leftover(&plan.state);
        let runtime = runtime()?;
        runtime.block_on(webhooks::resume_leftover(&journal, &workos))?;
        if let Some(run) = options.run {
            journal.run(run)?.ok_or(Refusal::NoSuchRun { run })?;
        }
        let run_id = journal.begin_run(&plan.name, plan.revision, &plan.checksum, false)?;
        let mut stops = self.stop_on_ctrl_c(&runtime);
        let mut undo = crate::undo::Undo {
            deleter: self.deleter(&workos, &mut journal, run_id, "undo"),
            options,
        };
        // Deletions emit events too: `webhooks: pause` holds them back as in a run.
        let paused = runtime.block_on(webhooks::pause(plan, undo.deleter.journal, &workos));
        let result = match paused {
            // A probe user a crash left behind goes first: never a migrated user.
            Ok(_) => runtime
                .block_on(crate::steps::users::probe::remove_leftovers(
                    undo.deleter.journal,
                    &workos,
                ))
                .map_err(Error::from)
                .and_then(|_| runtime.block_on(self.until_done(undo.run(), &mut stops))),
            Err(error) => Err(error.into()),
        };
        let resumed = resume_webhooks(&runtime, plan, undo.deleter.journal);
        let status = match (&result, self.cancel.is_cancelled()) {
            (Err(_), _) | (_, true) => RunStatus::Interrupted,
            (Ok(tally), false) if !tally.failed.is_empty() => RunStatus::FinishedWithFailures,
            (Ok(_), false) => RunStatus::Finished,
        };
        journal.finish_run(run_id, status)?;
        let tally = result?;
        resumed?;
        let kept_list = plan
            .report
            .dir
            .join(format!("{}-undo-run-{run_id}-kept.csv", plan.name));
        write_kept(&kept_list, &tally.kept)?;
        Ok(UndoSummary {
            run_id,
            status,
            tally,
            kept_list,
        })
    }

    /// Previews every step, writing nothing. Offline, WorkOS and Clerk are
    /// not asked anything: the export and the journal decide. With `sync`,
    /// also what a sync would do with what Clerk no longer has.
    pub fn preview(&self, offline: bool, sync: bool) -> Result<PreviewSummary> {
        let plan = &self.project.plan;
        if offline && sync {
            return Err(MissingSetting::SyncOffline.into());
        }
        let (workos, clerk) = if offline {
            if plan.source.export_csv.is_none() && plan.source.export_json.is_none() {
                return Err(MissingSetting::ExportForOffline.into());
            }
            (None, None)
        } else {
            (
                Some(connect::workos(plan, &self.cancel)?),
                connect::clerk(plan, &self.cancel)?,
            )
        };
        let reader = Mutex::new(if plan.state.exists() {
            Journal::mark_dead_runs(&plan.state)?;
            let journal = Journal::open_to_read(&plan.state)?;
            if !offline {
                check_bindings(&journal, plan, false)?;
            }
            journal
        } else {
            Journal::empty()?
        });
        self.observer.event(&Event::RunStarted {
            run_id: None,
            plan: &plan.name,
            revision: plan.revision,
            preview: true,
        });
        let runtime = runtime()?;
        if let Some(workos) = workos.as_ref() {
            let findings = runtime.block_on(self.preflight(clerk.as_ref(), workos, true))?;
            self.observer.event(&Event::Preflight {
                findings: &findings,
            });
        }
        let left_out = Mutex::default();
        let cx = PreviewContext {
            project: self.project,
            workos: workos.as_ref(),
            clerk: clerk.as_ref(),
            reader: &reader,
            observer: self.observer,
            left_out: &left_out,
        };
        let mut steps = Vec::new();
        for step in &plan.steps {
            let stage = crate::steps::stage(step);
            self.observer
                .event(&Event::StepStarted { step: stage.kind() });
            let started = Instant::now();
            let outcome = runtime.block_on(stage.preview(&cx))?;
            self.observer.event(&Event::StepFinished {
                step: stage.kind(),
                duration_ms: started.elapsed().as_millis() as u64,
                outcome: &outcome,
            });
            steps.push((stage.kind(), outcome));
        }
        let gone = match (sync, clerk.as_ref()) {
            (true, Some(clerk)) => {
                let kinds: Vec<StepKind> = plan.steps.iter().map(|s| s.kind()).collect();
                let journal = reader.lock().expect("journal lock");
                Some(runtime.block_on(crate::sync::preview(
                    clerk,
                    &journal,
                    plan.on_deleted,
                    &crate::sync::listed_by(&kinds),
                ))?)
            }
            _ => None,
        };
        Ok(PreviewSummary { steps, gone })
    }

    /// What a run is about to write, for the question asked before it:
    /// Clerk's user count (one request) and how many users the journal has
    /// settled already. Nothing is written and WorkOS is not asked.
    pub fn estimate(&self) -> Result<WriteEstimate> {
        let plan = &self.project.plan;
        let settled_users = if plan.state.exists() {
            let summary = Journal::open_to_read(&plan.state)?.record_counts()?;
            Action::ALL
                .into_iter()
                .filter(|action| *action != Action::Failed)
                .map(|action| summary.count(Kind::User, action))
                .sum()
        } else {
            0
        };
        let clerk = connect::clerk(plan, &self.cancel)?;
        let runtime = runtime()?;
        let clerk_users = match &clerk {
            Some(clerk) => Some(
                runtime
                    .block_on(clerk.user_count())
                    .map_err(crate::source::read::SourceError::from)
                    .map_err(StepError::from)?,
            ),
            None => None,
        };
        let invitation_emails = match (&clerk, plan.invitations()) {
            (Some(clerk), Some(settings)) if settings.send => {
                let now_ms = chrono::Utc::now().timestamp_millis();
                let read = crate::steps::invitations::ClerkInvitations::read(clerk, now_ms);
                let invitations = runtime.block_on(read)?;
                let journal = match plan.state.exists() {
                    true => Some(Journal::open_to_read(&plan.state)?),
                    false => None,
                };
                Some(
                    invitations
                        .invitations
                        .iter()
                        .filter(|i| i.status == crate::mapping::invitation::Status::Pending)
                        .filter(|i| {
                            journal
                                .as_ref()
                                .and_then(|j| j.written_id(Kind::Invitation, &i.id))
                                .is_none()
                        })
                        .count() as u64,
                )
            }
            _ => None,
        };
        Ok(WriteEstimate {
            clerk_users,
            settled_users,
            invitation_emails,
        })
    }

    /// The assessment alone, from the source (WorkOS is not needed).
    pub fn assess(&self) -> Result<Assessment> {
        let clerk = connect::clerk(&self.project.plan, &self.cancel)?;
        let runtime = runtime()?;
        self.observer.event(&Event::PreflightStarted);
        let findings =
            runtime.block_on(preflight::check(&self.project.plan, clerk.as_ref(), None))?;
        self.observer.event(&Event::Preflight {
            findings: &findings,
        });
        self.observer.event(&Event::StepStarted {
            step: StepKind::Assess,
        });
        let started = Instant::now();
        let outcome = runtime.block_on(crate::steps::assess::stage::assess(
            self.project,
            clerk.as_ref(),
            None,
            self.observer,
        ))?;
        self.observer.event(&Event::StepFinished {
            step: StepKind::Assess,
            duration_ms: started.elapsed().as_millis() as u64,
            outcome: &outcome,
        });
        match outcome {
            StepOutcome::Assess(assessment) => Ok(*assessment),
            _ => unreachable!("the assess stage assesses"),
        }
    }

    /// The verification checklist alone, against WorkOS as it is now.
    pub fn verify(&self) -> Result<Verification> {
        let plan = &self.project.plan;
        let workos = connect::workos(plan, &self.cancel)?;
        let clerk = connect::clerk(plan, &self.cancel)?;
        require_journal(plan)?;
        Journal::mark_dead_runs(&plan.state)?;
        let journal = Journal::open_to_read(&plan.state)?;
        check_bindings(&journal, plan, false)?;
        let runtime = runtime()?;
        resume_after_crash(&runtime, plan, &workos)?;
        let reader = Mutex::new(journal);
        let outcome = runtime.block_on(crate::steps::verify::stage::verify(
            self.project,
            &workos,
            crate::source::read::Sources::of(&plan.source, clerk.as_ref()),
            &reader,
            None,
            true,
        ))?;
        match outcome {
            StepOutcome::Verify(verification) => Ok(verification),
            _ => unreachable!("the verify stage verifies"),
        }
    }

    /// Password sign-ins on the target since `since` (the journal's first
    /// run when absent), by the cohort the journal recorded for each user
    /// ([`crate::watch`]).
    pub fn watch(
        &self,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<crate::watch::Health> {
        use crate::watch;
        let plan = &self.project.plan;
        let workos = connect::workos(plan, &self.cancel)?;
        require_journal(plan)?;
        let journal = Journal::open_to_read(&plan.state)?;
        check_bindings(&journal, plan, false)?;
        let first_run = journal
            .runs()?
            .first()
            .and_then(|run| chrono::DateTime::parse_from_rfc3339(&run.started_at).ok())
            .map(|at| at.with_timezone(&chrono::Utc));
        let asked = since
            .or(first_run)
            .unwrap_or_else(|| chrono::Utc::now() - chrono::Duration::days(watch::RETENTION_DAYS));
        let (since, since_moved) = watch::within_retention(asked, chrono::Utc::now());
        let probes = journal.probe_user_ids()?;
        let mut attempts = runtime()?
            .block_on(watch::attempts(&workos, since))
            .map_err(crate::steps::error::StepError::from)?;
        // The hash probes' own sign-ins say nothing of a cohort's users.
        attempts.retain(|attempt| {
            attempt
                .user_id
                .as_ref()
                .is_none_or(|id| !probes.contains(id))
        });
        let signed: std::collections::HashSet<&str> = attempts
            .iter()
            .filter_map(|attempt| attempt.user_id.as_deref())
            .collect();
        let cohorts: std::collections::HashMap<String, watch::UserCohort> = journal
            .user_cohorts(|id| signed.contains(id))?
            .into_iter()
            .map(|(id, hasher, signs_in)| (id, watch::UserCohort { hasher, signs_in }))
            .collect();
        Ok(watch::Health {
            since: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            since_moved,
            retention_days: watch::RETENTION_DAYS,
            rule: watch::rule(),
            cohorts: watch::tally(&attempts, &cohorts),
        })
    }

    /// A fresh Admin Portal link for one organization: `organization` is
    /// a Clerk organization id the journal maps to the WorkOS one ferry
    /// made, or a WorkOS organization id. The link is a bearer credential
    /// valid for minutes: returned for the one place that shows it, never
    /// journaled or logged. Returns the WorkOS organization id and the link.
    pub fn portal_link(&self, organization: &str, intent: &str) -> Result<(String, Secret)> {
        let plan = &self.project.plan;
        let workos = connect::workos(plan, &self.cancel)?;
        let mapped = match plan.state.exists() {
            true => Journal::open_to_read(&plan.state)?
                .id_map(crate::journal::Kind::Organization)?
                .into_iter()
                .find(|(clerk, _)| clerk == organization)
                .map(|(_, workos)| workos),
            false => None,
        };
        let organization = mapped.unwrap_or_else(|| organization.to_owned());
        let link = match runtime()?.block_on(workos.portal_link(&organization, intent)) {
            Ok(link) => link,
            // A refusal is about what was asked (an organization WorkOS
            // does not have): said as such, not as an outage.
            Err(error) if error.status().is_some_and(|s| (400..500).contains(&s)) => {
                return Err(Refusal::NoPortalLink {
                    organization: ferry_wire::inert::printable(&organization).into_owned(),
                    reason: error.reason(),
                }
                .into());
            }
            Err(error) => return Err(crate::steps::error::StepError::from(error).into()),
        };
        // From here on, no text ferry prints or stores can carry it by accident.
        ferry_wire::redact::hold_forever(&link);
        // It goes to a terminal as is: an answer that is not one URL is refused.
        let text = link.expose();
        if text.is_empty() || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(crate::steps::error::StepError::Unreadable(
                "WorkOS answered the portal link request with something that is not one link",
            )
            .into());
        }
        Ok((organization, link))
    }

    /// The preflight of a command that writes (or previews writing) to
    /// WorkOS; a plan with `memberships` and no `roles` step also needs
    /// every role those memberships name to exist in WorkOS already.
    async fn preflight(
        &self,
        clerk: Option<&ClerkClient>,
        workos: &WorkosClient,
        dry_run: bool,
    ) -> Result<Vec<preflight::Finding>> {
        let project = self.project;
        let plan = &project.plan;
        self.observer.event(&Event::PreflightStarted);
        let mut findings = preflight::check(plan, clerk, Some(workos)).await?;
        if let (Some(_), Some(clerk), false) = (
            plan.step(StepKind::Memberships),
            clerk,
            plan.has(StepKind::Roles),
        ) {
            let needed = crate::steps::roles::needed::needed_roles(
                clerk,
                &crate::mapping::role::RoleMapper::of(project, dry_run),
                project.script.as_ref(),
                &project.hook_context(StepKind::Memberships, dry_run),
            )
            .await
            .map_err(Error::from)?;
            findings.push(preflight::roles(workos, &needed).await?);
        }
        Ok(findings)
    }

    /// The first Ctrl-C or SIGTERM stops the run (waits end at once, nothing
    /// new starts, what is in flight finishes); a second one ends the
    /// process. Each request is also sent on the returned channel, so the
    /// engine can tell the observer.
    fn stop_on_ctrl_c(&self, runtime: &tokio::runtime::Runtime) -> mpsc::UnboundedReceiver<()> {
        let cancel = self.cancel.clone();
        let (tx, rx) = mpsc::unbounded_channel();
        runtime.spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut terminate) = signal(SignalKind::terminate()) else {
                return;
            };
            let mut asked = 0;
            loop {
                tokio::select! {
                    result = tokio::signal::ctrl_c() => if result.is_err() { return },
                    _ = terminate.recv() => {}
                }
                asked += 1;
                if asked > 1 {
                    std::process::exit(130);
                }
                cancel.cancel();
                let _ = tx.send(());
            }
        });
        rx
    }

    /// Drives a step to its end, telling the observer of stop requests meanwhile.
    async fn until_done<T>(
        &self,
        step: impl std::future::Future<Output = T>,
        stops: &mut mpsc::UnboundedReceiver<()>,
    ) -> T {
        let mut step = std::pin::pin!(step);
        loop {
            tokio::select! {
                biased;
                out = &mut step => return out,
                Some(()) = stops.recv() => self.observer.event(&Event::Stopping),
            }
        }
    }
}

/// Refuses a journal made against another source or target; `bind` records
/// the plan's identities in a journal that has none yet.
/// Refuses a command that reads a journal when the plan's `state:` has none yet.
fn require_journal(plan: &crate::plan::Plan) -> Result<()> {
    match plan.state.exists() {
        true => Ok(()),
        false => Err(Refusal::NoJournal {
            journal: plan.state.clone(),
        }
        .into()),
    }
}

fn check_bindings(journal: &Journal, plan: &crate::plan::Plan, bind: bool) -> Result<()> {
    let (source, target) = connect::identities(plan);
    journal.check_binding(&source, bind)?;
    if let Some(target) = target {
        journal.check_binding(&target, bind)?;
    }
    Ok(())
}

/// Enables the endpoints this run or undo paused. After Ctrl-C the run's
/// client sends nothing more, so a fresh one does it.
fn resume_webhooks(
    runtime: &tokio::runtime::Runtime,
    plan: &crate::plan::Plan,
    journal: &Journal,
) -> Result<()> {
    let client = connect::workos(plan, &Cancel::default())?;
    runtime.block_on(webhooks::resume_leftover(journal, &client))?;
    Ok(())
}

/// Enables the webhook endpoints a crashed run paused, when no run is
/// alive on the journal (a live run enables its own when it ends).
fn resume_after_crash(
    runtime: &tokio::runtime::Runtime,
    plan: &crate::plan::Plan,
    workos: &WorkosClient,
) -> Result<()> {
    match Journal::open_for_run(&plan.state) {
        Ok(journal) => {
            runtime.block_on(webhooks::resume_leftover(&journal, workos))?;
            Ok(())
        }
        Err(crate::journal::JournalError::Busy { .. }) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The async runtime every engine call runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start", "the async runtime", e))
}
