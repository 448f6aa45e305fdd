//! Why a digest was not sent: the reason a user is listed for a reset,
//! with its code. A leaf, so the readers of both sides of a digest
//! ([`super::clerk`], [`super::convert`]) can name it.

use serde::Serialize;

use crate::support::reason::ReasonCode;

/// Why a digest was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ResetReason {
    /// WorkOS has no hash type for this hasher.
    UnsupportedHasher,
    /// The digest does not have the shape its hasher promises.
    Malformed(String),
    /// The hasher's parameters are outside what WorkOS accepts.
    ParametersOutOfRange(String),
    /// A digest with no hasher named, or a hasher with no digest.
    Incomplete(String),
    /// The plan says `passwords: skip`.
    PlanSkips,
    /// No conversion of this cohort signed a probe user in on the target.
    ProbeFailed(String),
}

impl ResetReason {
    pub fn code(&self) -> ReasonCode {
        match self {
            Self::UnsupportedHasher => ReasonCode::HashUnsupported,
            Self::Malformed(_) => ReasonCode::HashMalformed,
            Self::ParametersOutOfRange(_) => ReasonCode::HashParametersOutOfRange,
            Self::Incomplete(_) => ReasonCode::HashIncomplete,
            Self::PlanSkips => ReasonCode::PasswordsSkipped,
            Self::ProbeFailed(_) => ReasonCode::HashProbeFailed,
        }
    }
}

impl std::fmt::Display for ResetReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedHasher => f.write_str("WorkOS cannot import this hasher"),
            Self::Malformed(why) => write!(f, "malformed digest: {why}"),
            Self::ParametersOutOfRange(why) => {
                write!(f, "parameters WorkOS does not accept: {why}")
            }
            Self::Incomplete(why) => f.write_str(why),
            Self::PlanSkips => f.write_str("the plan skips passwords"),
            Self::ProbeFailed(why) => write!(f, "the target refused every layout: {why}"),
        }
    }
}
