//! Assess before, verify after, the report, and `ferry demo`.

use serde_json::{Value, json};

use super::{World, WorldOptions, full_steps};

fn full_world(users: usize, organizations: usize) -> World {
    World::new(WorldOptions {
        users,
        organizations,
        users_options: json!({ "metadata": { "include": ["public", "private"] } }),
        more_steps: full_steps(),
        ..WorldOptions::default()
    })
}

#[test]
fn assess_reads_the_source_only_and_needs_no_workos_key() {
    let world = full_world(200, 2);
    let out = world
        .ferry()
        .env_remove("WORKOS_API_KEY")
        .env_remove("WORKOS_CLIENT_ID")
        .args(["assess", "plan.yaml", "--json"])
        .run()
        .code(0);
    let assessment: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(assessment["users"], 200);
    // A command that writes still needs the key.
    world
        .ferry()
        .env_remove("WORKOS_API_KEY")
        .args(["run", "plan.yaml", "--yes"])
        .run()
        .code(2)
        .stderr_has("WORKOS_API_KEY");
}

#[test]
fn assess_reports_what_the_generator_planted() {
    let world = full_world(3000, 20);
    let out = world
        .ferry()
        .args(["assess", "plan.yaml", "--json"])
        .run()
        .code(0);
    let a: Value = serde_json::from_str(&out.stdout).unwrap();
    let t = &world.generated.truth;
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    assert_eq!(n(&a["users"]), t.users);
    assert_eq!(n(&a["sign_in"]["both"]), t.password_and_social);
    assert_eq!(
        n(&a["sign_in"]["password"]) + n(&a["sign_in"]["both"]),
        t.password_users
    );
    assert_eq!(
        n(&a["sign_in"]["social"]),
        t.social_only.values().sum::<u64>()
    );
    for provider in a["oauth_providers"].as_array().unwrap() {
        let name = format!("oauth_{}", provider["provider"].as_str().unwrap());
        assert_eq!(
            n(&provider["social_only_users"]),
            t.social_only.get(&name).copied().unwrap_or(0),
            "{name}"
        );
    }
    assert_eq!(n(&a["multi_email"]), t.multi_email);
    assert_eq!(n(&a["unverified_primary"]), t.unverified_primary);
    assert_eq!(n(&a["no_email"]["phone_only"]), t.phone_only);
    assert_eq!(n(&a["no_email"]["username_only"]), t.username_only);
    assert_eq!(
        n(&a["mfa"]["totp_exported"]) + n(&a["mfa"]["totp_not_exported"]),
        t.totp
    );
    assert_eq!(n(&a["mfa"]["totp_not_exported"]), t.totp_not_exported);
    assert_eq!(n(&a["mfa"]["sms"]), t.sms_second_factor);
    assert_eq!(n(&a["mfa"]["backup_codes"]), t.backup_codes);
    for row in a["hashers"].as_array().unwrap() {
        let hasher = row["hasher"].as_str().unwrap();
        assert_eq!(n(&row["users"]), t.hashers[hasher], "{hasher}");
    }
    assert_eq!(n(&a["banned"]), t.banned);
    assert_eq!(n(&a["locked"]), t.locked);
    assert_eq!(n(&a["metadata_over_limits"]), t.metadata_over_limits);
    assert_eq!(n(&a["organizations"]), t.organizations);
    assert_eq!(n(&a["memberships"]), t.memberships);
    for row in a["roles"].as_array().unwrap() {
        // A role Clerk defines and no membership uses is listed with 0.
        assert_eq!(
            n(&row["memberships"]),
            t.roles
                .get(row["role"].as_str().unwrap())
                .copied()
                .unwrap_or(0)
        );
    }
    assert!(
        a["steps_needed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "mfa_report")
    );
    assert!(a["estimate"]["seconds"].as_f64().unwrap() > 0.0);
    // Read-only, and WorkOS was never asked.
    assert_eq!(
        world
            .counts()
            .workos
            .values()
            .flat_map(|o| o.values())
            .sum::<u64>(),
        0
    );
}

#[test]
fn verify_names_the_check_a_tampered_sandbox_breaks() {
    let world = full_world(400, 8);
    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);

    let failing = |expected: &str| {
        let out = world
            .ferry()
            .args(["verify", "plan.yaml", "--json"])
            .run()
            .code(1);
        let json: Value = serde_json::from_str(&out.stdout).unwrap();
        let failed: Vec<&str> = json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert!(
            failed.contains(&expected),
            "expected `{expected}` to fail, failed: {failed:?}"
        );
    };
    let dump = world.dump();
    let http = reqwest::Client::new();
    let key = world.sandbox.keys().workos_api_key.clone();
    let base = world.sandbox.workos_url();
    let send = |request: reqwest::RequestBuilder| {
        world.runtime.block_on(async {
            assert!(
                request
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .is_success()
            )
        })
    };

    // A changed email.
    let victim = &dump.users[3];
    send(
        http.put(format!("{base}/user_management/users/{}", victim.user.id))
            .json(&serde_json::json!({"email": "someone.else@example.test"})),
    );
    failing("users");
    send(
        http.put(format!("{base}/user_management/users/{}", victim.user.id))
            .json(&serde_json::json!({"email": victim.user.email})),
    );
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);

    // A removed membership.
    let membership = &dump.memberships[0];
    send(http.delete(format!(
        "{base}/user_management/organization_memberships/{}",
        membership.id
    )));
    failing("memberships");

    // A duplicated email (WorkOS would refuse it; the sandbox is forced).
    assert!(world.sandbox.force_user_email(
        &dump.users[5].user.id,
        &dump.users[6].user.email.to_uppercase()
    ));
    failing("emails");

    // A deleted user.
    send(http.delete(format!(
        "{base}/user_management/users/{}",
        dump.users[9].user.id
    )));
    failing("users");
}

