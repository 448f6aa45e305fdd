//! WorkOS's invitation routes: the spec's refusals, the email record, the
//! lifecycle (revoke, resend, accept), lists, events, faults and limits.

use chrono::DateTime;
use ferry_sandbox::{FaultConfig, Quota, RateLimits, SandboxOptions};
use reqwest::Method;
use serde_json::{Value, json};

use super::Harness;

const INVITATIONS: &str = "/user_management/invitations";

/// An organization, and a user who is a member of it; their ids.
async fn organization_with_member(harness: &Harness, email: &str) -> (String, String) {
    let (code, organization) = harness
        .workos_post("/organizations", json!({"name": "Acme"}))
        .await;
    assert_eq!(code, 201, "{organization}");
    let (code, user) = harness
        .workos_post("/user_management/users", json!({"email": email}))
        .await;
    assert_eq!(code, 201, "{user}");
    let (organization, user) = (
        organization["id"].as_str().unwrap().to_owned(),
        user["id"].as_str().unwrap().to_owned(),
    );
    let (code, membership) = harness
        .workos_post(
            "/user_management/organization_memberships",
            json!({"organization_id": organization, "user_id": user}),
        )
        .await;
    assert_eq!(code, 201, "{membership}");
    (organization, user)
}

fn instant(value: &Value) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap()
}

