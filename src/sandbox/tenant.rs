//! A Clerk tenant in Clerk's own API shapes: `users`, `organizations` and
//! `memberships`, exactly as `GET /v1/users`, `GET /v1/organizations` and
//! `GET /v1/organization_memberships` return them. This is what the
//! generator builds and what `ferry sandbox --tenant tenant.json` loads, so a
//! team can rehearse against a snapshot of its real tenant.
//!
//! A file whose top level is an array is read as Clerk's older JSON export
//! (one object per user, digests included, `email_addresses` a list or one
//! pipe-joined string): its users become the tenant, with their metadata.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SandboxError;
use super::export::{self, ExportRow};
use crate::clerk::model::{Metadata, Organization, OrganizationMembership, User};
use crate::secret::Secret;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub memberships: Vec<OrganizationMembership>,
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
        if value.is_array() {
            let rows: Vec<LegacyUser> = serde_path_to_error::deserialize(value)
                .map_err(|error| invalid(format!("at {}: {}", error.path(), error.inner())))?;
            let export: Vec<ExportRow> = rows.iter().map(LegacyUser::to_row).collect();
            let mut tenant = export::tenant_from_export(&export);
            for (user, legacy) in tenant.users.iter_mut().zip(rows) {
                user.public_metadata = legacy.public_metadata.unwrap_or_default();
                user.private_metadata = Some(legacy.private_metadata.unwrap_or_default());
                user.unsafe_metadata = legacy.unsafe_metadata.unwrap_or_default();
                user.backup_code_enabled = legacy.backup_codes_enabled.unwrap_or(false);
            }
            return Ok((tenant, Some(export)));
        }
        let tenant = serde_path_to_error::deserialize(value)
            .map_err(|error| invalid(format!("at {}: {}", error.path(), error.inner())))?;
        Ok((tenant, None))
    }

    /// Writes the tenant as JSON.
    pub fn save(&self, path: &Path) -> Result<(), SandboxError> {
        let io = |source| SandboxError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::create(path).map_err(io)?;
        serde_json::to_writer(std::io::BufWriter::new(file), self)
            .map_err(|error| io(std::io::Error::other(error)))
    }
}

/// One user of Clerk's older JSON export.
#[derive(Debug, Deserialize)]
struct LegacyUser {
    id: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    primary_email_address: Option<String>,
    #[serde(default)]
    email_addresses: Option<ListOrPiped>,
    #[serde(default)]
    primary_phone_number: Option<String>,
    #[serde(default)]
    phone_numbers: Option<ListOrPiped>,
    #[serde(default)]
    password_digest: Option<Secret>,
    #[serde(default)]
    password_hasher: Option<String>,
    #[serde(default)]
    totp_secret: Option<Secret>,
    #[serde(default)]
    backup_codes_enabled: Option<bool>,
    #[serde(default)]
    public_metadata: Option<Metadata>,
    #[serde(default)]
    private_metadata: Option<Metadata>,
    #[serde(default)]
    unsafe_metadata: Option<Metadata>,
}

/// `["a", "b"]` or `"a|b"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ListOrPiped {
    List(Vec<String>),
    Piped(String),
}

impl ListOrPiped {
    fn items(&self) -> Vec<String> {
        match self {
            Self::List(items) => items.clone(),
            Self::Piped(text) => text
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

impl LegacyUser {
    /// The export row this user would have. The format has no verification
    /// status: every address counts as verified.
    fn to_row(&self) -> ExportRow {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let list = |value: &Option<ListOrPiped>| {
            value.as_ref().map(ListOrPiped::items).unwrap_or_default()
        };
        ExportRow {
            id: self.id.clone(),
            first_name: text(&self.first_name),
            last_name: text(&self.last_name),
            username: text(&self.username),
            primary_email_address: text(&self.primary_email_address),
            primary_phone_number: text(&self.primary_phone_number),
            verified_email_addresses: list(&self.email_addresses),
            unverified_email_addresses: Vec::new(),
            verified_phone_numbers: list(&self.phone_numbers),
            unverified_phone_numbers: Vec::new(),
            totp_secret: self.totp_secret.clone().filter(|s| !s.is_empty()),
            password_digest: self.password_digest.clone().filter(|s| !s.is_empty()),
            password_hasher: self.password_hasher.clone().filter(|s| !s.is_empty()),
        }
    }
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
}
