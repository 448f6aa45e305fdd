//! The lists for people, read from the whole journal: who needs a password
//! reset, who was skipped, and what failed, as the migration stands after
//! every run on this journal (a list of one run would forget the people an
//! interrupted run before it had listed).

use std::path::Path;

use rusqlite::{Connection, params};

use super::error::{JournalError, Result};
use super::kind::Kind;
use crate::support::reason::Reason;

/// One person (or record) on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub kind: Kind,
    pub source_id: String,
    pub email: Option<String>,
    pub reason: Reason,
}

/// A list for people. Each is read straight from the journal, in Clerk-id
/// order, one person at a time: at a million users the lists are too long
/// to hold for a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Migrated users whose password was not imported.
    PasswordResets,
    /// Users skipped, with the reason.
    Skipped,
    /// Memberships skipped (their role left out, their user or organization
    /// not migrated), with the reason.
    SkippedMemberships,
    /// Records of any kind that failed or were rejected, and are still so.
    Failures,
}

impl List {
    pub const ALL: [Self; 4] = [
        Self::PasswordResets,
        Self::Skipped,
        Self::SkippedMemberships,
        Self::Failures,
    ];

    /// The records on the list, and its reason and code columns (fixed
    /// SQL, never input).
    fn sql(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::PasswordResets => (
                "kind = 'user' AND password_reset IS NOT NULL
                 AND action IN ('created', 'updated', 'adopted', 'unchanged')",
                "password_reset",
                "reset_code",
            ),
            Self::Skipped => (
                "kind = 'user' AND action = 'skipped'",
                "reason",
                "reason_code",
            ),
            Self::SkippedMemberships => (
                "kind = 'membership' AND action = 'skipped'",
                "reason",
                "reason_code",
            ),
            Self::Failures => (
                "action IN ('failed', 'rejected')",
                "CASE WHEN action = 'rejected' THEN 'rejected: ' || COALESCE(reason, '') ELSE reason END",
                "reason_code",
            ),
        }
    }
}

/// How many people are on each list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub password_resets: u64,
    pub skipped: u64,
    pub skipped_memberships: u64,
    pub failures: u64,
}

impl Counts {
    pub fn of(&self, list: List) -> u64 {
        match list {
            List::PasswordResets => self.password_resets,
            List::Skipped => self.skipped,
            List::SkippedMemberships => self.skipped_memberships,
            List::Failures => self.failures,
        }
    }
}

/// How many people each list has now.
pub(super) fn counts(conn: &Connection, path: &Path) -> Result<Counts> {
    let count = |list: List| -> Result<u64> {
        let (condition, _, _) = list.sql();
        conn.query_row(
            &format!("SELECT COUNT(*) FROM records WHERE {condition}"),
            params![],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n as u64)
        .map_err(|source| JournalError::from_sqlite(path, source))
    };
    Ok(Counts {
        password_resets: count(List::PasswordResets)?,
        skipped: count(List::Skipped)?,
        skipped_memberships: count(List::SkippedMemberships)?,
        failures: count(List::Failures)?,
    })
}

/// Whether `list` has anyone: stops at the first record it finds.
pub(super) fn any(conn: &Connection, path: &Path, list: List) -> Result<bool> {
    let (condition, _, _) = list.sql();
    conn.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM records WHERE {condition})"),
        params![],
        |row| row.get::<_, bool>(0),
    )
    .map_err(|source| JournalError::from_sqlite(path, source))
}

/// Hands each person on `list` to `each`, in Clerk-id order; stops at the
/// first error `each` returns and gives it back.
pub(super) fn each<E>(
    conn: &Connection,
    path: &Path,
    list: List,
    mut each: impl FnMut(Person) -> std::result::Result<(), E>,
) -> Result<std::result::Result<(), E>> {
    let sqlite = |source| JournalError::from_sqlite(path, source);
    let (condition, reason, code) = list.sql();
    let sql = format!(
        "SELECT kind, source_id, email, COALESCE({reason}, ''), {code} FROM records
         WHERE {condition} ORDER BY kind, source_id"
    );
    let mut select = conn.prepare(&sql).map_err(sqlite)?;
    let rows = select
        .query_map(params![], |row| {
            Ok(Person {
                kind: Kind::parse(&row.get::<_, String>(0)?).unwrap_or(Kind::User),
                source_id: row.get(1)?,
                email: row.get(2)?,
                reason: Reason::stored(row.get::<_, Option<String>>(4)?.as_deref(), row.get(3)?),
            })
        })
        .map_err(sqlite)?;
    for person in rows {
        if let Err(error) = each(person.map_err(sqlite)?) {
            return Ok(Err(error));
        }
    }
    Ok(Ok(()))
}
