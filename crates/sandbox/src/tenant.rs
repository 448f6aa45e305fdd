//! A Clerk tenant in Clerk's own API shapes: `users`, `organizations` and
//! `memberships`, exactly as `GET /v1/users`, `GET /v1/organizations` and
//! `GET /v1/organization_memberships` return them, and the rest of what a
//! migration reads (roles, domains, connections, pending invitations). This
//! is what the generator builds and what `ferry sandbox --tenant tenant.json`
//! loads, so a team can rehearse against a snapshot of its real tenant.
//!
//! A file whose top level is an array is read as Clerk's older JSON export
//! (one object per user, digests included, `email_addresses` a list or one
//! pipe-joined string): its users become the tenant, with their metadata.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::export::{self, ExportRow};
use crate::error::SandboxError;
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};
use ferry_wire::clerk::model::{
    EmailAddress, Organization, OrganizationDomain, OrganizationMembership, Permission,
    PhoneNumber, PublicUserData, Role, User, Verification,
};
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection, ScimDirectory};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub memberships: Vec<OrganizationMembership>,
    /// Organization roles (`GET /v1/organization_roles`). When a tenant
    /// names none, the roles its memberships use are served.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Organization permissions (`GET /v1/organization_permissions`); when
    /// none are named, those of the roles.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Organization domains, each naming its organization.
    #[serde(default)]
    pub domains: Vec<OrganizationDomain>,
    /// Enterprise connections, SAML and OIDC (`GET /v1/enterprise_connections`).
    #[serde(default)]
    pub enterprise_connections: Vec<EnterpriseConnection>,
    /// The legacy SAML connections behind the SAML enterprise connections,
    /// with their IdP certificates (`GET /v1/saml_connections/{id}`).
    #[serde(default)]
    pub saml_connections: Vec<SamlConnection>,
    /// SCIM directories (`GET /v1/scim_directories`).
    #[serde(default)]
    pub scim_directories: Vec<ScimDirectory>,
    /// Invitations to join an organization (`GET /v1/organization_invitations`),
    /// each naming an organization of the tenant. Stored without the `url`
    /// Clerk sends with each: the sandbox makes it up when serving.
    #[serde(default)]
    pub organization_invitations: Vec<OrganizationInvitation>,
    /// Invitations to sign up to the application (`GET /v1/invitations`).
    #[serde(default)]
    pub invitations: Vec<Invitation>,
}

impl Tenant {
    /// Reads a tenant JSON file; the error names the JSON path that failed.
    pub fn load(path: &Path) -> Result<Self, SandboxError> {
        let text = std::fs::read_to_string(path).map_err(|source| SandboxError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse(path, &text)?.0)
    }

