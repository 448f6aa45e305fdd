//! What undo and sync do with the objects the steps made. Each step's
//! room says it for its own objects (`steps/<step>/retire.rs`: pure rules
//! with their tests); here is what they share: the verdict, and the rules
//! every kind follows (an object re-linked or adopted is never ferry's to
//! delete, an object of a kept user stays with it, a person or an
//! organization gone from Clerk goes only when the plan says so).

use crate::plan::schema::OnDeleted;
use crate::support::reason::{Reason, ReasonCode};

/// One object's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ferry made it and nothing stands in the way: delete it.
    Delete,
    /// WorkOS no longer has it: record it as deleted, without a request.
    Gone,
    /// Left in place, and listed with the reason.
    Keep(Reason),
}

/// Why an object the journal names is not deleted: WorkOS gives it
/// another external_id than the Clerk id ferry wrote.
pub fn not_ours(what: &str, target_id: &str, now: Option<&str>) -> Reason {
    Reason::new(
        ReasonCode::RelinkedOutsideFerry,
        format!(
            "relinked_outside_ferry: WorkOS {what} {target_id} now carries {}, not the Clerk id ferry gave it; undo deletes only what is still ferry's",
            crate::target::reconcile::carried(now)
        ),
    )
}

/// A kept object, and why.
pub fn keep(code: ReasonCode, detail: impl Into<String>) -> Verdict {
    Verdict::Keep(Reason::new(code, detail))
}

/// An object the journal holds as migrated that ferry did not create.
pub fn adopted(what: &str) -> Verdict {
    keep(
        ReasonCode::Adopted,
        format!(
            "adopted: the {what} was in WorkOS before ferry, or its creation's answer was lost; undo deletes only what ferry knows it created"
        ),
    )
}

/// A membership, TOTP factor or other object that belongs to a user: kept
/// with its user.
pub fn belonging(user_kept: bool, what: &str) -> Verdict {
    if user_kept {
        keep(
            ReasonCode::KeptWithItsUser,
            format!("its user is kept, and so is the {what}"),
        )
    } else {
        Verdict::Delete
    }
}

/// An object of `what` (a user, an organization) deleted in Clerk: deleted
/// from WorkOS only when ferry created it and the plan says
/// `sync.on_deleted: delete`.
pub fn gone_as_planned(what: &str, created: bool, on_deleted: OnDeleted) -> Verdict {
    match (created, on_deleted) {
        (_, OnDeleted::Report) => keep(
            ReasonCode::KeptByPlan,
            format!(
                "deleted in Clerk; left in WorkOS (`sync.on_deleted: report`); `on_deleted: delete` removes the {what}s ferry created"
            ),
        ),
        (true, OnDeleted::Delete) => Verdict::Delete,
        (false, OnDeleted::Delete) => keep(
            ReasonCode::Adopted,
            format!(
                "deleted in Clerk, but the {what} was in WorkOS before ferry (adopted): ferry never deletes what it did not create"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_belongs_to_a_kept_user_stays() {
        assert!(matches!(belonging(true, "membership"), Verdict::Keep(_)));
        assert_eq!(belonging(false, "membership"), Verdict::Delete);
    }
}
