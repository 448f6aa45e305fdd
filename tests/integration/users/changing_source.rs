//! Reruns and reconcile against a Clerk tenant that changes between runs
//! (through the sandbox's admin routes, as people keep using Clerk during
//! a cutover): a rerun writes exactly the changes, and a reconcile run
//! after it writes nothing.

use ferry_core::journal::{Journal, Kind};
use reqwest::Method;
use serde_json::json;

#[test]
fn a_rerun_writes_exactly_what_changed_in_clerk_and_reconcile_then_nothing() {
    let world = super::reconcile::world();
    let before = world.dump();

    // In Clerk: one sign-up, one rename, one new membership of the new user.
    let (status, user) = world.clerk_admin(
        Method::POST,
        "users",
        Some(json!({"email_address": ["late.signup@acme.test"], "first_name": "Lena"})),
    );
    assert_eq!(status, 201, "{user}");
    let renamed = world.expected().keys().next().unwrap().clone();
    let (status, _) = world.clerk_admin(
        Method::PATCH,
        &format!("users/{renamed}"),
        Some(json!({"last_name": "Changed-In-Clerk"})),
    );
    assert_eq!(status, 200);
    let org = before.organizations[0].external_id.clone().unwrap();
    let (status, membership) = world.clerk_admin(
        Method::POST,
        "memberships",
        Some(json!({"organization_id": org, "user_id": user["id"], "role": "org:member"})),
    );
    assert_eq!(status, 201, "{membership}");

    world.sandbox.reset_request_counts();
    world.run().code(0);
    let counts = world.counts();
    assert_eq!(
        counts.route_total("POST /user_management/users"),
        1,
        "{counts:#?}"
    );
    assert_eq!(
        counts.route_total("PUT /user_management/users/{id}"),
        1,
        "{counts:#?}"
    );
    assert_eq!(
        counts.route_total("POST /user_management/organization_memberships"),
        1,
        "{counts:#?}"
    );
    assert_eq!(counts.workos_writes, 3, "only the changes: {counts:#?}");
    let after = world.dump();
    assert_eq!(after.users.len(), before.users.len() + 1);
    let changed = after
        .users
        .iter()
        .find(|u| u.user.external_id.as_deref() == Some(renamed.as_str()))
        .unwrap();
    assert_eq!(changed.user.last_name.as_deref(), Some("Changed-In-Clerk"));

    world.sandbox.reset_request_counts();
    world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--reconcile"])
        .run()
        .code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
}

/// A rerun maps only the users whose Clerk record, export row or mapping
/// changed (the rest carry a seal in the journal), and all of them once
/// the script changes.
#[test]
fn a_rerun_maps_again_what_changed_and_everyone_once_the_script_changes() {
    let world = super::World::new(super::WorldOptions {
        users: 120,
        organizations: 2,
        script: Some("map.rhai"),
        ..super::WorldOptions::default()
    });
    world
        .scratch
        .write("map.rhai", "fn map_user(user, ctx) { #{} }\n");
    world.run().code(0);
    let migrated = world.dump().users.len() as u64;
    assert!(migrated > 50, "{migrated}");

    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());

    // A user skipped as banned is unbanned in Clerk: the skip is decided
    // again, and the user is created.
    let skipped = world
        .generated
        .tenant
        .users
        .iter()
        .find(|u| u.banned && !u.email_addresses.is_empty())
        .expect("the generator bans users")
        .id
        .clone();
    let (status, _) = world.clerk_admin(
        Method::PATCH,
        &format!("users/{skipped}"),
        Some(json!({"banned": false})),
    );
    assert_eq!(status, 200);
    world.sandbox.reset_request_counts();
    world.run().code(0);
    let counts = world.counts();
    assert_eq!(
        counts.route_total("POST /user_management/users"),
        1,
        "{counts:#?}"
    );
    assert_eq!(counts.workos_writes, 1, "{counts:#?}");

    // A script that changes every user's last name: everyone is mapped again.
    world.scratch.write(
        "map.rhai",
        "fn map_user(user, ctx) { #{ last_name: \"Scripted\" } }\n",
    );
    world.sandbox.reset_request_counts();
    world.run().code(0);
    let counts = world.counts();
    assert_eq!(
        counts.route_total("PUT /user_management/users/{id}"),
        migrated + 1,
        "{counts:#?}"
    );
    assert!(
        world
            .dump()
            .users
            .iter()
            .all(|u| u.user.last_name.as_deref() == Some("Scripted"))
    );
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
}

