//! Each plan step as a [`Stage`]: the glue from the plan's options and the
//! run's context to the step's logic in [`crate::steps`]. Nothing here
//! decides anything about a record; it only wires.

use crate::steps::users::seal::{SealedUsers, Sealer, Seals};
use crate::support::reason::{Reason, ReasonCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::LocalBoxFuture;

use super::stage::{PreviewContext, RunContext, Stage};
use crate::clerk::client::ClerkClient;
use crate::commands::project::Project;
use crate::error::Result;
use crate::journal::{Journal, Kind};
use crate::observe::Event;
use crate::plan::{
    MfaReportSettings, OrganizationSettings, RoleSettings, Step, StepKind, UserSettings,
};
use crate::report::accounting::ClerkSide;
use crate::report::outcome::{Planned, PlannedAction, StepOutcome, Tally};
use crate::source::read::Sources;
use crate::source::shared_users::SharedUsers;
use crate::steps::assess::AssessStep;
use crate::steps::ended::Ended;
use crate::steps::error::StepError;
use crate::steps::memberships::{MembershipsStep, read_memberships};
use crate::steps::mfa_report::MfaReportStep;
use crate::steps::organizations::{OrganizationsStep, read_domains, read_organizations};
use crate::steps::pump::{self, Sink};
use crate::steps::recorder::{Recorded, RunLists, Target};
use crate::steps::roles::{RolesStep, read_roles};
use crate::steps::users::{self, Mode, UsersStep};
use crate::steps::verify::VerifyStep;
use crate::target::reconcile;
use crate::workos::client::WorkosClient;

/// The stage for one step of the plan.
pub fn stage(step: &Step) -> Box<dyn Stage + '_> {
    match step {
        Step::Assess => Box::new(Assess),
        Step::Users(settings) => Box::new(Users(settings)),
        Step::Organizations(settings) => Box::new(Organizations(settings)),
        Step::Roles(settings) => Box::new(Roles(settings)),
        Step::Memberships => Box::new(Memberships),
        Step::MfaReport(settings) => Box::new(MfaReport(settings)),
        Step::Verify(_) => Box::new(Verify),
    }
}

/// The sink of a step that writes records: its lists are named after the
/// run (the users step's are the ones people ask for, the others say their step).
fn sink<'c>(cx: &'c mut RunContext<'_>, step: StepKind) -> Sink<'c> {
    let plan = &cx.project.plan;
    let prefix = match step {
        StepKind::Users => format!("{}-run-{}", plan.name, cx.run_id),
        step => format!("{}-run-{}-{step}", plan.name, cx.run_id),
    };
    Sink {
        target: Target {
            step,
            lists: RunLists::new(&plan.report.dir, &prefix),
            journal: cx.journal,
            run_id: cx.run_id,
            observer: cx.observer,
        },
        concurrency: plan.pacing.concurrency,
        cancel: cx.cancel,
    }
}

/// Pumps a step that writes records (organizations, roles, memberships):
/// its outcome, and what its reader reported.
async fn write_records<T, R, RF, PF, PFut>(
    cx: &mut RunContext<'_>,
    step: StepKind,
    main: Kind,
    read: RF,
    process: PF,
) -> Result<(StepOutcome, R)>
where
    RF: AsyncFnOnce(tokio::sync::mpsc::Sender<T>) -> std::result::Result<R, StepError>,
    PF: Fn(T) -> PFut,
    PFut: std::future::Future<Output = Vec<Recorded>>,
{
    let pumped = pump::pump(sink(cx, step), read, process).await?;
    Ok((
        records(main, pumped.tally, &pumped.lists, None),
        pumped.read,
    ))
}

fn records(main: Kind, tally: Tally, lists: &RunLists, short_read: Option<u64>) -> StepOutcome {
    StepOutcome::Records {
        main,
        tally,
        lists: lists.files(),
        short_read,
        clerk: None,
        notes: Vec::new(),
    }
}

