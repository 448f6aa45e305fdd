//! The sign-off's accounting: every user the journal holds in exactly one
//! bucket (migrated with their password, migrated needing a reset,
//! migrated without a password, skipped by reason, rejected by reason,
//! failed, removed), then reconciled with Clerk's own count.
//!
//! The buckets describe the migration as it stands after every run on the
//! journal (one row per user there, so a user cannot be in two), which is
//! what a sign-off is about; the reconciliation uses what this run's users
//! step saw of Clerk: users the journal holds that Clerk's listing no
//! longer has (deleted since, or export rows with no Clerk user), users
//! the run did not reach, and users who signed up while it listed.

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use crate::journal::{Action, SignsIn, UserGroup};
use crate::support::reason::ReasonCode;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Accounting {
    /// Each user of the journal in one bucket, in a fixed order of groups.
    pub buckets: Vec<Bucket>,
    /// The buckets' sum: the users the journal holds.
    pub in_journal: u64,
    /// Held by the journal, not in this run's listing of Clerk.
    pub not_in_clerk: u64,
    /// In Clerk's count, not reached by this run (it stopped).
    pub not_reached: u64,
    /// Listed beyond Clerk's count: signed up while the run listed.
    pub signed_up_during: u64,
    /// Clerk's user count when this run listed users; `None` when its users
    /// step did not finish.
    pub clerk_users: Option<u64>,
    /// `in_journal − not_in_clerk + not_reached − signed_up_during` equals
    /// `clerk_users`.
    pub reconciles: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Bucket {
    /// `migrated`, `skipped`, `rejected`, `failed` or `removed`.
    pub group: String,
    pub label: String,
    pub users: u64,
}

/// What this run's users step saw of Clerk.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ClerkSide {
    /// Clerk's count before the listing.
    pub counted: u64,
    /// Clerk users the step handled: listed, or fetched by id.
    pub handled: u64,
}

/// The accounting of `groups` (from [`crate::journal::Journal::user_groups`]),
/// reconciled with `clerk` when this run's users step finished.
pub fn account(groups: &[UserGroup], clerk: Option<ClerkSide>) -> Accounting {
    let mut buckets = Vec::new();
    let mut add = |group: &str, label: &str, users: u64| {
        if users > 0 {
            buckets.push(Bucket {
                group: group.to_owned(),
                label: label.to_owned(),
                users,
            });
        }
    };
    let sum = |keep: &dyn Fn(&UserGroup) -> bool| -> u64 {
        groups.iter().filter(|g| keep(g)).map(|g| g.count).sum()
    };
    let migrated = |g: &UserGroup| g.action.wrote_target();
    let reset = |g: &UserGroup| g.needs_reset || g.signs_in == Some(SignsIn::Reset);
    add(
        "migrated",
        "with their password (its digest was imported)",
        sum(&|g| migrated(g) && !reset(g) && g.signs_in == Some(SignsIn::Password)),
    );
    add(
        "migrated",
        "must set a password (reset: the digest could not be carried)",
        sum(&|g| migrated(g) && reset(g)),
    );
    add(
        "migrated",
        "without a password (social or passwordless sign-in)",
        sum(&|g| migrated(g) && !reset(g) && g.signs_in == Some(SignsIn::NoPassword)),
    );
    add(
        "migrated",
        "sign-in not recorded (migrated by an earlier ferry version)",
        sum(&|g| migrated(g) && !reset(g) && g.signs_in.is_none()),
    );
    for (action, group) in [(Action::Skipped, "skipped"), (Action::Rejected, "rejected")] {
        for (reason, users) in by_reason(groups, action) {
            add(group, &reason, users);
        }
    }
    add(
        "failed",
        "failed (the next run tries them again)",
        sum(&|g| g.action == Action::Failed),
    );
    add(
        "removed",
        "deleted from WorkOS by undo or sync",
        sum(&|g| g.action == Action::Deleted),
    );
    let in_journal: u64 = buckets.iter().map(|b| b.users).sum();
    let mut accounting = Accounting {
        buckets,
        in_journal,
        ..Accounting::default()
    };
    if let Some(ClerkSide { counted, handled }) = clerk {
        accounting.clerk_users = Some(counted);
        accounting.not_in_clerk = in_journal.saturating_sub(handled);
        accounting.not_reached = counted.saturating_sub(handled);
        accounting.signed_up_during = handled.saturating_sub(counted);
        // Fails only when users this run handled are missing from the journal.
        accounting.reconciles = in_journal + accounting.not_reached
            == counted + accounting.not_in_clerk + accounting.signed_up_during;
    }
    accounting
}

