//! The lists for people, read from the whole journal: who needs a password
//! reset, who was skipped, and what failed, as the migration stands after
//! every run on this journal (a list of one run would forget the people an
//! interrupted run before it had listed).

use std::path::Path;

use rusqlite::{Connection, params};

use super::error::{JournalError, Result};
use super::kind::Kind;

/// One person (or record) on a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub kind: Kind,
    pub source_id: String,
    pub email: Option<String>,
    pub reason: String,
}

/// The lists, each in Clerk-id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct People {
    /// Migrated users whose password was not imported.
    pub password_resets: Vec<Person>,
    /// Users skipped, with the reason.
    pub skipped: Vec<Person>,
    /// Records of any kind that failed or were rejected, and are still so.
    pub failures: Vec<Person>,
}

/// Every list, from the journal's records.
pub(super) fn read(conn: &Connection, path: &Path) -> Result<People> {
    let select = |condition: &str, reason: &str| people_where(conn, path, condition, reason);
    Ok(People {
        password_resets: select(
            "kind = 'user' AND password_reset IS NOT NULL
             AND action IN ('created', 'updated', 'adopted', 'unchanged')",
            "password_reset",
        )?,
        skipped: select("kind = 'user' AND action = 'skipped'", "reason")?,
        failures: select(
            "action IN ('failed', 'rejected')",
            "CASE WHEN action = 'rejected' THEN 'rejected: ' || COALESCE(reason, '') ELSE reason END",
        )?,
    })
}

/// `condition` and `reason` are fixed SQL from this module, never input.
fn people_where(
    conn: &Connection,
    path: &Path,
    condition: &str,
    reason: &str,
) -> Result<Vec<Person>> {
    let sqlite = |source| JournalError::from_sqlite(path, source);
    let sql = format!(
        "SELECT kind, source_id, email, COALESCE({reason}, '') FROM records
         WHERE {condition} ORDER BY kind, source_id"
    );
    let mut select = conn.prepare(&sql).map_err(sqlite)?;
    let rows = select
        .query_map(params![], |row| {
            Ok(Person {
                kind: Kind::parse(&row.get::<_, String>(0)?).unwrap_or(Kind::User),
                source_id: row.get(1)?,
                email: row.get(2)?,
                reason: row.get(3)?,
            })
        })
        .map_err(sqlite)?;
    rows.collect::<rusqlite::Result<_>>().map_err(sqlite)
}
