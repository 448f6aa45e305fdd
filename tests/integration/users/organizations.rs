//! Organizations, memberships and roles; MFA re-enrollment; social sign-in flags.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ferry_core::journal::{Action, Journal, Kind};
use reqwest::Method;
use serde_json::{Value, json};

use super::{World, WorldOptions};
use crate::common::plan::Step;

const SCRIPT: &str = r#"
fn map_membership(membership, ctx) {
    if membership.role == "org:viewer" { return (); }
    membership.default_slug
}
"#;

fn b2b_world(users: usize, organizations: usize) -> World {
    let world = World::new(WorldOptions {
        users,
        organizations,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::with(
                "memberships",
                json!({ "roles": { "org:admin": "owner", "org:member": "member" } }),
            ),
            Step::bare("mfa_report"),
        ],
        script: Some("roles.rhai"),
        ..WorldOptions::default()
    });
    world.scratch.write("roles.rhai", SCRIPT);
    world
}

/// Clerk's memberships of migrated users, as (Clerk user, Clerk org) → expected WorkOS slug.
fn expected_memberships(world: &World) -> HashMap<(String, String), String> {
    let migrated = world.expected();
    world
        .generated
        .tenant
        .memberships
        .iter()
        .filter_map(|m| {
            let user = m.public_user_data.as_ref()?.user_id.clone();
            if !migrated.contains_key(&user) || m.role == "org:viewer" {
                return None;
            }
            let slug = match m.role.as_str() {
                "org:admin" => "owner".to_owned(),
                other => other.trim_start_matches("org:").to_owned(),
            };
            Some(((user, m.organization.id.clone()), slug))
        })
        .collect()
}

/// The memberships step's progress has a total from the start: Clerk's
/// member counts, asked with the organizations listing.
#[test]
fn the_memberships_step_knows_its_total_before_its_first_membership() {
    let world = b2b_world(600, 12);
    let out = world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--json"])
        .run()
        .code(0);
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|e: &Value| e["step"] == "memberships")
        .collect();
    let total = events
        .iter()
        .position(|e| e["event"] == "total")
        .expect("a total for the memberships step");
    let first_record = events.iter().position(|e| e["event"] == "record").unwrap();
    assert!(total < first_record, "the total comes first");
    assert_eq!(
        events[total]["total"],
        world.generated.tenant.memberships.len()
    );
    let records = events.iter().filter(|e| e["event"] == "record").count();
    assert_eq!(records, world.generated.tenant.memberships.len());
}

#[test]
fn organizations_and_memberships_migrate_and_a_rerun_repairs_only_what_is_missing() {
    let world = b2b_world(5000, 200);
    world.run().code(0);

    // Clerk's memberships come from the instance-wide listing, 500 a page,
    // read once: not one listing per organization.
    let counts = world.sandbox.request_counts();
    let pages = world.generated.tenant.memberships.len().div_ceil(500) as u64;
    assert_eq!(
        counts.route_total("GET /v1/organization_memberships"),
        pages
    );
    assert_eq!(
        counts.route_total("GET /v1/organizations/{id}/memberships"),
        0
    );

    let dump = world.dump();
    assert_eq!(
        dump.organizations.len(),
        world.generated.tenant.organizations.len()
    );
    let org_by_target: HashMap<&str, &str> = dump
        .organizations
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                o.external_id.as_deref().expect("external_id"),
            )
        })
        .collect();
    let user_by_target: HashMap<&str, &str> = dump
        .users
        .iter()
        .map(|u| (u.user.id.as_str(), u.user.external_id.as_deref().unwrap()))
        .collect();
    let mut actual: HashMap<(String, String), String> = HashMap::new();
    for m in &dump.memberships {
        let key = (
            user_by_target[m.user_id.as_str()].to_owned(),
            org_by_target[m.organization_id.as_str()].to_owned(),
        );
        assert!(
            actual.insert(key.clone(), m.role.slug.clone()).is_none(),
            "a duplicate membership {key:?}"
        );
    }
    let expected = expected_memberships(&world);
    assert!(expected.len() > 1000, "{}", expected.len());
    assert_eq!(actual, expected);
    // Users in several organizations keep all of them.
    let per_user = expected
        .keys()
        .fold(HashMap::<&str, usize>::new(), |mut map, (u, _)| {
            *map.entry(u.as_str()).or_default() += 1;
            map
        });
    assert!(per_user.values().any(|n| *n > 1));
    // The custom role map and the hook's skip were both applied.
    assert!(actual.values().any(|slug| slug == "owner"));
    assert!(
        world
            .generated
            .tenant
            .memberships
            .iter()
            .any(|m| m.role == "org:viewer"),
        "the generator plants guests"
    );

    // Delete ten memberships in WorkOS: a rerun recreates exactly those, and writes nothing else.
    let http = reqwest::Client::new();
    let key = world.sandbox.keys().workos_api_key.clone();
    world.runtime.block_on(async {
        for m in dump.memberships.iter().step_by(37).take(10) {
            let url = format!(
                "{}/user_management/organization_memberships/{}",
                world.sandbox.workos_url(),
                m.id
            );
            let response = http.delete(url).bearer_auth(&key).send().await.unwrap();
            assert!(response.status().is_success());
        }
    });
    assert_eq!(world.dump().memberships.len(), dump.memberships.len() - 10);
    world.sandbox.reset_request_counts();
    world.run().code(0);
    let counts = world.counts();
    assert_eq!(counts.workos_writes, 10, "{counts:?}");
    assert_eq!(
        counts.count("POST /user_management/organization_memberships", "201"),
        10,
        "{counts:?}"
    );
    assert_eq!(world.dump().memberships.len(), dump.memberships.len());
}