/// A hook that skips with `skip("why")` has its reason in the skipped
/// list next to each user it skipped, under the code `hook_skipped`, and
/// the report counts them under that code.
#[test]
fn a_hook_s_skip_carries_the_script_s_reason() {
    let world = super::World::new(super::WorldOptions {
        users: 80,
        organizations: 2,
        script: Some("map.rhai"),
        ..super::WorldOptions::default()
    });
    world.scratch.write(
        "map.rhai",
        "fn map_user(user, ctx) {\n  if user.id.ends_with(\"1\") { return skip(\"contractors stay in Clerk\"); }\n  #{}\n}\n",
    );
    world.run().code(0);
    let reason = "map_user skipped it: contractors stay in Clerk";
    let list = world.report("world-run-1-skipped.csv");
    let skipped: Vec<&str> = list
        .lines()
        .filter(|line| line.contains(reason))
        .inspect(|line| assert!(line.contains(",hook_skipped,"), "{line}"))
        .filter_map(|line| line.split(',').next())
        .collect();
    let migrated: std::collections::HashSet<String> = world
        .dump()
        .users
        .iter()
        .filter_map(|u| u.user.external_id.clone())
        .collect();
    // Every user the hook saw with such an id is listed with the reason, and none migrated.
    let expected: Vec<&str> = world
        .generated
        .tenant
        .users
        .iter()
        .filter(|u| u.id.ends_with('1') && !u.banned && !u.locked)
        .map(|u| u.id.as_str())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(skipped, expected, "{list}");
    assert!(expected.iter().all(|id| !migrated.contains(*id)));
    let report: serde_json::Value =
        serde_json::from_str(&world.report("world-run-1.json")).unwrap();
    let by_code: Vec<(&str, u64)> = report["accounting"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["group"] == "skipped")
        .map(|b| (b["label"].as_str().unwrap(), b["users"].as_u64().unwrap()))
        .filter(|(label, _)| label.starts_with("hook_skipped: "))
        .collect();
    assert_eq!(
        by_code,
        [(
            "hook_skipped: A hook returned `()` or `skip(...)` for the record.",
            expected.len() as u64
        )]
    );
}

/// A journal an earlier ferry sealed (its seals covered settings that no
/// longer decide a payload: the retry attempts and the concurrency) is
/// read by this one as a cache that misses: every user is mapped again,
/// found as written, sealed anew, and nothing is written.
#[test]
fn a_journal_sealed_by_an_earlier_ferry_reruns_with_no_writes() {
    let world = super::World::new(super::WorldOptions {
        users: 80,
        organizations: 2,
        ..super::WorldOptions::default()
    });
    world.run().code(0);
    let state = world.scratch.path().join(".ferry/world.db");
    let seals = |kind| {
        let journal = Journal::open_to_read(&state).unwrap();
        let mut seals = std::collections::BTreeMap::new();
        journal
            .each_seal(kind, |id, seal| {
                seals.insert(id.to_owned(), seal.to_owned());
            })
            .unwrap();
        seals
    };
    let sealed = seals(Kind::User);
    assert!(sealed.len() > 40, "{}", sealed.len());

    // What the earlier ferry left: seals of the same stored form
    // (`1:<seal>:<claims>:<state>`) over other inputs, which this ferry's
    // sealer never computes: the seal's last hex digit changed.
    let connection = rusqlite::Connection::open(&state).unwrap();
    let earlier = connection
        .execute(
            "UPDATE records SET seal = substr(seal, 1, 33)
                 || CASE substr(seal, 34, 1) WHEN '0' THEN '1' ELSE '0' END
                 || substr(seal, 35)
             WHERE kind = 'user' AND seal IS NOT NULL",
            [],
        )
        .unwrap();
    drop(connection);
    assert!(earlier >= sealed.len(), "{earlier} of {}", sealed.len());
    assert_ne!(seals(Kind::User), sealed);

    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
    assert_eq!(seals(Kind::User), sealed, "every user is sealed anew");
}
