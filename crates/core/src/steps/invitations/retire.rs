//! What undo and sync do with the invitations ferry sent: revoke one that
//! is still pending (its link stops working; the email it sent cannot be
//! taken back), leave one that was accepted (its invitee is a member now),
//! and count one that expired or was revoked already as gone.

pub use crate::steps::retire::Verdict;
use crate::steps::retire::keep;
use crate::support::reason::ReasonCode;

/// Undo, and a sync for an invitation revoked in Clerk, given the WorkOS
/// invitation's state (`None`: WorkOS has no such invitation).
pub fn revoked_in_clerk(state: Option<&str>) -> Verdict {
    match state {
        Some("pending") => Verdict::Delete,
        Some("accepted") => keep(
            ReasonCode::InvitationAccepted,
            "accepted in WorkOS: its invitee is a member now, and stays",
        ),
        _ => Verdict::Gone,
    }
}

/// Undo, for an invitation ferry sent.
pub fn undo(state: Option<&str>) -> Verdict {
    revoked_in_clerk(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pending_invitation_is_revoked() {
        assert_eq!(undo(Some("pending")), Verdict::Delete);
        assert!(matches!(undo(Some("accepted")), Verdict::Keep(_)));
        assert_eq!(undo(Some("revoked")), Verdict::Gone);
        assert_eq!(undo(Some("expired")), Verdict::Gone);
        assert_eq!(undo(None), Verdict::Gone);
    }
}
