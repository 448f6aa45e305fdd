//! `ferry sync` through a cutover window: a migrated tenant keeps changing
//! in Clerk (through the sandbox's admin routes), and a sync makes exactly
//! the writes those changes need, reading only listings; a second sync
//! writes nothing; a sync killed midway and run again ends the same.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde_json::{Value, json};

use super::{World, WorldOptions};
use crate::common::plan::Step;

/// Has every step of `world`'s plan keep one request in flight (the users
/// step's concurrency is the run's).
fn one_request_at_a_time(world: &mut World) {
    world.plan = world
        .plan
        .clone()
        .replace_step(Step::with("users", json!({ "concurrency": 1 })));
    world.write_plan();
}

/// A tenant of `users` (one organization per hundred) run once with
/// users, organizations, roles and memberships, deletions to follow.
pub(super) fn world(users: usize, writes_per_10s: u32) -> World {
    let mut world = World::new(WorldOptions {
        users,
        organizations: users / 100,
        writes_per_10s,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::with(
                "memberships",
                json!({ "roles": { "org:admin": "admin", "org:member": "member" } }),
            ),
        ],
        ..WorldOptions::default()
    });
    world.plan = world.plan.clone().on_deleted("delete");
    world.write_plan();
    world.run().code(0);
    world
}

pub(super) fn sync(world: &World) -> crate::common::Output {
    world.ferry().args(["sync", "plan.yaml", "--yes"]).run()
}

/// The changes of the acceptance test, made in Clerk; returns the WorkOS
/// writes they need, by route.
fn change_clerk(world: &World) -> Vec<(&'static str, u64)> {
    let dump = world.dump();
    let (status, tenant) = world.clerk_admin(Method::GET, "tenant", None);
    assert_eq!(status, 200);
    let migrated: HashMap<String, String> = dump
        .users
        .iter()
        .filter_map(|u| Some((u.user.external_id.clone()?, u.user.id.clone())))
        .collect();
    let org_of: HashMap<String, String> = dump
        .organizations
        .iter()
        .filter_map(|o| Some((o.external_id.clone()?, o.id.clone())))
        .collect();
    let in_workos: HashSet<(String, String)> = dump
        .memberships
        .iter()
        .map(|m| (m.user_id.clone(), m.organization_id.clone()))
        .collect();
    let memberships = tenant["memberships"].as_array().unwrap();
    let member = |m: &Value| -> (String, String) {
        (
            m["public_user_data"]["user_id"]
                .as_str()
                .unwrap()
                .to_owned(),
            m["organization"]["id"].as_str().unwrap().to_owned(),
        )
    };
    // Memberships that were migrated, and users who have none (deleting
    // them takes no membership with them).
    let migrated_memberships: Vec<&Value> = memberships
        .iter()
        .filter(|m| {
            let (user, org) = member(m);
            match (migrated.get(&user), org_of.get(&org)) {
                (Some(u), Some(o)) => in_workos.contains(&(u.clone(), o.clone())),
                _ => false,
            }
        })
        .collect();
    let with_memberships: HashSet<String> = memberships.iter().map(|m| member(m).0).collect();
    let mut plain_users = dump
        .users
        .iter()
        .filter_map(|u| u.user.external_id.clone())
        .filter(|id| !with_memberships.contains(id));
    let edit = |method: Method, path: String, body: Option<Value>| {
        let (status, answer) = world.clerk_admin(method, &path, body);
        assert!(matches!(status, 200 | 201), "{path}: {status} {answer}");
        answer
    };

    for n in 0..50 {
        edit(
            Method::POST,
            "users".into(),
            Some(
                json!({"email_address": [format!("window.signup.{n}@acme.test")], "first_name": "New"}),
            ),
        );
    }
    for _ in 0..30 {
        let id = plain_users.next().unwrap();
        edit(
            Method::PATCH,
            format!("users/{id}"),
            Some(json!({"first_name": "Renamed"})),
        );
    }
    for n in 0..10 {
        let id = plain_users.next().unwrap();
        edit(
            Method::PATCH,
            format!("users/{id}"),
            Some(json!({"email_address": format!("moved.{n}@acme.test")})),
        );
    }
    for _ in 0..20 {
        let id = plain_users.next().unwrap();
        edit(Method::DELETE, format!("users/{id}"), None);
    }
    // 15 new memberships: a migrated user without one joins an organization.
    let orgs: Vec<&String> = org_of.keys().collect();
    for n in 0..15 {
        let user = plain_users.next().unwrap();
        edit(
            Method::POST,
            "memberships".into(),
            Some(
                json!({"organization_id": orgs[n % orgs.len()], "user_id": user, "role": "org:member"}),
            ),
        );
    }
    // 10 removed and 5 with another role, among the migrated memberships.
    let mut touched = migrated_memberships.iter().step_by(7);
    for _ in 0..10 {
        let id = touched.next().unwrap()["id"].as_str().unwrap().to_owned();
        edit(Method::DELETE, format!("memberships/{id}"), None);
    }
    for _ in 0..5 {
        let m = touched.next().unwrap();
        let role = match m["role"].as_str() {
            Some("org:admin") => "org:member",
            _ => "org:admin",
        };
        let id = m["id"].as_str().unwrap().to_owned();
        edit(
            Method::PATCH,
            format!("memberships/{id}"),
            Some(json!({"role": role})),
        );
    }
    for n in 0..2 {
        edit(
            Method::POST,
            "organizations".into(),
            Some(json!({"name": format!("Window Org {n}")})),
        );
    }
    let renamed = orgs[0].clone();
    edit(
        Method::PATCH,
        format!("organizations/{renamed}"),
        Some(json!({"name": "Renamed In The Window"})),
    );
    vec![
        ("POST /user_management/users", 50),
        ("PUT /user_management/users/{id}", 40),
        ("DELETE /user_management/users/{id}", 20),
        ("POST /user_management/organization_memberships", 15),
        ("DELETE /user_management/organization_memberships/{id}", 10),
        ("PUT /user_management/organization_memberships/{id}", 5),
        ("POST /organizations", 2),
        ("PUT /organizations/{id}", 1),
    ]
}

