//! Secret hygiene: a whole migration with known digests, TOTP secrets, API
//! keys and canary passwords, then a scan of everything ferry wrote and
//! printed, debug logs included: not one of them may appear.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;

use ferry_sandbox::FaultConfig;

use crate::common::plan::Step;
use crate::users::{World, WorldOptions};

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_secret_is_written_or_printed_anywhere() {
    let mut world = World::new(WorldOptions {
        users: 600,
        organizations: 10,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
            Step::bare("mfa_report"),
        ],
        ..WorldOptions::default()
    });
    let canary = world.bcrypt_canary();
    verify_with_canary(&mut world, &canary.email, json!("all"));

    let out = world
        .ferry()
        .env("CANARY_PASSWORD", canary.password.expose())
        .env("FERRY_LOG", "debug")
        .args(["run", "plan.yaml", "--yes"])
        .run()
        .code(0);
    assert!(
        out.stdout
            .contains(&format!("{}: signed in (200)", canary.email)),
        "{}",
        out.stdout
    );
    let out = out.stderr_has("DEBUG");
    let report_out = world
        .ferry()
        .args(["report", "plan.yaml", "--format", "md"])
        .run()
        .code(0);

    assert_nothing_leaked(&world, vec![out.stdout, out.stderr, report_out.stdout]);
}

/// Adds a `verify` step that signs the canary in with `${CANARY_PASSWORD}`.
fn verify_with_canary(world: &mut World, email: &str, sample: serde_json::Value) {
    world.plan.steps.push(Step::with(
        "verify",
        json!({
            "sample": sample,
            "logins": [{ "email": email, "password": "${CANARY_PASSWORD}" }],
        }),
    ));
    world.write_plan();
}

/// Every secret of `world` is absent from `printed` and from every file
/// ferry wrote (journal, reports, lists, notices), and every one of those
/// files and folders is owner-only.
fn assert_nothing_leaked(world: &World, mut written: Vec<String>) {
    let printed = written.len();
    let secrets = world.secrets();
    assert!(secrets.len() > 50);
    let mut paths = Vec::new();
    files(&world.scratch.path().join(".ferry"), &mut paths);
    files(&world.scratch.path().join("reports"), &mut paths);
    for path in &paths {
        written.push(String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned());
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            0o600,
            "{} is readable by others ({mode:o})",
            path.display()
        );
        let folder = path.parent().unwrap();
        let mode = std::fs::metadata(folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            0o700,
            "{} is open to others ({mode:o})",
            folder.display()
        );
    }
    for (index, text) in written.iter().enumerate() {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret was written (source {index}: {})",
                index
                    .checked_sub(printed)
                    .map(|file| paths[file].display().to_string())
                    .unwrap_or_else(|| "output".into())
            );
        }
    }
}

/// A target that answers every write with an HTML page echoing the whole
/// request (the `Authorization` header, the body with its digest, TOTP
/// secret, password and client secret) leaves no trace of any of them.
#[test]
fn an_error_page_that_echoes_the_request_leaks_nothing() {
    let mut world = World::new(WorldOptions {
        users: 120,
        organizations: 3,
        faults: FaultConfig {
            echo_rate: 1.0,
            ..FaultConfig::default()
        },
        users_options: json!({ "max_attempts": 1 }),
        ..WorldOptions::default()
    });
    let canary = world.generated.passwords[0].clone();
    verify_with_canary(&mut world, &canary.email, json!(10));
    let out = world
        .ferry()
        .env("CANARY_PASSWORD", canary.password.expose())
        .env("FERRY_LOG", "debug")
        .args(["run", "plan.yaml", "--yes"])
        .run()
        .code(3);
    let out = out.stdout_has(&format!("{} failed", world.expected().len()));
    let failures = world.report("world-run-1-failures.csv");
    assert!(
        failures.contains("Bearer ***"),
        "the echoed page reached the list, masked: {failures}"
    );
    let status = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    assert_nothing_leaked(&world, vec![out.stdout, out.stderr, status.stdout]);
}
