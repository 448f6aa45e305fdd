//! The hooks a script may define, with the parameters each takes.

use crate::support::reason::{Reason, ReasonCode};
use serde::Serialize;

/// A script function ferry calls by name. Every hook is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// `map_user(user, ctx)` → WorkOS user payload map; `()` or `skip("why")` skips; `throw` rejects.
    MapUser,
    /// `on_conflict(existing, desired, ctx)` → `"update"`, `"skip"`, `"fail"` or a payload map.
    OnConflict,
    /// `map_organization(org, ctx)` → WorkOS organization payload map; `()` or `skip("why")` skips.
    MapOrganization,
    /// `map_connection(connection, ctx)` → a map of what to change (name, acs, IdP fields); `()` or `skip("why")` skips.
    MapConnection,
    /// `map_membership(membership, ctx)` → role slug; `()` or `skip("why")` skips.
    MapMembership,
    /// `map_invitation(invitation, ctx)` → role slug; `()` or `skip("why")` skips (nobody is emailed).
    MapInvitation,
    /// `map_role(role, ctx)` → the WorkOS slug of a Clerk role; `()` or `skip("why")` leaves the role out.
    MapRole,
}

impl Hook {
    pub const ALL: [Hook; 7] = [
        Hook::MapUser,
        Hook::OnConflict,
        Hook::MapOrganization,
        Hook::MapConnection,
        Hook::MapMembership,
        Hook::MapInvitation,
        Hook::MapRole,
    ];

    pub const NAMES: [&'static str; 7] = [
        "map_user",
        "on_conflict",
        "map_organization",
        "map_connection",
        "map_membership",
        "map_invitation",
        "map_role",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::MapUser => "map_user",
            Self::OnConflict => "on_conflict",
            Self::MapOrganization => "map_organization",
            Self::MapConnection => "map_connection",
            Self::MapMembership => "map_membership",
            Self::MapInvitation => "map_invitation",
            Self::MapRole => "map_role",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|hook| hook.name() == name)
    }

    /// The parameters, as the docs name them.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Self::MapUser => &["user", "ctx"],
            Self::OnConflict => &["existing", "desired", "ctx"],
            Self::MapOrganization => &["org", "ctx"],
            Self::MapConnection => &["connection", "ctx"],
            Self::MapMembership => &["membership", "ctx"],
            Self::MapInvitation => &["invitation", "ctx"],
            Self::MapRole => &["role", "ctx"],
        }
    }

    /// What a skip by this hook says: the script's reason when it gave one
    /// (`skip("reason")`), else that it returned `()`.
    pub fn skipped(self, reason: Option<String>) -> Reason {
        let detail = match reason {
            Some(reason) => format!("{self} skipped it: {reason}"),
            None => format!("{self} returned () (skip)"),
        };
        let code = match self {
            Self::MapRole => ReasonCode::RoleLeftOut,
            _ => ReasonCode::HookSkipped,
        };
        Reason::new(code, detail)
    }

    pub fn signature(self) -> String {
        format!("{}({})", self.name(), self.params().join(", "))
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
