//! A Clerk invitation (to an organization, or to the application) as ferry
//! reads it, and what WorkOS's invitation would carry: the role its Clerk
//! role maps to ([`RoleMapper`], then the `map_invitation` hook, which has
//! the last word and may leave the invitation out), and its life in days,
//! ending when Clerk's would have, within WorkOS's 1 to 30.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::role::{RoleMapper, RoleSlug};
use crate::script::{Hook, HookAnswer, Script};
use crate::support::reason::{Reason, ReasonCode};
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};
use ferry_wire::clerk::model::Metadata;
use ferry_wire::workos::invitation::EXPIRES_IN_DAYS;

/// Where a Clerk invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Accepted,
    Revoked,
    /// Expired, or a status ferry does not know: never sent.
    Expired,
}

impl Status {
    /// Clerk's status at `now_ms`: a pending invitation past its expiry is expired.
    pub fn of(status: &str, expires_at: Option<i64>, now_ms: i64) -> Self {
        match status {
            "pending" if expires_at.is_some_and(|at| at <= now_ms) => Self::Expired,
            "pending" => Self::Pending,
            "accepted" => Self::Accepted,
            "revoked" => Self::Revoked,
            _ => Self::Expired,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// One Clerk invitation, either kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ClerkInvitation {
    /// `orginv_…` (an organization's) or `inv_…` (the application's).
    pub id: String,
    pub email: String,
    /// The Clerk organization; `None` for an application invitation.
    pub organization_id: Option<String>,
    pub role: Option<String>,
    pub role_name: Option<String>,
    /// The Clerk user who sent it, when Clerk says.
    pub inviter_id: Option<String>,
    pub status: Status,
    /// Unix milliseconds; `None` when it never expires.
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub public_metadata: Metadata,
}

impl ClerkInvitation {
    pub fn of_organization(invitation: OrganizationInvitation, now_ms: i64) -> Self {
        Self {
            organization_id: invitation.organization().map(str::to_owned),
            status: Status::of(&invitation.status, invitation.expires_at, now_ms),
            id: invitation.id,
            email: invitation.email_address,
            role: Some(invitation.role),
            role_name: invitation.role_name,
            inviter_id: invitation
                .inviter_id
                .or(invitation.public_inviter_data.map(|i| i.user_id)),
            expires_at: invitation.expires_at,
            created_at: invitation.created_at,
            public_metadata: invitation.public_metadata,
        }
    }

    pub fn of_application(invitation: Invitation, now_ms: i64) -> Self {
        let status = match invitation.revoked {
            true => Status::Revoked,
            false => Status::of(&invitation.status, invitation.expires_at, now_ms),
        };
        Self {
            id: invitation.id,
            email: invitation.email_address,
            organization_id: None,
            role: None,
            role_name: None,
            inviter_id: None,
            status,
            expires_at: invitation.expires_at,
            created_at: invitation.created_at,
            public_metadata: invitation.public_metadata,
        }
    }
}

/// A Clerk invitation as the `map_invitation` hook sees it. A script
/// test's `input:` is read into it: a field left out takes its empty value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct InvitationView {
    /// Clerk's id (`orginv_…`, or `inv_…` for an application invitation).
    pub id: String,
    pub email: String,
    /// Clerk's organization id; `()` for an application invitation.
    pub organization_id: Option<String>,
    pub organization_slug: Option<String>,
    /// Clerk's role key (`org:admin`, `org:member`, `org:<key>`).
    pub role: Option<String>,
    pub role_name: Option<String>,
    /// The WorkOS slug the role maps to before this hook (the plan's
    /// `roles:` map, the default rule, then `map_role`).
    pub default_slug: String,
    /// The Clerk user who sent it.
    pub inviter_id: Option<String>,
    /// Unix milliseconds.
    pub expires_at: Option<i64>,
    pub public_metadata: Metadata,
}

impl InvitationView {
    pub fn of(
        invitation: &ClerkInvitation,
        organization_slug: Option<&str>,
        default_slug: String,
    ) -> Self {
        Self {
            id: invitation.id.clone(),
            email: invitation.email.clone(),
            organization_id: invitation.organization_id.clone(),
            organization_slug: organization_slug.map(str::to_owned),
            role: invitation.role.clone(),
            role_name: invitation.role_name.clone(),
            default_slug,
            inviter_id: invitation.inviter_id.clone(),
            expires_at: invitation.expires_at,
            public_metadata: invitation.public_metadata.clone(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The WorkOS role an invitation carries (`Slug("")` for an application
/// invitation, which has none), or why it is left out or refused.
pub fn map_role(
    invitation: &ClerkInvitation,
    organization_slug: Option<&str>,
    roles: &RoleMapper<'_>,
    script: Option<&Script>,
    ctx: &Value,
) -> Result<RoleSlug, Reason> {
    let slug = match &invitation.role {
        Some(key) => match roles.slug(key, invitation.role_name.as_deref())? {
            RoleSlug::Slug(slug) => slug,
            left_out => return Ok(left_out),
        },
        None => String::new(),
    };
    match script.filter(|s| s.defines(Hook::MapInvitation)) {
        Some(script) => finish(
            &InvitationView::of(invitation, organization_slug, slug),
            script,
            ctx,
        ),
        None => Ok(RoleSlug::Slug(slug)),
    }
}

/// The `map_invitation` hook's word on an invitation whose role maps to
/// `view.default_slug` (what a run and `ferry test` share): a slug, or
/// left out. An application invitation takes any string (it has no role).
pub fn finish(view: &InvitationView, script: &Script, ctx: &Value) -> Result<RoleSlug, Reason> {
    let in_organization = view.organization_id.is_some();
    match script.call(Hook::MapInvitation, &view.id, &[&view.to_json(), ctx]) {
        Ok(HookAnswer::Skip(reason)) => Ok(RoleSlug::LeftOut(Hook::MapInvitation.skipped(reason))),
        Ok(HookAnswer::Value(Value::String(slug)))
            if !in_organization || !slug.trim().is_empty() =>
        {
            Ok(RoleSlug::Slug(if in_organization {
                slug
            } else {
                String::new()
            }))
        }
        Ok(HookAnswer::Value(other)) => Err(Reason::new(
            ReasonCode::HookInvalidResult,
            format!("map_invitation must return a role slug or (), it returned {other}"),
        )),
        Err(error) => Err(error.reason()),
    }
}

/// WorkOS's `expires_in_days` for an invitation Clerk says expires at
/// `expires_at` (ms): the days left, rounded up, within 1 to 30; the
/// longest WorkOS allows when Clerk's never expires.
pub fn expires_in_days(expires_at: Option<i64>, now_ms: i64) -> u32 {
    const DAY_MS: i64 = 86_400_000;
    let (shortest, longest) = (*EXPIRES_IN_DAYS.start(), *EXPIRES_IN_DAYS.end());
    match expires_at {
        None => longest,
        Some(at) => {
            let left = at.saturating_sub(now_ms).max(0);
            let days = left / DAY_MS + i64::from(left % DAY_MS != 0);
            days.clamp(i64::from(shortest), i64::from(longest)) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_lives_as_long_as_clerk_s_within_workos_s_bounds() {
        let day = 86_400_000;
        let now = 1_000 * day;
        #[rustfmt::skip]
        let table = [
            ("never expires", None, 30),
            ("an hour left", Some(now + 3_600_000), 1),
            ("exactly one day", Some(now + day), 1),
            ("a day and a second", Some(now + day + 1_000), 2),
            ("a week", Some(now + 7 * day), 7),
            ("thirty days", Some(now + 30 * day), 30),
            ("ninety days", Some(now + 90 * day), 30),
            ("already past", Some(now - day), 1),
        ];
        for (case, expires_at, days) in table {
            assert_eq!(expires_in_days(expires_at, now), days, "{case}");
        }
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_is_expired() {
        #[rustfmt::skip]
        let table = [
            ("pending", None, Status::Pending),
            ("pending", Some(2_000), Status::Pending),
            ("pending", Some(1_000), Status::Expired),
            ("accepted", None, Status::Accepted),
            ("revoked", Some(2_000), Status::Revoked),
            ("expired", None, Status::Expired),
            ("something new", None, Status::Expired),
        ];
        for (status, expires_at, expected) in table {
            assert_eq!(
                Status::of(status, expires_at, 1_000),
                expected,
                "{status} {expires_at:?}"
            );
        }
    }
}
