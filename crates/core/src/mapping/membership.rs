//! A Clerk role to a WorkOS role slug: the plan's role map, else the default
//! rule (`org:admin` → `admin`, `org:member` → `member`, any other `org:<key>`
//! → `<key>`), then the `map_membership` hook, which sees both the Clerk role
//! and that slug and has the last word.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::script::{Hook, Outcome, Script};
use ferry_wire::clerk::model::OrganizationMembership;

/// The slug before any hook.
pub fn default_slug(role: &str, roles: Option<&BTreeMap<String, String>>) -> String {
    if let Some(slug) = roles.and_then(|map| map.get(role)) {
        return slug.clone();
    }
    role.strip_prefix("org:").unwrap_or(role).to_owned()
}

/// The WorkOS role slug, `None` to leave the membership out, or why it is rejected.
pub fn map_role(
    membership: &OrganizationMembership,
    roles: Option<&BTreeMap<String, String>>,
    script: Option<&Script>,
    ctx: &Value,
) -> Result<Option<String>, String> {
    let slug = default_slug(&membership.role, roles);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_map_wins_then_the_prefix_is_dropped() {
        let roles: BTreeMap<String, String> = [("org:admin".to_owned(), "owner".to_owned())].into();
        assert_eq!(default_slug("org:admin", Some(&roles)), "owner");
        assert_eq!(default_slug("org:admin", None), "admin");
        assert_eq!(default_slug("org:member", Some(&roles)), "member");
        assert_eq!(default_slug("org:billing", None), "billing");
    }
}
