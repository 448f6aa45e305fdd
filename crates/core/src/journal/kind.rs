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
    /// A Clerk organization role, as a WorkOS environment role (keyed by the Clerk role key).
    Role,
    /// A Clerk permission, as a WorkOS permission (keyed by the Clerk permission key).
    Permission,
    /// A Clerk enterprise connection, as a WorkOS SSO connection (keyed by the Clerk connection id).
    Connection,
    /// A Clerk invitation (organization or application), as a WorkOS
    /// invitation (keyed by the Clerk invitation id). Its record is written
    /// once the invitation was sent, so nobody is emailed twice.
    Invitation,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Self::User,
        Self::Organization,
        Self::Membership,
        Self::TotpFactor,
        Self::Role,
        Self::Permission,
        Self::Connection,
        Self::Invitation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Organization => "organization",
            Self::Membership => "membership",
            Self::TotpFactor => "totp_factor",
            Self::Role => "role",
            Self::Permission => "permission",
            Self::Connection => "connection",
            Self::Invitation => "invitation",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How a migrated user signs in at WorkOS, as far as ferry gave it a way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignsIn {
    /// Its Clerk digest was imported: the same password works.
    Password,
    /// It had a password ferry could not carry: it must set one.
    Reset,
    /// It had none: social sign-in, or passwordless.
    NoPassword,
}

impl SignsIn {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Reset => "reset",
            Self::NoPassword => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Password, Self::Reset, Self::NoPassword]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}