/// WorkOS as a comparable value: users by external_id (name, email),
/// organizations by external_id (name), memberships by (user, org, role).
fn workos_state(world: &World) -> (Vec<String>, Vec<String>, Vec<String>) {
    let dump = world.dump();
    let user_ext: HashMap<&str, &str> = dump
        .users
        .iter()
        .map(|u| {
            (
                u.user.id.as_str(),
                u.user.external_id.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let org_ext: HashMap<&str, &str> = dump
        .organizations
        .iter()
        .map(|o| (o.id.as_str(), o.external_id.as_deref().unwrap_or("")))
        .collect();
    let mut users: Vec<String> = dump
        .users
        .iter()
        .map(|u| {
            format!(
                "{:?} {:?} {}",
                u.user.external_id, u.user.first_name, u.user.email
            )
        })
        .collect();
    let mut orgs: Vec<String> = dump
        .organizations
        .iter()
        .map(|o| format!("{:?} {}", o.external_id, o.name))
        .collect();
    let mut memberships: Vec<String> = dump
        .memberships
        .iter()
        .map(|m| {
            format!(
                "{} {} {}",
                user_ext[m.user_id.as_str()],
                org_ext[m.organization_id.as_str()],
                m.role.slug
            )
        })
        .collect();
    users.sort();
    orgs.sort();
    memberships.sort();
    (users, orgs, memberships)
}

#[test]
fn a_sync_makes_exactly_the_writes_clerk_s_changes_need_and_then_none() {
    let world = world(5000, 100_000);
    let users_before = world.dump().users.len();
    let expected = change_clerk(&world);

    world.sandbox.reset_request_counts();
    sync(&world).code(0);
    let counts = world.counts();
    for (route, writes) in &expected {
        assert_eq!(counts.route_total(route), *writes, "{route}: {counts:#?}");
    }
    let total: u64 = expected.iter().map(|(_, n)| n).sum();
    assert_eq!(counts.workos_writes, total, "nothing else: {counts:#?}");
    // Clerk is only listed: the 20 deleted users are confirmed gone by a
    // listing filtered by id, never by reading one user after another.
    for route in counts.clerk.keys() {
        assert!(
            !route.contains("{id}") || route.ends_with("/memberships"),
            "{route}: {counts:#?}"
        );
    }
    assert_eq!(world.dump().users.len(), users_before + 50 - 20);

    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
    world.sandbox.reset_request_counts();
    sync(&world).code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
}

#[test]
fn a_sync_killed_midway_and_run_again_ends_as_one_that_was_not() {
    // One write at a time, 20 ms each: the sync's 143 writes take about
    // three seconds.
    let mut world = world(2000, 100_000);
    one_request_at_a_time(&mut world);
    world
        .sandbox
        .set_faults(ferry_sandbox::FaultConfig {
            latency_ms: 20,
            ..Default::default()
        })
        .unwrap();
    change_clerk(&world);
    world.sandbox.reset_request_counts();
    let mut child = world
        .command(&["sync", "plan.yaml", "--yes"])
        .spawn()
        .expect("ferry starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while world.sandbox.request_counts().workos_writes < 40 {
        assert!(std::time::Instant::now() < deadline, "the sync never wrote");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let written = world.sandbox.request_counts().workos_writes;
    assert!(written < 143, "killed before the end: {written} writes");

    sync(&world).code(0);
    world.ferry().args(["verify", "plan.yaml"]).run().code(0);
    let after = workos_state(&world);
    world.sandbox.reset_request_counts();
    sync(&world).code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
    assert_eq!(workos_state(&world), after);
    // The same as Clerk now: every user once, the new ones and the renamed
    // organization in, the deleted ones out.
    let (users, orgs, _) = after;
    let (status, tenant) = world.clerk_admin(Method::GET, "tenant", None);
    assert_eq!(status, 200);
    let clerk_ids: HashSet<String> = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    let listed: Vec<&str> = users.iter().map(|u| u.split(' ').next().unwrap()).collect();
    assert_eq!(
        listed.iter().collect::<HashSet<_>>().len(),
        listed.len(),
        "no user twice"
    );
    for user in &listed {
        let id = user.trim_start_matches("Some(\"").trim_end_matches("\")");
        assert!(clerk_ids.contains(id), "{id} is gone from Clerk");
    }
    assert!(orgs.iter().any(|o| o.ends_with("Renamed In The Window")));
    assert_eq!(
        users
            .iter()
            .filter(|u| u.contains("window.signup."))
            .count(),
        50
    );
}

/// Clerk cuts its pages short (the sandbox's `clerk_page_cap`) while its
/// `total_count` stays true: a sync judges nothing gone from a listing
/// that did not prove complete, and says which and why.
#[test]
fn a_short_clerk_page_judges_nothing_gone() {
    let world = world(400, 100_000);
    let before = workos_state(&world);
    let organizations = world.generated.tenant.organizations.len();
    assert_eq!(organizations, 4);

    // A sync with Clerk's pages cut to `cap` objects: no write, nothing
    // gone; its "not diffed" lines.
    let sync_cut_to = |cap: usize| -> Vec<String> {
        world
            .sandbox
            .set_faults(ferry_sandbox::FaultConfig {
                clerk_page_cap: Some(cap),
                ..Default::default()
            })
            .unwrap();
        world.sandbox.reset_request_counts();
        let out = sync(&world).code(0);
        assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
        assert_eq!(workos_state(&world), before, "nothing deleted");
        out.stdout
            .lines()
            .filter(|line| line.starts_with("not diffed"))
            .map(str::to_owned)
            .collect()
    };

    // Two organizations of four a page: the organizations listing is short.
    assert_eq!(
        sync_cut_to(2),
        [
            "not diffed: memberships, so nothing of them was judged gone: Clerk's organizations listing: it stated 4 objects but its pages ended after 2",
            "not diffed: organizations, so nothing of them was judged gone: Clerk's organizations listing: it stated 4 objects but its pages ended after 2",
            "not diffed: users, so nothing of them was judged gone: its listing did not reach its end",
        ]
    );

    // Every organization on one page, but each one's memberships cut short
    // (and the users listing, cut to four a page, too).
    let not_diffed = sync_cut_to(organizations);
    assert_eq!(not_diffed.len(), 2, "{not_diffed:?}");
    assert_eq!(
        not_diffed[1],
        "not diffed: users, so nothing of them was judged gone: its listing did not reach its end"
    );
    let prefix = "not diffed: memberships, so nothing of them was judged gone: Clerk's memberships listing of organization ";
    assert!(
        not_diffed[0].starts_with(prefix)
            && not_diffed[0].contains(": it stated ")
            && not_diffed[0].ends_with(" objects but its pages ended after 4"),
        "{}",
        not_diffed[0]
    );

    // The instance-wide memberships listing was cut short too: not used, and said.
    world
        .sandbox
        .set_faults(ferry_sandbox::FaultConfig {
            clerk_page_cap: Some(organizations),
            ..Default::default()
        })
        .unwrap();
    let out = sync(&world).code(0);
    assert!(
        out.stdout.contains("note: Clerk's instance-wide memberships listing was not used (it did not prove complete: it stated "),
        "{}",
        out.stdout
    );

    // Whole pages again: the sync diffs every kind and finds nothing gone.
    world.sandbox.set_faults(Default::default()).unwrap();
    let out = sync(&world).code(0);
    assert!(!out.stdout.contains("not diffed"), "{}", out.stdout);
    assert_eq!(workos_state(&world), before);
}

/// A ferry-made WorkOS user re-linked in WorkOS to someone else (another
/// external_id and email): when the Clerk person changes, neither `sync`
/// nor a plain `run` writes over the other person; each says why.
#[test]
fn a_user_relinked_outside_ferry_is_never_written_over() {
    let world = world(300, 100_000);
    let dump = world.dump();
    let relinked = dump
        .users
        .iter()
        .find(|u| u.user.external_id.is_some())
        .unwrap()
        .user
        .clone();
    let clerk_id = relinked.external_id.clone().unwrap();
    let status = world.workos_call(
        Method::PUT,
        &format!("/user_management/users/{}", relinked.id),
        Some(json!({"external_id": "someone_else", "email": "someone.else@elsewhere.test", "first_name": "Other"})),
    );
    assert_eq!(status, 200);
    let (status, _) = world.clerk_admin(
        Method::PATCH,
        &format!("users/{clerk_id}"),
        Some(json!({"first_name": "Renamed"})),
    );
    assert_eq!(status, 200);
    let other = |world: &World| {
        world
            .dump()
            .users
            .into_iter()
            .find(|u| u.user.id == relinked.id)
            .map(|u| (u.user.external_id, u.user.email, u.user.first_name))
    };
    let untouched = Some((
        Some("someone_else".to_owned()),
        "someone.else@elsewhere.test".to_owned(),
        Some("Other".to_owned()),
    ));
    let expected = format!(
        "relinked_outside_ferry: the journal's WorkOS user {} now carries external_id `someone_else`; ferry leaves it alone, and `--reconcile` settles this person",
        relinked.id
    );
    let out = sync(&world);
    assert_eq!(other(&world), untouched, "sync: {}", out.stdout);
    let failures = world.report("world-failures.csv");
    assert_eq!(
        failures,
        format!(
            "clerk_id,email,code,reason\n{clerk_id},{},relinked_outside_ferry,\"{expected}\"\n",
            relinked.email
        ),
        "sync"
    );
    // The next run settles the person as `--reconcile` would: nobody in
    // WorkOS carries their external_id or email, so they get a user of
    // their own; the other person's is still untouched.
    world.run();
    assert_eq!(other(&world), untouched, "run");
    let theirs: Vec<_> = world
        .dump()
        .users
        .into_iter()
        .filter(|u| u.user.external_id.as_deref() == Some(clerk_id.as_str()))
        .map(|u| (u.user.email, u.user.first_name))
        .collect();
    assert_eq!(
        theirs,
        [(relinked.email.clone(), Some("Renamed".to_owned()))]
    );
    assert_eq!(
        world.report("world-failures.csv"),
        "clerk_id,email,code,reason\n"
    );
}

/// WorkOS merges metadata and deletes a key only on `null`: a key removed
/// in Clerk, and a map emptied there, leave WorkOS too; verify compares
/// metadata, and a second sync writes nothing.
#[test]
fn metadata_removed_in_clerk_leaves_workos_too() {
    let mut world = World::new(WorldOptions {
        users: 120,
        organizations: 0,
        users_options: json!({ "metadata": { "include": ["public"] } }),
        more_steps: vec![Step::with("verify", json!({ "sample": "all" }))],
        ..WorldOptions::default()
    });
    world.plan = world.plan.clone().on_deleted("report");
    world.write_plan();
    // Two users with at least two public keys each, before the first run.
    let chosen: Vec<String> = world
        .generated
        .tenant
        .users
        .iter()
        .filter(|u| u.primary_email().is_some() && !u.banned && !u.locked)
        .map(|u| u.id.clone())
        .take(2)
        .collect();
    for id in &chosen {
        let (status, _) = world.clerk_admin(
            Method::PATCH,
            &format!("users/{id}"),
            Some(json!({ "public_metadata": { "plan": "pro", "seats": "3" } })),
        );
        assert_eq!(status, 200);
    }
    world.run().code(0);
    let metadata_of = |world: &World, clerk_id: &str| {
        world
            .dump()
            .users
            .into_iter()
            .find(|u| u.user.external_id.as_deref() == Some(clerk_id))
            .map(|u| u.user.metadata)
            .unwrap()
    };
    let both = std::collections::BTreeMap::from([
        ("plan".to_owned(), "pro".to_owned()),
        ("seats".to_owned(), "3".to_owned()),
    ]);
    assert_eq!(metadata_of(&world, &chosen[0]), both);

    // One loses a key, the other every key.
    let changes = [json!({ "plan": "pro" }), json!({})];
    for (id, metadata) in chosen.iter().zip(changes) {
        let (status, _) = world.clerk_admin(
            Method::PATCH,
            &format!("users/{id}"),
            Some(json!({ "public_metadata": metadata })),
        );
        assert_eq!(status, 200);
    }
    sync(&world).code(0);
    assert_eq!(
        metadata_of(&world, &chosen[0]),
        std::collections::BTreeMap::from([("plan".to_owned(), "pro".to_owned())])
    );
    assert_eq!(metadata_of(&world, &chosen[1]), Default::default());
    world.sandbox.reset_request_counts();
    sync(&world).code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());

    // A key set in WorkOS outside ferry: verify's sample names it.
    let workos_id = world
        .dump()
        .users
        .into_iter()
        .find(|u| u.user.external_id.as_deref() == Some(chosen[0].as_str()))
        .unwrap()
        .user
        .id;
    let status = world.workos_call(
        Method::PUT,
        &format!("/user_management/users/{workos_id}"),
        Some(json!({ "metadata": { "extra": "x" } })),
    );
    assert_eq!(status, 200);
    let out = world.ferry().args(["verify", "plan.yaml"]).run().code(1);
    let line = format!("       {}: metadata (extra)", chosen[0]);
    assert!(out.stdout.lines().any(|l| l == line), "{}", out.stdout);
}

/// Users deleted in Clerk take their memberships with them. The sync
/// deletes users before memberships, then asks WorkOS whether each of
/// their memberships is still there (the spec does not say whether
/// WorkOS takes them with the user; the sandbox does) and deletes only
/// what is left: a read each instead of a write. A membership removed
/// in Clerk from a user who stays is still deleted.
#[test]
fn memberships_gone_with_their_user_cost_a_read_not_a_write() {
    let world = world(300, 100_000);
    let dump = world.dump();
    let workos_id: HashMap<String, String> = dump
        .users
        .iter()
        .filter_map(|u| Some((u.user.external_id.clone()?, u.user.id.clone())))
        .collect();
    let memberships_of = |user: &str| {
        dump.memberships
            .iter()
            .filter(|m| m.user_id == user)
            .count()
    };
    // Three migrated users with memberships in WorkOS leave; two
    // memberships of other migrated users end.
    let mut members: Vec<&String> = workos_id
        .iter()
        .filter(|(_, id)| memberships_of(id) > 0)
        .map(|(clerk, _)| clerk)
        .collect();
    members.sort();
    let (leaving, staying) = members.split_at(3);
    let taken_along: usize = leaving.iter().map(|u| memberships_of(&workos_id[*u])).sum();
    let (_, tenant) = world.clerk_admin(Method::GET, "tenant", None);
    let ended: Vec<String> = tenant["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            let user = m["public_user_data"]["user_id"].as_str().unwrap();
            staying.iter().any(|s| s.as_str() == user)
        })
        .take(2)
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ended.len(), 2);
    for user in leaving {
        assert_eq!(
            world
                .clerk_admin(Method::DELETE, &format!("users/{user}"), None)
                .0,
            200
        );
    }
    for membership in &ended {
        let path = format!("memberships/{membership}");
        assert_eq!(world.clerk_admin(Method::DELETE, &path, None).0, 200);
    }

    world.sandbox.reset_request_counts();
    sync(&world).code(0);
    let counts = world.counts();
    let routes = [
        "DELETE /user_management/users/{id}",
        "DELETE /user_management/organization_memberships/{id}",
        "GET /user_management/organization_memberships/{id}",
    ];
    assert_eq!(
        routes.map(|route| counts.route_total(route)),
        [3, 2, taken_along as u64 + 2],
        "{counts:#?}"
    );
    assert_eq!(counts.workos_writes, 5, "{counts:#?}");
    let after = world.dump();
    assert_eq!(
        after.memberships.len(),
        dump.memberships.len() - taken_along - 2
    );
    world.sandbox.reset_request_counts();
    sync(&world).code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
}

/// A membership of a user the sync settles from its seal is decided once
/// the users listing has been read whole, while the users step's last
/// writes still go out: it is made before the renamed users' updates end
/// (each request takes 100 ms, one at a time), not after the users step.
#[test]
fn memberships_of_users_settled_from_their_seals_do_not_wait_for_the_users_step() {
    let mut world = world(300, 100_000);
    one_request_at_a_time(&mut world);
    let dump = world.dump();
    let migrated: HashSet<String> = dump
        .users
        .iter()
        .filter_map(|u| u.user.external_id.clone())
        .collect();
    let (_, tenant) = world.clerk_admin(Method::GET, "tenant", None);
    let members: HashSet<&str> = tenant["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["public_user_data"]["user_id"].as_str().unwrap())
        .collect();
    let users: Vec<&str> = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .filter(|id| migrated.contains(*id))
        .collect();
    // The oldest migrated user without a membership joins an organization;
    // the ten newest are renamed (the users listing ends with them).
    let joining = *users.iter().find(|id| !members.contains(**id)).unwrap();
    let organization = tenant["organizations"][0]["id"].as_str().unwrap();
    let body = json!({"organization_id": organization, "user_id": joining, "role": "org:member"});
    assert_eq!(
        world.clerk_admin(Method::POST, "memberships", Some(body)).0,
        201
    );
    let renamed = &users[users.len() - 10..];
    for id in renamed {
        let body = json!({"first_name": "Renamed"});
        assert_eq!(
            world
                .clerk_admin(Method::PATCH, &format!("users/{id}"), Some(body))
                .0,
            200
        );
    }
    world
        .sandbox
        .set_faults(ferry_sandbox::FaultConfig {
            latency_ms: 100,
            ..Default::default()
        })
        .unwrap();
    sync(&world).code(0);
    world.sandbox.set_faults(Default::default()).unwrap();

    let after = world.dump();
    let joined = after
        .users
        .iter()
        .find(|u| u.user.external_id.as_deref() == Some(joining))
        .unwrap();
    let made = after
        .memberships
        .iter()
        .find(|m| m.user_id == joined.user.id)
        .expect("the new membership");
    let last_update = after
        .users
        .iter()
        .filter(|u| renamed.contains(&u.user.external_id.as_deref().unwrap_or("")))
        .map(|u| u.user.updated_at.clone())
        .max()
        .unwrap();
    assert!(
        made.created_at < last_update,
        "membership made at {}, last renamed user updated at {last_update}",
        made.created_at
    );
}
