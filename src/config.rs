//! The validated configuration a command runs with. `cli` builds it from the
//! command line; nothing below this module knows clap exists.

use std::path::PathBuf;

use crate::output::ColorChoice;

#[derive(Debug, Clone)]
pub struct Config {
    pub color: ColorChoice,
    /// 0 = warnings only, 1 = info, 2 = debug, 3+ = trace.
    pub verbosity: u8,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub enum Command {
    /// Check a plan and its script; report every problem.
    Validate { plan: PathBuf, json: bool },
    /// Run the plan's script tests.
    Test {
        plan: PathBuf,
        json: bool,
        filter: Option<String>,
    },
    /// Write a starter plan and script.
    Init { dir: PathBuf, force: bool },
    /// Serve the Clerk and WorkOS imitations until interrupted.
    Sandbox(SandboxSettings),
    /// Preview a run.
    Plan {
        plan: PathBuf,
        out: Option<PathBuf>,
        offline: bool,
    },
    /// Migrate.
    Run {
        plan: PathBuf,
        yes: bool,
        allow_changed_plan: bool,
    },
    /// Summarise the journal.
    Status { plan: PathBuf },
    /// Write the id map.
    ExportIds { plan: PathBuf, out: PathBuf },
    /// The pre-migration assessment.
    Assess { plan: PathBuf, json: bool },
    /// The verification checklist.
    Verify { plan: PathBuf, json: bool },
    /// Render a run's report again.
    Report {
        plan: PathBuf,
        run: Option<i64>,
        format: crate::plan::ReportFormat,
        out: Option<PathBuf>,
    },
    /// Sandbox, reference plan, run, verify, report.
    Demo(crate::commands::DemoSettings),
}

/// `ferry sandbox`: what to serve, where, and how badly to behave.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxSettings {
    /// 0 = any free port.
    pub clerk_port: u16,
    pub workos_port: u16,
    pub tenant: TenantSource,
    /// Write the Dashboard CSV export of the served tenant here.
    pub export: Option<PathBuf>,
    /// Write the plaintext passwords of generated users here (CSV).
    pub passwords: Option<PathBuf>,
    /// Write the generator's ground truth here (JSON).
    pub truth: Option<PathBuf>,
    /// Write the URLs and keys here (JSON) once both servers listen.
    pub ready_file: Option<PathBuf>,
    /// Multiplies every rate limit's request count; `None` = no limits at all.
    pub limits_scale: Option<f64>,
    pub faults: FaultSettings,
}

/// Where the Clerk tenant comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum TenantSource {
    /// The seeded generator.
    Generate {
        users: usize,
        organizations: usize,
        seed: u64,
    },
    /// A tenant JSON file in Clerk's API shapes and/or a Dashboard CSV export.
    Load {
        tenant: Option<PathBuf>,
        csv: Option<PathBuf>,
    },
}

/// Faults at start (the admin route changes them later). Rates are fractions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSettings {
    pub seed: u64,
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub error_rate: f64,
    pub reset_rate: f64,
    pub drop_write_rate: f64,
    /// Scripted 429 bursts.
    pub throttle: Vec<ThrottleSetting>,
    /// Spell `Retry-After` as an HTTP date instead of seconds.
    pub retry_after_http_date: bool,
}

/// Requests `after + 1 ..= after + count` get 429 with `Retry-After: retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSetting {
    pub after: u64,
    pub count: u64,
    pub retry_after_secs: u64,
}
