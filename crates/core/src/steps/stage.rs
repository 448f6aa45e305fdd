//! The one step interface: a [`Stage`] is a plan step the engine can run
//! (writing, with a journal) or preview (writing nothing), given a context
//! that holds what every step shares. Each step's `stage.rs` implements it,
//! as the glue from the step's settings to its logic; what those share
//! (the sink, the pump of records, the reconcile listing, a preview's
//! tally) is here.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use crate::clerk::client::ClerkClient;
use crate::journal::{Journal, Kind};
use crate::observe::{Event, Observer};
use crate::plan::{Project, StepKind};
use crate::report::outcome::{Planned, PlannedAction, StepOutcome, Tally};
use crate::source::read::Sources;
use crate::source::shared_users::SharedUsers;
use crate::steps::ended::Ended;
use crate::steps::error::StepError;
use crate::steps::pump::{self, Sink};
use crate::steps::recorder::{Recorded, Recording, RunLists};
use crate::steps::seen::Seen;
use crate::support::cancel::Cancel;
use crate::support::reason::{Reason, ReasonCode};
use crate::target::reconcile;
use crate::workos::client::WorkosClient;

/// Why a step could not go on.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    MfaReport(#[from] crate::steps::mfa_report::MfaReportError),
    #[error("the `{step}` step reads Clerk's API: the plan needs source.clerk.secret_key")]
    NoClerkKey { step: StepKind },
}

impl From<crate::journal::JournalError> for StageError {
    fn from(error: crate::journal::JournalError) -> Self {
        Self::Step(error.into())
    }
}

impl From<crate::source::read::SourceError> for StageError {
    fn from(error: crate::source::read::SourceError) -> Self {
        Self::Step(error.into())
    }
}

/// What a stage came to.
pub type StageResult = Result<StepOutcome, StageError>;

/// What every step of one run shares.
pub struct RunContext<'r> {
    pub project: &'r Project,
    pub workos: &'r WorkosClient,
    pub clerk: Option<&'r ClerkClient>,
    /// The journal's write connection, lent to each step in turn.
    pub journal: &'r mut Journal,
    /// A read connection for look-ups while the write connection is busy.
    pub reader: &'r Mutex<Journal>,
    pub run_id: i64,
    /// `--reconcile`: list WorkOS and check the journal against it.
    pub reconcile: bool,
    pub cancel: &'r Cancel,
    pub observer: &'r dyn Observer,
    /// The run's one reading of Clerk's user listing, for every step that reads users.
    pub shared_users: Option<&'r SharedUsers>,
    /// Which steps have ended, for a step that waits for one partway through.
    pub ended: Option<&'r Ended>,
    /// In a sync: the Clerk ids each step's listing holds, for the removal pass.
    pub seen: Option<&'r Seen>,
    /// The users the users step settled from their seals, for the
    /// memberships step to decide theirs before users ends.
    pub settled_users: Option<&'r crate::steps::users::settled::SettledUsers>,
}

impl RunContext<'_> {
    /// In a sync, says `kind`'s listing was read to its end when the step
    /// finished with nothing cut short and no listing of it `incomplete`;
    /// an incomplete listing is said aloud, run or sync, and kept as why
    /// the kind is not diffed.
    pub fn listed_all(
        &self,
        step: StepKind,
        kind: Kind,
        outcome: &StepOutcome,
        incomplete: Option<String>,
    ) {
        if let Some(why) = &incomplete {
            self.observer.event(&crate::observe::Event::Warning {
                step: Some(step),
                message: &format!("{why}; nothing is judged gone from it"),
            });
        }
        let short = matches!(
            outcome,
            StepOutcome::Records {
                short_read: Some(_),
                ..
            }
        );
        let Some(seen) = self.seen else { return };
        match incomplete {
            Some(why) => seen.incomplete(kind, why),
            None if !short && !self.cancel.is_cancelled() => seen.complete(kind),
            None => {}
        }
    }
}

