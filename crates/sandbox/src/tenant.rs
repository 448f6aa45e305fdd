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
use ferry_wire::clerk::model::{Organization, OrganizationMembership, User};

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
            let mut tenant = export::tenant_from_export(&export);
            for (user, (metadata, backup_codes)) in tenant.users.iter_mut().zip(extras) {
                user.public_metadata = metadata.public;
                user.private_metadata = Some(metadata.private);
                user.unsafe_metadata = metadata.unsafe_;
                user.backup_code_enabled = backup_codes;
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
