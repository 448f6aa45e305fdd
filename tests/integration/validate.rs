//! `ferry validate`: every problem at once, each with file:line:col and a hint.

use crate::common::plan::{PlanFile, Step};
use crate::common::*;

const GOOD_SCRIPT: &str = "fn map_user(user, ctx) { #{} }\n";

#[test]
fn the_reference_plan_is_valid_without_its_secrets_set() {
    let out = Scratch::new()
        .ferry()
        .args(["validate"])
        .arg_path(repo().join("plans/clerk-to-workos.yaml"))
        .run()
        .code(0);
    let out = out.stdout_has("valid (5 warnings)");
    let out = out.stdout_has("environment variable `CLERK_SECRET_KEY` is not set");
    let out = out.stdout_has("`passwords: import` (the default) with no export");
    out.stdout_has("environment variable `FERRY_ENV` is not set");
}

#[test]
fn an_environment_name_never_becomes_more_than_a_file_name() {
    for hostile in ["../../elsewhere/prod", "/etc/x", ".hidden", "a b"] {
        let out = Scratch::new()
            .ferry()
            .env("FERRY_ENV", hostile)
            .args(["validate"])
            .arg_path(repo().join("plans/clerk-to-workos.yaml"))
            .run()
            .code(1);
        let out = out.stdout_has("clerk-to-workos.yaml:");
        out.stdout_has("environment variable `FERRY_ENV` cannot be part of the `state:` path");
    }
}

#[test]
fn the_examples_are_valid() {
    for plan in ["plans/examples/b2c.yaml", "plans/examples/every-hook.yaml"] {
        Scratch::new()
            .ferry()
            .args(["validate"])
            .arg_path(repo().join(plan))
            .run()
            .code(0);
    }
}

#[test]
fn three_mistakes_in_three_places_are_all_reported_with_positions() {
    let scratch = Scratch::new();
    scratch.write("s.rhai", GOOD_SCRIPT);
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1
name: three
source:
  clerk:
    secret_kye: sk_test_1
target:
  workos: { api_key: k, client_id: c }
script: s.rhai
steps:
  - users: { passwords: impot }
  - organisations
  - verify
",
    );
    scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1)
        .stdout_is("validate/three-mistakes.txt");
}

#[test]
fn version_script_and_type_problems_are_reported_together() {
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        "fn map_user(user) { user }\nfn map_membership(m, ctx) { m.role }\n",
    );
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 2
name: mixed
revision: three
source: { clerk: { secret_key: sk_test_1 } }
target: { workos: { api_key: k, client_id: c } }
script: s.rhai
steps:
  - users
  - organizations
  - memberships:
      roles: { \"org:admin\": [admin, owner] }
",
    );
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    let text = &out.stdout;
    assert!(
        text.contains("plan.yaml:1:8: unknown plan version 2"),
        "{text}"
    );
    assert!(
        text.contains("plan.yaml:3:11: `revision`: expected a whole number"),
        "{text}"
    );
    assert!(
        text.contains("plan.yaml:11:29: `memberships.roles.org:admin`: wrong type: sequence, expected a string"),
        "{text}"
    );
    assert!(
        text.contains("s.rhai:1:1: hook `map_user` takes 2 parameters, this one takes 1"),
        "{text}"
    );
    assert!(
        text.contains("warning: ") && text.contains("no `verify` step"),
        "{text}"
    );
}

#[test]
fn a_script_syntax_error_names_its_line() {
    let scratch = Scratch::new();
    scratch.write("s.rhai", "fn map_user(user, ctx) {\n  let x = ;\n}\n");
    let plan = scratch.write("plan.yaml", &minimal_plan("s.rhai"));
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    out.stdout_has("s.rhai:2:11: script syntax error");
}