/// A `--reconcile` listing, told to the observer: what WorkOS holds, and
/// what reading it cost.
async fn listed<T: reconcile::Listed>(
    cx: &RunContext<'_>,
    step: StepKind,
    listing: impl std::future::Future<
        Output = std::result::Result<reconcile::Listing<T>, crate::workos::client::WorkosError>,
    >,
) -> Result<reconcile::Listing<T>> {
    let listing = listing.await.map_err(StepError::from)?;
    cx.observer.event(&Event::Warning {
        step: Some(step),
        message: &format!(
            "reconcile: WorkOS lists {} {step} ({} pages); the journal is checked against them",
            listing.len(),
            listing.pages
        ),
    });
    Ok(listing)
}

/// A preview's counts by planned action, each plan told to the observer
/// (and, for users and organizations, those left out kept for later steps).
struct PreviewTally<'c, 'p> {
    cx: &'c PreviewContext<'p>,
    step: StepKind,
    kind: Option<Kind>,
    counts: std::collections::BTreeMap<PlannedAction, u64>,
}

impl<'c, 'p> PreviewTally<'c, 'p> {
    fn new(cx: &'c PreviewContext<'p>, step: StepKind) -> Self {
        Self {
            cx,
            step,
            kind: None,
            counts: Default::default(),
        }
    }

    /// Keeps the records of `kind` this preview leaves out in
    /// [`PreviewContext::left_out`].
    fn of(self, kind: Kind) -> Self {
        Self {
            kind: Some(kind),
            ..self
        }
    }

    fn total(&self, total: u64) {
        self.cx.observer.event(&Event::Total {
            step: self.step,
            total,
        });
    }

    fn planned(&mut self, planned: &Planned) {
        *self.counts.entry(planned.action).or_default() += 1;
        if let (Some(kind), PlannedAction::Skip | PlannedAction::Reject) =
            (self.kind, planned.action)
        {
            let why = planned
                .reason
                .clone()
                .unwrap_or_else(|| Reason::new(ReasonCode::Unclassified, ""));
            let mut left_out = self.cx.left_out.lock().expect("left_out lock");
            left_out.insert((kind, planned.clerk_id.clone()), why);
        }
        self.cx.observer.event(&Event::Planned {
            step: self.step,
            planned,
        });
    }

    fn outcome(self) -> StepOutcome {
        self.outcome_with(None)
    }

    fn outcome_with(self, short_read: Option<u64>) -> StepOutcome {
        StepOutcome::Previewed {
            counts: self.counts,
            short_read,
        }
    }
}

struct Assess;

impl Stage for Assess {
    fn kind(&self) -> StepKind {
        StepKind::Assess
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(assess(cx.project, cx.clerk, cx.shared_users, cx.observer))
    }
}

/// The assessment, from the source alone.
pub async fn assess(
    project: &Project,
    clerk: Option<&ClerkClient>,
    shared: Option<&SharedUsers>,
    observer: &dyn crate::observe::Observer,
) -> Result<StepOutcome> {
    let step = AssessStep {
        plan: &project.plan,
        observer,
    };
    let settings = project.plan.users().cloned().unwrap_or_default();
    let announce = |total| {
        observer.event(&Event::Total {
            step: StepKind::Assess,
            total,
        })
    };
    let sources = Sources {
        required_columns: settings.required_columns(),
        shared,
        on_total: Some(&announce),
        ..Sources::of(&project.plan.source, clerk)
    };
    Ok(StepOutcome::Assess(Box::new(
        step.run(sources, clerk).await?,
    )))
}

struct Users<'p>(&'p UserSettings);

