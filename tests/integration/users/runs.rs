//! Runs as a team repeats them: reruns that cost nothing, previews, the
//! journal's answers, and the guards around `ferry run`.

use super::{World, WorldOptions};

#[test]
fn a_second_run_after_success_makes_no_write_requests() {
    let world = World::new(WorldOptions::default());
    world.run().code(0);
    let before = world.dump();
    world.sandbox.reset_request_counts();

    let out = world.run().code(0);
    out.stdout_has(" 0 created");
    let counts = world.counts();
    assert_eq!(counts.workos_writes, 0, "{counts:?}");
    // Only the preflight's reads (issue 12): one authenticated read and the
    // webhook endpoints (issue 16); no request per user.
    assert_eq!(
        counts.workos.values().flat_map(|o| o.values()).sum::<u64>(),
        2,
        "no WorkOS reads but the preflight's: {counts:?}"
    );
    assert_eq!(counts.count("GET /user_management/users", "200"), 1);
    assert_eq!(counts.count("GET /webhook_endpoints", "200"), 1);
    assert_eq!(world.dump(), before);
}

#[test]
fn without_a_terminal_run_asks_for_yes_and_writes_nothing() {
    let world = World::new(WorldOptions::default());
    let out = world.ferry().args(["run", "plan.yaml"]).run().code(2);
    out.stderr_has("ferry run plan.yaml --yes");
    assert_eq!(world.counts().workos_writes, 0);
    assert!(world.dump().users.is_empty());
}

#[test]
fn plan_previews_without_writing_and_offline_asks_nothing() {
    let world = World::new(WorldOptions::default());
    let out = world
        .ferry()
        .args(["plan", "plan.yaml", "--out", "plan.json"])
        .run()
        .code(0);
    let expected = world.expected().len();
    assert!(
        out.stdout.contains(&format!("  create     {expected}")),
        "{}",
        out.stdout
    );
    out.stdout_has("no email address (phone-only user)");
    assert_eq!(world.counts().workos_writes, 0);
    crate::common::assert_private(&world.scratch.path().join("plan.json"));
    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(world.scratch.path().join("plan.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["summary"]["create"], expected as u64);
    assert_eq!(
        saved["users"].as_array().unwrap().len(),
        world.generated.tenant.users.len()
    );

    world.run().code(0);
    world.sandbox.reset_request_counts();
    let out = world
        .ferry()
        .args(["plan", "plan.yaml", "--offline"])
        .run()
        .code(0);
    assert!(
        out.stdout.contains(&format!("  unchanged  {expected}")),
        "{}",
        out.stdout
    );
    assert_eq!(world.counts().total, 0, "offline asked a server");
}

/// What a team reads before and after a run, whole: `ferry plan`, then
/// `ferry status` and `ferry verify` once the run is done.
#[test]
fn plan_status_and_verify_print_whole_outputs() {
    let world = World::new(WorldOptions::default());
    world
        .ferry()
        .args(["plan", "plan.yaml"])
        .run()
        .code(0)
        .stdout_is("plan/world.txt");
    world.run().code(0);
    world
        .ferry()
        .args(["status", "plan.yaml"])
        .run()
        .code(0)
        .stdout_is("status/world.txt");
    world
        .ferry()
        .args(["verify", "plan.yaml"])
        .run()
        .code(0)
        .stdout_is("verify/world.txt");
}

#[test]
fn status_and_export_ids_read_the_journal() {
    let world = World::new(WorldOptions::default());
    world.ferry().args(["status", "plan.yaml"]).run().code(2);
    world.run().code(0);
    let out = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    let out = out.stdout_has("run   1");
    assert!(
        out.stdout
            .contains(&format!("user: {} created", world.expected().len())),
        "{}",
        out.stdout
    );

    world
        .ferry()
        .args(["export-ids", "plan.yaml", "--out", "ids.csv"])
        .run()
        .code(0);
    crate::common::assert_private(&world.scratch.path().join("ids.csv"));
    let ids = std::fs::read_to_string(world.scratch.path().join("ids.csv")).unwrap();
    // `--out -` is the same map on stdout, not a file named "-".
    let piped = world
        .ferry()
        .args(["export-ids", "plan.yaml", "--out", "-"])
        .run()
        .code(0);
    assert_eq!(piped.stdout, ids);
    assert!(!world.scratch.path().join("-").exists());
    let dump = world.dump();
    assert_eq!(ids.lines().count(), dump.users.len() + 1);
    for user in &dump.users {
        let line = format!(
            "user,{},{}",
            user.user.external_id.as_deref().unwrap(),
            user.user.id
        );
        assert!(ids.contains(&line), "{line}");
    }
}

#[test]
fn a_changed_plan_does_not_resume_an_interrupted_run_without_consent() {
    let world = World::new(WorldOptions::default());
    // A run that never finished, after it had recorded something: the journal says so.
    world.journal_record(
        "an older plan",
        ferry_core::journal::Kind::User,
        "user_not_in_clerk",
        ferry_core::journal::Action::Skipped,
        false,
    );
    let out = world.run().code(2);
    assert!(
        out.stderr
            .contains("run 1 did not finish, and since then the plan file changed"),
        "{}",
        out.stderr
    );
    assert!(world.dump().users.is_empty());
    world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--allow-changed-plan"])
        .run()
        .code(0);
    world.assert_migrated_exactly_once();
}

#[test]
fn a_second_run_on_the_same_journal_is_refused_while_one_runs() {
    let world = World::new(WorldOptions::default());
    let state = world.scratch.path().join(".ferry/world.db");
    let _running = ferry_core::journal::Journal::open_for_run(&state).unwrap();
    let out = world.run().code(2);
    out.stderr_has("another ferry run is using");
}

#[test]
fn bad_export_rows_are_listed_and_never_cost_a_good_user() {
    let world = World::new(WorldOptions::default());
    let csv_path = world.scratch.path().join("users.csv");
    let mut csv = std::fs::read_to_string(&csv_path).unwrap();
    csv.push_str("user_broken,\"unbalanced\n");
    std::fs::write(&csv_path, csv).unwrap();
    let out = world.run().code(0);
    out.stdout_has(" 1 rejected");
    world.assert_migrated_exactly_once();
    let failures = world.report("world-run-1-failures.csv");
    assert!(failures.contains("users.csv:"), "{failures}");
}

#[test]
fn no_secret_reaches_the_journal_the_lists_or_the_output() {
    let world = World::new(WorldOptions::default());
    let out = world.run().code(0);
    let secrets = world.secrets();
    assert!(secrets.len() > 20, "{}", secrets.len());

    let mut written = vec![out.stdout, out.stderr];
    for dir in [".ferry", "reports"] {
        for entry in std::fs::read_dir(world.scratch.path().join(dir)).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            written.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for text in &written {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret was written");
        }
    }
}

#[test]
fn run_json_prints_one_event_per_line_and_ends_with_the_summary() {
    let world = World::new(WorldOptions::default());
    let out = world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--json"])
        .run()
        .code(0);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"summary"));
    let summary = events.last().unwrap();
    assert_eq!(summary["status"], "finished");
    assert_eq!(summary["exit_code"], 0);
    let users = events
        .iter()
        .filter(|e| e["event"] == "record" && e["outcome"]["kind"] == "user")
        .count();
    assert_eq!(users, world.generated.tenant.users.len());
    assert!(kinds.contains(&"step_finished"));
}

