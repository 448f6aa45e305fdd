//! Clerk's user and organization filters select what the spec says they
//! select (the sandbox used to ignore them and return the whole tenant).

use serde_json::Value;

use super::Harness;

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn user_filters_select_what_they_name() {
    let (harness, generated) = Harness::generated(120, 4).await;
    let users = &generated.tenant.users;
    let get = |query: String| {
        let harness = &harness;
        async move {
            harness
                .clerk_get(&format!("/users?limit=500&{query}"))
                .await
        }
    };
    let count = |query: String| {
        let harness = &harness;
        async move {
            let (status, body) = harness.clerk_get(&format!("/users/count?{query}")).await;
            assert_eq!(status, 200, "{body}");
            body["total_count"].as_u64().unwrap() as usize
        }
    };

    // created_at_after / before: strictly after / before, in Unix milliseconds.
    let mut by_time: Vec<&ferry_wire::clerk::model::User> = users.iter().collect();
    by_time.sort_by_key(|u| u.created_at);
    let pivot = by_time[40].created_at;
    let later = users.iter().filter(|u| u.created_at > pivot).count();
    assert_eq!(count(format!("created_at_after={pivot}")).await, later);
    let (_, body) = get(format!("created_at_after={pivot}&order_by=%2Bcreated_at")).await;
    assert_eq!(ids(&body).len(), later);
    assert!(
        ids(&body)
            .iter()
            .all(|id| users.iter().any(|u| &u.id == id && u.created_at > pivot))
    );
    assert_eq!(
        count(format!("created_at_before={pivot}")).await,
        users.iter().filter(|u| u.created_at < pivot).count()
    );

    // banned, username, external_id, phone_number, partial query.
    let banned = users.iter().filter(|u| u.banned).count();
    assert!(banned > 0);
    assert_eq!(count("banned=true".into()).await, banned);
    assert_eq!(count("banned=false".into()).await, users.len() - banned);
    let named = users.iter().find(|u| u.username.is_some()).unwrap();
    let (_, body) = get(format!("username={}", named.username.as_deref().unwrap())).await;
    assert_eq!(ids(&body), vec![named.id.clone()]);
    let phoned = users.iter().find(|u| !u.phone_numbers.is_empty()).unwrap();
    let phone = phoned.phone_numbers[0].phone_number.replace('+', "%2B");
    let (_, body) = get(format!("phone_number={phone}")).await;
    assert!(ids(&body).contains(&phoned.id));
    let emailed = users.iter().find(|u| u.primary_email().is_some()).unwrap();
    let local = emailed
        .primary_email()
        .unwrap()
        .email_address
        .split('@')
        .next()
        .unwrap()
        .to_owned();
    let (_, body) = get(format!("query={local}")).await;
    assert!(
        ids(&body).contains(&emailed.id),
        "a partial match finds the user"
    );
    assert!(ids(&body).len() < users.len());
    assert_eq!(count("external_id=nobody".into()).await, 0);

    // user_id: repeated values are alternatives, `+` includes, `-` excludes,
    // unknown ids are ignored, and more than 100 are refused.
    let (a, b) = (&users[3].id, &users[7].id);
    let (_, body) = get(format!("user_id={a}&user_id=%2B{b}&user_id=user_gone")).await;
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    let mut listed = ids(&body);
    listed.sort();
    assert_eq!(listed, both);
    assert_eq!(count(format!("user_id=-{a}")).await, users.len() - 1);
    let many: String = (0..101).map(|i| format!("user_id=user_{i}&")).collect();
    let (status, _) = harness.clerk_get(&format!("/users?{many}")).await;
    assert_eq!(status, 422, "101 ids are more than the spec accepts");

    // A value that is not a number is refused, not ignored.
    let (status, _) = harness.clerk_get("/users?created_at_after=yesterday").await;
    assert_eq!(status, 422);
    let (status, _) = harness.clerk_get("/users?banned=maybe").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn organization_filters_and_member_counts() {
    let (harness, generated) = Harness::generated(60, 5).await;
    let organization = &generated.tenant.organizations[2];
    let (_, body) = harness
        .clerk_get(&format!("/organizations?query={}", organization.slug))
        .await;
    assert_eq!(body["total_count"], 1);
    assert_eq!(body["data"][0]["id"], organization.id.as_str());
    let members = generated
        .tenant
        .memberships
        .iter()
        .filter(|m| m.organization.id == organization.id)
        .count();
    let (_, one) = harness
        .clerk_get(&format!(
            "/organizations/{}?include_members_count=true",
            organization.id
        ))
        .await;
    assert_eq!(one["members_count"], members);
    let member = generated
        .tenant
        .memberships
        .iter()
        .find(|m| m.organization.id == organization.id)
        .and_then(|m| m.public_user_data.as_ref())
        .unwrap();
    let (_, theirs) = harness
        .clerk_get(&format!("/organizations?user_id={}", member.user_id))
        .await;
    let joined = generated
        .tenant
        .memberships
        .iter()
        .filter(|m| {
            m.public_user_data
                .as_ref()
                .is_some_and(|u| u.user_id == member.user_id)
        })
        .count();
    assert_eq!(theirs["total_count"], joined);
}

#[tokio::test]
async fn oauth_accounts_carry_an_oauth_verification() {
    let (harness, _) = Harness::generated(80, 1).await;
    let (_, body) = harness.clerk_get("/users?limit=500").await;
    let accounts: Vec<&Value> = body
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["external_accounts"].as_array().unwrap())
        .collect();
    assert!(!accounts.is_empty());
    for account in accounts {
        let verification = &account["verification"];
        assert_eq!(verification["object"], "verification_oauth", "{account}");
        assert!(
            verification["expire_at"].is_i64(),
            "the spec requires expire_at: {account}"
        );
        assert!(
            verification["strategy"]
                .as_str()
                .unwrap()
                .starts_with("oauth_")
        );
    }
}

