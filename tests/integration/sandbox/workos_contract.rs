//! WorkOS API contract: users, organizations, memberships and auth factors;
//! shapes, cursors and the documented error codes and shapes.

use ferry_wire::workos::model::{List, Organization, OrganizationMembership, User};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, assert_fields, read};

const USER_FIELDS: &[&str] = &[
    "object",
    "id",
    "first_name",
    "last_name",
    "profile_picture_url",
    "email",
    "email_verified",
    "external_id",
    "last_sign_in_at",
    "created_at",
    "updated_at",
];

fn nested_code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn create_get_update_delete_a_user() {
    let harness = Harness::unlimited().await;
    let (status, user) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "ada@acme.test", "first_name": "Ada", "external_id": "user_clerk_1",
                   "email_verified": true, "metadata": {"plan": "pro"}}),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    assert_fields(&user, USER_FIELDS);
    assert_eq!(user["object"], "user");
    assert!(user["id"].as_str().unwrap().starts_with("user_"));
    // ISO 8601 timestamps.
    assert!(chrono::DateTime::parse_from_rfc3339(user["created_at"].as_str().unwrap()).is_ok());
    let typed: User = serde_json::from_value(user.clone()).unwrap();
    let id = typed.id;

    let (status, fetched) = harness
        .workos_get(&format!("/user_management/users/{id}"))
        .await;
    assert_eq!((status, &fetched), (200, &user));
    let (status, by_external) = harness
        .workos_get("/user_management/users/external_id/user_clerk_1")
        .await;
    assert_eq!(
        (status, by_external["id"].as_str()),
        (200, Some(id.as_str()))
    );

    // PUT leaves omitted fields unchanged.
    let (status, updated) = read(
        harness
            .workos(Method::PUT, &format!("/user_management/users/{id}"))
            .json(&json!({"last_name": "Lovelace"}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["first_name"], "Ada");
    assert_eq!(updated["last_name"], "Lovelace");
    assert_eq!(updated["metadata"], json!({"plan": "pro"}));

    let (status, _) = read(
        harness
            .workos(Method::DELETE, &format!("/user_management/users/{id}"))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = harness
        .workos_get(&format!("/user_management/users/{id}"))
        .await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string(), "{body}");
    assert!(harness.sandbox.workos_state().users.is_empty());
}

#[tokio::test]
async fn creation_errors_have_the_documented_codes() {
    let harness = Harness::unlimited().await;
    harness
        .create_user(json!({"email": "taken@acme.test", "external_id": "ext_1"}))
        .await;

    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "TAKEN@acme.test"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("user_creation_error"))
    );
    assert_eq!(nested_code(&body), "email_not_available");

    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "new@acme.test", "external_id": "ext_1"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(nested_code(&body), "external_id_already_used");

    // An update that collides answers the spec's PUT shape: the code at the top level.
    let other = harness
        .create_user(json!({"email": "other@acme.test"}))
        .await;
    for (change, code) in [
        (json!({"email": "taken@acme.test"}), "email_not_available"),
        (json!({"external_id": "ext_1"}), "external_id_already_used"),
    ] {
        let (status, body) = read(
            harness
                .workos(Method::PUT, &format!("/user_management/users/{other}"))
                .json(&change)
                .send()
                .await,
        )
        .await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{body}");
        assert!(body.get("errors").is_none(), "{body}");
    }

    let bcrypt = bcrypt::hash("pw", 4).unwrap();
    for (digest, kind) in [
        ("$2b$10$tooShort", "bcrypt"),
        (bcrypt.as_str(), "argon2"),
        ("5f4dcc3b5aa765d61d8327deb882cf99", "bcrypt"),
    ] {
        let (status, body) = harness
            .workos_post(
                "/user_management/users",
                json!({"email": "h@acme.test", "password_hash": digest, "password_hash_type": kind}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_password_hash")),
            "{kind}"
        );
        // The digest never comes back in the error.
        assert!(!body.to_string().contains(digest));
    }

    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "p@acme.test", "password": "x", "password_hash": bcrypt, "password_hash_type": "bcrypt"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("password_and_password_hash_provided"))
    );

    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    for metadata in [
        json!({"notes": "x".repeat(601)}),
        Value::Object(many),
        json!({"k".repeat(41): "v"}),
    ] {
        let (status, body) = harness
            .workos_post(
                "/user_management/users",
                json!({"email": "m@acme.test", "metadata": metadata}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_metadata"))
        );
    }

    for bad in [
        json!({"first_name": "no email"}),
        json!({"email": "not-an-email"}),
        json!({"email": "x@acme.test", "external_id": "é".repeat(3)}),
        json!({"email": "x@acme.test", "password_hash": bcrypt}),
        json!({"email": "x@acme.test", "password_hash": bcrypt, "password_hash_type": "md5"}),
        json!({"email": "x@acme.test", "metadata": {"n": 1}}),
    ] {
        let (status, body) = harness
            .workos_post("/user_management/users", bad.clone())
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_request_parameters")),
            "{bad}"
        );
    }
    let (status, body) = read(
        harness
            .workos(Method::POST, "/user_management/users")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_request_parameters"))
    );
    // Nothing but the two users made on purpose got in.
    assert_eq!(harness.sandbox.workos_state().users.len(), 2);
}

