//! `ferry run PLAN`: does the migration, resumably.
//!
//! Asks before writing unless `--yes` (and refuses to guess without a
//! terminal), refuses a second run on the same journal, and refuses to
//! continue an interrupted run with a changed plan unless told to. Runs the
//! plan's steps in order and ends with a summary and the lists a person
//! needs (failures, skipped users, password resets, MFA notices).

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::sync::Mutex;

use crate::clerk::client::ClerkClient;
use crate::connect;
use crate::error::{Error, ExitStatus, Result};
use crate::journal::{Action, Journal, Kind, RunStatus};
use crate::mapping::user::UserSettings;
use crate::output::{self, Painter};
use crate::plan::schema::{
    MembershipsOptions, MfaReportOptions, OrganizationsOptions, UsersOptions,
};
use crate::plan::{LoadOptions, Step};
use crate::project::Project;
use crate::report::{
    self, Count, Failure as ReportFailure, ListFile, PlanInfo, Report, RunInfo, StepReport,
};
use crate::source::read::Sources;
use crate::steps::assess::{AssessStep, Assessment, human_duration};
use crate::steps::memberships::{MembershipsStep, read_memberships};
use crate::steps::mfa_report::MfaReportStep;
use crate::steps::mfa_report::MfaSummary;
use crate::steps::organizations::{OrganizationsStep, read_organizations};
use crate::steps::recorder::{RunLists, Tally};
use crate::steps::users::{Mode, UsersStep};
use crate::steps::verify::{Verification, VerifyStep};
use crate::steps::{self, Cancel, Pumped, Sink};
use crate::workos::WorkosClient;
use std::time::Instant;

pub struct RunSettings<'a> {
    pub plan: &'a Path,
    pub yes: bool,
    pub allow_changed_plan: bool,
}

pub fn run(settings: RunSettings<'_>) -> Result<ExitStatus> {
    let project = Project::open(settings.plan, LoadOptions::for_use())?;
    run_project(&project, settings)
}

/// Runs a loaded project (`ferry demo` adjusts one in memory first).
pub fn run_project(project: &Project, settings: RunSettings<'_>) -> Result<ExitStatus> {
    let plan = &project.plan;
    let workos = connect::workos(plan)?;
    let clerk = connect::clerk(plan)?;

    if !settings.yes && !confirm(project)? {
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

    let runtime = runtime()?;
    let cancel = Cancel::default();
    let on_signal = cancel.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nstopping: finishing the requests in flight (Ctrl-C again to force)");
            on_signal.cancel();
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(130);
        }
    });

    let reader = Mutex::new(Journal::open_to_read(&plan.state)?);
    let painter = Painter::stdout();
    println!(
        "{} run {run_id} of {} (revision {})",
        painter.strong("ferry"),
        plan.name,
        plan.revision
    );
    let mut runner = Runner {
        project,
        workos: &workos,
        clerk: clerk.as_ref(),
        reader: &reader,
        journal: Some(journal),
        run_id,
        cancel: &cancel,
        runtime: &runtime,
        painter,
        failed: 0,
        steps: Vec::new(),
        assessment: None,
        mfa: None,
        verification: None,
    };
    for step in &plan.steps {
        let started = Instant::now();
        let report = match step {
            Step::Assess(_) => runner.assess()?,
            Step::Users(options) => runner.users(options)?,
            Step::Organizations(options) => runner.organizations(options)?,
            Step::Memberships(options) => runner.memberships(options)?,
            Step::MfaReport(options) => runner.mfa_report(options)?,
            Step::Verify(_) => runner.verify()?,
        };
        runner.steps.push(StepReport {
            name: step.name().to_owned(),
            duration: human_duration(started.elapsed().as_secs_f64()),
            duration_ms: started.elapsed().as_millis() as u64,
            ..report
        });
        if cancel.is_cancelled() {
            break;
        }
    }

    let failed = runner.failed;
    let verified = runner.verification.as_ref().is_none_or(|v| v.passed);
    let journal = runner.journal.take().expect("the journal");
    let interrupted = cancel.is_cancelled();
    let status = match (interrupted, failed) {
        (true, _) => RunStatus::Interrupted,
        (false, 0) => RunStatus::Finished,
        (false, _) => RunStatus::FinishedWithFailures,
    };
    journal.finish_run(run_id, status)?;
    let outcome = match (interrupted, failed, verified) {
        (true, _, _) => "interrupted".to_owned(),
        (false, 0, true) => "finished".to_owned(),
        (false, 0, false) => "finished; verification failed".to_owned(),
        (false, n, _) => format!("finished with {n} failed records"),
    };
    let run = journal.run(run_id)?.expect("the run just recorded");
    let report = Report {
        ferry_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        plan: PlanInfo {
            name: plan.name.clone(),
            revision: plan.revision,
            checksum: plan.checksum.combined.clone(),
            path: plan.path.display().to_string(),
        },
        run: RunInfo {
            id: run.id,
            started_at: run.started_at,
            finished_at: run.finished_at,
            status: serde_json::to_value(run.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            outcome,
        },
        assessment: runner.assessment.take(),
        steps: std::mem::take(&mut runner.steps),
        mfa: runner.mfa.take(),
        verification: runner.verification.take(),
    };
    journal.save_report(run_id, &serde_json::to_string(&report).unwrap_or_default())?;
    let written = report::write_all(
        &report,
        &plan.report.dir,
        &plan.report.formats,
        plan.report.templates.as_deref(),
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    for path in &written {
        println!("report: {}", path.display());
    }
    println!("journal: {} (run {run_id})", plan.state.display());
    Ok(if interrupted {
        println!(
            "interrupted: `ferry run {}` resumes",
            settings.plan.display()
        );
        ExitStatus::Aborted
    } else if failed > 0 {
        ExitStatus::RecordsFailed
    } else if !verified {
        ExitStatus::ProblemFound
    } else {
        ExitStatus::Success
    })
}

/// What every step of one run shares.
struct Runner<'a> {
    project: &'a Project,
    workos: &'a WorkosClient,
    clerk: Option<&'a ClerkClient>,
    /// A read connection for lookups; writes go through the recorder.
    reader: &'a Mutex<Journal>,
    /// The write connection, lent to each step's recorder in turn.
    journal: Option<Journal>,
    run_id: i64,
    cancel: &'a Cancel,
    runtime: &'a tokio::runtime::Runtime,
    painter: Painter,
    failed: u64,
    /// What the report will say, gathered step by step.
    steps: Vec<StepReport>,
    assessment: Option<Assessment>,
    mfa: Option<MfaSummary>,
    verification: Option<Verification>,
}

