//! How a sandbox is started ([`SandboxOptions`]), the fake keys clients use,
//! and what a client needs to reach a running one ([`SandboxInfo`]).

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::export::ExportRow;
use crate::faults::FaultConfig;
use crate::generate::{GeneratedTenant, GroundTruth};
use crate::limits::RateLimits;
use crate::tenant::Tenant;

/// The credentials clients use. Sandbox keys are deliberately fake-looking:
/// they guard nothing and are printed freely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxKeys {
    pub clerk_secret_key: String,
    pub workos_api_key: String,
    pub workos_client_id: String,
}

impl Default for SandboxKeys {
    fn default() -> Self {
        Self {
            clerk_secret_key: "sk_test_sandbox_clerk_0000000000000000".into(),
            workos_api_key: "sk_test_sandbox_workos_0000000000000000".into(),
            workos_client_id: "client_01SANDBOX0000000000000000".into(),
        }
    }
}

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub clerk_addr: SocketAddr,
    pub workos_addr: SocketAddr,
    pub tenant: Tenant,
    /// Present when the tenant was generated: what was planted.
    pub truth: Option<GroundTruth>,
    pub limits: RateLimits,
    pub faults: FaultConfig,
    pub keys: SandboxKeys,
    /// Keep every answer whole ([`crate::Sandbox::take_captured`]).
    pub capture: bool,
    /// The Dashboard export's rows: the digests and TOTP secrets Clerk's
    /// `verify_password` and `verify_totp` check against.
    pub credentials: Vec<ExportRow>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            clerk_addr: loopback,
            workos_addr: loopback,
            tenant: Tenant::default(),
            truth: None,
            limits: RateLimits::default(),
            faults: FaultConfig::default(),
            keys: SandboxKeys::default(),
            capture: false,
            credentials: Vec::new(),
        }
    }
}

impl SandboxOptions {
    pub fn with_tenant(mut self, tenant: Tenant) -> Self {
        self.tenant = tenant;
        self
    }

    /// Serves a generated tenant and exposes its ground truth.
    pub fn with_generated(mut self, generated: &GeneratedTenant) -> Self {
        self.tenant = generated.tenant.clone();
        self.truth = Some(generated.truth.clone());
        self.credentials = generated.export.clone();
        self
    }

    /// Keeps every answer whole, for tests that check them against the specs.
    pub fn with_capture(mut self) -> Self {
        self.capture = true;
        self
    }

    pub fn with_limits(mut self, limits: RateLimits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }
}

/// What a client needs to talk to a running sandbox (also the `--ready-file` JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxInfo {
    /// Clerk's base with the version: what a plan's `api_url` takes.
    pub clerk_api_url: String,
    /// Clerk's origin without `/v1`: what `@clerk/backend`'s `apiUrl` takes.
    pub clerk_url: String,
    pub workos_url: String,
    pub admin_url: String,
    pub clerk_secret_key: String,
    pub workos_api_key: String,
    pub workos_client_id: String,
}
