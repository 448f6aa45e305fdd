//! Clerk's invitation listings from a generated tenant, and the admin
//! edits that send, revoke and accept invitations while it runs.

use ferry_sandbox::clerk_invitations::{status_at, ticket_url};
use ferry_sandbox::{GeneratorOptions, Quota, RateLimits, SandboxOptions, generate};
use ferry_wire::clerk::invitation::OrganizationInvitation;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, read};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ids(listed: &Value) -> Vec<String> {
    let items = listed.get("data").unwrap_or(listed);
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `ids` of `invitations`, newest first (Clerk's default order).
fn newest_first<'a>(invitations: impl Iterator<Item = &'a OrganizationInvitation>) -> Vec<String> {
    let mut selected: Vec<&OrganizationInvitation> = invitations.collect();
    selected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    selected.iter().map(|i| i.id.clone()).collect()
}

#[tokio::test]
async fn the_instance_listing_filters_pages_and_carries_each_url() {
    let (harness, generated) = Harness::generated(300, 12).await;
    let tenant = &generated.tenant;
    let truth = &generated.truth;
    let now = now_ms();
    let status = |i: &OrganizationInvitation| status_at(&i.status, i.expires_at, now).to_owned();

    let (code, all) = harness
        .clerk_get("/organization_invitations?limit=500")
        .await;
    assert_eq!(code, 200, "{all}");
    assert_eq!(all["total_count"], tenant.organization_invitations.len());
    assert_eq!(
        ids(&all),
        newest_first(tenant.organization_invitations.iter()),
        "newest first by default"
    );

    // One invitation whole: the organization's public data, the inviter as
    // they are now, the role's name, and the url with its ticket.
    let invitation = tenant
        .organization_invitations
        .iter()
        .find(|i| i.inviter_id.is_some() && status(i) == "pending")
        .expect("a pending invitation with an inviter");
    let organization = tenant
        .organizations
        .iter()
        .find(|o| Some(o.id.as_str()) == invitation.organization())
        .unwrap();
    let inviter = tenant
        .users
        .iter()
        .find(|u| Some(&u.id) == invitation.inviter_id.as_ref())
        .unwrap();
    let role_name = &tenant
        .roles
        .iter()
        .find(|r| r.key == invitation.role)
        .unwrap()
        .name;
    let served = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == invitation.id.as_str())
        .unwrap();
    assert_eq!(
        served,
        &json!({
            "object": "organization_invitation",
            "id": invitation.id,
            "email_address": invitation.email_address,
            "role": invitation.role,
            "role_name": role_name,
            "organization_id": organization.id,
            "public_organization_data": {
                "id": organization.id,
                "name": organization.name,
                "slug": organization.slug,
                "image_url": organization.image_url,
                "has_image": false,
            },
            "inviter_id": inviter.id,
            "public_inviter_data": {
                "user_id": inviter.id,
                "first_name": inviter.first_name,
                "last_name": inviter.last_name,
                "image_url": inviter.image_url,
                "has_image": false,
                "identifier": inviter.primary_email().unwrap().email_address,
            },
            "status": "pending",
            "public_metadata": invitation.public_metadata,
            "private_metadata": {},
            "url": ticket_url(&invitation.id),
            "expires_at": invitation.expires_at,
            "created_at": invitation.created_at,
            "updated_at": invitation.updated_at,
        })
    );
    assert!(
        ticket_url(&invitation.id)
            .starts_with("https://accounts.sandbox.test/sign-up?__clerk_ticket=sbx_")
    );
    for item in all["data"].as_array().unwrap() {
        assert_eq!(item["url"], ticket_url(item["id"].as_str().unwrap()));
        assert!(
            item["public_organization_data"]["slug"].is_string(),
            "{item}"
        );
        assert!(item["role_name"].is_string(), "{item}");
    }

    // `status` (repeatable), and `total_count` counts what the filter keeps.
    for (query, expected) in [
        ("status=pending", truth.organization_invitations_pending),
        ("status=accepted", truth.organization_invitations_accepted),
        ("status=revoked", truth.organization_invitations_revoked),
        ("status=expired", truth.organization_invitations_expired),
        (
            "status=revoked&status=expired",
            truth.organization_invitations_revoked + truth.organization_invitations_expired,
        ),
    ] {
        let (code, listed) = harness
            .clerk_get(&format!("/organization_invitations?limit=500&{query}"))
            .await;
        assert_eq!(code, 200, "{listed}");
        assert_eq!(listed["total_count"], expected, "{query}");
        let wanted: Vec<&str> = query.split('&').map(|p| &p[7..]).collect();
        for item in listed["data"].as_array().unwrap() {
            assert!(
                wanted.contains(&item["status"].as_str().unwrap()),
                "{query}: {item}"
            );
        }
    }
    // A pending invitation past its expiry is served `expired`.
    let lapsed = tenant
        .organization_invitations
        .iter()
        .find(|i| i.status == "pending" && status(i) == "expired")
        .expect("a lapsed pending invitation");
    let (_, expired) = harness
        .clerk_get("/organization_invitations?limit=500&status=expired")
        .await;
    assert!(ids(&expired).contains(&lapsed.id));

    // A page of the whole: limit, offset; the total stays the whole.
    let (_, page) = harness
        .clerk_get("/organization_invitations?limit=2&offset=1")
        .await;
    assert_eq!(ids(&page), ids(&all)[1..3]);
    assert_eq!(page["total_count"], all["total_count"]);

    // `query` is part of the address; `order_by` address ascending.
    let (_, invited) = harness
        .clerk_get("/organization_invitations?limit=500&query=-INVITE1@")
        .await;
    let expected: Vec<String> = newest_first(
        tenant
            .organization_invitations
            .iter()
            .filter(|i| i.email_address.contains("-invite1@")),
    );
    assert_eq!(ids(&invited), expected);
    let (_, by_address) = harness
        .clerk_get("/organization_invitations?limit=500&order_by=%2Bemail_address")
        .await;
    let addresses: Vec<String> = by_address["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email_address"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = addresses.clone();
    sorted.sort();
    assert_eq!(addresses, sorted);

    for bad in ["status=sent", "order_by=role", "limit=0", "offset=-1"] {
        let (code, body) = harness
            .clerk_get(&format!("/organization_invitations?{bad}"))
            .await;
        assert_eq!(code, 422, "{bad}: {body}");
        assert_eq!(body["errors"][0]["code"], "form_param_value_invalid");
    }
}

#[tokio::test]
async fn one_organization_s_invitations_and_its_pending_ones() {
    let (harness, generated) = Harness::generated(300, 12).await;
    let tenant = &generated.tenant;
    let now = now_ms();
    // The first organization has one of every rare shape.
    let organization = &tenant.organizations[0];
    let of_it = || {
        tenant
            .organization_invitations
            .iter()
            .filter(|i| i.organization() == Some(organization.id.as_str()))
    };
    let (code, listed) = harness
        .clerk_get(&format!(
            "/organizations/{}/invitations?limit=100",
            organization.id
        ))
        .await;
    assert_eq!(code, 200, "{listed}");
    assert_eq!(ids(&listed), newest_first(of_it()));
    assert_eq!(listed["total_count"], of_it().count());
    for item in listed["data"].as_array().unwrap() {
        // The spec gives this listing no public_organization_data.
        assert!(item.get("public_organization_data").is_none(), "{item}");
        assert_eq!(item["organization_id"], organization.id.as_str());
        assert_eq!(item["url"], ticket_url(item["id"].as_str().unwrap()));
    }

    let pending =
        newest_first(of_it().filter(|i| status_at(&i.status, i.expires_at, now) == "pending"));
    assert!(pending.len() >= 2, "{pending:?}");
    let (_, filtered) = harness
        .clerk_get(&format!(
            "/organizations/{}/invitations?status=pending&limit=100",
            organization.id
        ))
        .await;
    assert_eq!(ids(&filtered), pending);
    // The deprecated route, by slug, one page at a time.
    let (code, first) = harness
        .clerk_get(&format!(
            "/organizations/{}/invitations/pending?limit=1",
            organization.slug
        ))
        .await;
    assert_eq!(code, 200, "{first}");
    assert_eq!(ids(&first), pending[..1]);
    assert_eq!(first["total_count"], pending.len());
    let (_, second) = harness
        .clerk_get(&format!(
            "/organizations/{}/invitations/pending?limit=1&offset=1",
            organization.id
        ))
        .await;
    assert_eq!(ids(&second), pending[1..2]);

    // One address, in any case.
    let one = of_it().next().unwrap();
    let (_, addressed) = harness
        .clerk_get(&format!(
            "/organizations/{}/invitations?email_address={}",
            organization.id,
            one.email_address.to_uppercase()
        ))
        .await;
    assert!(ids(&addressed).contains(&one.id));

    for path in [
        "/organizations/org_2NoSuchOrganization/invitations",
        "/organizations/org_2NoSuchOrganization/invitations/pending",
    ] {
        let (code, body) = harness.clerk_get(path).await;
        assert_eq!(code, 404, "{path}: {body}");
        assert_eq!(body["errors"][0]["code"], "resource_not_found");
    }
}

#[tokio::test]
async fn application_invitations_are_a_bare_array_without_the_revoked() {
    let (harness, generated) = Harness::generated(50, 2).await;
    let invitations = &generated.tenant.invitations;
    let [first, second, third, accepted, revoked] = &invitations[..] else {
        panic!("five application invitations: {invitations:?}");
    };
    let (code, listed) = harness.clerk_get("/invitations").await;
    assert_eq!(code, 200, "{listed}");
    assert!(listed.is_array(), "a bare array: {listed}");
    // Every one but the revoked, newest first (the three pending are the newest).
    let mut expected: Vec<String> = [first, second, third]
        .iter()
        .map(|i| i.id.clone())
        .collect();
    expected.sort_by_key(|id| {
        let invitation = invitations.iter().find(|i| &i.id == id).unwrap();
        std::cmp::Reverse((invitation.created_at, invitation.id.clone()))
    });
    expected.push(accepted.id.clone());
    assert_eq!(ids(&listed), expected);
    assert_eq!(
        listed[3],
        json!({
            "object": "invitation",
            "id": accepted.id,
            "email_address": accepted.email_address,
            "public_metadata": accepted.public_metadata,
            "revoked": false,
            "status": "accepted",
            "url": ticket_url(&accepted.id),
            "expires_at": accepted.expires_at,
            "created_at": accepted.created_at,
            "updated_at": accepted.updated_at,
        })
    );

    let (_, only_revoked) = harness.clerk_get("/invitations?status=revoked").await;
    assert_eq!(ids(&only_revoked), std::slice::from_ref(&revoked.id));
    assert_eq!(only_revoked[0]["revoked"], true);
    let (_, pending) = harness
        .clerk_get("/invitations?status=pending&order_by=expires_at")
        .await;
    let mut by_expiry = [first, second, third];
    by_expiry.sort_by_key(|i| i.expires_at);
    assert_eq!(
        ids(&pending),
        by_expiry.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    );
    let (_, by_id) = harness
        .clerk_get(&format!("/invitations?query={}", &second.id[4..]))
        .await;
    assert_eq!(ids(&by_id), std::slice::from_ref(&second.id));
    let (_, paged) = harness.clerk_get("/invitations?limit=1&offset=1").await;
    assert_eq!(ids(&paged), expected[1..2]);
    // `paginated=true`, as the official SDK sends it: Clerk's page envelope.
    let (_, envelope) = harness
        .clerk_get("/invitations?paginated=true&limit=2")
        .await;
    let first_two = &listed.as_array().unwrap()[..2];
    assert_eq!(envelope, json!({"data": first_two, "total_count": 4}));
    let (_, bare) = harness.clerk_get("/invitations?paginated=false").await;
    assert_eq!(bare, listed);
    for bad in ["status=lost", "paginated=yes"] {
        let (code, _) = harness.clerk_get(&format!("/invitations?{bad}")).await;
        assert_eq!(code, 422, "{bad}");
    }
}

#[tokio::test]
async fn admin_edits_send_revoke_and_accept_invitations() {
    let (harness, generated) = Harness::generated(40, 3).await;
    let organization = &generated.tenant.organizations[1];
    let inviter = generated.tenant.users[0].id.clone();
    let send =
        |body: Value| harness.admin(Method::POST, "clerk/organization_invitations", Some(body));

    let (code, sent) = send(json!({
        "email_address": "new.hire@acme.test",
        "organization_id": organization.id,
        "role": "org:billing_manager",
        "inviter_id": inviter,
        "id": "orginv_2rehearsal",
    }))
    .await;
    assert_eq!(code, 201, "{sent}");
    assert_eq!(sent["status"], "pending");
    assert_eq!(sent["role_name"], "Billing manager");
    assert_eq!(sent["public_inviter_data"]["user_id"], inviter.as_str());
    let thirty_days = 30 * 86_400_000;
    assert_eq!(
        sent["expires_at"].as_i64().unwrap() - sent["created_at"].as_i64().unwrap(),
        thirty_days
    );
    let listing = format!("/organizations/{}/invitations?limit=100", organization.id);
    let (_, listed) = harness.clerk_get(&listing).await;
    assert_eq!(listed["data"][0]["id"], "orginv_2rehearsal", "the newest");
    assert_eq!(listed["data"][0]["url"], ticket_url("orginv_2rehearsal"));

    let (code, twice) = send(json!({
        "email_address": "NEW.HIRE@acme.test",
        "organization_id": organization.id,
        "role": "org:member",
    }))
    .await;
    assert_eq!(code, 422, "one pending invitation per address: {twice}");
    for (body, expected) in [
        (
            json!({"email_address": "a@b.test", "organization_id": "org_2none", "role": "org:member"}),
            404,
        ),
        (
            json!({"email_address": "a@b.test", "organization_id": organization.id, "role": "org:member", "inviter_id": "user_2none"}),
            404,
        ),
        (
            json!({"email_address": "not an address", "organization_id": organization.id, "role": "org:member"}),
            422,
        ),
        (
            json!({"email_address": "a@b.test", "organization_id": organization.id, "role": "member"}),
            422,
        ),
        (
            json!({"email_address": "a@b.test", "organization_id": organization.id, "role": "org:member", "id": "orginv_../x"}),
            422,
        ),
        (
            json!({"email_address": "a@b.test", "organization_id": organization.id, "role": "org:member", "token": "x"}),
            422,
        ),
    ] {
        let (code, refusal) = send(body.clone()).await;
        assert_eq!(code, expected, "{body}: {refusal}");
    }

    // Revoked once; a second revoke is refused, as Clerk revokes only pending ones.
    let (code, revoked) = harness
        .admin(
            Method::POST,
            "clerk/organization_invitations/orginv_2rehearsal/revoke",
            None,
        )
        .await;
    assert_eq!(code, 200, "{revoked}");
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["updated_at"].as_i64() > sent["updated_at"].as_i64());
    let (code, _) = harness
        .admin(
            Method::POST,
            "clerk/organization_invitations/orginv_2rehearsal/revoke",
            None,
        )
        .await;
    assert_eq!(code, 422);
    let (code, _) = harness
        .admin(
            Method::POST,
            "clerk/organization_invitations/orginv_2none/accept",
            None,
        )
        .await;
    assert_eq!(code, 404);

    // Accepted, and one sent already expired is served so.
    let (_, again) = send(json!({
        "email_address": "new.hire@acme.test",
        "organization_id": organization.id,
        "role": "org:member",
    }))
    .await;
    let id = again["id"].as_str().unwrap();
    assert!(id.starts_with("orginv_2"), "{again}");
    let (code, accepted) = harness
        .admin(
            Method::POST,
            &format!("clerk/organization_invitations/{id}/accept"),
            None,
        )
        .await;
    assert_eq!((code, accepted["status"].as_str()), (200, Some("accepted")));
    let (_, lapsed) = send(json!({
        "email_address": "late@acme.test",
        "organization_id": organization.id,
        "role": "org:member",
        "expires_at": now_ms() - 1000,
    }))
    .await;
    let (_, expired) = harness
        .clerk_get(&format!("{listing}&status=expired"))
        .await;
    assert!(ids(&expired).contains(&lapsed["id"].as_str().unwrap().to_owned()));
    let (code, _) = harness
        .admin(
            Method::POST,
            &format!(
                "clerk/organization_invitations/{}/revoke",
                lapsed["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(code, 422, "an expired invitation cannot be revoked");

    // Application invitations: sent, then revoked out of the default listing.
    let (code, invitation) = harness
        .admin(
            Method::POST,
            "clerk/invitations",
            Some(json!({"email_address": "signup@acme.test", "public_metadata": {"plan": "pro"}})),
        )
        .await;
    assert_eq!(code, 201, "{invitation}");
    let id = invitation["id"].as_str().unwrap().to_owned();
    let (_, listed) = harness.clerk_get("/invitations?limit=1").await;
    assert_eq!(ids(&listed), std::slice::from_ref(&id));
    let (code, revoked) = harness
        .admin(
            Method::POST,
            &format!("clerk/invitations/{id}/revoke"),
            None,
        )
        .await;
    assert_eq!(code, 200, "{revoked}");
    assert_eq!(
        (revoked["status"].as_str(), &revoked["revoked"]),
        (Some("revoked"), &json!(true))
    );
    let (_, listed) = harness.clerk_get("/invitations?limit=100").await;
    assert!(!ids(&listed).contains(&id));

    // Deleting an organization takes its invitations along.
    let (code, _) = harness
        .admin(
            Method::DELETE,
            &format!("clerk/organizations/{}", organization.id),
            None,
        )
        .await;
    assert_eq!(code, 200);
    let (_, all) = harness
        .clerk_get("/organization_invitations?limit=500")
        .await;
    assert!(
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["organization_id"] != organization.id.as_str())
    );
}

#[tokio::test]
async fn a_tenant_s_invitations_round_trip_and_must_name_its_organizations() {
    let (harness, generated) = Harness::generated(30, 2).await;
    let (code, tenant) = harness.admin(Method::GET, "clerk/tenant", None).await;
    assert_eq!(code, 200);
    assert_eq!(
        tenant["organization_invitations"].as_array().unwrap().len(),
        generated.tenant.organization_invitations.len()
    );
    assert!(
        tenant["organization_invitations"][0].get("url").is_none(),
        "a tenant keeps no ticket"
    );
    let (code, counts) = harness
        .admin(Method::PUT, "clerk/tenant", Some(tenant.clone()))
        .await;
    assert_eq!(code, 200, "{counts}");
    assert_eq!(
        counts,
        json!({
            "users": generated.tenant.users.len(),
            "organizations": 2,
            "memberships": generated.tenant.memberships.len(),
            "organization_invitations": generated.tenant.organization_invitations.len(),
            "invitations": 5,
        })
    );
    let mut orphaned = tenant;
    orphaned["organization_invitations"][0]["organization_id"] = json!("org_2elsewhere");
    let (code, refusal) = harness
        .admin(Method::PUT, "clerk/tenant", Some(orphaned))
        .await;
    assert_eq!(code, 422, "{refusal}");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("organization_invitations["),
        "{refusal}"
    );
}

#[tokio::test]
async fn the_listings_count_against_clerk_s_rate_limit() {
    let generated = generate::generate(GeneratorOptions {
        users: 20,
        organizations: 2,
        seed: 3,
    });
    let limits = RateLimits {
        clerk_test: Quota::new(2, 60.0),
        ..RateLimits::default()
    };
    let harness = Harness::start(
        SandboxOptions::default()
            .with_generated(&generated)
            .with_limits(limits),
    )
    .await;
    let organization = &generated.tenant.organizations[0].id;
    let paths = [
        "/organization_invitations".to_owned(),
        format!("/organizations/{organization}/invitations"),
        "/invitations".to_owned(),
    ];
    let mut statuses = Vec::new();
    for path in &paths {
        statuses.push(read(harness.clerk(Method::GET, path).send().await).await.0);
    }
    assert_eq!(statuses, [200, 200, 429]);
}
