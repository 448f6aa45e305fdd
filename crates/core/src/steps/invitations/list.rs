//! The invitations list, `<name>-invitations.csv` (mode 0600): one row per
//! pending Clerk invitation with where it goes in WorkOS and what the step
//! did with it, written whole at the end of the step. It names people and
//! their addresses, never an invitation's link or token (ferry never
//! reads those).

use std::path::Path;

use crate::support::reason::ReasonCode;

/// One pending invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub invitation: String,
    /// The Clerk organization's slug (or id); empty for the application.
    pub organization: String,
    pub workos_organization: String,
    pub email: String,
    pub clerk_role: String,
    pub workos_role: String,
    /// The Clerk user who invited.
    pub inviter: String,
    /// Their WorkOS user, when ferry migrated them.
    pub workos_inviter: String,
    /// Clerk's expiry, Unix milliseconds.
    pub expires_at: Option<i64>,
    /// WorkOS's `expires_in_days` for it.
    pub expires_in_days: Option<u32>,
    pub outcome: ListOutcome,
    pub code: Option<ReasonCode>,
    pub reason: String,
}

/// What the step did with a pending invitation, as the list says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOutcome {
    /// The plan does not send: listed only.
    Listed,
    /// Sent by this run (an email).
    Sent,
    /// Sent by an earlier run, or found sent: not sent again.
    SentBefore,
    /// WorkOS held a pending invitation to the invitee from before ferry.
    AlreadyInvited,
    Skipped,
    Rejected,
    Failed,
}

impl ListOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listed => "listed",
            Self::Sent => "sent",
            Self::SentBefore => "sent before",
            Self::AlreadyInvited => "already invited",
            Self::Skipped => "skipped",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    /// What a record the step journaled came to.
    pub fn of(action: crate::journal::Action) -> Self {
        use crate::journal::Action;
        match action {
            Action::Created => Self::Sent,
            Action::Adopted => Self::AlreadyInvited,
            Action::Unchanged => Self::SentBefore,
            Action::Skipped => Self::Skipped,
            Action::Rejected => Self::Rejected,
            Action::Updated | Action::Failed | Action::Deleted => Self::Failed,
        }
    }
}

pub const LIST_HEADER: [&str; 13] = [
    "clerk_invitation",
    "organization",
    "workos_organization",
    "email",
    "clerk_role",
    "workos_role",
    "inviter",
    "workos_inviter",
    "expires_at",
    "expires_in_days",
    "outcome",
    "code",
    "reason",
];

pub fn write_list(path: &Path, rows: &[ListRow]) -> std::io::Result<()> {
    ferry_wire::files::write_with(path, |out| {
        let mut writer = ferry_wire::inert::CsvWriter::new(out);
        writer.row(LIST_HEADER)?;
        for row in rows {
            let expires_at = row
                .expires_at
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            let days = row
                .expires_in_days
                .map(|d| d.to_string())
                .unwrap_or_default();
            writer.row([
                row.invitation.as_str(),
                &row.organization,
                &row.workos_organization,
                &row.email,
                &row.clerk_role,
                &row.workos_role,
                &row.inviter,
                &row.workos_inviter,
                &expires_at,
                &days,
                row.outcome.as_str(),
                row.code.map(|c| c.as_str()).unwrap_or_default(),
                &ferry_wire::redact::redact(&row.reason),
            ])?;
        }
        writer.flush()
    })
}
