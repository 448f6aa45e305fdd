//! What undo does with the roles ferry made (sync leaves roles alone).

use crate::steps::retire::Verdict;

/// Undo, for a role ferry made: WorkOS has no API to delete an environment
/// role (the OpenAPI spec's `/authorization/roles/{slug}` has GET and
/// PATCH only).
pub fn undo() -> Verdict {
    Verdict::Keep(
        "WorkOS's API cannot delete an environment role; delete it in the WorkOS dashboard".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_kept_and_says_where_to_delete_it() {
        assert!(matches!(undo(), Verdict::Keep(reason) if reason.contains("WorkOS dashboard")));
    }
}
