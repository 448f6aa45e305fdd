//! `ferry test`: the plan's script tests pass or fail with a diff.

use crate::common::*;

#[test]
fn the_reference_and_example_tests_pass() {
    for plan in [
        "plans/clerk-to-workos.yaml",
        "plans/examples/every-hook.yaml",
    ] {
        let out = Scratch::new()
            .ferry()
            .args(["test"])
            .arg_path(repo().join(plan))
            .run()
            .code(0);
        let out = out.stdout_has("test result: ok.");
        assert!(!out.stdout.contains(" 0 passed"), "{}", out.stdout);
    }
}

#[test]
fn a_wrong_expectation_fails_with_a_diff() {
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        "fn map_user(user, ctx) { #{ email: user.email.to_lower(), first_name: \"Ada\" } }\n",
    );
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1
name: t
source: { clerk: { secret_key: k } }
script: s.rhai
steps: [assess]
tests:
  - name: lower-cases
    hook: map_user
    input: { id: user_1, email: A@B.C }
    expect: { email: a@b.c }
  - name: wrong on purpose
    hook: map_user
    input: { id: user_2, email: A@B.C }
    expect: { email: A@B.C, first_name: Ada }
",
    );
    let out = scratch.ferry().args(["test"]).arg_path(&plan).run().code(1);
    let text = &out.stdout;
    assert!(text.contains("pass lower-cases"), "{text}");
    assert!(text.contains("FAIL wrong on purpose"), "{text}");
    assert!(text.contains("-  \"email\": \"A@B.C\","), "{text}");
    assert!(text.contains("+  \"email\": \"a@b.c\","), "{text}");
    assert!(text.contains("1 passed, 1 failed"), "{text}");

    let json = scratch
        .ferry()
        .args(["test", "--json"])
        .arg_path(&plan)
        .run()
        .code(1);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["failed"], 1);
    assert_eq!(json["tests"][1]["passed"], false);
    assert!(
        json["tests"][1]["diff"]
            .as_str()
            .unwrap()
            .contains("+  \"email\": \"a@b.c\",")
    );
}

#[test]
fn skip_reject_and_strings_are_checked() {
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        "fn map_user(user, ctx) { if user.id == \"skip\" { return (); } throw \"nope\" }\nfn map_membership(m, ctx) { m.role }\n",
    );
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1
name: t
source: { clerk: { secret_key: k } }
script: s.rhai
steps: [assess]
tests:
  - { name: skipped, hook: map_user, input: { id: skip }, expect: skip }
  - { name: rejected, hook: map_user, input: { id: other }, expect: reject }
  - { name: said skip but rejected, hook: map_user, input: { id: other }, expect: skip }
  - { name: role, hook: map_membership, input: { role: admin }, expect: admin }
  - { name: role mismatch, hook: map_membership, input: { role: admin }, expect: owner }
  - { name: undefined hook, hook: map_organization, input: { id: org_1 }, expect: {} }
",
    );
    let out = scratch.ferry().args(["test"]).arg_path(&plan).run().code(1);
    let text = &out.stdout;
    assert!(text.contains("pass skipped"), "{text}");
    assert!(text.contains("pass rejected"), "{text}");
    assert!(text.contains("FAIL said skip but rejected"), "{text}");
    assert!(text.contains("map_user rejected other: nope"), "{text}");
    assert!(text.contains("pass role "), "{text}");
    assert!(text.contains("FAIL role mismatch"), "{text}");
    assert!(
        text.contains("the script defines no `map_organization(org, ctx)`"),
        "{text}"
    );
    assert!(text.contains("3 passed, 3 failed"), "{text}");
}
