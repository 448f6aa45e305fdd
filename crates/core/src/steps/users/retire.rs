//! What undo and sync do with the users ferry made.

use ferry_wire::workos::model::User;

use crate::plan::schema::OnDeleted;
use crate::steps::retire::{Verdict, belonging, gone_as_planned, keep, not_ours};
use crate::support::reason::ReasonCode;

/// Undo, for a user ferry made: kept when WorkOS now gives it someone
/// else's external_id (re-linked outside ferry, or a journal that names the
/// wrong user: undo deletes only the user that is still this Clerk
/// person's), and once its person has signed in (the app is using it),
/// unless the operator says otherwise.
pub fn undo(now: Option<&User>, clerk_id: &str, include_signed_in: bool) -> Verdict {
    match now {
        None => Verdict::Gone,
        Some(user) if user.external_id.as_deref() != Some(clerk_id) => {
            Verdict::Keep(not_ours("user", &user.id, user.external_id.as_deref()))
        }
        Some(user) => match (&user.last_sign_in_at, include_signed_in) {
            (Some(at), false) => keep(
                ReasonCode::SignedInSince,
                format!(
                    "signed in at {at} since ferry made the user (`--include-signed-in` deletes it too)"
                ),
            ),
            _ => Verdict::Delete,
        },
    }
}

/// Undo, for a TOTP factor on a user: it stays with a kept user.
pub fn undo_factor(user_kept: bool) -> Verdict {
    belonging(user_kept, "TOTP factor")
}

/// Sync, for a user deleted in Clerk: as the plan says.
pub fn gone(created: bool, on_deleted: OnDeleted) -> Verdict {
    gone_as_planned("user", created, on_deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::reason::Reason;

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
            (
                Some(&signed_in),
                "user_clerk",
                false,
                Verdict::Keep(Reason::new(
                    ReasonCode::SignedInSince,
                    "signed in at 2026-12-02T09:00:00Z since ferry made the user (`--include-signed-in` deletes it too)",
                )),
            ),
            (Some(&signed_in), "user_clerk", true, Verdict::Delete),
            (
                Some(&workos_user(None)),
                "user_clerk",
                false,
                Verdict::Delete,
            ),
            (None, "user_clerk", false, Verdict::Gone),
            (
                Some(&workos_user(None)),
                "user_other",
                true,
                Verdict::Keep(Reason::new(
                    ReasonCode::RelinkedOutsideFerry,
                    "relinked_outside_ferry: WorkOS user user_01 now carries external_id `user_clerk`, not the Clerk id ferry gave it; undo deletes only what is still ferry's",
                )),
            ),
        ];
        for (now, clerk_id, include_signed_in, expected) in cases {
            assert_eq!(
                undo(now, clerk_id, include_signed_in),
                expected,
                "{clerk_id} {include_signed_in}"
            );
        }
        let mut pre_existing = workos_user(None);
        pre_existing.external_id = None;
        assert_eq!(
            undo(Some(&pre_existing), "user_clerk", true),
            Verdict::Keep(Reason::new(
                ReasonCode::RelinkedOutsideFerry,
                "relinked_outside_ferry: WorkOS user user_01 now carries no external_id, not the Clerk id ferry gave it; undo deletes only what is still ferry's"
            ))
        );
    }
}
