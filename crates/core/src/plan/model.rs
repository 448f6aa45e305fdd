//! The loaded plan: what [`super::load`] makes of a plan file, with defaults
//! filled in and paths resolved, and the error that says why a file is not one.

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

pub use super::endpoint::{Pacing, RetryPolicy, WorkosLimits};
use super::schema::ReportFormat;
use super::step::{
    ConnectionSettings, InvitationSettings, OrganizationSettings, RoleSettings, Step, StepKind,
    UserSettings, VerifySettings,
};
use crate::script::Hook;
pub use crate::support::checksum::Checksum;
use crate::support::diagnostic::{Diagnostic, Location};
use crate::support::kind::ErrorKind;
use ferry_wire::secret::Secret;

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
    /// Clerk role key → WorkOS role slug (the `memberships` step's `roles:`):
    /// the roles step names what it creates by it, the memberships step
    /// assigns by it.
    pub roles: BTreeMap<String, String>,
    /// Retries and requests in flight, for every client of every step.
    pub pacing: Pacing,
    pub report: ReportSettings,
    pub tests: Vec<ScriptTest>,
    /// What `ferry sync` does with users and organizations gone from Clerk.
    pub on_deleted: super::schema::OnDeleted,
    pub checksum: Checksum,
}

impl Plan {
    /// The step of this kind, if the plan has it (each step appears at most once).
    pub fn step(&self, kind: StepKind) -> Option<&Step> {
        self.steps.iter().find(|step| step.kind() == kind)
    }

    /// Whether the plan runs the step.
    pub fn has(&self, kind: StepKind) -> bool {
        self.step(kind).is_some()
    }

    /// The `users` step's settings, if the plan has the step.
    pub fn users(&self) -> Option<&UserSettings> {
        self.steps.iter().find_map(|step| match step {
            Step::Users(settings) => Some(settings),
            _ => None,
        })
    }

    /// The `organizations` step's settings, if the plan has the step.
    pub fn organizations(&self) -> Option<&OrganizationSettings> {
        self.steps.iter().find_map(|step| match step {
            Step::Organizations(settings) => Some(settings),
            _ => None,
        })
    }

    /// The `connections` step's settings, if the plan has the step.
    pub fn connections(&self) -> Option<&ConnectionSettings> {
        self.steps.iter().find_map(|step| match step {
            Step::Connections(settings) => Some(settings),
            _ => None,
        })
    }

    /// The `invitations` step's settings, if the plan has the step.
    pub fn invitations(&self) -> Option<&InvitationSettings> {
        self.steps.iter().find_map(|step| match step {
            Step::Invitations(settings) => Some(settings),
            _ => None,
        })
    }

    /// The `verify` step's settings, if the plan has the step.
    pub fn verify(&self) -> Option<&VerifySettings> {
        self.steps.iter().find_map(|step| match step {
            Step::Verify(settings) => Some(settings),
            _ => None,
        })
    }

    /// The `roles` step's settings, if the plan has the step.
    pub fn roles_step(&self) -> Option<&RoleSettings> {
        self.steps.iter().find_map(|step| match step {
            Step::Roles(settings) => Some(settings),
            _ => None,
        })
    }

    /// Every secret the plan holds: the API keys and the canary passwords.
    pub fn secrets(&self) -> Vec<&Secret> {
        let canaries = self
            .verify()
            .into_iter()
            .flat_map(|v| &v.logins)
            .map(|login| &login.password);
        self.source
            .secret_key
            .iter()
            .chain(self.target.as_ref().and_then(|t| t.api_key.as_ref()))
            .chain(canaries)
            .chain(
                self.connections()
                    .into_iter()
                    .flat_map(|c| c.secrets.values()),
            )
            .collect()
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
    pub webhooks: super::schema::WebhookPolicy,
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
    /// What the hook itself returns.
    pub expect: Option<Expectation>,
    /// What the runtime makes of it: the payload it would send (the
    /// built-in mapping, the hook's changes, WorkOS's rules applied), the
    /// final role slug, or the skip or rejection. At least one of the two
    /// is given.
    pub expect_payload: Option<Expectation>,
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
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::InvalidInput,
            Self::Read { .. } | Self::MissingVariables { .. } => ErrorKind::Configuration,
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
