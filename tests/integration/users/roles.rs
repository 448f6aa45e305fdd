//! Roles, permissions and domains: WorkOS refuses a membership whose role it
//! does not have (the sandbox too), so a plan either makes Clerk's roles
//! with a `roles` step or is refused before its first write; a role WorkOS
//! already has is adopted as it is; organizations carry Clerk's domains.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Value, json};

use super::{World, WorldOptions};
use crate::common::plan::Step;

fn world(with_roles: bool) -> World {
    let mut steps = vec![Step::bare("organizations")];
    if with_roles {
        steps.push(Step::bare("roles"));
    }
    steps.push(Step::bare("memberships"));
    steps.push(Step::with("verify", json!({ "sample": "all" })));
    World::new(WorldOptions {
        users: 150,
        organizations: 6,
        more_steps: steps,
        ..WorldOptions::default()
    })
}

/// The WorkOS slug each Clerk role maps to by the default rule.
fn slug(clerk_role: &str) -> String {
    clerk_role.trim_start_matches("org:").to_owned()
}

#[test]
fn without_a_roles_step_the_run_is_refused_before_any_write_naming_each_missing_role() {
    let world = world(false);
    let out = world.run().code(2);
    let out = out.stderr_has("preflight failed, nothing was written");
    let out = out.stderr_has("`billing_manager` (from org:billing_manager)");
    let out = out.stderr_has("`viewer` (from org:viewer)");
    let out = out.stderr_has("add `- roles` before `memberships`");
    // admin and member exist in every WorkOS environment; the unused role is not needed.
    assert!(!out.stderr.contains("`admin`") && !out.stderr.contains("auditor"));
    assert_eq!(world.counts().workos_writes, 0);
    // `plan` says the same before anything is run.
    world
        .ferry()
        .args(["plan", "plan.yaml"])
        .run()
        .code(2)
        .stderr_has("`viewer` (from org:viewer)");
}

#[test]
fn the_roles_step_makes_each_role_once_with_its_permissions_and_memberships_use_them() {
    let world = world(true);
    // `plan` shows what the roles step will do, and writes nothing.
    let out = world.ferry().args(["plan", "plan.yaml"]).run().code(0);
    let out = out.stdout_has("plan: 5 roles");
    let out = out.stdout_has(
        "org:billing_manager: `billing_manager` with permissions [invoices:manage, invoices:read]",
    );
    out.stdout_has("org:admin: `admin` exists in WorkOS already");
    assert_eq!(world.counts().workos_writes, 0);

    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    let counts = world.counts();
    // Three custom roles (one no membership uses); admin and member are adopted.
    assert_eq!(
        counts.route_total("POST /authorization/roles"),
        3,
        "{counts:#?}"
    );
    // Four permissions of the instance's own; Clerk's org:sys_… have no counterpart.
    assert_eq!(
        counts.route_total("POST /authorization/permissions"),
        4,
        "{counts:#?}"
    );

    let dump = world.dump();
    let roles: BTreeMap<&str, BTreeSet<&str>> = dump
        .roles
        .iter()
        .map(|r| {
            (
                r.slug.as_str(),
                r.permissions.iter().flatten().map(String::as_str).collect(),
            )
        })
        .collect();
    let set = |items: &[&'static str]| items.iter().copied().collect::<BTreeSet<&str>>();
    assert_eq!(
        roles["billing_manager"],
        set(&["invoices:manage", "invoices:read"])
    );
    assert_eq!(roles["viewer"], set(&["reports:read"]));
    assert_eq!(roles["auditor"], set(&["reports:export", "reports:read"]));
    assert!(roles["admin"].is_empty() && roles["member"].is_empty());
    let billing = dump
        .roles
        .iter()
        .find(|r| r.slug == "billing_manager")
        .unwrap();
    assert_eq!(billing.name, "Billing manager");
    assert_eq!(billing.description.as_deref(), Some("Pays the bills"));

    // Every membership on its person, in its organization, with its mapped slug.
    let landed = super::reconcile::Migration::of(&dump).memberships;
    let expected = world.expected();
    let wanted: BTreeSet<(String, String, String)> = world
        .generated
        .tenant
        .memberships
        .iter()
        .filter_map(|m| {
            let user = m.public_user_data.as_ref()?.user_id.clone();
            expected
                .contains_key(&user)
                .then(|| (user, m.organization.id.clone(), slug(&m.role)))
        })
        .collect();
    assert_eq!(landed, wanted);
    assert!(landed.iter().any(|(_, _, s)| s == "billing_manager"));

    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0, "{:#?}", world.counts());
}