#[test]
fn every_run_writes_its_report_and_report_renders_it_again() {
    let world = full_world(300, 5);
    world.run().code(0);
    let reports = world.scratch.path().join("reports");
    let html = std::fs::read_to_string(reports.join("world-run-1.html")).unwrap();
    assert!(html.contains("data-check=\"users\"") && html.contains("Verification checklist"));
    // It names the APIs it talked to, as text; it loads nothing from them.
    for load in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(load),
            "the page loads nothing from elsewhere: {load}"
        );
    }
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("world-run-1.json")).unwrap())
            .unwrap();
    assert_eq!(json["verification"]["passed"], true);
    assert_eq!(json["steps"].as_array().unwrap().len(), 6);
    // Each step's requests are its own: every write of the run is one
    // step's, and the users step's are the users, factors and what goes
    // with them, as the sandbox counted them.
    let steps = json["steps"].as_array().unwrap();
    let step_writes: u64 = steps
        .iter()
        .map(|s| s["traffic"]["writes"].as_u64().unwrap())
        .sum();
    let run_writes: u64 = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["traffic"]["writes"].as_u64().unwrap())
        .sum();
    assert_eq!(step_writes, run_writes, "{steps:#?}");
    assert_eq!(run_writes, world.counts().workos_writes);
    let memberships = steps.iter().find(|s| s["name"] == "memberships").unwrap();
    assert_eq!(
        memberships["traffic"]["writes"].as_u64().unwrap(),
        world
            .counts()
            .route_total("POST /user_management/organization_memberships"),
        "{memberships}"
    );
    assert!(html.contains("<th>429s</th>"));
    world
        .ferry()
        .args(["report", "plan.yaml", "--format", "md", "--out", "again.md"])
        .run()
        .code(0)
        .output_lacks("error")
        .file_has("reports/world-run-1.md", "## Verification: PASSED")
        .file_has("again.md", "# Migration report: world (revision 1)");
    world
        .ferry()
        .args(["report", "plan.yaml", "--run", "9"])
        .run()
        .code(2);
}

