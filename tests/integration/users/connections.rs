//! Enterprise SSO: the connections step against the sandbox. Clerk's SAML
//! and OIDC connections become WorkOS connections once each, in the right
//! organizations, with the IdP values Clerk has; what cannot be created is
//! handed off with its reason; SSO users link to the migrated users.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferry_core::journal::{Action, Journal, Kind};
use ferry_sandbox::{FaultConfig, StoredConnection};
use ferry_wire::clerk::sso::EnterpriseConnection;
use ferry_wire::workos::sso::{AttributeMaps, SamlOptions, StandardAttributes};
use reqwest::Method;
use serde_json::{Value, json};

use super::{World, WorldOptions};
use crate::common::plan::Step;

/// Sixteen organizations: five with a verified domain, one for each shape
/// the generator plants (manual SAML on two domains, SAML by metadata URL,
/// OIDC, an expired certificate, an inactive connection), and the
/// connection without an organization.
fn sso_world(verify: bool) -> World {
    let mut more_steps = vec![
        Step::bare("organizations"),
        Step::with("connections", json!({})),
        Step::bare("mfa_report"),
    ];
    if verify {
        more_steps.push(Step::with("verify", json!({ "sample": "all" })));
    }
    World::new(WorldOptions {
        users: 600,
        organizations: 16,
        more_steps,
        ..WorldOptions::default()
    })
}

/// The Clerk connections, by id.
fn clerk_connections(world: &World) -> BTreeMap<String, EnterpriseConnection> {
    world
        .generated
        .tenant
        .enterprise_connections
        .iter()
        .map(|c| (c.id.clone(), c.clone()))
        .collect()
}

/// What WorkOS holds, by external_id; each external_id once.
fn workos_connections(world: &World) -> BTreeMap<String, StoredConnection> {
    let mut by_external_id = BTreeMap::new();
    for stored in world.dump().connections {
        let key = stored
            .external_id
            .clone()
            .expect("ferry sends an external_id");
        assert!(
            by_external_id.insert(key.clone(), stored).is_none(),
            "two WorkOS connections carry {key}"
        );
    }
    by_external_id
}

/// The SAML options ferry must send for a Clerk connection.
fn expected_saml(world: &World, connection: &EnterpriseConnection, keep: bool) -> SamlOptions {
    let saml = connection.saml_connection.as_ref().unwrap();
    let legacy = world
        .generated
        .tenant
        .saml_connections
        .iter()
        .find(|l| l.id == saml.id)
        .unwrap();
    let mut expected = match &saml.idp_metadata_url {
        Some(url) => SamlOptions {
            idp_metadata_url: Some(url.clone()),
            ..SamlOptions::default()
        },
        None => SamlOptions {
            idp_entity_id: saml.idp_entity_id.clone(),
            idp_sso_url: saml.idp_sso_url.clone(),
            idp_signing_certs: Some(vec![legacy.idp_certificate.clone().unwrap()]),
            ..SamlOptions::default()
        },
    };
    if keep {
        expected.acs_url = saml.acs_url.clone();
        expected.sp_entity_id = saml.sp_entity_id.clone();
    }
    expected
}

/// WorkOS organization id → the Clerk organization it stands for.
fn organizations(world: &World) -> HashMap<String, String> {
    world
        .dump()
        .organizations
        .into_iter()
        .map(|o| (o.id, o.external_id.unwrap_or_default()))
        .collect()
}

/// The handoff as (connection, code) pairs.
fn handoff(world: &World) -> BTreeSet<(String, String)> {
    let text = world.report("world-sso-handoff.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "organization",
            "workos_organization",
            "connection",
            "name",
            "type",
            "code",
            "action",
            "portal_intent",
            "values"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[2].to_owned(), r[5].to_owned())
        })
        .collect()
}

