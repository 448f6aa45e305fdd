//! Pending invitations against the sandbox: listed by default with nothing
//! written; with `send: true` each re-issued from WorkOS exactly once, in
//! the organization ferry made, with the mapped role; never to a member,
//! never an accepted, revoked or expired one; a rerun sends none, a sync
//! only the new ones, a killed run never a second. The sandbox's record of
//! the emails WorkOS would have sent is the judge.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferry_core::journal::{Action, Journal, Kind};
use ferry_sandbox::FaultConfig;
use reqwest::Method;
use serde_json::{Value, json};

use super::{World, WorldOptions};
use crate::common::plan::Step;

/// Clerk's `now` for the generated tenant: invitations are judged pending
/// or expired against the clock, as Clerk does.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn invitations_world(send: bool, verify: bool) -> World {
    let mut more_steps = vec![
        Step::bare("organizations"),
        Step::bare("roles"),
        Step::bare("memberships"),
        Step::with("invitations", json!({ "send": send })),
    ];
    if verify {
        more_steps.push(Step::with("verify", json!({ "sample": 10 })));
    }
    World::new(WorldOptions {
        users: 400,
        organizations: 12,
        more_steps,
        ..WorldOptions::default()
    })
}

/// What the sandbox says WorkOS emailed: (to, WorkOS invitation id,
/// WorkOS organization id), in order.
fn emails(world: &World) -> Vec<(String, String, Option<String>)> {
    let url = format!("{}emails", world.sandbox.admin_url());
    let body: Value = world
        .runtime
        .block_on(async move { reqwest::get(url).await.unwrap().json().await.unwrap() });
    body["data"]
        .as_array()
        .expect("the sandbox lists its emails")
        .iter()
        .map(|email| {
            (
                email["to"].as_str().unwrap().to_lowercase(),
                email["invitation_id"].as_str().unwrap().to_owned(),
                email["organization_id"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Nobody got two emails for the same place: each (address, organization)
/// emailed at most once.
fn nobody_emailed_twice(world: &World) {
    let mut seen = BTreeMap::new();
    for (to, _, organization) in emails(world) {
        *seen.entry((to, organization)).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "emailed twice: {twice:?}");
}

/// A pending Clerk invitation, as the test expects ferry to judge it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    id: String,
    email: String,
    /// The Clerk organization; `None` for an application invitation.
    organization: Option<String>,
    role: Option<String>,
    inviter: Option<String>,
    expires_at: Option<i64>,
}

fn pending(world: &World) -> Vec<Pending> {
    let now = now_ms();
    let live = |status: &str, expires_at: Option<i64>| {
        status == "pending" && expires_at.is_none_or(|at| at > now)
    };
    let tenant = &world.generated.tenant;
    let mut pending: Vec<Pending> = tenant
        .organization_invitations
        .iter()
        .filter(|i| live(&i.status, i.expires_at))
        .map(|i| Pending {
            id: i.id.clone(),
            email: i.email_address.to_lowercase(),
            organization: i.organization().map(str::to_owned),
            role: Some(i.role.clone()),
            inviter: i.inviter_id.clone(),
            expires_at: i.expires_at,
        })
        .collect();
    pending.extend(
        tenant
            .invitations
            .iter()
            .filter(|i| !i.revoked && live(&i.status, i.expires_at))
            .map(|i| Pending {
                id: i.id.clone(),
                email: i.email_address.to_lowercase(),
                organization: None,
                role: None,
                inviter: None,
                expires_at: i.expires_at,
            }),
    );
    pending.sort();
    pending
}

/// The invitations list, by Clerk invitation id: (outcome, code).
fn listed(world: &World) -> BTreeMap<String, (String, String)> {
    let text = world.report("world-invitations.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "clerk_invitation",
            "organization",
            "workos_organization",
            "email",
            "clerk_role",
            "workos_role",
            "inviter",
            "workos_inviter",
            "expires_at",
            "expires_in_days",
            "outcome",
            "code",
            "reason"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), (r[10].to_owned(), r[11].to_owned()))
        })
        .collect()
}

/// The Clerk user ids who are members of each Clerk organization, and each
/// user's addresses.
fn members_by_email(world: &World) -> BTreeSet<(String, String)> {
    let tenant = &world.generated.tenant;
    let emails: HashMap<&str, Vec<String>> = tenant
        .users
        .iter()
        .map(|u| {
            (
                u.id.as_str(),
                u.email_addresses
                    .iter()
                    .map(|e| e.email_address.to_lowercase())
                    .collect(),
            )
        })
        .collect();
    tenant
        .memberships
        .iter()
        .filter_map(|m| {
            let user = m.public_user_data.as_ref()?;
            Some((
                m.organization.id.clone(),
                emails.get(user.user_id.as_str())?,
            ))
        })
        .flat_map(|(org, emails)| emails.iter().map(move |e| (org.clone(), e.clone())))
        .collect()
}

/// The roles the tenant has, by key.
fn role_keys(world: &World) -> BTreeSet<String> {
    world
        .generated
        .tenant
        .roles
        .iter()
        .map(|r| r.key.clone())
        .collect()
}

fn journal(world: &World) -> Journal {
    Journal::open_to_read(&world.scratch.path().join(".ferry/world.db")).unwrap()
}

/// A WorkOS invitation as the sandbox's API returns it.
fn workos_invitation(world: &World, id: &str) -> Value {
    let (status, body) = world.workos_json(
        Method::GET,
        &format!("/user_management/invitations/{id}"),
        None,
    );
    assert_eq!(status, 200, "{id}: {body}");
    body
}

#[test]
fn pending_invitations_are_listed_and_nobody_is_emailed_by_default() {
    let world = invitations_world(false, false);
    let out = world.run().code(0);
    let pending = pending(&world);
    assert!(pending.len() >= 12, "{pending:?}");
    // Every pending invitation is listed, each once, and only those.
    let listed = listed(&world);
    assert_eq!(
        listed.keys().cloned().collect::<BTreeSet<_>>(),
        pending
            .iter()
            .map(|p| p.id.clone())
            .collect::<BTreeSet<_>>()
    );
    assert!(
        listed
            .values()
            .all(|(outcome, _)| outcome == "listed" || outcome == "skipped"),
        "{listed:?}"
    );
    // Nothing reached WorkOS's invitations, and nobody was emailed.
    let counts = world.sandbox.request_counts();
    assert_eq!(counts.route_total("POST /user_management/invitations"), 0);
    assert!(emails(&world).is_empty());
    assert!(out.stdout.contains("nobody was emailed"), "{}", out.stdout);
    let report: Value = serde_json::from_str(&world.report("world-run-1.json")).unwrap();
    assert_eq!(report["invitations"]["send"], false);
    assert_eq!(report["invitations"]["sent"], 0);
    assert_eq!(
        report["invitations"]["pending"].as_u64().unwrap(),
        pending.len() as u64
    );
    // Neither Clerk's invitation links nor anything like them are kept.
    for file in [
        "world-invitations.csv",
        "world-run-1.json",
        "world-run-1.md",
    ] {
        assert!(!world.report(file).contains("__clerk_ticket"), "{file}");
    }
}

#[test]
fn with_send_each_pending_invitation_goes_out_once_where_it_belongs() {
    let world = invitations_world(true, true);
    world.run().code(0);

    let pending = pending(&world);
    let members = members_by_email(&world);
    let roles = role_keys(&world);
    let journal = journal(&world);
    // WorkOS id → Clerk id, of users and organizations.
    let mut external = world.external_ids();
    external.extend(
        world
            .dump()
            .organizations
            .into_iter()
            .map(|o| (o.id, o.external_id.unwrap_or_default())),
    );
    let workos_of: HashMap<&String, &String> = external.iter().map(|(w, c)| (c, w)).collect();

    // What the test expects of each pending invitation.
    let mut expected_sent = BTreeMap::new();
    let mut expected_codes = BTreeMap::new();
    for invitation in &pending {
        let code = match (&invitation.organization, &invitation.role) {
            (Some(org), _) if members.contains(&(org.clone(), invitation.email.clone())) => {
                Some("invitee_already_member")
            }
            (Some(_), Some(role)) if !roles.contains(role) => Some("role_missing"),
            _ => None,
        };
        match code {
            Some(code) => {
                expected_codes.insert(invitation.id.clone(), code.to_owned());
            }
            None => {
                expected_sent.insert(invitation.id.clone(), invitation.clone());
            }
        }
    }
    assert!(
        expected_codes
            .values()
            .any(|c| c == "invitee_already_member")
    );
    assert!(expected_codes.values().any(|c| c == "role_missing"));
    assert!(expected_sent.values().any(|p| p.organization.is_none()));

    // One email per invitation sent, to its invitee, and nothing else.
    let emails = emails(&world);
    assert_eq!(emails.len(), expected_sent.len(), "{emails:?}");
    nobody_emailed_twice(&world);
    let sent_ids: BTreeMap<String, String> = expected_sent
        .keys()
        .map(|id| {
            let record = journal.record(Kind::Invitation, id).unwrap().unwrap();
            assert_eq!(record.action, Action::Created, "{id}");
            (id.clone(), record.target_id.unwrap())
        })
        .collect();
    let emailed: BTreeSet<&String> = emails.iter().map(|(_, id, _)| id).collect();
    assert_eq!(emailed, sent_ids.values().collect::<BTreeSet<_>>());

    // Each exists once in WorkOS: to its invitee, in the organization ferry
    // made for its Clerk organization, with the mapped role, from the
    // migrated inviter, expiring when Clerk's would have (within 1..30 days).
    let now = now_ms();
    for (clerk_id, workos_id) in &sent_ids {
        let clerk = &expected_sent[clerk_id];
        let held = workos_invitation(&world, workos_id);
        assert_eq!(held["email"].as_str().unwrap().to_lowercase(), clerk.email);
        assert_eq!(held["state"], "pending");
        let organization = held["organization_id"]
            .as_str()
            .map(|o| external[o].clone());
        assert_eq!(organization, clerk.organization, "{clerk_id}");
        let role = clerk
            .role
            .as_deref()
            .map(|r| r.strip_prefix("org:").unwrap_or(r).to_owned());
        match &role {
            Some(role) => assert_eq!(
                held["role_slug"].as_str(),
                Some(role.as_str()),
                "{clerk_id}"
            ),
            None => assert!(held["role_slug"].is_null(), "{clerk_id}"),
        }
        let inviter = clerk
            .inviter
            .as_ref()
            .and_then(|i| workos_of.get(i))
            .map(|w| w.as_str());
        assert_eq!(held["inviter_user_id"].as_str(), inviter, "{clerk_id}");
        let expires = chrono::DateTime::parse_from_rfc3339(held["expires_at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        let days = |ms: i64| ms as f64 / 86_400_000.0;
        let wanted = clerk
            .expires_at
            .map_or(30.0, |at| days(at - now).ceil().clamp(1.0, 30.0));
        assert!(
            (days(expires - now) - wanted).abs() < 1.01,
            "{clerk_id}: expires in {} days, not {wanted}",
            days(expires - now)
        );
    }

    // What was not sent is listed with its reason; accepted, revoked and
    // expired Clerk invitations are in neither.
    let listed = listed(&world);
    for (id, code) in &expected_codes {
        assert_eq!(listed[id], ("skipped".to_owned(), code.clone()), "{id}");
    }
    for id in expected_sent.keys() {
        assert_eq!(listed[id].0, "sent", "{id}");
    }
    assert_eq!(listed.len(), pending.len());

    // No invitation's token or link is kept anywhere ferry writes.
    let (status, listing) =
        world.workos_json(Method::GET, "/user_management/invitations?limit=100", None);
    assert_eq!(status, 200);
    let tokens: Vec<String> = listing["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["token"]
                .as_str()
                .expect("WorkOS sends a token")
                .to_owned()
        })
        .collect();
    assert!(!tokens.is_empty());
    let mut files = vec![world.scratch.path().join(".ferry/world.db")];
    files.extend(
        std::fs::read_dir(world.scratch.path().join("reports"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file()),
    );
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        for token in &tokens {
            assert!(
                !text.contains(token.as_str()),
                "{} holds a token",
                file.display()
            );
        }
    }

    // verify checks the invitations; the report counts them.
    let report: Value = serde_json::from_str(&world.report("world-run-1.json")).unwrap();
    let check = report["verification"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "invitations")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "pass", "{check}");
    assert_eq!(report["invitations"]["sent"], expected_sent.len());
    let not_sent: BTreeMap<String, u64> =
        serde_json::from_value(report["invitations"]["not_sent"].clone()).unwrap();
    let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
    for code in expected_codes.values() {
        *wanted.entry(code.clone()).or_default() += 1;
    }
    assert_eq!(not_sent, wanted);

    // A rerun sends none.
    world.sandbox.reset_request_counts();
    world.run().code(0);
    assert_eq!(
        world
            .sandbox
            .request_counts()
            .route_total("POST /user_management/invitations"),
        0
    );
    assert_eq!(self::emails(&world).len(), expected_sent.len());

    // In Clerk: one new invitation, one sent invitation revoked. A sync
    // sends only the new one and revokes the revoked one in WorkOS.
    let (organization, revoked) = expected_sent
        .values()
        .find_map(|p| Some((p.organization.clone()?, p.id.clone())))
        .unwrap();
    let (status, body) = world.clerk_admin(
        Method::POST,
        "organization_invitations",
        Some(json!({
            "email_address": "new.invitee@invited.example",
            "organization_id": organization,
            "role": "org:member",
        })),
    );
    assert_eq!(status, 201, "{body}");
    let new_id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = world.clerk_admin(
        Method::POST,
        &format!("organization_invitations/{revoked}/revoke"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    world
        .ferry()
        .args(["sync", "plan.yaml", "--yes"])
        .run()
        .code(0);
    let after = self::emails(&world);
    assert_eq!(after.len(), expected_sent.len() + 1);
    assert_eq!(after.last().unwrap().0, "new.invitee@invited.example");
    nobody_emailed_twice(&world);
    let journal = self::journal(&world);
    let new = journal.record(Kind::Invitation, &new_id).unwrap().unwrap();
    assert_eq!(new.action, Action::Created);
    assert_eq!(
        workos_invitation(&world, &sent_ids[&revoked])["state"],
        "revoked"
    );

    // Undo revokes what ferry sent, and says it cannot unsend the emails.
    let out = world
        .ferry()
        .args(["undo", "plan.yaml", "--all", "--yes"])
        .run()
        .code(0);
    assert!(out.stdout.contains("cannot be unsent"), "{}", out.stdout);
    // Each is revoked (the organizations undo deletes after take theirs).
    let journal = self::journal(&world);
    for (clerk_id, workos_id) in &sent_ids {
        let record = journal.record(Kind::Invitation, clerk_id).unwrap().unwrap();
        assert_eq!(record.action, Action::Deleted, "{clerk_id}");
        let (status, held) = world.workos_json(
            Method::GET,
            &format!("/user_management/invitations/{workos_id}"),
            None,
        );
        assert!(
            status == 404 || held["state"] == "revoked",
            "{clerk_id}: {held}"
        );
    }
}

#[test]
fn ferry_plan_names_every_invitee_a_run_would_email_and_the_prompt_counts_them() {
    let mut world = invitations_world(true, false);
    let invitations_section = |world: &World| {
        let out = world.ferry().args(["plan", "plan.yaml"]).run().code(0);
        out.stdout
            .split("plan: ")
            .find(|s| s.contains("invitations"))
            .unwrap_or_default()
            .to_owned()
    };
    // Before anything is migrated, the plan reads Clerk for who will be a
    // member once the memberships step ran, and which roles the roles
    // step will make.
    let before = invitations_section(&world);
    // At the cutover: the bulk run is done, the invitations are next.
    world.run_all_but("invitations");
    world.sandbox.reset_request_counts();
    let section = invitations_section(&world);
    let pending = pending(&world);
    let members = members_by_email(&world);
    let roles = role_keys(&world);
    let would_email: Vec<&Pending> = pending
        .iter()
        .filter(|p| match &p.organization {
            Some(org) => {
                !members.contains(&(org.clone(), p.email.clone()))
                    && p.role.as_ref().is_none_or(|r| roles.contains(r))
            }
            None => true,
        })
        .collect();
    for section in [&before, &section] {
        for p in &would_email {
            assert!(
                section.contains(&format!("{} {}", p.id, p.email)),
                "{} is not named:\n{section}",
                p.id
            );
        }
        assert!(
            section.contains(&format!("a run emails {} invitees", would_email.len())),
            "{section}"
        );
    }
    assert!(emails(&world).is_empty(), "a plan emails nobody");
    assert_eq!(world.sandbox.request_counts().workos_writes, 0);

    // The run's question counts the emails; answered no, nothing is sent.
    let keys = world.sandbox.keys();
    let (code, screen) = world.scratch.ferry_on_terminal_typing(
        &["run", "plan.yaml"],
        &[
            ("CLERK_SECRET_KEY", keys.clerk_secret_key.as_str()),
            ("WORKOS_API_KEY", keys.workos_api_key.as_str()),
            ("WORKOS_CLIENT_ID", keys.workos_client_id.as_str()),
        ],
        b"n\n",
        (60, 400),
    );
    assert_ne!(code, 0, "{screen}");
    assert!(
        screen.contains(&format!(
            "Up to {} invitation emails will be sent",
            pending.len()
        )),
        "{screen}"
    );
    assert!(emails(&world).is_empty());
}

#[test]
fn killed_during_the_invitations_step_then_resumed_nobody_is_emailed_twice() {
    let mut world = invitations_world(true, false);
    // Everything but the invitations first, then the invitations, slowly.
    world.run_all_but("invitations");
    world.kill_run_once("an invitation's send", |world| !emails(world).is_empty());
    let before = emails(&world).len();
    assert!(before >= 1);

    // Resumed with half the answers lost on the way back: a send whose
    // answer was lost is found by looking, never sent again. One whose
    // every look failed is left failed (exit 3) for the next run.
    world
        .sandbox
        .set_faults(FaultConfig {
            seed: 5,
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
    nobody_emailed_twice(&world);
    world.sandbox.set_faults(FaultConfig::default()).unwrap();
    world.run().code(0);
    nobody_emailed_twice(&world);
    // Every invitation emailed is journaled as sent, once.
    let journal = journal(&world);
    let sent: BTreeSet<String> = pending(&world)
        .iter()
        .filter_map(|p| journal.written_id(Kind::Invitation, &p.id))
        .collect();
    let emailed: BTreeSet<String> = emails(&world).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(sent, emailed);
    // The lost answers were settled by looking at WorkOS, not by sending again.
    let found_by_looking = pending(&world)
        .iter()
        .filter_map(|p| journal.record(Kind::Invitation, &p.id).unwrap())
        .filter(|r| {
            r.reason
                .as_ref()
                .is_some_and(|r| r.code.as_str() == "answer_lost")
        })
        .count();
    assert!(found_by_looking >= 1, "no lost answer was looked behind");
}