#[tokio::test]
async fn verify_password_and_verify_totp_check_what_the_export_holds() {
    let (harness, generated) = Harness::generated(120, 1).await;
    let post = |path: String, body: Value| {
        let harness = &harness;
        async move {
            super::read(
                harness
                    .clerk(reqwest::Method::POST, &path)
                    .json(&body)
                    .send()
                    .await,
            )
            .await
        }
    };
    let known = generated
        .passwords
        .iter()
        .find(|p| p.password_hasher == "bcrypt")
        .expect("a bcrypt password");
    let path = format!("/users/{}/verify_password", known.user_id);
    let (status, body) = post(
        path.clone(),
        serde_json::json!({ "password": known.password.expose() }),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, serde_json::json!({ "verified": true }))
    );
    let (status, body) = post(path, serde_json::json!({ "password": "not it" })).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (422, Some("incorrect_password"))
    );
    let without = generated
        .export
        .iter()
        .find(|r| r.password_digest.is_none())
        .expect("a user without a password");
    let (status, _) = post(
        format!("/users/{}/verify_password", without.id),
        serde_json::json!({ "password": "x" }),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(
        "/users/user_nobody/verify_password".into(),
        serde_json::json!({ "password": "x" }),
    )
    .await;
    assert_eq!(status, 404);

    let row = generated
        .export
        .iter()
        .find(|r| r.totp_secret.is_some())
        .expect("a TOTP user");
    let secret = row.totp_secret.as_ref().unwrap().expose();
    let code = ferry_sandbox::totp::code_at(secret, ferry_sandbox::totp::now_seconds()).unwrap();
    let path = format!("/users/{}/verify_totp", row.id);
    let (status, body) = post(path.clone(), serde_json::json!({ "code": code })).await;
    assert_eq!(
        (
            status,
            body["verified"].as_bool(),
            body["code_type"].as_str()
        ),
        (200, Some(true), Some("totp"))
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _) = post(path, serde_json::json!({ "code": wrong })).await;
    assert_eq!(status, 422);
}
