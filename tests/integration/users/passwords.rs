//! Hash probes and cohort health, against the sandbox over loopback with
//! the real binary and journal: each cohort the export holds is proven on
//! the target before any user is written; a cohort the target refuses is
//! kept back and listed; a probe user a kill left behind is removed by the
//! next command; `ferry watch` counts sign-ins per cohort and flags one
//! that fails.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use ferry_core::journal::{Action, Journal, Kind, ProbeCounts};
use ferry_sandbox::FaultConfig;
use ferry_sandbox::hashes::HashKind;
use serde_json::{Value, json};

use super::{World, WorldOptions};

fn journal(world: &World) -> Journal {
    Journal::open_to_read(&world.scratch.path().join(".ferry/world.db")).unwrap()
}

/// Each recorded verdict: hasher → (verdict, conversion).
fn verdicts(world: &World) -> BTreeMap<String, (String, Option<String>)> {
    journal(world)
        .probe_verdicts()
        .unwrap()
        .into_iter()
        .map(|v| (v.hasher, (v.verdict, v.conversion)))
        .collect()
}

/// The export's hashers with a digest, each with its users.
fn export_hashers(world: &World) -> BTreeMap<String, BTreeSet<String>> {
    let mut hashers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &world.generated.export {
        if let (Some(hasher), Some(_)) = (&row.password_hasher, &row.password_digest) {
            hashers
                .entry(hasher.clone())
                .or_default()
                .insert(row.id.clone());
        }
    }
    hashers
}

/// The users the journal says ferry created.
fn created(world: &World) -> BTreeSet<String> {
    world
        .external_ids()
        .into_values()
        .filter(|id| {
            journal(world)
                .record(Kind::User, id)
                .unwrap()
                .is_some_and(|r| r.action == Action::Created)
        })
        .collect()
}

/// The password-resets list: Clerk id → code.
fn resets(world: &World) -> BTreeMap<String, String> {
    let text = world.report("world-password-resets.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, code) = (column("clerk_id"), column("code"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[id].to_owned(), r[code].to_owned())
        })
        .collect()
}

/// The passwords file's rows of migrated users whose WorkOS email is the
/// one the row names: the people who can sign in after the switch.
fn can_sign_in(world: &World) -> Vec<ferry_sandbox::generate::PasswordRow> {
    let emails: BTreeMap<String, String> = world
        .dump()
        .users
        .into_iter()
        .filter_map(|u| Some((u.user.external_id?, u.user.email)))
        .collect();
    world
        .generated
        .passwords
        .iter()
        .filter(|p| emails.get(&p.user_id) == Some(&p.email.to_lowercase()))
        .cloned()
        .collect()
}

fn probe_users_in_workos(world: &World) -> Vec<String> {
    world
        .dump()
        .users
        .into_iter()
        .filter_map(|u| u.user.external_id)
        .filter(|id| id.starts_with("ferry-probe-"))
        .collect()
}

fn sign_in(world: &World, email: &str, password: &str) -> u16 {
    let keys = world.sandbox.keys();
    world
        .workos_json(
            reqwest::Method::POST,
            "/user_management/authenticate",
            Some(json!({
                "grant_type": "password",
                "client_id": keys.workos_client_id,
                "client_secret": keys.workos_api_key,
                "email": email,
                "password": password,
            })),
        )
        .0
}

fn world(faults: FaultConfig) -> World {
    World::new(WorldOptions {
        users: 500,
        organizations: 4,
        faults,
        ..WorldOptions::default()
    })
}

