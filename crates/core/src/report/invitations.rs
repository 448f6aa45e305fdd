//! The report's Invitations section: what became of Clerk's pending
//! invitations, and how many emails the run caused (WorkOS sends one per
//! invitation ferry sent; none when the plan only lists them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InvitationSummary {
    /// Whether the plan says `send: true`.
    pub send: bool,
    /// Pending in Clerk (organizations' and the application's).
    pub pending: u64,
    /// Pending and listed only (the plan does not send).
    pub listed: u64,
    /// Sent by this run: the emails it caused.
    pub sent: u64,
    /// Sent by an earlier run (or found sent): never sent again.
    pub sent_before: u64,
    /// Revoked in WorkOS because they were revoked in Clerk.
    pub revoked: u64,
    /// Not sent, by reason code.
    pub not_sent: BTreeMap<String, u64>,
    /// Not pending in Clerk, by status (accepted, revoked, expired): never sent.
    pub not_pending: BTreeMap<String, u64>,
    pub list_csv: String,
}
