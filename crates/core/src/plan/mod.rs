//! The plan: which steps run, against what, with which options.
//!
//! A plan file is YAML (version 1, see DESIGN.md and the README's plan
//! reference). [`load`] reads it, fills `${VAR}` from the environment,
//! checks it against the schema and the rules that cross fields, and
//! returns a [`Plan`] whose paths are resolved against the plan's folder and
//! whose defaults are filled in, or every problem found, with positions.

pub mod endpoint;
mod interpolate;
mod load;
mod model;
pub mod project;
mod rules;
pub mod schema;
mod shared;
mod step;
mod yaml;

pub use interpolate::expand;
pub use load::{Inspection, Loaded, inspect, load};
pub use model::*;
pub use project::{HookContext, Project};
pub use schema::{
    AcsPolicy, CanaryLogin, ConflictPolicy, DomainState, EmailVerifiedPolicy, InclusionPolicy,
    MetadataKind, OverLimitPolicy, PasswordPolicy, ReportFormat, Sample, TotpPolicy,
};
pub use shared::LoadOptions;
pub use step::{
    ConnectionSettings, DEFAULT_PROBE_ADDRESS, InvitationSettings, MfaReportSettings,
    OrganizationSettings, RoleSettings, Step, StepKind, UserSettings, VerifySettings,
};