/// The rows of a `clerk_id,email,code,reason` list, by Clerk id.
fn listed(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .skip(1)
        .filter_map(|line| line.split(',').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_password_reset_list_holds_the_users_of_every_run() {
    let world = World::new(WorldOptions {
        users: 500,
        // Slow enough that the interrupt lands mid-run.
        ..WorldOptions::paced(1, 10)
    });
    let mut child = world.spawn_run();
    // Interrupted once the first run has listed someone (the tenant has
    // 9 such users in 500; a count of writes could stop the run before
    // any of them on a loaded machine), leaving the rest to the second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while listed(&world.report("world-run-1-password-resets.csv")).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never listed anyone"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling a child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert_eq!(child.wait().unwrap().code(), Some(4), "interrupted");
    let out = world.run().code(0);
    out.stdout_has("password resets needed: ");

    let first = listed(&world.report("world-run-1-password-resets.csv"));
    let second = listed(&world.report("world-run-2-password-resets.csv"));
    assert!(
        !first.is_empty() && !second.is_empty(),
        "both runs created users who need a reset"
    );
    let whole = listed(&world.report("world-password-resets.csv"));
    let both: std::collections::BTreeSet<String> = first.union(&second).cloned().collect();
    assert_eq!(whole, both);

    // A rerun that changes nothing keeps everyone on it, and says so.
    let out = world.run().code(0);
    out.stdout_has(&format!(
        "password resets needed: {} (0 this run)",
        whole.len()
    ));
    assert_eq!(listed(&world.report("world-password-resets.csv")), whole);
    let report = world.report("world-run-3.json");
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let resets = report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["label"] == "password resets needed")
        .unwrap();
    assert_eq!(resets["total"], whole.len() as u64);
    assert_eq!(resets["change"], 0);
    crate::common::assert_private(
        &world
            .scratch
            .path()
            .join("reports/world-password-resets.csv"),
    );
}