    /// The tenant, and the export rows when the file was an older JSON export.
    pub fn parse(path: &Path, text: &str) -> Result<(Self, Option<Vec<ExportRow>>), SandboxError> {
        let invalid = |message: String| SandboxError::Tenant {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|error| invalid(error.to_string()))?;
        if let serde_json::Value::Array(entries) = value {
            // Clerk's older JSON export, read by ferry's own reader.
            let users = ferry_wire::clerk::legacy::parse(path, entries)
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| invalid(format!("entry {}: {}", error.line, error.reason)))?;
            let extras: Vec<_> = users
                .iter()
                .map(|u| {
                    (
                        u.metadata.clone().unwrap_or_default(),
                        u.backup_codes_enabled,
                    )
                })
                .collect();
            let export: Vec<ExportRow> = users.into_iter().map(export::row_from).collect();
            let mut tenant = tenant_from_export(&export);
            for (user, (metadata, backup_codes)) in tenant.users.iter_mut().zip(extras) {
                user.public_metadata = metadata.public;
                user.private_metadata = Some(metadata.private);
                user.unsafe_metadata = metadata.unsafe_;
                user.backup_code_enabled = backup_codes;
            }
            return Ok((tenant, Some(export)));
        }
        let tenant: Self = serde_path_to_error::deserialize(value)
            .map_err(|error| invalid(format!("at {}: {}", error.path(), error.inner())))?;
        tenant.check_references().map_err(invalid)?;
        Ok((tenant, None))
    }

    /// What the JSON shapes cannot say: every organization invitation names
    /// an organization of the tenant (a listing of one organization's
    /// invitations could not show it otherwise). The error names the path.
    fn check_references(&self) -> Result<(), String> {
        let organizations: std::collections::HashSet<&str> =
            self.organizations.iter().map(|o| o.id.as_str()).collect();
        for (index, invitation) in self.organization_invitations.iter().enumerate() {
            match invitation.organization() {
                Some(id) if organizations.contains(id) => {}
                Some(_) => {
                    return Err(format!(
                        "at organization_invitations[{index}].organization_id: names no organization of the tenant"
                    ));
                }
                None => {
                    return Err(format!(
                        "at organization_invitations[{index}]: missing field `organization_id`"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Writes the tenant as JSON.
    pub fn save(&self, path: &Path) -> Result<(), SandboxError> {
        let io = |source| SandboxError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        };
        let file = ferry_wire::files::create(path).map_err(io)?;
        serde_json::to_writer(std::io::BufWriter::new(file), self)
            .map_err(|error| io(std::io::Error::other(error)))
    }
}

/// What a membership shows of its user, as Clerk fills it in: the
/// identifier is the primary email, else the username, else a phone number.
pub fn public_user_data(user: &User) -> PublicUserData {
    let identifier = user
        .primary_email()
        .map(|e| e.email_address.clone())
        .or_else(|| user.username.clone())
        .or_else(|| user.phone_numbers.first().map(|p| p.phone_number.clone()));
    PublicUserData {
        user_id: user.id.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        profile_image_url: user.image_url.clone(),
        image_url: user.image_url.clone().unwrap_or_default(),
        has_image: false,
        identifier,
        username: user.username.clone(),
    }
}

/// A tenant with the users an export describes, as the API would show them:
/// primary first, verified, then unverified addresses, de-duplicated without
/// regard to case. No organizations: an export has none.
pub fn tenant_from_export(rows: &[ExportRow]) -> Tenant {
    // The export has no timestamps: keep the file's order, one second apart.
    const START_MS: i64 = 1_700_000_000_000;
    let users = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let at = START_MS + index as i64 * 1000;
            let mut emails: Vec<(String, bool)> = Vec::new();
            let mut add = |address: &str, verified: bool| {
                if !address.is_empty()
                    && !emails.iter().any(|(a, _)| a.eq_ignore_ascii_case(address))
                {
                    emails.push((address.to_owned(), verified));
                }
            };
            let primary_verified = row
                .verified_email_addresses
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&row.primary_email_address))
                || !row
                    .unverified_email_addresses
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(&row.primary_email_address));
            add(&row.primary_email_address, primary_verified);
            row.verified_email_addresses
                .iter()
                .for_each(|a| add(a, true));
            row.unverified_email_addresses
                .iter()
                .for_each(|a| add(a, false));
            let verification = |verified: bool, strategy: &str| {
                Some(Verification {
                    object: None,
                    status: if verified { "verified" } else { "unverified" }.into(),
                    strategy: Some(strategy.into()),
                    attempts: None,
                    expire_at: None,
                })
            };
            let email_addresses: Vec<EmailAddress> = emails
                .iter()
                .enumerate()
                .map(|(n, (address, verified))| EmailAddress {
                    id: Some(format!("idn_{}_{n}", row.id.trim_start_matches("user_"))),
                    object: "email_address".into(),
                    email_address: address.clone(),
                    reserved: false,
                    verification: verification(*verified, "email_code"),
                    linked_to: Vec::new(),
                    created_at: at,
                    updated_at: at,
                })
                .collect();
            let mut phones: Vec<(String, bool)> = Vec::new();
            for (number, verified) in std::iter::once((&row.primary_phone_number, true))
                .chain(row.verified_phone_numbers.iter().map(|p| (p, true)))
                .chain(row.unverified_phone_numbers.iter().map(|p| (p, false)))
            {
                if !number.is_empty() && !phones.iter().any(|(p, _)| p == number) {
                    phones.push((number.clone(), verified));
                }
            }
            let phone_numbers: Vec<PhoneNumber> = phones
                .iter()
                .enumerate()
                .map(|(n, (number, verified))| PhoneNumber {
                    id: Some(format!("idn_{}_p{n}", row.id.trim_start_matches("user_"))),
                    object: "phone_number".into(),
                    phone_number: number.clone(),
                    reserved_for_second_factor: false,
                    default_second_factor: false,
                    reserved: false,
                    verification: verification(*verified, "phone_code"),
                    linked_to: Vec::new(),
                    backup_codes: None,
                    created_at: at,
                    updated_at: at,
                })
                .collect();
            let text = |value: &str| (!value.is_empty()).then(|| value.to_owned());
            User {
                id: row.id.clone(),
                object: "user".into(),
                external_id: None,
                primary_email_address_id: email_addresses.first().and_then(|e| e.id.clone()),
                primary_phone_number_id: phone_numbers.first().and_then(|p| p.id.clone()),
                primary_web3_wallet_id: None,
                username: text(&row.username),
                first_name: text(&row.first_name),
                last_name: text(&row.last_name),
                image_url: Some(String::new()),
                has_image: false,
                public_metadata: Default::default(),
                private_metadata: Some(Default::default()),
                unsafe_metadata: Default::default(),
                email_addresses,
                phone_numbers,
                web3_wallets: Vec::new(),
                passkeys: Vec::new(),
                password_enabled: row.password_digest.is_some(),
                two_factor_enabled: row.totp_secret.is_some(),
                totp_enabled: row.totp_secret.is_some(),
                backup_code_enabled: false,
                external_accounts: Vec::new(),
                saml_accounts: Vec::new(),
                enterprise_accounts: Vec::new(),
                last_sign_in_at: None,
                banned: false,
                locked: false,
                lockout_expires_in_seconds: None,
                verification_attempts_remaining: None,
                created_at: at,
                updated_at: at,
                delete_self_enabled: true,
                create_organization_enabled: true,
                last_active_at: None,
                mfa_enabled_at: None,
                mfa_disabled_at: None,
                legal_accepted_at: None,
            }
        })
        .collect();
    Tenant {
        users,
        ..Tenant::default()
    }
}

