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
    let out = world.run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
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
        faults: FaultConfig {
            latency_ms: 5,
            ..FaultConfig::default()
        },
        // 1,500 writes at 500 per second: long enough for kills to land mid-run.
        writes_per_10s: 5000,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
        ],
        ..WorldOptions::default()
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
    let out = world.run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
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
        writes_per_10s: 3000,
        ..WorldOptions::default()
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
    let out = world.run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("{partial} unchanged")),
        "{}",
        out.stdout
    );
    world.assert_migrated_exactly_once();
}
