//! The journal against a real SQLite file.

use super::*;
use crate::support::checksum::Checksum;
use crate::support::reason::{Reason, ReasonCode};
use std::os::unix::fs::PermissionsExt;

fn outcome(id: &str, action: Action) -> Outcome {
    Outcome {
        kind: Kind::User,
        source_id: id.into(),
        target_id: Some(format!("wos_{id}")),
        action,
        attempts: 1,
        reason: None,
        fingerprint: Some("f1".into()),
    }
}

#[test]
fn how_a_user_signs_in_outlives_writes_that_leave_it_out_while_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
    let checksum = Checksum::compute(b"plan", None);
    let run = journal.begin_run("p", 1, &checksum, false).unwrap();
    let signing = |id: &str, action, signs_in| Entry {
        signs_in,
        ..outcome(id, action).into()
    };
    journal
        .record_all(
            run,
            &[
                signing("user_1", Action::Created, Some(SignsIn::Password)),
                signing("user_2", Action::Created, Some(SignsIn::NoPassword)),
                signing("user_3", Action::Created, Some(SignsIn::Password)),
            ],
        )
        .unwrap();
    journal
        .record_all(
            run,
            &[
                signing("user_1", Action::Unchanged, None),
                signing("user_3", Action::Skipped, None),
            ],
        )
        .unwrap();
    let mut groups: Vec<(Action, Option<SignsIn>, u64)> = journal
        .user_groups()
        .unwrap()
        .into_iter()
        .map(|g| (g.action, g.signs_in, g.count))
        .collect();
    groups.sort_by_key(|g| (g.0.as_str(), g.1));
    assert_eq!(
        groups,
        // user_1's unchanged changes nothing the journal says; user_3
        // skipped no longer signs in at all.
        [
            (Action::Created, Some(SignsIn::Password), 1),
            (Action::Created, Some(SignsIn::NoPassword), 1),
            (Action::Skipped, None, 1),
        ]
    );
}

#[test]
fn records_runs_outcomes_and_bookmarks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/j.db");
    let mut journal = Journal::open_for_run(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let checksum = Checksum::compute(b"plan", Some(b"script"));
    let run = journal.begin_run("p", 2, &checksum, false).unwrap();
    journal
        .record_all(
            run,
            &[
                outcome("user_1", Action::Created).into(),
                outcome("user_2", Action::Failed).into(),
            ],
        )
        .unwrap();
    // A later outcome replaces the earlier one but keeps the known target id.
    let mut retry = outcome("user_2", Action::Adopted);
    retry.target_id = None;
    retry.attempts = 3;
    journal.record_all(run, &[retry.into()]).unwrap();
    let state = journal.record(Kind::User, "user_2").unwrap().unwrap();
    assert_eq!(
        (state.action, state.attempts, state.target_id.as_deref()),
        (Action::Adopted, 3, Some("wos_user_2"))
    );

    assert_eq!(
        journal
            .record_counts()
            .unwrap()
            .count(Kind::User, Action::Created),
        1
    );
    assert_eq!(journal.id_map(Kind::User).unwrap().len(), 2);
    // A record that failed later keeps its old id, but names no WorkOS object.
    journal
        .record_all(run, &[outcome("user_1", Action::Failed).into()])
        .unwrap();
    assert_eq!(journal.id_map(Kind::User).unwrap().len(), 1);
    journal.set_bookmark("users", "user_2").unwrap();
    assert_eq!(
        journal.bookmark("users").unwrap().as_deref(),
        Some("user_2")
    );

    journal.finish_run(run, RunStatus::Finished).unwrap();
    let last = journal.last_run().unwrap().unwrap();
    assert_eq!(
        (last.revision, last.status, last.checksum),
        (2, RunStatus::Finished, checksum)
    );
}

