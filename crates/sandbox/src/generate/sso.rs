//! Enterprise sign-in: SAML and OIDC connections on the organizations with a
//! verified domain, in every shape a migration meets (manual SAML with a
//! multi-domain connection, SAML by metadata URL, an expired certificate,
//! OIDC, an inactive connection, one without an organization), SCIM
//! directories, and the SSO users who sign in through them: members whose
//! address moves to the connection's domain and who get an enterprise
//! account, and one contractor whose domain is not the connection's.

use std::collections::{HashMap, HashSet};

use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::planted::GroundTruth;
use super::vocabulary::random_id;
use crate::export::ExportRow;
use crate::tenant::public_user_data;
use ferry_wire::clerk::model::{Organization, OrganizationDomain, OrganizationMembership, User};
use ferry_wire::clerk::sso::{
    EnterpriseConnection, EnterpriseSaml, OauthConfig, SamlConnection, ScimDirectory,
};

/// The shapes planted, one per organization with a verified domain, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Manual IdP fields, every domain of the organization (two when it has two).
    SamlManual,
    SamlMetadataUrl,
    Oidc,
    SamlExpiredCertificate,
    SamlInactive,
}

const SHAPES: [Shape; 5] = [
    Shape::SamlManual,
    Shape::SamlMetadataUrl,
    Shape::Oidc,
    Shape::SamlExpiredCertificate,
    Shape::SamlInactive,
];

/// SSO users planted per active connection.
const SSO_USERS_PER_CONNECTION: usize = 3;

/// 2031-01-01T00:00:00Z in ms: when the valid certificates expire.
const VALID_UNTIL_MS: i64 = 1_924_992_000_000;
/// 2024-01-01T00:00:00Z in ms: when the expired one did.
const EXPIRED_AT_MS: i64 = 1_704_067_200_000;

pub(super) struct Planted {
    pub enterprise_connections: Vec<EnterpriseConnection>,
    pub saml_connections: Vec<SamlConnection>,
    pub scim_directories: Vec<ScimDirectory>,
}

/// A PEM certificate's shape around random content: nothing parses it, as
/// nothing in the sandbox checks a SAML signature.
fn certificate(rng: &mut ChaCha8Rng) -> String {
    format!(
        "-----BEGIN CERTIFICATE-----\nMIIC{}\n-----END CERTIFICATE-----",
        random_id(rng, 60)
    )
}

