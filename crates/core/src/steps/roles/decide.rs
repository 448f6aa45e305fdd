//! What a Clerk role becomes in WorkOS, and what to do about it, as pure
//! functions: the mapping (slug, name, description, permissions) and the
//! decision from the journal × the WorkOS role of that slug. The table of
//! cases is the unit tests below.
//!
//! Rules (documented in the README):
//! - the slug comes resolved ([`crate::mapping::role::RoleMapper`]: the
//!   `roles:` map, the default rule `org:<key>` → `<key>`, the `map_role` hook);
//! - a permission `org:<feature>:<action>` becomes `<feature>:<action>`;
//!   Clerk's system permissions (`org:sys_…`) have no WorkOS counterpart
//!   and are left out;
//! - a WorkOS role of the same slug that ferry did not create is adopted
//!   and never changed; when its permissions differ, that is reported.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::journal::RecordState;
use ferry_wire::clerk::model::Role as ClerkRole;
use ferry_wire::workos::model::Role;

/// The fingerprint an adopted role's record carries: ferry wrote nothing,
/// so a later run must not take the role for one of its own.
pub const ADOPTED: &str = "adopted";

/// WorkOS's limits on a role (or permission) slug, name and description.
const MAX_SLUG: usize = 48;
const MAX_NAME: usize = 48;
const MAX_DESCRIPTION: usize = 150;

/// What one Clerk role should be in WorkOS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRole {
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// WorkOS permission slugs, sorted, each with the Clerk permission it maps.
    pub permissions: BTreeMap<String, MappedPermission>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedPermission {
    pub clerk_key: String,
    pub name: String,
    pub description: Option<String>,
}

impl DesiredRole {
    /// The permission slugs, sorted.
    pub fn permission_slugs(&self) -> Vec<String> {
        self.permissions.keys().cloned().collect()
    }

    /// What ferry writes, hashed: a changed Clerk role is updated on a rerun.
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{}",
            self.slug,
            self.name,
            self.description.as_deref().unwrap_or(""),
            self.permission_slugs().join(",")
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// Lowercase letters, digits, `-`, `_`, `:`, `.` and `*`: what WorkOS takes;
/// never `.` or `..`, which a URL would read as a path step.
fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && !slug.trim_matches('.').is_empty()
        && slug.len() <= MAX_SLUG
        && slug.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | ':' | '.' | '*')
        })
}

/// At most `max` characters, cut on a character boundary.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The WorkOS slug of a Clerk permission key, `None` for Clerk's system ones.
pub fn permission_slug(key: &str) -> Option<String> {
    let rest = key.strip_prefix("org:").unwrap_or(key);
    (!rest.starts_with("sys_")).then(|| rest.to_owned())
}

/// The Clerk role, under its resolved `slug`, as WorkOS should hold it, or why it cannot be.
pub fn desired_role(
    role: &ClerkRole,
    slug: String,
    with_permissions: bool,
) -> Result<DesiredRole, Reason> {
    let invalid = |detail: String| Reason::new(ReasonCode::RoleSlugInvalid, detail);
    if !valid_slug(&slug) {
        return Err(invalid(format!(
            "role `{}` maps to slug `{}`, which WorkOS does not take (at most 48 lowercase letters, digits, `-`, `_`, `:`, `.`, `*`); map it in `memberships: {{ roles: }}`",
            role.key,
            slug.escape_debug()
        )));
    }
    let mut permissions = BTreeMap::new();
    for permission in role.permissions.iter().filter(|_| with_permissions) {
        if permission.is_system() {
            continue;
        }
        let Some(slug) = permission_slug(&permission.key) else {
            continue;
        };
        if !valid_slug(&slug) {
            return Err(invalid(format!(
                "permission `{}` of role `{}` maps to `{}`, which WorkOS does not take as a permission slug",
                permission.key,
                role.key,
                slug.escape_debug()
            )));
        }
        permissions.insert(
            slug,
            MappedPermission {
                clerk_key: permission.key.clone(),
                name: cut(&permission.name, MAX_NAME),
                description: (!permission.description.is_empty())
                    .then(|| cut(&permission.description, MAX_DESCRIPTION)),
            },
        );
    }
    let name = if role.name.trim().is_empty() {
        slug.clone()
    } else {
        cut(&role.name, MAX_NAME)
    };
    Ok(DesiredRole {
        slug,
        name,
        description: role
            .description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| cut(d, MAX_DESCRIPTION)),
        permissions,
    })
}

