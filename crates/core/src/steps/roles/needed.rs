//! The roles the memberships will name, for a plan without a `roles` step:
//! every Clerk membership (the instance listing, 500 a page) mapped the way
//! the memberships step maps it (the `roles:` map, the default rule, the
//! `map_membership` hook), so the preflight can name every slug WorkOS
//! lacks before a single write.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::clerk::client::ClerkClient;
use crate::mapping::membership::map_role;
use crate::mapping::role::{RoleMapper, RoleSlug};
use crate::script::Script;
use crate::steps::error::StepError;
use ferry_wire::clerk::model::OrganizationMembership;

/// WorkOS slug → the Clerk roles that map to it.
pub type NeededRoles = BTreeMap<String, BTreeSet<String>>;

pub async fn needed_roles(
    clerk: &ClerkClient,
    roles: &RoleMapper<'_>,
    script: Option<&Script>,
    ctx: &Value,
) -> Result<NeededRoles, StepError> {
    let memberships = clerk
        .instance_memberships()
        .await
        .map_err(crate::source::read::SourceError::from)?;
    Ok(needed_by(&memberships, roles, script, ctx))
}

/// The roles `memberships` name once mapped.
pub fn needed_by(
    memberships: &[OrganizationMembership],
    roles: &RoleMapper<'_>,
    script: Option<&Script>,
    ctx: &Value,
) -> NeededRoles {
    let mut needed = NeededRoles::new();
    for membership in memberships {
        // A membership the hook skips or rejects never reaches WorkOS.
        if let Ok(RoleSlug::Slug(slug)) = map_role(membership, roles, script, ctx) {
            needed
                .entry(slug)
                .or_default()
                .insert(membership.role.clone());
        }
    }
    needed
}
