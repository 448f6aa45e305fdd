//! A membership's WorkOS role slug: its Clerk role's slug ([`RoleMapper`]:
//! the plan's role map, else the default rule `org:<key>` → `<key>`, then
//! the `map_role` hook), then the `map_membership` hook, which sees both the
//! Clerk role and that slug and has the last word.

use crate::support::reason::{Reason, ReasonCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::role::{RoleMapper, RoleSlug};
use crate::script::{Hook, HookAnswer, Script};
use ferry_wire::clerk::model::{Metadata, OrganizationMembership};

/// A Clerk membership as the `map_membership` hook sees it. A script
/// test's `input:` is read into it: a field left out takes its empty value
/// (`default_slug` the one the plan's role map gives), an unknown one is a typo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MembershipView {
    /// Clerk's id (`orgmem_…`).
    pub id: String,
    /// Clerk's role key: `org:admin`, `org:member` or a custom `org:<key>`.
    pub role: String,
    pub role_name: Option<String>,
    /// The WorkOS slug the role maps to before this hook (the plan's
    /// `roles:` map, the default rule, then `map_role`).
    pub default_slug: String,
    /// Clerk's organization id (`org_…`).
    pub organization_id: String,
    pub organization_slug: String,
    /// Clerk's user id (`user_…`).
    pub user_id: Option<String>,
    /// The user's identifier as Clerk shows it in the membership (an email, a phone, a username).
    pub identifier: Option<String>,
    pub public_metadata: Metadata,
}

impl MembershipView {
    pub fn of(membership: &OrganizationMembership, default_slug: String) -> Self {
        let user = membership.public_user_data.as_ref();
        Self {
            id: membership.id.clone(),
            role: membership.role.clone(),
            role_name: membership.role_name.clone(),
            default_slug,
            organization_id: membership.organization.id.clone(),
            organization_slug: membership.organization.slug.clone(),
            user_id: user.map(|u| u.user_id.clone()),
            identifier: user.and_then(|u| u.identifier.clone()),
            public_metadata: membership.public_metadata.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The WorkOS role slug, or why the membership is left out, or why it is rejected.
pub fn map_role(
    membership: &OrganizationMembership,
    roles: &RoleMapper<'_>,
    script: Option<&Script>,
    ctx: &Value,
) -> Result<RoleSlug, Reason> {
    let slug = match roles.slug(&membership.role, membership.role_name.as_deref())? {
        RoleSlug::Slug(slug) => slug,
        left_out => return Ok(left_out),
    };
    match script.filter(|s| s.defines(Hook::MapMembership)) {
        Some(script) => finish(&MembershipView::of(membership, slug), script, ctx),
        None => Ok(RoleSlug::Slug(slug)),
    }
}

/// The `map_membership` hook's word on a membership whose role maps to
/// `view.default_slug` (what a run and `ferry test`'s `expect_payload` share).
pub fn finish(view: &MembershipView, script: &Script, ctx: &Value) -> Result<RoleSlug, Reason> {
    match script.call(Hook::MapMembership, &view.id, &[&view.to_json(), ctx]) {
        Ok(HookAnswer::Skip(reason)) => Ok(RoleSlug::LeftOut(Hook::MapMembership.skipped(reason))),
        Ok(HookAnswer::Value(Value::String(slug))) if !slug.trim().is_empty() => {
            Ok(RoleSlug::Slug(slug))
        }
        Ok(HookAnswer::Value(other)) => Err(Reason::new(
            ReasonCode::HookInvalidResult,
            format!("map_membership must return a role slug or (), it returned {other}"),
        )),
        Err(error) => Err(error.reason()),
    }
}
