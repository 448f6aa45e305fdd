//! `ferry undo` against the sandbox: it takes away every object ferry
//! created and nothing else (an adopted pre-existing user stays, and so
//! does a user who signed in since, with what belongs to them), resumes
//! as a no-op, and a new run then migrates everything again.

use std::collections::HashSet;

use serde_json::json;

use super::{World, WorldOptions, full_steps};

fn world() -> World {
    World::new(WorldOptions {
        users: 80,
        organizations: 3,
        users_options: json!({ "on_conflict": "update" }),
        more_steps: full_steps(),
        ..WorldOptions::default()
    })
}

/// Signs `email` in with the password grant; true for a completed sign-in.
fn signs_in(world: &World, email: &str, password: &str) -> bool {
    let keys = world.sandbox.keys();
    let url = format!(
        "{}/user_management/authenticate",
        world.sandbox.workos_url()
    );
    let body = json!({
        "grant_type": "password",
        "client_id": keys.workos_client_id,
        "client_secret": keys.workos_api_key,
        "email": email,
        "password": password,
    });
    world.runtime.block_on(async move {
        reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == 200)
    })
}

#[test]
fn undo_takes_away_what_ferry_made_and_keeps_the_adopted_and_the_signed_in() {
    let world = world();
    let expected = world.expected();
    // A WorkOS user who existed before the migration, with a Clerk user's email.
    let (adopted_clerk_id, adopted_email) = expected
        .values()
        .filter(|u| !u.totp_enabled)
        .filter_map(|u| Some((u.id.clone(), u.primary_email()?.email_address.clone())))
        .min()
        .expect("a user to adopt");
    let status = world.workos_call(
        reqwest::Method::POST,
        "/user_management/users",
        Some(json!({ "email": adopted_email, "first_name": "Existing" })),
    );
    assert_eq!(status, 201);
    let out = world.run();
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let loaded = world.dump();
    assert!(loaded.memberships.len() > 5 && !loaded.organizations.is_empty());

    // Someone signs in after the migration.
    let signed_in = world
        .generated
        .passwords
        .iter()
        .filter(|p| p.user_id != adopted_clerk_id && expected.contains_key(&p.user_id))
        // One with a membership, so an organization has to stay for them.
        .filter(|p| {
            world.generated.tenant.memberships.iter().any(|m| {
                m.public_user_data
                    .as_ref()
                    .is_some_and(|u| u.user_id == p.user_id)
            })
        })
        .find(|p| signs_in(&world, &p.email, p.password.expose()))
        .expect("a migrated user who can sign in")
        .clone();
    let signed_in_id = world
        .dump()
        .users
        .iter()
        .find(|u| u.user.external_id.as_deref() == Some(signed_in.user_id.as_str()))
        .map(|u| u.user.id.clone())
        .expect("the signed-in user");

    let undo = world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run();
    assert_eq!(undo.code, 0, "{}{}", undo.stdout, undo.stderr);
    assert!(undo.stdout.contains("deleted"), "{}", undo.stdout);

    let left = world.dump();
    let users: HashSet<&str> = left.users.iter().map(|u| u.user.email.as_str()).collect();
    assert_eq!(
        users,
        HashSet::from([adopted_email.as_str(), signed_in.email.as_str()]),
        "only the adopted and the signed-in user stay"
    );
    // What stays belongs to the signed-in user.
    assert!(left.memberships.iter().all(|m| m.user_id == signed_in_id));
    assert_eq!(
        left.memberships.len(),
        loaded
            .memberships
            .iter()
            .filter(|m| m.user_id == signed_in_id)
            .count()
    );
    assert!(
        left.auth_factors
            .iter()
            .all(|f| f.user_id.as_deref() == Some(signed_in_id.as_str()))
    );
    let their_orgs: HashSet<&str> = left
        .memberships
        .iter()
        .map(|m| m.organization_id.as_str())
        .collect();
    let orgs: HashSet<&str> = left.organizations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        orgs, their_orgs,
        "only organizations with members left stay"
    );
    // Kept objects are listed with why, roles among them (WorkOS cannot delete them).
    let kept_list = std::fs::read_dir(world.scratch.path().join("reports"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().contains("-undo-run-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .expect("the kept list");
    assert!(kept_list.contains("signed in at"), "{kept_list}");
    assert!(kept_list.contains("role,"), "{kept_list}");
    assert!(
        !kept_list.contains(&adopted_clerk_id),
        "an adopted user was never a candidate"
    );

    // Undo again: everything is journaled, so nothing is asked to go twice.
    world.sandbox.reset_request_counts();
    let again = world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run();
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());

    // A new run migrates everything again, and verifies.
    let rerun = world.run();
    assert_eq!(rerun.code, 0, "{}{}", rerun.stdout, rerun.stderr);
    world.assert_migrated_exactly_once();
    let reloaded = world.dump();
    assert_eq!(reloaded.memberships.len(), loaded.memberships.len());
    assert_eq!(reloaded.organizations.len(), loaded.organizations.len());
    assert_eq!(reloaded.auth_factors.len(), loaded.auth_factors.len());
}
