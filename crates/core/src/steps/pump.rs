//! The loop that feeds records through a step.
//!
//! Three futures run side by side on one task: the source reader fills a
//! bounded channel, workers take records from it with a fixed number in
//! flight (the rate limiters do the pacing), and the recorder commits
//! outcomes. A stop request keeps the workers from taking new records; what
//! is in flight finishes, is recorded, and the step ends.

use std::future::Future;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::error::StepError;
use super::recorder::{self, Recorded, RunLists};
use crate::journal::Action;
use crate::report::outcome::Tally;
use crate::support::cancel::Cancel;

/// Where a step's outcomes go, and how it is paced.
/// Sends a step's records, read whole beforehand (organizations, roles:
/// never more than thousands), until the step stops taking them.
pub async fn send_all<T>(items: Vec<T>, tx: mpsc::Sender<T>) -> u64 {
    let count = items.len() as u64;
    for item in items {
        if tx.send(item).await.is_err() {
            break;
        }
    }
    count
}

pub struct Sink<'a> {
    pub target: recorder::Recording<'a>,
    pub concurrency: usize,
    pub cancel: &'a Cancel,
}

/// What a step's loop came to.
pub struct Pumped<R> {
    /// What the reader reported.
    pub read: R,
    pub tally: Tally,
    pub lists: RunLists,
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
        target,
        concurrency,
        cancel,
    } = sink;
    let (items_tx, items_rx) = mpsc::channel::<T>(concurrency * 4);
    let (out_tx, out_rx) = mpsc::channel::<Recorded>(concurrency * 4);
    let reader = read(items_tx);
    let recorder = recorder::record(target, out_rx);
    let process = &process;
    let workers = async move {
        let stream = receiver_stream(items_rx).take_while(|_| {
            let go = !cancel.is_cancelled();
            async move { go }
        });
        stream
            .for_each_concurrent(concurrency, |item| {
                let out_tx = out_tx.clone();
                async move {
                    for recorded in process(item).await {
                        // Once the run is stopping, a failure is most likely the
                        // stop itself (a wait cut short): leave the record for
                        // the next run rather than mark it failed.
                        if cancel.is_cancelled() && recorded.outcome.action == Action::Failed {
                            continue;
                        }
                        let _ = out_tx.send(recorded).await;
                    }
                }
            })
            .await;
    };
    let (read, (), recorded) = tokio::join!(reader, workers, recorder);
    let (tally, lists) = recorded?;
    Ok(Pumped {
        read: read?,
        tally,
        lists,
    })
}

/// Runs `read` and maps every item with `each`, `concurrency` at a time, in
/// order, calling `sink` with each result: the preview's loop, which
/// records nothing.
pub async fn map_in_order<T, U, RF, R, PF, PFut>(
    concurrency: usize,
    read: RF,
    each: PF,
    mut sink: impl FnMut(U),
) -> Result<R, StepError>
where
    RF: AsyncFnOnce(mpsc::Sender<T>) -> Result<R, StepError>,
    PF: Fn(T) -> PFut,
    PFut: Future<Output = U>,
{
    let (items_tx, items_rx) = mpsc::channel::<T>(concurrency * 4);
    let reader = read(items_tx);
    let mapper = async {
        let mut mapped = receiver_stream(items_rx).map(&each).buffered(concurrency);
        while let Some(item) = mapped.next().await {
            sink(item);
        }
    };
    let (read, ()) = tokio::join!(reader, mapper);
    read
}

/// A receiver as a stream.
fn receiver_stream<T>(mut rx: mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
