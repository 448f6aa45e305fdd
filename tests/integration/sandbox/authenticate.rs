//! Password authentication against imported digests, and the continuations
//! (email verification, MFA challenge, organization selection).

use ferry_sandbox::{RateLimits, SandboxOptions};
use serde_json::{Value, json};

use super::{Harness, read};

fn password_body(harness: &Harness, email: &str, password: &str) -> Value {
    json!({
        "grant_type": "password",
        "client_id": harness.sandbox.keys().workos_client_id,
        "client_secret": harness.sandbox.keys().workos_api_key,
        "email": email,
        "password": password,
    })
}

async fn authenticate(harness: &Harness, body: Value) -> (u16, Value) {
    // authenticate carries the key in the body, not in a header.
    let url = format!(
        "{}/user_management/authenticate",
        harness.sandbox.workos_url()
    );
    read(harness.http.post(url).json(&body).send().await).await
}

#[tokio::test]
async fn a_user_imported_with_a_clerk_digest_signs_in_with_its_password() {
    let (harness, generated) = Harness::generated(300, 0).await;
    for hasher in ["bcrypt", "argon2id"] {
        let entry = generated
            .passwords
            .iter()
            .find(|p| p.password_hasher == hasher && !p.email.is_empty())
            .expect("a user with that hasher");
        let row = generated
            .export
            .iter()
            .find(|r| r.id == entry.user_id)
            .unwrap();
        let label = if hasher == "bcrypt" {
            "bcrypt"
        } else {
            "argon2"
        };
        harness
            .create_user(json!({
                "email": entry.email,
                "email_verified": true,
                "external_id": entry.user_id,
                "password_hash": row.password_digest.as_ref().unwrap().expose(),
                "password_hash_type": label,
            }))
            .await;

        let (status, body) = authenticate(
            &harness,
            password_body(&harness, &entry.email, entry.password.expose()),
        )
        .await;
        assert_eq!(status, 200, "{hasher}: {body}");
        assert_eq!(body["user"]["external_id"], entry.user_id.as_str());
        assert_eq!(body["authentication_method"], "Password");
        assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
        assert!(body["refresh_token"].is_string());
        assert!(body["user"]["last_sign_in_at"].is_string());

        let (status, body) =
            authenticate(&harness, password_body(&harness, &entry.email, "not-it")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_credentials")),
            "{hasher}"
        );
    }
    let (status, body) =
        authenticate(&harness, password_body(&harness, "nobody@acme.test", "x")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn a_user_created_with_a_plaintext_password_signs_in() {
    let harness = Harness::unlimited().await;
    harness
        .create_user(
            json!({"email": "p@acme.test", "password": "correct horse", "email_verified": true}),
        )
        .await;
    let (status, _) = authenticate(
        &harness,
        password_body(&harness, "P@acme.test", "correct horse"),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_wrong_client_is_an_oauth_error() {
    let harness = Harness::unlimited().await;
    let mut body = password_body(&harness, "p@acme.test", "x");
    body["client_secret"] = json!("sk_test_wrong");
    let (status, answer) = authenticate(&harness, body).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_client"))
    );
    assert!(answer["error_description"].is_string());
}

#[tokio::test]
async fn an_unverified_email_must_be_verified_first() {
    let harness = Harness::unlimited().await;
    harness
        .create_user(
            json!({"email": "u@acme.test", "password": "pw-123456", "email_verified": false}),
        )
        .await;
    let (status, body) = authenticate(
        &harness,
        password_body(&harness, "u@acme.test", "pw-123456"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("email_verification_required"))
    );
    assert!(body["pending_authentication_token"].is_string());
}

#[tokio::test]
async fn a_totp_factor_means_an_mfa_challenge_that_a_code_completes() {
    let harness = Harness::unlimited().await;
    let user = harness
        .create_user(
            json!({"email": "m@acme.test", "password": "pw-123456", "email_verified": true}),
        )
        .await;
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    harness
        .workos_post(
            &format!("/user_management/users/{user}/auth_factors"),
            json!({"type": "totp", "totp_secret": secret}),
        )
        .await;
    let (status, body) = authenticate(
        &harness,
        password_body(&harness, "m@acme.test", "pw-123456"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("mfa_challenge")),
        "{body}"
    );
    let typed: ferry_wire::workos::model::AuthenticationContinuation =
        serde_json::from_value(body.clone()).unwrap();
    assert_eq!(typed.authentication_factors.len(), 1);
    assert_eq!(typed.user.map(|u| u.id), Some(user.clone()));
    let token = body["pending_authentication_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let factor = body["authentication_factors"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(body["authentication_factors"][0]["type"], "totp");

    let (_, challenge) = harness
        .workos_post(&format!("/auth/factors/{factor}/challenge"), json!({}))
        .await;
    let code = ferry_sandbox::totp::code_at(secret, ferry_sandbox::totp::now_seconds()).unwrap();
    let (status, body) = authenticate(
        &harness,
        json!({
            "grant_type": "urn:workos:oauth:grant-type:mfa-totp",
            "client_id": harness.sandbox.keys().workos_client_id,
            "client_secret": harness.sandbox.keys().workos_api_key,
            "pending_authentication_token": token,
            "authentication_challenge_id": challenge["id"],
            "code": code,
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], user.as_str());
}

#[tokio::test]
async fn several_organizations_require_a_choice() {
    let harness = Harness::unlimited().await;
    let user = harness
        .create_user(
            json!({"email": "o@acme.test", "password": "pw-123456", "email_verified": true}),
        )
        .await;
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
        let (status, body) = authenticate(
            &harness,
            password_body(&harness, "o@acme.test", "pw-123456"),
        )
        .await;
        if organizations.len() == 1 {
            // One membership: signed straight into it.
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["organization_id"], organizations[0].as_str());
        } else {
            assert_eq!(
                (status, body["code"].as_str()),
                (403, Some("organization_selection_required"))
            );
            assert_eq!(body["organizations"].as_array().unwrap().len(), 2);
            let (status, chosen) = authenticate(
                &harness,
                json!({
                    "grant_type": "urn:workos:oauth:grant-type:organization-selection",
                    "client_id": harness.sandbox.keys().workos_client_id,
                    "client_secret": harness.sandbox.keys().workos_api_key,
                    "pending_authentication_token": body["pending_authentication_token"],
                    "organization_id": organizations[1],
                }),
            )
            .await;
            assert_eq!(
                (status, chosen["organization_id"].as_str()),
                (200, Some(organizations[1].as_str()))
            );
        }
    }
}

#[tokio::test]
async fn authenticate_is_limited_per_email() {
    // Default limits: 10 attempts per email per 60 s.
    let harness =
        Harness::start(SandboxOptions::default().with_limits(RateLimits::default())).await;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let url = format!(
            "{}/user_management/authenticate",
            harness.sandbox.workos_url()
        );
        let response = harness
            .http
            .post(url)
            .json(&password_body(&harness, "busy@acme.test", "x"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 429 {
            assert!(response.headers().get("retry-after").is_some());
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["code"], "too_many_requests", "the spec's code: {body}");
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..10], &[400; 10]);
    assert_eq!(statuses[10], 429);
    // Another email is not affected.
    let (status, _) = authenticate(&harness, password_body(&harness, "calm@acme.test", "x")).await;
    assert_eq!(status, 400);
}
