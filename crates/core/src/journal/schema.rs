//! The journal's tables, versioned with SQLite's `user_version` so a newer
//! ferry can migrate an older journal and an older ferry refuses a newer one,
//! and marked with SQLite's `application_id` so a `state:` that points at
//! another program's database is refused rather than written into.

use std::path::Path;

use rusqlite::Connection;

use super::error::{JournalError, Result};

const MIGRATIONS: &[&str] = &[
    // 1: runs, records, bookmarks.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        plan_name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        checksum TEXT NOT NULL,
        plan_sha256 TEXT NOT NULL,
        script_sha256 TEXT,
        dry_run INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL
    );
    CREATE TABLE records (
        kind TEXT NOT NULL,
        source_id TEXT NOT NULL,
        target_id TEXT,
        action TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        fingerprint TEXT,
        run_id INTEGER NOT NULL REFERENCES runs (id),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, source_id)
    ) WITHOUT ROWID;
    CREATE INDEX records_by_action ON records (kind, action);
    CREATE TABLE bookmarks (
        step TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );",
    // 2: each run's report, as JSON, so `ferry report` can render it again.
    "CREATE TABLE reports (
        run_id INTEGER PRIMARY KEY REFERENCES runs (id),
        json TEXT NOT NULL
    );",
    // 3: the source and target the journal was made against (never a key:
    // a one-way fingerprint of it).
    "CREATE TABLE bindings (
        side TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        environment TEXT,
        key_fingerprint TEXT,
        bound_at TEXT NOT NULL
    );",
    // 4: what the people lists need, so they describe the whole migration
    // rather than one run: the record's email, and why its password was not
    // imported (the user needs a reset).
    "ALTER TABLE records ADD COLUMN email TEXT;
    ALTER TABLE records ADD COLUMN password_reset TEXT;",
    // 5: which run created each object ferry made, kept when later runs
    // update it: what an undo may delete is what ferry created, never what
    // it adopted (earlier journals: what is still marked created).
    "ALTER TABLE records ADD COLUMN created_by_run INTEGER REFERENCES runs (id);
    UPDATE records SET created_by_run = run_id WHERE action = 'created';
    CREATE INDEX records_by_creator ON records (created_by_run) WHERE created_by_run IS NOT NULL;",
    // 6: a user's seal: what its source record and the mapping were when
    // ferry last settled it, so a rerun skips users nothing changed for
    // (opaque to the journal; `steps::users::seal` owns its form).
    "ALTER TABLE records ADD COLUMN seal TEXT;",
    // 7: how a migrated user signs in at WorkOS (`password`: its digest
    // was imported; `reset`: it must set one; `none`: it had none, social
    // or passwordless), so the report accounts for every user by it.
    "ALTER TABLE records ADD COLUMN signs_in TEXT;",
    // 8: the codes of a record's reason and of a user's reset reason
    // (`support::reason`), which lists and reports count by; rows an
    // earlier ferry wrote have none and read as `unclassified`.
    "ALTER TABLE records ADD COLUMN reason_code TEXT;
    ALTER TABLE records ADD COLUMN reset_code TEXT;",
    // 9: hash probes (`steps::users::probe`): each cohort's verdict on this
    // journal's target, keyed by the conversions it tested, and every probe
    // user from before its create to after its delete, so the next command
    // removes one a crash left behind; and the Clerk hasher of each user
    // whose password ferry imported or listed for a reset (`ferry watch`
    // groups sign-ins by it).
    "ALTER TABLE records ADD COLUMN hasher TEXT;
    CREATE TABLE probe_verdicts (
        hasher TEXT PRIMARY KEY,
        conversions TEXT NOT NULL,
        verdict TEXT NOT NULL,
        conversion TEXT,
        detail TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs (id),
        probed_at TEXT NOT NULL
    );
    CREATE TABLE probe_users (
        token TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        external_id TEXT NOT NULL,
        cohort TEXT NOT NULL,
        target_id TEXT,
        run_id INTEGER NOT NULL REFERENCES runs (id),
        made_at TEXT NOT NULL,
        removed_at TEXT
    );",
];

/// `PRAGMA application_id` of every journal: "FRRY".
pub const APPLICATION_ID: i64 = 0x4652_5259;

/// Refuses a database that is not a ferry journal, before anything is
/// changed in it (not even its journal mode).
/// One number SQLite answers (`PRAGMA user_version`, a count).
fn number(conn: &Connection, path: &Path, query: &str) -> Result<i64> {
    conn.query_row(query, [], |row| row.get(0))
        .map_err(|source| JournalError::from_sqlite(path, source))
}

/// Returns the journal's schema version and application id.
pub fn check_ours(conn: &Connection, path: &Path) -> Result<(i64, i64)> {
    let version = number(conn, path, "PRAGMA user_version")?;
    let application = number(conn, path, "PRAGMA application_id")?;
    let tables = number(conn, path, "SELECT count(*) FROM sqlite_master")?;
    // Journals made before the mark have ferry's version and tables but id 0.
    let ours = application == APPLICATION_ID || (application == 0 && (version > 0 || tables == 0));
    if ours {
        Ok((version, application))
    } else {
        Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
            why: format!(
                "it is another program's SQLite database (application id {application:#x})"
            ),
        })
    }
}

pub fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let sqlite = |source| JournalError::from_sqlite(path, source);
    let (version, application) = check_ours(conn, path)?;
    if application != APPLICATION_ID {
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
            .map_err(sqlite)?;
    }
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(JournalError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let next = index as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN; {migration}; PRAGMA user_version = {next}; COMMIT;"
        ))
        .map_err(sqlite)?;
    }
    Ok(())
}