impl Users<'_> {
    fn step<'a>(
        &self,
        project: &'a Project,
        reader: &'a Mutex<Journal>,
        mode: Mode<'a>,
        dry_run: bool,
        listing: Option<crate::target::reconcile::Listing<ferry_wire::workos::model::User>>,
    ) -> UsersStep<'a> {
        let settings = self.0.clone();
        let ctx = project.hook_context(StepKind::Users, dry_run);
        // Only a writing step seals; with a listing, WorkOS is asked instead.
        let seals = matches!(mode, Mode::Write(_)).then(|| Seals {
            sealer: Sealer::new(&settings, &ctx, project.script.as_ref()),
            sealed: match &listing {
                Some(_) => SealedUsers::default(),
                None => SealedUsers::load(&reader.lock().expect("journal lock")).unwrap_or_else(
                    |error| {
                        tracing::warn!("cannot read the sealed users, mapping all: {error}");
                        SealedUsers::default()
                    },
                ),
            },
        });
        UsersStep {
            settings,
            max_attempts: project.plan.pacing.retry.max_attempts,
            script: project.script.as_ref(),
            ctx,
            journal: reader,
            mode,
            claims: Default::default(),
            listing,
            seals,
            seen: None,
        }
    }
}

impl Stage for Users<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Users
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let listing = match cx.reconcile {
                true => {
                    // The users the journal knows cut the listing into segments read at once.
                    let known = cx.journal.id_map(Kind::User)?;
                    let known = known.iter().map(|(_, target)| target.as_str());
                    Some(
                        listed(cx, StepKind::Users, reconcile::list_users(cx.workos, known))
                            .await?,
                    )
                }
                false => None,
            };
            let mut step = self.step(
                cx.project,
                cx.reader,
                Mode::Write(cx.workos),
                false,
                listing,
            );
            step.seen = cx.seen;
            let observer = cx.observer;
            let announce = |total| {
                observer.event(&Event::Total {
                    step: StepKind::Users,
                    total,
                })
            };
            let sources = Sources {
                on_total: Some(&announce),
                required_columns: step.settings.required_columns(),
                ..cx.sources()
            };
            let pumped = users::feed::run(&step, sources, sink(cx, StepKind::Users)).await?;
            let mut outcome = records(
                Kind::User,
                pumped.tally,
                &pumped.lists,
                pumped.read.short_read(),
            );
            if let StepOutcome::Records { clerk, .. } = &mut outcome
                && let Some(counted) = pumped.read.clerk_count
            {
                *clerk = Some(ClerkSide {
                    counted,
                    handled: pumped.read.listed + pumped.read.fetched_by_id,
                });
            }
            cx.listed_all(StepKind::Users, Kind::User, &outcome, None);
            Ok(outcome)
        })
    }

    fn preview<'s>(
        &'s self,
        cx: &'s PreviewContext<'_>,
    ) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let mode = match cx.workos {
                Some(workos) => Mode::Preview(workos),
                None => Mode::Offline,
            };
            let step = self.step(cx.project, cx.reader, mode, true, None);
            let announce = |total| {
                cx.observer.event(&Event::Total {
                    step: StepKind::Users,
                    total,
                })
            };
            let sources = Sources {
                on_total: Some(&announce),
                required_columns: step.settings.required_columns(),
                ..Sources::of(&cx.project.plan.source, cx.clerk)
            };
            let mut tally = PreviewTally::new(cx, StepKind::Users).of(Kind::User);
            let stats = users::feed::preview(
                &step,
                sources,
                cx.project.plan.pacing.concurrency,
                |planned| tally.planned(&planned),
            )
            .await?;
            Ok(tally.outcome_with(stats.short_read()))
        })
    }
}

struct Organizations<'p>(&'p OrganizationSettings);