/// The journal's seal of each membership record (Clerk id → stored seal),
/// read through ferry's own journal API.
fn membership_seals(world: &World) -> BTreeMap<String, String> {
    let state = world.scratch.path().join(".ferry/world.db");
    let journal = Journal::open_to_read(&state).unwrap();
    let mut seals = BTreeMap::new();
    journal
        .each_seal(Kind::Membership, |id, seal| {
            seals.insert(id.to_owned(), seal.to_owned());
        })
        .unwrap();
    seals
}

/// The Clerk ids on `<name>-memberships-skipped.csv`.
fn skipped_memberships(world: &World) -> BTreeSet<String> {
    let list = world.report("world-memberships-skipped.csv");
    csv::Reader::from_reader(list.as_bytes())
        .records()
        .map(|row| row.unwrap()[0].to_owned())
        .collect()
}

fn membership_action(world: &World, clerk_id: &str) -> Action {
    let state = world.scratch.path().join(".ferry/world.db");
    let journal = Journal::open_to_read(&state).unwrap();
    journal
        .record(Kind::Membership, clerk_id)
        .unwrap()
        .expect("a membership record")
        .action
}

/// A rerun counts a sealed membership unchanged without deciding it again,
/// but only while WorkOS still lists it as ferry left it, its user is
/// unchanged, and the mapping is the same.
#[test]
fn a_rerun_settles_sealed_memberships_and_decides_again_what_changed() {
    let world = b2b_world(400, 8);
    world.run().code(0);
    let dump = world.dump();
    let sealed = membership_seals(&world);
    let members = sealed.values().filter(|s| !s.ends_with(":s")).count();
    assert_eq!(members, dump.memberships.len(), "every written membership");
    assert!(
        sealed.len() > members,
        "the hook's skips are sealed too: {sealed:?}"
    );

    // Nothing changed: nothing written, and the seals stand. The skipped
    // memberships, settled without a decision, are on no list of this
    // run's, but on the list of the migration as it stands.
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
    assert_eq!(membership_seals(&world), sealed);
    let reports = world.scratch.path().join("reports");
    assert!(!reports.join("world-run-2-memberships-skipped.csv").exists());
    let sealed_skips: BTreeSet<String> = sealed
        .iter()
        .filter(|(_, seal)| seal.ends_with(":s"))
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        skipped_memberships(&world).is_superset(&sealed_skips),
        "{sealed_skips:?}"
    );

    // Outside ferry, in WorkOS: one membership deleted, another given
    // another role. In Clerk: a member banned.
    let [deleted, demoted] = [&dump.memberships[0], &dump.memberships[1]];
    let path = |id: &str| format!("/user_management/organization_memberships/{id}");
    assert!((200..300).contains(&world.workos_call(Method::DELETE, &path(&deleted.id), None)));
    let other_role = if demoted.role.slug == "member" {
        "owner"
    } else {
        "member"
    };
    let status = world.workos_call(
        Method::PUT,
        &path(&demoted.id),
        Some(json!({ "role_slug": other_role })),
    );
    assert_eq!(status, 200);
    let users: HashMap<&str, &str> = dump
        .users
        .iter()
        .map(|u| (u.user.id.as_str(), u.user.external_id.as_deref().unwrap()))
        .collect();
    let untouched: HashSet<&str> = [deleted, demoted]
        .iter()
        .map(|m| users[m.user_id.as_str()])
        .collect();
    let banned = world
        .generated
        .tenant
        .memberships
        .iter()
        .filter_map(|m| m.public_user_data.as_ref().map(|u| u.user_id.as_str()))
        .find(|user| world.expected().contains_key(*user) && !untouched.contains(user))
        .expect("a migrated member")
        .to_owned();
    let (status, _) = world.clerk_admin(
        Method::PATCH,
        &format!("users/{banned}"),
        Some(json!({ "banned": true })),
    );
    assert_eq!(status, 200);

    world.sandbox.reset_request_counts();
    world.run().code(0);
    let counts = world.counts();
    assert_eq!(
        counts.count("POST /user_management/organization_memberships", "201"),
        1,
        "{counts:#?}"
    );
    assert_eq!(
        counts.route_total("PUT /user_management/organization_memberships/{id}"),
        1,
        "{counts:#?}"
    );
    assert_eq!(counts.workos_writes, 2, "{counts:#?}");
    // The banned user's memberships are skipped now, not counted unchanged.
    let of_banned: Vec<&str> = world
        .generated
        .tenant
        .memberships
        .iter()
        .filter(|m| m.public_user_data.as_ref().map(|u| u.user_id.as_str()) == Some(&banned))
        .map(|m| m.id.as_str())
        .collect();
    assert!(!of_banned.is_empty());
    let listed = skipped_memberships(&world);
    for id in of_banned {
        assert_eq!(membership_action(&world, id), Action::Skipped, "{id}");
        assert!(listed.contains(id), "{id} is listed as skipped");
    }

    // An edited script breaks every seal: each membership is decided
    // again (nothing to write) and sealed anew.
    let resealed = membership_seals(&world);
    world
        .scratch
        .write("roles.rhai", &format!("// edited\n{SCRIPT}"));
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
    let after = membership_seals(&world);
    assert_eq!(after.len(), resealed.len());
    for (id, seal) in &after {
        assert_ne!(resealed.get(id), Some(seal), "{id} kept its seal");
    }
}

