//! The memberships step as the engine runs and previews it: reading ahead
//! beside the users step, writing once it has ended.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::LocalBoxFuture;

use super::{Look, MembershipsStep, read_memberships};
use crate::journal::Kind;
use crate::plan::StepKind;
use crate::report::outcome::StepOutcome;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, write_records,
};

/// Tells `observer` how many memberships the step will read, so its
/// progress shows a total and an ETA.
fn total_to(observer: &dyn crate::observe::Observer) -> impl FnOnce(u64) + '_ {
    move |total| {
        observer.event(&crate::observe::Event::Total {
            step: StepKind::Memberships,
            total,
        })
    }
}

/// The memberships step; its options (the `roles:` map) reach it through
/// the project's role mapper, which the roles step shares.
pub struct Memberships;

impl Stage for Memberships {
    fn kind(&self) -> StepKind {
        StepKind::Memberships
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Memberships)?;
            let step = MembershipsStep {
                roles: crate::mapping::role::RoleMapper::of(cx.project, false),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Memberships, false),
                workos: cx.workos,
                journal: cx.reader,
                // With `--reconcile`, WorkOS is asked about every membership.
                seals: (!cx.reconcile).then(std::sync::OnceLock::new),
                unmigrated_roles: Default::default(),
            };
            let (workos, reader, ended) = (cx.workos, cx.reader, cx.ended);
            let total = total_to(cx.observer);
            let look = match cx.reconcile {
                true => Look::ListEveryThenMark,
                false => Look::FollowEvents,
            };
            // Read ahead while users still writes; write once it has
            // finished (and nothing, reading no further, if it did not).
            let users_unfinished = AtomicBool::new(false);
            let (step, unfinished, seen) = (&step, &users_unfinished, cx.seen);
            let (outcome, stats) = write_records(
                cx,
                StepKind::Memberships,
                Kind::Membership,
                async |tx| {
                    read_memberships(clerk, workos, reader, unfinished, total, look, tx).await
                },
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
            let (mut outcome, stats) = (outcome, stats);
            if let StepOutcome::Records { notes, .. } = &mut outcome {
                notes.extend(stats.notes.iter().cloned());
            }
            let finished = !users_unfinished.load(Ordering::Relaxed)
                && !cx.cancel.is_cancelled()
                && !matches!(
                    outcome,
                    StepOutcome::Records {
                        short_read: Some(_),
                        ..
                    }
                );
            // Every organization was listed or shown quiet by its events,
            // and every membership written: the next pass reads the events
            // from this one's start.
            if finished
                && stats.incomplete.is_none()
                && let Some(began) = stats.pass_began
            {
                crate::target::changes::set_cursor(cx.journal, began)?;
            }
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
    fn preview<'s>(&'s self, cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let step = MembershipsStep {
                roles: crate::mapping::role::RoleMapper::of(cx.project, true),
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
            let total = total_to(cx.observer);
            let (read, ()) = tokio::join!(
                read_memberships(clerk, workos, cx.reader, &never, total, Look::ListEvery, tx),
                plan
            );
            for note in read?.notes {
                cx.observer.event(&crate::observe::Event::Warning {
                    step: Some(StepKind::Memberships),
                    message: &note,
                });
            }
            Ok(tally.outcome())
        })
    }
}
