//! The run report: one model ([`model`], with the accounting of every
//! user, the assessment, the MFA findings, the verification checklist and
//! the next steps in modules of their own),
//! serialised to JSON and rendered through handlebars templates to Markdown
//! and one self-contained HTML page ([`render`]).
//!
//! It is the end of the one-way flow: every other part of the engine may
//! produce report data, and nothing here reads anything but that data.

pub mod accounting;
pub mod assemble;
pub mod assessment;
pub mod invitations;
pub mod mfa;
pub mod model;
pub mod next;
pub mod outcome;
pub mod render;
pub mod sso;
pub mod verification;

pub use assessment::Assessment;
pub use mfa::MfaSummary;
pub use model::{Count, Failure, ListFile, PeopleList, PlanInfo, Report, RunInfo, StepReport};
pub use render::{ReportError, render, write_all, write_private};
pub use verification::{Check, Status, Verification};
