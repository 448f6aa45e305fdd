//! `target.workos.webhooks: pause` against the sandbox: the enabled
//! endpoints are disabled while a run writes and enabled again when it
//! ends, also when the run was killed and the next command finds the
//! journal's record; an endpoint that was disabled before stays disabled.

use serde_json::{Value, json};

use super::{World, WorldOptions};

fn world(writes_per_10s: u32) -> World {
    let mut world = World::new(WorldOptions {
        users: 60,
        organizations: 2,
        writes_per_10s,
        ..WorldOptions::default()
    });
    world.plan = world.plan.clone().workos("webhooks", "pause");
    world.write_plan();
    world
}

/// `METHOD /webhook_endpoints…` with the sandbox's key: the answer's body.
fn call(world: &World, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    world.workos_json(method, path, body).1
}

/// Two endpoints: the app's (enabled) and an old one someone disabled.
fn endpoints(world: &World) -> (String, String) {
    let make = |url: &str| {
        call(
            world,
            reqwest::Method::POST,
            "/webhook_endpoints",
            Some(json!({ "endpoint_url": url, "events": ["user.created"] })),
        )["id"]
            .as_str()
            .expect("an endpoint id")
            .to_owned()
    };
    let app = make("https://app.example.com/hooks");
    let old = make("https://old.example.com/hooks");
    let disabled = call(
        world,
        reqwest::Method::PATCH,
        &format!("/webhook_endpoints/{old}"),
        Some(json!({ "status": "disabled" })),
    );
    assert_eq!(disabled["status"], "disabled");
    (app, old)
}

fn status(world: &World, id: &str) -> String {
    let list = call(world, reqwest::Method::GET, "/webhook_endpoints", None);
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .and_then(|e| e["status"].as_str())
        .unwrap_or("missing")
        .to_owned()
}

#[test]
fn a_run_pauses_the_enabled_endpoints_and_enables_exactly_those_again() {
    let world = world(100_000);
    let (app, old) = endpoints(&world);
    let out = world.run().code(0);
    assert!(
        out.stdout
            .contains("webhooks: 1 enabled endpoint(s), paused"),
        "{}",
        out.stdout
    );
    assert_eq!(status(&world, &app), "enabled");
    assert_eq!(status(&world, &old), "disabled");
    // Disabled during the run: the sandbox saw both changes to the app's endpoint.
    let counts = world.counts();
    assert_eq!(
        counts.route_total("PATCH /webhook_endpoints/{id}"),
        1 + 2,
        "{counts:#?}"
    );
}

#[test]
fn after_a_killed_run_the_next_command_enables_them_again() {
    // Slow writes, so the run is killed mid-users.
    let world = world(20);
    let (app, old) = endpoints(&world);
    let mut child = world.spawn_run();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while world.counts().count("POST /user_management/users", "201") < 3 {
        assert!(std::time::Instant::now() < deadline, "the run never wrote");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        status(&world, &app),
        "disabled",
        "paused while the run writes"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        status(&world, &app),
        "disabled",
        "a killed run cannot undo its pause"
    );

    let verify = world.ferry().args(["verify", "plan.yaml"]).run();
    assert!(verify.code <= 1, "{}{}", verify.stdout, verify.stderr);
    assert_eq!(
        status(&world, &app),
        "enabled",
        "the next command enabled it"
    );
    assert_eq!(status(&world, &old), "disabled", "and only it");
}

#[test]
fn a_rerun_that_writes_nothing_pauses_nothing() {
    let world = world(100_000);
    let (app, _) = endpoints(&world);
    world.run().code(0);
    world.sandbox.reset_request_counts();
    world.run().code(0);
    let counts = world.counts();
    assert_eq!(counts.workos_writes, 0, "{counts:#?}");
    assert_eq!(
        counts.route_total("PATCH /webhook_endpoints/{id}"),
        0,
        "{counts:#?}"
    );
    assert_eq!(status(&world, &app), "enabled");
}
