//! What to do with one membership, decided before any request, in two
//! pure halves tested as tables: [`parties`] (are its organization and
//! user migrated, or will a run migrate them first) and [`role`] (what its
//! role maps to, and what WorkOS holds for it). The step gathers the facts
//! between them: the role is mapped (a hook call) only for a membership
//! whose parties passed.

use crate::journal::Action;
use crate::mapping::role::RoleSlug;
use crate::support::reason::{Reason, ReasonCode};

/// What a membership needs next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing to send: skipped or rejected, and why.
    Settled(Action, Option<String>, Option<Reason>),
    /// Nothing to send: WorkOS holds the membership `id` of `user` with
    /// the role `slug` already.
    Unchanged {
        id: String,
        user: String,
        slug: String,
    },
    /// Create it in the WorkOS organization, for the WorkOS user, with this role.
    Create {
        user: String,
        org: String,
        slug: String,
    },
    /// Change the role of the WorkOS membership `id`.
    Update {
        id: String,
        user: String,
        slug: String,
        was: String,
    },
    /// (Previews only) its user or organization is not migrated yet: the
    /// run creates it once they are; the reason names which.
    Pending(Reason),
}

impl Next {
    fn skipped(code: ReasonCode, detail: impl Into<String>) -> Self {
        Self::Settled(Action::Skipped, None, Some(Reason::new(code, detail)))
    }
}

/// What the journal says of a membership's organization or user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InJournal {
    /// Migrated: its WorkOS id.
    Migrated(String),
    /// Recorded, but not migrated (skipped, rejected, failed), with why.
    NotMigrated(String),
    /// Not in the journal at all.
    Unknown,
}

/// The WorkOS organization and user of a membership whose parties passed;
/// `None` where a preview expects the run to migrate it first.
#[derive(Debug, PartialEq, Eq)]
pub struct Parties {
    pub org: Option<String>,
    pub user: Option<String>,
}

/// Whether a membership's organization and user are migrated. A preview
/// plans one whose organization or user the journal does not know yet as
/// pending: the run migrates them first. `user` is asked (a journal read)
/// only once the organization passed and the membership names a user.
pub fn parties(
    org_clerk_id: &str,
    org: &InJournal,
    clerk_user: Option<&str>,
    user: impl FnOnce(&str) -> InJournal,
    preview: bool,
) -> Result<Parties, Next> {
    let org = match (org, preview) {
        (InJournal::Migrated(id), _) => Some(id.clone()),
        (InJournal::Unknown, true) => None,
        _ => {
            return Err(Next::skipped(
                ReasonCode::OrganizationNotMigrated,
                format!("organization {org_clerk_id} was not migrated"),
            ));
        }
    };
    let Some(clerk_user) = clerk_user else {
        return Err(Next::skipped(
            ReasonCode::UserNotMigrated,
            "the membership names no user",
        ));
    };
    let user = match (&user(clerk_user), preview) {
        (InJournal::Migrated(id), _) => Some(id.clone()),
        (InJournal::NotMigrated(why), _) => {
            return Err(Next::skipped(
                ReasonCode::UserNotMigrated,
                format!("user {clerk_user} was not migrated: {why}"),
            ));
        }
        (InJournal::Unknown, true) => None,
        (InJournal::Unknown, false) => {
            return Err(Next::skipped(
                ReasonCode::UserNotMigrated,
                format!("user {clerk_user} was not migrated"),
            ));
        }
    };
    Ok(Parties { org, user })
}

