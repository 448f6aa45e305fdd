//! A migration through a misbehaving WorkOS: errors, dropped answers and
//! latency end with every user there exactly once.

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
    let out = world.run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
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
