//! The memberships step as the engine runs and previews it: reading ahead
//! beside the users step; deciding the memberships of users settled from
//! their seals once the users listing was read whole, and the others once
//! the users step has ended.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use tokio::sync::Notify;

use super::{Look, MembershipItem, MembershipsStep, read_memberships};
use crate::journal::Kind;
use crate::plan::StepKind;
use crate::report::outcome::StepOutcome;
use crate::steps::ended::Ended;
use crate::steps::pump::{Sink, pump};
use crate::steps::recorder::Recorded;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, records, sink,
};
use crate::steps::users::settled::SettledUsers;
use crate::support::cancel::Cancel;

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
            let new_step = || MembershipsStep {
                roles: crate::mapping::role::RoleMapper::of(cx.project, false),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Memberships, false),
                workos: cx.workos,
                journal: cx.reader,
                // With `--reconcile`, WorkOS is asked about every membership.
                seals: (!cx.reconcile).then(std::sync::OnceLock::new),
                unmigrated_roles: Default::default(),
            };
            let step = new_step();
            // Memberships of users settled from their seals are decided as
            // soon as the users step has read its listing whole, by a step
            // of their own whose seals are loaded then: those users' seals
            // and ids no longer change in this run. (Not with
            // `--reconcile`, which seals nothing.)
            let early = match (cx.settled_users, cx.ended, cx.reconcile) {
                (Some(settled), Some(ended), false) => Some(Early {
                    settled,
                    ended,
                    step: new_step(),
                    set_aside: Mutex::new(Vec::new()),
                    handled: AtomicU64::new(0),
                    all_handled: Notify::new(),
                }),
                _ => None,
            };
            let (workos, reader, ended, cancel) = (cx.workos, cx.reader, cx.ended, cx.cancel);
            let total = total_to(cx.observer);
            let look = match cx.reconcile {
                true => Look::ListEveryThenMark,
                false => Look::FollowEvents,
            };
            // Read ahead while users still writes; decide once its listing
            // was read (those of users settled from their seals) or once
            // it has finished (and nothing, reading no further, if it did
            // not).
            let users_unfinished = AtomicBool::new(false);
            // A membership to write waits for a place in WorkOS's write
            // window, which the users step's last writes may have filled
            // for 10 s; a worker waiting there decides nothing. Deciding
            // early, the step has a window's worth of workers beyond the
            // plan's concurrency (at most WAITING_WRITES: each holds its
            // membership), so those waiting do not hold up the decisions
            // behind them; the window, not the workers, bounds what is sent.
            let concurrency = cx.project.plan.pacing.concurrency;
            let workers = match (&early, &cx.project.plan.target) {
                (Some(_), Some(target)) => {
                    concurrency + (target.limits.writes_per_10s as usize).min(WAITING_WRITES)
                }
                _ => concurrency,
            };
            let (step, unfinished, seen, early) = (&step, &users_unfinished, cx.seen, &early);
            let sink = Sink {
                concurrency: workers,
                ..sink(cx, StepKind::Memberships)
            };
            let pumped = pump(
                sink,
                async |tx| {
                    let stats = read_memberships(
                        clerk,
                        workos,
                        reader,
                        unfinished,
                        total,
                        look,
                        tx.clone(),
                    )
                    .await?;
                    // Every membership read went to the workers (a send
                    // fails only once the run is stopping), so the ones set
                    // aside are sent again once that many were handled.
                    if let Some(early) = early {
                        early
                            .send_set_aside(stats.memberships, &tx, cancel, unfinished)
                            .await;
                    }
                    Ok(stats)
                },
                move |item| async move {
                    if let Some(seen) = seen {
                        seen.add(Kind::Membership, &item.membership.id);
                    }
                    if let Some(early) = early {
                        return early.write(item, step, unfinished).await;
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
            let stats = pumped.read;
            let mut outcome = records(Kind::Membership, pumped.tally, &pumped.lists, None);
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

/// At most this many memberships are set aside for after the users step
/// (those of users still in its hands once its listing is read); past it,
/// a membership waits for the users step in its worker, as it did before.
const SET_ASIDE: usize = 10_000;

/// At most this many workers beyond the plan's concurrency wait for a
/// place in WorkOS's write window while the step decides early: twice the
/// documented window.
const WAITING_WRITES: usize = 1_000;

/// The memberships step's early decisions: what lets it decide a
/// membership before the users step ends (see
/// [`crate::steps::users::settled`]).
struct Early<'a> {
    settled: &'a SettledUsers,
    ended: &'a Ended,
    /// Decides memberships of users settled from their seals; its seals
    /// are loaded when it first decides, once the users listing was read.
    step: MembershipsStep<'a>,
    /// Memberships of users not settled yet, for after the users step.
    set_aside: Mutex<Vec<MembershipItem>>,
    /// Memberships a worker has handled (decided or set aside).
    handled: AtomicU64,
    all_handled: Notify,
}

impl Early<'_> {
    /// Decides `item` now, sets it aside, or waits for the users step; then
    /// counts it handled.
    async fn write(
        &self,
        item: MembershipItem,
        late: &MembershipsStep<'_>,
        unfinished: &AtomicBool,
    ) -> Vec<Recorded> {
        let records = self.decide(item, late, unfinished).await;
        self.handled.fetch_add(1, Ordering::SeqCst);
        self.all_handled.notify_waiters();
        records
    }

    async fn decide(
        &self,
        item: MembershipItem,
        late: &MembershipsStep<'_>,
        unfinished: &AtomicBool,
    ) -> Vec<Recorded> {
        // Nothing before the users listing was read whole (or users ended).
        tokio::select! {
            () = self.settled.wait_for_the_listing() => {}
            _ = self.ended.wait(StepKind::Users) => {}
        }
        let users_ended = self.ended.wait(StepKind::Users).now_or_never();
        if users_ended.is_none() {
            let user = item
                .membership
                .public_user_data
                .as_ref()
                .map(|u| u.user_id.as_str());
            if user.is_some_and(|user| self.settled.holds(user)) {
                return self.step.write(item).await;
            }
            let mut set_aside = self.set_aside.lock().expect("set-aside lock");
            if set_aside.len() < SET_ASIDE {
                set_aside.push(item);
                return Vec::new();
            }
        }
        if !self.ended.wait(StepKind::Users).await {
            unfinished.store(true, Ordering::Relaxed);
            return Vec::new();
        }
        late.write(item).await
    }

    /// Once every one of the `sent` memberships read was handled (none can
    /// be set aside after that) and the users step has ended, sends those
    /// set aside again: their workers then find users ended.
    async fn send_set_aside(
        &self,
        sent: u64,
        tx: &tokio::sync::mpsc::Sender<MembershipItem>,
        cancel: &Cancel,
        unfinished: &AtomicBool,
    ) {
        loop {
            let handled = self.all_handled.notified();
            if self.handled.load(Ordering::SeqCst) >= sent {
                break;
            }
            tokio::select! {
                () = handled => {}
                () = cancel.cancelled() => return,
            }
        }
        let set_aside = std::mem::take(&mut *self.set_aside.lock().expect("set-aside lock"));
        if set_aside.is_empty() {
            return;
        }
        if !self.ended.wait(StepKind::Users).await {
            unfinished.store(true, Ordering::Relaxed);
            return;
        }
        for item in set_aside {
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }
}
