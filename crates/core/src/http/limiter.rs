//! Sliding windows sized from an API's documented limits.
//!
//! A limit reads "N requests per window": no window of that length may see
//! more than N requests arrive. Each [`Bucket`] keeps exactly that, with
//! what it can know from the client's side: a request holds a [`Permit`]
//! from just before it is sent until its answer is read, and counts
//! against the window until a whole window has passed since that answer.
//! A request arrives after its permit was taken and before its answer, so
//! every request the server can count in a window ending at some arrival
//! is one this bucket counted when it let the newest of them go: whatever
//! the latency or its jitter, the server never sees more than the bucket
//! allows (half a percent under the limit, for a server that counts its
//! window's edges differently).
//!
//! A window does not have to be spent evenly: the budget a step left
//! unused while it was reading (a long listing) goes out at once when the
//! writes come, instead of at an even pace after it. When the server still
//! answers 429, [`Bucket::pause`] makes every task using the bucket wait out
//! `Retry-After`, not just the one that was refused.

use std::collections::VecDeque;
use std::sync::Mutex;
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
    /// Woken when an answer comes while every request of the window is
    /// still in flight (nothing can expire before one is answered).
    answered: Notify,
    paused_until: Mutex<Option<Instant>>,
}

/// The requests a bucket counts now.
#[derive(Default)]
struct Window {
    /// Permits taken and not yet given back.
    in_flight: usize,
    /// When answered requests were answered, oldest first, as (time, how
    /// many): answers within a millisecond share one entry, at the latest
    /// of their times, so the memory is bounded by the window's length in
    /// milliseconds as well as by the limit.
    answered: VecDeque<(Instant, usize)>,
    /// The sum of the counts in `answered`.
    answered_count: usize,
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
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        let mut window = self.bucket.state.lock().expect("window lock");
        window.in_flight = window.in_flight.saturating_sub(1);
        window.answered_count += 1;
        match window.answered.back_mut() {
            Some((at, count)) if now.duration_since(*at) < Duration::from_millis(1) => {
                *at = now;
                *count += 1;
            }
            _ => window.answered.push_back((now, 1)),
        }
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
            paused_until: Mutex::new(None),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits until this bucket may send one more request; the permit counts
    /// it until dropped (drop it once the answer is read).
    pub async fn acquire(&self) -> Permit<'_> {
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
                while let Some(&(at, count)) = window.answered.front() {
                    if at + self.window > now {
                        break;
                    }
                    window.answered.pop_front();
                    window.answered_count -= count;
                }
                if window.in_flight + window.answered_count < self.allowed {
                    window.in_flight += 1;
                    return Permit { bucket: self };
                }
                window.answered.front().map(|(at, _)| *at + self.window)
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
        let sent = send(&bucket, 497, 16, Duration::from_millis(20)).await;
        let last = sent.iter().map(|(taken, _)| *taken).max().unwrap();
        // 497 (the limit less its margin) at 16 at a time: 32 round trips.
        assert_eq!(last - start, Duration::from_millis(20 * 31));
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_any_window_whatever_the_latency() {
        let bucket = Bucket::new("writes", 500, Duration::from_secs(10));
        let start = Instant::now();
        let mut sent = send(&bucket, 1_200, 32, Duration::from_millis(30)).await;
        sent.sort();
        // A request may reach the server at any moment between its permit
        // and its answer: count, for the window ending at each answer,
        // every request whose permit came before that answer and whose
        // answer came after the window began (all it could have arrived in).
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
    async fn a_request_still_in_flight_holds_its_place() {
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
        // Free a window after the first was answered, not after it was sent.
        assert_eq!(Instant::now() - start, Duration::from_secs(6));
        drop(permit);
    }
}