#[test]
fn an_undefined_variable_in_a_hook_is_an_error() {
    let scratch = Scratch::new();
    scratch.write(
        "s.rhai",
        "const KNOWN = 1;\nfn map_user(user, ctx) {\n  #{ email: KNOWN + unknown }\n}\n",
    );
    let plan = scratch.write("plan.yaml", &minimal_plan("s.rhai"));
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    assert!(
        out.stdout
            .contains("s.rhai:3:21: script syntax error: Undefined variable: unknown"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_missing_script_file_points_at_the_script_key() {
    let scratch = Scratch::new();
    let text = minimal_plan("missing.rhai");
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("script: "))
        .expect("the plan names a script");
    let plan = scratch.write("plan.yaml", &text);
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    let out = out.stdout_has(&format!("plan.yaml:{line}:9: script"));
    out.stdout_has("missing.rhai does not exist");
}

#[test]
fn plain_http_to_another_machine_is_refused_but_loopback_is_fine() {
    let scratch = Scratch::new();
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1\nname: urls\nsource: { clerk: { secret_key: k, api_url: \"http://clerk.example.com/v1\" } }\ntarget: { workos: { api_key: k, api_url: \"http://127.0.0.1:8080\" } }\nsteps: [users, verify]\n",
    );
    let out = scratch
        .ferry()
        .args(["validate"])
        .arg_path(&plan)
        .run()
        .code(1);
    assert!(
        out.stdout.contains(
            "plan.yaml:3:44: `http://clerk.example.com/v1` is plain http to another machine"
        ),
        "{}",
        out.stdout
    );
    out.stdout_has("invalid: 1 error");
}

#[test]
fn json_output_lists_each_diagnostic() {
    let scratch = Scratch::new();
    let plan = scratch.write(
        "plan.yaml",
        "ferry: 1\nname: j\nsource: { clerk: { secret_key: k } }\nsteps: [assess]\nbogus: 1\n",
    );
    let out = scratch
        .ferry()
        .args(["validate", "--json"])
        .arg_path(&plan)
        .run()
        .code(1);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(json["valid"], false);
    assert_eq!(json["errors"], 1);
    let first = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .unwrap();
    assert_eq!(first["line"], 5);
    assert_eq!(first["column"], 1);
    assert_eq!(first["message"], "unknown key `bogus`");
}

#[test]
fn a_missing_plan_file_is_a_usage_error() {
    let out = Scratch::new()
        .ferry()
        .args(["validate", "nope.yaml"])
        .run()
        .code(2);
    out.stderr_has("cannot read plan nope.yaml");
}

pub fn minimal_plan(script: &str) -> String {
    PlanFile::new("minimal")
        .clerk("secret_key", "sk_test_1")
        .script(script)
        .step(Step::bare("assess"))
        .to_yaml()
}

#[test]
fn secrets_from_the_environment_silence_the_warnings() {
    let out = Scratch::new()
        .ferry()
        .env("CLERK_SECRET_KEY", "sk_test_from_env")
        .env("WORKOS_API_KEY", "sk_test_workos")
        .env("WORKOS_CLIENT_ID", "client_1")
        .env("FERRY_ENV", "staging")
        .args(["validate"])
        .arg_path(repo().join("plans/clerk-to-workos.yaml"))
        .run()
        .code(0);
    // What remains is the plan's own choice: its export is commented out.
    assert!(
        out.stdout
            .ends_with("clerk-to-workos.yaml: valid (1 warning)\n"),
        "{}",
        out.stdout
    );
    let out = out.stdout_has("with no export: no password can be carried");
    out.output_lacks("sk_test_from_env");
}

#[test]
fn importing_passwords_without_an_export_is_a_warning_that_points_at_the_step() {
    let scratch = Scratch::new();
    let plan = "ferry: 1\nname: t\nsource: { clerk: { secret_key: sk_test_x } }\n\
                target: { workos: { api_key: sk_test_y, client_id: client_1 } }\n\
                steps:\n  - users: { on_conflict: update }\n  - verify\n";
    scratch.write("plan.yaml", plan);
    let out = scratch
        .ferry()
        .args(["validate", "plan.yaml"])
        .run()
        .code(0);
    let out = out.stdout_has("plan.yaml:6:10");
    out.stdout_has("no password can be carried");
    for quiet in [
        plan.replace("{ on_conflict: update }", "{ passwords: skip }"),
        plan.replace("sk_test_x }", "sk_test_x, export_csv: users.csv }"),
    ] {
        scratch.write("plan.yaml", &quiet);
        let out = scratch
            .ferry()
            .args(["validate", "plan.yaml"])
            .run()
            .code(0);
        out.output_lacks("no password can be carried");
    }
}

#[test]
fn a_role_mapped_to_a_number_is_an_error_and_each_role_finding_points_at_its_role() {
    let scratch = Scratch::new();
    scratch.write(
        "plan.yaml",
        "ferry: 1\nname: t\nsource: { clerk: { secret_key: sk_test_x, export_csv: u.csv } }\n\
         target: { workos: { api_key: sk_test_y, client_id: client_1 } }\n\
         steps:\n  - users\n  - organizations\n  - roles\n  - memberships:\n\
         \x20     roles: { \"org:member\": 3, admin: owner, \"org:lead\": \"7\" }\n  - verify\n",
    );
    let out = scratch
        .ferry()
        .args(["validate", "plan.yaml"])
        .run()
        .code(1);
    let out =
        out.stdout_has("plan.yaml:10:30: role `org:member` maps to `3`, which is not a role slug");
    let out = out.stdout_has("plan.yaml:10:33: role `admin` does not start with `org:`");
    // A quoted number is a slug the plan means.
    out.output_lacks("role `org:lead`");
}

#[test]
fn an_api_url_with_credentials_is_refused_without_echoing_them() {
    let scratch = Scratch::new();
    scratch.write(
        "plan.yaml",
        "ferry: 1\nname: t\nsource: { clerk: { secret_key: sk_test_x, export_csv: u.csv } }\n\
         target: { workos: { api_key: sk_test_y, client_id: client_1, \
         api_url: \"https://ops:hunter22@api.workos.com\" } }\nsteps:\n  - users\n  - verify\n",
    );
    let out = scratch
        .ferry()
        .args(["validate", "plan.yaml"])
        .run()
        .code(1);
    let out = out.stdout_has("the URL for api.workos.com holds a user name or password");
    let text = out.stdout.replace("ops:hunter22@api.workos.com\" } }", "");
    assert!(!text.contains("hunter22"), "{text}");
}

#[test]
fn a_huge_value_is_echoed_cut_short_not_whole() {
    let scratch = Scratch::new();
    let huge = "A".repeat(4 * 1024 * 1024);
    scratch.write(
        "plan.yaml",
        &format!(
            "ferry: 1\nname: big\nsource:\n  clerk:\n    export_csv: users.csv\n    api_url: \"{huge}\"\nsteps:\n  - assess\n"
        ),
    );
    scratch.write("users.csv", "id\n");
    let out = scratch
        .ferry()
        .args(["validate", "plan.yaml"])
        .run()
        .code(1);
    let shown = out.stdout.len() + out.stderr.len();
    assert!(shown < 8_000, "{shown} bytes of output for a 4 MiB value");
    let line = format!(
        " 6 |     api_url: \"{}… ({} more characters)",
        "A".repeat(200 - "    api_url: \"".len()),
        huge.len() + "    api_url: \"\"".len() - 200
    );
    assert!(
        out.stdout
            .lines()
            .chain(out.stderr.lines())
            .any(|l| l == line),
        "{}{}",
        out.stdout,
        out.stderr
    );
}
