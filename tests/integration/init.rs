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

    // The starter names itself, not the reference plan, and shows where a
    // sandbox's or staging's URL goes.
    let plan = std::fs::read_to_string(scratch.path().join("plans/migration.yaml")).unwrap();
    assert!(!plan.contains("clerk-to-workos"), "{plan}");
    assert!(plan.contains("name: migration "), "{plan}");
    assert!(
        plan.contains("#   ferry validate plans/migration.yaml"),
        "{plan}"
    );
    assert_eq!(plan.matches("# api_url: https://").count(), 2, "{plan}");

    // The example of every hook is installed beside it, and is green too.
    let example = "plans/examples/every-hook.yaml";
    assert!(plan.contains(example), "the starter points at the example");
    scratch.ferry().args(["validate", example]).run().code(0);
    scratch.ferry().args(["test", example]).run().code(0);
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