/// What to do with a membership whose parties passed, given its role as
/// the mapping gives it (a slug, left out, or refused, with why), why the
/// roles step did not make that role (if it did not), and what WorkOS
/// holds for its user in the organization: (membership id, role slug).
pub fn role(
    parties: Parties,
    role_key: &str,
    slug: Result<RoleSlug, Reason>,
    unmigrated_role: Option<&str>,
    existing: Option<(String, String)>,
) -> Next {
    let slug = match slug {
        Ok(RoleSlug::Slug(slug)) => slug,
        Ok(RoleSlug::LeftOut(why)) => return Next::Settled(Action::Skipped, None, Some(why)),
        Err(refused) => return Next::Settled(Action::Rejected, None, Some(refused)),
    };
    // Sending a role the roles step did not make would only fail.
    if let Some(why) = unmigrated_role {
        return Next::skipped(
            ReasonCode::RoleNotMigrated,
            format!(
                "its role `{}` was not migrated: {why}",
                ferry_wire::inert::printable(role_key)
            ),
        );
    }
    let (Some(user), Some(org)) = (parties.user, parties.org) else {
        return Next::Pending(Reason::new(
            ReasonCode::AwaitingMigration,
            "once its user and organization are migrated",
        ));
    };
    match existing {
        Some((id, role)) if role == slug => Next::Unchanged { id, user, slug },
        Some((id, was)) => Next::Update {
            id,
            user,
            slug,
            was,
        },
        None => Next::Create { user, org, slug },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InJournal::{Migrated, NotMigrated, Unknown};

    fn skipped(code: ReasonCode, detail: &str) -> Next {
        Next::skipped(code, detail)
    }

    #[test]
    fn whether_the_parties_are_migrated() {
        let org = || Migrated("org_w".into());
        let user = || Migrated("user_w".into());
        let both = Parties {
            org: Some("org_w".into()),
            user: Some("user_w".into()),
        };
        /// (case, organization, Clerk user, user, preview, what comes of it).
        type Row<'r> = (
            &'r str,
            InJournal,
            Option<&'r str>,
            InJournal,
            bool,
            Result<Parties, Next>,
        );
        #[rustfmt::skip]
        let table: Vec<Row<'_>> = vec![
            ("both migrated", org(), Some("user_c"), user(), false, Ok(both)),
            ("organization not migrated", NotMigrated("rejected".into()), Some("user_c"), user(), false,
                Err(skipped(ReasonCode::OrganizationNotMigrated, "organization org_c was not migrated"))),
            ("organization unknown in a run", Unknown, Some("user_c"), user(), false,
                Err(skipped(ReasonCode::OrganizationNotMigrated, "organization org_c was not migrated"))),
            ("organization unknown in a preview", Unknown, Some("user_c"), user(), true,
                Ok(Parties { org: None, user: Some("user_w".into()) })),
            ("no user named", org(), None, user(), false,
                Err(skipped(ReasonCode::UserNotMigrated, "the membership names no user"))),
            ("user skipped", org(), Some("user_c"), NotMigrated("banned in Clerk".into()), true,
                Err(skipped(ReasonCode::UserNotMigrated, "user user_c was not migrated: banned in Clerk"))),
            ("user unknown in a run", org(), Some("user_c"), Unknown, false,
                Err(skipped(ReasonCode::UserNotMigrated, "user user_c was not migrated"))),
            ("user unknown in a preview", org(), Some("user_c"), Unknown, true,
                Ok(Parties { org: Some("org_w".into()), user: None })),
        ];
        for (case, org, clerk_user, user, preview, expected) in table {
            assert_eq!(
                parties("org_c", &org, clerk_user, |_| user.clone(), preview),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn what_its_role_comes_to() {
        let both = || Parties {
            org: Some("org_w".into()),
            user: Some("user_w".into()),
        };
        let left_out = Reason::new(ReasonCode::RoleLeftOut, "map_role returned () (skip)");
        let refused = Reason::new(ReasonCode::HookInvalidResult, "map_role returned 3");
        let held = |role: &str| Some(("om_1".to_owned(), role.to_owned()));
        /// (case, parties, the mapped role, why the roles step did not make
        /// it, what WorkOS holds, what comes of it).
        type Slug = Result<RoleSlug, Reason>;
        type Row<'r> = (
            &'r str,
            Parties,
            Slug,
            Option<&'r str>,
            Option<(String, String)>,
            Next,
        );
        #[rustfmt::skip]
        let table: Vec<Row<'_>> = vec![
            ("new", both(), Ok(RoleSlug::Slug("admin".into())), None, None,
                Next::Create { user: "user_w".into(), org: "org_w".into(), slug: "admin".into() }),
            ("held with its role", both(), Ok(RoleSlug::Slug("admin".into())), None, held("admin"),
                Next::Unchanged { id: "om_1".into(), user: "user_w".into(), slug: "admin".into() }),
            ("held with another role", both(), Ok(RoleSlug::Slug("admin".into())), None, held("member"),
                Next::Update { id: "om_1".into(), user: "user_w".into(), slug: "admin".into(), was: "member".into() }),
            ("role left out", both(), Ok(RoleSlug::LeftOut(left_out.clone())), None, None,
                Next::Settled(Action::Skipped, None, Some(left_out))),
            ("role refused", both(), Err(refused.clone()), None, None,
                Next::Settled(Action::Rejected, None, Some(refused))),
            ("role not migrated", both(), Ok(RoleSlug::Slug("admin".into())), Some("the roles step failed: WorkOS 500"), None,
                skipped(ReasonCode::RoleNotMigrated, "its role `org:admin` was not migrated: the roles step failed: WorkOS 500")),
            ("a party pending", Parties { org: None, user: Some("user_w".into()) }, Ok(RoleSlug::Slug("admin".into())), None, None,
                Next::Pending(Reason::new(ReasonCode::AwaitingMigration, "once its user and organization are migrated"))),
        ];
        for (case, parties, slug, unmigrated, existing, expected) in table {
            assert_eq!(
                role(parties, "org:admin", slug, unmigrated, existing),
                expected,
                "{case}"
            );
        }
    }
}
