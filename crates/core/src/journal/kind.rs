//! What kind of thing a journal record is.

use serde::Serialize;

/// What kind of thing a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    User,
    Organization,
    Membership,
    TotpFactor,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "organization",
            Self::Membership => "membership",
            Self::TotpFactor => "totp_factor",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        [
            Self::User,
            Self::Organization,
            Self::Membership,
            Self::TotpFactor,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}
