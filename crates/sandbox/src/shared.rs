//! The state both servers share: the Clerk tenant, the WorkOS imitation's
//! state, faults, rate limiters and the request log.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::clerk_store::ClerkStore;
use crate::faults::Faults;
use crate::generate::GroundTruth;
use crate::limits::{Bucket, Limiters, RetryAfter};
use crate::options::{SandboxInfo, SandboxKeys};
use crate::request_log::RequestLog;
use crate::state::WorkosState;

/// Where the admin routes live on the WorkOS server.
pub const ADMIN_PREFIX: &str = "/__sandbox/";

/// State both servers share.
pub struct Shared {
    pub(crate) keys: SandboxKeys,
    pub(crate) info: SandboxInfo,
    /// Swapped whole by the admin routes that change the tenant; readers
    /// keep the snapshot they started with.
    pub(crate) clerk: RwLock<Arc<ClerkStore>>,
    pub(crate) workos: Mutex<WorkosState>,
    pub(crate) faults: Faults,
    pub(crate) limiters: RwLock<Arc<Limiters>>,
    pub(crate) log: RequestLog,
    pub(crate) truth: Option<GroundTruth>,
}

impl Shared {
    pub(crate) fn workos(&self) -> MutexGuard<'_, WorkosState> {
        self.workos.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// New faults, the refused hash types included (those live in the state,
    /// whose create rules refuse them).
    pub(crate) fn set_faults(&self, faults: crate::faults::FaultConfig) {
        self.workos()
            .refuse_hash_types(faults.refuse_hash_type.iter().copied());
        self.faults.set(faults);
    }

    /// The Clerk tenant as it stands now.
    pub(crate) fn clerk(&self) -> Arc<ClerkStore> {
        self.clerk.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn limiters(&self) -> Arc<Limiters> {
        self.limiters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn replace_limiters(&self, limiters: Limiters) {
        *self.limiters.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(limiters);
    }

    pub(crate) fn check_limit(&self, bucket: Bucket, key: &str) -> Result<(), RetryAfter> {
        self.limiters().check(bucket, key)
    }

    /// An empty WorkOS environment again (the Clerk tenant stays).
    pub(crate) fn reset_workos(&self) {
        *self.workos() = WorkosState::default();
    }

    pub(crate) fn info(&self) -> SandboxInfo {
        self.info.clone()
    }
}
