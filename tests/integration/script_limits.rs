//! The hook sandbox: runaway scripts end with a clear error, never a hang.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::plan::{PlanFile, Step};
use crate::common::*;

const SCRIPT: &str = r#"fn map_user(user, ctx) {
    if user.id == "loop" { loop { } }
    if user.id == "recurse" { return deeper(0); }
    if user.id == "huge" { let s = "x"; loop { s += s; } }
    if user.id == "big-map" { let m = #{}; for i in 0..1000000 { m[`k${i}`] = i; } }
    if user.id == "missing" { return #{ email: user.no_such_field }; }
    if user.id == "wrong-type" { return 42; }
    #{}
}
fn deeper(n) { deeper(n + 1) }
"#;

fn run_one(id: &str) -> Output {
    let scratch = Scratch::new();
    scratch.write("s.rhai", SCRIPT);
    let plan = PlanFile::new("limits")
        .clerk("secret_key", "k")
        .script("s.rhai")
        .step(Step::bare("assess"))
        .test(json!({ "name": id, "hook": "map_user", "input": { "id": id }, "expect": {} }));
    scratch.write_plan("plan.yaml", &plan);
    scratch.ferry().args(["test", "plan.yaml"]).run().code(1)
}

#[test]
fn an_endless_loop_fails_fast_naming_the_hook_and_its_line() {
    let started = Instant::now();
    let out = run_one("loop");
    // The engine's own limits stop it far sooner; this only guards against a hang.
    assert!(started.elapsed() < Duration::from_secs(10));
    out.stdout_has("map_user failed for loop: the hook ran past its operations limit (an endless loop?) (at s.rhai:1:1)");
}

#[test]
fn deep_recursion_is_stopped() {
    let out = run_one("recurse");
    assert!(
        out.stdout
            .contains("map_user failed for recurse: the hook recursed too deeply"),
        "{}",
        out.stdout
    );
}

#[test]
fn huge_strings_and_maps_are_stopped() {
    assert!(
        run_one("huge")
            .stdout
            .contains("Length of string too large")
    );
    let out = run_one("big-map");
    out.stdout_has("map_user failed for big-map");
}

#[test]
fn a_missing_property_is_an_error_with_its_position() {
    let out = run_one("missing");
    assert!(
        out.stdout
            .contains("Property not found: no_such_field (at s.rhai:6:53)"),
        "{}",
        out.stdout
    );
}

#[test]
fn eval_is_not_available() {
    let scratch = Scratch::new();
    scratch.write("s.rhai", "fn map_user(user, ctx) { eval(\"1\") }\n");
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1\nname: e\nsource: { clerk: { secret_key: k } }\nscript: s.rhai\nsteps: [assess]\n",
    );
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    out.stdout_has("s.rhai:1:");
}

#[test]
fn top_level_statements_run_once_at_load() {
    // A top level that fails is reported by validate, before any record.
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        "const LIMIT = 3;\nthrow \"top level ran\";\nfn map_user(user, ctx) { #{} }\n",
    );
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1\nname: e\nsource: { clerk: { secret_key: k } }\nscript: s.rhai\nsteps: [assess]\n",
    );
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    assert!(
        out.stdout
            .contains("s.rhai:2:1: the script's top level failed: top level ran"),
        "{}",
        out.stdout
    );
}

/// A run whose script sleeps for one user and blows a string up for
/// another: those two records fail within the hook's limits, and every
/// other user is written.
#[test]
fn a_run_survives_hooks_that_sleep_or_explode() {
    use crate::users::{World, WorldOptions};
    let world = World::new(WorldOptions {
        users: 60,
        script: Some("s.rhai"),
        ..WorldOptions::default()
    });
    let expected = world.expected();
    let mut ids: Vec<&String> = expected.keys().collect();
    ids.sort();
    let (sleeper, exploder) = (ids[0].clone(), ids[1].clone());
    world.scratch.write(
        "s.rhai",
        &format!(
            "fn map_user(user, ctx) {{\n    if user.id == \"{sleeper}\" {{ sleep(1000000000); }}\n    if user.id == \"{exploder}\" {{ let s = \"a\"; s.pad(1000, 'a'); loop {{ s.replace(\"a\", s); }} }}\n    #{{}}\n}}\n"
        ),
    );
    let started = Instant::now();
    let out = world.run().code(0);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run did not hang"
    );
    let out = out.stdout_has(&format!("{} created", expected.len() - 2));
    out.stdout_has("2 rejected");
    let dump = world.dump();
    assert_eq!(dump.users.len(), expected.len() - 2);
    let failures = world.report("world-run-1-failures.csv");
    assert!(
        failures.contains(&format!("{sleeper},")) && failures.contains("sleep() is not allowed")
    );
    assert!(
        failures.contains(&format!("{exploder},")) && failures.contains("replace() would make")
    );
}
