//! What the connections imitation keeps of a connection beyond what WorkOS
//! returns, and what a simulated SSO sign-in answers: plain data, shared by
//! the state, its dump and the admin route.

use serde::{Deserialize, Serialize};

use ferry_wire::workos::sso::{AttributeMaps, Connection, SamlOptions};

/// A connection and what WorkOS keeps but never returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredConnection {
    #[serde(flatten)]
    pub connection: Connection,
    pub external_id: Option<String>,
    pub saml_options: Option<SamlOptions>,
    #[serde(default)]
    pub attribute_maps: Option<AttributeMaps>,
    pub oidc_discovery_endpoint: Option<String>,
    pub oidc_client_id: Option<String>,
    /// Whether a client secret was sent (the secret itself is never dumped).
    pub oidc_client_secret_set: bool,
}

/// What a simulated SSO sign-in finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum SignIn {
    /// An existing user has the email: the SSO profile links to them.
    Linked { user_id: String },
    /// No user has the email: WorkOS would create one (JIT).
    WouldCreate,
    /// WorkOS refuses the profile (`profile_not_allowed_outside_organization`,
    /// or the connection is not active).
    Rejected { code: String },
}
