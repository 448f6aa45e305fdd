//! The Clerk tenant changed while the sandbox runs: single creates,
//! updates and deletes of users, organizations and memberships, seen by
//! the Backend API at once with `updated_at` moving as in Clerk, and the
//! whole tenant read and replaced, the WorkOS state untouched.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, read};

async fn admin(harness: &Harness, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let request = harness.admin(method, &format!("clerk/{path}"));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    read(request.send().await).await
}

#[tokio::test]
async fn users_organizations_and_memberships_change_while_it_runs() {
    let (harness, generated) = Harness::generated(20, 2).await;
    let (_, before) = harness.clerk_get("/users/count").await;
    assert_eq!(before["total_count"], generated.tenant.users.len());

    // A sign-up: listed, counted, found by created_at_after.
    let (status, user) = admin(
        &harness,
        Method::POST,
        "users",
        Some(json!({"email_address": ["new.hire@acme.test"], "first_name": "Nia",
                    "password_digest": "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
                    "password_hasher": "bcrypt"})),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("user_2"));
    assert_eq!(user["password_enabled"], true);
    let created = user["created_at"].as_i64().unwrap();
    let (_, count) = harness.clerk_get("/users/count").await;
    assert_eq!(count["total_count"], generated.tenant.users.len() + 1);
    let (_, newer) = harness
        .clerk_get(&format!("/users?created_at_after={}", created - 1))
        .await;
    assert_eq!(newer.as_array().unwrap().len(), 1);
    assert_eq!(newer[0]["id"], id.as_str());

    // A rename moves updated_at and puts the user first by -updated_at.
    let oldest = generated.tenant.users[0].id.clone();
    let (status, renamed) = admin(
        &harness,
        Method::PATCH,
        &format!("users/{oldest}"),
        Some(json!({"first_name": "Renamed", "email_address": "renamed@acme.test"})),
    )
    .await;
    assert_eq!(status, 200, "{renamed}");
    assert!(renamed["updated_at"].as_i64().unwrap() > generated.tenant.users[0].updated_at);
    let (_, recent) = harness
        .clerk_get("/users?order_by=-updated_at&limit=1")
        .await;
    assert_eq!(recent[0]["id"], oldest.as_str());
    assert_eq!(
        recent[0]["email_addresses"][0]["email_address"],
        "renamed@acme.test"
    );

    // An organization added, a membership added with a role, changed, removed.
    let (status, org) = admin(
        &harness,
        Method::POST,
        "organizations",
        Some(json!({"name": "Night Shift"})),
    )
    .await;
    assert_eq!(status, 201, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    assert_eq!(org["slug"], "night-shift");
    let (status, membership) = admin(
        &harness,
        Method::POST,
        "memberships",
        Some(json!({"organization_id": org_id, "user_id": id, "role": "org:admin"})),
    )
    .await;
    assert_eq!(status, 201, "{membership}");
    let membership_id = membership["id"].as_str().unwrap().to_owned();
    let (status, changed) = admin(
        &harness,
        Method::PATCH,
        &format!("memberships/{membership_id}"),
        Some(json!({"role": "org:member"})),
    )
    .await;
    assert_eq!(
        (status, changed["role"].as_str()),
        (200, Some("org:member"))
    );
    admin(
        &harness,
        Method::PATCH,
        &format!("organizations/{org_id}"),
        Some(json!({"name": "Night Shift Ltd"})),
    )
    .await;
    let (_, listed) = harness
        .clerk_get(&format!("/organizations/{org_id}/memberships"))
        .await;
    assert_eq!(listed["data"][0]["organization"]["name"], "Night Shift Ltd");
    assert_eq!(listed["data"][0]["role"], "org:member");
    let (status, _) = admin(
        &harness,
        Method::DELETE,
        &format!("memberships/{membership_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, listed) = harness
        .clerk_get(&format!("/organizations/{org_id}/memberships"))
        .await;
    assert_eq!(listed["total_count"], 0);

    // A deletion: gone from the API; a second one is 404.
    let (status, _) = admin(&harness, Method::DELETE, &format!("users/{id}"), None).await;
    assert_eq!(status, 200);
    let (status, _) = harness.clerk_get(&format!("/users/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = admin(&harness, Method::DELETE, &format!("users/{id}"), None).await;
    assert_eq!(status, 404);

    // Refusals name the reason, never a value.
    let (status, body) = admin(
        &harness,
        Method::POST,
        "users",
        Some(json!({"email_address": ["x@acme.test"], "password": "hunter2"})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["message"].as_str().unwrap().contains("unknown field"));
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn a_tenant_past_a_web_form_s_size_is_taken_whole() {
    let (harness, generated) = Harness::generated(4000, 20).await;
    let (status, tenant) = admin(&harness, Method::GET, "tenant", None).await;
    assert_eq!(status, 200);
    let size = serde_json::to_vec(&tenant).unwrap().len();
    assert!(
        size > 4 << 20,
        "{size} bytes: not past the 2 MB a route takes by default"
    );
    let (status, counts) = admin(&harness, Method::PUT, "tenant", Some(tenant)).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["users"], generated.tenant.users.len());
    assert_eq!(counts["memberships"], generated.tenant.memberships.len());
}

#[tokio::test]
async fn the_whole_tenant_is_read_and_replaced_and_workos_stays() {
    let (harness, generated) = Harness::generated(12, 2).await;
    let kept = harness
        .create_user(json!({"email": "kept@acme.test"}))
        .await;
    let (status, tenant) = admin(&harness, Method::GET, "tenant", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        tenant["users"].as_array().unwrap().len(),
        generated.tenant.users.len()
    );
    let mut smaller = tenant.clone();
    smaller["users"].as_array_mut().unwrap().truncate(3);
    let three: Vec<Value> = smaller["users"].as_array().unwrap().clone();
    let ids: Vec<&str> = three.iter().map(|u| u["id"].as_str().unwrap()).collect();
    smaller["memberships"].as_array_mut().unwrap().retain(|m| {
        ids.contains(
            &m["public_user_data"]["user_id"]
                .as_str()
                .unwrap_or_default(),
        )
    });
    let (status, counts) = admin(&harness, Method::PUT, "tenant", Some(smaller)).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["users"], 3);
    let (_, count) = harness.clerk_get("/users/count").await;
    assert_eq!(count["total_count"], 3);
    let (status, user) = harness
        .workos_get(&format!("/user_management/users/{kept}"))
        .await;
    assert_eq!(
        (status, user["email"].as_str()),
        (200, Some("kept@acme.test"))
    );
    let (status, body) = admin(&harness, Method::PUT, "tenant", Some(json!({"users": 7}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("users"));
}