#[test]
fn the_mfa_report_lists_exactly_who_must_act_and_the_social_flags_match_the_generator() {
    let world = b2b_world(3000, 20);
    world.run().code(0);

    let migrated = world.expected();
    let exported: HashMap<&str, bool> = world
        .generated
        .export
        .iter()
        .map(|r| (r.id.as_str(), r.totp_secret.is_some()))
        .collect();
    let mut expected: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for user in migrated.values() {
        let mut findings = Vec::new();
        if user.sms_second_factor().is_some() {
            findings.push("sms");
        }
        if user.totp_enabled && !exported[user.id.as_str()] {
            findings.push("totp_not_exported");
        }
        if user.backup_code_enabled {
            findings.push("backup_codes");
        }
        if !findings.is_empty() {
            expected.insert(user.id.clone(), findings);
        }
    }
    let reports = world.scratch.path().join("reports");
    let csv = std::fs::read_to_string(reports.join("world-mfa-notify.csv")).unwrap();
    let mut listed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        listed.insert(fields[0].to_owned(), fields[3].split(';').collect());
    }
    assert!(expected.values().any(|f| f.contains(&"sms")));
    assert!(expected.values().any(|f| f.contains(&"totp_not_exported")));
    assert!(expected.values().any(|f| f.contains(&"backup_codes")));
    assert_eq!(listed, expected);

    // One notice each, addressed to the user; nothing for users whose TOTP moved.
    let notices: HashSet<String> = std::fs::read_dir(reports.join("notices"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".txt")
                .to_owned()
        })
        .collect();
    assert_eq!(notices, expected.keys().cloned().collect());
    let some = expected.keys().next().unwrap();
    let notice = std::fs::read_to_string(reports.join(format!("notices/{some}.txt"))).unwrap();
    let email = &migrated[some].primary_email().unwrap().email_address;
    assert!(notice.contains(email.as_str()), "{notice}");
    let moved: Vec<_> = migrated
        .values()
        .filter(|u| {
            u.totp_enabled
                && exported[u.id.as_str()]
                && !u.backup_code_enabled
                && u.sms_second_factor().is_none()
        })
        .collect();
    assert!(!moved.is_empty());
    assert!(moved.iter().all(|u| !listed.contains_key(&u.id)));

    // Social sign-in flags: github-only users cannot sign in (google and
    // microsoft are the defaults configured); accounts with another email
    // would not auto-link.
    let flags = std::fs::read_to_string(reports.join("world-sign-in-flags.csv")).unwrap();
    let count = |flag: &str| {
        flags
            .lines()
            .filter(|l| l.split(',').nth(2) == Some(flag))
            .count()
    };
    let github_only = migrated
        .values()
        .filter(|u| {
            !u.password_enabled
                && !u.external_accounts.is_empty()
                && u.external_accounts
                    .iter()
                    .all(|a| a.provider == "oauth_github")
        })
        .count();
    assert!(github_only > 0);
    assert_eq!(count("provider_not_enabled"), github_only);
    let mismatched = migrated
        .values()
        .flat_map(|u| u.external_accounts.iter().map(move |a| (u, a)))
        .filter(|(u, a)| {
            !a.email_address
                .eq_ignore_ascii_case(&u.primary_email().unwrap().email_address)
        })
        .count();
    assert!(mismatched > 0);
    assert_eq!(count("oauth_email_differs"), mismatched);
    assert!(world.generated.truth.oauth_email_mismatch as usize >= mismatched);
}
