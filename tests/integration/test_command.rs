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

/// `expect_payload` checks what ferry would send once the runtime has
/// applied the hook (built-in fields, the plan's settings, WorkOS's rules);
/// inputs are read as the records a run passes, so the fields the runtime
/// adds are there and a misspelt field fails the test.
#[test]
fn expect_payload_checks_what_ferry_would_send() {
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        r#"fn map_user(user, ctx) {
  if user.username == "contractor" { return skip("contractors stay in Clerk"); }
  if user.id == "user_bad" { return #{ email: "not-an-email" }; }
  #{ first_name: user.first_name ?? "Anon" }
}
fn on_conflict(existing, desired, ctx) { #{ last_name: "Taken over" } }
fn map_organization(org, ctx) { #{ name: org.name + " (EU)" } }
fn map_membership(m, ctx) { if m.role == "org:guest" { return skip("guests stay out"); } m.default_slug }
fn map_role(role, ctx) { role.default_slug + "-role" }
"#,
    );
    let plan = scratch.write(
        "plan.yaml",
        r#"ferry: 1
name: t
source: { clerk: { secret_key: k } }
target: { workos: { api_key: k, client_id: c } }
script: s.rhai
steps:
  - users: { email_verified: always, passwords: skip }
  - organizations
  - roles
  - memberships: { roles: { "org:admin": owner } }
  - verify
tests:
  - name: the payload has the built-in fields and the plan's settings
    hook: map_user
    input: { id: user_1, email: Ada@Example.com, public_metadata: { plan: pro } }
    expect: { first_name: Anon }
    expect_payload: { email: Ada@Example.com, first_name: Anon, email_verified: true, external_id: user_1, metadata: { plan: pro } }
  - name: WorkOS's rules reject what the hook returned
    hook: map_user
    input: { id: user_bad, email: a@b.co }
    expect: { email: not-an-email }
    expect_payload: reject
  - name: a skip with a reason
    hook: map_user
    input: { id: user_2, username: contractor }
    expect_payload: skip
  - name: said a map but skipped
    hook: map_user
    input: { id: user_3, username: contractor }
    expect_payload: {}
  - name: a misspelt field
    hook: map_user
    input: { id: user_4, emial: a@b.co }
    expect: {}
  - name: on_conflict's changes are applied to the desired payload
    hook: on_conflict
    input:
      existing: { id: user_01, email: a@b.co }
      desired: { email: a@b.co, external_id: user_9 }
    expect_payload: { email: a@b.co, external_id: user_9, last_name: Taken over }
  - name: the organization payload keeps Clerk's slug
    hook: map_organization
    input: { id: org_1, name: Acme, slug: acme }
    expect_payload: { name: Acme (EU), external_id: org_1, metadata: { clerk_slug: acme } }
  - name: default_slug comes from the plan's role map, through map_role
    hook: map_membership
    input: { id: orgmem_1, role: "org:admin" }
    expect: owner-role
    expect_payload: owner-role
  - name: a membership skipped with a reason
    hook: map_membership
    input: { id: orgmem_2, role: "org:guest" }
    expect: owner
  - name: map_role sees the plan's slug
    hook: map_role
    input: { key: "org:member" }
    expect_payload: member-role
"#,
    );
    let out = scratch.ferry().args(["test"]).arg_path(&plan).run().code(1);
    let text = &out.stdout;
    for passed in [
        "the payload has the built-in fields",
        "WorkOS's rules reject",
        "a skip with a reason",
        "on_conflict's changes are applied",
        "the organization payload keeps",
        "default_slug comes from the plan's role map",
        "map_role sees the plan's slug",
    ] {
        assert!(
            text.contains(&format!("pass {passed}")),
            "{passed}:\n{text}"
        );
    }
    assert!(text.contains("FAIL said a map but skipped"), "{text}");
    assert!(
        text.contains("expect_payload: expected a map, the record is skipped: map_user skipped it: contractors stay in Clerk"),
        "{text}"
    );
    assert!(text.contains("FAIL a misspelt field"), "{text}");
    assert!(
        text.contains("the test's input is not a user: unknown field `emial`"),
        "{text}"
    );
    assert!(
        text.contains("expected `\"owner\"`, the hook skipped: guests stay out"),
        "{text}"
    );
    assert!(text.contains("7 passed, 3 failed"), "{text}");
}

#[test]
fn a_test_needs_an_expectation() {
    let scratch = Scratch::new();
    scratch.write("s.rhai", "fn map_user(user, ctx) { #{} }\n");
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1\nname: t\nsource: { clerk: { secret_key: k } }\nscript: s.rhai\nsteps: [assess]\ntests:\n  - { name: nothing, hook: map_user, input: { id: u } }\n",
    );
    scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1)
        .stdout_has("test `nothing` has no `expect:` nor `expect_payload:`");
}

/// A hook's `ctx.options` are the step's settings in force: what the plan
/// leaves out comes with its default, and the memberships step sees the
/// plan's role map.
#[test]
fn hooks_see_the_settings_in_force() {
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        "fn map_user(user, ctx) {\n  let o = ctx.options;\n  #{ first_name: `${o.passwords} ${o.on_conflict} ${o.metadata} ${o.over_limit}` }\n}\n\
         fn map_membership(m, ctx) { ctx.options.roles[m.role] }\n",
    );
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1
name: t
source: { clerk: { secret_key: k } }
target: { workos: { api_key: k, client_id: c } }
script: s.rhai
steps:
  - users: { totp: skip }
  - organizations
  - roles
  - memberships: { roles: { \"org:admin\": owner } }
tests:
  - name: defaults
    hook: map_user
    input: { id: user_1, email: a@b.co }
    expect: { first_name: \"import update [\\\"public\\\"] truncate\" }
  - name: role map
    hook: map_membership
    input: { id: mem_1, role: \"org:admin\" }
    expect: owner
",
    );
    scratch
        .ferry()
        .args(["test"])
        .arg_path(&plan)
        .run()
        .code(0)
        .stdout_has("2 passed, 0 failed");
}
