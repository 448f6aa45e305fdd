//! A migration through a misbehaving WorkOS: errors, dropped answers and
//! latency end with every user there exactly once.

use ferry_core::support::reason::{Reason, ReasonCode};
use ferry_sandbox::FaultConfig;

use serde_json::json;

use super::{World, WorldOptions};

#[test]
fn errors_dropped_answers_and_latency_lose_and_duplicate_nothing() {
    let world = World::new(WorldOptions {
        users: 5000,
        organizations: 20,
        faults: FaultConfig {
            seed: 42,
            latency_ms: 300,
            error_rate: 0.10,
            drop_write_rate: 0.02,
            ..FaultConfig::default()
        },
        users_options: json!({ "max_attempts": 12, "concurrency": 400 }),
        ..WorldOptions::default()
    });
    let out = world.run().code(0);
    out.stdout_has(" 0 failed");
    world.assert_migrated_exactly_once();
    let counts = world.counts();
    let dropped: u64 = counts
        .workos
        .values()
        .flat_map(|o| o.iter())
        .filter(|(k, _)| k.ends_with("dropped"))
        .map(|(_, n)| n)
        .sum();
    assert!(dropped > 20, "the faults did happen: {counts:?}");
    // Every exported TOTP secret became exactly one factor, dropped answers or not.
    let dump = world.dump();
    let mut per_user = std::collections::HashMap::<&str, usize>::new();
    for factor in &dump.auth_factors {
        *per_user
            .entry(factor.user_id.as_deref().unwrap())
            .or_default() += 1;
    }
    assert!(per_user.values().all(|n| *n == 1), "a user has two factors");
}

#[test]
fn progress_piped_to_a_file_prints_a_line_at_least_every_ten_seconds() {
    // Every WorkOS answer takes 3 s, and two users are written at a time:
    // the users step runs for tens of seconds, with stretches of seconds
    // in which no user ends.
    let world = World::new(WorldOptions {
        users: 16,
        organizations: 1,
        faults: FaultConfig {
            seed: 7,
            latency_ms: 3000,
            ..FaultConfig::default()
        },
        users_options: json!({ "concurrency": 2 }),
        ..WorldOptions::default()
    });
    // Colour allowed: only the missing terminal keeps it out.
    let mut child = world
        .command(&["run", "plan.yaml", "--yes"])
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ferry starts");
    let stdout = child.stdout.take().unwrap();
    let summary = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    // Each line with when it arrived, as `| cat` or a CI log would get it.
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .map(|line| (std::time::Instant::now(), line))
            .collect::<Vec<_>>()
    });
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    let summary = summary.join().unwrap();
    assert!(status.success(), "{summary}");
    let progress: Vec<std::time::Instant> = lines
        .iter()
        .filter(|(_, line)| line.starts_with("users: "))
        .map(|(at, _)| *at)
        .collect();
    let shown: Vec<&String> = lines.iter().map(|(_, line)| line).collect();
    assert!(
        progress.len() >= 2,
        "a long step shows progress: {shown:#?}"
    );
    for pair in progress.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(
            gap <= std::time::Duration::from_secs(10),
            "{gap:?} without a progress line: {shown:#?}"
        );
    }
    // No terminal, no colour codes and no bar redraws in the file.
    assert!(
        !shown
            .iter()
            .any(|line| line.contains('\u{1b}') || line.contains('\r'))
    );
}

/// A factor whose enrollment answer was lost is the one ferry made: it is
/// journaled created (undo may take it with its user), never adopted.
#[test]
fn a_factor_whose_answer_was_lost_is_journaled_created_not_adopted() {
    use ferry_core::journal::{Action, Journal, Kind};
    let world = World::new(WorldOptions {
        users: 600,
        organizations: 0,
        faults: FaultConfig {
            seed: 3,
            drop_write_rate: 0.3,
            ..FaultConfig::default()
        },
        users_options: json!({ "max_attempts": 20 }),
        ..WorldOptions::default()
    });
    world.run().code(0);
    let journal = Journal::open_to_read(&world.scratch.path().join(".ferry/world.db")).unwrap();
    let adopted = journal
        .records_with(Kind::TotpFactor, Action::Adopted)
        .unwrap();
    assert!(adopted.is_empty(), "{adopted:?}");
    let created = journal
        .records_with(Kind::TotpFactor, Action::Created)
        .unwrap();
    let lost: Vec<&str> = created
        .iter()
        .filter(|(_, r)| {
            r.reason
                == Some(Reason::new(
                    ReasonCode::AnswerLost,
                    "the enrollment's answer was lost or unreadable; WorkOS lists the factor it made",
                ))
        })
        .map(|(id, _)| id.as_str())
        .collect();
    assert!(!lost.is_empty(), "some enrollment's answer was dropped");
    assert_eq!(created.len(), world.dump().auth_factors.len());
}

/// A WorkOS that answers every user create with one user: each person is
/// looked up by their external_id, nobody is mapped to somebody else, and
/// every factor and membership lands on its own person (verify passes).
#[test]
fn one_id_answered_for_every_create_maps_nobody_to_someone_else() {
    use ferry_core::journal::{Action, Journal, Kind};
    let world = World::new(WorldOptions {
        users: 200,
        organizations: 3,
        faults: FaultConfig {
            one_user_answer: true,
            ..FaultConfig::default()
        },
        more_steps: super::full_steps(),
        ..WorldOptions::default()
    });
    world.run().code(0);
    world.assert_migrated_exactly_once();
    let dump = world.dump();
    let external = world.external_ids();
    let with_totp: std::collections::HashSet<&str> = world
        .generated
        .export
        .iter()
        .filter(|row| row.totp_secret.is_some())
        .map(|row| row.id.as_str())
        .collect();
    assert!(!dump.auth_factors.is_empty());
    for factor in &dump.auth_factors {
        let owner = external[factor.user_id.as_deref().unwrap()].as_str();
        assert!(
            with_totp.contains(owner),
            "a factor on {owner}, who has none"
        );
    }
    let journal = Journal::open_to_read(&world.scratch.path().join(".ferry/world.db")).unwrap();
    let looked_up = journal
        .records_with(Kind::User, Action::Created)
        .unwrap()
        .into_iter()
        .filter(|(_, r)| {
            r.reason.as_ref().is_some_and(|reason| {
                reason.code == ReasonCode::AmbiguousCreateAnswer
                    && reason.detail.starts_with("ambiguous_create_answer: ")
            })
        })
        .count();
    assert!(looked_up > 100, "{looked_up} creates were looked up");
}
