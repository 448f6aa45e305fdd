//! `ferry init`: a starter that validates and tests green, and never clobbers.

use crate::common::*;

#[test]
fn init_writes_a_plan_that_validates_and_tests() {
    let scratch = Scratch::new();
    let out = scratch.ferry().args(["init"]).run().code(0);
    assert!(
        out.stdout.contains("wrote ./plans/migration.yaml"),
        "{}",
        out.stdout
    );
    assert!(scratch.path().join("scripts/migration.rhai").is_file());

    let out = scratch
        .ferry()
        .args(["validate", "plans/migration.yaml"])
        .run()
        .code(0);
    assert!(out.stdout.contains("valid"), "{}", out.stdout);
    let out = scratch
        .ferry()
        .args(["test", "plans/migration.yaml"])
        .run()
        .code(0);
    assert!(out.stdout.contains("3 passed, 0 failed"), "{}", out.stdout);
}

#[test]
fn init_into_a_folder_refuses_to_overwrite_without_force() {
    let scratch = Scratch::new();
    scratch.ferry().args(["init", "team"]).run().code(0);
    let edited = scratch.write("team/plans/migration.yaml", "# edited\n");

    let out = scratch.ferry().args(["init", "team"]).run().code(2);
    assert!(out.stderr.contains("already exist"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "# edited\n");

    scratch
        .ferry()
        .args(["init", "team", "--force"])
        .run()
        .code(0);
    scratch
        .ferry()
        .args(["validate", "team/plans/migration.yaml"])
        .run()
        .code(0);
}
