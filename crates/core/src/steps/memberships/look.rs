//! How a memberships pass learns what WorkOS holds: by listing every
//! organization's memberships, or by WorkOS's events since the journal's
//! cursor ([`crate::target::changes`]), which name the organizations to
//! list again; and the Clerk users whose WorkOS user was deleted, whose
//! memberships are decided against a listing wherever they are.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::journal::{Journal, Kind};
use crate::target::changes;
use crate::workos::client::WorkosClient;

/// How a pass learns what WorkOS holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// Lists every organization's WorkOS memberships and moves no cursor
    /// (a preview).
    ListEvery,
    /// Lists every organization's, then moves the cursor (`--reconcile`).
    ListEveryThenMark,
    /// Reads WorkOS's events since the journal's cursor and lists ahead
    /// only the organizations they name, then moves the cursor.
    FollowEvents,
}

/// What WorkOS's events say for this pass: which organizations are quiet,
/// and whose memberships to decide against a listing anyway.
pub(super) struct Quiet {
    pub(super) changes: changes::Changes,
    /// The Clerk ids of the users whose WorkOS user was deleted.
    pub(super) users_deleted: Arc<HashSet<String>>,
}

impl Quiet {
    pub(super) fn organization(&self, target_id: Option<&str>) -> bool {
        target_id.is_some_and(|id| !self.changes.organizations.contains(id))
    }
}

/// Reads WorkOS's events since the journal's cursor, when `look` asks and
/// they can be trusted; `Err` says why every organization is listed.
pub(super) async fn quiet(
    workos: &WorkosClient,
    journal: &Mutex<Journal>,
    look: Look,
    now: DateTime<Utc>,
) -> Result<Quiet, changes::Unusable> {
    if look != Look::FollowEvents {
        return Err(changes::Unusable::Reconcile);
    }
    let cursor = changes::cursor(&journal.lock().expect("journal lock"))
        .map_err(|e| changes::Unusable::Unreadable { why: e.to_string() })?;
    let since = changes::usable(cursor, now)?;
    let changes = changes::read(workos, since).await?;
    let users_deleted = match changes.users_deleted.is_empty() {
        true => HashSet::new(),
        // Rare (a user deleted in WorkOS): one pass over the journal's users.
        false => journal
            .lock()
            .expect("journal lock")
            .id_map(Kind::User)
            .map_err(|e| changes::Unusable::Unreadable { why: e.to_string() })?
            .into_iter()
            .filter(|(_, target)| changes.users_deleted.contains(target))
            .map(|(source, _)| source)
            .collect(),
    };
    Ok(Quiet {
        changes,
        users_deleted: Arc::new(users_deleted),
    })
}
