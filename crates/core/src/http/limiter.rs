//! Sliding windows sized from an API's documented limits.
//!
//! A limit reads "N requests per window": no window of that length may see
//! more than N requests arrive. Each [`Bucket`] keeps that with what it
//! can know from the client's side. A request holds a [`Permit`] from just
//! before it is sent; it arrives at the server after that and before its
//! answer. It counts against the window until a whole window has passed
//! since the earlier of its answer and [`ARRIVAL_SPREAD`] after its permit.
//! So the server never sees more than the bucket allows (half a percent
//! under the limit, for a server that counts its window's edges
//! differently) as long as requests take no more than [`ARRIVAL_SPREAD`]
//! longer than each other to arrive; an answer that comes sooner proves
//! its request's arrival whatever the spread. Counting every request until
//! a window after its answer would be safe against any spread, but at
//! 800 ms of latency it would keep each place 8% longer than the window
//! and the limit would never be reached.
//!
//! A window does not have to be spent evenly: the budget a step left
//! unused while it was reading (a long listing) goes out at once when the
//! writes come, instead of at an even pace after it. A request that others
//! wait on (a page of the listing a step is working through) may go
//! [first](Bucket::acquire_first): while one waits, no other takes a place. When the server still
//! answers 429, [`Bucket::pause`] makes every task using the bucket wait out
//! `Retry-After`, not just the one that was refused.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

pub struct Bucket {
    name: String,
    limit: u32,
    window: Duration,
    /// How many requests a window may hold on this side (the margin taken).
    allowed: usize,
    state: Mutex<Window>,
    /// Woken when an answer comes (while every request of the window is
    /// still in flight, nothing can expire before one is answered) and
    /// when a request that went first leaves the line.
    answered: Notify,
    /// Requests waiting with [`Bucket::acquire_first`].
    first_waiting: AtomicUsize,
    paused_until: Mutex<Option<Instant>>,
}

/// How much later than another a request may reach the server, both sent
/// at the same moment (the jitter of the way there): see the module's
/// paragraph.
pub const ARRIVAL_SPREAD: Duration = Duration::from_millis(100);

/// The requests a bucket counts now.
#[derive(Default)]
struct Window {
    /// Permits taken and not yet given back.
    in_flight: usize,
    /// For each request given back, when it has surely arrived (the
    /// earliest first): at most the bucket's allowance, and only those of
    /// the last window.
    arrived: BinaryHeap<Reverse<Instant>>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("name", &self.name)
            .field("limit", &self.limit)
            .field("window", &self.window)
            .finish()
    }
}

/// One request's place in its bucket's window, from just before it is sent
/// until its answer was read (or it was given up): dropping it starts the
/// window-long wait after which the place is free again.
#[must_use = "a permit counts its request until it is dropped"]
pub struct Permit<'a> {
    bucket: &'a Bucket,
    taken: Instant,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let arrived = Instant::now().min(self.taken + ARRIVAL_SPREAD);
        let mut window = self.bucket.state.lock().expect("window lock");
        window.in_flight = window.in_flight.saturating_sub(1);
        window.arrived.push(Reverse(arrived));
        drop(window);
        self.bucket.answered.notify_waiters();
    }
}

impl Bucket {
    /// A bucket for "`limit` requests per `window`".
    pub fn new(name: impl Into<String>, limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        Self {
            name: name.into(),
            limit,
            window,
            allowed: allowed(limit),
            state: Mutex::new(Window::default()),
            answered: Notify::new(),
            first_waiting: AtomicUsize::new(0),
            paused_until: Mutex::new(None),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits until this bucket may send one more request; the permit counts
    /// it until dropped (drop it once the answer is read).
    pub async fn acquire(&self) -> Permit<'_> {
        self.take(false).await
    }

    /// [`Bucket::acquire`], ahead of every request that is not asked for
    /// this way: for what a step is waiting on, when others only read ahead.
    pub async fn acquire_first(&self) -> Permit<'_> {
        self.first_waiting.fetch_add(1, Ordering::SeqCst);
        /// Counts the request out of the line however its wait ends (a
        /// cancelled wait is dropped).
        struct InLine<'a>(&'a Bucket);
        impl Drop for InLine<'_> {
            fn drop(&mut self) {
                self.0.first_waiting.fetch_sub(1, Ordering::SeqCst);
                // Those who stood back may look again.
                self.0.answered.notify_waiters();
            }
        }
        let _in_line = InLine(self);
        self.take(true).await
    }

    async fn take(&self, first: bool) -> Permit<'_> {
        loop {
            let pause = *self.paused_until.lock().expect("pause lock");
            if let Some(until) = pause.filter(|until| *until > Instant::now()) {
                tokio::time::sleep_until(until).await;
                continue;
            }
            // Asked for before looking, so an answer that comes in between
            // still wakes this task.
            let answered = self.answered.notified();
            let free_at = {
                let mut window = self.state.lock().expect("window lock");
                let now = Instant::now();
                while let Some(&Reverse(at)) = window.arrived.peek() {
                    if at + self.window > now {
                        break;
                    }
                    window.arrived.pop();
                }
                // One that goes first is waiting: stand back until it went.
                let standing_back = !first && self.first_waiting.load(Ordering::SeqCst) > 0;
                if !standing_back && window.in_flight + window.arrived.len() < self.allowed {
                    window.in_flight += 1;
                    return Permit {
                        bucket: self,
                        taken: now,
                    };
                }
                match standing_back {
                    true => None,
                    false => window.arrived.peek().map(|Reverse(at)| *at + self.window),
                }
            };
            match free_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => answered.await,
            }
        }
    }

    /// Makes every user of the bucket wait `duration` (a 429's `Retry-After`).
    pub fn pause(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut paused = self.paused_until.lock().expect("pause lock");
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
            // A wait people would notice is said once, when it begins.
            if duration >= Duration::from_secs(5) {
                let resume =
                    chrono::Local::now() + chrono::Duration::from_std(duration).unwrap_or_default();
                tracing::warn!(
                    "{}: the server asked to wait {} s; resuming at {}",
                    self.name,
                    duration.as_secs(),
                    resume.format("%H:%M:%S")
                );
            }
        }
        tracing::info!(bucket = %self.name, wait_ms = duration.as_millis() as u64, "rate limited: pausing");
    }
}

