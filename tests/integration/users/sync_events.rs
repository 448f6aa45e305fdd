//! A sync checks WorkOS's memberships by WorkOS's own record of changes
//! (`GET /events`): an organization nobody touched since ferry's last pass
//! is not listed, one named by an event is, and what was changed there by
//! hand is repaired. A cursor too old, or an events answer ferry cannot
//! trust, lists every organization and says so.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::json;

use super::World;

const LISTING: &str = "GET /user_management/organization_memberships";

use super::sync::sync;

fn world() -> World {
    super::sync::world(1000, 100_000)
}

/// WorkOS's memberships as (user, organization, role).
fn memberships(world: &World) -> BTreeSet<(String, String, String)> {
    world
        .dump()
        .memberships
        .into_iter()
        .map(|m| (m.user_id, m.organization_id, m.role.slug))
        .collect()
}

/// Syncs with the request counts reset first; returns the output and how
/// many WorkOS membership listings the sync read.
fn counted_sync(world: &World) -> (crate::common::Output, u64) {
    world.sandbox.reset_request_counts();
    let out = sync(world);
    let listings = world.sandbox.request_counts().route_total(LISTING);
    (out, listings)
}

fn writes(world: &World) -> u64 {
    let counts = world.sandbox.request_counts();
    [
        "POST /user_management/organization_memberships",
        "PUT /user_management/organization_memberships/{id}",
        "DELETE /user_management/organization_memberships/{id}",
    ]
    .iter()
    .map(|route| counts.route_total(route))
    .sum()
}

#[test]
fn memberships_changed_by_hand_in_workos_are_found_through_the_events_and_repaired() {
    let world = world();
    let migrated = memberships(&world);
    let dump = world.dump();
    assert!(
        dump.organizations.len() >= 3,
        "{}",
        dump.organizations.len()
    );

    // By hand in WorkOS: a membership deleted in one organization, another
    // given the other role in a second one.
    let deleted = dump.memberships[0].clone();
    let changed = dump
        .memberships
        .iter()
        .find(|m| m.organization_id != deleted.organization_id)
        .unwrap()
        .clone();
    let status = world.workos_call(
        Method::DELETE,
        &format!("/user_management/organization_memberships/{}", deleted.id),
        None,
    );
    assert_eq!(status, 200);
    let other_role = match changed.role.slug.as_str() {
        "admin" => "member",
        _ => "admin",
    };
    let status = world.workos_call(
        Method::PUT,
        &format!("/user_management/organization_memberships/{}", changed.id),
        Some(json!({ "role_slug": other_role })),
    );
    assert_eq!(status, 200);
    assert_ne!(memberships(&world), migrated);

    // The sync lists the two organizations the events name, not the
    // others, and puts both memberships back as Clerk has them.
    let (out, listings) = counted_sync(&world);
    let out = out.code(0);
    assert_eq!(memberships(&world), migrated, "{}", out.stdout);
    assert_eq!(listings, 2, "{}", out.stdout);
    assert_eq!(writes(&world), 2, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("name 2 organizations: only those are listed ahead"),
        "{}",
        out.stdout
    );

    // The next sync reads the events again from five minutes before the
    // last pass (the cursor's margin): the same two organizations, and
    // nothing to write.
    let (out, listings) = counted_sync(&world);
    let out = out.code(0);
    assert_eq!(listings, 2, "{}", out.stdout);
    assert_eq!(writes(&world), 0, "{}", out.stdout);
    assert_eq!(memberships(&world), migrated);
}

#[test]
fn a_stale_or_untrustworthy_event_cursor_lists_every_organization_and_says_so() {
    let world = world();
    let migrated = memberships(&world);
    let organizations = world.dump().organizations.len() as u64;
    let set_cursor = |days_ago: i64| {
        let state = world.scratch.path().join(".ferry/world.db");
        let journal = ferry_core::journal::Journal::open_for_run(&state).unwrap();
        ferry_core::target::changes::set_cursor(&journal, Utc::now() - Duration::days(days_ago))
            .unwrap();
    };
    let deleted = world.dump().memberships[0].clone();
    let delete = |membership: &ferry_wire::workos::model::OrganizationMembership| {
        let path = format!(
            "/user_management/organization_memberships/{}",
            membership.id
        );
        assert_eq!(world.workos_call(Method::DELETE, &path, None), 200);
    };

    // Older than WorkOS keeps events: every organization is listed, and
    // the membership deleted by hand is found by the listing.
    set_cursor(40);
    delete(&deleted);
    let (out, listings) = counted_sync(&world);
    let out = out.code(0);
    assert_eq!(listings, organizations, "{}", out.stdout);
    assert_eq!(memberships(&world), migrated);
    let stale = "note: every organization's WorkOS memberships are listed: the event cursor (";
    let stale_end = ") is older than the 29 days WorkOS's events are read for";
    let said = out.stdout.lines().find(|l| l.contains(stale));
    assert!(
        said.is_some_and(|line| line.ends_with(stale_end)),
        "{}",
        out.stdout
    );

    // An events answer that ignores its filter cannot be read as a record
    // of every change: every organization is listed again.
    world
        .sandbox
        .set_faults(ferry_sandbox::FaultConfig {
            events_unfiltered: true,
            ..Default::default()
        })
        .unwrap();
    let (out, listings) = counted_sync(&world);
    let out = out.code(0);
    assert_eq!(listings, organizations, "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "note: every organization's WorkOS memberships are listed: WorkOS's events could not be read: event "
        ) && out.stdout.contains(" is of a kind not asked for ("),
        "{}",
        out.stdout
    );

    // Trustworthy again, the cursor that sync left is followed: only what
    // the events name is listed.
    world.sandbox.set_faults(Default::default()).unwrap();
    let (out, listings) = counted_sync(&world);
    let out = out.code(0);
    assert!(listings < organizations, "{listings}: {}", out.stdout);
    assert!(
        !out.stdout
            .contains("every organization's WorkOS memberships are listed"),
        "{}",
        out.stdout
    );
    assert_eq!(memberships(&world), migrated);
}
