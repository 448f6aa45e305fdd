//! Mixed faults, kills and interruptions that must end in a verified migration.

use std::time::Duration;

use ferry_sandbox::{FaultConfig, ThrottleBurst};
use rand::RngExt;
use serde_json::json;

use super::soak;
use crate::common::plan::Step;
use crate::users::{World, WorldOptions, full_steps};

#[test]
fn mixed_faults_end_with_verify_passing() {
    let world = World::new(WorldOptions {
        users: soak(1500, 20_000),
        organizations: soak(30, 300),
        faults: FaultConfig {
            seed: 7,
            latency_ms: 20,
            jitter_ms: 400,
            error_rate: 0.05,
            reset_rate: 0.02,
            drop_write_rate: 0.02,
            throttle: vec![
                ThrottleBurst {
                    after_requests: 200,
                    count: 30,
                    retry_after_secs: 1,
                },
                ThrottleBurst {
                    after_requests: 1500,
                    count: 50,
                    retry_after_secs: 2,
                },
            ],
            ..FaultConfig::default()
        },
        users_options: json!({ "max_attempts": 12 }),
        more_steps: full_steps(),
        ..WorldOptions::default()
    });
    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    world.assert_migrated_exactly_once();
    let counts = world.counts();
    let outcome = |suffix: &str| -> u64 {
        counts
            .workos
            .values()
            .flat_map(|o| o.iter())
            .filter(|(k, _)| k.ends_with(suffix))
            .map(|(_, n)| n)
            .sum()
    };
    assert!(outcome("429") >= 30, "the 429 bursts happened: {counts:?}");
    assert!(outcome("dropped") > 0 && outcome("reset") > 0, "{counts:?}");
}

#[test]
fn twenty_sigkills_at_random_moments_lose_and_duplicate_nothing() {
    let world = World::new(WorldOptions {
        users: soak(1500, 20_000),
        organizations: 10,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
        ],
        // 1,500 writes two at a time, 5 ms each: long enough for kills to
        // land mid-run.
        ..WorldOptions::paced(2, 5)
    });
    let mut rng = rand::rng();
    let mut killed_midway = 0;
    for _ in 0..soak(20, 100) {
        let mut child = world.spawn_run();
        std::thread::sleep(Duration::from_millis(rng.random_range(100..900)));
        if child.try_wait().unwrap().is_none() {
            killed_midway += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    assert!(
        killed_midway >= 10,
        "most kills landed while a run was working ({killed_midway})"
    );
    world.run().code(0);
    world.assert_migrated_exactly_once();
    let dump = world.dump();
    let mut pairs = std::collections::HashSet::new();
    for m in &dump.memberships {
        assert!(
            pairs.insert((&m.user_id, &m.organization_id)),
            "a duplicated membership"
        );
    }
    let mut orgs = std::collections::HashSet::new();
    for o in &dump.organizations {
        assert!(
            orgs.insert(o.external_id.clone()),
            "a duplicated organization"
        );
    }
    assert_eq!(
        dump.organizations.len(),
        world.generated.tenant.organizations.len()
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_the_next_run_resumes() {
    let world = World::new(WorldOptions {
        users: 1500,
        organizations: 0,
        ..WorldOptions::paced(2, 5)
    });
    let child = world.spawn_run();
    std::thread::sleep(Duration::from_millis(1200));
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(4), "an interrupted run exits 4");
    let partial = world.dump().users.len();
    assert!(
        partial > 0 && partial < world.expected().len(),
        "interrupted midway ({partial})"
    );

    let out = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    out.stdout_has("interrupted");
    let out = world.run().code(0);
    assert!(
        out.stdout.contains(&format!("{partial} unchanged")),
        "{}",
        out.stdout
    );
    world.assert_migrated_exactly_once();
}

/// The setting: SIGKILLs and Ctrl-Cs through a WorkOS that drops
/// 2% of write answers and resets 1% of connections, then a run to the
/// end, an undo and a rerun: no duplicate, nobody lost, no factor missing
/// or doubled, at every end.
#[test]
fn kills_and_signals_through_dropped_answers_then_undo_and_rerun_lose_nothing() {
    let world = World::new(WorldOptions {
        users: soak(1200, 20_000),
        organizations: soak(12, 200),
        faults: FaultConfig {
            seed: 29,
            latency_ms: 5,
            drop_write_rate: 0.02,
            reset_rate: 0.01,
            ..FaultConfig::default()
        },
        writes_per_10s: 5000,
        users_options: json!({ "max_attempts": 12 }),
        more_steps: full_steps(),
        ..WorldOptions::default()
    });
    let expected = world.expected();
    let owners_wanted: std::collections::BTreeSet<String> = world
        .generated
        .export
        .iter()
        .filter(|row| row.totp_secret.is_some() && expected.contains_key(&row.id))
        .map(|row| row.id.clone())
        .collect();
    assert!(!owners_wanted.is_empty());
    // Every factor on a user whose person has a TOTP secret, one each.
    let factors_hold = |world: &World, when: &str| {
        let dump = world.dump();
        let external = world.external_ids();
        let mut owners = std::collections::BTreeSet::new();
        for factor in &dump.auth_factors {
            let owner = external[factor.user_id.as_deref().unwrap()].clone();
            assert!(
                owners.insert(owner.clone()),
                "{when}: {owner} has two factors"
            );
        }
        assert_eq!(
            owners, owners_wanted,
            "{when}: factors missing or misplaced"
        );
        let mut pairs = std::collections::HashSet::new();
        for m in &dump.memberships {
            assert!(
                pairs.insert((&m.user_id, &m.organization_id)),
                "{when}: a duplicated membership"
            );
        }
    };

    let mut rng = rand::rng();
    for round in 0..soak(10, 40) {
        let mut child = world.spawn_run();
        std::thread::sleep(Duration::from_millis(rng.random_range(100..900)));
        if round % 2 == 0 {
            child.kill().unwrap(); // SIGKILL
        } else {
            // SAFETY: sending a signal to our own child process.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGINT);
            }
        }
        child.wait().unwrap();
    }
    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    world.assert_migrated_exactly_once();
    factors_hold(&world, "after the kills");

    world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run()
        .code(0);
    // What undo leaves (users a killed run made but could not journal
    // as its own are adopted by the next) is each on its kept list.
    let kept = std::fs::read_dir(world.scratch.path().join("reports"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().contains("-undo-run-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the kept list");
    let listed: std::collections::HashSet<&str> = kept
        .lines()
        .filter(|line| line.starts_with("user,"))
        .filter_map(|line| line.split(',').nth(2))
        .collect();
    for user in world.dump().users {
        assert!(
            listed.contains(user.user.id.as_str()),
            "{} is left but not listed",
            user.user.id
        );
    }

    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    world.assert_migrated_exactly_once();
    factors_hold(&world, "after undo and a rerun");
}
