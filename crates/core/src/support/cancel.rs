//! The stop flag, with why the run stopped: set once (by Ctrl-C or SIGTERM
//! through the engine, or by the HTTP layer when a server asks for a wait
//! longer than ferry allows, or refuses the connection for a reason no
//! retry can fix), read by every loop that takes new work, and awaited by
//! every wait, so a sleep or a paused bucket ends at once. What is in
//! flight finishes; nothing new starts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;

use crate::support::kind::ErrorKind;

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// A server asked for a longer wait than the plan allows.
    WaitTooLong {
        service: String,
        seconds: u64,
        allowed: u64,
        /// When the server said to come back, as an RFC 3339 time.
        resume_after: String,
    },
    /// Something no retry fixes: the run cannot go on until it is fixed.
    Configuration { message: String },
    /// A server could not be reached, or refused the key, request after
    /// request: going on would only mark records failed for it.
    Unavailable { message: String },
}

impl Stop {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Interrupted | Self::WaitTooLong { .. } => ErrorKind::Interrupted,
            Self::Configuration { .. } => ErrorKind::Configuration,
            Self::Unavailable { .. } => ErrorKind::Unavailable,
        }
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Interrupted => f.write_str("interrupted"),
            Self::WaitTooLong {
                service,
                seconds,
                allowed,
                resume_after,
            } => write!(
                f,
                "{service} asked to wait {seconds} s, more than the {allowed} s this plan allows (users.max_wait_secs); run again after {resume_after} and it resumes"
            ),
            Self::Configuration { message } | Self::Unavailable { message } => f.write_str(message),
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    stopped: AtomicBool,
    reason: Mutex<Option<Stop>>,
    wake: Notify,
}

/// A flag shared by the engine, the steps it runs and the API clients.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Inner>);

impl Cancel {
    /// Ctrl-C or SIGTERM.
    pub fn cancel(&self) {
        self.stop(Stop::Interrupted);
    }

    /// Stops the run; the first reason given is the one kept.
    pub fn stop(&self, why: Stop) {
        {
            let mut reason = self.0.reason.lock().unwrap_or_else(|p| p.into_inner());
            reason.get_or_insert(why);
        }
        self.0.stopped.store(true, Ordering::SeqCst);
        self.0.wake.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.stopped.load(Ordering::SeqCst)
    }

    /// Why the run stopped, once it has.
    pub fn reason(&self) -> Option<Stop> {
        self.0
            .reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Returns once the run is stopped.
    pub async fn cancelled(&self) {
        loop {
            let woken = self.0.wake.notified();
            let mut woken = std::pin::pin!(woken);
            woken.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            woken.await;
        }
    }

    /// Sleeps for `duration` unless the run stops first; says whether it slept it all.
    pub async fn sleep(&self, duration: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(duration) => !self.is_cancelled(),
            () = self.cancelled() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_ends_a_sleep_at_once_and_keeps_the_first_reason() {
        let cancel = Cancel::default();
        let waker = cancel.clone();
        let started = std::time::Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waker.stop(Stop::Configuration {
                message: "bad certificate".into(),
            });
            waker.cancel();
        });
        assert!(!cancel.sleep(Duration::from_secs(60)).await);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(cancel.reason().unwrap().kind(), ErrorKind::Configuration);
        assert!(
            !cancel.sleep(Duration::from_secs(60)).await,
            "already stopped"
        );
    }
}
