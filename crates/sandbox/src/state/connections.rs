//! SSO connections, as the official `workos` crate's models describe the
//! routes newer than the spec copy: create (SAML by metadata URL or manual
//! IdP fields, OIDC with a client secret), the `external_id` rule (a create
//! whose external_id matches a connection of the same organization returns
//! that connection), read, list, update, delete, the IdP signing
//! certificates; Admin Portal links; and an SSO sign-in simulated for an
//! email, answered as WorkOS's documented domain and identity-linking rules
//! would answer it.

use super::pagination::{ListQuery, cursor_page, map_page};
use super::rules::organization_not_found;
use super::sso::{SignIn, StoredConnection};
use super::{Failure, Outcome, WorkosState, now};
use ferry_wire::workos::model::List;
use ferry_wire::workos::sso::{
    Connection, ConnectionDomain, CreateConnection, GeneratePortalLink, SamlOptions,
    SigningCertificate, SigningCertificateList, UpdateConnection,
};

const PORTAL_INTENTS: [&str; 7] = [
    "sso",
    "dsync",
    "audit_logs",
    "log_streams",
    "domain_verification",
    "certificate_renewal",
    "bring_your_own_key",
];

fn connection_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("Connection not found: '{id}'."))
}

fn invalid(message: &str) -> Failure {
    Failure::InvalidRequest(message.to_owned())
}

/// The SAML options' own rule: a metadata URL, or the manual IdP fields
/// (entity id, SSO URL and at least one signing certificate), never both.
fn check_saml(options: &SamlOptions) -> Outcome<()> {
    let manual = options.idp_entity_id.is_some()
        || options.idp_sso_url.is_some()
        || options.idp_signing_certs.is_some();
    match (&options.idp_metadata_url, manual) {
        (Some(_), true) => Err(invalid(
            "saml_options.idp_metadata_url is mutually exclusive with the manual IdP fields",
        )),
        (Some(url), false) if url.trim().is_empty() => {
            Err(invalid("saml_options.idp_metadata_url must not be empty"))
        }
        (Some(_), false) => Ok(()),
        (None, _) => {
            let certs = options.idp_signing_certs.as_deref().unwrap_or_default();
            if options.idp_entity_id.as_deref().is_none_or(str::is_empty)
                || options.idp_sso_url.as_deref().is_none_or(str::is_empty)
                || certs.is_empty()
                || certs.iter().any(|c| c.trim().is_empty())
            {
                Err(invalid(
                    "saml_options needs idp_metadata_url, or idp_entity_id, idp_sso_url and idp_signing_certs",
                ))
            } else {
                Ok(())
            }
        }
    }
}