/// Export rows for a tenant that came without digests (a JSON snapshot):
/// identifiers only, since the API never returns digests or TOTP secrets.
pub fn rows_from_tenant(tenant: &Tenant) -> Vec<ExportRow> {
    tenant
        .users
        .iter()
        .map(|user| {
            let primary = user.primary_email().map(|e| e.email_address.clone());
            let mut row = ExportRow {
                id: user.id.clone(),
                first_name: user.first_name.clone().unwrap_or_default(),
                last_name: user.last_name.clone().unwrap_or_default(),
                username: user.username.clone().unwrap_or_default(),
                primary_email_address: primary.clone().unwrap_or_default(),
                ..ExportRow::default()
            };
            for email in &user.email_addresses {
                if email.is_verified() {
                    row.verified_email_addresses
                        .push(email.email_address.clone());
                } else {
                    row.unverified_email_addresses
                        .push(email.email_address.clone());
                }
            }
            for phone in &user.phone_numbers {
                let verified = phone
                    .verification
                    .as_ref()
                    .is_some_and(|v| v.status == "verified");
                if user.primary_phone_number_id.is_some()
                    && phone.id == user.primary_phone_number_id
                {
                    row.primary_phone_number = phone.phone_number.clone();
                }
                if verified {
                    row.verified_phone_numbers.push(phone.phone_number.clone());
                } else {
                    row.unverified_phone_numbers
                        .push(phone.phone_number.clone());
                }
            }
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_older_json_export() {
        let text = r#"[
          {"id": "user_a", "first_name": "Jane", "primary_email_address": "jane@acme.test",
           "email_addresses": ["jane@acme.test", "j@home.test"], "password_digest": "$2b$10$x",
           "password_hasher": "bcrypt", "public_metadata": {"plan": "pro"}, "backup_codes_enabled": true},
          {"id": "user_b", "email_addresses": "b@acme.test|b2@acme.test", "primary_email_address": "b@acme.test"},
          {"id": "user_c", "username": "phoneuser", "email_addresses": null, "phone_numbers": ["+15550100"],
           "primary_phone_number": "+15550100"}
        ]"#;
        let (tenant, rows) = Tenant::parse(Path::new("export.json"), text).unwrap();
        let rows = rows.expect("export rows");
        assert_eq!(tenant.users.len(), 3);
        assert_eq!(rows[0].password_hasher.as_deref(), Some("bcrypt"));
        let jane = &tenant.users[0];
        assert_eq!(jane.email_addresses.len(), 2);
        assert!(jane.password_enabled && jane.backup_code_enabled);
        assert_eq!(jane.public_metadata["plan"], "pro");
        assert_eq!(tenant.users[1].email_addresses.len(), 2);
        assert!(tenant.users[2].primary_email_address_id.is_none());
        assert_eq!(tenant.users[2].phone_numbers[0].phone_number, "+15550100");
    }

    #[test]
    fn errors_name_the_json_path() {
        let error = Tenant::parse(Path::new("t.json"), r#"{"users": [{"id": 3}]}"#).unwrap_err();
        assert!(error.to_string().contains("users[0].id"), "{error}");
    }

    #[test]
    fn an_organization_invitation_must_name_an_organization_of_the_tenant() {
        let invitation = |organization: &str| {
            format!(
                r#"{{"organizations": [{{"object": "organization", "id": "org_a", "name": "A", "slug": "a",
                   "max_allowed_memberships": 0, "admin_delete_enabled": true,
                   "public_metadata": {{}}, "private_metadata": {{}}, "created_at": 1, "updated_at": 1}}],
                  "organization_invitations": [{{"id": "orginv_a", "email_address": "a@b.test",
                   "role": "org:member", {organization} "status": "pending", "created_at": 1, "updated_at": 1}}]}}"#
            )
        };
        let path = Path::new("t.json");
        let (tenant, _) =
            Tenant::parse(path, &invitation(r#""organization_id": "org_a","#)).unwrap();
        assert_eq!(tenant.organization_invitations.len(), 1);
        let nested = r#""public_organization_data": {"id": "org_a"},"#;
        assert!(Tenant::parse(path, &invitation(nested)).is_ok());
        let elsewhere = Tenant::parse(path, &invitation(r#""organization_id": "org_b","#));
        let error = elsewhere.unwrap_err().to_string();
        assert!(
            error.contains("organization_invitations[0].organization_id"),
            "{error}"
        );
        let nowhere = Tenant::parse(path, &invitation(""))
            .unwrap_err()
            .to_string();
        assert!(nowhere.contains("organization_invitations[0]"), "{nowhere}");
    }
}
