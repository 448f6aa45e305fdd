//! Clerk Backend API contract: shapes with every field the spec requires,
//! pagination edges, filters, and errors in Clerk's envelope.

use ferry_sandbox::{RateLimits, SandboxOptions, Tenant, generate};
use ferry_wire::clerk::model::{OrganizationMembership, PaginatedList, User};
use reqwest::Method;
use serde_json::Value;

use super::{Harness, assert_fields, read};

const USER_FIELDS: &[&str] = &[
    "id",
    "object",
    "username",
    "first_name",
    "last_name",
    "has_image",
    "primary_email_address_id",
    "primary_phone_number_id",
    "primary_web3_wallet_id",
    "password_enabled",
    "two_factor_enabled",
    "totp_enabled",
    "backup_code_enabled",
    "email_addresses",
    "phone_numbers",
    "web3_wallets",
    "passkeys",
    "external_accounts",
    "saml_accounts",
    "enterprise_accounts",
    "public_metadata",
    "external_id",
    "last_sign_in_at",
    "banned",
    "locked",
    "lockout_expires_in_seconds",
    "verification_attempts_remaining",
    "created_at",
    "updated_at",
    "delete_self_enabled",
    "create_organization_enabled",
    "last_active_at",
    "mfa_enabled_at",
    "mfa_disabled_at",
    "legal_accepted_at",
];

