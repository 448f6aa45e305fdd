//! `ferry run --reconcile`: after WorkOS lost objects (some deleted by
//! hand, or the whole environment emptied), a reconcile run lists WorkOS,
//! makes again exactly what is gone, puts every membership and factor on
//! its own person, and `verify` passes.

use std::collections::{BTreeSet, HashMap};

use ferry_sandbox::WorkosDump;
use reqwest::Method;
use serde_json::json;

use super::{World, WorldOptions};
use crate::common::plan::Step;

/// The migration in Clerk terms (WorkOS ids change when objects are made
/// again): users by external_id with their profile, memberships as
/// (user, organization, role), factors by their user's external_id.
#[derive(Debug, PartialEq)]
pub(super) struct Migration {
    pub users: BTreeSet<(String, String, Option<String>, Option<String>)>,
    pub organizations: BTreeSet<(String, String)>,
    pub memberships: BTreeSet<(String, String, String)>,
    pub factors: Vec<String>,
}

impl Migration {
    pub fn of(dump: &WorkosDump) -> Self {
        let user_of: HashMap<&str, &str> = dump
            .users
            .iter()
            .map(|u| {
                (
                    u.user.id.as_str(),
                    u.user.external_id.as_deref().unwrap_or("?"),
                )
            })
            .collect();
        let org_of: HashMap<&str, &str> = dump
            .organizations
            .iter()
            .map(|o| (o.id.as_str(), o.external_id.as_deref().unwrap_or("?")))
            .collect();
        let mut factors: Vec<String> = dump
            .auth_factors
            .iter()
            .map(|f| user_of[f.user_id.as_deref().unwrap()].to_owned())
            .collect();
        factors.sort();
        Self {
            users: dump
                .users
                .iter()
                .map(|u| {
                    (
                        u.user.external_id.clone().unwrap_or_default(),
                        u.user.email.clone(),
                        u.user.first_name.clone(),
                        u.user.last_name.clone(),
                    )
                })
                .collect(),
            organizations: dump
                .organizations
                .iter()
                .map(|o| (o.external_id.clone().unwrap_or_default(), o.name.clone()))
                .collect(),
            memberships: dump
                .memberships
                .iter()
                .map(|m| {
                    (
                        user_of[m.user_id.as_str()].to_owned(),
                        org_of[m.organization_id.as_str()].to_owned(),
                        m.role.slug.clone(),
                    )
                })
                .collect(),
            factors,
        }
    }
}

/// 160 users in 4 organizations, migrated with memberships.
pub(super) fn world() -> World {
    let world = World::new(WorldOptions {
        users: 160,
        organizations: 4,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
        ],
        ..WorldOptions::default()
    });
    world.run().code(0);
    world
}

fn reconcile(world: &World) -> crate::common::Output {
    world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--reconcile"])
        .run()
}

fn delete(world: &World, path: &str) {
    let status = world.workos_call(Method::DELETE, path, None);
    assert!(matches!(status, 200 | 202 | 204), "DELETE {path}: {status}");
}

fn pages(objects: usize) -> u64 {
    (objects as u64).div_ceil(100).max(1)
}

#[test]
fn reconcile_makes_again_exactly_what_was_deleted_in_workos() {
    let world = world();
    let before = world.dump();
    let migrated = Migration::of(&before);
    assert!(!before.auth_factors.is_empty() && !before.memberships.is_empty());

    // Someone deletes, in WorkOS: 10 users (members among them), 1
    // organization, 5 memberships of others, and 2 factors of others.
    let members: BTreeSet<&str> = before
        .memberships
        .iter()
        .map(|m| m.user_id.as_str())
        .collect();
    let gone_users: Vec<&str> = before
        .users
        .iter()
        .map(|u| u.user.id.as_str())
        .filter(|id| members.contains(id))
        .take(5)
        .chain(
            before
                .users
                .iter()
                .map(|u| u.user.id.as_str())
                .filter(|id| !members.contains(id))
                .take(5),
        )
        .collect();
    assert_eq!(gone_users.len(), 10);
    for id in &gone_users {
        delete(&world, &format!("/user_management/users/{id}"));
    }
    let gone_org = before.organizations[0].id.clone();
    delete(&world, &format!("/organizations/{gone_org}"));
    let survivors = world.dump();
    for membership in survivors.memberships.iter().take(5) {
        delete(
            &world,
            &format!(
                "/user_management/organization_memberships/{}",
                membership.id
            ),
        );
    }
    for factor in survivors.auth_factors.iter().take(2) {
        delete(&world, &format!("/auth/factors/{}", factor.id));
    }
    let damaged = world.dump();
    let missing_memberships = before.memberships.len() - damaged.memberships.len();
    let missing_factors = before.auth_factors.len() - damaged.auth_factors.len();
    assert!(missing_memberships > 5 && missing_factors >= 2);

    // A plain rerun believes the journal; verify finds the damage and names the repair.
    world.sandbox.reset_request_counts();
    let out = world.ferry().args(["verify", "plan.yaml"]).run().code(1);
    out.stdout_has("--reconcile");

    world.sandbox.reset_request_counts();
    let out = reconcile(&world).code(0);
    out.stdout_has("reconcile: WorkOS lists");
    let counts = world.counts();
    let writes = |route: &str| counts.route_total(route);
    assert_eq!(writes("POST /user_management/users"), 10, "{counts:#?}");
    assert_eq!(writes("POST /organizations"), 1, "{counts:#?}");
    assert_eq!(
        writes("POST /user_management/organization_memberships"),
        missing_memberships as u64,
        "{counts:#?}"
    );
    assert_eq!(
        writes("POST /user_management/users/{id}/auth_factors"),
        missing_factors as u64,
        "{counts:#?}"
    );
    assert_eq!(
        counts.workos_writes,
        10 + 1 + (missing_memberships + missing_factors) as u64,
        "only the writes that restore: {counts:#?}"
    );
    // Reads: the listing pages (and the preflight's one read), no read per user.
    assert!(
        writes("GET /user_management/users") <= pages(damaged.users.len()) + 1,
        "{counts:#?}"
    );
    assert_eq!(writes("GET /user_management/users/{id}"), 0, "{counts:#?}");
    assert_eq!(
        writes("GET /user_management/users/external_id/{external_id}"),
        0,
        "{counts:#?}"
    );
    let totp_users = before.auth_factors.len() as u64;
    assert!(
        writes("GET /user_management/users/{id}/auth_factors") <= totp_users,
        "factors are read only for users who should have one: {counts:#?}"
    );

    assert_eq!(Migration::of(&world.dump()), migrated);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
    // And the journal now agrees with WorkOS: a plain rerun writes nothing.
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0);
}

