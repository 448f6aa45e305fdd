//! The users step as the engine runs and previews it: its settings and
//! seals, the reconcile listing, the feed of users into the recorder.

use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use super::seal::{SealedUsers, Sealer, Seals};
use super::{Mode, UsersStep};
use crate::journal::{Journal, Kind};
use crate::observe::Event;
use crate::plan::{Project, StepKind, UserSettings};
use crate::report::accounting::ClerkSide;
use crate::report::outcome::StepOutcome;
use crate::source::read::Sources;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, listed, records, sink,
};
use crate::steps::users;
use crate::target::reconcile;

pub struct Users<'p>(pub &'p UserSettings);

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

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
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

    fn preview<'s>(&'s self, cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
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
