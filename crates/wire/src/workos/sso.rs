//! WorkOS SSO connections and Admin Portal links.
//!
//! `GET /connections` and `GET`/`DELETE /connections/{id}` and
//! `POST /portal/generate_link` are in the OpenAPI copy ferry ships with;
//! creating (`POST /connections`), updating (`PATCH /connections/{id}`) and
//! the SAML signing-certificate routes are newer, and follow the models of
//! the official `workos` Rust crate (3.5.0), which is generated from
//! WorkOS's current spec. Their documented rule that matters most here:
//! a create whose `external_id` matches a connection of the same
//! organization returns that connection instead of making a second one.

use serde::{Deserialize, Serialize};

use super::model::wire;
use crate::secret::Secret;

/// `object: "connection"`. WorkOS returns neither the external_id nor the
/// protocol options it was created with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub object: String,
    pub id: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    /// `GenericSAML`, `GenericOIDC`, `OktaSAML`, …
    pub connection_type: String,
    pub name: String,
    /// `draft`, `active`, `validating`, `inactive`, `deleting`, …
    pub state: String,
    /// Deprecated alias of `state` (`linked`, `unlinked`), still sent.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub domains: Vec<ConnectionDomain>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionDomain {
    pub id: String,
    pub object: String,
    pub domain: String,
}

/// `POST /connections`: exactly one of `saml_options` and `oidc_options`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateConnection {
    pub organization_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `GenericSAML` or `GenericOIDC`; inferred from the options when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_maps: Option<AttributeMaps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml_options: Option<SamlOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_options: Option<OidcOptions>,
}

/// `attribute_maps`: which IdP attribute or claim fills each profile
/// field; a field left out keeps the connection type's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMaps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_attributes: Option<StandardAttributes>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// `saml_options`: an IdP metadata URL, or the manual IdP fields (entity
/// id, SSO URL, signing certificates), never both. `acs_url` and
/// `sp_entity_id` override WorkOS's own service-provider values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SamlOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_metadata_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_entity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_sso_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_signing_certs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acs_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_entity_id: Option<String>,
}

/// `oidc_options`. The client secret is write-only: WorkOS never returns it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OidcOptions {
    pub discovery_endpoint: String,
    pub client_id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce: Option<bool>,
}

/// `PATCH /connections/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateConnection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute_maps: Option<AttributeMaps>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml_options: Option<SamlOptions>,
}

/// `GET /connections/{id}/saml_idp_signing_certs`: every IdP signing
/// certificate on the connection, expired ones included, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningCertificateList {
    pub object: String,
    pub data: Vec<SigningCertificate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningCertificate {
    pub object: String,
    pub id: String,
    /// The PEM-encoded X.509 certificate.
    pub value: String,
    #[serde(default)]
    pub not_before: Option<String>,
    #[serde(default)]
    pub not_after: Option<String>,
    pub created_at: String,
}

/// `POST /portal/generate_link`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratePortalLink {
    pub organization: String,
    /// `sso`, `dsync`, `domain_verification`, `audit_logs`, `log_streams`,
    /// `certificate_renewal`, `bring_your_own_key`.
    pub intent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// The Admin Portal link: a short-lived bearer credential (five minutes),
/// so a [`Secret`]: shown to the person who asked, never logged or stored.
#[derive(Debug, Clone, Deserialize)]
pub struct PortalLink {
    pub link: Secret,
}