#[test]
fn every_cohort_is_probed_first_then_every_password_user_signs_in() {
    let world = world(FaultConfig::default());
    let out = world.run().code(0);
    let hashers = export_hashers(&world);
    assert!(hashers.contains_key("pbkdf2_sha256") && hashers.contains_key("scrypt_firebase"));

    // The target decided each cohort WorkOS has a type for; md5 has none.
    let expected: BTreeMap<String, (String, Option<String>)> = [
        ("argon2id", "argon2/phc"),
        ("bcrypt", "bcrypt/verbatim"),
        ("pbkdf2_sha256", "pbkdf2/phc"),
        ("scrypt_firebase", "firebase-scrypt/fields"),
    ]
    .into_iter()
    .filter(|(hasher, _)| hashers.contains_key(*hasher))
    .map(|(hasher, conversion)| {
        (
            hasher.to_owned(),
            ("confirmed".to_owned(), Some(conversion.to_owned())),
        )
    })
    .collect();
    assert_eq!(verdicts(&world), expected);
    // A control and one probe per cohort, every one deleted.
    let made = 1 + expected.len() as u64;
    assert_eq!(
        journal(&world).probe_counts().unwrap(),
        ProbeCounts {
            made,
            removed: made
        }
    );
    assert_eq!(probe_users_in_workos(&world), Vec::<String>::new());
    out.file_has("reports/world-run-1.md", "hash probe: pbkdf2_sha256");

    // Every migrated user of the passwords file signs in with their password.
    let created = created(&world);
    let mut signed_in: BTreeMap<String, u64> = BTreeMap::new();
    for row in &can_sign_in(&world) {
        let status = sign_in(&world, &row.email, row.password.expose());
        assert!(
            [200, 403].contains(&status),
            "{} ({}) could not sign in: {status}",
            row.user_id,
            row.password_hasher
        );
        *signed_in.entry(row.password_hasher.clone()).or_default() += 1;
    }
    assert!(
        signed_in.contains_key("pbkdf2_sha256") && signed_in.contains_key("scrypt_firebase"),
        "{signed_in:?}"
    );
    // Only md5 users are listed for a reset, and all of them.
    let md5: BTreeMap<String, String> = hashers
        .get("md5")
        .into_iter()
        .flat_map(|md5| md5.intersection(&created))
        .map(|id| (id.clone(), "hash_unsupported".to_owned()))
        .collect();
    let digest_resets: BTreeMap<String, String> = resets(&world)
        .into_iter()
        .filter(|(_, code)| code.starts_with("hash_"))
        .collect();
    assert_eq!(digest_resets, md5);

    // A rerun probes nothing again and writes nothing.
    let before = world.counts();
    world.run().code(0);
    assert_eq!(journal(&world).probe_counts().unwrap().made, made);
    assert_eq!(world.counts().workos_writes, before.workos_writes);
}

#[test]
fn a_cohort_the_target_refuses_is_kept_back_and_listed_and_the_run_completes() {
    let world = world(FaultConfig {
        refuse_hash_type: vec![HashKind::Pbkdf2],
        ..FaultConfig::default()
    });
    world.run().code(0);
    let (verdict, conversion) = verdicts(&world)["pbkdf2_sha256"].clone();
    assert_eq!((verdict.as_str(), conversion), ("failed", None));
    // A control, one probe per other cohort, and pbkdf2's three layouts.
    let made = verdicts(&world).len() as u64 + 3;
    assert_eq!(
        journal(&world).probe_counts().unwrap(),
        ProbeCounts {
            made,
            removed: made
        }
    );
    let pbkdf2: BTreeSet<String> = export_hashers(&world)["pbkdf2_sha256"]
        .intersection(&created(&world))
        .cloned()
        .collect();
    assert!(!pbkdf2.is_empty());
    let listed: BTreeSet<String> = resets(&world)
        .into_iter()
        .filter(|(_, code)| code == "hash_probe_failed")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, pbkdf2);
    // Created without a password: not one pbkdf2 hash went with a user.
    let external_ids = world.external_ids();
    let dump = world.dump();
    for id in &pbkdf2 {
        let user = dump
            .users
            .iter()
            .find(|u| u.user.external_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("{id} in WorkOS ({:?})", external_ids.get(id)));
        assert_eq!(user.password_hash_type, None, "{id}");
    }
    assert_eq!(probe_users_in_workos(&world), Vec::<String>::new());
}

#[test]
fn killed_during_a_probe_the_next_command_removes_the_probe_user() {
    let world = world(FaultConfig::default());
    world
        .sandbox
        .set_faults(FaultConfig {
            latency_ms: 300,
            ..FaultConfig::default()
        })
        .unwrap();
    let mut child = world.spawn_run();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while probe_users_in_workos(&world).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no probe user was made"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL between a probe's create and its delete
    child.wait().unwrap();
    // The control and the cohorts are probed at once: one or more is left.
    let left = probe_users_in_workos(&world);
    assert!(!left.is_empty());
    world.sandbox.set_faults(FaultConfig::default()).unwrap();
    world.run().code(0);
    assert_eq!(probe_users_in_workos(&world), Vec::<String>::new());
    assert_eq!(journal(&world).leftover_probe_users().unwrap(), vec![]);
    world.assert_migrated_exactly_once();
}

#[test]
fn ferry_plan_shows_the_probes_a_run_would_make() {
    let world = world(FaultConfig::default());
    let out = world.ferry().args(["plan", "plan.yaml"]).run().code(0);
    let line = out
        .stdout
        .lines()
        .find(|line| line.contains("hash probes:"))
        .unwrap_or_else(|| panic!("no probe line in {}", out.stdout));
    for hasher in ["argon2id", "bcrypt", "pbkdf2_sha256", "scrypt_firebase"] {
        assert!(line.contains(hasher), "{line}");
    }
    assert!(line.contains("ferry-probe@example.com"), "{line}");
    assert!(!line.contains("md5"), "{line}");
    // The preview made none.
    assert_eq!(probe_users_in_workos(&world), Vec::<String>::new());
    assert_eq!(world.counts().workos_writes, 0);
}