#[tokio::test]
async fn list_users_by_email_and_cursor() {
    let harness = Harness::unlimited().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            harness
                .create_user(json!({"email": format!("u{i}@acme.test")}))
                .await,
        );
    }
    let (status, body) = harness
        .workos_get("/user_management/users?email=U3@acme.test")
        .await;
    assert_eq!(status, 200);
    let list: List<User> = serde_json::from_value(body).unwrap();
    assert_eq!(list.object, "list");
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.data[0].id, created[3]);

    // Follow `after` until null: everyone once, newest first by default.
    let mut seen = Vec::new();
    let mut path = "/user_management/users?limit=3".to_owned();
    loop {
        let (_, body) = harness.workos_get(&path).await;
        let list: List<User> = serde_json::from_value(body).unwrap();
        seen.extend(list.data.into_iter().map(|u| u.id));
        match list.list_metadata.after {
            Some(after) => path = format!("/user_management/users?limit=3&after={after}"),
            None => break,
        }
    }
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    // Ascending, before, limit 1, a cursor past the end.
    let (_, body) = harness
        .workos_get(&format!(
            "/user_management/users?order=asc&limit=1&after={}",
            created[5]
        ))
        .await;
    assert_eq!(body["data"][0]["id"], created[6].as_str());
    assert_eq!(body["list_metadata"]["after"], Value::Null);
    let (_, body) = harness
        .workos_get(&format!(
            "/user_management/users?order=asc&limit=2&before={}",
            created[2]
        ))
        .await;
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [created[0].as_str(), created[1].as_str()]);
    assert_eq!(body["list_metadata"]["before"], Value::Null);
    let (_, body) = harness
        .workos_get(&format!(
            "/user_management/users?order=asc&after={}",
            created[6]
        ))
        .await;
    assert_eq!(body["data"], json!([]));

    for bad in ["limit=0", "limit=101", "order=sideways"] {
        let (status, body) = harness
            .workos_get(&format!("/user_management/users?{bad}"))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_request_parameters")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn an_empty_environment_lists_nothing() {
    let harness = Harness::unlimited().await;
    let (status, body) = harness.workos_get("/user_management/users").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"object": "list", "data": [], "list_metadata": {"before": null, "after": null}})
    );
    let (_, body) = harness.workos_get("/organizations").await;
    assert_eq!(body["data"], json!([]));
}

