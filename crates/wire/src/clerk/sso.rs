//! Clerk's enterprise sign-in objects as the Backend API sends them:
//! enterprise connections (SAML and OIDC, `GET /v1/enterprise_connections`),
//! the legacy SAML connection that alone carries the IdP certificate
//! (`GET /v1/saml_connections/{id}`), and SCIM directories
//! (`GET /v1/scim_directories`).
//!
//! What Clerk never returns (an OIDC client secret) is not here; what it
//! returns but ferry must never keep (a SCIM directory's `api_key`) is not
//! declared either, so it is dropped as the response is read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One element of `GET /v1/enterprise_connections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseConnection {
    #[serde(default = "object_enterprise_connection")]
    pub object: String,
    pub id: String,
    pub name: String,
    /// `saml_custom`, `saml_okta`, `oidc_custom`, …
    pub provider: String,
    pub active: bool,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub saml_connection: Option<EnterpriseSaml>,
    #[serde(default)]
    pub oauth_config: Option<OauthConfig>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl EnterpriseConnection {
    /// Whether the connection signs in with OIDC (an `oauth_config`, or an
    /// `oidc_` provider) rather than SAML.
    pub fn is_oidc(&self) -> bool {
        self.saml_connection.is_none()
            && (self.oauth_config.is_some() || self.provider.starts_with("oidc"))
    }
}

/// The SAML side of an enterprise connection (no certificate: that is on
/// the legacy [`SamlConnection`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseSaml {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub idp_entity_id: Option<String>,
    #[serde(default)]
    pub idp_sso_url: Option<String>,
    #[serde(default)]
    pub idp_metadata_url: Option<String>,
    #[serde(default)]
    pub acs_url: Option<String>,
    #[serde(default)]
    pub sp_entity_id: Option<String>,
    #[serde(default)]
    pub sp_metadata_url: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub allow_idp_initiated: bool,
    #[serde(default)]
    pub allow_subdomains: bool,
    #[serde(default)]
    pub force_authn: bool,
}

/// The OIDC side of an enterprise connection. Clerk never returns the
/// client secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OauthConfig {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub provider_key: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub discovery_url: Option<String>,
    #[serde(default)]
    pub auth_url: Option<String>,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default)]
    pub user_info_url: Option<String>,
    #[serde(default)]
    pub requires_pkce: bool,
}

/// `GET /v1/saml_connections/{id}` (deprecated by Clerk, and the only
/// route that returns the IdP's signing certificate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlConnection {
    #[serde(default = "object_saml_connection")]
    pub object: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub idp_entity_id: Option<String>,
    #[serde(default)]
    pub idp_sso_url: Option<String>,
    /// The IdP's X.509 signing certificate (PEM or bare base64).
    #[serde(default)]
    pub idp_certificate: Option<String>,
    /// X.509 NotBefore, Unix milliseconds.
    #[serde(default)]
    pub idp_certificate_issued_at: Option<i64>,
    /// X.509 NotAfter, Unix milliseconds.
    #[serde(default)]
    pub idp_certificate_expires_at: Option<i64>,
    #[serde(default)]
    pub idp_metadata_url: Option<String>,
    #[serde(default)]
    pub idp_metadata: Option<String>,
    #[serde(default)]
    pub acs_url: Option<String>,
    #[serde(default)]
    pub sp_entity_id: Option<String>,
    #[serde(default)]
    pub sp_metadata_url: Option<String>,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub attribute_mapping: Option<Value>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub enterprise_connection_id: Option<String>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

/// One element of `GET /v1/scim_directories`. The directory's `api_key`
/// (its SCIM bearer token) is deliberately not declared: ferry drops it as
/// the response is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScimDirectory {
    #[serde(default = "object_scim_directory")]
    pub object: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub enterprise_connection_id: Option<String>,
    #[serde(default)]
    pub endpoint_url: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn object_enterprise_connection() -> String {
    "enterprise_connection".into()
}
fn object_saml_connection() -> String {
    "saml_connection".into()
}
fn object_scim_directory() -> String {
    "scim_directory".into()
}
