//! A Clerk tenant in Clerk's own API shapes: `users`, `organizations` and
//! `memberships`, exactly as `GET /v1/users`, `GET /v1/organizations` and
//! `GET /v1/organization_memberships` return them. This is what the
//! generator builds and what `ferry sandbox --tenant tenant.json` loads, so a
//! team can rehearse against a snapshot of its real tenant.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SandboxError;
use crate::clerk::model::{Organization, OrganizationMembership, User};

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
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| SandboxError::Tenant {
            path: path.to_path_buf(),
            message: format!("at {}: {}", error.path(), error.inner()),
        })
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
