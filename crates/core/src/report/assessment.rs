//! The assessment's findings: what a migration of this source will meet,
//! counted from the source alone (made by [`crate::steps::assess`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Assessment {
    pub users: u64,
    /// `password`, `social`, `both`, `neither`.
    pub sign_in: BTreeMap<String, u64>,
    pub hashers: Vec<HasherRow>,
    pub multi_email: u64,
    /// Where the primary email comes from: `api`, `export`, `unknown`.
    pub primary_known_from: BTreeMap<String, u64>,
    /// Users without an email, by kind: `phone_only`, `username_only`, `no_identifier`, `primary_unknown`.
    pub no_email: BTreeMap<String, u64>,
    pub shared_emails: SharedEmails,
    pub unverified_primary: u64,
    pub mfa: MfaCounts,
    pub banned: u64,
    pub locked: u64,
    pub metadata_over_limits: u64,
    pub oauth_providers: Vec<ProviderRow>,
    pub bad_export_rows: u64,
    pub organizations: u64,
    pub memberships: u64,
    pub roles: Vec<RoleRow>,
    /// Enterprise sign-in: Clerk's connections and directories, and its SSO users.
    #[serde(default)]
    pub sso: SsoCounts,
    pub steps_needed: Vec<String>,
    pub needs_a_person: Vec<String>,
    pub estimate: Estimate,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HasherRow {
    pub hasher: String,
    pub users: u64,
    /// The WorkOS hash type, or `null` when WorkOS cannot take it.
    pub imports_as: Option<String>,
    /// Users of this hasher whose digest will not be sent (malformed, out of range, unsupported).
    pub resets: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SharedEmails {
    /// Addresses (case-insensitive) that are the primary of more than one user.
    pub emails: u64,
    /// Users holding one of them.
    pub users: u64,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MfaCounts {
    pub totp_exported: u64,
    pub totp_not_exported: u64,
    pub sms: u64,
    pub backup_codes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProviderRow {
    pub provider: String,
    pub users: u64,
    pub social_only_users: u64,
    pub enabled_in_workos: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoleRow {
    pub role: String,
    pub memberships: u64,
    pub maps_to: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Estimate {
    pub user_writes: u64,
    pub totp_writes: u64,
    pub organization_writes: u64,
    pub membership_writes: u64,
    pub writes_per_second: f64,
    pub seconds: f64,
    pub human: String,
}

pub fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// What the assessment sees of enterprise sign-in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SsoCounts {
    /// Active connections with an organization, by protocol (`saml`, `oidc`).
    pub connections: BTreeMap<String, u64>,
    /// Connections the step will not create: `inactive`, `without_organization`.
    pub not_created: BTreeMap<String, u64>,
    /// SCIM directories (handed off: WorkOS has no API to create one).
    pub directories: u64,
    /// Users with an enterprise account.
    pub users: u64,
}