/// What to do with one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleDecision {
    /// Ferry made it and nothing changed: no request.
    Unchanged,
    /// WorkOS has no role of this slug: create it (again, if ferry made it before).
    Create,
    /// Ferry made it and the Clerk role changed: update name, description, permissions.
    Update,
    /// Someone else's role of this slug: taken as it is, never changed;
    /// `differs` says how its permissions differ from the mapped ones.
    Adopt { differs: Option<String> },
}

/// Whether ferry made the role: its journal record carries what ferry wrote
/// (an adopted role's carries [`ADOPTED`]; a role ferry made whose
/// permissions failed carries a fingerprint too, so the next run finishes it).
fn made_by_ferry(journal: Option<&RecordState>) -> bool {
    journal.is_some_and(|r| {
        r.target_id.is_some() && r.fingerprint.as_deref().is_some_and(|f| f != ADOPTED)
    })
}

/// The decision table.
pub fn decide(
    journal: Option<&RecordState>,
    existing: Option<&Role>,
    desired: &DesiredRole,
    fingerprint: &str,
) -> RoleDecision {
    let Some(existing) = existing else {
        return RoleDecision::Create;
    };
    let ours = made_by_ferry(journal)
        && journal.and_then(|r| r.target_id.as_deref()) == Some(&existing.id);
    if ours {
        return if journal.and_then(|r| r.fingerprint.as_deref()) == Some(fingerprint) {
            RoleDecision::Unchanged
        } else {
            RoleDecision::Update
        };
    }
    let wanted = desired.permission_slugs();
    let differs = match &existing.permissions {
        // An answer without permissions says nothing of them: never "none".
        None => Some(format!(
            "WorkOS role `{}` already existed; WorkOS did not say which permissions it has (Clerk's maps to [{}]); adopted and left unchanged",
            existing.slug,
            wanted.join(", ")
        )),
        Some(theirs) => {
            let mut theirs = theirs.clone();
            theirs.sort();
            (theirs != wanted).then(|| {
                format!(
                    "WorkOS role `{}` already existed with permissions [{}]; Clerk's maps to [{}]; adopted and left unchanged",
                    existing.slug,
                    theirs.join(", "),
                    wanted.join(", ")
                )
            })
        }
    };
    RoleDecision::Adopt { differs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::Action;
    use ferry_wire::clerk::model::Permission;

    fn clerk_permission(key: &str, system: bool) -> Permission {
        Permission {
            object: "permission".into(),
            id: format!("perm_{key}"),
            name: key.into(),
            key: key.into(),
            description: String::new(),
            kind: if system { "system" } else { "user" }.into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn clerk_role(key: &str, permissions: &[(&str, bool)]) -> ClerkRole {
        ClerkRole {
            object: "role".into(),
            id: format!("role_{key}"),
            name: "Billing manager".into(),
            key: key.into(),
            description: Some("Pays".into()),
            is_creator_eligible: false,
            permissions: permissions
                .iter()
                .map(|(k, s)| clerk_permission(k, *s))
                .collect(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn workos_role(id: &str, slug: &str, permissions: &[&str]) -> Role {
        Role {
            object: "role".into(),
            id: id.into(),
            slug: slug.into(),
            name: slug.into(),
            description: None,
            kind: "EnvironmentRole".into(),
            resource_type_slug: "organization".into(),
            permissions: Some(permissions.iter().map(|p| (*p).to_owned()).collect()),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn record(action: Action, target: &str, fingerprint: Option<&str>) -> RecordState {
        RecordState {
            target_id: Some(target.into()),
            action,
            attempts: 1,
            reason: None,
            fingerprint: fingerprint.map(str::to_owned),
            run_id: 1,
        }
    }

    #[test]
    fn a_clerk_role_maps_to_a_slug_and_its_own_permissions() {
        let role = clerk_role(
            "org:billing_manager",
            &[
                ("org:sys_memberships:read", true),
                ("org:invoices:read", false),
            ],
        );
        let desired = desired_role(&role, "billing_manager".into(), true).unwrap();
        assert_eq!(desired.slug, "billing_manager");
        assert_eq!(desired.permission_slugs(), vec!["invoices:read"]);
        assert!(
            desired_role(&role, "billing".into(), false)
                .unwrap()
                .permissions
                .is_empty()
        );
        for bad in ["Billing Team", "..", ".", "a/b"] {
            let refused = desired_role(&role, bad.into(), true).unwrap_err();
            assert!(
                refused.code == ReasonCode::RoleSlugInvalid
                    && refused.detail.contains("does not take"),
                "{bad}: {refused:?}"
            );
        }
    }

    #[test]
    fn the_decision_table() {
        let role = clerk_role("org:viewer", &[("org:reports:read", false)]);
        let desired = desired_role(&role, "viewer".into(), true).unwrap();
        let fp = desired.fingerprint();
        let ours = workos_role("role_1", "viewer", &["reports:read"]);
        let other = workos_role("role_9", "viewer", &["reports:read", "reports:export"]);
        let unsaid = Role {
            permissions: None,
            ..workos_role("role_8", "viewer", &[])
        };
        /// (name, journal, WorkOS role, fingerprint now, decision).
        type Case<'a> = (
            &'a str,
            Option<RecordState>,
            Option<&'a Role>,
            &'a str,
            RoleDecision,
        );
        let cases: Vec<Case> = vec![
            ("nothing anywhere", None, None, &fp, RoleDecision::Create),
            (
                "ferry made it, then it was deleted",
                Some(record(Action::Created, "role_1", Some(&fp))),
                None,
                &fp,
                RoleDecision::Create,
            ),
            (
                "ferry made it, unchanged",
                Some(record(Action::Unchanged, "role_1", Some(&fp))),
                Some(&ours),
                &fp,
                RoleDecision::Unchanged,
            ),
            (
                "ferry made it, Clerk changed it",
                Some(record(Action::Created, "role_1", Some("old"))),
                Some(&ours),
                &fp,
                RoleDecision::Update,
            ),
            (
                "someone's, same permissions",
                None,
                Some(&ours),
                &fp,
                RoleDecision::Adopt { differs: None },
            ),
            (
                "adopted before: still someone's, never changed",
                Some(record(Action::Adopted, "role_9", Some(ADOPTED))),
                Some(&other),
                "changed",
                RoleDecision::Adopt {
                    differs: Some("WorkOS role `viewer` already existed with permissions [reports:export, reports:read]; Clerk's maps to [reports:read]; adopted and left unchanged".into()),
                },
            ),
            (
                "ferry's record names another role id: someone remade it",
                Some(record(Action::Created, "role_1", Some(&fp))),
                Some(&other),
                &fp,
                RoleDecision::Adopt {
                    differs: Some("WorkOS role `viewer` already existed with permissions [reports:export, reports:read]; Clerk's maps to [reports:read]; adopted and left unchanged".into()),
                },
            ),
            (
                "someone's, and the answer did not say its permissions",
                None,
                Some(&unsaid),
                &fp,
                RoleDecision::Adopt {
                    differs: Some("WorkOS role `viewer` already existed; WorkOS did not say which permissions it has (Clerk's maps to [reports:read]); adopted and left unchanged".into()),
                },
            ),
        ];
        for (name, journal, existing, fingerprint, expect) in cases {
            assert_eq!(
                decide(journal.as_ref(), existing, &desired, fingerprint),
                expect,
                "case: {name}"
            );
        }
    }
}
