//! What the generator plants and its parts share: the fixed parameters of
//! synthetic data, the plaintext passwords, and the [`GroundTruth`] tests
//! compare `assess` and `verify` against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use ferry_wire::secret::Secret;

/// The cost of the synthetic bcrypt digests (Clerk's own are 10).
pub const BCRYPT_COST: u32 = 4;

pub const PASSWORD_POOL: usize = 16;

/// 2023-01-01T00:00:00Z in ms: the tenant's first sign-up.
pub const EPOCH_MS: i64 = 1_672_531_200_000;

/// One line of the passwords side file (written by `export::write_passwords`,
/// which alone exposes the password).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PasswordRow {
    pub user_id: String,
    /// Empty for username-only users.
    pub email: String,
    pub username: String,
    /// Plain text in the file, masked in logs.
    pub password: Secret,
    pub password_hasher: String,
}

/// What the generator planted, by category. Categories overlap (a TOTP user
/// is also a password user); `social_only` is keyed by Clerk provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub users: u64,
    /// Users with a password digest in the export.
    pub password_users: u64,
    pub social_only: BTreeMap<String, u64>,
    pub password_and_social: u64,
    /// Social accounts whose email is not the user's primary address.
    pub oauth_email_mismatch: u64,
    /// Users with more than one email address.
    pub multi_email: u64,
    /// Users whose primary email is not verified.
    pub unverified_primary: u64,
    /// Users whose primary email is an earlier user's with a `+tag`: distinct
    /// in Clerk, the same address once plus-addressing is stripped.
    pub plus_address_collisions: u64,
    pub phone_only: u64,
    pub username_only: u64,
    pub totp: u64,
    /// TOTP users whose secret is not in the export.
    pub totp_not_exported: u64,
    pub sms_second_factor: u64,
    pub backup_codes: u64,
    /// Password users by `password_hasher`.
    pub hashers: BTreeMap<String, u64>,
    pub banned: u64,
    pub locked: u64,
    pub organizations: u64,
    pub memberships: u64,
    /// Memberships by Clerk role.
    pub roles: BTreeMap<String, u64>,
    /// Users in more than one organization.
    pub multi_org_users: u64,
    /// Users whose metadata cannot become WorkOS metadata as is
    /// (more than 50 keys, a key over 40 characters or a value over 600).
    pub metadata_over_limits: u64,
    /// Users by metadata shape: `empty`, `flat`, `nested`, `large`.
    pub metadata_shapes: BTreeMap<String, u64>,
    pub bcrypt_cost: u32,
    /// Enterprise connections, active or not, with an organization or not.
    #[serde(default)]
    pub enterprise_connections: u64,
    /// Users with an enterprise account (they sign in through SSO).
    #[serde(default)]
    pub sso_users: u64,
    /// SSO users whose email domain is not one of their connection's.
    #[serde(default)]
    pub sso_users_outside_domains: u64,
    /// Organization invitations served `pending` (not yet expired).
    #[serde(default)]
    pub organization_invitations_pending: u64,
    /// Pending ones addressed to a user who is a member of that
    /// organization already.
    #[serde(default)]
    pub organization_invitations_pending_to_members: u64,
    /// Pending ones whose role no role definition of the tenant has (a
    /// custom role deleted since the invitation was sent).
    #[serde(default)]
    pub organization_invitations_pending_unknown_role: u64,
    /// Pending ones expiring more than 30 days after the tenant was made
    /// (WorkOS gives an invitation 30 days at most).
    #[serde(default)]
    pub organization_invitations_pending_over_30_days: u64,
    /// Pending ones expiring less than a day after the tenant was made.
    #[serde(default)]
    pub organization_invitations_pending_under_a_day: u64,
    #[serde(default)]
    pub organization_invitations_accepted: u64,
    #[serde(default)]
    pub organization_invitations_revoked: u64,
    /// Served `expired`: stored so, or pending past their `expires_at`.
    #[serde(default)]
    pub organization_invitations_expired: u64,
    /// Application invitations (to sign up, in no organization), by status.
    #[serde(default)]
    pub invitations_pending: u64,
    #[serde(default)]
    pub invitations_accepted: u64,
    #[serde(default)]
    pub invitations_revoked: u64,
}
