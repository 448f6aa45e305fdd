//! Roles, permissions and domains, as both APIs document them: WorkOS's
//! environment and organization roles and permissions, memberships refused
//! with 422 `invalid_role`; Clerk's organization roles, permissions and
//! domains with their filters.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, assert_fields, read};

const ROLE_FIELDS: &[&str] = &[
    "object",
    "id",
    "slug",
    "name",
    "description",
    "type",
    "resource_type_slug",
    "permissions",
    "created_at",
    "updated_at",
];

fn slugs(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn environments_start_with_admin_and_member_and_take_new_roles_with_permissions() {
    let harness = Harness::unlimited().await;
    let (status, list) = harness.workos_get("/authorization/roles").await;
    assert_eq!(status, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(slugs(&list), vec!["admin", "member"]);
    assert_fields(&list["data"][0], ROLE_FIELDS);
    assert_eq!(list["data"][0]["type"], "EnvironmentRole");

    let (status, role) = harness
        .workos_post(
            "/authorization/roles",
            json!({ "slug": "billing", "name": "Billing", "description": "Pays" }),
        )
        .await;
    assert_eq!(status, 201, "{role}");
    assert_fields(&role, ROLE_FIELDS);
    let (status, again) = harness
        .workos_post(
            "/authorization/roles",
            json!({ "slug": "billing", "name": "B" }),
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("role_slug_conflict"))
    );
    let (status, bad) = harness
        .workos_post(
            "/authorization/roles",
            json!({ "slug": "Billing Team", "name": "B" }),
        )
        .await;
    assert_eq!((status, bad["code"].as_str()), (400, Some("bad_request")));

    // A permission must exist before a role is given it.
    let (status, _) = read(
        harness
            .workos(Method::PUT, "/authorization/roles/billing/permissions")
            .json(&json!({ "permissions": ["invoices:read"] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, permission) = harness
        .workos_post(
            "/authorization/permissions",
            json!({ "slug": "invoices:read", "name": "Read invoices" }),
        )
        .await;
    assert_eq!(status, 201, "{permission}");
    assert_fields(
        &permission,
        &[
            "object",
            "id",
            "slug",
            "name",
            "description",
            "system",
            "resource_type_slug",
            "created_at",
            "updated_at",
        ],
    );
    let (status, role) = read(
        harness
            .workos(Method::PUT, "/authorization/roles/billing/permissions")
            .json(&json!({ "permissions": ["invoices:read"] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (status, role["permissions"].clone()),
        (200, json!(["invoices:read"]))
    );
    let (status, list) = harness.workos_get("/authorization/permissions").await;
    assert_eq!((status, list["data"].as_array().unwrap().len()), (200, 1));
    assert!(list["list_metadata"].is_object());

    let (status, patched) = read(
        harness
            .workos(Method::PATCH, "/authorization/roles/billing")
            .json(&json!({ "name": "Billing team", "description": null }))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (patched["name"].as_str(), &patched["description"]),
        (Some("Billing team"), &Value::Null)
    );
    let (status, _) = harness.workos_get("/authorization/roles/nobody").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_membership_names_a_role_the_environment_or_its_organization_has() {
    let harness = Harness::unlimited().await;
    let user = harness
        .create_user(json!({ "email": "ada@acme.test" }))
        .await;
    let (_, organization) = harness
        .workos_post("/organizations", json!({ "name": "Acme" }))
        .await;
    let organization = organization["id"].as_str().unwrap().to_owned();
    let membership = |role: Value| {
        let mut body = json!({ "user_id": user, "organization_id": organization });
        body.as_object_mut()
            .unwrap()
            .extend(role.as_object().unwrap().clone());
        body
    };
    let (status, refused) = harness
        .workos_post(
            "/user_management/organization_memberships",
            membership(json!({ "role_slug": "billing" })),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["code"], "invalid_role");
    assert_eq!(refused["message"], "Role 'billing' is not a valid role.");
    let (status, refused) = harness
        .workos_post(
            "/user_management/organization_memberships",
            membership(json!({ "role_slugs": ["admin", "member"] })),
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("multiple_roles_not_enabled"))
    );

    // An organization role (its slug begins with `org-`) is good for its organization.
    let roles_path = format!("/authorization/organizations/{organization}/roles");
    let (status, refused) = harness
        .workos_post(&roles_path, json!({ "slug": "billing", "name": "Billing" }))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, _) = harness
        .workos_post(
            &roles_path,
            json!({ "slug": "org-billing", "name": "Billing" }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, again) = harness
        .workos_post(
            &roles_path,
            json!({ "slug": "org-billing", "name": "Billing" }),
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("organization_role_slug_conflict"))
    );
    let (_, roles) = harness
        .workos_get(&format!(
            "/authorization/organizations/{organization}/roles"
        ))
        .await;
    assert_eq!(slugs(&roles), vec!["admin", "member", "org-billing"]);
    assert_eq!(roles["data"][2]["type"], "OrganizationRole");
    let (status, created) = harness
        .workos_post(
            "/user_management/organization_memberships",
            membership(json!({ "role_slugs": ["org-billing"] })),
        )
        .await;
    assert_eq!(
        (status, created["role"]["slug"].as_str()),
        (201, Some("org-billing"))
    );
    let id = created["id"].as_str().unwrap();
    let (status, refused) = read(
        harness
            .workos(
                Method::PUT,
                &format!("/user_management/organization_memberships/{id}"),
            )
            .json(&json!({ "role_slug": "owner" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("invalid_role"))
    );
}

#[tokio::test]
async fn clerk_serves_roles_permissions_and_domains_with_their_filters() {
    let (harness, generated) = Harness::generated(40, 6).await;
    let (status, roles) = harness.clerk_get("/organization_roles?limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(roles["total_count"], generated.tenant.roles.len());
    assert_fields(
        &roles["data"][0],
        &[
            "object",
            "id",
            "name",
            "key",
            "description",
            "is_creator_eligible",
            "permissions",
            "created_at",
            "updated_at",
        ],
    );
    let (_, found) = harness.clerk_get("/organization_roles?query=billing").await;
    assert_eq!(found["total_count"], 1);
    assert_eq!(found["data"][0]["key"], "org:billing_manager");
    let (_, permissions) = harness
        .clerk_get("/organization_permissions?limit=100")
        .await;
    assert_eq!(
        permissions["total_count"],
        generated.tenant.permissions.len()
    );
    assert!(
        permissions["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["type"] == "system")
    );

    let (status, all) = harness.clerk_get("/organization_domains?limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(all["total_count"], generated.tenant.domains.len());
    let verified = generated
        .tenant
        .domains
        .iter()
        .filter(|d| d.is_verified())
        .count();
    let (_, only) = harness
        .clerk_get("/organization_domains?verified=true")
        .await;
    assert_eq!(only["total_count"], verified);
    let (status, _) = harness
        .clerk_get("/organization_domains?verified=maybe")
        .await;
    assert_eq!(status, 422);
    let first = &generated.tenant.domains[0];
    let (_, of_one) = harness
        .clerk_get(&format!("/organizations/{}/domains", first.organization_id))
        .await;
    assert!(
        of_one["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["organization_id"] == first.organization_id.as_str())
    );
    assert_fields(
        &of_one["data"][0],
        &[
            "object",
            "id",
            "organization_id",
            "name",
            "enrollment_mode",
            "affiliation_email_address",
            "affiliation_verification",
            "ownership_verification",
            "verification",
            "total_pending_invitations",
            "total_pending_suggestions",
            "created_at",
            "updated_at",
        ],
    );
    let (status, _) = harness.clerk_get("/organizations/org_nobody/domains").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_tenant_file_carries_roles_permissions_and_domains_or_serves_the_roles_memberships_use() {
    let generated = ferry_sandbox::generate::generate(ferry_sandbox::GeneratorOptions {
        users: 30,
        organizations: 3,
        seed: 5,
    });
    // Through a file, as `ferry sandbox --tenant` reads it.
    let scratch = crate::common::Scratch::new();
    let path = scratch.path().join("tenant.json");
    generated.tenant.save(&path).unwrap();
    let loaded = ferry_sandbox::Tenant::load(&path).unwrap();
    assert_eq!(loaded.roles, generated.tenant.roles);
    assert_eq!(loaded.domains, generated.tenant.domains);
    let harness = Harness::start(
        ferry_sandbox::SandboxOptions::default()
            .with_tenant(loaded.clone())
            .with_limits(ferry_sandbox::RateLimits::disabled()),
    )
    .await;
    let (_, roles) = harness.clerk_get("/organization_roles?limit=100").await;
    assert_eq!(roles["total_count"], 5);
    let (_, domains) = harness.clerk_get("/organization_domains?limit=100").await;
    assert_eq!(domains["total_count"], generated.tenant.domains.len());

    // An older tenant without definitions: the roles its memberships use.
    let mut older = loaded;
    older.roles.clear();
    older.permissions.clear();
    let harness = Harness::start(
        ferry_sandbox::SandboxOptions::default()
            .with_tenant(older.clone())
            .with_limits(ferry_sandbox::RateLimits::disabled()),
    )
    .await;
    let (_, roles) = harness.clerk_get("/organization_roles?limit=100").await;
    let mut used: Vec<&str> = older.memberships.iter().map(|m| m.role.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    let mut served: Vec<&str> = roles["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    served.sort_unstable();
    assert_eq!(served, used);
}
