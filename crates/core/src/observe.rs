//! What the engine tells the outside world while it works.
//!
//! The engine and its steps never print: they send [`Event`]s to an
//! [`Observer`]. The `ferry` binary renders them (progress bars on a
//! terminal, periodic plain lines otherwise, JSON lines with `--json`); a
//! test records them. Events carry ids, counts and reasons, never a secret:
//! reasons were scrubbed before they were recorded.

use crate::plan::StepKind;
use serde::Serialize;

use crate::journal::Outcome;
use crate::report::outcome::{Planned, StepOutcome};

/// Receives the engine's events, from any task (hence `Sync`).
pub trait Observer: Sync {
    fn event(&self, event: &Event<'_>);
}

/// One thing that happened, in the order it happened.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A run (or a preview) began; `run_id` is the journal's, absent for previews.
    RunStarted {
        run_id: Option<i64>,
        plan: &'a str,
        revision: u32,
        preview: bool,
    },
    /// The preflight began: it reads Clerk's count, a WorkOS page and the
    /// webhook endpoints, and checks the journal's binding.
    PreflightStarted,
    /// What the preflight found, before anything else was read or written.
    Preflight {
        findings: &'a [crate::target::preflight::Finding],
    },
    /// A plan step began.
    StepStarted { step: StepKind },
    /// The number of records the step will see, once it is known.
    Total { step: StepKind, total: u64 },
    /// A record's outcome was recorded. `advances` is false for the
    /// sub-records of a record (a user's TOTP factor), which do not move progress.
    Record {
        step: StepKind,
        outcome: &'a Outcome,
        advances: bool,
    },
    /// A step that reads without recording (`assess`) has read this many
    /// users so far; sent every [`READ_EVERY`] users and at the end.
    Read { step: StepKind, users: u64 },
    /// What a run would do with a record (`ferry plan`).
    Planned {
        step: StepKind,
        planned: &'a Planned,
    },
    /// Something a person should know that does not stop the run.
    Warning {
        step: Option<StepKind>,
        message: &'a str,
    },
    /// A stop was asked for: what is in flight finishes, nothing new starts.
    Stopping,
    /// A plan step ended, with what it came to.
    StepFinished {
        step: StepKind,
        duration_ms: u64,
        outcome: &'a StepOutcome,
    },
}

/// How many users a reading step reads between two [`Event::Read`]s.
pub const READ_EVERY: u64 = 500;

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event<'_>) {}
}