impl Stage for Organizations<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Organizations
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Organizations)?;
            let listing = match cx.reconcile {
                true => Some(
                    listed(
                        cx,
                        StepKind::Organizations,
                        reconcile::list_organizations(cx.workos),
                    )
                    .await?,
                ),
                false => None,
            };
            let step = OrganizationsStep {
                settings: self.0.clone(),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Organizations, false),
                workos: cx.workos,
                journal: cx.reader,
                listing,
                clerk_domains: read_domains(clerk).await?,
            };
            let seen = cx.seen;
            let (outcome, incomplete) = write_records(
                cx,
                StepKind::Organizations,
                Kind::Organization,
                async |tx| read_organizations(clerk, tx).await,
                |org| {
                    let step = &step;
                    if let Some(seen) = seen {
                        seen.add(Kind::Organization, &org.id);
                    }
                    async move { step.write(&org).await }
                },
            )
            .await?;
            let why = incomplete.map(|why| format!("Clerk's organizations listing: {why}"));
            cx.listed_all(StepKind::Organizations, Kind::Organization, &outcome, why);
            Ok(outcome)
        })
    }

    fn preview<'s>(
        &'s self,
        cx: &'s PreviewContext<'_>,
    ) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let listing = reconcile::list_organizations(workos)
                .await
                .map_err(StepError::from)?;
            let step = OrganizationsStep {
                settings: self.0.clone(),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Organizations, true),
                workos,
                journal: cx.reader,
                listing: Some(listing),
                clerk_domains: read_domains(clerk).await?,
            };
            let organizations = clerk
                .all_organizations()
                .await
                .map_err(crate::source::read::SourceError::from)
                .map_err(StepError::from)?;
            let mut tally = PreviewTally::new(cx, StepKind::Organizations).of(Kind::Organization);
            tally.total(organizations.len() as u64);
            for org in &organizations {
                tally.planned(&step.preview(org));
            }
            Ok(tally.outcome())
        })
    }
}

struct Roles<'p>(&'p RoleSettings);

impl Stage for Roles<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Roles
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Roles)?;
            let step = RolesStep::new(
                cx.project.role_mapper(false),
                self.0.permissions,
                cx.workos,
                cx.reader,
            )
            .await
            .map_err(StepError::from)?;
            let (mut outcome, _) = write_records(
                cx,
                StepKind::Roles,
                Kind::Role,
                async |tx| read_roles(clerk, tx).await,
                |role| {
                    let step = &step;
                    async move { step.write(&role).await }
                },
            )
            .await?;
            if let StepOutcome::Records { notes, .. } = &mut outcome {
                *notes = step.notes.lock().expect("notes lock").clone();
                for note in notes.iter() {
                    cx.observer.event(&Event::Warning {
                        step: Some(StepKind::Roles),
                        message: note,
                    });
                }
            }
            Ok(outcome)
        })
    }

    fn preview<'s>(
        &'s self,
        cx: &'s PreviewContext<'_>,
    ) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let step = RolesStep::new(
                cx.project.role_mapper(true),
                self.0.permissions,
                workos,
                cx.reader,
            )
            .await
            .map_err(StepError::from)?;
            let roles = clerk
                .all_roles()
                .await
                .map_err(crate::source::read::SourceError::from)
                .map_err(StepError::from)?;
            let mut tally = PreviewTally::new(cx, StepKind::Roles);
            tally.total(roles.len() as u64);
            for role in &roles {
                tally.planned(&step.preview(role));
            }
            Ok(tally.outcome())
        })
    }
}

/// The memberships step; its options (the `roles:` map) reach it through
/// the project's role mapper, which the roles step shares.
struct Memberships;

