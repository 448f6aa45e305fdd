//! Clerk Backend API objects as the API sends them (spec version 2025-11-10):
//! users and their identifiers, organizations, memberships, list envelopes and
//! the error envelope. Timestamps are Unix milliseconds.
//!
//! Serialising writes every field the spec marks required (nullable ones as
//! `null`), so the sandbox answers what the official SDK expects.
//! Deserialising tolerates unknown fields (the API grows) and defaults the
//! fields older snapshots may lack, so a saved tenant still loads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object: metadata and other free-form maps.
pub type Metadata = Map<String, Value>;

/// `GET /v1/users/{id}`, one element of `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default = "object_user")]
    pub object: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    #[serde(default)]
    pub primary_phone_number_id: Option<String>,
    #[serde(default)]
    pub primary_web3_wallet_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub has_image: bool,
    #[serde(default)]
    pub public_metadata: Metadata,
    #[serde(default)]
    pub private_metadata: Option<Metadata>,
    #[serde(default)]
    pub unsafe_metadata: Metadata,
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default)]
    pub web3_wallets: Vec<Value>,
    #[serde(default)]
    pub passkeys: Vec<Value>,
    #[serde(default)]
    pub password_enabled: bool,
    #[serde(default)]
    pub two_factor_enabled: bool,
    #[serde(default)]
    pub totp_enabled: bool,
    #[serde(default)]
    pub backup_code_enabled: bool,
    #[serde(default)]
    pub external_accounts: Vec<ExternalAccount>,
    #[serde(default)]
    pub saml_accounts: Vec<Value>,
    #[serde(default)]
    pub enterprise_accounts: Vec<Value>,
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    #[serde(default)]
    pub banned: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub lockout_expires_in_seconds: Option<i64>,
    #[serde(default)]
    pub verification_attempts_remaining: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default = "yes")]
    pub delete_self_enabled: bool,
    #[serde(default = "yes")]
    pub create_organization_enabled: bool,
    #[serde(default)]
    pub last_active_at: Option<i64>,
    #[serde(default)]
    pub mfa_enabled_at: Option<i64>,
    #[serde(default)]
    pub mfa_disabled_at: Option<i64>,
    #[serde(default)]
    pub legal_accepted_at: Option<i64>,
}

impl User {
    /// The primary email entry: the one whose id is `primary_email_address_id`.
    pub fn primary_email(&self) -> Option<&EmailAddress> {
        let id = self.primary_email_address_id.as_deref()?;
        self.email_addresses
            .iter()
            .find(|email| email.id.as_deref() == Some(id))
    }

    /// The enterprise connections the user signs in through, each with the
    /// email address its account carries: from `enterprise_accounts`
    /// (`enterprise_connection_id`, or the embedded connection's id) and the
    /// older `saml_accounts` (the embedded SAML connection's id). Accounts
    /// that are inactive or name no connection are left out.
    pub fn enterprise_sign_ins(&self) -> Vec<(String, String)> {
        let field = |value: &Value, path: &[&str]| -> Option<String> {
            let mut at = value;
            for key in path {
                at = at.get(key)?;
            }
            at.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
        };
        let active =
            |account: &Value| account.get("active").and_then(Value::as_bool) != Some(false);
        let enterprise = self
            .enterprise_accounts
            .iter()
            .filter(|a| active(a))
            .filter_map(|account| {
                let connection = field(account, &["enterprise_connection_id"])
                    .or_else(|| field(account, &["enterprise_connection", "id"]))?;
                Some((
                    connection,
                    field(account, &["email_address"]).unwrap_or_default(),
                ))
            });
        let saml = self
            .saml_accounts
            .iter()
            .filter(|a| active(a))
            .filter_map(|account| {
                let connection = field(account, &["saml_connection", "id"])?;
                Some((
                    connection,
                    field(account, &["email_address"]).unwrap_or_default(),
                ))
            });
        let mut all: Vec<(String, String)> = enterprise.chain(saml).collect();
        all.sort();
        all.dedup();
        all
    }

    /// The phone number reserved for SMS second factor, if any.
    pub fn sms_second_factor(&self) -> Option<&PhoneNumber> {
        self.phone_numbers
            .iter()
            .find(|phone| phone.reserved_for_second_factor)
    }
}

/// One of a user's email addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default = "object_email_address")]
    pub object: String,
    pub email_address: String,
    #[serde(default)]
    pub reserved: bool,
    #[serde(default)]
    pub verification: Option<Verification>,
    #[serde(default)]
    pub linked_to: Vec<IdentificationLink>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl EmailAddress {
    pub fn is_verified(&self) -> bool {
        self.verification
            .as_ref()
            .is_some_and(|verification| verification.status == "verified")
    }
}

/// How an identifier was (or was not) verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// `verification_otp`, `verification_admin`, `verification_from_oauth`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// `verified`, `unverified`, `failed`, `expired`, …
    pub status: String,
    #[serde(default)]
    pub strategy: Option<String>,
    #[serde(default)]
    pub attempts: Option<i64>,
    #[serde(default)]
    pub expire_at: Option<i64>,
}

/// Ties an identifier to what it came from (an OAuth account, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentificationLink {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// One of a user's phone numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneNumber {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default = "object_phone_number")]
    pub object: String,
    pub phone_number: String,
    #[serde(default)]
    pub reserved_for_second_factor: bool,
    #[serde(default)]
    pub default_second_factor: bool,
    #[serde(default)]
    pub reserved: bool,
    #[serde(default)]
    pub verification: Option<Verification>,
    #[serde(default)]
    pub linked_to: Vec<IdentificationLink>,
    #[serde(default)]
    pub backup_codes: Option<Vec<String>>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