#[test]
fn a_role_that_already_exists_with_other_permissions_is_adopted_reported_and_left_unchanged() {
    let world = world(true);
    let call = |method, path: &str, body: Value| {
        let status = world.workos_call(method, path, Some(body));
        assert!(matches!(status, 200 | 201), "{path}: {status}");
    };
    call(
        Method::POST,
        "/authorization/permissions",
        json!({ "slug": "reports:everything", "name": "Everything" }),
    );
    call(
        Method::POST,
        "/authorization/roles",
        json!({ "slug": "viewer", "name": "Viewer (ops)" }),
    );
    call(
        Method::PUT,
        "/authorization/roles/viewer/permissions",
        json!({ "permissions": ["reports:everything"] }),
    );

    let out = world.run().code(0);
    let note = "WorkOS role `viewer` already existed with permissions [reports:everything]; Clerk's maps to [reports:read]; adopted and left unchanged";
    let out = out.stdout_has(note);
    out.stdout_has("verify: passed");
    let report: Value = serde_json::from_str(&world.report("world-run-1.json")).unwrap();
    let roles_step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "roles")
        .unwrap();
    assert!(
        roles_step["notes"].to_string().contains(note),
        "{roles_step}"
    );
    assert!(
        world
            .report("world-run-1.html")
            .contains("adopted and left unchanged")
    );

    let dump = world.dump();
    let viewer = dump.roles.iter().find(|r| r.slug == "viewer").unwrap();
    assert_eq!(viewer.name, "Viewer (ops)");
    assert_eq!(
        viewer.permissions,
        Some(vec!["reports:everything".to_owned()])
    );
    assert!(dump.memberships.iter().any(|m| m.role.slug == "viewer"));
}

#[test]
fn organizations_get_their_clerk_domains_with_the_right_state() {
    let world = world(true);
    world.run().code(0);
    let dump = world.dump();
    let by_clerk_id: HashMap<&str, &ferry_wire::workos::model::Organization> = dump
        .organizations
        .iter()
        .map(|o| (o.external_id.as_deref().unwrap(), o))
        .collect();
    let mut checked = 0;
    for domain in &world.generated.tenant.domains {
        let organization = by_clerk_id[domain.organization_id.as_str()];
        let held = organization
            .domains
            .iter()
            .find(|d| d.domain == domain.name)
            .unwrap_or_else(|| panic!("{} lost {}", organization.id, domain.name));
        // WorkOS's `verified` means proven ownership (Clerk's DNS proof).
        let state = if domain.ownership_verified() {
            "verified"
        } else {
            "pending"
        };
        assert_eq!(held.state.as_deref(), Some(state), "{}", domain.name);
        checked += 1;
    }
    assert!(checked >= 3, "domains in both states were planted");
    let without: Vec<_> = world
        .generated
        .tenant
        .organizations
        .iter()
        .filter(|o| {
            !world
                .generated
                .tenant
                .domains
                .iter()
                .any(|d| d.organization_id == o.id)
        })
        .collect();
    assert!(!without.is_empty());
    for organization in without {
        assert!(by_clerk_id[organization.id.as_str()].domains.is_empty());
    }
}

const MAP_ROLE: &str = r#"
fn map_role(role, ctx) {
    if role.key == "org:auditor" { return (); }
    if role.key == "org:billing_manager" { return "billing"; }
    role.default_slug
}
"#;

#[test]
fn map_role_names_the_slug_for_the_role_and_every_membership_that_has_it() {
    let world = World::new(WorldOptions {
        users: 150,
        organizations: 6,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
            Step::with("verify", json!({ "sample": "all" })),
        ],
        script: Some("roles.rhai"),
        ..WorldOptions::default()
    });
    world.scratch.write("roles.rhai", MAP_ROLE);
    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    let dump = world.dump();
    let slugs: BTreeSet<&str> = dump.roles.iter().map(|r| r.slug.as_str()).collect();
    assert!(
        slugs.contains("billing") && !slugs.contains("billing_manager"),
        "{slugs:?}"
    );
    assert!(!slugs.contains("auditor"), "map_role left it out");
    let billing = dump.roles.iter().find(|r| r.slug == "billing").unwrap();
    assert_eq!(
        billing.permissions.as_deref(),
        Some(&["invoices:manage".to_owned(), "invoices:read".to_owned()][..])
    );
    let members_with = |slug: &str| {
        dump.memberships
            .iter()
            .filter(|m| m.role.slug == slug)
            .count()
    };
    let clerk_billing = world
        .generated
        .tenant
        .memberships
        .iter()
        .filter(|m| m.role == "org:billing_manager")
        .filter(|m| {
            m.public_user_data
                .as_ref()
                .is_some_and(|u| world.expected().contains_key(&u.user_id))
        })
        .count();
    assert!(clerk_billing > 0);
    assert_eq!(members_with("billing"), clerk_billing);
    assert_eq!(members_with("billing_manager"), 0);
}

