//! WorkOS invitations (`/user_management/invitations`), as the OpenAPI
//! copy defines them (`UserlandUserInvite`). Creating one, and resending
//! one, sends the invitee an email.
//!
//! An invitation's `token` and `accept_invitation_url` let anyone holding
//! them join as the invitee: they are not declared, so ferry drops them as
//! each response is read and can never write them anywhere.

use serde::{Deserialize, Serialize};

/// `object: "invitation"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub object: String,
    pub id: String,
    pub email: String,
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub state: String,
    #[serde(default)]
    pub accepted_at: Option<String>,
    #[serde(default)]
    pub revoked_at: Option<String>,
    pub expires_at: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub inviter_user_id: Option<String>,
    #[serde(default)]
    pub accepted_user_id: Option<String>,
    #[serde(default)]
    pub role_slug: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /user_management/invitations` (`CreateUserlandUserInviteOptionsDto`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateInvitation {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_slug: Option<String>,
    /// 1 to 30; WorkOS's default is 7.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// The shortest and longest life WorkOS gives an invitation, in days.
pub const EXPIRES_IN_DAYS: std::ops::RangeInclusive<u32> = 1..=30;