/// The users of `action` by their reason's code, most first, each named
/// `code: what it means` (the codes are few: every one gets its line).
fn by_reason(groups: &[UserGroup], action: Action) -> Vec<(String, u64)> {
    let mut codes: BTreeMap<ReasonCode, u64> = BTreeMap::new();
    for group in groups.iter().filter(|g| g.action == action) {
        *codes
            .entry(group.reason.unwrap_or(ReasonCode::Unclassified))
            .or_default() += group.count;
    }
    let mut reasons: Vec<(String, u64)> = codes
        .into_iter()
        .map(|(code, users)| (format!("{code}: {}", code.meaning()), users))
        .collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        action: Action,
        signs_in: Option<SignsIn>,
        reset: bool,
        reason: Option<ReasonCode>,
        count: u64,
    ) -> UserGroup {
        UserGroup {
            action,
            signs_in,
            needs_reset: reset,
            reason,
            count,
        }
    }

    #[test]
    fn every_user_is_in_one_bucket_and_the_total_is_clerk_s_count() {
        let groups = [
            group(Action::Created, Some(SignsIn::Password), false, None, 60),
            group(Action::Unchanged, Some(SignsIn::Password), false, None, 10),
            group(Action::Created, Some(SignsIn::Reset), true, None, 7),
            group(Action::Created, Some(SignsIn::NoPassword), false, None, 12),
            group(Action::Skipped, None, false, Some(ReasonCode::Banned), 5),
            group(Action::Rejected, None, false, Some(ReasonCode::NoEmail), 3),
            group(Action::Failed, None, false, None, 1),
        ];
        let accounting = account(
            &groups,
            Some(ClerkSide {
                counted: 98,
                handled: 98,
            }),
        );
        let labels: Vec<(&str, u64)> = accounting
            .buckets
            .iter()
            .map(|b| (b.group.as_str(), b.users))
            .collect();
        assert_eq!(
            labels,
            [
                ("migrated", 70),
                ("migrated", 7),
                ("migrated", 12),
                ("skipped", 5),
                ("rejected", 3),
                ("failed", 1)
            ]
        );
        assert_eq!(accounting.in_journal, 98);
        assert!(accounting.reconciles);
        assert_eq!((accounting.not_in_clerk, accounting.not_reached), (0, 0));
    }

    #[test]
    fn a_stopped_run_and_users_gone_from_clerk_are_reconciled_not_hidden() {
        let groups = [
            group(Action::Created, Some(SignsIn::Password), false, None, 50),
            group(
                Action::Skipped,
                None,
                false,
                Some(ReasonCode::DeletedInClerk),
                2,
            ),
        ];
        // Clerk counts 80; the run handled 48 of them before it stopped.
        let accounting = account(
            &groups,
            Some(ClerkSide {
                counted: 80,
                handled: 48,
            }),
        );
        assert_eq!(accounting.not_in_clerk, 4);
        assert_eq!(accounting.not_reached, 32);
        assert!(accounting.reconciles);
        let unknown = account(&groups, None);
        assert_eq!(unknown.clerk_users, None);
        assert!(!unknown.reconciles);
    }

    #[test]
    fn skipped_and_rejected_users_are_counted_by_code() {
        let groups = [
            group(
                Action::Rejected,
                None,
                false,
                Some(ReasonCode::EmailInvalid),
                4,
            ),
            group(
                Action::Rejected,
                None,
                false,
                Some(ReasonCode::HookRejected),
                2,
            ),
            group(
                Action::Rejected,
                None,
                false,
                Some(ReasonCode::EmailInvalid),
                3,
            ),
            group(Action::Skipped, None, false, None, 1),
        ];
        let buckets: Vec<(String, String, u64)> = account(&groups, None)
            .buckets
            .into_iter()
            .filter(|b| b.users > 0)
            .map(|b| (b.group, b.label, b.users))
            .collect();
        assert_eq!(
            buckets,
            [
                (
                    "skipped".into(),
                    "unclassified: Recorded by an earlier ferry, before reasons had codes.".into(),
                    1
                ),
                (
                    "rejected".into(),
                    "email_invalid: The email is not one WorkOS takes.".into(),
                    7
                ),
                (
                    "rejected".into(),
                    "hook_rejected: A hook rejected the record (`throw \"why\"`).".into(),
                    2
                ),
            ]
        );
    }
}