fn code_of(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn sending_makes_one_invitation_and_records_one_email() {
    let harness = Harness::unlimited().await;
    let (organization, member) = organization_with_member(&harness, "member@acme.test").await;

    let (code, invitation) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": " Invitee@Acme.test ", "organization_id": organization, "inviter_user_id": member}),
        )
        .await;
    assert_eq!(code, 201, "{invitation}");
    let id = invitation["id"].as_str().unwrap();
    let token = invitation["token"].as_str().unwrap();
    assert!(id.starts_with("invitation_01"), "{id}");
    assert!(token.len() >= 20, "{token}");
    assert_eq!(
        invitation,
        json!({
            "object": "invitation",
            "id": id,
            "email": "invitee@acme.test",
            "state": "pending",
            "accepted_at": null,
            "revoked_at": null,
            "expires_at": invitation["expires_at"],
            "organization_id": organization,
            "inviter_user_id": member,
            "accepted_user_id": null,
            "role_slug": "member",
            "created_at": invitation["created_at"],
            "updated_at": invitation["created_at"],
            "token": token,
            "accept_invitation_url": format!("https://sandbox.invalid/invite?invitation_token={token}"),
        })
    );
    let lasts = instant(&invitation["expires_at"]) - instant(&invitation["created_at"]);
    assert_eq!(lasts.num_days(), 7, "the default");

    let emails = harness.emails().await;
    assert_eq!(
        emails,
        [json!({
            "sequence": 1,
            "to": "invitee@acme.test",
            "kind": "invitation",
            "invitation_id": id,
            "organization_id": organization,
            "at": emails[0]["at"],
        })]
    );
    instant(&emails[0]["at"]);
    assert_eq!(harness.sandbox.sent_emails().len(), 1);

    // The same address again, in any case: refused, and no second email.
    let (code, again) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "INVITEE@acme.test", "organization_id": organization, "role_slug": "admin"}),
        )
        .await;
    assert_eq!(
        (code, code_of(&again)),
        (400, "email_already_invited_to_organization")
    );
    // A member already.
    let (code, refusal) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "MEMBER@acme.test", "organization_id": organization}),
        )
        .await;
    assert_eq!(
        (code, code_of(&refusal)),
        (400, "user_already_organization_member")
    );
    assert_eq!(harness.emails().await.len(), 1);

    // The role given, else `member`; in no organization, none.
    let (code, admin) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "boss@acme.test", "organization_id": organization, "role_slug": "admin", "expires_in_days": 30}),
        )
        .await;
    assert_eq!((code, &admin["role_slug"]), (201, &json!("admin")));
    let lasts = instant(&admin["expires_at"]) - instant(&admin["created_at"]);
    assert_eq!(lasts.num_days(), 30);
    let (code, loose) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "solo@acme.test", "expires_in_days": 1}),
        )
        .await;
    assert_eq!(code, 201, "{loose}");
    assert_eq!(
        (&loose["organization_id"], &loose["role_slug"]),
        (&Value::Null, &Value::Null)
    );
    // In no organization: invited once, and never a user already.
    let (code, refusal) = harness
        .workos_post(INVITATIONS, json!({"email": "solo@acme.test"}))
        .await;
    assert_eq!((code, code_of(&refusal)), (400, "email_already_invited"));
    let (code, refusal) = harness
        .workos_post(INVITATIONS, json!({"email": "member@acme.test"}))
        .await;
    assert_eq!((code, code_of(&refusal)), (400, "user_already_exists"));
    // The same address in another organization is another invitation.
    let (other, _) = organization_with_member(&harness, "other.member@acme.test").await;
    let (code, _) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "invitee@acme.test", "organization_id": other}),
        )
        .await;
    assert_eq!(code, 201);

    let kinds: Vec<(String, String)> = harness
        .emails()
        .await
        .iter()
        .map(|e| {
            (
                e["sequence"].to_string(),
                e["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("1".into(), "invitee@acme.test".into()),
            ("2".into(), "boss@acme.test".into()),
            ("3".into(), "solo@acme.test".into()),
            ("4".into(), "invitee@acme.test".into()),
        ]
    );

    // The state reset empties the record with everything else.
    let (code, _) = harness.admin(Method::POST, "state/reset", None).await;
    assert_eq!(code, 204);
    assert!(harness.emails().await.is_empty());
}

#[tokio::test]
async fn every_refusal_is_the_spec_s_and_records_nothing() {
    let harness = Harness::unlimited().await;
    let (organization, _) = organization_with_member(&harness, "member@acme.test").await;
    let cases = [
        (json!({}), 422, Some("invalid_request_parameters")),
        (
            json!({"email": "not an address"}),
            422,
            Some("invalid_request_parameters"),
        ),
        (json!({"email": 7}), 422, Some("invalid_request_parameters")),
        (
            json!({"email": "a@acme.test", "expires_in_days": 0}),
            400,
            Some("expires_in_days_too_short"),
        ),
        (
            json!({"email": "a@acme.test", "expires_in_days": 31}),
            400,
            Some("expires_in_days_too_long"),
        ),
        (
            json!({"email": "a@acme.test", "expires_in_days": -2}),
            422,
            Some("invalid_request_parameters"),
        ),
        (
            json!({"email": "a@acme.test", "locale": "not a locale"}),
            422,
            Some("invalid_request_parameters"),
        ),
        (
            json!({"email": "a@acme.test", "role_slug": "admin"}),
            422,
            Some("invalid_request_parameters"),
        ),
        (
            json!({"email": "a@acme.test", "organization_id": "org_01NOSUCH"}),
            404,
            None,
        ),
        (
            json!({"email": "a@acme.test", "inviter_user_id": "user_01NOSUCH"}),
            404,
            None,
        ),
        (
            json!({"email": "a@acme.test", "organization_id": organization, "role_slug": "billing_manager"}),
            400,
            Some("invalid_role"),
        ),
    ];
    for (body, status, code) in cases {
        let (got, refusal) = harness.workos_post(INVITATIONS, body.clone()).await;
        assert_eq!(got, status, "{body}: {refusal}");
        match code {
            Some(code) => assert_eq!(code_of(&refusal), code, "{body}"),
            None => assert!(refusal["message"].is_string(), "{refusal}"),
        }
    }
    let (_, missing) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "a@acme.test", "organization_id": "org_01NOSUCH"}),
        )
        .await;
    assert_eq!(
        missing,
        json!({"message": "Organization not found: 'org_01NOSUCH'."})
    );
    let (_, inviter) = harness
        .workos_post(
            INVITATIONS,
            json!({"email": "a@acme.test", "inviter_user_id": "user_01NOSUCH"}),
        )
        .await;
    assert_eq!(
        inviter,
        json!({"message": "User not found: 'user_01NOSUCH'."})
    );
    let (code, refusal) = super::read(
        harness
            .workos(Method::POST, INVITATIONS)
            .header("content-type", "application/json")
            .body("{\"email\":")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        refusal,
        json!({"code": "invalid_request_parameters", "message": "the body is not valid JSON"})
    );
    assert_eq!(code, 422);
    assert!(harness.emails().await.is_empty());
    let (_, listed) = harness.workos_get(INVITATIONS).await;
    assert_eq!(listed["data"], json!([]));
}

