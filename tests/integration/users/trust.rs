//! The target is the truth: a journal bound to the environment it was made
//! against, dead runs recognised as such, and a run that stops instead of
//! failing every record when the target cannot be reached or refuses the key.

use std::time::{Duration, Instant};

use ferry_sandbox::{RateLimits, Sandbox, SandboxKeys, SandboxOptions};
use serde_json::json;

use super::{World, WorldOptions};

#[test]
fn a_journal_refuses_another_target() {
    let world = World::new(WorldOptions {
        users: 40,
        ..WorldOptions::default()
    });
    world.run().code(0);

    // Another WorkOS environment: another URL and another key, same state.
    let other = Sandbox::start_blocking(
        SandboxOptions {
            keys: SandboxKeys {
                workos_api_key: "sk_test_sandbox_other_environment_0000".into(),
                ..SandboxKeys::default()
            },
            ..SandboxOptions::default()
        }
        .with_tenant(world.generated.tenant.clone())
        .with_limits(RateLimits::disabled()),
    )
    .unwrap();
    let mut world = world;
    world.plan = world.plan.clone().workos("api_url", other.workos_url());
    world.write_plan();
    let other_key = other.keys().workos_api_key.clone();
    for command in [
        vec!["plan", "plan.yaml"],
        vec!["run", "plan.yaml", "--yes"],
        vec!["verify", "plan.yaml"],
    ] {
        let out = world
            .ferry()
            .env("WORKOS_API_KEY", &other_key)
            .args(&command)
            .run()
            .code(2);
        let out = out.stderr_has("was made against another target");
        let out = out.stderr_has(&world.sandbox.workos_url());
        let out = out.stderr_has(&other.workos_url());
        let out = out.stderr_has("give each its own `state:`");
        out.output_lacks(&other_key);
    }
    assert_eq!(other.request_counts().workos_writes, 0);
    assert!(other.workos_state().users.is_empty());
}

#[test]
fn a_killed_run_is_recognised_as_interrupted_and_the_next_run_proceeds() {
    let world = World::new(WorldOptions {
        users: 600,
        // Slow enough that the kill lands mid-run.
        ..WorldOptions::paced(1, 10)
    });
    let mut child = world.spawn_run();
    // Kill it once it has written some users, whatever the machine's load.
    let deadline = Instant::now() + Duration::from_secs(30);
    while world.counts().workos_writes < 50 {
        assert!(Instant::now() < deadline, "the run never wrote");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let status = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    let status = status.stdout_has("interrupted");
    assert!(!status.stdout.contains("running"), "{}", status.stdout);
    world.run().code(0);
    world.assert_migrated_exactly_once();
}

#[test]
fn an_unreachable_target_stops_the_run_within_seconds_and_fails_no_record() {
    let mut world = World::new(WorldOptions {
        users: 60,
        ..WorldOptions::default()
    });
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    world.plan = world.plan.clone().workos("api_url", url);
    world.write_plan();
    let started = Instant::now();
    let out = world.run().code(4);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    out.stderr_has("WorkOS cannot be reached");
    let status = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    assert!(!status.stdout.contains("failed"), "{}", status.stdout);
    assert!(!world.report("world-run-1.json").is_empty(), "its report");
}

#[test]
fn a_refused_key_is_found_by_the_preflight_before_any_write() {
    let world = World::new(WorldOptions {
        users: 60,
        users_options: json!({ "max_attempts": 3 }),
        ..WorldOptions::default()
    });
    let out = world
        .ferry()
        .env("WORKOS_API_KEY", "sk_test_wrong_key_000000000000")
        .args(["run", "plan.yaml", "--yes"])
        .run()
        .code(2);
    let out = out.stderr_has("preflight failed, nothing was written");
    out.stderr_has("WorkOS refused the key (HTTP 401)");
    let status = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    assert!(!status.stdout.contains("failed"), "{}", status.stdout);
    assert!(world.dump().users.is_empty());
}

#[test]
fn the_preflight_refuses_limits_above_the_documented_ones() {
    let scratch = crate::common::Scratch::new();
    scratch.write(
        "users.csv",
        "id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,password_hasher\nuser_1,Ada,L,,a@example.com,,a@example.com,,,,,,\n",
    );
    let plan = crate::common::plan::PlanFile::new("limits")
        .clerk("export_csv", "users.csv")
        .workos("api_key", "unused")
        .workos("api_url", "https://workos.invalid")
        .workos("limits", json!({ "writes_per_10s": 5000 }))
        .step(crate::common::plan::Step::bare("assess"));
    scratch.write_plan("plan.yaml", &plan);
    let out = scratch.ferry().args(["assess", "plan.yaml"]).run().code(2);
    let out = out.stderr_has("preflight failed, nothing was written");
    out.stderr_has("writes_per_10s 5000 is above WorkOS's documented 500");
}

/// One user left Clerk after the export was taken (only the export has
/// them); another signed up after it (only Clerk has them).
fn export_out_of_date(generated: &mut ferry_sandbox::GeneratedTenant) {
    let migratable =
        |u: &ferry_wire::clerk::model::User| !u.banned && !u.locked && u.primary_email().is_some();
    let gone = generated
        .tenant
        .users
        .iter()
        .position(migratable)
        .expect("a user");
    let gone = generated.tenant.users.remove(gone).id;
    generated.tenant.memberships.retain(|m| {
        m.public_user_data
            .as_ref()
            .is_none_or(|p| p.user_id != gone)
    });
    let newcomer = generated
        .tenant
        .users
        .iter()
        .rev()
        .find(|u| migratable(u))
        .expect("another user")
        .id
        .clone();
    generated.export.retain(|row| row.id != newcomer);
}

#[test]
fn verify_counts_users_deleted_since_the_export_and_users_who_signed_up_after_it() {
    let world = World::new(WorldOptions {
        users: 80,
        organizations: 3,
        more_steps: vec![crate::common::plan::Step::with(
            "verify",
            json!({ "sample": "all" }),
        )],
        tweak: export_out_of_date,
        ..WorldOptions::default()
    });
    let out = world.run().code(0);
    out.stdout_has("verify: passed");
}