/// A social (OAuth) account: `provider` is `oauth_google`, `oauth_github`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalAccount {
    #[serde(default = "object_external_account")]
    pub object: String,
    pub id: String,
    pub provider: String,
    #[serde(default)]
    pub identification_id: String,
    #[serde(default)]
    pub provider_user_id: String,
    #[serde(default)]
    pub approved_scopes: String,
    #[serde(default)]
    pub email_address: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub public_metadata: Metadata,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
    #[serde(default)]
    pub verification: Option<Verification>,
}

/// `GET /v1/organizations/{id}`, one element of the organization list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    #[serde(default = "object_organization")]
    pub object: String,
    pub id: String,
    pub name: String,
    pub slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default)]
    pub has_image: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_count: Option<u64>,
    #[serde(default)]
    pub max_allowed_memberships: u64,
    #[serde(default)]
    pub admin_delete_enabled: bool,
    #[serde(default)]
    pub public_metadata: Metadata,
    #[serde(default)]
    pub private_metadata: Metadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user's membership in an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationMembership {
    pub id: String,
    #[serde(default = "object_organization_membership")]
    pub object: String,
    /// `org:admin`, `org:member` or a custom `org:<key>`.
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub public_metadata: Metadata,
    #[serde(default)]
    pub private_metadata: Metadata,
    pub organization: Organization,
    /// May be absent (the spec does not require it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_user_data: Option<PublicUserData>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a membership tells about its user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicUserData {
    pub user_id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub profile_image_url: Option<String>,
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub has_image: bool,
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// A permission an organization role grants (`GET /v1/organization_permissions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    #[serde(default = "object_permission")]
    pub object: String,
    pub id: String,
    pub name: String,
    /// `org:<feature>:<action>`; Clerk's own are `org:sys_…`.
    pub key: String,
    #[serde(default)]
    pub description: String,
    /// `system` (Clerk's `org:sys_…`) or `user`.
    #[serde(rename = "type", default = "permission_type_user")]
    pub kind: String,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl Permission {
    /// One of Clerk's own permissions (`org:sys_…`), not the instance's.
    pub fn is_system(&self) -> bool {
        self.kind == "system" || self.key.starts_with("org:sys_")
    }
}

/// An organization role (`GET /v1/organization_roles`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    #[serde(default = "object_role")]
    pub object: String,
    pub id: String,
    pub name: String,
    /// `org:admin`, `org:member` or `org:<custom>`.
    pub key: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_creator_eligible: bool,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

/// The verification of an organization domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainVerification {
    /// `verified` or `unverified`.
    pub status: String,
    pub strategy: String,
    #[serde(default)]
    pub attempts: Option<i64>,
    #[serde(default)]
    pub expire_at: Option<i64>,
    #[serde(default)]
    pub verified_at: Option<i64>,
}

/// `GET /v1/organizations/{id}/domains`, `GET /v1/organization_domains`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationDomain {
    #[serde(default = "object_organization_domain")]
    pub object: String,
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub enrollment_mode: String,
    #[serde(default)]
    pub affiliation_email_address: Option<String>,
    #[serde(default)]
    pub affiliation_verification: Option<DomainVerification>,
    #[serde(default)]
    pub ownership_verification: Option<DomainVerification>,
    /// Deprecated alias of `affiliation_verification`, still sent.
    #[serde(default)]
    pub verification: Option<DomainVerification>,
    #[serde(default)]
    pub total_pending_invitations: i64,
    #[serde(default)]
    pub total_pending_suggestions: i64,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl OrganizationDomain {
    /// Whether Clerk's DNS ownership proof succeeded: what WorkOS's
    /// `verified` state means (it drives domain capture and SSO routing),
    /// unlike an affiliation verified by an email code.
    pub fn ownership_verified(&self) -> bool {
        self.ownership_verification
            .as_ref()
            .is_some_and(|v| v.status == "verified")
    }

    /// Whether Clerk holds the domain as verified (by ownership, or by affiliation).
    pub fn is_verified(&self) -> bool {
        [
            &self.ownership_verification,
            &self.affiliation_verification,
            &self.verification,
        ]
        .into_iter()
        .flatten()
        .any(|v| v.status == "verified")
    }
}

/// `GET /v1/instance`: which Clerk instance a key belongs to.
/// `environment_type` is `development` or `production`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub object: String,
    pub id: String,
    pub environment_type: String,
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default)]
    pub workspace_id: Option<String>,
}

/// `{"data": [...], "total_count": N}`: organizations and memberships.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaginatedList<T> {
    pub data: Vec<T>,
    pub total_count: u64,
}

/// `GET /v1/users/count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalCount {
    pub object: String,
    pub total_count: u64,
}

/// Every Clerk error, 429 included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkErrors {
    pub errors: Vec<ClerkError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clerk_trace_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkError {
    pub message: String,
    pub long_message: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

fn yes() -> bool {
    true
}
fn object_user() -> String {
    "user".into()
}
fn object_email_address() -> String {
    "email_address".into()
}
fn object_phone_number() -> String {
    "phone_number".into()
}
fn object_external_account() -> String {
    "external_account".into()
}
fn object_organization() -> String {
    "organization".into()
}
fn object_organization_membership() -> String {
    "organization_membership".into()
}

fn object_permission() -> String {
    "permission".into()
}

fn permission_type_user() -> String {
    "user".into()
}

fn object_role() -> String {
    "role".into()
}

fn object_organization_domain() -> String {
    "organization_domain".into()
}