pub(super) fn plant(
    rng: &mut ChaCha8Rng,
    users: &mut [User],
    export: &mut [ExportRow],
    organizations: &[Organization],
    memberships: &mut [OrganizationMembership],
    domains: &[OrganizationDomain],
    truth: &mut GroundTruth,
) -> Planted {
    let mut planted = Planted {
        enterprise_connections: Vec::new(),
        saml_connections: Vec::new(),
        scim_directories: Vec::new(),
    };
    let verified: Vec<&Organization> = organizations
        .iter()
        .filter(|o| {
            domains
                .iter()
                .any(|d| d.organization_id == o.id && d.ownership_verified())
        })
        .collect();
    let mut taken: HashSet<String> = users
        .iter()
        .flat_map(|u| u.email_addresses.iter())
        .map(|e| e.email_address.to_lowercase())
        .collect();
    // A user's place in `users`, found once (a tenant may hold a million).
    let position_of: HashMap<String, usize> = users
        .iter()
        .enumerate()
        .map(|(at, user)| (user.id.clone(), at))
        .collect();
    let mut converted: HashSet<String> = HashSet::new();
    // The addresses a plus-addressed user collides with stay where they are.
    let plus_bases: HashSet<String> = taken
        .iter()
        .filter_map(|email| {
            let (local, domain) = email.split_once('@')?;
            let (base, _) = local.split_once('+')?;
            Some(format!("{base}@{domain}"))
        })
        .collect();
    for (organization, shape) in verified.iter().zip(SHAPES) {
        let names: Vec<String> = domains
            .iter()
            .filter(|d| d.organization_id == organization.id)
            .map(|d| d.name.clone())
            .collect();
        let connection_domains = match shape {
            Shape::SamlManual => names.clone(),
            _ => names[..1].to_vec(),
        };
        let created_at = organization.created_at + 86_400_000;
        let id = format!("entconn_2{}", random_id(rng, 26));
        let saml = (shape != Shape::Oidc).then(|| {
            let saml_id = format!("samlc_2{}", random_id(rng, 26));
            let by_metadata = shape == Shape::SamlMetadataUrl;
            let idp = format!("https://idp.{}", connection_domains[0]);
            let legacy = SamlConnection {
                object: "saml_connection".into(),
                id: saml_id.clone(),
                name: format!("{} SSO", organization.name),
                domains: connection_domains.clone(),
                idp_entity_id: (!by_metadata).then(|| format!("{idp}/entity")),
                idp_sso_url: (!by_metadata).then(|| format!("{idp}/sso/saml")),
                idp_certificate: (!by_metadata).then(|| certificate(rng)),
                idp_certificate_issued_at: (!by_metadata).then_some(created_at),
                idp_certificate_expires_at: (!by_metadata).then_some(
                    if shape == Shape::SamlExpiredCertificate {
                        EXPIRED_AT_MS
                    } else {
                        VALID_UNTIL_MS
                    },
                ),
                idp_metadata_url: by_metadata.then(|| format!("{idp}/metadata.xml")),
                idp_metadata: None,
                acs_url: Some(format!("https://clerk.sandbox.test/v1/saml/acs/{saml_id}")),
                sp_entity_id: Some(format!("https://clerk.sandbox.test/saml/{saml_id}")),
                sp_metadata_url: Some(format!(
                    "https://clerk.sandbox.test/v1/saml/metadata/{saml_id}"
                )),
                organization_id: Some(organization.id.clone()),
                attribute_mapping: Some(json!({
                    "user_id": "", "email_address": "mail",
                    "first_name": "givenName", "last_name": "sn",
                })),
                active: shape != Shape::SamlInactive,
                provider: "saml_custom".into(),
                enterprise_connection_id: Some(id.clone()),
                created_at,
                updated_at: created_at,
            };
            let embedded = EnterpriseSaml {
                id: saml_id,
                name: Some(legacy.name.clone()),
                idp_entity_id: legacy.idp_entity_id.clone(),
                idp_sso_url: legacy.idp_sso_url.clone(),
                idp_metadata_url: legacy.idp_metadata_url.clone(),
                acs_url: legacy.acs_url.clone(),
                sp_entity_id: legacy.sp_entity_id.clone(),
                sp_metadata_url: legacy.sp_metadata_url.clone(),
                active: legacy.active,
                allow_idp_initiated: false,
                allow_subdomains: false,
                force_authn: false,
            };
            planted.saml_connections.push(legacy);
            embedded
        });
        let oauth = (shape == Shape::Oidc).then(|| OauthConfig {
            id: Some(format!("oac_2{}", random_id(rng, 26))),
            name: Some(format!("{} OIDC", organization.name)),
            provider_key: Some("oidc_custom".into()),
            client_id: Some(format!("client_{}", random_id(rng, 16))),
            discovery_url: Some(format!(
                "https://login.{}/.well-known/openid-configuration",
                connection_domains[0]
            )),
            auth_url: None,
            token_url: None,
            user_info_url: None,
            requires_pkce: true,
        });
        let connection = EnterpriseConnection {
            object: "enterprise_connection".into(),
            id: id.clone(),
            name: format!("{} SSO", organization.name),
            provider: if shape == Shape::Oidc {
                "oidc_custom"
            } else {
                "saml_custom"
            }
            .into(),
            active: shape != Shape::SamlInactive,
            domains: connection_domains.clone(),
            organization_id: Some(organization.id.clone()),
            saml_connection: saml,
            oauth_config: oauth,
            created_at,
            updated_at: created_at,
        };
        truth.enterprise_connections += 1;
        if connection.active {
            let members: Vec<usize> = memberships
                .iter()
                .filter(|m| m.organization.id == organization.id)
                .filter_map(|m| m.public_user_data.as_ref())
                .filter_map(|data| position_of.get(&data.user_id).copied())
                .collect();
            let mut planted_here = 0;
            for position in members {
                if planted_here == SSO_USERS_PER_CONNECTION {
                    break;
                }
                let user = &users[position];
                let plain = user.banned || user.locked || !user.external_accounts.is_empty();
                let email = match (user.email_addresses.as_slice(), plain) {
                    ([only], false)
                        if !only.email_address.contains('+')
                            && !plus_bases.contains(&only.email_address.to_lowercase()) =>
                    {
                        &only.email_address
                    }
                    _ => continue,
                };
                if converted.contains(&user.id) {
                    continue;
                }
                // The first contractor of the first connection signs in
                // from a domain the connection does not claim.
                let outsider = planted.enterprise_connections.is_empty() && planted_here == 0;
                let domain = if outsider {
                    "contractor.example".to_owned()
                } else {
                    connection_domains[0].clone()
                };
                let local = email.split('@').next().unwrap_or("sso");
                let address = format!("{local}@{domain}");
                if !taken.insert(address.to_lowercase()) {
                    continue;
                }
                move_to_sso(
                    rng,
                    &mut users[position],
                    &mut export[position],
                    &address,
                    &connection,
                );
                for membership in memberships.iter_mut().filter(|m| {
                    m.public_user_data
                        .as_ref()
                        .is_some_and(|data| data.user_id == users[position].id)
                }) {
                    membership.public_user_data = Some(public_user_data(&users[position]));
                }
                converted.insert(users[position].id.clone());
                planted_here += 1;
                truth.sso_users += 1;
                if outsider {
                    truth.sso_users_outside_domains += 1;
                }
            }
        }
        if matches!(shape, Shape::SamlManual | Shape::SamlMetadataUrl) {
            planted.scim_directories.push(ScimDirectory {
                object: "scim_directory".into(),
                id: format!("scimdir_2{}", random_id(rng, 26)),
                name: format!("{} directory", organization.name),
                enterprise_connection_id: Some(id.clone()),
                endpoint_url: Some(format!("https://clerk.sandbox.test/scim/v2/{id}")),
                provider: Some("okta".into()),
                enabled: true,
                created_at,
                updated_at: created_at,
            });
        }
        planted.enterprise_connections.push(connection);
    }
    // A connection set up before its organization was (or after it was deleted).
    let created_at = organizations.first().map_or(0, |o| o.created_at) + 3_600_000;
    planted.enterprise_connections.push(EnterpriseConnection {
        object: "enterprise_connection".into(),
        id: format!("entconn_2{}", random_id(rng, 26)),
        name: "Unassigned SSO".into(),
        provider: "oidc_custom".into(),
        active: true,
        domains: vec!["unassigned.example".into()],
        organization_id: None,
        saml_connection: None,
        oauth_config: Some(OauthConfig {
            id: None,
            name: None,
            provider_key: Some("oidc_custom".into()),
            client_id: Some(format!("client_{}", random_id(rng, 16))),
            discovery_url: Some(
                "https://login.unassigned.example/.well-known/openid-configuration".into(),
            ),
            auth_url: None,
            token_url: None,
            user_info_url: None,
            requires_pkce: false,
        }),
        created_at,
        updated_at: created_at,
    });
    truth.enterprise_connections += 1;
    planted
}