fn assert_clerk_error(body: &Value, code: &str) {
    let error = &body["errors"][0];
    assert_eq!(error["code"], code, "{body}");
    assert_fields(error, &["message", "long_message", "code"]);
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a bare array")
        .iter()
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn users_are_a_bare_array_with_every_required_field_and_millisecond_times() {
    let (harness, _) = Harness::generated(30, 3).await;
    let (status, body) = harness.clerk_get("/users?limit=30").await;
    assert_eq!(status, 200);
    let users = body.as_array().expect("a bare JSON array");
    assert_eq!(users.len(), 30);
    for user in users {
        assert_fields(user, USER_FIELDS);
        // Milliseconds: after 2020 in ms is > 1.5e12.
        assert!(user["created_at"].as_i64().unwrap() > 1_500_000_000_000);
        for email in user["email_addresses"].as_array().unwrap() {
            assert_fields(
                email,
                &[
                    "object",
                    "email_address",
                    "verification",
                    "linked_to",
                    "reserved",
                    "created_at",
                    "updated_at",
                ],
            );
        }
        for phone in user["phone_numbers"].as_array().unwrap() {
            assert_fields(
                phone,
                &[
                    "object",
                    "phone_number",
                    "verification",
                    "linked_to",
                    "reserved",
                    "created_at",
                    "updated_at",
                ],
            );
        }
    }
    // The typed model reads what the sandbox writes.
    let typed: Vec<User> = serde_json::from_value(body).unwrap();
    assert_eq!(typed.len(), 30);
}

#[tokio::test]
async fn order_offset_and_starting_after_walk_the_tenant() {
    let (harness, generated) = Harness::generated(25, 0).await;
    let mut by_creation: Vec<&User> = generated.tenant.users.iter().collect();
    by_creation.sort_by_key(|user| user.created_at);
    let oldest_first: Vec<String> = by_creation.iter().map(|u| u.id.clone()).collect();

    let (_, ascending) = harness
        .clerk_get("/users?limit=500&order_by=%2Bcreated_at")
        .await;
    assert_eq!(ids(&ascending), oldest_first);
    // A `+` left unencoded means the same.
    let (_, unencoded) = harness
        .clerk_get("/users?limit=500&order_by=+created_at")
        .await;
    assert_eq!(ids(&unencoded), oldest_first);
    // The default is newest first.
    let (_, default) = harness.clerk_get("/users?limit=500").await;
    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    assert_eq!(ids(&default), newest_first);

    // Offset pages: exact multiples end with an empty page.
    let mut walked = Vec::new();
    for offset in (0..=25).step_by(5) {
        let (status, page) = harness
            .clerk_get(&format!(
                "/users?limit=5&offset={offset}&order_by=%2Bcreated_at"
            ))
            .await;
        assert_eq!(status, 200);
        walked.extend(ids(&page));
    }
    assert_eq!(walked, oldest_first);

    // starting_after with limit 1 walks one by one; past the end is empty.
    let mut cursor = oldest_first[0].clone();
    let mut seen = vec![cursor.clone()];
    loop {
        let (_, page) = harness
            .clerk_get(&format!(
                "/users?limit=1&order_by=%2Bcreated_at&starting_after={cursor}"
            ))
            .await;
        let page = ids(&page);
        if page.is_empty() {
            break;
        }
        assert_eq!(page.len(), 1);
        cursor = page[0].clone();
        seen.push(cursor.clone());
    }
    assert_eq!(seen, oldest_first);

    // Newest first by cursor, 7 at a time (25 is no multiple of 7).
    let mut walked = Vec::new();
    let mut path = "/users?limit=7&order_by=-created_at".to_owned();
    loop {
        let (_, page) = harness.clerk_get(&path).await;
        let page = ids(&page);
        let Some(last) = page.last().cloned() else {
            break;
        };
        walked.extend(page);
        path = format!("/users?limit=7&order_by=-created_at&starting_after={last}");
    }
    assert_eq!(walked, newest_first);

    // A cursor with a filter takes the filtered order.
    let emails: Vec<String> = by_creation
        .iter()
        .filter_map(|u| u.primary_email().map(|e| e.email_address.clone()))
        .take(3)
        .collect();
    let query: String = emails
        .iter()
        .map(|e| format!("&email_address={e}"))
        .collect();
    let (_, filtered) = harness
        .clerk_get(&format!("/users?order_by=%2Bcreated_at{query}"))
        .await;
    let filtered = ids(&filtered);
    assert_eq!(filtered.len(), 3);
    let (_, rest) = harness
        .clerk_get(&format!(
            "/users?order_by=%2Bcreated_at&starting_after={}{query}",
            filtered[0]
        ))
        .await;
    assert_eq!(ids(&rest), filtered[1..]);
}

#[tokio::test]
async fn starting_after_needs_creation_order_and_no_offset() {
    let (harness, generated) = Harness::generated(5, 0).await;
    let id = &generated.tenant.users[0].id;
    for query in [
        format!("/users?starting_after={id}&offset=1&order_by=%2Bcreated_at"),
        format!("/users?starting_after={id}&order_by=%2Bfirst_name"),
        "/users?starting_after=user_unknown&order_by=%2Bcreated_at".to_owned(),
    ] {
        let (status, body) = harness.clerk_get(&query).await;
        assert_eq!(status, 422, "{query}");
        assert_clerk_error(&body, "form_param_value_invalid");
    }
}

#[tokio::test]
async fn out_of_range_parameters_are_422() {
    let (harness, _) = Harness::generated(3, 0).await;
    for query in [
        "/users?limit=0",
        "/users?limit=501",
        "/users?limit=abc",
        "/users?offset=-1",
        "/users?order_by=%2Bshoe_size",
        "/organizations?limit=501",
        "/organization_memberships?limit=0",
    ] {
        let (status, body) = harness.clerk_get(query).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_clerk_error(&body, "form_param_value_invalid");
    }
    let (status, _) = harness.clerk_get("/users?limit=500").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn filters_and_count() {
    let (harness, generated) = Harness::generated(40, 0).await;
    let with_email: Vec<&User> = generated
        .tenant
        .users
        .iter()
        .filter(|u| u.primary_email().is_some())
        .take(2)
        .collect();
    let upper = with_email[0]
        .primary_email()
        .unwrap()
        .email_address
        .to_uppercase();
    let second = &with_email[1].primary_email().unwrap().email_address;
    let query = format!("email_address={upper}&email_address={second}");
    let (_, users) = harness.clerk_get(&format!("/users?{query}")).await;
    let mut expected = vec![with_email[0].id.clone(), with_email[1].id.clone()];
    let mut found = ids(&users);
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
    let (_, count) = harness.clerk_get(&format!("/users/count?{query}")).await;
    assert_eq!(
        count,
        serde_json::json!({"object": "total_count", "total_count": 2})
    );

    let id = &generated.tenant.users[5].id;
    let (_, by_id) = harness.clerk_get(&format!("/users?user_id={id}")).await;
    assert_eq!(ids(&by_id), std::slice::from_ref(id));
    let (_, all) = harness.clerk_get("/users/count").await;
    assert_eq!(all["total_count"], 40);
}

#[tokio::test]
async fn one_user_and_not_found() {
    let (harness, generated) = Harness::generated(3, 0).await;
    let user = &generated.tenant.users[1];
    let (status, body) = harness.clerk_get(&format!("/users/{}", user.id)).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], user.id.as_str());
    let (status, body) = harness.clerk_get("/users/user_nope").await;
    assert_eq!(status, 404);
    assert_clerk_error(&body, "resource_not_found");
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_401_in_clerks_envelope() {
    let (harness, _) = Harness::generated(1, 0).await;
    let url = format!("{}/users", harness.sandbox.clerk_url());
    let (status, body) = read(harness.http.get(&url).send().await).await;
    assert_eq!(status, 401);
    assert_clerk_error(&body, "authentication_invalid");
    let (status, _) = read(
        harness
            .http
            .get(&url)
            .bearer_auth("sk_test_wrong")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_empty_tenant_lists_nothing() {
    let harness = Harness::start(
        SandboxOptions::default()
            .with_tenant(Tenant::default())
            .with_limits(RateLimits::disabled()),
    )
    .await;
    let (status, users) = harness.clerk_get("/users?limit=1").await;
    assert_eq!((status, users), (200, serde_json::json!([])));
    let (_, count) = harness.clerk_get("/users/count").await;
    assert_eq!(count["total_count"], 0);
    let (_, organizations) = harness.clerk_get("/organizations").await;
    assert_eq!(
        organizations,
        serde_json::json!({"data": [], "total_count": 0})
    );
    let (_, memberships) = harness.clerk_get("/organization_memberships").await;
    assert_eq!(
        memberships,
        serde_json::json!({"data": [], "total_count": 0})
    );
}

#[tokio::test]
async fn organizations_and_memberships_are_data_and_total_count() {
    let generated = generate::generate(generate::GeneratorOptions {
        users: 60,
        organizations: 4,
        seed: 3,
    });
    let harness = Harness::start(
        SandboxOptions::default()
            .with_generated(&generated)
            .with_limits(RateLimits::disabled()),
    )
    .await;
    let (status, body) = harness
        .clerk_get("/organizations?limit=3&order_by=%2Bcreated_at")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total_count"], 4);
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    for organization in body["data"].as_array().unwrap() {
        assert_fields(
            organization,
            &[
                "object",
                "id",
                "name",
                "slug",
                "has_image",
                "max_allowed_memberships",
                "admin_delete_enabled",
                "public_metadata",
                "created_at",
                "updated_at",
            ],
        );
    }
    let (_, counted) = harness
        .clerk_get("/organizations?limit=500&include_members_count=true")
        .await;
    let counted_total: u64 = counted["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["members_count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted_total, generated.truth.memberships);
    assert!(body["data"][0].get("members_count").is_none());
    let (_, rest) = harness
        .clerk_get("/organizations?limit=3&offset=3&order_by=%2Bcreated_at")
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);

    let organization = &generated.tenant.organizations[0];
    let expected = generated
        .tenant
        .memberships
        .iter()
        .filter(|m| m.organization.id == organization.id)
        .count();
    let (status, body) = harness
        .clerk_get(&format!(
            "/organizations/{}/memberships?limit=500",
            organization.id
        ))
        .await;
    assert_eq!(status, 200);
    let list: PaginatedList<OrganizationMembership> = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(list.total_count as usize, expected);
    assert_eq!(list.data.len(), expected);
    for membership in body["data"].as_array().unwrap() {
        assert_fields(
            membership,
            &[
                "object",
                "id",
                "role",
                "permissions",
                "public_metadata",
                "created_at",
                "updated_at",
                "organization",
            ],
        );
        assert!(membership["role"].as_str().unwrap().starts_with("org:"));
    }
    let (status, body) = harness
        .clerk_get("/organizations/org_nope/memberships")
        .await;
    assert_eq!(status, 404);
    assert_clerk_error(&body, "resource_not_found");

    let (_, all) = harness.clerk_get("/organization_memberships?limit=1").await;
    assert_eq!(all["total_count"], generated.truth.memberships);
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    // Paging past the end is an empty page with the same total.
    let (_, past) = harness
        .clerk_get(&format!(
            "/organization_memberships?offset={}",
            generated.truth.memberships
        ))
        .await;
    assert_eq!(past["data"], serde_json::json!([]));
    assert_eq!(past["total_count"], generated.truth.memberships);
}

#[tokio::test]
async fn unknown_routes_are_404_in_clerks_envelope() {
    let (harness, _) = Harness::generated(1, 0).await;
    let (status, body) = read(harness.clerk(Method::GET, "/nowhere").send().await).await;
    assert_eq!(status, 404);
    assert_clerk_error(&body, "resource_not_found");
}

#[tokio::test]
async fn the_instance_says_which_environment_the_key_belongs_to() {
    let (harness, _) = Harness::generated(5, 1).await;
    let (status, instance) = harness.clerk_get("/instance").await;
    assert_eq!(status, 200, "{instance}");
    let typed: ferry_wire::clerk::model::Instance = serde_json::from_value(instance).unwrap();
    assert_eq!(typed.object, "instance");
    assert_eq!(typed.environment_type, "development", "an sk_test_ key");
}