#[test]
fn an_unchanged_record_the_journal_already_holds_is_not_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
    let checksum = Checksum::compute(b"plan", None);
    let first = journal.begin_run("p", 1, &checksum, false).unwrap();
    let created = |id: &str| Entry {
        email: Some(format!("{id}@example.test")),
        ..outcome(id, Action::Created).into()
    };
    let skipped = || {
        let mut entry: Entry = outcome("user_4", Action::Skipped).into();
        entry.outcome.target_id = None;
        entry.outcome.reason = Some(Reason::new(
            ReasonCode::NoEmail,
            "no email address (phone-only user)",
        ));
        entry
    };
    journal
        .record_all(
            first,
            &[
                created("user_1"),
                created("user_2"),
                created("user_3"),
                skipped(),
            ],
        )
        .unwrap();
    let second = journal.begin_run("p", 1, &checksum, false).unwrap();
    let unchanged = |id: &str| Entry {
        email: Some(format!("{id}@example.test")),
        ..outcome(id, Action::Unchanged).into()
    };
    let mut drifted = unchanged("user_2");
    drifted.outcome.reason = Some(Reason::new(
        ReasonCode::ChangedOutsideFerry,
        "first_name changed in WorkOS",
    ));
    let mut refingerprinted = unchanged("user_3");
    refingerprinted.outcome.fingerprint = Some("f2".into());
    journal
        .record_all(
            second,
            &[unchanged("user_1"), drifted, refingerprinted, skipped()],
        )
        .unwrap();
    // user_1 is exactly as stored: untouched, still `created` by run 1;
    // user_4 is skipped again for the same reason: untouched too.
    let user_1 = journal.record(Kind::User, "user_1").unwrap().unwrap();
    assert_eq!((user_1.action, user_1.run_id), (Action::Created, first));
    // A reason or a new fingerprint is news, and is written.
    assert_eq!(journal.records_changed_by(second).unwrap(), 2);
    // Once the reason is gone, the drifted record is written again to clear it.
    let third = journal.begin_run("p", 1, &checksum, false).unwrap();
    journal
        .record_all(third, &[unchanged("user_1"), unchanged("user_2")])
        .unwrap();
    assert_eq!(journal.records_changed_by(third).unwrap(), 1);
    assert_eq!(
        journal
            .record(Kind::User, "user_2")
            .unwrap()
            .unwrap()
            .reason,
        None
    );
}

#[test]
fn the_run_that_created_an_object_is_kept_through_later_updates() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
    let checksum = Checksum::compute(b"plan", None);
    let first = journal.begin_run("p", 1, &checksum, false).unwrap();
    journal
        .record_all(
            first,
            &[
                outcome("user_1", Action::Created).into(),
                outcome("user_2", Action::Adopted).into(),
            ],
        )
        .unwrap();
    let second = journal.begin_run("p", 1, &checksum, false).unwrap();
    journal
        .record_all(
            second,
            &[
                outcome("user_1", Action::Updated).into(),
                outcome("user_2", Action::Updated).into(),
                outcome("user_3", Action::Created).into(),
            ],
        )
        .unwrap();
    let ids = |run| {
        journal
            .created_by(Kind::User, run)
            .unwrap()
            .into_iter()
            .map(|(source, _)| source)
            .collect::<Vec<_>>()
    };
    // user_2 was adopted: updating it later does not make it ferry's.
    assert_eq!(ids(None), ["user_1", "user_3"]);
    assert_eq!(ids(Some(first)), ["user_1"]);
    assert_eq!(ids(Some(second)), ["user_3"]);
}

#[test]
fn an_object_undone_or_replaced_is_no_longer_ferry_s() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open_for_run(&dir.path().join("j.db")).unwrap();
    let checksum = Checksum::compute(b"plan", None);
    let first = journal.begin_run("p", 1, &checksum, false).unwrap();
    let created: Vec<Entry> = ["user_1", "user_2", "user_3"]
        .into_iter()
        .map(|id| outcome(id, Action::Created).into())
        .collect();
    journal.record_all(first, &created).unwrap();
    let second = journal.begin_run("p", 1, &checksum, false).unwrap();
    let deleted = Outcome {
        target_id: None,
        ..outcome("user_1", Action::Deleted)
    };
    // user_2 now stands for another WorkOS object (someone re-made it, or
    // a later run took over someone else's account).
    let elsewhere = Outcome {
        target_id: Some("wos_someone_else".into()),
        ..outcome("user_2", Action::Unchanged)
    };
    journal
        .record_all(second, &[deleted.into(), elsewhere.into()])
        .unwrap();
    let third = journal.begin_run("p", 1, &checksum, false).unwrap();
    // After the undo, a run takes over an existing account for user_1.
    let taken_over = Outcome {
        target_id: Some("wos_existing".into()),
        ..outcome("user_1", Action::Updated)
    };
    journal.record_all(third, &[taken_over.into()]).unwrap();
    let ids: Vec<String> = journal
        .created_by(Kind::User, None)
        .unwrap()
        .into_iter()
        .map(|(source, _)| source)
        .collect();
    assert_eq!(ids, ["user_3"], "only what ferry made and still stands for");
}

#[test]
fn a_second_run_on_the_same_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let first = Journal::open_for_run(&path).unwrap();
    let second = Journal::open_for_run(&path);
    assert!(
        matches!(second, Err(JournalError::Busy { .. })),
        "{second:?}"
    );
    // Reading while a run holds the lock is fine.
    Journal::open_to_read(&path).unwrap();
    drop(first);
    Journal::open_for_run(&path).unwrap();
}
