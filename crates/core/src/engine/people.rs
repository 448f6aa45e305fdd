//! The lists for people that describe the migration as it stands after a
//! run: password resets, skipped users and failures over every run on this
//! journal, regenerated whole at the end of each run (so an interrupted run
//! and the run that finished it make one list), with this run's change
//! beside each count. Each run's own lists (`<name>-run-<id>-…`) stay as
//! the record of what that run did.

use std::path::Path;

use crate::error::{Error, Result};
use crate::journal::{Journal, Kind, People, Person};
use crate::report::model::PeopleList;

/// Writes `<name>-password-resets.csv`, `<name>-skipped.csv` and
/// `<name>-failures.csv` (`clerk_id,email,reason`, mode 0600, replaced
/// whole, written even when empty so no older list outlives its people).
pub fn write_lists(
    journal: &Journal,
    dir: &Path,
    plan_name: &str,
    before: &People,
) -> Result<Vec<PeopleList>> {
    let now = journal.people()?;
    ferry_wire::files::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    let lists = [
        (
            "password resets needed",
            "password-resets",
            &now.password_resets,
            &before.password_resets,
        ),
        ("skipped", "skipped", &now.skipped, &before.skipped),
        ("failures", "failures", &now.failures, &before.failures),
    ];
    let mut written = Vec::new();
    for (label, file, people, earlier) in lists {
        let path = dir.join(format!("{plan_name}-{file}.csv"));
        ferry_wire::files::write(&path, &csv(people)?).map_err(|e| Error::io("write", &path, e))?;
        written.push(PeopleList {
            label: label.to_owned(),
            path: path.display().to_string(),
            total: people.len() as u64,
            change: people.len() as i64 - earlier.len() as i64,
        });
    }
    Ok(written)
}

fn csv(people: &[Person]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::io("write", "a people list", std::io::Error::other(e));
    writer
        .write_record(["clerk_id", "email", "reason"])
        .map_err(io)?;
    for person in people {
        let reason = match person.kind {
            Kind::User => person.reason.clone(),
            kind => format!("{}: {}", kind.as_str(), person.reason),
        };
        writer
            .write_record([
                person.source_id.as_str(),
                person.email.as_deref().unwrap_or(""),
                &ferry_wire::redact::redact(&reason),
            ])
            .map_err(io)?;
    }
    writer
        .into_inner()
        .map_err(|e| Error::io("write", "a people list", e.into_error()))
}
