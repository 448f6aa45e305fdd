//! What `undo` does with each object the journal says ferry made: a pure
//! decision from what WorkOS holds now, unit-tested apart from the network.

use ferry_wire::workos::model::User;

/// One object's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ferry made it and nothing stands in the way: delete it.
    Delete,
    /// WorkOS no longer has it: record it as deleted, without a request.
    Gone,
    /// Left in place, and listed with the reason.
    Keep(String),
}

/// A user ferry made: kept when WorkOS now gives it someone else's
/// external_id (re-linked outside ferry, or a journal that names the wrong
/// user: undo deletes only the user that is still this Clerk person's),
/// and once its person has signed in (the app is using it), unless the
/// operator says otherwise.
pub fn user(now: Option<&User>, clerk_id: &str, include_signed_in: bool) -> Verdict {
    match now {
        None => Verdict::Gone,
        Some(user) if user.external_id.as_deref() != Some(clerk_id) => {
            Verdict::Keep(not_ours("user", &user.id, user.external_id.as_deref()))
        }
        Some(user) => match (&user.last_sign_in_at, include_signed_in) {
            (Some(at), false) => Verdict::Keep(format!(
                "signed in at {at} since ferry made the user (`--include-signed-in` deletes it too)"
            )),
            _ => Verdict::Delete,
        },
    }
}

/// Why an object the journal names is not deleted: WorkOS gives it
/// another external_id than the Clerk id ferry wrote.
pub fn not_ours(what: &str, target_id: &str, now: Option<&str>) -> String {
    format!(
        "relinked_outside_ferry: WorkOS {what} {target_id} now carries {}, not the Clerk id ferry gave it; undo deletes only what is still ferry's",
        crate::target::reconcile::carried(now)
    )
}

/// An object the journal holds as migrated that ferry did not create.
pub fn adopted(what: &str) -> Verdict {
    Verdict::Keep(format!(
        "adopted: the {what} was in WorkOS before ferry, or its creation's answer was lost; undo deletes only what ferry knows it created"
    ))
}

/// A membership, TOTP factor or other object that belongs to a user: kept
/// with its user.
pub fn belonging(user_kept: bool, what: &str) -> Verdict {
    if user_kept {
        Verdict::Keep(format!("its user is kept, and so is the {what}"))
    } else {
        Verdict::Delete
    }
}

/// An organization ferry made, once undo took away the memberships it
/// made: deleting it would take the members left with it (kept users, or
/// people added outside ferry).
pub fn organization(members_left: usize) -> Verdict {
    match members_left {
        0 => Verdict::Delete,
        n => Verdict::Keep(format!(
            "{n} member{} left (kept users or people added outside ferry); deleting it would remove them",
            if n == 1 { "" } else { "s" }
        )),
    }
}

/// A role ferry made: WorkOS has no API to delete an environment role
/// (the OpenAPI spec's `/authorization/roles/{slug}` has GET and PATCH only).
pub fn role() -> Verdict {
    Verdict::Keep(
        "WorkOS's API cannot delete an environment role; delete it in the WorkOS dashboard".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workos_user(signed_in: Option<&str>) -> User {
        serde_json::from_value(serde_json::json!({
            "object": "user",
            "id": "user_01",
            "email": "a@example.com",
            "email_verified": true,
            "external_id": "user_clerk",
            "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z",
            "last_sign_in_at": signed_in,
        }))
        .expect("a WorkOS user")
    }

    #[test]
    fn a_user_who_signed_in_or_is_someone_else_now_is_kept() {
        let signed_in = workos_user(Some("2026-12-02T09:00:00Z"));
        let cases = [
            (Some(&signed_in), "user_clerk", false, Verdict::Keep(
                "signed in at 2026-12-02T09:00:00Z since ferry made the user (`--include-signed-in` deletes it too)".into(),
            )),
            (Some(&signed_in), "user_clerk", true, Verdict::Delete),
            (Some(&workos_user(None)), "user_clerk", false, Verdict::Delete),
            (None, "user_clerk", false, Verdict::Gone),
            (Some(&workos_user(None)), "user_other", true, Verdict::Keep(
                "relinked_outside_ferry: WorkOS user user_01 now carries external_id `user_clerk`, not the Clerk id ferry gave it; undo deletes only what is still ferry's".into(),
            )),
        ];
        for (now, clerk_id, include_signed_in, expected) in cases {
            assert_eq!(
                user(now, clerk_id, include_signed_in),
                expected,
                "{clerk_id} {include_signed_in}"
            );
        }
        let mut pre_existing = workos_user(None);
        pre_existing.external_id = None;
        assert_eq!(
            user(Some(&pre_existing), "user_clerk", true),
            Verdict::Keep("relinked_outside_ferry: WorkOS user user_01 now carries no external_id, not the Clerk id ferry gave it; undo deletes only what is still ferry's".into())
        );
    }

    #[test]
    fn what_belongs_to_a_kept_user_stays_and_organizations_keep_their_members() {
        assert!(matches!(belonging(true, "membership"), Verdict::Keep(_)));
        assert_eq!(belonging(false, "membership"), Verdict::Delete);
        assert_eq!(organization(0), Verdict::Delete);
        match organization(2) {
            Verdict::Keep(reason) => assert!(reason.starts_with("2 members left"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(role(), Verdict::Keep(_)));
    }
}
