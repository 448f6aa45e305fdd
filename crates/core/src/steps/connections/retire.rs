//! What undo and sync do with the connections ferry made.

use crate::plan::schema::OnDeleted;
use crate::steps::retire::{Verdict, gone_as_planned};

/// Undo, for a connection ferry created: delete it, unless it is gone
/// already. A connection holds no person, so nothing keeps it.
pub fn undo(still_there: bool) -> Verdict {
    match still_there {
        true => Verdict::Delete,
        false => Verdict::Gone,
    }
}

/// Sync, for a connection deleted in Clerk: as the plan says.
pub fn gone(created: bool, on_deleted: OnDeleted) -> Verdict {
    gone_as_planned("connection", created, on_deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_goes_unless_it_is_gone() {
        assert_eq!(undo(true), Verdict::Delete);
        assert_eq!(undo(false), Verdict::Gone);
    }
}
