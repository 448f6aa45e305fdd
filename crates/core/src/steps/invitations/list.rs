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
    /// `listed`, `sent`, `sent before`, `already invited`, `skipped`,
    /// `rejected` or `failed`.
    pub outcome: String,
    pub code: Option<ReasonCode>,
    pub reason: String,
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
                &row.outcome,
                row.code.map(|c| c.as_str()).unwrap_or_default(),
                &ferry_wire::redact::redact(&row.reason),
            ])?;
        }
        writer.flush()
    })
}
