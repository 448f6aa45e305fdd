//! What a journal is bound to: the source and the target it was made
//! against (API URL, environment or client id, a one-way fingerprint of the
//! key, never the key). A journal is a cache of what ferry did to one
//! WorkOS environment; read against another it would say "unchanged" for
//! users that environment has never seen, and attach memberships to ids
//! that belong to no one there. So every command that reads or writes a
//! target first checks the binding and refuses a different one.

use sha2::{Digest, Sha256};

use ferry_wire::secret::Secret;

/// One side's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `source` or `target`.
    pub side: &'static str,
    pub url: String,
    /// The WorkOS client id, when known.
    pub environment: Option<String>,
    pub key_fingerprint: Option<String>,
}

impl Identity {
    pub fn new(
        side: &'static str,
        url: &str,
        environment: Option<&str>,
        key: Option<&Secret>,
    ) -> Self {
        Self {
            side,
            url: url.trim_end_matches('/').to_owned(),
            environment: environment.map(str::to_owned),
            key_fingerprint: key.filter(|k| !k.is_empty()).map(fingerprint),
        }
    }
}

impl Identity {
    /// Whether two identities are one side: the same URL, and the same
    /// environment and key wherever both are known (a plan that gained a
    /// key since is the same source).
    pub fn agrees_with(&self, other: &Identity) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        self.side == other.side
            && self.url == other.url
            && same(&self.environment, &other.environment)
            && same(&self.key_fingerprint, &other.key_fingerprint)
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.url)?;
        if let Some(environment) = &self.environment {
            write!(f, " (environment {environment})")?;
        }
        if let Some(key) = &self.key_fingerprint {
            write!(f, " with key {key}")?;
        }
        Ok(())
    }
}

/// A key's fingerprint: 12 hex digits of a salted SHA-256, enough to tell
/// keys apart, useless to recover one.
pub fn fingerprint(key: &Secret) -> String {
    let digest = Sha256::digest(format!("ferry journal binding\n{}", key.expose()).as_bytes());
    format!("sha256:{}", &hex::encode(digest)[..12])
}