#[test]
fn watch_counts_sign_ins_per_cohort_and_flags_one_that_fails() {
    let world = world(FaultConfig::default());
    world.run().code(0);
    let rows = can_sign_in(&world);
    let of = |hasher: &str| -> Vec<_> {
        rows.iter()
            .filter(|p| p.password_hasher == hasher)
            .cloned()
            .collect()
    };
    let accepted = |status: u16| [200, 403].contains(&status);
    // bcrypt: three users, each right twice and wrong once.
    for row in of("bcrypt").iter().take(3) {
        assert!(accepted(sign_in(&world, &row.email, row.password.expose())));
        assert!(accepted(sign_in(&world, &row.email, row.password.expose())));
        assert_eq!(sign_in(&world, &row.email, "not-the-password"), 400);
    }
    // pbkdf2: one right, twelve wrong (made to fail).
    let pbkdf2 = of("pbkdf2_sha256");
    assert!(accepted(sign_in(
        &world,
        &pbkdf2[0].email,
        pbkdf2[0].password.expose()
    )));
    for i in 0..12 {
        let row = &pbkdf2[i % pbkdf2.len()];
        assert_eq!(sign_in(&world, &row.email, "wrong-password"), 400);
    }
    // Someone WorkOS does not know.
    assert_eq!(sign_in(&world, "nobody@nowhere.test", "x"), 400);

    let out = world
        .ferry()
        .args(["watch", "plan.yaml", "--json"])
        .run()
        .code(1);
    let health: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        health["cohorts"],
        json!([
            {"cohort": "pbkdf2_sha256 imported", "succeeded": 1, "failed": 12, "flagged": true},
            {"cohort": "bcrypt imported", "succeeded": 6, "failed": 3, "flagged": false},
            {"cohort": "not migrated by ferry", "succeeded": 0, "failed": 1, "flagged": false},
        ])
    );
    assert_eq!(health["retention_days"], 30);
    // Off a terminal, the table prints once.
    let table = world.ferry().args(["watch", "plan.yaml"]).run().code(1);
    assert!(
        table.stdout.contains("WorkOS keeps events for 30 days"),
        "{}",
        table.stdout
    );
    let flagged: Vec<&str> = table
        .stdout
        .lines()
        .filter(|l| l.ends_with("flagged"))
        .collect();
    assert_eq!(flagged.len(), 1, "{}", table.stdout);
    assert!(flagged[0].starts_with("pbkdf2_sha256 imported"));
}

#[test]
fn a_digest_that_does_not_match_its_hasher_is_named_by_its_export_line_before_any_write() {
    fn break_one_pbkdf2_digest(generated: &mut ferry_sandbox::GeneratedTenant) {
        let row = generated
            .export
            .iter_mut()
            .find(|row| row.password_hasher.as_deref() == Some("pbkdf2_sha256"))
            .expect("a pbkdf2 user");
        row.password_digest = Some(ferry_wire::secret::Secret::new(
            "pbkdf2_sha256$10000$not base64!$AAAA",
        ));
    }
    let world = World::new(WorldOptions {
        users: 500,
        organizations: 4,
        tweak: break_one_pbkdf2_digest,
        ..WorldOptions::default()
    });
    let broken = world
        .generated
        .export
        .iter()
        .find(|row| {
            row.password_digest
                .as_ref()
                .is_some_and(|d| d.expose().contains("not base64"))
        })
        .unwrap()
        .id
        .clone();
    let out = world.run().code(0);
    let warning = out
        .stdout
        .lines()
        .find(|line| line.contains("digest is never sent"))
        .unwrap_or_else(|| panic!("no warning in {}", out.stdout));
    assert!(
        warning.contains(
            "the pbkdf2_sha256 digest is never sent (malformed digest: the salt is not base64)"
        ),
        "{warning}"
    );
    let line = warning
        .split("users.csv line ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap();
    assert_eq!(
        resets(&world).get(&broken).map(String::as_str),
        Some("hash_malformed")
    );
    let list = world.report("world-password-resets.csv");
    let listed = list.lines().find(|l| l.starts_with(&broken)).unwrap();
    assert!(
        listed.contains(&format!("(export line {line})")),
        "{listed}"
    );
    // The digest itself is in no output.
    assert!(!out.stdout.contains("not base64!") && !list.contains("not base64!"));
    // The rest of the cohort still went through its probe.
    assert_eq!(verdicts(&world)["pbkdf2_sha256"].0, "confirmed");
}