#[tokio::test]
async fn revoke_resend_and_accept_follow_the_states() {
    let harness = Harness::unlimited().await;
    let (organization, _) = organization_with_member(&harness, "member@acme.test").await;
    let send = |email: &str| {
        harness.workos_post(
            INVITATIONS,
            json!({"email": email, "organization_id": organization, "role_slug": "admin"}),
        )
    };
    let (_, first) = send("first@acme.test").await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let action = |id: &str, what: &str| {
        harness
            .workos(Method::POST, &format!("{INVITATIONS}/{id}/{what}"))
            .send()
    };

    // Resend: the same invitation, one more email.
    let (code, resent) = super::read(action(&first_id, "resend").await).await;
    assert_eq!(code, 200, "{resent}");
    assert_eq!(
        (&resent["token"], &resent["state"]),
        (&first["token"], &json!("pending"))
    );
    let emails = harness.emails().await;
    assert_eq!(emails.len(), 2);
    assert_eq!(
        (emails[1]["kind"].as_str(), &emails[1]["invitation_id"]),
        (Some("invitation_resend"), &json!(first_id))
    );
    // The 12.x SDK sends `{}`, with a locale when asked.
    let (code, _) = super::read(
        harness
            .workos(Method::POST, &format!("{INVITATIONS}/{first_id}/resend"))
            .json(&json!({"locale": "pt-BR"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, 200);
    let (code, refusal) = super::read(
        harness
            .workos(Method::POST, &format!("{INVITATIONS}/{first_id}/resend"))
            .json(&json!({"locale": "pt-BR", "to": "someone@else.test"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (code, code_of(&refusal)),
        (422, "invalid_request_parameters")
    );

    // Revoke: once; then neither revoke, resend nor accept.
    let (code, revoked) = super::read(action(&first_id, "revoke").await).await;
    assert_eq!(code, 200, "{revoked}");
    assert_eq!(revoked["state"], "revoked");
    assert_eq!(revoked["revoked_at"], revoked["updated_at"]);
    for (what, expected) in [
        ("revoke", "invite_not_pending"),
        ("resend", "invite_revoked"),
        ("accept", "invite_not_pending"),
    ] {
        let (code, refusal) = super::read(action(&first_id, what).await).await;
        assert_eq!((code, code_of(&refusal)), (400, expected), "{what}");
    }
    // A revoked invitation is not pending: the address may be invited again.
    let (code, _) = send("first@acme.test").await;
    assert_eq!(code, 201);

    // Accept: the user with the address joins with the invitation's role.
    let (_, second) = send("second@acme.test").await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let (code, refusal) = super::read(action(&second_id, "accept").await).await;
    assert_eq!(
        (code, code_of(&refusal)),
        (400, "invalid_invite"),
        "no such user yet"
    );
    let (_, user) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "second@acme.test"}),
        )
        .await;
    let (code, accepted) = super::read(action(&second_id, "accept").await).await;
    assert_eq!(code, 200, "{accepted}");
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["accepted_user_id"], user["id"]);
    let (_, memberships) = harness
        .workos_get(&format!(
            "/user_management/organization_memberships?organization_id={organization}&user_id={}",
            user["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(memberships["data"][0]["role"]["slug"], "admin");
    let (code, refusal) = super::read(action(&second_id, "resend").await).await;
    assert_eq!((code, code_of(&refusal)), (400, "invite_accepted"));

    for what in ["revoke", "resend", "accept"] {
        let (code, missing) = super::read(action("invitation_01NOSUCH", what).await).await;
        assert_eq!(code, 404, "{what}");
        assert_eq!(
            missing,
            json!({"message": "Invitation not found: 'invitation_01NOSUCH'."})
        );
    }
    // Two invitations, two resends: four emails in all, none for a refusal.
    let kinds: Vec<String> = harness
        .emails()
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "invitation",
            "invitation_resend",
            "invitation_resend",
            "invitation",
            "invitation"
        ]
    );

    // Each step is an event, carrying the invitation without its token.
    let (code, events) = harness
        .workos_get("/events?events=invitation.created,invitation.resent,invitation.revoked,invitation.accepted&order=asc&limit=100")
        .await;
    assert_eq!(code, 200, "{events}");
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "invitation.created",
            "invitation.resent",
            "invitation.resent",
            "invitation.revoked",
            "invitation.created",
            "invitation.created",
            "invitation.accepted",
        ]
    );
    for event in events["data"].as_array().unwrap() {
        assert!(event["data"].get("token").is_none(), "{event}");
        assert!(
            event["data"].get("accept_invitation_url").is_none(),
            "{event}"
        );
    }
    // The admin dump has them too, without tokens.
    let dump = harness.sandbox.workos_state();
    assert_eq!(dump.invitations.len(), 3);
    assert!(
        !serde_json::to_string(&dump)
            .unwrap()
            .contains(first["token"].as_str().unwrap())
    );
}

#[tokio::test]
async fn lists_filter_page_and_find_by_id_or_token() {
    let harness = Harness::unlimited().await;
    let (acme, _) = organization_with_member(&harness, "member@acme.test").await;
    let (globex, _) = organization_with_member(&harness, "member@globex.test").await;
    let mut sent = Vec::new();
    for (email, organization) in [
        ("a@x.test", Some(&acme)),
        ("b@x.test", Some(&acme)),
        ("a@x.test", Some(&globex)),
        ("c@x.test", None),
    ] {
        let mut body = json!({"email": email});
        if let Some(organization) = organization {
            body["organization_id"] = json!(organization);
        }
        let (code, invitation) = harness.workos_post(INVITATIONS, body).await;
        assert_eq!(code, 201, "{invitation}");
        sent.push(invitation);
    }
    let ids = |listed: &Value| -> Vec<String> {
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = |n: usize| sent[n]["id"].as_str().unwrap().to_owned();

    let (code, all) = harness
        .workos_get(&format!("{INVITATIONS}?order=asc"))
        .await;
    assert_eq!(code, 200, "{all}");
    assert_eq!(ids(&all), [id(0), id(1), id(2), id(3)]);
    assert_eq!(all["object"], "list");
    assert_eq!(
        all["data"][0], sent[0],
        "the list shows what the create answered"
    );
    let (_, newest) = harness.workos_get(INVITATIONS).await;
    assert_eq!(
        ids(&newest),
        [id(3), id(2), id(1), id(0)],
        "desc by default"
    );

    let (_, of_acme) = harness
        .workos_get(&format!("{INVITATIONS}?organization_id={acme}&order=asc"))
        .await;
    assert_eq!(ids(&of_acme), [id(0), id(1)]);
    let (_, to_a) = harness
        .workos_get(&format!("{INVITATIONS}?email=A%40X.test&order=asc"))
        .await;
    assert_eq!(ids(&to_a), [id(0), id(2)]);
    let (_, both) = harness
        .workos_get(&format!(
            "{INVITATIONS}?email=a%40x.test&organization_id={globex}"
        ))
        .await;
    assert_eq!(ids(&both), [id(2)]);

    let (_, first) = harness
        .workos_get(&format!("{INVITATIONS}?order=asc&limit=3"))
        .await;
    assert_eq!(ids(&first), [id(0), id(1), id(2)]);
    assert_eq!(
        first["list_metadata"],
        json!({"before": null, "after": id(2)})
    );
    let (_, rest) = harness
        .workos_get(&format!("{INVITATIONS}?order=asc&limit=3&after={}", id(2)))
        .await;
    assert_eq!(ids(&rest), [id(3)]);
    assert_eq!(rest["list_metadata"]["after"], Value::Null);
    for bad in ["after=user_01X", "limit=101", "order=sideways"] {
        let (code, refusal) = harness.workos_get(&format!("{INVITATIONS}?{bad}")).await;
        assert_eq!(
            (code, code_of(&refusal)),
            (422, "invalid_request_parameters"),
            "{bad}"
        );
    }

    let (code, one) = harness
        .workos_get(&format!("{INVITATIONS}/{}", id(1)))
        .await;
    assert_eq!((code, &one), (200, &sent[1]));
    let token = sent[1]["token"].as_str().unwrap();
    let (code, by_token) = harness
        .workos_get(&format!("{INVITATIONS}/by_token/{token}"))
        .await;
    assert_eq!((code, &by_token), (200, &sent[1]));
    let (code, missing) = harness
        .workos_get(&format!("{INVITATIONS}/by_token/NOTATOKEN"))
        .await;
    assert_eq!(
        (code, missing),
        (404, json!({"message": "Invitation not found."}))
    );
    let (code, missing) = harness
        .workos_get(&format!("{INVITATIONS}/invitation_01NOSUCH"))
        .await;
    assert_eq!(
        (code, missing),
        (
            404,
            json!({"message": "Invitation not found: 'invitation_01NOSUCH'."})
        )
    );

    // Deleting an organization takes its invitations.
    let (code, _) = super::read(
        harness
            .workos(Method::DELETE, &format!("/organizations/{acme}"))
            .send()
            .await,
    )
    .await;
    assert_eq!(code, 200);
    let (_, left) = harness
        .workos_get(&format!("{INVITATIONS}?order=asc"))
        .await;
    assert_eq!(ids(&left), [id(2), id(3)]);
}

#[tokio::test]
async fn a_dropped_answer_still_leaves_exactly_one_email() {
    let harness = Harness::unlimited().await;
    let (organization, _) = organization_with_member(&harness, "member@acme.test").await;
    let body = json!({"email": "invitee@acme.test", "organization_id": organization});
    harness.set_faults(FaultConfig {
        drop_write_rate: 1.0,
        ..FaultConfig::default()
    });
    let lost = harness
        .workos(Method::POST, INVITATIONS)
        .json(&body)
        .send()
        .await;
    assert!(lost.is_err(), "the answer is dropped: {lost:?}");
    harness.set_faults(FaultConfig::default());

    // The invitation was made, so its email went, exactly once.
    let emails = harness.emails().await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(emails[0]["to"], "invitee@acme.test");
    // A retry that does not look first is refused, and sends nothing.
    let (code, refusal) = harness.workos_post(INVITATIONS, body).await;
    assert_eq!(
        (code, code_of(&refusal)),
        (400, "email_already_invited_to_organization")
    );
    assert_eq!(harness.emails().await.len(), 1);
    // Looking first finds it.
    let (_, found) = harness
        .workos_get(&format!(
            "{INVITATIONS}?email=invitee%40acme.test&organization_id={organization}"
        ))
        .await;
    assert_eq!(found["data"][0]["id"], emails[0]["invitation_id"]);
    assert_eq!(found["data"].as_array().unwrap().len(), 1);

    // A fault that answers before the handler runs records nothing.
    harness.set_faults(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    });
    let (code, _) = harness
        .workos_post(INVITATIONS, json!({"email": "later@acme.test"}))
        .await;
    assert!((500..=503).contains(&code), "{code}");
    harness.set_faults(FaultConfig::default());
    assert_eq!(harness.emails().await.len(), 1);
    let counts = harness.sandbox.request_counts();
    assert_eq!(
        counts.count("POST /user_management/invitations", "201 dropped"),
        1
    );
}

#[tokio::test]
async fn the_routes_count_against_the_user_management_limits() {
    let limits = RateLimits {
        workos_writes: Quota::new(1, 60.0),
        workos_reads: Quota::new(1, 60.0),
        ..RateLimits::default()
    };
    let harness = Harness::start(SandboxOptions::default().with_limits(limits)).await;
    let (code, _) = harness
        .workos_post(INVITATIONS, json!({"email": "one@acme.test"}))
        .await;
    assert_eq!(code, 201);
    let (code, refusal) = harness
        .workos_post(INVITATIONS, json!({"email": "two@acme.test"}))
        .await;
    assert_eq!((code, code_of(&refusal)), (429, "rate_limit_exceeded"));
    assert_eq!(
        harness.emails().await.len(),
        1,
        "a refused request sends nothing"
    );
    let (code, _) = harness.workos_get(INVITATIONS).await;
    assert_eq!(code, 200);
    let (code, _) = harness.workos_get(INVITATIONS).await;
    assert_eq!(code, 429);
}
