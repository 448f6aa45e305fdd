//! The migration steps, and the loop that feeds users through a step.
//!
//! Three futures run side by side on one task: the source reader fills a
//! bounded channel, workers take users from it with a fixed number in flight
//! (the rate limiters do the pacing), and the recorder commits outcomes.
//! Ctrl-C stops the workers from taking new users; what is in flight
//! finishes, is recorded, and the run ends as interrupted.

pub mod assess;
pub mod memberships;
pub mod mfa_report;
pub mod organizations;
pub mod recorder;
pub mod users;
pub mod verify;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use indicatif::ProgressBar;
use tokio::sync::mpsc;

use crate::journal::{Action, Journal, JournalError, Kind, Outcome};
use crate::source::read::{self, Item, ReadStats, SourceError, Sources};
use recorder::{Recorded, RunLists, Tally};
use std::future::Future;
use users::{Planned, PlannedAction, UsersStep};

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("reading from WorkOS: {0}")]
    Target(String),
}

/// A flag set by Ctrl-C.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a step's loop came to.
pub struct Pumped<R> {
    /// What the reader reported.
    pub read: R,
    pub tally: Tally,
    pub lists: RunLists,
    pub journal: Journal,
    pub interrupted: bool,
}

/// Where a step's outcomes go, and how it is paced.
pub struct Sink<'a> {
    pub journal: Journal,
    pub run_id: i64,
    pub lists: RunLists,
    pub progress: ProgressBar,
    pub concurrency: usize,
    pub cancel: &'a Cancel,
}

/// Runs a step's loop: `read` fills a bounded channel, `process` handles
/// each item with `concurrency` in flight, the recorder writes outcomes.
pub async fn pump<T, R, RF, PF, PFut>(
    sink: Sink<'_>,
    read: RF,
    process: PF,
) -> Result<Pumped<R>, StepError>
where
    RF: AsyncFnOnce(mpsc::Sender<T>) -> Result<R, StepError>,
    PF: Fn(T) -> PFut,
    PFut: Future<Output = Vec<Recorded>>,
{
    let Sink {
        journal,
        run_id,
        lists,
        progress,
        concurrency,
        cancel,
    } = sink;
    let (items_tx, items_rx) = mpsc::channel::<T>(concurrency * 4);
    let (out_tx, out_rx) = mpsc::channel::<Recorded>(concurrency * 4);
    let reader = read(items_tx);
    let recorder = recorder::record(journal, run_id, out_rx, lists, progress);
    let process = &process;
    let workers = async move {
        let stream = tokio_stream(items_rx).take_while(|_| {
            let go = !cancel.is_cancelled();
            async move { go }
        });
        stream
            .for_each_concurrent(concurrency, |item| {
                let out_tx = out_tx.clone();
                async move {
                    for recorded in process(item).await {
                        let _ = out_tx.send(recorded).await;
                    }
                }
            })
            .await;
    };
    let (read, (), recorded) = tokio::join!(reader, workers, recorder);
    let (journal, tally, lists) = recorded?;
    Ok(Pumped {
        read: read?,
        tally,
        lists,
        journal,
        interrupted: cancel.is_cancelled(),
    })
}

/// Runs the users step for real.
pub async fn run_users(
    step: &UsersStep<'_>,
    sources: Sources<'_>,
    sink: Sink<'_>,
) -> Result<Pumped<ReadStats>, StepError> {
    pump(
        sink,
        async |tx| Ok(read::read_users(sources, tx).await?),
        |item| process(step, item),
    )
    .await
}

async fn process(step: &UsersStep<'_>, item: Item) -> Vec<Recorded> {
    match item {
        Item::User(user) => step.write(&user).await,
        other => {
            let (source_id, rejected, reason) = not_a_user(other);
            vec![Recorded {
                outcome: Outcome {
                    kind: Kind::User,
                    source_id,
                    target_id: None,
                    action: if rejected {
                        Action::Rejected
                    } else {
                        Action::Skipped
                    },
                    attempts: 0,
                    reason: Some(reason),
                    fingerprint: None,
                },
                email: None,
                advances: true,
                password_reset: None,
            }]
        }
    }
}

/// A stream item that is not a user to map: its id, whether it is a
/// rejection (else a skip), and why.
fn not_a_user(item: Item) -> (String, bool, String) {
    match item {
        Item::BadRow(error) => (
            error
                .id
                .clone()
                .unwrap_or_else(|| format!("line {}", error.line)),
            true,
            error.to_string(),
        ),
        Item::Deleted { id } => (
            id,
            false,
            "in the export but no longer in Clerk (deleted since the export?)".into(),
        ),
        Item::User(user) => (user.id, false, String::new()),
    }
}

/// Previews the users step: calls `each` with every user's planned action.
pub async fn preview_users(
    step: &UsersStep<'_>,
    sources: Sources<'_>,
    concurrency: usize,
    mut each: impl FnMut(Planned),
) -> Result<ReadStats, StepError> {
    let (items_tx, items_rx) = mpsc::channel::<Item>(concurrency * 4);
    let reader = read::read_users(sources, items_tx);
    let planner = async {
        let mut planned = tokio_stream(items_rx)
            .map(|item| async move {
                match item {
                    Item::User(user) => step.preview(&user).await,
                    other => {
                        let (clerk_id, rejected, reason) = not_a_user(other);
                        Planned {
                            clerk_id,
                            email: None,
                            action: if rejected {
                                PlannedAction::Reject
                            } else {
                                PlannedAction::Skip
                            },
                            reason: Some(reason),
                            notes: Vec::new(),
                        }
                    }
                }
            })
            .buffered(concurrency);
        while let Some(plan) = planned.next().await {
            each(plan);
        }
    };
    let (stats, ()) = tokio::join!(reader, planner);
    Ok(stats?)
}

/// A receiver as a stream.
fn tokio_stream<T>(mut rx: mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
