//! Which of a run's steps have ended, for a step that runs beside another
//! and needs it finished only partway through: `memberships` reads ahead
//! while `users` still writes and decides (those of users not settled from
//! their seals) once users has ended; `verify`
//! reads users, organizations and TOTP factors while `memberships` still
//! writes, and checks memberships once that step has ended.
//!
//! A step ends when it finishes, fails, or will never start (the run
//! stopped first); the last two end it as not finished. A step the plan
//! does not have has ended already, finished.

use std::sync::Mutex;

use tokio::sync::Notify;

use crate::plan::StepKind;

pub struct Ended {
    state: Mutex<State>,
    changed: Notify,
}

struct State {
    /// The plan's steps that have not ended.
    pending: Vec<StepKind>,
    /// Steps that ended without finishing (failed, stopped, or never started).
    unfinished: Vec<StepKind>,
}

impl Ended {
    /// None of `steps` has ended.
    pub fn new(steps: impl IntoIterator<Item = StepKind>) -> Self {
        Self {
            state: Mutex::new(State {
                pending: steps.into_iter().collect(),
                unfinished: Vec::new(),
            }),
            changed: Notify::new(),
        }
    }

    /// One step named `step` has ended; `finished` says whether it ran to its end.
    pub fn end(&self, step: StepKind, finished: bool) {
        let mut state = self.state.lock().expect("ended lock");
        if let Some(at) = state.pending.iter().position(|&s| s == step) {
            state.pending.remove(at);
        }
        if !finished {
            state.unfinished.push(step);
        }
        drop(state);
        self.changed.notify_waiters();
    }

    /// Waits until every step named `step` has ended; true when each finished.
    pub async fn wait(&self, step: StepKind) -> bool {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            // Registered before looking, so an end in between is not missed.
            changed.as_mut().enable();
            {
                let state = self.state.lock().expect("ended lock");
                if !state.pending.contains(&step) {
                    return !state.unfinished.contains(&step);
                }
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_ends_when_the_step_ends_and_not_before() {
        use futures_util::FutureExt;

        use StepKind::{Memberships, Roles, Users};
        let ended = Ended::new([Users, Memberships]);
        // A step the plan does not have has ended already.
        assert_eq!(ended.wait(Roles).now_or_never(), Some(true));
        let mut wait = std::pin::pin!(ended.wait(Memberships));
        assert!(wait.as_mut().now_or_never().is_none());
        ended.end(Users, false);
        assert!(wait.as_mut().now_or_never().is_none(), "another step ended");
        ended.end(Memberships, true);
        assert_eq!(wait.as_mut().now_or_never(), Some(true));
        // users ended without finishing.
        assert_eq!(ended.wait(Users).now_or_never(), Some(false));
    }
}
