//! Killed at random moments and resumed: the same end state, no duplicates.

use std::time::Duration;

use rand::RngExt;

use super::{World, WorldOptions};

#[test]
fn sigkill_at_three_random_moments_then_resume() {
    let world = World::new(WorldOptions {
        users: 2000,
        organizations: 10,
        // Slow enough that a kill lands mid-run: 2,000 writes two at a time.
        ..WorldOptions::paced(2, 5)
    });
    let mut rng = rand::rng();
    for round in 0..3 {
        let mut child = world.spawn_run();
        std::thread::sleep(Duration::from_millis(rng.random_range(300..1500)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let users = world.dump().users.len();
        eprintln!("round {round}: killed with {users} users in WorkOS");
    }
    world.run().code(0);
    world.assert_migrated_exactly_once();
    // A last run finds nothing left to do.
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0);
}
