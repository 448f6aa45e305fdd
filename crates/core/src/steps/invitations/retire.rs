//! What undo and sync do with the invitations ferry sent: revoke one that
//! is still pending (its link stops working; the email it sent cannot be
//! taken back), leave one that was accepted (its invitee is a member now)
//! or that is not the one ferry sent, and count one that expired or was
//! revoked already as gone.

use chrono::{DateTime, Utc};

pub use crate::steps::retire::Verdict;
use crate::steps::retire::keep;
use crate::support::reason::ReasonCode;

/// The WorkOS invitation under the journal's id, as undo and sync see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<'a> {
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub state: &'a str,
    /// It is the one ferry sent: made since ferry began working on this
    /// target (and, where the Clerk invitation is known, to its invitee in
    /// its organization).
    pub ferrys: bool,
}

/// Whether WorkOS made an object at `created_at` (RFC 3339) since ferry
/// began working on this target (`since`): not before, and readable.
pub fn made_since(created_at: &str, since: Option<DateTime<Utc>>) -> bool {
    let made = DateTime::parse_from_rfc3339(created_at).map(|at| at.with_timezone(&Utc));
    matches!((made, since), (Ok(made), Some(since)) if made >= since)
}

/// Undo, and a sync for an invitation revoked in Clerk (`None`: WorkOS
/// has no invitation under the journal's id).
pub fn revoke(held: Option<Held<'_>>) -> Verdict {
    match held {
        None => Verdict::Gone,
        Some(Held { ferrys: false, .. }) => keep(
            ReasonCode::RelinkedOutsideFerry,
            "the WorkOS invitation under the journal's id is not the one ferry sent (another address or organization, or made before ferry): left alone",
        ),
        Some(Held {
            state: "pending", ..
        }) => Verdict::Delete,
        Some(Held {
            state: "accepted", ..
        }) => keep(
            ReasonCode::InvitationAccepted,
            "accepted in WorkOS: its invitee is a member now, and stays",
        ),
        Some(_) => Verdict::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ferry_s_pending_invitation_is_revoked() {
        let held = |state, ferrys| Some(Held { state, ferrys });
        assert_eq!(revoke(held("pending", true)), Verdict::Delete);
        assert!(
            matches!(revoke(held("accepted", true)), Verdict::Keep(r) if r.code == ReasonCode::InvitationAccepted)
        );
        assert_eq!(revoke(held("revoked", true)), Verdict::Gone);
        assert_eq!(revoke(held("expired", true)), Verdict::Gone);
        assert!(
            matches!(revoke(held("pending", false)), Verdict::Keep(r) if r.code == ReasonCode::RelinkedOutsideFerry)
        );
        assert_eq!(revoke(None), Verdict::Gone);
    }

    #[test]
    fn made_since_ferry_began() {
        let since = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(made_since("2026-12-07T10:00:00.000Z", Some(since)));
        assert!(made_since("2026-12-08T00:00:00Z", Some(since)));
        assert!(!made_since("2026-12-06T23:59:59Z", Some(since)));
        assert!(!made_since("yesterday", Some(since)));
        assert!(!made_since("2026-12-08T00:00:00Z", None));
    }
}