#[tokio::test]
async fn organizations_crud_and_external_id() {
    let harness = Harness::unlimited().await;
    let (status, organization) = harness
        .workos_post(
            "/organizations",
            json!({"name": "Acme", "external_id": "org_clerk_1",
                   "domain_data": [{"domain": "acme.test", "state": "verified"}],
                   "metadata": {"tier": "gold"}}),
        )
        .await;
    assert_eq!(status, 201, "{organization}");
    assert_fields(
        &organization,
        &[
            "object",
            "id",
            "name",
            "domains",
            "metadata",
            "external_id",
            "created_at",
            "updated_at",
        ],
    );
    let typed: Organization = serde_json::from_value(organization.clone()).unwrap();
    assert!(typed.id.starts_with("org_"));
    assert_eq!(typed.domains[0].domain, "acme.test");

    let (status, body) = harness
        .workos_post(
            "/organizations",
            json!({"name": "Other", "external_id": "org_clerk_1"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("external_id_already_used"))
    );

    let (status, body) = harness
        .workos_get("/organizations/external_id/org_clerk_1")
        .await;
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(typed.id.as_str()))
    );
    let (status, body) = harness
        .workos(Method::PUT, &format!("/organizations/{}", typed.id))
        .json(&json!({"name": "Acme Inc"}))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map(|s| (s, ()))
        .unwrap();
    assert_eq!((status, body), (200, ()));
    let (_, list) = harness.workos_get("/organizations?search=inc").await;
    assert_eq!(list["data"][0]["name"], "Acme Inc");
    assert_eq!(list["data"][0]["external_id"], "org_clerk_1");

    let (status, _) = read(
        harness
            .workos(Method::DELETE, &format!("/organizations/{}", typed.id))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = harness
        .workos_get(&format!("/organizations/{}", typed.id))
        .await;
    assert_eq!(status, 404);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn memberships_404_409_list_and_delete() {
    let harness = Harness::unlimited().await;
    let user = harness.create_user(json!({"email": "m@acme.test"})).await;
    let (_, organization) = harness
        .workos_post("/organizations", json!({"name": "Acme"}))
        .await;
    let organization = organization["id"].as_str().unwrap().to_owned();

    let (status, membership) = harness
        .workos_post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": organization, "role_slug": "admin"}),
        )
        .await;
    assert_eq!(status, 201, "{membership}");
    assert_fields(
        &membership,
        &[
            "object",
            "id",
            "user_id",
            "organization_id",
            "status",
            "role",
            "created_at",
            "updated_at",
        ],
    );
    let typed: OrganizationMembership = serde_json::from_value(membership.clone()).unwrap();
    assert_eq!(
        (typed.role.slug.as_str(), typed.status.as_str()),
        ("admin", "active")
    );
    assert!(typed.id.starts_with("om_"));

    let (status, body) = harness
        .workos_post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": organization}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("organization_membership_already_exists"))
    );
    for (user_id, organization_id) in [
        ("user_nope", organization.as_str()),
        (user.as_str(), "org_nope"),
    ] {
        let (status, body) = harness
            .workos_post(
                "/user_management/organization_memberships",
                json!({"user_id": user_id, "organization_id": organization_id}),
            )
            .await;
        assert_eq!(status, 404, "{body}");
        assert!(body["message"].is_string());
    }

    let (_, by_user) = harness
        .workos_get(&format!(
            "/user_management/organization_memberships?user_id={user}"
        ))
        .await;
    assert_eq!(by_user["data"][0]["id"], typed.id.as_str());
    let (_, by_organization) = harness
        .workos_get(&format!(
            "/user_management/organization_memberships?organization_id={organization}"
        ))
        .await;
    assert_eq!(by_organization["data"].as_array().unwrap().len(), 1);
    let (status, _) = harness
        .workos_get("/user_management/organization_memberships")
        .await;
    assert_eq!(status, 400);
    // Default role is member.
    let other = harness.create_user(json!({"email": "o@acme.test"})).await;
    let (_, plain) = harness
        .workos_post(
            "/user_management/organization_memberships",
            json!({"user_id": other, "organization_id": organization}),
        )
        .await;
    assert_eq!(plain["role"]["slug"], "member");

    let (status, _) = read(
        harness
            .workos(
                Method::DELETE,
                &format!("/user_management/organization_memberships/{}", typed.id),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(harness.sandbox.workos_state().memberships.len(), 1);
}

#[tokio::test]
async fn an_imported_totp_secret_yields_codes_the_sandbox_accepts() {
    let harness = Harness::unlimited().await;
    let user = harness.create_user(json!({"email": "t@acme.test"})).await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let (status, body) = harness
        .workos_post(
            &format!("/user_management/users/{user}/auth_factors"),
            json!({"type": "totp", "totp_secret": secret, "totp_issuer": "Acme"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let factor = &body["authentication_factor"];
    assert_eq!(
        (factor["type"].as_str(), factor["user_id"].as_str()),
        (Some("totp"), Some(user.as_str()))
    );
    assert_eq!(factor["totp"]["secret"], secret);
    assert!(body["authentication_challenge"]["id"].is_string());
    let factor_id = factor["id"].as_str().unwrap().to_owned();

    let (_, list) = harness
        .workos_get(&format!("/user_management/users/{user}/auth_factors"))
        .await;
    assert_eq!(list["data"][0]["id"], factor_id.as_str());
    // Listing never shows the secret.
    assert!(!list.to_string().contains(secret));
    assert!(
        !serde_json::to_string(&harness.sandbox.workos_state())
            .unwrap()
            .contains(secret)
    );

    let (status, challenge) = harness
        .workos_post(&format!("/auth/factors/{factor_id}/challenge"), json!({}))
        .await;
    assert_eq!(status, 201);
    // The spec types expires_at as a string (an ISO 8601 time), not null.
    let expires = challenge["expires_at"].as_str().expect("expires_at");
    assert!(
        chrono::DateTime::parse_from_rfc3339(expires).is_ok(),
        "{expires}"
    );
    let challenge_id = challenge["id"].as_str().unwrap().to_owned();
    let code = ferry_sandbox::totp::code_at(secret, ferry_sandbox::totp::now_seconds()).unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, verdict) = harness
        .workos_post(
            &format!("/auth/challenges/{challenge_id}/verify"),
            json!({"code": wrong}),
        )
        .await;
    assert_eq!((status, verdict["valid"].as_bool()), (201, Some(false)));
    let (_, verdict) = harness
        .workos_post(
            &format!("/auth/challenges/{challenge_id}/verify"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(verdict["valid"], true);

    let (status, _) = harness
        .workos_post(
            &format!("/user_management/users/{user}/auth_factors"),
            json!({"type": "totp", "totp_secret": "not base32!"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = harness
        .workos_post(
            "/user_management/users/user_nope/auth_factors",
            json!({"type": "totp"}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_missing_key_is_401() {
    let harness = Harness::unlimited().await;
    let url = format!("{}/user_management/users", harness.sandbox.workos_url());
    let (status, body) = read(harness.http.get(&url).send().await).await;
    assert_eq!(status, 401);
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn a_bad_body_names_the_field_never_the_value() {
    let harness = Harness::unlimited().await;
    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "a@acme.test", "password_hash": ["$2b$10$secretdigest"]}),
        )
        .await;
    assert_eq!(status, 422);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("password_hash"), "{message}");
    assert!(!body.to_string().contains("secretdigest"));
    let (_, body) = harness
        .workos_post("/user_management/users", json!({"first_name": "A"}))
        .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing field `email`")
    );
}

#[tokio::test]
async fn memberships_show_the_current_user_and_go_with_their_user_or_organization() {
    let harness = Harness::unlimited().await;
    let user = harness.create_user(json!({"email": "e@acme.test"})).await;
    let mut organizations = Vec::new();
    for name in ["One", "Two"] {
        let (_, organization) = harness
            .workos_post("/organizations", json!({"name": name}))
            .await;
        let id = organization["id"].as_str().unwrap().to_owned();
        harness
            .workos_post(
                "/user_management/organization_memberships",
                json!({"user_id": user, "organization_id": id}),
            )
            .await;
        organizations.push(id);
    }
    harness
        .workos(Method::PUT, &format!("/user_management/users/{user}"))
        .json(&json!({"first_name": "Renamed"}))
        .send()
        .await
        .unwrap();
    let (_, list) = harness
        .workos_get(&format!(
            "/user_management/organization_memberships?user_id={user}"
        ))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(list["data"][0]["user"]["first_name"], "Renamed");
    assert!(list["data"][0]["organization_name"].is_string());
    let (_, members) = harness
        .workos_get(&format!(
            "/user_management/users?organization_id={}",
            organizations[0]
        ))
        .await;
    assert_eq!(members["data"][0]["id"], user.as_str());

    read(
        harness
            .workos(
                Method::DELETE,
                &format!("/organizations/{}", organizations[0]),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(harness.sandbox.workos_state().memberships.len(), 1);
    read(
        harness
            .workos(Method::DELETE, &format!("/user_management/users/{user}"))
            .send()
            .await,
    )
    .await;
    assert!(harness.sandbox.workos_state().memberships.is_empty());
    let (_, list) = harness
        .workos_get(&format!(
            "/user_management/organization_memberships?organization_id={}",
            organizations[1]
        ))
        .await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn a_method_a_route_does_not_take_is_405_in_each_api_s_error_shape() {
    let harness = Harness::unlimited().await;
    let (status, body) = read(
        harness
            .workos(Method::PATCH, "/user_management/users")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 405);
    assert_eq!(body["message"], "Method Not Allowed");
    let (status, body) = read(harness.clerk(Method::DELETE, "/users").send().await).await;
    assert_eq!(status, 405);
    assert_eq!(body["errors"][0]["code"], "method_not_allowed");
}

#[tokio::test]
async fn memberships_deactivate_and_reactivate_and_users_list_their_identities() {
    let harness = Harness::unlimited().await;
    let user = harness.create_user(json!({"email": "m@acme.test"})).await;
    let (_, organization) = harness
        .workos_post("/organizations", json!({"name": "Acme"}))
        .await;
    let (status, membership) = harness
        .workos_post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": organization["id"]}),
        )
        .await;
    assert_eq!(status, 201);
    let id = membership["id"].as_str().unwrap();
    for (action, state) in [("deactivate", "inactive"), ("reactivate", "active")] {
        let (status, changed) = read(
            harness
                .workos(
                    Method::PUT,
                    &format!("/user_management/organization_memberships/{id}/{action}"),
                )
                .send()
                .await,
        )
        .await;
        assert_eq!((status, changed["status"].as_str()), (200, Some(state)));
    }
    let (status, identities) = harness
        .workos_get(&format!("/user_management/users/{user}/identities"))
        .await;
    assert_eq!((status, identities), (200, json!([])));
    let (status, _) = harness
        .workos_get("/user_management/users/user_nobody/identities")
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn name_and_locale_are_kept_and_a_bad_locale_is_refused() {
    let harness = Harness::unlimited().await;
    let (status, user) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "n@acme.test", "name": "Ada Lovelace"}),
        )
        .await;
    assert_eq!((status, user["name"].as_str()), (201, Some("Ada Lovelace")));
    let id = user["id"].as_str().unwrap();
    let put = |body: Value| {
        let harness = &harness;
        async move {
            read(
                harness
                    .workos(Method::PUT, &format!("/user_management/users/{id}"))
                    .json(&body)
                    .send()
                    .await,
            )
            .await
        }
    };
    let (status, updated) = put(json!({"locale": "fr-FR", "name": "Ada King"})).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["locale"].as_str(), updated["name"].as_str()),
        (Some("fr-FR"), Some("Ada King"))
    );
    let (status, refused) = put(json!({"locale": "not a locale!"})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("invalid_locale"))
    );
}
