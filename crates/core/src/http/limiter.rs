//! Sliding windows sized from an API's documented limits.
//!
//! A limit reads "N requests per window": no window of that length may see
//! more than N requests arrive. Each [`Bucket`] keeps that with what it
//! can know from the client's side. A request holds a [`Permit`] from just
//! before it is sent until its answer was read; it then counts against the
//! window until a whole window has passed since its answer less the fastest
//! round trip the bucket has seen. The reasoning: each way, a request takes
//! a fixed least time plus a delay of its own (queues, the server's load,
//! the network). What one request was delayed beyond another on its way
//! there, it took beyond the fastest round trip in all, so a request
//! counted this way reaches the server no later, against any request sent
//! after it, than the window allows. At a steady latency a place is held
//! about a window (at 800 ms, counting to the answer would hold it 8%
//! longer, and the limit would never be reached); when some answers come
//! late (a loaded server, a slow page) each is held up to its answer.
//! The bucket allows half a percent under the limit, for a server that
//! counts its window's edges differently.
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

/// The requests a bucket counts now.
#[derive(Default)]
struct Window {
    /// Permits taken and not yet given back.
    in_flight: usize,
    /// When each request given back was answered, the earliest first: at
    /// most the bucket's allowance, and only those still counted.
    answered: BinaryHeap<Reverse<Instant>>,
    /// The fastest round trip seen, from permit to answer.
    fastest: Option<Duration>,
}

impl Window {
    /// How long after its answer a request stops counting.
    fn held_after_answer(&self, window: Duration) -> Duration {
        window.saturating_sub(self.fastest.unwrap_or_default())
    }
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
        let now = Instant::now();
        let round_trip = now.duration_since(self.taken);
        let mut window = self.bucket.state.lock().expect("window lock");
        window.in_flight = window.in_flight.saturating_sub(1);
        window.fastest = Some(window.fastest.map_or(round_trip, |f| f.min(round_trip)));
        window.answered.push(Reverse(now));
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
                let held = window.held_after_answer(self.window);
                while let Some(&Reverse(at)) = window.answered.peek() {
                    if at + held > now {
                        break;
                    }
                    window.answered.pop();
                }
                // One that goes first is waiting: stand back until it went.
                let standing_back = !first && self.first_waiting.load(Ordering::SeqCst) > 0;
                if !standing_back && window.in_flight + window.answered.len() < self.allowed {
                    window.in_flight += 1;
                    return Permit {
                        bucket: self,
                        taken: now,
                    };
                }
                match standing_back {
                    true => None,
                    false => window.answered.peek().map(|Reverse(at)| *at + held),
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

    /// One request as the tests send it: when its permit was taken, when it
    /// reached the server, when its answer was read.
    struct Sent {
        taken: Instant,
        arrived: Instant,
    }

    /// Takes `count` permits from `bucket`, `concurrency` at a time; the
    /// i-th request spends `delays(i)` on its way there and on its way back.
    async fn send(
        bucket: &Bucket,
        count: usize,
        concurrency: usize,
        delays: impl Fn(usize) -> (Duration, Duration),
    ) -> Vec<Sent> {
        use futures_util::StreamExt;
        let delays = &delays;
        let mut sent: Vec<Sent> = futures_util::stream::iter(0..count)
            .map(|i| async move {
                let permit = bucket.acquire().await;
                let taken = Instant::now();
                let (there, back) = delays(i);
                tokio::time::sleep(there).await;
                let arrived = Instant::now();
                tokio::time::sleep(back).await;
                drop(permit);
                Sent { taken, arrived }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        sent.sort_by_key(|s| s.taken);
        sent
    }

    /// The most requests one window of `window`, ending at an arrival,
    /// saw arrive.
    fn most_in_a_window(sent: &[Sent], window: Duration) -> usize {
        let mut arrivals: Vec<Instant> = sent.iter().map(|s| s.arrived).collect();
        arrivals.sort();
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

    fn steady(each_way: u64) -> impl Fn(usize) -> (Duration, Duration) {
        move |_| {
            (
                Duration::from_millis(each_way),
                Duration::from_millis(each_way),
            )
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_left_unused_goes_out_at_once() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let start = Instant::now();
        let sent = send(&bucket, 498, 16, steady(10)).await;
        // 498 (the limit less its margin) at 16 at a time: 32 round trips.
        assert_eq!(
            sent.last().unwrap().taken - start,
            Duration::from_millis(20 * 31)
        );
        // One more waits for the window.
        let _ = bucket.acquire().await;
        assert!(Instant::now() - start >= Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn at_a_steady_latency_a_place_is_held_a_window() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let start = Instant::now();
        let sent = send(&bucket, 3 * 498, 100, steady(400)).await;
        // Three windows' worth at 800 ms a round trip: the third begins two
        // windows after the first, not two windows and two round trips.
        let third = sent[2 * 498].taken - start;
        assert!(third >= Duration::from_secs(20), "{third:?}");
        assert!(third < Duration::from_millis(20_050), "{third:?}");
        assert!(most_in_a_window(&sent, Duration::from_secs(10)) <= 500);
    }

    #[tokio::test(start_paused = true)]
    async fn however_each_request_is_delayed_no_window_sees_more_than_the_limit() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        // A least time each way plus a delay of each request's own, up to
        // ten times that least time, either way, spread over the requests.
        let delays = |i: usize| {
            let own = |salt: usize| (i * 7_919 + salt * 104_729) % 997;
            (
                Duration::from_millis(40 + own(1) as u64 / 2),
                Duration::from_millis(40 + own(2) as u64 / 2),
            )
        };
        let sent = send(&bucket, 2_000, 64, delays).await;
        let most = most_in_a_window(&sent, Duration::from_secs(10));
        assert!(most <= 500, "{most} arrivals in one window");
        // And the limit is used: four windows' worth (and 8) in about four
        // windows, each place held past its window by no more than the
        // delays beyond the fastest round trip.
        let last = sent.last().unwrap().taken - sent[0].taken;
        assert!(last >= Duration::from_secs(40), "{last:?}");
        assert!(last < Duration::from_millis(42_500), "{last:?}");
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