impl<'a> Runner<'a> {
    fn sink(&mut self, label: &str, total: Option<u64>) -> (Sink<'a>, indicatif::ProgressBar) {
        let plan = &self.project.plan;
        let progress = output::progress_bar(total, label);
        let sink = Sink {
            journal: self.journal.take().expect("the journal"),
            run_id: self.run_id,
            // The users step's lists are the ones people ask for; the others say their step.
            lists: RunLists::new(
                &plan.report.dir,
                &match label {
                    "users" => format!("{}-run-{}", plan.name, self.run_id),
                    step => format!("{}-run-{}-{step}", plan.name, self.run_id),
                },
            ),
            progress: progress.clone(),
            concurrency: connect::concurrency(plan),
            cancel: self.cancel,
        };
        (sink, progress)
    }

    /// Takes the journal back and the step's counts.
    fn finish<R>(
        &mut self,
        pumped: Pumped<R>,
        progress: indicatif::ProgressBar,
    ) -> (R, Tally, RunLists) {
        progress.finish_and_clear();
        self.journal = Some(pumped.journal);
        self.failed += pumped.tally.failed();
        (pumped.read, pumped.tally, pumped.lists)
    }

    fn clerk(&self, step: &str) -> Result<&'a ClerkClient> {
        self.clerk.ok_or_else(|| {
            Error::Usage(format!(
                "the `{step}` step reads Clerk's API: the plan needs source.clerk.secret_key"
            ))
        })
    }

    fn sources(&self) -> Sources<'a> {
        Sources::of(&self.project.plan.source, self.clerk)
    }

    /// Counts and the first failures of one kind, for the report.
    fn step_report(&self, tally: &Tally, kind: Kind, lists: &RunLists) -> StepReport {
        let counts = Action::ALL
            .into_iter()
            .map(|action| Count {
                label: action.as_str().to_owned(),
                count: tally.get(kind, action),
            })
            .filter(|c| c.count > 0)
            .collect();
        let journal = self.reader.lock().expect("journal lock");
        let mut failures = Vec::new();
        let mut failures_total = 0;
        for action in [Action::Failed, Action::Rejected] {
            let records = journal.records_with(kind, action).unwrap_or_default();
            failures_total += records.len() as u64;
            failures.extend(
                records
                    .into_iter()
                    .take(50)
                    .map(|(id, state)| ReportFailure {
                        id,
                        action: action.as_str().to_owned(),
                        reason: state.reason.unwrap_or_default(),
                    }),
            );
        }
        let lists = [
            ("failures", &lists.failures),
            ("skipped", &lists.skipped),
            ("password resets needed", &lists.password_resets),
        ]
        .into_iter()
        .filter(|(_, list)| list.rows() > 0)
        .map(|(label, list)| ListFile {
            label: label.to_owned(),
            path: list.path().display().to_string(),
            rows: list.rows(),
        })
        .collect();
        StepReport {
            counts,
            failures,
            failures_total,
            lists,
            ..StepReport::default()
        }
    }

    fn assess(&mut self) -> Result<StepReport> {
        let step = AssessStep {
            plan: &self.project.plan,
        };
        let assessment = self
            .runtime
            .block_on(step.run(self.sources(), self.clerk))?;
        println!(
            "assess: {} users, {} organizations, {} memberships; {}",
            assessment.users,
            assessment.organizations,
            assessment.memberships,
            assessment.estimate.human
        );
        for line in &assessment.needs_a_person {
            println!("  needs a person: {line}");
        }
        let report = StepReport {
            counts: vec![Count {
                label: "users assessed".into(),
                count: assessment.users,
            }],
            notes: assessment.needs_a_person.clone(),
            ..StepReport::default()
        };
        self.assessment = Some(assessment);
        Ok(report)
    }

    fn verify(&mut self) -> Result<StepReport> {
        let step = VerifyStep {
            plan: &self.project.plan,
            script: self.project.script.as_ref(),
            users_ctx: self.project.hook_context("users", false),
            memberships_ctx: self.project.hook_context("memberships", false),
            workos: self.workos,
            clerk: self.clerk,
            journal: self.reader,
            api_key: self
                .project
                .plan
                .target
                .as_ref()
                .and_then(|t| t.api_key.clone())
                .unwrap_or_default(),
        };
        let verification = self.runtime.block_on(step.run(self.sources()))?;
        super::verify::print(&verification, &self.painter);
        let report = StepReport {
            counts: vec![Count {
                label: if verification.passed {
                    "checks passed".into()
                } else {
                    "checks FAILED".into()
                },
                count: verification.checks.len() as u64,
            }],
            ..StepReport::default()
        };
        self.verification = Some(verification);
        Ok(report)
    }

    fn users(&mut self, options: &UsersOptions) -> Result<StepReport> {
        let step = UsersStep {
            settings: UserSettings::from_options(options),
            script: self.project.script.as_ref(),
            ctx: self.project.hook_context("users", false),
            workos: Some(self.workos),
            journal: self.reader,
            mode: Mode::Write,
            claims: Default::default(),
        };
        let (sink, progress) = self.sink("users", None);
        let set_length = |total: u64| progress.set_length(total);
        let sources = Sources {
            on_total: Some(&set_length),
            ..self.sources()
        };
        let pumped = self
            .runtime
            .block_on(steps::run_users(&step, sources, sink))?;
        let (stats, tally, lists) = self.finish(pumped, progress);
        let count = |action| output::thousands(tally.get(Kind::User, action));
        let failed = tally.get(Kind::User, Action::Failed);
        println!(
            "users: {} created, {} updated, {} adopted, {} unchanged, {} skipped, {} rejected, {} failed",
            count(Action::Created),
            count(Action::Updated),
            count(Action::Adopted),
            count(Action::Unchanged),
            count(Action::Skipped),
            count(Action::Rejected),
            if failed > 0 {
                self.painter.error(&count(Action::Failed))
            } else {
                count(Action::Failed)
            },
        );
        let totp = |action| tally.get(Kind::TotpFactor, action);
        if [
            Action::Created,
            Action::Adopted,
            Action::Unchanged,
            Action::Failed,
        ]
        .iter()
        .any(|a| totp(*a) > 0)
        {
            println!(
                "totp factors: {} enrolled, {} already there, {} failed",
                totp(Action::Created),
                totp(Action::Adopted) + totp(Action::Unchanged),
                totp(Action::Failed)
            );
        }
        if let Some(missing) = stats.short_read() {
            println!(
                "{}: Clerk counted {missing} more users than its listing returned; run again to pick them up",
                self.painter.warning("warning")
            );
        }
        print_lists(&lists);
        Ok(self.step_report(&tally, Kind::User, &lists))
    }

    fn organizations(&mut self, options: &OrganizationsOptions) -> Result<StepReport> {
        let clerk = self.clerk("organizations")?;
        let step = OrganizationsStep {
            options: options.clone(),
            script: self.project.script.as_ref(),
            ctx: self.project.hook_context("organizations", false),
            workos: self.workos,
            journal: self.reader,
        };
        let (sink, progress) = self.sink("organizations", None);
        let pumped = self.runtime.block_on(steps::pump(
            sink,
            async |tx| read_organizations(clerk, tx).await,
            |org| {
                let step = &step;
                async move { step.write(&org).await }
            },
        ))?;
        let (_, tally, lists) = self.finish(pumped, progress);
        print_counts("organizations", &tally, Kind::Organization);
        print_lists(&lists);
        Ok(self.step_report(&tally, Kind::Organization, &lists))
    }

    fn memberships(&mut self, options: &MembershipsOptions) -> Result<StepReport> {
        let clerk = self.clerk("memberships")?;
        let step = MembershipsStep {
            roles: options.roles.clone(),
            script: self.project.script.as_ref(),
            ctx: self.project.hook_context("memberships", false),
            workos: self.workos,
            journal: self.reader,
        };
        let (sink, progress) = self.sink("memberships", None);
        let (workos, reader) = (self.workos, self.reader);
        let pumped = self.runtime.block_on(steps::pump(
            sink,
            async |tx| read_memberships(clerk, workos, reader, tx).await,
            |item| step.write(item),
        ))?;
        let (_, tally, lists) = self.finish(pumped, progress);
        print_counts("memberships", &tally, Kind::Membership);
        print_lists(&lists);
        Ok(self.step_report(&tally, Kind::Membership, &lists))
    }

    fn mfa_report(&mut self, options: &MfaReportOptions) -> Result<StepReport> {
        let plan = &self.project.plan;
        let step = MfaReportStep {
            plan_name: plan.name.clone(),
            template: options.notice_template.as_ref().map(|p| plan.dir().join(p)),
            out_dir: options
                .out_dir
                .as_ref()
                .map(|p| plan.dir().join(p))
                .unwrap_or_else(|| plan.report.dir.join("notices")),
            report_dir: plan.report.dir.clone(),
            enabled_providers: plan
                .target
                .as_ref()
                .map(|t| t.oauth_providers.clone())
                .unwrap_or_default(),
            journal: self.reader,
        };
        let summary = self
            .runtime
            .block_on(step.run(self.sources()))
            .map_err(|e| Error::Usage(e.to_string()))?;
        println!(
            "mfa: {} to notify ({} sms, {} totp not exported, {} totp not imported, {} backup codes); {} totp factors moved",
            summary.users_to_notify,
            summary.sms,
            summary.totp_not_exported,
            summary.totp_not_imported,
            summary.backup_codes,
            summary.totp_migrated
        );
        println!(
            "  notices in {}, list in {}",
            summary.notices_dir.display(),
            summary.notify_csv.display()
        );
        let flags: u64 = summary.sign_in_flags.values().sum();
        if flags > 0 {
            let parts: Vec<_> = summary
                .sign_in_flags
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            println!(
                "sign-in flags: {} in {}",
                parts.join(", "),
                summary.sign_in_csv.display()
            );
        }
        let report = StepReport {
            counts: vec![Count {
                label: "users to notify".into(),
                count: summary.users_to_notify,
            }],
            lists: vec![
                ListFile {
                    label: "users to notify".into(),
                    path: summary.notify_csv.display().to_string(),
                    rows: summary.users_to_notify,
                },
                ListFile {
                    label: "sign-in flags".into(),
                    path: summary.sign_in_csv.display().to_string(),
                    rows: flags,
                },
            ],
            ..StepReport::default()
        };
        self.mfa = Some(summary);
        Ok(report)
    }
}

fn print_counts(label: &str, tally: &Tally, kind: Kind) {
    let parts: Vec<String> = Action::ALL
        .into_iter()
        .map(|action| {
            format!(
                "{} {}",
                output::thousands(tally.get(kind, action)),
                action.as_str()
            )
        })
        .collect();
    println!("{label}: {}", parts.join(", "));
}

fn print_lists(lists: &RunLists) {
    for (label, list) in [
        ("failures", &lists.failures),
        ("skipped", &lists.skipped),
        ("password resets needed", &lists.password_resets),
    ] {
        if list.rows() > 0 {
            println!("  {label}: {} in {}", list.rows(), list.path().display());
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
