//! A Clerk enterprise connection to a WorkOS SSO connection: the built-in
//! mapping (name; external_id = the Clerk connection id; SAML by the IdP's
//! metadata URL when Clerk has one, else by its entity id, SSO URL and
//! signing certificate; the service-provider side WorkOS's own unless the
//! plan says `acs: keep`; OIDC by discovery endpoint and client id, with the
//! client secret from the plan), then the `map_connection` hook.
//!
//! What cannot be created is said with a reason, never guessed around: an
//! inactive connection, one without an organization, SAML without the IdP
//! values WorkOS needs, OIDC without the secret Clerk never returns.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::plan::{AcsPolicy, ConnectionSettings};
use crate::script::{Hook, HookAnswer, Script};
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection};
use ferry_wire::secret::Secret;

/// A Clerk enterprise connection as the `map_connection` hook sees it:
/// Clerk's fields, flattened (never the OIDC client secret, which Clerk
/// does not return).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionView {
    /// Clerk's id (`entconn_…` or `samlc_…`); the WorkOS `external_id`.
    pub id: String,
    pub name: String,
    /// `saml_custom`, `saml_okta`, `oidc_custom`, …
    pub provider: String,
    /// `saml` or `oidc`.
    pub protocol: String,
    pub active: bool,
    pub organization_id: Option<String>,
    /// The Clerk organization's slug (a key of the plan's `secrets:`).
    pub organization_slug: Option<String>,
    pub domains: Vec<String>,
    pub idp_entity_id: Option<String>,
    pub idp_sso_url: Option<String>,
    pub idp_metadata_url: Option<String>,
    /// Clerk's service-provider side (sent with `acs: keep`).
    pub acs_url: Option<String>,
    pub sp_entity_id: Option<String>,
    /// The IdP's signing certificate (public; from Clerk's SAML connection).
    pub idp_certificate: Option<String>,
    /// When the IdP's signing certificate expires, milliseconds since 1970.
    pub idp_certificate_expires_at: Option<i64>,
    pub client_id: Option<String>,
    pub discovery_url: Option<String>,
    pub requires_pkce: bool,
    /// Clerk's SAML attribute mapping: profile field (`user_id`,
    /// `email_address`, `first_name`, `last_name`) → the IdP attribute
    /// that fills it; empty ones left out.
    pub attribute_mapping: BTreeMap<String, String>,
}

