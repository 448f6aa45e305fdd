//! What the end-to-end benchmarks share: a sandbox serving a generated
//! tenant at WorkOS's real limits with injected latency, the tenant's CSV
//! export in a scratch folder, and the release `ferry run` timed on a plan
//! written there.

use std::time::Instant;

use ferry_sandbox::export::write_csv;
use ferry_sandbox::{
    FaultConfig, GeneratorOptions, RateLimits, Sandbox, SandboxInfo, SandboxOptions, generate,
};

/// A running sandbox and the scratch folder holding `users.csv`.
pub struct Bench {
    // The runtime the sandbox serves on: dropped after it.
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl Bench {
    pub fn start(users: usize, organizations: usize, latency_ms: u64) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let generated = generate::generate(GeneratorOptions {
            users,
            organizations,
            seed: 3,
        });
        let sandbox = runtime
            .block_on(Sandbox::start(
                SandboxOptions::default()
                    .with_generated(&generated)
                    .with_limits(RateLimits::default())
                    .with_faults(FaultConfig {
                        latency_ms,
                        ..FaultConfig::default()
                    }),
            ))
            .expect("the sandbox starts");
        let dir = tempfile::tempdir().expect("a scratch folder");
        write_csv(&dir.path().join("users.csv"), &generated.export).expect("the export");
        Self {
            sandbox,
            dir,
            _runtime: runtime,
        }
    }

    pub fn info(&self) -> SandboxInfo {
        self.sandbox.info()
    }

    /// Writes `plan` as `plan.yaml` and times `ferry run plan.yaml --yes`.
    pub fn run(&self, plan: &str) -> (std::process::Output, f64) {
        std::fs::write(self.dir.path().join("plan.yaml"), plan).expect("the plan");
        let info = self.info();
        let started = Instant::now();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["run", "plan.yaml", "--yes"])
            .current_dir(self.dir.path())
            .env("CLERK_SECRET_KEY", &info.clerk_secret_key)
            .env("WORKOS_API_KEY", &info.workos_api_key)
            .env("WORKOS_CLIENT_ID", &info.workos_client_id)
            .env("NO_COLOR", "1")
            .output()
            .expect("ferry runs");
        (output, started.elapsed().as_secs_f64())
    }
}
