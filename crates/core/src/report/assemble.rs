//! Assembling a run's report: a [`StepReport`] per step (counts, the first
//! failures from the journal, the lists), and the [`Report`] of the whole
//! run, with its endpoints, accounting, steps not run and next steps. The
//! engine hands over what it ran; everything the report says is decided here.

use std::sync::Mutex;

use crate::journal::{Action, Journal, Kind, RunRecord};
use crate::plan::{Plan, StepKind};
use crate::report::assessment::human_duration;
use crate::report::model::{
    Count, Failure, ListFile, PlanInfo, ReasonCount, Report, RunInfo, StepReport,
};
use crate::report::outcome::{Section, StepOutcome};

/// How many failed or rejected records a step's report names.
const FAILURES_SHOWN: usize = 50;

/// The report's section for one step.
pub fn step_report(
    name: &str,
    outcome: &StepOutcome,
    duration_ms: u64,
    traffic: crate::http::TrafficCounts,
    reader: &Mutex<Journal>,
) -> StepReport {
    let base = StepReport {
        name: name.to_owned(),
        duration: human_duration(duration_ms as f64 / 1000.0),
        duration_ms,
        traffic,
        ..StepReport::default()
    };
    let count = |label: &str, count: u64| Count {
        label: label.to_owned(),
        count,
    };
    match outcome {
        StepOutcome::Assess(assessment) => StepReport {
            counts: vec![count("users assessed", assessment.users)],
            notes: assessment.needs_a_person.clone(),
            ..base
        },
        StepOutcome::Records {
            main,
            tally,
            lists,
            notes,
            ..
        } => {
            let counts = Action::ALL
                .into_iter()
                .map(|action| count(action.as_str(), tally.get(*main, action)))
                .filter(|c| c.count > 0)
                .collect();
            let (failures, failures_total) = first_failures(*main, reader);
            let reasons = reader
                .lock()
                .expect("journal lock")
                .reason_counts(*main)
                .unwrap_or_default()
                .into_iter()
                .map(|(action, code, count)| ReasonCount {
                    action: action.as_str().to_owned(),
                    code,
                    count,
                })
                .collect();
            let records: u64 = Action::ALL
                .into_iter()
                .map(|action| tally.get(*main, action))
                .sum();
            StepReport {
                records,
                per_second: (duration_ms > 0 && records > 0).then(|| records * 1000 / duration_ms),
                counts,
                reasons,
                failures,
                failures_total,
                lists: lists.clone(),
                notes: notes.clone(),
                ..base
            }
        }
        StepOutcome::MfaReport(summary) => {
            let flags: u64 = summary.sign_in_flags.values().sum();
            StepReport {
                counts: vec![count("users to notify", summary.users_to_notify)],
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
                ..base
            }
        }
        StepOutcome::Verify(verification) => StepReport {
            counts: vec![count(
                if verification.passed {
                    "checks passed"
                } else {
                    "checks FAILED"
                },
                verification.checks.len() as u64,
            )],
            ..base
        },
        StepOutcome::Previewed { .. } | StepOutcome::NotPreviewed => base,
    }
}

/// The first failed and rejected records of a kind, and how many there are.
fn first_failures(kind: Kind, reader: &Mutex<Journal>) -> (Vec<Failure>, u64) {
    let journal = reader.lock().expect("journal lock");
    let mut failures = Vec::new();
    let mut total = 0;
    for action in [Action::Failed, Action::Rejected] {
        let records = journal.records_with(kind, action).unwrap_or_default();
        total += records.len() as u64;
        failures.extend(
            records
                .into_iter()
                .take(FAILURES_SHOWN)
                .map(|(id, state)| Failure {
                    id,
                    action: action.as_str().to_owned(),
                    code: state.reason.as_ref().map(|r| r.code),
                    reason: state.reason.map(|r| r.detail).unwrap_or_default(),
                }),
        );
    }
    (failures, total)
}

/// What the whole run says, in words.
pub fn outcome_words(interrupted: bool, failed: u64, verified: bool) -> String {
    match (interrupted, failed, verified) {
        (true, _, _) => "interrupted".to_owned(),
        (false, 0, true) => "finished".to_owned(),
        (false, 0, false) => "finished; verification failed".to_owned(),
        (false, n, _) => format!("finished with {n} failed records"),
    }
}

/// The run's report, from its journal entry and what each step came to.
fn run_report(
    plan: &Plan,
    run: &RunRecord,
    outcome: String,
    steps: Vec<StepReport>,
    outcomes: &[StepOutcome],
) -> Report {
    let mut report = Report {
        ferry_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        plan: PlanInfo {
            name: plan.name.clone(),
            revision: plan.revision,
            checksum: plan.checksum.combined.clone(),
            path: absolute(&plan.path),
        },
        run: RunInfo {
            id: run.id,
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            status: run.status.as_str().to_owned(),
            outcome,
        },
        assessment: None,
        steps,
        mfa: None,
        sso: None,
        invitations: None,
        verification: None,
        people: Vec::new(),
        endpoints: Vec::new(),
        accounting: None,
        not_run: Vec::new(),
        next_steps: Vec::new(),
    };
    for outcome in outcomes {
        match outcome {
            StepOutcome::Assess(assessment) => report.assessment = Some((**assessment).clone()),
            StepOutcome::MfaReport(summary) => report.mfa = Some(summary.clone()),
            StepOutcome::Records {
                section: Some(section),
                ..
            } => match &**section {
                Section::Sso(sso) => report.sso = Some(sso.clone()),
                Section::Invitations(summary) => report.invitations = Some(summary.clone()),
            },
            StepOutcome::Verify(verification) => report.verification = Some(verification.clone()),
            _ => {}
        }
    }
    report
}