/// `ferry plan` previews every writing step (organizations, roles,
/// memberships as well as users), each with its actions and reasons, and
/// after the run it plans nothing more for what the run made.
#[test]
fn plan_previews_every_writing_step_and_nothing_once_they_ran() {
    let world = world(true);
    let preview = |world: &World| -> Value {
        let out = world
            .ferry()
            .args(["plan", "plan.yaml", "--json"])
            .run()
            .code(0);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let count = |plan: &Value, step: &str, action: &str| -> u64 {
        let step = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == step)
            .unwrap_or_else(|| panic!("{step} in {plan}"));
        assert_eq!(step["previewed"], true, "{step}");
        step["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action"] == action)
            .map_or(0, |a| a["count"].as_u64().unwrap())
    };
    let before = preview(&world);
    let organizations = world.generated.tenant.organizations.len() as u64;
    let memberships = world.generated.tenant.memberships.len() as u64;
    assert_eq!(count(&before, "organizations", "create"), organizations);
    // Before any run, every membership waits on its user and organization.
    let waiting = before["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "memberships")
        .unwrap();
    assert_eq!(waiting["total"], memberships);
    assert!(
        waiting
            .to_string()
            .contains("once its user and organization are migrated"),
        "{waiting}"
    );
    assert_eq!(world.counts().workos_writes, 0);

    world.run().code(0);
    let dump = world.dump();
    // What the first plan said is what the run did.
    assert_eq!(
        count(&before, "memberships", "create"),
        dump.memberships.len() as u64
    );
    assert_eq!(count(&before, "users", "create"), dump.users.len() as u64);
    let users_step = |plan: &Value| -> Value {
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "users")
            .unwrap()
            .clone()
    };
    assert_eq!(
        users_step(&before)["totp_factors_to_enroll"],
        dump.auth_factors.len() as u64
    );
    let after = preview(&world);
    assert_eq!(count(&after, "organizations", "unchanged"), organizations);
    assert_eq!(count(&after, "organizations", "create"), 0);
    assert_eq!(
        count(&after, "memberships", "unchanged"),
        dump.memberships.len() as u64
    );
    assert_eq!(count(&after, "memberships", "create"), 0);
    assert_eq!(users_step(&after)["totp_factors_to_enroll"], 0);
    // The rest are skipped, each with the reason the run gave.
    assert_eq!(
        count(&after, "memberships", "skip"),
        memberships - dump.memberships.len() as u64
    );
}

/// A custom role with a permission WorkOS cannot take: the roles step
/// rejects it, and its memberships are skipped with that reason instead of
/// being sent and failing.
#[test]
fn memberships_of_a_role_the_roles_step_rejected_are_skipped_with_its_reason() {
    fn bad_permission(generated: &mut ferry_sandbox::GeneratedTenant) {
        let role = generated
            .tenant
            .roles
            .iter_mut()
            .find(|r| r.key == "org:billing_manager")
            .expect("the billing manager role");
        let permission = role
            .permissions
            .iter_mut()
            .find(|p| !p.is_system())
            .expect("a custom permission");
        permission.key = "org:invoices:pay now!".into();
    }
    let world = World::new(WorldOptions {
        users: 150,
        organizations: 6,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
        ],
        tweak: bad_permission,
        ..WorldOptions::default()
    });
    let out = world.run().code(0);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("roles: ") && l.contains(" 1 rejected, 0 failed")),
        "{}",
        out.stdout
    );
    let memberships = out
        .stdout
        .lines()
        .find(|l| l.starts_with("memberships: "))
        .unwrap();
    assert!(memberships.ends_with(" 0 failed"), "{memberships}");
    let skipped = world.report("world-memberships-skipped.csv");
    let reason = "its role `org:billing_manager` was not migrated: the roles step rejected: permission `org:invoices:pay now!` of role `org:billing_manager` maps to `invoices:pay now!`, which WorkOS does not take as a permission slug";
    let rows = skipped.lines().filter(|l| l.contains(reason)).count();
    let expected = world
        .generated
        .tenant
        .memberships
        .iter()
        .filter(|m| m.role == "org:billing_manager")
        .count();
    assert!(expected > 0);
    assert_eq!(rows, expected, "{skipped}");
}