/// What a preview shares: no write connection, and WorkOS only when online.
pub struct PreviewContext<'r> {
    pub project: &'r Project,
    /// `None` offline: decide from the export and the journal alone.
    pub workos: Option<&'r WorkosClient>,
    pub clerk: Option<&'r ClerkClient>,
    pub reader: &'r Mutex<Journal>,
    pub observer: &'r dyn Observer,
    /// Users and organizations an earlier step's preview plans to skip or
    /// reject, with why: a later step's preview (memberships) treats them
    /// as the run would, where the journal does not know them yet.
    pub left_out: &'r Mutex<HashMap<(Kind, String), crate::support::reason::Reason>>,
}

/// A plan step, as the engine sees it.
pub trait Stage {
    /// Which step this is.
    fn kind(&self) -> StepKind;

    /// The step's name in the plan.
    fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Runs the step for real.
    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult>;

    /// Previews the step; steps without a preview say so.
    fn preview<'s>(&'s self, _cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async { Ok(StepOutcome::NotPreviewed) })
    }
}

impl<'r> RunContext<'r> {
    pub fn sources(&self) -> Sources<'r> {
        Sources {
            shared: self.shared_users,
            ..Sources::of(&self.project.plan.source, self.clerk)
        }
    }

    /// The Clerk client, which some steps cannot do without.
    pub fn clerk_for(&self, step: StepKind) -> Result<&'r ClerkClient, StageError> {
        self.clerk.ok_or(StageError::NoClerkKey { step })
    }
}

/// The sink of a step that writes records: its lists are named after the
/// run (the users step's are the ones people ask for, the others say their step).
pub(crate) fn sink<'c>(cx: &'c mut RunContext<'_>, step: StepKind) -> Sink<'c> {
    let plan = &cx.project.plan;
    let prefix = match step {
        StepKind::Users => format!("{}-run-{}", plan.name, cx.run_id),
        step => format!("{}-run-{}-{step}", plan.name, cx.run_id),
    };
    Sink {
        target: Recording {
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
pub(crate) async fn write_records<T, R, RF, PF, PFut>(
    cx: &mut RunContext<'_>,
    step: StepKind,
    main: Kind,
    read: RF,
    process: PF,
) -> Result<(StepOutcome, R), StageError>
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

pub(crate) fn records(
    main: Kind,
    tally: Tally,
    lists: &RunLists,
    short_read: Option<u64>,
) -> StepOutcome {
    StepOutcome::Records {
        main,
        tally,
        lists: lists.files(),
        short_read,
        clerk: None,
        notes: Vec::new(),
        section: None,
    }
}

/// A `--reconcile` listing, told to the observer: what WorkOS holds, and
/// what reading it cost.
pub(crate) async fn listed<T: reconcile::Listed>(
    cx: &RunContext<'_>,
    step: StepKind,
    listing: impl std::future::Future<
        Output = std::result::Result<reconcile::Listing<T>, crate::workos::client::WorkosError>,
    >,
) -> Result<reconcile::Listing<T>, StageError> {
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
pub(crate) struct PreviewTally<'c, 'p> {
    cx: &'c PreviewContext<'p>,
    step: StepKind,
    kind: Option<Kind>,
    counts: std::collections::BTreeMap<PlannedAction, u64>,
}

impl<'c, 'p> PreviewTally<'c, 'p> {
    pub(crate) fn new(cx: &'c PreviewContext<'p>, step: StepKind) -> Self {
        Self {
            cx,
            step,
            kind: None,
            counts: Default::default(),
        }
    }

    /// Keeps the records of `kind` this preview leaves out in
    /// [`PreviewContext::left_out`].
    pub(crate) fn of(self, kind: Kind) -> Self {
        Self {
            kind: Some(kind),
            ..self
        }
    }

    pub(crate) fn total(&self, total: u64) {
        self.cx.observer.event(&Event::Total {
            step: self.step,
            total,
        });
    }

    pub(crate) fn planned(&mut self, planned: &Planned) {
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

    pub(crate) fn outcome(self) -> StepOutcome {
        self.outcome_with(None)
    }

    pub(crate) fn outcome_with(self, short_read: Option<u64>) -> StepOutcome {
        StepOutcome::Previewed {
            counts: self.counts,
            short_read,
        }
    }
}