#[test]
fn reconcile_restores_an_emptied_environment_and_never_writes_to_someone_else() {
    let world = world();
    let migrated = Migration::of(&world.dump());
    world.sandbox.reset_workos_state();
    // WorkOS hands out ids again: these strangers now hold ids the journal
    // gave to migrated users.
    let strangers: Vec<(String, String)> = (0..5)
        .map(|n| {
            (
                format!("stranger{n}@elsewhere.example"),
                format!("Stranger{n}"),
            )
        })
        .collect();
    for (email, name) in &strangers {
        let status = world.workos_call(
            Method::POST,
            "/user_management/users",
            Some(json!({ "email": email, "first_name": name })),
        );
        assert_eq!(status, 201);
    }
    let squatted: Vec<String> = world
        .dump()
        .users
        .iter()
        .map(|u| u.user.id.clone())
        .collect();

    reconcile(&world).code(0);

    let dump = world.dump();
    for id in &squatted {
        let stranger = dump.users.iter().find(|u| &u.user.id == id).expect("kept");
        assert!(
            stranger.user.external_id.is_none(),
            "{stranger:?} was written to"
        );
        assert!(stranger.user.email.ends_with("@elsewhere.example"));
        assert!(
            !dump.memberships.iter().any(|m| &m.user_id == id),
            "a membership landed on a stranger"
        );
        assert!(
            !dump
                .auth_factors
                .iter()
                .any(|f| f.user_id.as_ref() == Some(id)),
            "a factor landed on a stranger"
        );
    }
    let mut restored = Migration::of(&dump);
    restored
        .users
        .retain(|(external_id, ..)| !external_id.is_empty());
    assert_eq!(restored, migrated);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
}

#[test]
fn a_user_changed_in_workos_outside_ferry_is_listed_and_left_alone() {
    let world = World::new(WorldOptions {
        users: 40,
        users_options: json!({ "on_conflict": "skip" }),
        ..WorldOptions::default()
    });
    world.run().code(0);
    let renamed = world.dump().users[0].user.clone();
    let status = world.workos_call(
        Method::PUT,
        &format!("/user_management/users/{}", renamed.id),
        Some(json!({ "first_name": "Renamed-In-Workos" })),
    );
    assert_eq!(status, 200);
    world.sandbox.reset_request_counts();
    reconcile(&world).code(0);
    assert_eq!(world.counts().workos_writes, 0);
    let list = world.report("world-run-2-changed-outside-ferry.csv");
    let clerk_id = renamed.external_id.as_deref().unwrap();
    assert!(
        list.contains(clerk_id) && list.contains("first_name"),
        "{list}"
    );
    let now = world.dump();
    let kept = now.users.iter().find(|u| u.user.id == renamed.id).unwrap();
    assert_eq!(kept.user.first_name.as_deref(), Some("Renamed-In-Workos"));
}

#[test]
fn reconcile_adopts_what_exists_when_the_journal_was_lost() {
    let world = world();
    let migrated = Migration::of(&world.dump());
    std::fs::remove_dir_all(world.scratch.path().join(".ferry")).unwrap();
    world.sandbox.reset_request_counts();
    let out = reconcile(&world).code(0);
    out.stdout_has(" 0 created");
    let counts = world.counts();
    // Which cohorts were probed on this target is the journal's to know:
    // without it each is probed again (a create, a sign-in and a delete
    // each, the control's too), and nothing else is written.
    let probes =
        ferry_core::journal::Journal::open_to_read(&world.scratch.path().join(".ferry/world.db"))
            .unwrap()
            .probe_counts()
            .unwrap();
    assert_eq!(probes.made, probes.removed);
    assert_eq!(counts.workos_writes, 3 * probes.made, "{counts:#?}");
    assert_eq!(
        counts.route_total("POST /user_management/users"),
        probes.made,
        "{counts:#?}"
    );
    assert_eq!(
        counts.route_total("GET /user_management/users/external_id/{external_id}"),
        0,
        "found in the listing, not one by one: {counts:#?}"
    );
    assert_eq!(Migration::of(&world.dump()), migrated);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
}
