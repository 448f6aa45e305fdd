//! What undo and sync do with the organizations ferry made.

use crate::plan::schema::OnDeleted;
use crate::steps::retire::{Verdict, gone_as_planned, keep};
use crate::support::reason::ReasonCode;

/// Undo, for an organization ferry made, once undo took away the
/// memberships it made: deleting it would take the members left with it
/// (kept users, or people added outside ferry).
pub fn undo(members_left: usize) -> Verdict {
    match members_left {
        0 => Verdict::Delete,
        n => keep(
            ReasonCode::HasMembers,
            format!(
                "{n} member{} left (kept users or people added outside ferry); deleting it would remove them",
                if n == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// Sync, for an organization deleted in Clerk: as the plan says.
pub fn gone(created: bool, on_deleted: OnDeleted) -> Verdict {
    gone_as_planned("organization", created, on_deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::reason::Reason;

    #[test]
    fn an_organization_keeps_the_members_left_in_it() {
        assert_eq!(undo(0), Verdict::Delete);
        assert_eq!(
            undo(2),
            Verdict::Keep(Reason::new(
                ReasonCode::HasMembers,
                "2 members left (kept users or people added outside ferry); deleting it would remove them"
            ))
        );
    }
}