impl WorkosState {
    pub fn create_connection(&mut self, request: CreateConnection) -> Outcome<(bool, Connection)> {
        let organization = self.organization(&request.organization_id)?;
        if let Some(external_id) = &request.external_id {
            // The documented rule: the same external_id in the same
            // organization returns the existing connection.
            if let Some(existing) = self.connections.values().find(|stored| {
                stored.external_id.as_deref() == Some(external_id)
                    && stored.connection.organization_id.as_deref() == Some(&organization.id)
            }) {
                return Ok((false, existing.connection.clone()));
            }
        }
        let kind = match (&request.saml_options, &request.oidc_options) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "saml_options and oidc_options are mutually exclusive",
                ));
            }
            (None, None) => return Err(invalid("saml_options or oidc_options is required")),
            (Some(saml), None) => {
                check_saml(saml)?;
                "GenericSAML"
            }
            (None, Some(oidc)) => {
                if oidc.discovery_endpoint.trim().is_empty() || oidc.client_id.trim().is_empty() {
                    return Err(invalid(
                        "oidc_options.discovery_endpoint and oidc_options.client_id are required",
                    ));
                }
                if oidc.client_secret.as_ref().is_none_or(|s| s.is_empty()) {
                    return Err(invalid(
                        "oidc_options.client_secret is required for client_secret_basic",
                    ));
                }
                "GenericOIDC"
            }
        };
        let connection_type = match request.connection_type.as_deref() {
            None => kind.to_owned(),
            Some(given) if given.ends_with(&kind[7..]) => given.to_owned(),
            Some(given) => {
                return Err(invalid(&format!(
                    "connection_type {given} does not match the options sent"
                )));
            }
        };
        let timestamp = now();
        let id = self.next_id("conn");
        let connection = Connection {
            object: "connection".into(),
            id: id.clone(),
            organization_id: Some(organization.id.clone()),
            connection_type,
            name: request.name.unwrap_or_else(|| organization.name.clone()),
            state: "active".into(),
            status: Some("linked".into()),
            domains: organization
                .domains
                .iter()
                .map(|d| ConnectionDomain {
                    id: d.id.clone(),
                    object: "connection_domain".into(),
                    domain: d.domain.clone(),
                })
                .collect(),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        let oidc = request.oidc_options;
        self.connections.insert(
            id.clone(),
            StoredConnection {
                connection: connection.clone(),
                external_id: request.external_id,
                saml_options: request.saml_options,
                attribute_maps: request.attribute_maps,
                oidc_discovery_endpoint: oidc.as_ref().map(|o| o.discovery_endpoint.clone()),
                oidc_client_id: oidc.as_ref().map(|o| o.client_id.clone()),
                oidc_client_secret_set: oidc.is_some(),
            },
        );
        self.events
            .record("connection.activated", &connection, Some(&organization.id));
        Ok((true, connection))
    }

    pub fn connection(&self, id: &str) -> Outcome<Connection> {
        self.connections
            .get(id)
            .map(|stored| stored.connection.clone())
            .ok_or_else(|| connection_not_found(id))
    }

    pub fn list_connections(
        &self,
        query: &ListQuery,
        organization_id: Option<&str>,
        connection_type: Option<&str>,
        domain: Option<&str>,
    ) -> List<Connection> {
        let selected = self.connections.values().filter(|stored| {
            let c = &stored.connection;
            organization_id.is_none_or(|o| c.organization_id.as_deref() == Some(o))
                && connection_type.is_none_or(|t| c.connection_type == t)
                && domain.is_none_or(|d| c.domains.iter().any(|x| x.domain == d))
        });
        let page = cursor_page(
            selected.map(|s| (s.connection.id.as_str(), s)).collect(),
            query,
        );
        map_page(page, |stored: &StoredConnection| stored.connection.clone())
    }

    pub fn update_connection(
        &mut self,
        id: &str,
        request: UpdateConnection,
    ) -> Outcome<Connection> {
        let Some(mut stored) = self.connections.get(id).cloned() else {
            return Err(connection_not_found(id));
        };
        if let Some(name) = request.name {
            stored.connection.name = name;
        }
        if let Some(maps) = request.attribute_maps {
            stored.attribute_maps = Some(maps);
        }
        if let Some(patch) = request.saml_options {
            let Some(mut saml) = stored.saml_options.clone() else {
                return Err(invalid(
                    "saml_options sent for a connection that is not SAML",
                ));
            };
            if patch.idp_metadata_url.is_some() {
                saml.idp_metadata_url = patch.idp_metadata_url;
                saml.idp_entity_id = None;
                saml.idp_sso_url = None;
                saml.idp_signing_certs = None;
            }
            for (field, value) in [
                (&mut saml.idp_entity_id, patch.idp_entity_id),
                (&mut saml.idp_sso_url, patch.idp_sso_url),
                (&mut saml.acs_url, patch.acs_url),
                (&mut saml.sp_entity_id, patch.sp_entity_id),
            ] {
                if value.is_some() {
                    *field = value;
                }
            }
            stored.saml_options = Some(saml);
        }
        stored.connection.updated_at = now();
        let connection = stored.connection.clone();
        self.connections.insert(id.to_owned(), stored);
        Ok(connection)
    }

    pub fn delete_connection(&mut self, id: &str) -> Outcome<()> {
        let Some(stored) = self.connections.remove(id) else {
            return Err(connection_not_found(id));
        };
        self.events.record(
            "connection.deleted",
            &stored.connection,
            stored.connection.organization_id.as_deref(),
        );
        Ok(())
    }

    /// Removes the connections of a deleted organization.
    pub(super) fn remove_connections_of(&mut self, organization_id: &str) {
        self.connections.retain(|_, stored| {
            stored.connection.organization_id.as_deref() != Some(organization_id)
        });
    }

    pub fn signing_certificates(&self, id: &str) -> Outcome<SigningCertificateList> {
        let stored = self
            .connections
            .get(id)
            .ok_or_else(|| connection_not_found(id))?;
        let certs = stored
            .saml_options
            .as_ref()
            .and_then(|s| s.idp_signing_certs.clone())
            .unwrap_or_default();
        Ok(SigningCertificateList {
            object: "list".into(),
            data: certs
                .into_iter()
                .enumerate()
                .map(|(index, value)| SigningCertificate {
                    object: "saml_idp_signing_certificate".into(),
                    id: format!("{id}_cert_{index}"),
                    value,
                    not_before: None,
                    not_after: None,
                    created_at: stored.connection.created_at.clone(),
                })
                .collect(),
        })
    }

    /// Every connection with what was sent for it (no client secret).
    pub fn stored_connections(&self) -> Vec<StoredConnection> {
        self.connections.values().cloned().collect()
    }

    /// `POST /portal/generate_link`: a link for an existing organization and
    /// a known intent. The link is a bearer credential, valid five minutes.
    pub fn generate_portal_link(&mut self, request: &GeneratePortalLink) -> Outcome<String> {
        if !PORTAL_INTENTS.contains(&request.intent.as_str()) {
            return Err(invalid(&format!(
                "intent must be one of {}",
                PORTAL_INTENTS.join(", ")
            )));
        }
        if !self.organizations.contains_key(&request.organization) {
            return Err(Failure::BadRequest {
                code: "organization_not_found",
                message: format!("Organization not found: '{}'.", request.organization),
            });
        }
        let token = self.token();
        Ok(format!(
            "https://setup.workos.test/portal/launch?secret={token}&intent={}",
            request.intent
        ))
    }

    /// An SSO sign-in through `connection_id` for `email`. As WorkOS
    /// documents it: the email's domain must be a verified domain of the
    /// connection's organization, else `profile_not_allowed_outside_organization`;
    /// a profile from a verified domain counts as a verified email, so an
    /// existing user with the email is linked, and none means a new user.
    pub fn simulate_sso_sign_in(&self, connection_id: &str, email: &str) -> Outcome<SignIn> {
        let stored = self
            .connections
            .get(connection_id)
            .ok_or_else(|| connection_not_found(connection_id))?;
        if stored.connection.state != "active" {
            return Ok(SignIn::Rejected {
                code: "connection_inactive".into(),
            });
        }
        let organization_id = stored
            .connection
            .organization_id
            .clone()
            .unwrap_or_default();
        let organization = self
            .organizations
            .get(&organization_id)
            .ok_or_else(|| organization_not_found(&organization_id))?;
        let domain = email.rsplit_once('@').map(|(_, d)| d.to_lowercase());
        let allowed = domain.is_some_and(|domain| {
            organization.domains.iter().any(|d| {
                d.domain.eq_ignore_ascii_case(&domain) && d.state.as_deref() == Some("verified")
            })
        });
        if !allowed {
            return Ok(SignIn::Rejected {
                code: "profile_not_allowed_outside_organization".into(),
            });
        }
        Ok(match self.users_by_email.get(&email.to_lowercase()) {
            Some(user_id) => SignIn::Linked {
                user_id: user_id.clone(),
            },
            None => SignIn::WouldCreate,
        })
    }
}
