//! What a hook call can come to other than a usable result.

use super::hook::Hook;
use crate::support::diagnostic::Location;
use crate::support::reason::{Reason, ReasonCode};

/// A hook call that did not produce a usable result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScriptError {
    /// The script said `throw`: the record is rejected on purpose.
    #[error("{hook} rejected {record}: {message}{}", at(location))]
    Rejected {
        hook: Hook,
        record: String,
        message: String,
        location: Option<Location>,
    },

    /// The script failed: a type error, a missing property, a limit.
    #[error("{hook} failed for {record}: {message}{}", at(location))]
    Failed {
        hook: Hook,
        record: String,
        message: String,
        location: Option<Location>,
    },

    /// The hook returned something the step cannot use.
    #[error("{hook} returned {message} for {record}")]
    BadResult {
        hook: Hook,
        record: String,
        message: String,
    },

    /// A test called a hook the script does not define.
    #[error("the script defines no `{}`", hook.signature())]
    Undefined { hook: Hook },
}

fn at(location: &Option<Location>) -> String {
    location
        .as_ref()
        .map(|l| format!(" (at {l})"))
        .unwrap_or_default()
}

impl ScriptError {
    /// The record-level reason this error gives: a rejection on purpose,
    /// a result ferry cannot use, or a failure.
    pub fn reason(&self) -> Reason {
        let code = match self {
            Self::Rejected { .. } => ReasonCode::HookRejected,
            Self::BadResult { .. } => ReasonCode::HookInvalidResult,
            Self::Failed { .. } | Self::Undefined { .. } => ReasonCode::HookFailed,
        };
        Reason::new(code, self.to_string())
    }

    pub fn location(&self) -> Option<&Location> {
        match self {
            Self::Rejected { location, .. } | Self::Failed { location, .. } => location.as_ref(),
            _ => None,
        }
    }
}
