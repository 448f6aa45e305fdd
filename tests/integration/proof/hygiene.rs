//! Secret hygiene: a whole migration with known digests, TOTP secrets, API
//! keys and canary passwords, then a scan of everything ferry wrote and
//! printed, debug logs included: not one of them may appear.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;

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
            Step::bare("memberships"),
            Step::bare("mfa_report"),
        ],
        ..WorldOptions::default()
    });
    let canary = world
        .generated
        .passwords
        .iter()
        .find(|p| {
            p.password_hasher == "bcrypt"
                && world.expected().get(&p.user_id).is_some_and(|u| {
                    u.primary_email()
                        .is_some_and(|e| e.is_verified() && e.email_address == p.email)
                })
        })
        .expect("a canary");
    world.plan.steps.push(Step::with(
        "verify",
        json!({
            "sample": "all",
            "logins": [{ "email": canary.email, "password": "${CANARY_PASSWORD}" }],
        }),
    ));
    world.write_plan();

    let out = world
        .ferry()
        .env("CANARY_PASSWORD", canary.password.expose())
        .env("FERRY_LOG", "debug")
        .args(["run", "plan.yaml", "--yes"])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
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

    let secrets = world.secrets();
    assert!(secrets.len() > 50);

    let mut written = vec![out.stdout.clone(), out.stderr.clone(), report_out.stdout];
    let mut paths = Vec::new();
    files(&world.scratch.path().join(".ferry"), &mut paths);
    files(&world.scratch.path().join("reports"), &mut paths);
    assert!(
        paths
            .iter()
            .any(|p| p.to_string_lossy().contains("notices/")),
        "notices were written"
    );
    for path in &paths {
        written.push(String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned());
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            0o600,
            "{} is readable by others ({mode:o})",
            path.display()
        );
    }
    for (index, text) in written.iter().enumerate() {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret was written (source {index})"
            );
        }
    }
}
