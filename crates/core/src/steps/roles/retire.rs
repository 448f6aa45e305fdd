//! What undo does with the roles ferry made (sync leaves roles alone).

use crate::steps::retire::{Verdict, keep};
use crate::support::reason::ReasonCode;

/// Undo, for a role ferry made: WorkOS has no API to delete an environment
/// role (the OpenAPI spec's `/authorization/roles/{slug}` has GET and
/// PATCH only).
pub fn undo() -> Verdict {
    keep(
        ReasonCode::NotDeletable,
        "WorkOS's API cannot delete an environment role; delete it in the WorkOS dashboard",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_kept_and_says_where_to_delete_it() {
        assert!(
            matches!(undo(), Verdict::Keep(reason) if reason.code == ReasonCode::NotDeletable && reason.detail.contains("WorkOS dashboard"))
        );
    }
}