/// The page as headless Chromium rendered it (`--dump-dom`); `None` on a
/// machine without Chromium (`.ci/run` installs it, so CI always renders).
fn rendered(html: &std::path::Path) -> Option<String> {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI renders the report: .ci/run installs Chromium"
        );
        eprintln!("skipped: no Chromium on this machine (.ci/run installs it)");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_html_report_renders_in_headless_chromium_with_the_checklist_visible() {
    let world = full_world(200, 4);
    world.run().code(0);
    let Some(dom) = rendered(&world.scratch.path().join("reports/world-run-1.html")) else {
        return;
    };
    for check in [
        "users",
        "logins",
        "organizations",
        "memberships",
        "emails",
        "totp",
    ] {
        assert!(
            dom.contains(&format!("data-check=\"{check}\"")),
            "check {check} missing from the rendered page"
        );
    }
    assert!(dom.contains("✓ pass"), "{dom}");
}

/// The numbers in the rendered rows marked `attribute="value"`: each row's
/// last `class="num"` cell.
fn row_numbers(dom: &str, attribute: &str) -> Vec<(String, u64)> {
    let marker = format!("{attribute}=\"");
    dom.split("<tr ")
        .filter_map(|row| {
            let rest = row.strip_prefix(&marker)?;
            let value = rest[..rest.find('"')?].to_owned();
            let row = &row[..row.find("</tr>")?];
            let cell = row.rsplit("class=\"num\">").next()?;
            let number: String = cell.chars().take_while(|c| c.is_ascii_digit()).collect();
            Some((value, number.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_demo_s_report_is_a_sign_off_document() {
    let scratch = crate::common::Scratch::new();
    let out = scratch
        .ferry()
        .args(["demo", "--users", "500", "--orgs", "8", "--dir", "demo"])
        .run()
        .code(0);
    let workos_url = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("WorkOS sandbox"))
        .map(str::trim)
        .expect("the demo names its WorkOS sandbox")
        .to_owned();
    // The memberships' skip list names people by email only: Clerk's
    // identifier may be a username or a phone number.
    let skipped = std::fs::read_to_string(
        scratch
            .path()
            .join("demo/reports/clerk-to-workos-run-1-memberships-skipped.csv"),
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(skipped.as_bytes());
    let emails: Vec<String> = reader
        .records()
        .map(|row| row.unwrap()[1].to_owned())
        .collect();
    assert!(!emails.is_empty());
    assert!(
        emails.iter().all(|e| e.is_empty() || e.contains('@')),
        "{emails:?}"
    );
    let html = scratch
        .path()
        .join("demo/reports/clerk-to-workos-run-1.html");
    let Some(dom) = rendered(&html) else {
        return;
    };
    // The target is named (its URL and environment, never its key).
    let target = dom
        .split("data-endpoint=\"target\"")
        .nth(1)
        .expect("a target row");
    let target = &target[..target.find("</tr>").unwrap()];
    assert!(target.contains(&workos_url), "{target}");
    assert!(
        target.contains("sk_test_ key") && target.contains("client_01"),
        "{target}"
    );
    assert!(!dom.contains("sk_test_sandbox"), "no key in the report");

    // Every Clerk user is in one bucket, and the buckets sum to Clerk's count.
    let buckets = row_numbers(&dom, "data-bucket");
    assert!(
        buckets.iter().any(|(group, _)| group == "migrated"),
        "{buckets:?}"
    );
    assert!(
        buckets.iter().any(|(group, _)| group == "skipped"),
        "{buckets:?}"
    );
    let totals = row_numbers(&dom, "data-total");
    let sum: u64 = buckets.iter().map(|(_, n)| n).sum();
    assert_eq!(
        totals,
        [("journal".into(), 500), ("clerk".into(), 500)],
        "{dom}"
    );
    assert_eq!(sum, 500);
    assert!(dom.contains("reconciles with Clerk"));

    // Per-step numbers: the users step's records and rate.
    let users = dom
        .split("data-step=\"users\"")
        .nth(1)
        .expect("a users row");
    let users = &users[..users.find("</tr>").unwrap()];
    assert!(users.contains(">500<"), "{users}");
    assert_eq!(row_numbers(&dom, "data-endpoint").len(), 2);

    // What to do next, with the lists by absolute path.
    let next = dom.split("id=\"next-steps\"").nth(1).expect("next steps");
    let next = &next[..next.find("</ol>").unwrap()];
    let lists = scratch.path().join("demo/reports");
    let lists = lists.canonicalize().unwrap_or(lists);
    assert!(
        next.contains(&format!(
            "{}/clerk-to-workos-password-resets.csv",
            lists.display()
        )) || next.contains(&format!(
            "{}/clerk-to-workos-password-resets.csv",
            scratch.path().join("demo/reports").display()
        )),
        "{next}"
    );
    assert!(next.contains("ferry sync"), "{next}");
}

#[test]
fn the_demo_runs_the_reference_plan_to_a_passing_verification() {
    let scratch = crate::common::Scratch::new();
    let out = scratch
        .ferry()
        .args(["demo", "--users", "400", "--orgs", "10", "--dir", "demo"])
        .run()
        .code(0);
    // The closing summary, whole: the verification, the lists, the report
    // and how to run the plan again (the steps before it finish in any order).
    let closing = &out.stdout[out.stdout.find("verify: ").expect("verify ran")..];
    crate::common::golden(
        "demo/closing-summary.txt",
        &crate::common::scrub(closing, scratch.path()),
    );
    assert!(
        scratch
            .path()
            .join("demo/reports/clerk-to-workos-run-1.html")
            .is_file()
    );
    // The demo's export holds digests and TOTP secrets.
    for written in [
        "demo",
        "demo/exports",
        "demo/exports/clerk-users.csv",
        "demo/plans/clerk-to-workos.yaml",
    ] {
        crate::common::assert_private(&scratch.path().join(written));
    }
    // A second demo clears its own folder and passes again; another folder is never touched.
    scratch
        .ferry()
        .args(["demo", "--users", "100", "--orgs", "2", "--dir", "demo"])
        .run()
        .code(0);
    scratch.write("precious/data.txt", "keep me");
    scratch
        .ferry()
        .args(["demo", "--dir", "precious"])
        .run()
        .code(2);
    assert!(scratch.path().join("precious/data.txt").is_file());
}

#[test]
fn the_plan_the_demo_writes_runs_again_as_the_demo_ran() {
    let scratch = crate::common::Scratch::new();
    let out = scratch
        .ferry()
        .args(["demo", "--users", "300", "--orgs", "6", "--dir", "demo"])
        .run()
        .code(0);
    let demo = scratch.path().join("demo");
    let report = |dir: &std::path::Path| -> Value {
        let text = std::fs::read_to_string(dir.join("reports/clerk-to-workos-run-1.json"));
        serde_json::from_str(&text.unwrap()).unwrap()
    };
    let first = report(&demo);
    crate::common::assert_private(&demo.join("sandbox.env"));
    let env = std::fs::read_to_string(demo.join("sandbox.env")).unwrap();
    let plan = std::fs::read_to_string(demo.join("plans/clerk-to-workos.yaml")).unwrap();
    assert!(
        plan.contains("password: \"${FERRY_DEMO_CANARY_1}\""),
        "{plan}"
    );

    // The sandbox the demo names, started again as it says, serves the same tenant.
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("ferry sandbox "))
        .expect("the demo says how to start its sandbox again");
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let _sandbox = crate::sandbox::cli::start_with(scratch.path(), &args);

    // The written plan, with what sandbox.env holds and a fresh journal.
    let mut run = scratch
        .ferry()
        .args(["run", "demo/plans/clerk-to-workos.yaml", "--yes"]);
    for line in env.lines().filter(|l| !l.starts_with('#')) {
        let (key, value) = line.split_once('=').unwrap();
        run = run.env(key, value.trim_matches('\''));
    }
    run.env("FERRY_ENV", "again").run().code(0);
    let again = report(&demo);
    assert_eq!(again["steps"].as_array().unwrap().len(), 9);
    for (a, b) in first["steps"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["steps"].as_array().unwrap())
    {
        assert_eq!(a["name"], b["name"]);
        assert_eq!(a["counts"], b["counts"], "{}", a["name"]);
    }
    let checks = |report: &Value| -> Vec<(Value, Value)> {
        report["verification"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].clone(), c["status"].clone()))
            .collect()
    };
    assert_eq!(checks(&first), checks(&again));
    assert!(env.lines().any(|l| l.starts_with("FERRY_DEMO_CANARY_1=")));
    assert!(
        checks(&again).iter().all(|(_, status)| status == "pass"),
        "{:?}",
        checks(&again)
    );
}
