//! Which of a run's steps have ended, for a step that runs beside another
//! and needs it finished only partway through: `verify` reads users,
//! organizations and TOTP factors while `memberships` still writes, and
//! checks memberships once that step has ended.
//!
//! A step ends when it finishes, fails, or will never start (the run
//! stopped first); a step the plan does not have has ended already.

use std::sync::Mutex;

use tokio::sync::Notify;

pub struct Ended {
    /// The plan's steps that have not ended, by name.
    pending: Mutex<Vec<String>>,
    changed: Notify,
}

impl Ended {
    /// None of `steps` has ended.
    pub fn new<'a>(steps: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            pending: Mutex::new(steps.into_iter().map(str::to_owned).collect()),
            changed: Notify::new(),
        }
    }

    /// One step named `step` has ended.
    pub fn end(&self, step: &str) {
        let mut pending = self.pending.lock().expect("ended lock");
        if let Some(at) = pending.iter().position(|s| s == step) {
            pending.remove(at);
        }
        drop(pending);
        self.changed.notify_waiters();
    }

    /// Waits until every step named `step` has ended.
    pub async fn wait(&self, step: &str) {
        loop {
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            // Registered before looking, so an end in between is not missed.
            changed.as_mut().enable();
            if !self
                .pending
                .lock()
                .expect("ended lock")
                .iter()
                .any(|s| s == step)
            {
                return;
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

        let ended = Ended::new(["users", "memberships"]);
        // A step the plan does not have has ended already.
        assert!(ended.wait("roles").now_or_never().is_some());
        let mut wait = std::pin::pin!(ended.wait("memberships"));
        assert!(wait.as_mut().now_or_never().is_none());
        ended.end("users");
        assert!(wait.as_mut().now_or_never().is_none(), "another step ended");
        ended.end("memberships");
        assert!(wait.as_mut().now_or_never().is_some());
    }
}
