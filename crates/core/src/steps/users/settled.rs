//! The users a run's users step settled from their seals, told to the
//! memberships step while users still runs.
//!
//! A user whose seal held is, for the rest of the run, exactly what the
//! journal held before it: no write, no new seal, the same WorkOS id. A
//! membership of such a user can be decided before the users step ends,
//! on the journal as it is. Once the users step has read its listing
//! whole, the memberships step decides those at once (the users step's
//! last writes may still wait for WorkOS's window) and sets aside only
//! the memberships of users still in its hands, for after it ends.
//!
//! Users are kept as 128-bit keys of their Clerk id under a key chosen at
//! random for the run: a membership is never decided early for a user
//! this set does not hold, and no Clerk id can be made to look like
//! another's.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use tokio::sync::SetOnce;

pub struct SettledUsers {
    keys: Mutex<HashSet<u128>>,
    /// Two independently keyed hashers, one for each half of a key.
    halves: (RandomState, RandomState),
    /// Set once the users step has read its listing whole.
    listing_read: SetOnce<()>,
}

impl Default for SettledUsers {
    fn default() -> Self {
        Self {
            keys: Mutex::new(HashSet::new()),
            halves: (RandomState::new(), RandomState::new()),
            listing_read: SetOnce::new(),
        }
    }
}

impl SettledUsers {
    fn key(&self, clerk_id: &str) -> u128 {
        let high = self.halves.0.hash_one(clerk_id);
        let low = self.halves.1.hash_one(clerk_id);
        (u128::from(high) << 64) | u128::from(low)
    }

    /// Says the users step settled this user from its seal.
    pub fn add(&self, clerk_id: &str) {
        let key = self.key(clerk_id);
        self.keys.lock().expect("settled lock").insert(key);
    }

    /// Whether the users step settled this user from its seal.
    pub fn holds(&self, clerk_id: &str) -> bool {
        let key = self.key(clerk_id);
        self.keys.lock().expect("settled lock").contains(&key)
    }

    /// Says the users step has read its listing whole: every user it will
    /// settle from a seal is either settled or still in its hands.
    pub fn listing_read(&self) {
        // A second call (there is none) would change nothing.
        let _ = self.listing_read.set(());
    }

    /// Waits until the users step has read its listing whole.
    pub async fn wait_for_the_listing(&self) {
        self.listing_read.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holds_what_was_added_and_says_when_the_listing_was_read() {
        use futures_util::FutureExt;
        let settled = SettledUsers::default();
        settled.add("user_1");
        assert!(settled.holds("user_1"));
        assert!(!settled.holds("user_2"));
        let mut wait = std::pin::pin!(settled.wait_for_the_listing());
        assert!(wait.as_mut().now_or_never().is_none());
        settled.listing_read();
        assert_eq!(wait.as_mut().now_or_never(), Some(()));
    }
}