impl Stage for Memberships {
    fn kind(&self) -> StepKind {
        StepKind::Memberships
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Memberships)?;
            let step = MembershipsStep {
                roles: cx.project.role_mapper(false),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Memberships, false),
                workos: cx.workos,
                journal: cx.reader,
                // With `--reconcile`, WorkOS is asked about every membership.
                seals: (!cx.reconcile).then(std::sync::OnceLock::new),
                unmigrated_roles: Default::default(),
            };
            let (workos, reader, ended) = (cx.workos, cx.reader, cx.ended);
            // Read ahead while users still writes; write once it has
            // finished (and nothing, reading no further, if it did not).
            let users_unfinished = AtomicBool::new(false);
            let (step, unfinished, seen) = (&step, &users_unfinished, cx.seen);
            let (outcome, stats) = write_records(
                cx,
                StepKind::Memberships,
                Kind::Membership,
                async |tx| read_memberships(clerk, workos, reader, unfinished, tx).await,
                move |item| async move {
                    if let Some(seen) = seen {
                        seen.add(Kind::Membership, &item.membership.id);
                    }
                    if let Some(ended) = ended
                        && !ended.wait(StepKind::Users).await
                    {
                        unfinished.store(true, Ordering::Relaxed);
                        return Vec::new();
                    }
                    step.write(item).await
                },
            )
            .await?;
            if !users_unfinished.load(Ordering::Relaxed) {
                let why = stats
                    .incomplete
                    .map(|(listing, why)| format!("{listing}: {why}"));
                cx.listed_all(StepKind::Memberships, Kind::Membership, &outcome, why);
            }
            Ok(outcome)
        })
    }

    /// Reads what a run reads (each organization's WorkOS memberships and
    /// Clerk's), and plans each membership from the journal and the mapping.
    fn preview<'s>(
        &'s self,
        cx: &'s PreviewContext<'_>,
    ) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let step = MembershipsStep {
                roles: cx.project.role_mapper(true),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Memberships, true),
                workos,
                journal: cx.reader,
                seals: None,
                unmigrated_roles: Default::default(),
            };
            let never = AtomicBool::new(false);
            let (tx, mut rx) = tokio::sync::mpsc::channel(256);
            let mut tally = PreviewTally::new(cx, StepKind::Memberships);
            let plan = async {
                while let Some(item) = rx.recv().await {
                    let left_out = cx.left_out.lock().expect("left_out lock");
                    let planned = step.preview(&item, &left_out);
                    drop(left_out);
                    tally.planned(&planned);
                }
            };
            let (read, ()) =
                tokio::join!(read_memberships(clerk, workos, cx.reader, &never, tx), plan);
            read?;
            Ok(tally.outcome())
        })
    }
}

struct MfaReport<'p>(&'p MfaReportSettings);

impl Stage for MfaReport<'_> {
    fn kind(&self) -> StepKind {
        StepKind::MfaReport
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async move {
            let plan = &cx.project.plan;
            let step = MfaReportStep {
                plan_name: plan.name.clone(),
                template: self.0.notice_template.clone(),
                out_dir: self
                    .0
                    .out_dir
                    .clone()
                    .unwrap_or_else(|| plan.report.dir.join("notices")),
                report_dir: plan.report.dir.clone(),
                enabled_providers: plan
                    .target
                    .as_ref()
                    .map(|t| t.oauth_providers.clone())
                    .unwrap_or_default(),
                journal: cx.reader,
            };
            Ok(StepOutcome::MfaReport(step.run(cx.sources()).await?))
        })
    }
}

struct Verify;

impl Stage for Verify {
    fn kind(&self) -> StepKind {
        StepKind::Verify
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(verify(
            cx.project,
            cx.workos,
            cx.sources(),
            cx.reader,
            cx.ended,
            false,
        ))
    }
}

/// The verification checklist against WorkOS as it is now.
pub async fn verify(
    project: &Project,
    workos: &WorkosClient,
    sources: Sources<'_>,
    reader: &Mutex<Journal>,
    ended: Option<&Ended>,
    dry_run: bool,
) -> Result<StepOutcome> {
    let clerk = sources.clerk;
    let plan = &project.plan;
    let step = VerifyStep {
        plan,
        script: project.script.as_ref(),
        users_ctx: project.hook_context(StepKind::Users, dry_run),
        memberships_ctx: project.hook_context(StepKind::Memberships, dry_run),
        workos,
        clerk,
        journal: reader,
        api_key: plan
            .target
            .as_ref()
            .and_then(|t| t.api_key.clone())
            .unwrap_or_default(),
        roles: project.role_mapper(dry_run),
        ended,
        clerk_memberships: Default::default(),
    };
    Ok(StepOutcome::Verify(step.run(sources).await?))
}
