//! A whole tenant migrates: each user once, with the right fields, working
//! passwords and TOTP factors; unsupported hashes are never sent and are listed.

use std::collections::{HashMap, HashSet};

use ferry_sandbox::totp;
use serde_json::{Value, json};

use super::{World, WorldOptions};

/// What WorkOS's password grant answered: 200, or a continuation that proves the password.
async fn sign_in(world: &World, email: &str, password: &str) -> Result<(), String> {
    let keys = world.sandbox.keys();
    let response = reqwest::Client::new()
        .post(format!(
            "{}/user_management/authenticate",
            world.sandbox.workos_url()
        ))
        .json(&json!({
            "grant_type": "password",
            "client_id": keys.workos_client_id,
            "client_secret": keys.workos_api_key,
            "email": email,
            "password": password,
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or_default();
    let code = body.get("code").and_then(Value::as_str).unwrap_or("");
    match (status, code) {
        (200, _)
        | (
            403,
            "mfa_challenge" | "organization_selection_required" | "email_verification_required",
        ) => Ok(()),
        _ => Err(format!("{status} {body}")),
    }
}

/// Challenges a factor and answers with a code computed from the Clerk secret.
async fn verify_code(world: &World, factor_id: &str, secret: &str) -> bool {
    let http = reqwest::Client::new();
    let key = &world.sandbox.keys().workos_api_key;
    let challenge: Value = http
        .post(format!(
            "{}/auth/factors/{factor_id}/challenge",
            world.sandbox.workos_url()
        ))
        .bearer_auth(key)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = totp::code_at(secret, totp::now_seconds()).unwrap();
    let verified: Value = http
        .post(format!(
            "{}/auth/challenges/{}/verify",
            world.sandbox.workos_url(),
            challenge["id"].as_str().unwrap()
        ))
        .bearer_auth(key)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    verified["valid"] == true
}

#[test]
fn a_generated_tenant_migrates_exactly_once_with_passwords_and_totp() {
    let world = World::new(WorldOptions {
        users: 5000,
        organizations: 20,
        ..WorldOptions::default()
    });
    let out = world.run().code(0);
    out.stdout_has("0 failed");
    world.assert_migrated_exactly_once();

    let dump = world.dump();
    let migrated: HashMap<&str, _> = dump
        .users
        .iter()
        .map(|u| (u.user.external_id.as_deref().unwrap(), u))
        .collect();
    let resets = world.report("world-run-1-password-resets.csv");
    let listed: HashSet<&str> = resets
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();

    // No hash went out with a wrong type; unsupported ones went out not at all, and are listed.
    let mut checked = HashMap::<&str, usize>::new();
    for row in &world.generated.export {
        let (Some(user), Some(hasher)) = (
            migrated.get(row.id.as_str()),
            row.password_hasher.as_deref(),
        ) else {
            continue;
        };
        let expected = match hasher {
            "bcrypt" => Some("bcrypt"),
            "argon2i" | "argon2id" => Some("argon2"),
            "scrypt_firebase" => Some("firebase-scrypt"),
            "pbkdf2_sha256" => Some("pbkdf2"),
            _ => None,
        };
        assert_eq!(
            user.password_hash_type.as_deref(),
            expected,
            "{} ({hasher})",
            row.id
        );
        assert_eq!(
            expected.is_none(),
            listed.contains(row.id.as_str()),
            "{} ({hasher}) listed for a reset?",
            row.id
        );
        *checked
            .entry(if expected.is_some() {
                "imported"
            } else {
                "reset"
            })
            .or_default() += 1;
    }
    assert!(
        checked["imported"] > 100 && checked["reset"] > 10,
        "{checked:?}"
    );

    // Password users sign in with the passwords they had in Clerk (a sample, for time).
    let mut signed_in = 0;
    world.runtime.block_on(async {
        for entry in world.generated.passwords.iter().filter(|p| {
            matches!(
                p.password_hasher.as_str(),
                "bcrypt" | "argon2id" | "argon2i"
            )
        }) {
            let Some(user) = migrated.get(entry.user_id.as_str()) else {
                continue;
            };
            if signed_in >= 60 {
                break;
            }
            sign_in(&world, &user.user.email, entry.password.expose())
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", entry.user_id));
            assert!(
                sign_in(&world, &user.user.email, "not-the-password")
                    .await
                    .is_err()
            );
            signed_in += 1;
        }
    });
    assert_eq!(signed_in, 60);

    // Every exported TOTP secret is enrolled once, and its codes verify.
    let factors: HashMap<&str, Vec<&str>> =
        dump.auth_factors.iter().fold(HashMap::new(), |mut map, f| {
            map.entry(f.user_id.as_deref().unwrap())
                .or_default()
                .push(f.id.as_str());
            map
        });
    let mut with_totp = 0;
    world.runtime.block_on(async {
        for row in &world.generated.export {
            let (Some(user), Some(secret)) =
                (migrated.get(row.id.as_str()), row.totp_secret.as_ref())
            else {
                continue;
            };
            let user_factors = factors
                .get(user.user.id.as_str())
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                user_factors.len(),
                1,
                "{} has {} factors",
                row.id,
                user_factors.len()
            );
            if with_totp < 20 {
                assert!(
                    verify_code(&world, user_factors[0], secret.expose()).await,
                    "{}",
                    row.id
                );
            }
            with_totp += 1;
        }
    });
    assert!(with_totp > 20, "{with_totp}");
    assert_eq!(dump.auth_factors.len(), with_totp);
}

/// A first export without digests creates users without passwords; when
/// the complete export arrives and the plan says `overwrite_passwords`, a
/// rerun imports the digests and the users sign in with their Clerk passwords.
#[test]
fn a_digest_that_arrives_later_is_imported_when_the_plan_says_so() {
    let mut world = World::new(WorldOptions {
        users: 80,
        ..WorldOptions::default()
    });
    let csv = world.scratch.path().join("users.csv");
    let mut without = world.generated.export.clone();
    for row in &mut without {
        row.password_digest = None;
    }
    ferry_sandbox::export::write_csv(&csv, &without).unwrap();
    world.run().code(0);

    let canary = world.bcrypt_canary();
    let signed_in = |world: &World| {
        world
            .runtime
            .block_on(sign_in(world, &canary.email, canary.password.expose()))
    };
    assert!(signed_in(&world).is_err(), "no password yet");

    ferry_sandbox::export::write_csv(&csv, &world.generated.export).unwrap();
    world.plan.steps[0] =
        crate::common::plan::Step::with("users", json!({ "overwrite_passwords": true }));
    world.write_plan();
    let out = world.run().code(0);
    assert!(!out.stdout.contains(" 0 updated"), "{}", out.stdout);
    assert_eq!(signed_in(&world), Ok(()));
}
