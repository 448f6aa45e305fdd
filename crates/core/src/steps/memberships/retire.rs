//! What undo and sync do with the memberships ferry made.

use crate::steps::retire::{Verdict, belonging, keep};
use crate::support::reason::ReasonCode;

/// Undo, for a membership ferry made: it stays with a kept user.
pub fn undo(user_kept: bool) -> Verdict {
    belonging(user_kept, "membership")
}

/// Sync, for a membership removed in Clerk: it takes the person's access
/// away, so it goes from WorkOS too, whatever `on_deleted` says of people,
/// unless ferry did not create it.
pub fn gone(created: bool) -> Verdict {
    match created {
        true => Verdict::Delete,
        false => keep(
            ReasonCode::Adopted,
            "removed in Clerk; it was in WorkOS before ferry (adopted), so ferry leaves it: remove it there if it should go",
        ),
    }
}
