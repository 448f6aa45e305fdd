//! Reruns and reconcile against a Clerk tenant that changes between runs
//! (through the sandbox's admin routes, as people keep using Clerk during
//! a cutover): a rerun writes exactly the changes, and a reconcile run
//! after it writes nothing.

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
