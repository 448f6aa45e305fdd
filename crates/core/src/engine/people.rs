//! The lists for people that describe the migration as it stands after a
//! run: password resets, skipped users, skipped memberships and failures
//! over every run on this
//! journal, regenerated whole at the end of each run (so an interrupted run
//! and the run that finished it make one list), with this run's change
//! beside each count. Each run's own lists (`<name>-run-<id>-…`) stay as
//! the record of what that run did.

use std::path::Path;

use crate::error::{Error, Result};
use crate::journal::{Journal, Kind, List, PeopleCounts, Person};
use crate::report::model::PeopleList;

/// Writes `<name>-password-resets.csv`, `<name>-skipped.csv`,
/// `<name>-memberships-skipped.csv` and `<name>-failures.csv`
/// (`clerk_id,email,code,reason`, mode 0600, replaced whole, written even when
/// empty so no older list outlives its people; the memberships list only
/// once the journal has skipped a membership), streamed from the journal a
/// person at a time.
pub fn write_lists(
    journal: &Journal,
    dir: &Path,
    plan_name: &str,
    before: &PeopleCounts,
) -> Result<Vec<PeopleList>> {
    ferry_wire::files::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut written = Vec::new();
    for list in List::ALL {
        let (label, file) = match list {
            List::PasswordResets => ("password resets needed", "password-resets"),
            List::Skipped => ("skipped", "skipped"),
            List::SkippedMemberships => ("memberships skipped", "memberships-skipped"),
            List::Failures => ("failures", "failures"),
        };
        let path = dir.join(format!("{plan_name}-{file}.csv"));
        // A plan without memberships gets no empty list of them.
        if list == List::SkippedMemberships
            && before.of(list) == 0
            && !path.exists()
            && !journal.any_person(list)?
        {
            continue;
        }
        let mut total = 0u64;
        let mut unread = None;
        ferry_wire::files::write_with(&path, |out| {
            let mut writer = ferry_wire::inert::CsvWriter::new(out);
            writer.row(["clerk_id", "email", "code", "reason"])?;
            match journal.each_person(list, |person| {
                total += 1;
                writer.row(row(&person))
            }) {
                Ok(written) => written?,
                Err(error) => {
                    unread = Some(error);
                    return Err(std::io::Error::other("the journal could not be read"));
                }
            }
            writer.flush()
        })
        .map_err(|e| match unread.take() {
            Some(error) => Error::from(error),
            None => Error::io("write", &path, e),
        })?;
        written.push(PeopleList {
            label: label.to_owned(),
            path: path.display().to_string(),
            total,
            change: total as i64 - before.of(list) as i64,
        });
    }
    Ok(written)
}

/// A person's row: `clerk_id,email,code,reason`, the reason redacted and,
/// for a record that is not a user, prefixed with its kind.
fn row(person: &Person) -> [String; 4] {
    let reason = match person.kind {
        Kind::User => person.reason.detail.clone(),
        kind => format!("{}: {}", kind.as_str(), person.reason.detail),
    };
    [
        person.source_id.clone(),
        person.email.clone().unwrap_or_default(),
        person.reason.code.as_str().to_owned(),
        ferry_wire::redact::redact(&reason).into_owned(),
    ]
}
