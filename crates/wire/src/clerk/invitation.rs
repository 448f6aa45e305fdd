//! Clerk's pending invitations as the Backend API sends them: organization
//! invitations (`GET /v1/organization_invitations`, `{data, total_count}`)
//! and application invitations (`GET /v1/invitations`, a bare array).
//!
//! Each carries a `url` with the ticket that accepts it: a bearer link
//! ferry must never keep, so it is not declared and is dropped as the
//! response is read.

use serde::{Deserialize, Serialize};

use super::model::Metadata;

/// One element of `GET /v1/organization_invitations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationInvitation {
    #[serde(default = "object_organization_invitation")]
    pub object: String,
    pub id: String,
    pub email_address: String,
    /// `org:admin`, `org:member` or a custom `org:<key>`.
    pub role: String,
    #[serde(default)]
    pub role_name: Option<String>,
    /// Required by the spec, but older answers nest it only in
    /// `public_organization_data`; [`Self::organization`] reads both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_organization_data: Option<PublicOrganizationData>,
    #[serde(default)]
    pub inviter_id: Option<String>,
    #[serde(default)]
    pub public_inviter_data: Option<PublicInviterData>,
    /// `pending`, `accepted`, `revoked` or `expired`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub public_metadata: Metadata,
    #[serde(default)]
    pub private_metadata: Metadata,
    /// Unix milliseconds; `None` when it never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl OrganizationInvitation {
    /// The Clerk organization it invites to.
    pub fn organization(&self) -> Option<&str> {
        self.organization_id.as_deref().or(self
            .public_organization_data
            .as_ref()
            .map(|o| o.id.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicOrganizationData {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub slug: Option<String>,
}

/// Who sent an organization invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicInviterData {
    pub user_id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub identifier: Option<String>,
}

/// One element of `GET /v1/invitations`: an invitation to sign up to the
/// application, in no organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    #[serde(default = "object_invitation")]
    pub object: String,
    pub id: String,
    pub email_address: String,
    #[serde(default)]
    pub public_metadata: Metadata,
    #[serde(default)]
    pub revoked: bool,
    /// `pending`, `accepted`, `revoked` or `expired`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn object_organization_invitation() -> String {
    "organization_invitation".into()
}

fn object_invitation() -> String {
    "invitation".into()
}