/// Asserts `secret` is in no file ferry wrote: the journal and the reports.
fn kept_nowhere(world: &World, secret: &str, what: &str) {
    let mut files = vec![world.scratch.path().join(".ferry/world.db")];
    files.extend(
        std::fs::read_dir(world.scratch.path().join("reports"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for file in files.iter().filter(|f| f.is_file()) {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        assert!(!text.contains(secret), "{} holds {what}", file.display());
    }
}

fn undo_takes_every_connection_away(world: &World) {
    world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run()
        .code(0);
    assert!(world.dump().connections.is_empty());
}

fn sign_in(world: &World, connection_id: &str, email: &str) -> Value {
    let url = format!("{}sso/sign_in", world.sandbox.admin_url());
    let body = json!({ "connection_id": connection_id, "email": email });
    world.runtime.block_on(async move {
        reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

#[test]
fn connections_move_once_the_rest_is_handed_off_and_sso_users_link() {
    let world = sso_world(true);
    world.run().code(0);

    let clerk = clerk_connections(&world);
    let shape = |c: &EnterpriseConnection| match (&c.organization_id, c.active, c.is_oidc()) {
        (None, _, _) => "no organization",
        (_, false, _) => "inactive",
        (_, _, true) => "oidc",
        _ => "saml",
    };
    let shapes: BTreeMap<&str, usize> = clerk.values().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(shape(c)).or_default() += 1;
        m
    });
    assert_eq!(
        shapes,
        BTreeMap::from([
            ("inactive", 1),
            ("no organization", 1),
            ("oidc", 1),
            ("saml", 3)
        ])
    );

    // Every active SAML connection with an organization, once, in the
    // organization ferry made for its Clerk organization, with its IdP values.
    let in_workos = workos_connections(&world);
    let organizations = organizations(&world);
    let expected: BTreeSet<&String> = clerk
        .values()
        .filter(|c| shape(c) == "saml")
        .map(|c| &c.id)
        .collect();
    assert_eq!(in_workos.keys().collect::<BTreeSet<_>>(), expected);
    for (id, stored) in &in_workos {
        let connection = &clerk[id];
        let organization = stored.connection.organization_id.as_ref().unwrap();
        assert_eq!(
            Some(&organizations[organization]),
            connection.organization_id.as_ref(),
            "{id}"
        );
        assert_eq!(stored.connection.connection_type, "GenericSAML");
        assert_eq!(stored.connection.name, connection.name);
        assert_eq!(
            stored.saml_options.as_ref(),
            Some(&expected_saml(&world, connection, false)),
            "{id}"
        );
        // Clerk's attribute mapping carries over (its empty user_id does not).
        assert_eq!(
            stored.attribute_maps,
            Some(AttributeMaps {
                standard_attributes: Some(StandardAttributes {
                    idp_id: None,
                    email: Some("mail".into()),
                    first_name: Some("givenName".into()),
                    last_name: Some("sn".into()),
                }),
            }),
            "{id}"
        );
    }
    // Both SAML variants were among them.
    let sent: Vec<&SamlOptions> = in_workos
        .values()
        .filter_map(|s| s.saml_options.as_ref())
        .collect();
    assert!(
        sent.iter()
            .any(|s| s.idp_metadata_url.is_some() && s.idp_entity_id.is_none())
    );
    assert!(
        sent.iter()
            .any(|s| s.idp_metadata_url.is_none() && s.idp_signing_certs.is_some())
    );

    // The handoff: each thing an IT admin must do, with its reason.
    let by_shape = |wanted: &str| {
        clerk
            .values()
            .find(|c| shape(c) == wanted)
            .unwrap()
            .id
            .clone()
    };
    let expired = world
        .generated
        .tenant
        .saml_connections
        .iter()
        .find(|l| {
            l.idp_certificate_expires_at
                .is_some_and(|at| at < 1_750_000_000_000)
        })
        .and_then(|l| l.enterprise_connection_id.clone())
        .unwrap();
    let mut expected_handoff: BTreeSet<(String, String)> = in_workos
        .keys()
        .map(|id| (id.clone(), "idp_settings_change".to_owned()))
        .collect();
    expected_handoff.extend([
        (expired, "certificate_expired".to_owned()),
        (by_shape("oidc"), "oidc_secret_missing".to_owned()),
        (by_shape("inactive"), "connection_inactive".to_owned()),
        (
            by_shape("no organization"),
            "connection_without_organization".to_owned(),
        ),
    ]);
    expected_handoff.extend(
        world
            .generated
            .tenant
            .scim_directories
            .iter()
            .map(|d| (d.id.clone(), "directory_handoff".to_owned())),
    );
    assert_eq!(handoff(&world), expected_handoff);
    // Clerk sent each directory's SCIM token; ferry kept it nowhere.
    for file in [
        "world-sso-handoff.csv",
        "world-run-1.json",
        "world-run-1.md",
        "world-run-1.html",
    ] {
        assert!(!world.report(file).contains("scim_secret_"), "{file}");
    }

    // The report's Enterprise SSO section, and verify's two checks, passed.
    let report: Value = serde_json::from_str(&world.report("world-run-1.json")).unwrap();
    assert_eq!(report["sso"]["connections"], 6);
    assert_eq!(report["sso"]["in_workos"], 3);
    assert_eq!(report["sso"]["directories"], 2);
    let checks: BTreeMap<String, String> = report["verification"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(checks["connections"], "pass");
    assert_eq!(checks["sso_users"], "pass");
    assert!(world.report("world-run-1.md").contains("## Enterprise SSO"));

    // A simulated SSO sign-in for every SSO user whose connection moved:
    // linked to the migrated user, never a new one; the user from a domain
    // the connection does not claim is refused, and was flagged.
    let user_ids: HashMap<String, String> = world
        .dump()
        .users
        .into_iter()
        .map(|u| (u.user.id.clone(), u.user.external_id.unwrap_or_default()))
        .collect();
    // The MFA report's sign-in flags: an SSO user WorkOS would not link.
    let flags: HashMap<String, String> = {
        let text = world.report("world-sign-in-flags.csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        reader
            .records()
            .map(|r| r.unwrap())
            .filter(|r| r[2].starts_with("sso_"))
            .map(|r| (r[0].to_owned(), r[2].to_owned()))
            .collect()
    };
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for user in &world.generated.tenant.users {
        for (connection, _) in user.enterprise_sign_ins() {
            let email = user.primary_email().unwrap().email_address.clone();
            let Some(stored) = in_workos.get(&connection) else {
                assert_eq!(flags[&user.id], "sso_connection_not_created");
                continue;
            };
            let answer = sign_in(&world, &stored.connection.id, &email);
            let outcome = answer["outcome"].as_str().unwrap().to_owned();
            match outcome.as_str() {
                "linked" => {
                    let target = answer["user_id"].as_str().unwrap();
                    assert_eq!(user_ids[target], user.id, "{email} linked to another user");
                    assert!(
                        !flags.contains_key(&user.id),
                        "{email} links, and is not flagged"
                    );
                }
                "rejected" => {
                    assert_eq!(answer["code"], "profile_not_allowed_outside_organization");
                    assert_eq!(flags[&user.id], "sso_domain_not_claimed");
                }
                other => panic!("{email}: {other}: a sign-in would make a second user"),
            }
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    let truth = world.sandbox.ground_truth().unwrap();
    assert_eq!(
        outcomes.get("rejected"),
        Some(&truth.sso_users_outside_domains)
    );
    assert!(outcomes["linked"] >= 6, "{outcomes:?}");

    // A rerun writes nothing; undo takes every connection away.
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0);
    assert_eq!(workos_connections(&world).len(), 3);
    undo_takes_every_connection_away(&world);
}

#[test]
fn acs_keep_sends_clerk_s_service_provider_and_an_oidc_secret_comes_from_the_plan() {
    let mut world = sso_world(false);
    let clerk = clerk_connections(&world);
    let oidc = clerk
        .values()
        .find(|c| c.is_oidc() && c.organization_id.is_some())
        .unwrap();
    let slug = world
        .generated
        .tenant
        .organizations
        .iter()
        .find(|o| Some(&o.id) == oidc.organization_id.as_ref())
        .unwrap()
        .slug
        .clone();
    world.plan = world.plan.clone().replace_step(Step::with(
        "connections",
        json!({ "acs": "keep", "secrets": { slug: "${ACME_OIDC_SECRET}" } }),
    ));
    world.write_plan();
    let secret = "oidc-secret-that-must-never-be-printed";
    let out = world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "-vv"])
        .env("ACME_OIDC_SECRET", secret)
        .run()
        .code(0);

    let in_workos = workos_connections(&world);
    assert_eq!(in_workos.len(), 4, "three SAML and the OIDC connection");
    for (id, stored) in &in_workos {
        let connection = &clerk[id];
        match connection.is_oidc() {
            true => {
                assert_eq!(stored.connection.connection_type, "GenericOIDC");
                assert!(stored.oidc_client_secret_set);
                let oauth = connection.oauth_config.as_ref().unwrap();
                assert_eq!(stored.oidc_client_id, oauth.client_id);
                assert_eq!(stored.oidc_discovery_endpoint, oauth.discovery_url);
            }
            false => assert_eq!(
                stored.saml_options.as_ref(),
                Some(&expected_saml(&world, connection, true)),
                "{id}"
            ),
        }
    }
    // With Clerk's SP side kept, no IdP admin has anything to change.
    assert!(
        !handoff(&world)
            .iter()
            .any(|(_, code)| code == "idp_settings_change")
    );
    // The secret went to WorkOS and nowhere else.
    assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    kept_nowhere(&world, secret, "the OIDC secret");
}

#[test]
fn killed_during_the_connections_step_then_resumed_each_connection_once() {
    let mut world = sso_world(false);
    // The users and organizations first, then the connections, slowly.
    world.run_all_but("connections");
    world.kill_run_once("a connection's create", |world| {
        !world.dump().connections.is_empty()
    });
    let before = world.dump().connections.len();
    assert!(before >= 1);

    // Resumed with half the answers lost on the way back: a create is safe
    // to repeat. A connection whose every attempt lost its answer is failed
    // (exit 3) and made by the next run; none is ever made twice.
    world
        .sandbox
        .set_faults(FaultConfig {
            seed: 3,
            drop_write_rate: 0.5,
            ..FaultConfig::default()
        })
        .unwrap();
    let resumed = world.run();
    assert!(
        [0, 3].contains(&resumed.code),
        "exit {}: {}{}",
        resumed.code,
        resumed.stdout,
        resumed.stderr
    );
    assert!(workos_connections(&world).len() <= 3);
    world.sandbox.set_faults(FaultConfig::default()).unwrap();
    world.run().code(0);
    assert_eq!(workos_connections(&world).len(), 3);
    for id in workos_connections(&world).keys() {
        let record = Journal::open_to_read(&world.scratch.path().join(".ferry/world.db"))
            .unwrap()
            .record(Kind::Connection, id)
            .unwrap()
            .unwrap();
        assert_eq!(record.action, Action::Created, "{id}");
    }
    // Each is ferry's (made since ferry began on this target), so undo takes them all.
    undo_takes_every_connection_away(&world);
}

#[test]
fn a_sync_updates_a_renamed_connection_and_deletes_one_gone_from_clerk() {
    let mut world = sso_world(false);
    world.plan = world.plan.clone().on_deleted("delete");
    world.write_plan();
    world.run().code(0);
    let before = workos_connections(&world);
    let mut saml = before.keys().cloned();
    let (renamed, removed) = (saml.next().unwrap(), saml.next().unwrap());

    // In Clerk: one connection renamed, another deleted.
    let (status, mut tenant) = world.clerk_admin(Method::GET, "tenant", None);
    assert_eq!(status, 200);
    let connections = tenant["enterprise_connections"].as_array_mut().unwrap();
    connections.retain(|c| c["id"] != removed.as_str());
    for connection in connections
        .iter_mut()
        .filter(|c| c["id"] == renamed.as_str())
    {
        connection["name"] = json!("Renamed SSO");
    }
    assert_eq!(
        world.clerk_admin(Method::PUT, "tenant", Some(tenant)).0,
        200
    );

    world.sandbox.reset_request_counts();
    world
        .ferry()
        .args(["sync", "plan.yaml", "--yes"])
        .run()
        .code(0);
    let after = workos_connections(&world);
    assert_eq!(after[&renamed].connection.name, "Renamed SSO");
    assert!(
        !after.contains_key(&removed),
        "deleted in Clerk, created by ferry: deleted"
    );
    assert_eq!(after.len(), before.len() - 1);
    let counts = world.counts();
    let writes = |route: &str| -> u64 {
        counts
            .workos
            .get(route)
            .map(|o| o.values().sum())
            .unwrap_or(0)
    };
    assert_eq!(writes("PATCH /connections/{id}"), 1, "{:?}", counts.workos);
    assert_eq!(writes("DELETE /connections/{id}"), 1, "{:?}", counts.workos);
}

#[test]
fn reconcile_makes_again_a_connection_deleted_in_workos_and_plan_shows_what_a_run_would_do() {
    let world = sso_world(false);
    world.run().code(0);
    let gone = workos_connections(&world).into_values().next().unwrap();
    let path = format!("/connections/{}", gone.connection.id);
    assert_eq!(world.workos_call(Method::DELETE, &path, None), 204);

    // Without --reconcile the journal is believed: nothing is sent.
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(world.counts().workos_writes, 0);
    assert_eq!(workos_connections(&world).len(), 2);
    // ferry plan previews each connection with its reason, believing the
    // journal as a run without --reconcile does.
    let plan = world
        .ferry()
        .args(["plan", "plan.yaml", "--json"])
        .run()
        .code(0);
    let preview: Value = serde_json::from_str(&plan.stdout).unwrap();
    let step = preview["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "connections")
        .unwrap_or_else(|| panic!("{preview}"));
    let counts: BTreeMap<&str, (u64, Value)> = step["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let reasons = a["reasons"].clone();
            (
                a["action"].as_str().unwrap(),
                (a["count"].as_u64().unwrap(), reasons),
            )
        })
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("unchanged", (3, json!([]))),
            (
                "skip",
                (
                    3,
                    json!([
                        { "code": "connection_inactive", "count": 1 },
                        { "code": "connection_without_organization", "count": 1 },
                        { "code": "oidc_secret_missing", "count": 1 },
                    ])
                )
            ),
        ])
    );

    // With it, WorkOS is looked at and the connection made again, once.
    world
        .ferry()
        .args(["run", "plan.yaml", "--yes", "--reconcile"])
        .run()
        .code(0);
    let after = workos_connections(&world);
    assert_eq!(after.len(), 3);
    assert_ne!(
        after[gone.external_id.as_ref().unwrap()].connection.id,
        gone.connection.id
    );
}

#[test]
fn portal_link_prints_a_fresh_link_and_keeps_it_nowhere() {
    let world = sso_world(false);
    world.run().code(0);
    let organization = &world.generated.tenant.organizations[0];
    let link = |intent: &str| {
        world
            .ferry()
            .args([
                "portal-link",
                "plan.yaml",
                &organization.id,
                "--intent",
                intent,
            ])
            .run()
            .code(0)
    };
    let first = link("dsync");
    let second = link("sso");
    for out in [&first, &second] {
        assert!(out.stdout.trim().starts_with("https://"), "{}", out.stdout);
        assert_eq!(out.stdout.lines().count(), 1);
        assert!(
            out.stderr.contains("valid for five minutes, not stored"),
            "{}",
            out.stderr
        );
    }
    assert!(first.stdout.contains("intent=dsync"));
    assert_ne!(first.stdout, second.stdout, "each link is fresh");
    let secret = first.stdout.trim();
    kept_nowhere(&world, secret, "the link");
    // An organization WorkOS does not have is WorkOS's refusal, said plainly.
    world
        .ferry()
        .args(["portal-link", "plan.yaml", "org_unknown"])
        .run()
        .code(2)
        .stderr_has("organization_not_found");
    world
        .ferry()
        .args([
            "portal-link",
            "plan.yaml",
            &organization.id,
            "--intent",
            "audit",
        ])
        .run()
        .code(2);
}
