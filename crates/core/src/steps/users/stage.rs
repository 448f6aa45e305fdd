//! The users step as the engine runs and previews it: its settings and
//! seals, the reconcile listing, the feed of users into the recorder.

use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use super::seal::{SealedUsers, Sealer, Seals};
use super::{Mode, UsersStep};
use crate::journal::{Journal, Kind};
use crate::mapping::password::Conversions;
use crate::observe::Event;
use crate::plan::{Project, StepKind, UserSettings};
use crate::report::accounting::ClerkSide;
use crate::report::outcome::StepOutcome;
use crate::source::read::Sources;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, listed, records, sink,
};
use crate::steps::users;
use crate::steps::users::probe::{self, Prober, Scan};
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
        conversions: Conversions,
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
            conversions,
            max_attempts: project.plan.pacing.retry.max_attempts,
            script: project.script.as_ref(),
            ctx,
            journal: reader,
            mode,
            claims: Default::default(),
            listing,
            seals,
            seen: None,
            settled_users: None,
        }
    }
}

/// The export's digests, read once before anything is written.
fn scan(project: &Project) -> Result<Scan, crate::source::read::SourceError> {
    let source = &project.plan.source;
    Ok(Scan::of_export(
        source.export_csv.as_deref(),
        source.export_json.as_deref(),
    )?)
}

/// Each malformed digest's export line, said before the first write.
fn warn_malformed(project: &Project, scan: &Scan, observer: &dyn crate::observe::Observer) {
    let source = &project.plan.source;
    let export = source
        .export_csv
        .as_deref()
        .or(source.export_json.as_deref())
        .map(|path| path.display().to_string())
        .unwrap_or_default();
    if let Some(message) = scan.malformed_message(&export) {
        observer.event(&Event::Warning {
            step: Some(StepKind::Users),
            message: &message,
        });
    }
}

impl Stage for Users<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Users
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let scan = scan(cx.project)?;
            warn_malformed(cx.project, &scan, cx.observer);
            let target = cx.project.plan.target.as_ref();
            let credentials =
                target.and_then(|t| Some((t.client_id.as_deref()?, t.api_key.as_ref()?)));
            let prober = match (self.0.probe, credentials) {
                (true, Some((client_id, api_key))) => Ok(Prober {
                    workos: cx.workos,
                    journal: cx.journal,
                    run_id: cx.run_id,
                    client_id,
                    api_key,
                    address: &self.0.probe_address,
                }),
                (true, None) => {
                    Err("a probe signs in, and the plan's target.workos has no client_id")
                }
                (false, _) => Err("the plan says passwords: { probe: false }"),
            };
            // Whatever this run probes, a probe user an earlier one left goes first.
            probe::remove_leftovers(cx.journal, cx.workos).await?;
            let settled = probe::settle(self.0, &scan, prober).await?;
            for warning in &settled.warnings {
                cx.observer.event(&Event::Warning {
                    step: Some(StepKind::Users),
                    message: warning,
                });
            }
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
                settled.conversions,
            );
            step.seen = cx.seen;
            step.settled_users = cx.settled_users;
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
            if let StepOutcome::Records { notes, .. } = &mut outcome {
                notes.extend(settled.warnings.into_iter().chain(settled.notes));
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
            let scan = scan(cx.project)?;
            warn_malformed(cx.project, &scan, cx.observer);
            let conversions = {
                let journal = cx.reader.lock().expect("journal lock");
                for line in probe::preview(self.0, &scan, Some(&journal)) {
                    cx.observer.event(&Event::Warning {
                        step: Some(StepKind::Users),
                        message: &line,
                    });
                }
                probe::recorded(&journal)
                    .map(|(conversions, _)| conversions)
                    .unwrap_or_default()
            };
            let step = self.step(cx.project, cx.reader, mode, true, None, conversions);
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