/// `path` as an absolute path, so a report opened elsewhere still finds
/// the files it names (nothing is resolved on disk: no symlink is followed).
pub fn absolute(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// The lists' and notices' paths of `report`, made absolute.
fn absolute_paths(report: &mut Report) {
    let fix = |path: &mut String| *path = absolute(std::path::Path::new(path.as_str()));
    for step in &mut report.steps {
        step.lists.iter_mut().for_each(|list| fix(&mut list.path));
    }
    report
        .people
        .iter_mut()
        .for_each(|list| fix(&mut list.path));
    if let Some(mfa) = &mut report.mfa {
        for path in [
            &mut mfa.notices_dir,
            &mut mfa.notify_csv,
            &mut mfa.sign_in_csv,
        ] {
            *path = std::path::PathBuf::from(absolute(path));
        }
    }
}

/// The Clerk and WorkOS endpoints of a run: URL, environment, client id
/// and what was sent to each. The keys only say which environment they
/// open (`sk_live_`), never more.
fn endpoints(
    plan: &Plan,
    clerk: Option<&crate::clerk::client::ClerkClient>,
    workos: &crate::workos::client::WorkosClient,
) -> Vec<crate::report::model::Endpoint> {
    use crate::report::model::Endpoint;
    let live = |key: &ferry_wire::secret::Secret, live: &str, test: &str| {
        if key.expose().starts_with("sk_live_") {
            live.to_owned()
        } else {
            test.to_owned()
        }
    };
    let mut out = Vec::new();
    if let Some(clerk) = clerk {
        out.push(Endpoint {
            role: "source".into(),
            service: "Clerk".into(),
            api_url: plan.source.api_url.clone(),
            environment: plan
                .source
                .secret_key
                .as_ref()
                .map_or_else(String::new, |key| {
                    live(
                        key,
                        "production instance (sk_live_ key)",
                        "development instance (sk_test_ key)",
                    )
                }),
            client_id: None,
            traffic: clerk.traffic(),
        });
    }
    if let Some(target) = plan.target.as_ref() {
        out.push(Endpoint {
            role: "target".into(),
            service: "WorkOS".into(),
            api_url: target.api_url.clone(),
            environment: target.api_key.as_ref().map_or_else(String::new, |key| {
                live(
                    key,
                    "production environment (sk_live_ key)",
                    "test environment: staging or sandbox (sk_test_ key)",
                )
            }),
            client_id: target.client_id.clone(),
            traffic: workos.traffic(),
        });
    }
    out
}

/// What a run hands over for its report.
pub struct RunClosed<'a> {
    pub plan: &'a Plan,
    pub run: &'a RunRecord,
    /// The run's outcome in words.
    pub outcome: String,
    /// Each step that finished, as its report section.
    pub steps: Vec<StepReport>,
    pub outcomes: &'a [StepOutcome],
    /// The steps the run meant to run, in order.
    pub planned: &'a [StepKind],
    pub people: Vec<crate::report::model::PeopleList>,
    pub clerk: Option<&'a crate::clerk::client::ClerkClient>,
    pub workos: &'a crate::workos::client::WorkosClient,
    /// The journal's users by how they sign in (when the plan has users).
    pub user_groups: Option<Vec<crate::journal::UserGroup>>,
    /// `run` or `sync`: what the next steps suggest.
    pub command: &'static str,
}

/// The whole report of a finished (or stopped) run.
pub fn run(closed: RunClosed<'_>) -> Report {
    let mut report = run_report(
        closed.plan,
        closed.run,
        closed.outcome,
        closed.steps,
        closed.outcomes,
    );
    report.people = closed.people;
    absolute_paths(&mut report);
    report.endpoints = endpoints(closed.plan, closed.clerk, closed.workos);
    if let Some(groups) = &closed.user_groups {
        let clerk_side = closed.outcomes.iter().find_map(|outcome| match outcome {
            StepOutcome::Records {
                main: Kind::User,
                clerk,
                ..
            } => *clerk,
            _ => None,
        });
        report.accounting = Some(crate::report::accounting::account(groups, clerk_side));
    }
    report.not_run = closed
        .planned
        .iter()
        .map(|kind| kind.name())
        .filter(|name| !report.steps.iter().any(|step| step.name == *name))
        .map(str::to_owned)
        .collect();
    report.next_steps = crate::report::next::next_steps(&report, closed.command);
    report
}
