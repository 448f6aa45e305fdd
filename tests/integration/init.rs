//! `ferry init`: a starter that validates and tests green, and never clobbers.

use crate::common::*;

#[test]
fn init_writes_a_plan_that_validates_and_tests() {
    let scratch = Scratch::new();
    let out = scratch.ferry().args(["init"]).run().code(0);
    out.stdout_has("wrote ./plans/migration.yaml");
    assert!(scratch.path().join("scripts/migration.rhai").is_file());

    let out = scratch
        .ferry()
        .args(["validate", "plans/migration.yaml"])
        .run()
        .code(0);
    out.stdout_has("valid");
    let out = scratch
        .ferry()
        .args(["test", "plans/migration.yaml"])
        .run()
        .code(0);
    out.stdout_has("3 passed, 0 failed");
}

#[test]
fn init_into_a_folder_refuses_to_overwrite_without_force() {
    let scratch = Scratch::new();
    scratch.ferry().args(["init", "team"]).run().code(0);
    let edited = scratch.write("team/plans/migration.yaml", "# edited\n");

    let out = scratch.ferry().args(["init", "team"]).run().code(2);
    out.stderr_has("already exist");
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
