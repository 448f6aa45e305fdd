//! The plan: which steps run, against what, with which options.
//!
//! A plan file is YAML (version 1, see DESIGN.md and the README's plan
//! reference). [`load`] reads it, fills `${VAR}` from the environment,
//! checks it against the schema and the rules that cross fields, and
//! returns a [`Plan`] whose paths are resolved against the plan's folder and
//! whose defaults are filled in, or every problem found, with positions.

mod checksum;
mod interpolate;
mod load;
pub mod schema;
mod yaml;

use std::path::{Path, PathBuf};

pub use checksum::Checksum;
pub use interpolate::expand;
pub use load::{Inspection, LoadOptions, Loaded, inspect, load};
pub use schema::{
    CanaryLogin, ConflictPolicy, DomainState, EmailVerifiedPolicy, InclusionPolicy, MetadataKind,
    OverLimitPolicy, PasswordPolicy, ReportFormat, Sample, StepSpec as Step, TotpPolicy,
};

use crate::diagnostic::{Diagnostic, Location};
use crate::error::ExitStatus;
use crate::script::Hook;
use crate::secret::Secret;

/// The plan-file versions this ferry reads.
pub const SUPPORTED_VERSION: u32 = 1;

pub const DEFAULT_CLERK_API_URL: &str = "https://api.clerk.com/v1";
pub const DEFAULT_WORKOS_API_URL: &str = "https://api.workos.com";

/// A loaded, checked plan with defaults filled in and paths resolved.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan file, as given.
    pub path: PathBuf,
    pub name: String,
    pub revision: u32,
    pub source: ClerkSource,
    pub target: Option<WorkosTarget>,
    pub script: Option<PathBuf>,
    pub state: PathBuf,
    pub steps: Vec<Step>,
    pub report: ReportSettings,
    pub tests: Vec<ScriptTest>,
    pub checksum: Checksum,
}

impl Plan {
    /// The options of the first step of a kind, if the plan has it.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|step| step.name() == name)
    }

    /// The folder that relative paths in the plan are relative to.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }
}

#[derive(Debug, Clone)]
pub struct ClerkSource {
    pub secret_key: Option<Secret>,
    pub api_url: String,
    pub export_csv: Option<PathBuf>,
    pub export_json: Option<PathBuf>,
    /// Overrides the limit implied by the key type (sk_test_ 100, sk_live_ 1000 per 10 s).
    pub requests_per_10s: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct WorkosTarget {
    pub api_key: Option<Secret>,
    pub client_id: Option<String>,
    pub api_url: String,
    pub limits: WorkosLimits,
    pub oauth_providers: Vec<String>,
}

/// WorkOS's documented rate limits, which a plan may lower (or raise, for a sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WorkosLimits {
    pub writes_per_10s: u32,
    pub reads_per_10s: u32,
    pub requests_per_60s: u32,
    pub authenticate_per_60s: u32,
}

impl Default for WorkosLimits {
    fn default() -> Self {
        Self {
            writes_per_10s: 500,
            reads_per_10s: 1000,
            requests_per_60s: 6000,
            authenticate_per_60s: 10,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub dir: PathBuf,
    pub formats: Vec<ReportFormat>,
    pub templates: Option<PathBuf>,
}

/// One of the plan's `tests:`: call a hook with an input, compare the result.
#[derive(Debug, Clone)]
pub struct ScriptTest {
    pub name: String,
    pub hook: Hook,
    pub input: serde_json::Value,
    pub ctx: Option<serde_json::Value>,
    pub expect: Expectation,
    pub location: Location,
}

/// What a script test expects of the hook's result.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// Every key given must be in the result with this value (maps match recursively).
    Partial(serde_json::Value),
    /// The result equals this value (strings, for `map_membership` and `on_conflict`).
    Equals(serde_json::Value),
    /// The hook returns `()`: the record is skipped.
    Skip,
    /// The hook throws: the record is rejected.
    Reject,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot read plan {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{} is not a valid plan ({} error{})", path.display(), count_errors(diagnostics), plural(count_errors(diagnostics)))]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },

    #[error("{} needs environment variable{} that {} not set: {}", path.display(), plural(names.len()), if names.len() == 1 { "is" } else { "are" }, names.join(", "))]
    MissingVariables {
        path: PathBuf,
        names: Vec<String>,
        diagnostics: Vec<Diagnostic>,
    },
}

impl PlanError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Invalid { .. } => ExitStatus::ProblemFound,
            Self::Read { .. } | Self::MissingVariables { .. } => ExitStatus::UsageError,
        }
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Invalid { diagnostics, .. } | Self::MissingVariables { diagnostics, .. } => {
                diagnostics
            }
            Self::Read { .. } => &[],
        }
    }
}

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
