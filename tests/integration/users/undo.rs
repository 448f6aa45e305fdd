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
    world.run().code(0);
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
        .run()
        .code(0);
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
    assert!(
        kept_list.starts_with("kind,clerk_id,workos_id,code,reason\n"),
        "{kept_list}"
    );
    assert!(
        kept_list.contains(",signed_in_since,signed in at "),
        "{kept_list}"
    );
    assert!(kept_list.contains(",not_deletable,"), "{kept_list}");
    assert!(kept_list.contains("role,"), "{kept_list}");
    // The adopted user is never deleted, and is listed with why.
    let adopted_id = loaded
        .users
        .iter()
        .find(|u| u.user.email == adopted_email)
        .map(|u| u.user.id.clone())
        .unwrap();
    let adopted_row = format!(
        "user,{adopted_clerk_id},{adopted_id},adopted,\"adopted: the user was in WorkOS before ferry, or its creation's answer was lost; undo deletes only what ferry knows it created\""
    );
    assert!(
        kept_list.lines().any(|line| line == adopted_row),
        "{adopted_row}\n{kept_list}"
    );

    // Undo again: everything is journaled, so nothing is asked to go twice.
    world.sandbox.reset_request_counts();
    world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run()
        .code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());

    // A new run migrates everything again, and verifies.
    world.run().code(0);
    world.assert_migrated_exactly_once();
    let reloaded = world.dump();
    assert_eq!(reloaded.memberships.len(), loaded.memberships.len());
    assert_eq!(reloaded.organizations.len(), loaded.organizations.len());
    assert_eq!(reloaded.auth_factors.len(), loaded.auth_factors.len());
}

