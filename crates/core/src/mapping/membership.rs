//! A membership's WorkOS role slug: its Clerk role's slug ([`RoleMapper`]:
//! the plan's role map, else the default rule `org:<key>` → `<key>`, then
//! the `map_role` hook), then the `map_membership` hook, which sees both the
//! Clerk role and that slug and has the last word.

use serde_json::{Value, json};

use super::role::RoleMapper;
use crate::script::{Hook, Outcome, Script};
use ferry_wire::clerk::model::OrganizationMembership;

/// The WorkOS role slug, `None` to leave the membership out, or why it is rejected.
pub fn map_role(
    membership: &OrganizationMembership,
    roles: &RoleMapper<'_>,
    script: Option<&Script>,
    ctx: &Value,
) -> Result<Option<String>, String> {
    let Some(slug) = roles.slug(&membership.role, membership.role_name.as_deref())? else {
        return Ok(None);
    };
    let Some(script) = script.filter(|s| s.defines(Hook::MapMembership)) else {
        return Ok(Some(slug));
    };
    let view = json!({
        "id": membership.id,
        "role": membership.role,
        "role_name": membership.role_name,
        "default_slug": slug,
        "organization_id": membership.organization.id,
        "organization_slug": membership.organization.slug,
        "user_id": membership.public_user_data.as_ref().map(|u| u.user_id.clone()),
        "identifier": membership.public_user_data.as_ref().and_then(|u| u.identifier.clone()),
        "public_metadata": membership.public_metadata,
    });
    match script.call(Hook::MapMembership, &membership.id, &[&view, ctx]) {
        Ok(Outcome::Skip) => Ok(None),
        Ok(Outcome::Value(Value::String(slug))) if !slug.trim().is_empty() => Ok(Some(slug)),
        Ok(Outcome::Value(other)) => Err(format!(
            "map_membership must return a role slug or (), it returned {other}"
        )),
        Err(error) => Err(error.to_string()),
    }
}