/// How many requests a window may hold on this side: half a percent (at
/// least one) under the limit, and at least one.
fn allowed(limit: u32) -> usize {
    let margin = (limit / 200).max(1);
    limit.saturating_sub(margin).max(1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `count` permits from `bucket`, holding each for `latency`
    /// (the request's time on the wire), `concurrency` at a time; returns
    /// when each was taken and when it was given back.
    async fn send(
        bucket: &Bucket,
        count: usize,
        concurrency: usize,
        latency: Duration,
    ) -> Vec<(Instant, Instant)> {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..count)
            .map(|_| async {
                let permit = bucket.acquire().await;
                let taken = Instant::now();
                tokio::time::sleep(latency).await;
                drop(permit);
                (taken, Instant::now())
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_left_unused_goes_out_at_once() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let start = Instant::now();
        let sent = send(&bucket, 498, 16, Duration::from_millis(20)).await;
        let last = sent.iter().map(|(taken, _)| *taken).max().unwrap();
        // 498 (the limit less its margin) at 16 at a time: 32 round trips.
        assert_eq!(last - start, Duration::from_millis(20 * 31));
        // One more waits for the window.
        let _ = bucket.acquire().await;
        assert!(Instant::now() - start >= Duration::from_secs(10));
    }

    /// The most of `arrivals` (sorted) that one window of `window`, ending
    /// at one of them, holds.
    fn most_in_a_window(arrivals: &[Instant], window: Duration) -> usize {
        arrivals
            .iter()
            .enumerate()
            .map(|(i, end)| {
                let first = arrivals[..=i].partition_point(|a| *a <= *end - window);
                i + 1 - first
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn answered_within_the_spread_never_more_than_the_limit_in_any_window() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let start = Instant::now();
        let sent = send(&bucket, 1_200, 32, Duration::from_millis(30)).await;
        // A request may reach the server at any moment between its permit
        // and its answer: the worst case is each at the end of its share
        // of the window, so count, for the window ending at each answer,
        // every request whose permit came before that answer and whose
        // answer came after the window began.
        for &(_, end) in &sent {
            let could_arrive = sent
                .iter()
                .filter(|(taken, answered)| {
                    *taken <= end && *answered > end - Duration::from_secs(10)
                })
                .count();
            assert!(
                could_arrive <= 500,
                "{could_arrive} in the window ending at {:?}",
                end - start
            );
        }
        // The third window's worth is sent once the second has passed.
        let last = sent.iter().map(|(taken, _)| *taken).max().unwrap();
        assert!(
            last - start >= Duration::from_secs(20),
            "{:?}",
            last - start
        );
        assert!(last - start < Duration::from_secs(21), "{:?}", last - start);
    }

    #[tokio::test(start_paused = true)]
    async fn at_800_ms_of_latency_a_place_is_held_a_window_and_the_spread_only() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let start = Instant::now();
        let mut sent = send(&bucket, 3 * 498, 100, Duration::from_millis(800)).await;
        sent.sort();
        // Three windows' worth: the third begins two windows and two
        // spreads after the first, not two windows and two latencies.
        let third = sent[2 * 498].0 - start;
        assert!(third >= Duration::from_millis(20_200), "{third:?}");
        assert!(third < Duration::from_millis(20_300), "{third:?}");
        // Each reaches the server 400 ms after its permit, give or take
        // (less than the spread) 90 ms: no window holds more than 500.
        let mut arrivals: Vec<Instant> = sent
            .iter()
            .enumerate()
            .map(|(i, (taken, _))| *taken + Duration::from_millis(400 + (i as u64 * 37) % 90))
            .collect();
        arrivals.sort();
        let most = most_in_a_window(&arrivals, Duration::from_secs(10));
        assert!(most <= 500, "{most} arrivals in one window");
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_goes_first_takes_the_next_place() {
        // A limit of 3 allows 2; both were sent and answered at once.
        let bucket = Bucket::new("clerk", 3, Duration::from_secs(1));
        drop((bucket.acquire().await, bucket.acquire().await));
        let order = Mutex::new(Vec::new());
        // The other request waits before the one that goes first does.
        let other = async {
            let permit = bucket.acquire().await;
            order.lock().unwrap().push("other");
            permit
        };
        let first = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let permit = bucket.acquire_first().await;
            order.lock().unwrap().push("first");
            permit
        };
        let start = Instant::now();
        let _permits = tokio::join!(other, first);
        assert_eq!(*order.lock().unwrap(), ["first", "other"]);
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_still_in_flight_holds_its_place_until_answered() {
        let bucket = Bucket::new("w", 2, Duration::from_secs(1));
        // A limit of 2 allows 1 (the margin); the first is still in flight.
        let first = bucket.acquire().await;
        let start = Instant::now();
        let waiting = async { bucket.acquire().await };
        let answer_in_five_seconds = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(first);
        };
        let (_, permit) = tokio::join!(answer_in_five_seconds, waiting);
        // Free once answered: by then it arrived more than a window ago.
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        drop(permit);
    }
}