/// A factor follows its user: an adopted user keeps the TOTP factor ferry
/// enrolled on it through an undo, and a later run and verify find it.
/// And undo deletes no user WorkOS now gives someone else's external_id.
#[test]
fn undo_keeps_what_is_not_ferry_s_to_take_and_factors_with_their_users() {
    let world = world();
    let with_totp: Vec<String> = world
        .generated
        .export
        .iter()
        .filter(|row| row.totp_secret.is_some())
        .map(|row| row.id.clone())
        .collect();
    let expected = world.expected();
    let (adopted_clerk_id, adopted_email) = with_totp
        .iter()
        .filter_map(|id| expected.get(id))
        .filter_map(|u| Some((u.id.clone(), u.primary_email()?.email_address.clone())))
        .min()
        .expect("a TOTP user to adopt");
    let status = world.workos_call(
        reqwest::Method::POST,
        "/user_management/users",
        Some(json!({ "email": adopted_email, "first_name": "Existing" })),
    );
    assert_eq!(status, 201);
    world.run().code(0);
    let loaded = world.dump();
    let adopted = loaded
        .users
        .iter()
        .find(|u| u.user.email == adopted_email)
        .unwrap()
        .user
        .clone();
    let factor = |world: &World| -> Vec<String> {
        world
            .dump()
            .auth_factors
            .into_iter()
            .filter(|f| f.user_id.as_deref() == Some(adopted.id.as_str()))
            .map(|f| f.id)
            .collect()
    };
    let enrolled = factor(&world);
    assert_eq!(
        enrolled.len(),
        1,
        "ferry enrolled the adopted user's factor"
    );

    // Someone re-links a user ferry made to another person.
    let relinked = loaded
        .users
        .iter()
        .find(|u| u.user.id != adopted.id && u.user.external_id.is_some())
        .unwrap()
        .user
        .clone();
    let status = world.workos_call(
        reqwest::Method::PUT,
        &format!("/user_management/users/{}", relinked.id),
        Some(json!({ "external_id": "someone_else" })),
    );
    assert_eq!(status, 200);

    world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run()
        .code(0);
    assert_eq!(factor(&world), enrolled, "the factor stays with its user");
    let left: Vec<String> = world.dump().users.into_iter().map(|u| u.user.id).collect();
    assert!(left.contains(&relinked.id), "the re-linked user stays");
    let kept = std::fs::read_dir(world.scratch.path().join("reports"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().contains("-undo-run-"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap();
    let rows = [
        format!(
            "totp_factor,{adopted_clerk_id},{},kept_with_its_user,\"its user is kept, and so is the TOTP factor\"",
            enrolled[0]
        ),
        format!(
            "user,{},{},relinked_outside_ferry,\"relinked_outside_ferry: WorkOS user {} now carries external_id `someone_else`, not the Clerk id ferry gave it; undo deletes only what is still ferry's\"",
            relinked.external_id.as_deref().unwrap(),
            relinked.id,
            relinked.id
        ),
    ];
    for row in &rows {
        assert!(kept.lines().any(|line| line == row), "{row}\n{kept}");
    }

    // A new run finds the factor where ferry left it; verify sees the
    // re-linked user, and a reconciling run settles that person anew.
    let out = world.run().code(1);
    assert_eq!(factor(&world), enrolled);
    let relinked_line = format!(
        "       {}: WorkOS user {} has external_id `someone_else`",
        relinked.external_id.as_deref().unwrap(),
        relinked.id
    );
    assert!(
        out.stdout.lines().any(|l| l == relinked_line),
        "{}",
        out.stdout
    );
    world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--reconcile"])
        .run()
        .code(0);
    assert_eq!(factor(&world), enrolled);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
}

/// A factor the journal holds as deleted (here by an edit, as an older
/// undo left it) while its user stays: verify, which asks WorkOS, fails;
/// the next run decides that user again and enrolls the factor.
#[test]
fn a_factor_journaled_deleted_is_enrolled_again() {
    use ferry_core::journal::{Action, Kind};
    let world = world();
    world.run().code(0);
    let dump = world.dump();
    let factor = dump.auth_factors.first().expect("a factor").clone();
    let user = dump
        .users
        .iter()
        .find(|u| Some(u.user.id.as_str()) == factor.user_id.as_deref())
        .unwrap()
        .user
        .clone();
    let clerk_id = user.external_id.clone().unwrap();
    let status = world.workos_call(
        reqwest::Method::DELETE,
        &format!("/auth/factors/{}", factor.id),
        None,
    );
    assert!(status == 200 || status == 204, "{status}");
    world.journal_record(
        "an older undo",
        Kind::TotpFactor,
        &clerk_id,
        Action::Deleted,
        true,
    );
    let out = world.ferry().args(["verify", "plan.yaml"]).run().code(1);
    let line = format!(
        "       {clerk_id}: WorkOS user {} has no TOTP factor; the journal holds its factor as deleted: run again to enroll it",
        user.id
    );
    assert!(out.stdout.lines().any(|l| l == line), "{}", out.stdout);
    let out = world.run().code(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("totp factors: 1 enrolled,")),
        "{}",
        out.stdout
    );
    let factors: Vec<_> = world
        .dump()
        .auth_factors
        .into_iter()
        .filter(|f| f.user_id.as_deref() == Some(user.id.as_str()))
        .collect();
    assert_eq!(factors.len(), 1);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
}

/// A factor ferry found rather than made (an enrollment whose answer was
/// lost is journaled so by an older binary) goes with the user undo takes
/// away: its record never outlives the user it was on.
#[test]
fn a_found_factor_goes_with_the_user_undo_takes_away() {
    use ferry_core::journal::{Action, Journal, Kind};
    let world = world();
    world.run().code(0);
    let dump = world.dump();
    let factor = dump.auth_factors.first().expect("a factor").clone();
    let external = world.external_ids();
    let clerk_id = external[factor.user_id.as_deref().unwrap()].clone();
    world.journal_record(
        "an older binary",
        Kind::TotpFactor,
        &clerk_id,
        Action::Adopted,
        true,
    );
    world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run()
        .code(0);
    let journal = Journal::open_to_read(&world.scratch.path().join(".ferry/world.db")).unwrap();
    let state = journal
        .record(Kind::TotpFactor, &clerk_id)
        .unwrap()
        .unwrap();
    assert_eq!(state.action, Action::Deleted, "{state:?}");
    assert!(
        world.dump().auth_factors.iter().all(|f| f.id != factor.id),
        "the factor went with its user"
    );
    world.run().code(0);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
}