/// Moves a user to `address` (verified, the only one) and gives them the
/// enterprise account Clerk shows for an SSO sign-in through `connection`.
fn move_to_sso(
    rng: &mut ChaCha8Rng,
    user: &mut User,
    row: &mut ExportRow,
    address: &str,
    connection: &EnterpriseConnection,
) {
    if let Some(entry) = user.email_addresses.first_mut() {
        entry.email_address = address.to_owned();
        if let Some(verification) = entry.verification.as_mut() {
            verification.status = "verified".into();
        }
    }
    row.primary_email_address = address.to_owned();
    row.verified_email_addresses = vec![address.to_owned()];
    row.unverified_email_addresses.clear();
    let protocol = if connection.saml_connection.is_some() {
        "saml"
    } else {
        "oauth"
    };
    user.enterprise_accounts.push(json!({
        "id": format!("eac_2{}", random_id(rng, 26)),
        "object": "enterprise_account",
        "protocol": protocol,
        "provider": connection.provider,
        "active": true,
        "email_address": address,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "provider_user_id": random_id(rng, 20),
        "enterprise_connection_id": connection.id,
        "public_metadata": {},
        "verification": { "status": "verified", "strategy": protocol, "attempts": null, "expire_at": null },
        "enterprise_connection": {
            "id": connection.id,
            "protocol": protocol,
            "provider": connection.provider,
            "name": connection.name,
            "logo_public_url": null,
            "domains": connection.domains,
            "active": connection.active,
            "sync_user_attributes": true,
            "allow_subdomains": false,
            "allow_idp_initiated": false,
            "disable_additional_identifications": false,
            "created_at": connection.created_at,
            "updated_at": connection.updated_at,
        },
        "last_authenticated_at": connection.created_at + 60_000,
    }));
}
