//! What `sync` does with an object the journal says ferry migrated and
//! Clerk no longer lists: a pure decision, unit-tested apart from the
//! network.

use crate::journal::Kind;
use crate::plan::schema::OnDeleted;
use crate::undo::decide::Verdict;

/// The verdict on one object gone from Clerk. `created` says whether
/// ferry created it in WorkOS (rather than adopting one that was there).
pub fn gone(kind: Kind, created: bool, on_deleted: OnDeleted) -> Verdict {
    match (kind, created, on_deleted) {
        // A membership removed in Clerk takes the person's access away: it
        // goes from WorkOS too, whatever `on_deleted` says of people.
        (Kind::Membership, true, _) => Verdict::Delete,
        (Kind::Membership, false, _) => Verdict::Keep(
            "removed in Clerk; it was in WorkOS before ferry (adopted), so ferry leaves it: remove it there if it should go".into(),
        ),
        (_, _, OnDeleted::Report) => Verdict::Keep(format!(
            "deleted in Clerk; left in WorkOS (`sync.on_deleted: report`); `on_deleted: delete` removes the {}s ferry created",
            kind.as_str()
        )),
        (_, true, OnDeleted::Delete) => Verdict::Delete,
        (_, false, OnDeleted::Delete) => Verdict::Keep(format!(
            "deleted in Clerk, but the {} was in WorkOS before ferry (adopted): ferry never deletes what it did not create",
            kind.as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_ferry_created_is_deleted_and_people_only_when_asked() {
        use OnDeleted::{Delete, Report};
        let cases = [
            (Kind::Membership, true, Report, true),
            (Kind::Membership, true, Delete, true),
            (Kind::Membership, false, Delete, false),
            (Kind::User, true, Report, false),
            (Kind::User, true, Delete, true),
            (Kind::User, false, Delete, false),
            (Kind::Organization, true, Report, false),
            (Kind::Organization, true, Delete, true),
            (Kind::Organization, false, Delete, false),
        ];
        for (kind, created, on_deleted, deleted) in cases {
            let verdict = gone(kind, created, on_deleted);
            assert_eq!(
                verdict == Verdict::Delete,
                deleted,
                "{kind:?} created={created} {on_deleted:?}: {verdict:?}"
            );
            if let Verdict::Keep(reason) = verdict {
                assert!(reason.contains("Clerk"), "{reason}");
            }
        }
    }
}
