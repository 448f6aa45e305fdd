//! What `sync` does with an object the journal says ferry migrated and
//! Clerk no longer lists: a pure decision, unit-tested apart from the
//! network.

use crate::journal::Kind;
use crate::plan::schema::OnDeleted;
use crate::steps;
use crate::steps::retire::{Verdict, gone_as_planned};

/// The verdict on one object gone from Clerk. `created` says whether
/// ferry created it in WorkOS (rather than adopting one that was there);
/// each kind's rule is its step's (`steps/<step>/retire.rs`).
pub fn gone(kind: Kind, created: bool, on_deleted: OnDeleted) -> Verdict {
    match kind {
        Kind::Membership => steps::memberships::retire::gone(created),
        Kind::User => steps::users::retire::gone(created, on_deleted),
        Kind::Organization => steps::organizations::retire::gone(created, on_deleted),
        Kind::Connection => steps::connections::retire::gone(created, on_deleted),
        kind => gone_as_planned(kind.as_str(), created, on_deleted),
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
                assert!(reason.detail.contains("Clerk"), "{reason}");
            }
        }
    }
}