impl ConnectionView {
    pub fn of(source: &ConnectionSource<'_>) -> Self {
        let c = source.connection;
        let saml = c.saml_connection.as_ref();
        let legacy = source.saml;
        let oauth = c.oauth_config.as_ref();
        let pick = |enterprise: Option<&Option<String>>, old: Option<&Option<String>>| {
            enterprise
                .cloned()
                .flatten()
                .or_else(|| old.cloned().flatten())
        };
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            provider: c.provider.clone(),
            protocol: if c.is_oidc() { "oidc" } else { "saml" }.into(),
            active: c.active,
            organization_id: c.organization_id.clone(),
            organization_slug: source.organization_slug.map(str::to_owned),
            domains: c.domains.clone(),
            idp_entity_id: pick(
                saml.map(|s| &s.idp_entity_id),
                legacy.map(|l| &l.idp_entity_id),
            ),
            idp_sso_url: pick(saml.map(|s| &s.idp_sso_url), legacy.map(|l| &l.idp_sso_url)),
            idp_metadata_url: pick(
                saml.map(|s| &s.idp_metadata_url),
                legacy.map(|l| &l.idp_metadata_url),
            ),
            acs_url: pick(saml.map(|s| &s.acs_url), legacy.map(|l| &l.acs_url)),
            sp_entity_id: pick(
                saml.map(|s| &s.sp_entity_id),
                legacy.map(|l| &l.sp_entity_id),
            ),
            idp_certificate: legacy
                .and_then(|l| l.idp_certificate.clone())
                .filter(|c| !c.trim().is_empty()),
            idp_certificate_expires_at: legacy.and_then(|l| l.idp_certificate_expires_at),
            client_id: oauth.and_then(|o| o.client_id.clone()),
            discovery_url: oauth.and_then(|o| o.discovery_url.clone()),
            requires_pkce: oauth.is_some_and(|o| o.requires_pkce),
            attribute_mapping: legacy
                .and_then(|l| l.attribute_mapping.as_ref())
                .and_then(Value::as_object)
                .map(|map| {
                    map.iter()
                        .filter_map(|(field, attribute)| {
                            let attribute = attribute.as_str()?.trim();
                            (!attribute.is_empty()).then(|| (field.clone(), attribute.to_owned()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// How people know its Clerk organization: the slug, else the id
    /// (empty for a connection without one).
    pub fn organization_label(&self) -> String {
        self.organization_slug
            .clone()
            .or_else(|| self.organization_id.clone())
            .unwrap_or_default()
    }
}

/// What Clerk says of one connection: the enterprise connection, the
/// legacy SAML connection behind it (its certificate), and its
/// organization's slug.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSource<'a> {
    pub connection: &'a EnterpriseConnection,
    pub saml: Option<&'a SamlConnection>,
    pub organization_slug: Option<&'a str>,
}

/// What ferry writes for a connection, less the OIDC client secret (which
/// travels beside it, so no fingerprint or journal row ever holds it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionPayload {
    pub external_id: String,
    pub name: String,
    pub protocol: Protocol,
    /// WorkOS profile field (`idp_id`, `email`, `first_name`, `last_name`)
    /// → the IdP attribute that fills it, from Clerk's SAML mapping, so an
    /// IdP that sends `mail` rather than `email` keeps signing people in.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Protocol {
    Saml(SamlPayload),
    Oidc {
        discovery_endpoint: String,
        client_id: String,
        pkce: bool,
    },
}

/// SAML: a metadata URL, or the manual IdP fields; the SP side only with `acs: keep`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SamlPayload {
    pub idp_metadata_url: Option<String>,
    pub idp_entity_id: Option<String>,
    pub idp_sso_url: Option<String>,
    pub idp_signing_certs: Vec<String>,
    pub acs_url: Option<String>,
    pub sp_entity_id: Option<String>,
}

impl ConnectionPayload {
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(json.as_bytes()))
    }

    pub fn is_saml(&self) -> bool {
        matches!(self.protocol, Protocol::Saml(_))
    }
}

#[derive(Debug, Clone)]
pub enum MappedConnection {
    Ready {
        payload: Box<ConnectionPayload>,
        secret: Option<Secret>,
        /// Whose SP side the SAML connection gets (the hook may change it).
        acs: AcsPolicy,
    },
    /// Not created: the handoff says why (inactive, no organization,
    /// incomplete, no client secret).
    NotCreated(Reason),
    Skip(Reason),
    Reject(Reason),
}

fn not_created(code: ReasonCode, detail: impl Into<String>) -> MappedConnection {
    MappedConnection::NotCreated(Reason::new(code, detail))
}

pub fn map_connection(
    view: &ConnectionView,
    settings: &ConnectionSettings,
    script: Option<&Script>,
    ctx: &Value,
) -> MappedConnection {
    if !view.active {
        return not_created(
            ReasonCode::ConnectionInactive,
            "inactive in Clerk: no one signs in through it",
        );
    }
    if view.organization_id.is_none() {
        return not_created(
            ReasonCode::ConnectionWithoutOrganization,
            "belongs to no Clerk organization; a WorkOS connection lives in one",
        );
    }
    let mut view = view.clone();
    let mut acs = settings.acs;
    if let Some(script) = script.filter(|s| s.defines(Hook::MapConnection)) {
        let json = view.to_json();
        match script.call(Hook::MapConnection, &view.id, &[&json, ctx]) {
            Ok(HookAnswer::Skip(reason)) => {
                return MappedConnection::Skip(Hook::MapConnection.skipped(reason));
            }
            Ok(HookAnswer::Value(Value::Object(changes))) => {
                if let Err(reason) = apply(&mut view, &mut acs, &changes) {
                    return MappedConnection::Reject(reason);
                }
            }
            Ok(HookAnswer::Value(other)) => {
                return MappedConnection::Reject(Reason::new(
                    ReasonCode::HookInvalidResult,
                    format!("map_connection must return a map or (), it returned {other}"),
                ));
            }
            Err(error) => return MappedConnection::Reject(error.reason()),
        }
    }
    if view.name.trim().is_empty() {
        return MappedConnection::Reject(Reason::new(
            ReasonCode::NameInvalid,
            "the connection has no name",
        ));
    }
    let protocol = if view.protocol == "oidc" {
        let (Some(discovery_endpoint), Some(client_id)) =
            (view.discovery_url.clone(), view.client_id.clone())
        else {
            return not_created(
                ReasonCode::ConnectionIncomplete,
                "the OIDC connection has no discovery URL or client id in Clerk",
            );
        };
        let secret = settings
            .secrets
            .get(&view.id)
            .or_else(|| {
                view.organization_slug
                    .as_ref()
                    .and_then(|s| settings.secrets.get(s))
            })
            .filter(|s| !s.is_empty());
        let Some(secret) = secret else {
            return not_created(
                ReasonCode::OidcSecretMissing,
                format!(
                    "Clerk never returns an OIDC client secret, and the plan's connections.secrets has none for {} (or its organization's slug)",
                    view.id
                ),
            );
        };
        let payload = ConnectionPayload {
            external_id: view.id.clone(),
            name: view.name.clone(),
            attributes: BTreeMap::new(),
            protocol: Protocol::Oidc {
                discovery_endpoint,
                client_id,
                pkce: view.requires_pkce,
            },
        };
        return MappedConnection::Ready {
            payload: Box::new(payload),
            secret: Some(secret.clone()),
            acs,
        };
    } else {
        let mut saml = SamlPayload::default();
        let certificate = view.idp_certificate.clone();
        match (
            &view.idp_metadata_url,
            &view.idp_entity_id,
            &view.idp_sso_url,
            certificate,
        ) {
            (Some(url), _, _, _) if !url.trim().is_empty() => {
                saml.idp_metadata_url = Some(url.clone());
            }
            (_, Some(entity), Some(sso), Some(certificate)) => {
                saml.idp_entity_id = Some(entity.clone());
                saml.idp_sso_url = Some(sso.clone());
                saml.idp_signing_certs = vec![certificate];
            }
            _ => {
                return not_created(
                    ReasonCode::ConnectionIncomplete,
                    "Clerk has neither an IdP metadata URL nor the IdP entity id, SSO URL and signing certificate",
                );
            }
        }
        if acs == AcsPolicy::Keep {
            saml.acs_url = view.acs_url.clone();
            saml.sp_entity_id = view.sp_entity_id.clone();
        }
        Protocol::Saml(saml)
    };
    // Clerk's field names to WorkOS's; one WorkOS does not have is left out.
    let attributes = view
        .attribute_mapping
        .iter()
        .filter_map(|(field, attribute)| {
            let workos = match field.as_str() {
                "user_id" => "idp_id",
                "email_address" => "email",
                "first_name" => "first_name",
                "last_name" => "last_name",
                _ => return None,
            };
            Some((workos.to_owned(), attribute.clone()))
        })
        .collect();
    MappedConnection::Ready {
        payload: Box::new(ConnectionPayload {
            external_id: view.id.clone(),
            name: view.name,
            protocol,
            attributes,
        }),
        secret: None,
        acs,
    }
}

/// A hook's changes: `name`, `acs` (`workos` or `keep`), and the IdP
/// fields (`idp_metadata_url`, `idp_entity_id`, `idp_sso_url`,
/// `idp_certificate`, `discovery_url`, `client_id`).
fn apply(
    view: &mut ConnectionView,
    acs: &mut AcsPolicy,
    changes: &serde_json::Map<String, Value>,
) -> Result<(), Reason> {
    let invalid = |detail: String| Reason::new(ReasonCode::HookInvalidResult, detail);
    for (key, value) in changes {
        let text = || {
            value.as_str().map(str::to_owned).ok_or_else(|| {
                invalid(format!(
                    "map_connection returned `{key}` of the wrong type: {value}"
                ))
            })
        };
        match key.as_str() {
            "name" => view.name = text()?,
            "acs" => {
                *acs = match text()?.as_str() {
                    "workos" => AcsPolicy::Workos,
                    "keep" => AcsPolicy::Keep,
                    other => {
                        return Err(invalid(format!(
                            "map_connection returned acs `{other}`: use \"workos\" or \"keep\""
                        )));
                    }
                }
            }
            "idp_metadata_url" => view.idp_metadata_url = Some(text()?),
            "idp_entity_id" => view.idp_entity_id = Some(text()?),
            "idp_sso_url" => view.idp_sso_url = Some(text()?),
            "discovery_url" => view.discovery_url = Some(text()?),
            "client_id" => view.client_id = Some(text()?),
            "idp_certificate" => view.idp_certificate = Some(text()?),
            other => {
                return Err(invalid(format!(
                    "map_connection returned `{other}`, which is not a field it may change (name, acs, idp_metadata_url, idp_entity_id, idp_sso_url, idp_certificate, discovery_url, client_id)"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saml() -> ConnectionView {
        ConnectionView {
            id: "entconn_1".into(),
            name: "Acme SSO".into(),
            provider: "saml_custom".into(),
            protocol: "saml".into(),
            active: true,
            organization_id: Some("org_1".into()),
            organization_slug: Some("acme".into()),
            idp_entity_id: Some("https://idp/entity".into()),
            idp_sso_url: Some("https://idp/sso".into()),
            idp_certificate: Some("CERT".into()),
            acs_url: Some("https://clerk/acs".into()),
            sp_entity_id: Some("https://clerk/sp".into()),
            ..ConnectionView::default()
        }
    }

    fn oidc() -> ConnectionView {
        ConnectionView {
            protocol: "oidc".into(),
            provider: "oidc_custom".into(),
            client_id: Some("client".into()),
            discovery_url: Some("https://login/.well-known".into()),
            requires_pkce: true,
            ..saml()
        }
    }

    /// What each connection comes to: the protocol payload, or the reason code.
    fn outcome(
        view: ConnectionView,
        settings: &ConnectionSettings,
    ) -> Result<Protocol, ReasonCode> {
        match map_connection(&view, settings, None, &Value::Null) {
            MappedConnection::Ready { payload, .. } => Ok(payload.protocol),
            MappedConnection::NotCreated(r)
            | MappedConnection::Skip(r)
            | MappedConnection::Reject(r) => Err(r.code),
        }
    }

    #[test]
    fn every_shape_of_connection() {
        let workos = ConnectionSettings::default();
        let keep = ConnectionSettings {
            acs: AcsPolicy::Keep,
            ..ConnectionSettings::default()
        };
        let with_secret = ConnectionSettings {
            secrets: [("acme".to_owned(), Secret::new("s3cret"))].into(),
            ..ConnectionSettings::default()
        };
        let manual = SamlPayload {
            idp_entity_id: Some("https://idp/entity".into()),
            idp_sso_url: Some("https://idp/sso".into()),
            idp_signing_certs: vec!["CERT".into()],
            ..SamlPayload::default()
        };
        let metadata = ConnectionView {
            idp_metadata_url: Some("https://idp/metadata.xml".into()),
            idp_entity_id: None,
            idp_certificate: None,
            ..saml()
        };
        #[rustfmt::skip]
        let table: Vec<(&str, ConnectionView, &ConnectionSettings, Result<Protocol, ReasonCode>)> = vec![
            ("manual SAML", saml(), &workos, Ok(Protocol::Saml(manual.clone()))),
            ("manual SAML, Clerk's SP side kept", saml(), &keep, Ok(Protocol::Saml(SamlPayload {
                acs_url: Some("https://clerk/acs".into()),
                sp_entity_id: Some("https://clerk/sp".into()),
                ..manual.clone()
            }))),
            ("SAML by metadata URL", metadata, &workos, Ok(Protocol::Saml(SamlPayload {
                idp_metadata_url: Some("https://idp/metadata.xml".into()),
                ..SamlPayload::default()
            }))),
            ("SAML without a certificate", ConnectionView { idp_certificate: None, ..saml() }, &workos, Err(ReasonCode::ConnectionIncomplete)),
            ("inactive", ConnectionView { active: false, ..saml() }, &workos, Err(ReasonCode::ConnectionInactive)),
            ("no organization", ConnectionView { organization_id: None, ..saml() }, &workos, Err(ReasonCode::ConnectionWithoutOrganization)),
            ("OIDC without a secret", oidc(), &workos, Err(ReasonCode::OidcSecretMissing)),
            ("OIDC with its organization's secret", oidc(), &with_secret, Ok(Protocol::Oidc {
                discovery_endpoint: "https://login/.well-known".into(),
                client_id: "client".into(),
                pkce: true,
            })),
            ("OIDC without a client id", ConnectionView { client_id: None, ..oidc() }, &with_secret, Err(ReasonCode::ConnectionIncomplete)),
        ];
        for (case, view, settings, expected) in table {
            assert_eq!(outcome(view, settings), expected, "{case}");
        }
    }

    #[test]
    fn the_secret_is_never_in_the_payload_or_its_fingerprint() {
        let settings = ConnectionSettings {
            secrets: [("entconn_1".to_owned(), Secret::new("s3cret-value"))].into(),
            ..ConnectionSettings::default()
        };
        let MappedConnection::Ready {
            payload, secret, ..
        } = map_connection(&oidc(), &settings, None, &Value::Null)
        else {
            panic!("ready");
        };
        assert_eq!(secret.unwrap().expose(), "s3cret-value");
        assert!(!serde_json::to_string(&payload).unwrap().contains("s3cret"));
        assert!(!format!("{payload:?}").contains("s3cret"));
    }
}
