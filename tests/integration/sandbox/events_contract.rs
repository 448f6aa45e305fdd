//! WorkOS events and webhook endpoints, and the list and password rules
//! the spec documents: the sandbox's own writes listed as events with the
//! spec's filters and cursors; endpoints created, paused, enabled and
//! deleted with their documented errors; cursors that are not ids refused;
//! `password_salt_position` only with an `ssha256` digest.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, read};

async fn patch(harness: &Harness, path: &str, body: Value) -> (u16, Value) {
    read(harness.workos(Method::PATCH, path).json(&body).send().await).await
}

fn kinds(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn writes_are_listed_as_events_with_filters_and_cursors() {
    let harness = Harness::unlimited().await;
    let user = harness
        .create_user(json!({"email": "ev@acme.test", "first_name": "Eve"}))
        .await;
    let (_, org) = harness
        .workos_post("/organizations", json!({"name": "Evening"}))
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (status, membership) = harness
        .workos_post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org_id}),
        )
        .await;
    assert_eq!(status, 201, "{membership}");
    let (status, _) = read(
        harness
            .workos(Method::PUT, &format!("/user_management/users/{user}"))
            .json(&json!({"first_name": "Evelyn"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);

    let all = "user.created,user.updated,organization.created,organization_membership.created";
    let (status, page) = harness
        .workos_get(&format!("/events?events={all}&order=asc&limit=100"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        kinds(&page),
        [
            "user.created",
            "organization.created",
            "organization_membership.created",
            "user.updated"
        ]
    );
    assert_eq!(page["data"][3]["data"]["first_name"], "Evelyn");
    assert_eq!(page["data"][2]["data"]["organization_id"], org_id.as_str());
    assert_eq!(page["list_metadata"]["after"], Value::Null);

    // The default order is the spec's `desc`; `after` pages on.
    let (_, first) = harness
        .workos_get(&format!("/events?events={all}&limit=2"))
        .await;
    assert_eq!(
        kinds(&first),
        ["user.updated", "organization_membership.created"]
    );
    let after = first["list_metadata"]["after"].as_str().unwrap();
    let (_, second) = harness
        .workos_get(&format!("/events?events={all}&limit=2&after={after}"))
        .await;
    assert_eq!(kinds(&second), ["organization.created", "user.created"]);

    // By type (repeated keys too), by organization, by date range.
    let (_, users) = harness
        .workos_get("/events?events=user.created&events=user.updated")
        .await;
    assert_eq!(kinds(&users).len(), 2);
    let (_, of_org) = harness
        .workos_get(&format!("/events?events={all}&organization_id={org_id}"))
        .await;
    assert_eq!(kinds(&of_org).len(), 2);
    let (_, future) = harness
        .workos_get(&format!(
            "/events?events={all}&range_start=2999-01-01T00:00:00Z"
        ))
        .await;
    assert!(kinds(&future).is_empty());
    let (_, past) = harness
        .workos_get(&format!(
            "/events?events={all}&range_end=2000-01-01T00:00:00Z"
        ))
        .await;
    assert!(kinds(&past).is_empty());

    // The spec's 422s: no event types, a date that is not one.
    let (status, body) = harness.workos_get("/events").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "events");
    assert_eq!(body["errors"][0]["code"], "required");
    let (status, body) = harness
        .workos_get("/events?events=user.created&range_start=yesterday")
        .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("range_start"))
    );

    // Deleting a user emits its memberships' deletion and its own.
    let (status, _) = read(
        harness
            .workos(Method::DELETE, &format!("/user_management/users/{user}"))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (_, deleted) = harness
        .workos_get("/events?events=user.deleted,organization_membership.deleted&order=asc")
        .await;
    assert_eq!(
        kinds(&deleted),
        ["organization_membership.deleted", "user.deleted"]
    );
}

#[tokio::test]
async fn webhook_endpoints_are_created_paused_enabled_and_deleted() {
    let harness = Harness::unlimited().await;
    let (status, created) = harness
        .workos_post(
            "/webhook_endpoints",
            json!({"endpoint_url": "https://hooks.acme.test/workos", "events": ["user.created", "organization_membership.created"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "enabled");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = created["id"].as_str().unwrap().to_owned();

    // The documented refusals.
    let (status, body) = harness
        .workos_post(
            "/webhook_endpoints",
            json!({"endpoint_url": "https://hooks.acme.test/workos", "events": ["user.created"]}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("duplicate_endpoint"))
    );
    let (status, body) = harness
        .workos_post(
            "/webhook_endpoints",
            json!({"endpoint_url": "http://hooks.acme.test/plain", "events": ["user.created"]}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_url")));
    let (status, body) = harness
        .workos_post(
            "/webhook_endpoints",
            json!({"endpoint_url": "https://hooks.acme.test/other", "events": ["user.exploded"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["code"], "unknown_event_type");

    // Pause and enable again.
    let (status, paused) = patch(
        &harness,
        &format!("/webhook_endpoints/{id}"),
        json!({"status": "disabled"}),
    )
    .await;
    assert_eq!((status, paused["status"].as_str()), (200, Some("disabled")));
    let (_, listed) = harness.workos_get("/webhook_endpoints").await;
    assert_eq!(listed["data"][0]["status"], "disabled");
    assert_eq!(listed["data"][0]["events"].as_array().unwrap().len(), 2);
    let (status, enabled) = patch(
        &harness,
        &format!("/webhook_endpoints/{id}"),
        json!({"status": "enabled"}),
    )
    .await;
    assert_eq!((status, enabled["status"].as_str()), (200, Some("enabled")));
    let (status, body) = patch(
        &harness,
        "/webhook_endpoints/we_01NOSUCH",
        json!({"status": "enabled"}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("entity_not_found"))
    );

    let path = format!("/webhook_endpoints/{id}");
    let (status, _) = read(harness.workos(Method::DELETE, &path).send().await).await;
    assert_eq!(status, 204);
    let (status, body) = read(harness.workos(Method::DELETE, &path).send().await).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("entity_not_found"))
    );
    let (_, listed) = harness.workos_get("/webhook_endpoints").await;
    assert!(listed["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_cursor_that_is_not_an_id_of_the_listed_kind_is_refused() {
    let harness = Harness::unlimited().await;
    for n in 0..3 {
        harness
            .create_user(json!({"email": format!("c{n}@acme.test")}))
            .await;
    }
    for cursor in ["garbage", "org_01ABC", "user_"] {
        let (status, body) = harness
            .workos_get(&format!("/user_management/users?after={cursor}"))
            .await;
        assert_eq!(status, 422, "{cursor}: {body}");
        assert_eq!(body["code"], "invalid_request_parameters");
    }
    // An id that no longer exists still pages on from where it would sort.
    let (_, page) = harness
        .workos_get("/user_management/users?order=asc&limit=1")
        .await;
    let first = page["data"][0]["id"].as_str().unwrap().to_owned();
    read(
        harness
            .workos(Method::DELETE, &format!("/user_management/users/{first}"))
            .send()
            .await,
    )
    .await;
    let (status, rest) = harness
        .workos_get(&format!("/user_management/users?order=asc&after={first}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(rest["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_salt_position_goes_only_with_an_ssha256_digest() {
    let harness = Harness::unlimited().await;
    // {SSHA256} of 32 hash bytes and a 4-byte salt.
    let digest = format!("{{SSHA256}}{}", "BwcH".repeat(12));
    let (status, user) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "s1@acme.test", "password_hash": digest,
                   "password_hash_type": "ssha256", "password_salt_position": "prefix"}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "s2@acme.test", "password": "correct horse",
                   "password_salt_position": "prefix"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["code"],
        "password_salt_position_requires_password_hash"
    );
    let bcrypt = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "s3@acme.test", "password_hash": bcrypt,
                   "password_hash_type": "bcrypt", "password_salt_position": "suffix"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_request_parameters"))
    );
    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "s4@acme.test", "password_hash": digest,
                   "password_hash_type": "ssha256", "password_salt_position": "middle"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_request_parameters"))
    );
    let id = user["id"].as_str().unwrap();
    let (status, body) = read(
        harness
            .workos(Method::PUT, &format!("/user_management/users/{id}"))
            .json(&json!({"password_salt_position": "suffix"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["code"],
        "password_salt_position_requires_password_hash"
    );
}
