//! The real `ferry sandbox` binary driven by the official WorkOS Rust SDK
//! (the `workos` crate, 3.5.0): every WorkOS route ferry calls (users, TOTP
//! factors, organizations, memberships, roles and permissions, webhook
//! endpoints, password sign-in) and the SSO connection and Admin Portal
//! routes, each checked on the values that come back. The SDK is generated
//! from WorkOS's current API description, so it is the reference client of
//! the spec: its models are the spec for the connection routes, which are
//! newer than the repository's OpenAPI copy, and an answer it cannot read is
//! a sandbox bug. The product never links the SDK; only these tests do.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use ferry_sandbox::totp;
use workos::admin_portal::GenerateLinkParams;
use workos::authorization::{
    CreateEnvironmentRoleParams, CreatePermissionParams, ListPermissionsParams,
    SetEnvironmentRolePermissionsParams, UpdateEnvironmentRoleParams,
};
use workos::multi_factor_auth::{
    CreateUserAuthFactorParams, ListUserAuthFactorsParams, VerifyChallengeParams,
};
use workos::organization_membership::{
    CreateOrganizationMembershipParams, CreateOrganizationMembershipParamsBody,
    ListOrganizationMembershipsParams, Role as MembershipRole, UpdateOrganizationMembershipParams,
    UpdateOrganizationMembershipParamsBody,
};
use workos::organizations::{
    CreateOrganizationParams, ListOrganizationsParams, UpdateOrganizationParams,
};
use workos::sso::{
    CreateConnectionParams, CreateConnectionParamsBody, CreateProtocolOptions,
    ListConnectionsParams, UpdateConnectionParams, UpdateConnectionParamsBody,
};
use workos::user_management::{
    AuthenticateWithPasswordParams, CreateUserParams, CreateUserParamsBody, ListUsersParams,
    Password, UpdateUserParams, UpdateUserParamsBody,
};
use workos::webhooks::{
    CreateWebhookEndpointParams, ListWebhookEndpointsParams, UpdateWebhookEndpointParams,
};
use workos::{
    AuthenticateResponseAuthenticationMethod, AuthenticationChallengesVerifyRequest,
    AuthenticationFactorEnrolledType, AuthenticationFactorType, Client, ConnectionState,
    ConnectionStatus, ConnectionType, CreateAuthorizationPermission, CreateConnectionOidcOptions,
    CreateConnectionSAMLOptions, CreateRole, CreateUserPasswordHashType, CreateWebhookEndpoint,
    CreateWebhookEndpointEvents, EnrollUserAuthenticationFactor, GenerateLink, GenerateLinkIntent,
    Organization, OrganizationDomainData, OrganizationDomainDataState, OrganizationDomainState,
    OrganizationInput, OrganizationMembershipStatus, PaginationOrder, RoleType, SetRolePermissions,
    UpdateOrganization, UpdateRole, UpdateWebhookEndpoint, UpdateWebhookEndpointStatus,
    UserOrganizationMembershipStatus, WebhookEndpointStatus,
};

use crate::common::Scratch;
use crate::sandbox::cli::{Running, start_with};

/// A base32 TOTP secret as another provider would export it.
const IMPORTED_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// A PEM-armoured IdP signing certificate (filler inside: it is stored and
/// returned verbatim, never parsed).
const IDP_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFerrySdkTestCertificate0000000wCgYIKoZIzj0EAwIw\nFjEUMBIGA1UEAwwLaWRwLmV4YW1wbGUwHhcNMjUwMTAxMDAwMDAwWhcNMzUwMTAx\nMDAwMDAwWjAWMRQwEgYDVQQDDAtpZHAuZXhhbXBsZTBZMBMGByqGSM49AgEGCCqG\n-----END CERTIFICATE-----";

/// A `ferry sandbox` process serving a small generated tenant, an SDK
/// client pointed at its WorkOS side, and a runtime to drive it. The
/// sandbox is stopped before its folder goes.
struct Sdk {
    runtime: tokio::runtime::Runtime,
    client: Client,
    sandbox: Running,
    _scratch: Scratch,
}

impl Sdk {
    fn start() -> Self {
        let scratch = Scratch::new();
        let sandbox = start_with(
            scratch.path(),
            &[
                "sandbox",
                "--clerk-port",
                "0",
                "--workos-port",
                "0",
                "--users",
                "50",
                "--orgs",
                "4",
            ],
        );
        let client = Client::builder()
            .base_url(&sandbox.info.workos_url)
            .api_key(&sandbox.info.workos_api_key)
            .client_id(&sandbox.info.workos_client_id)
            // A retried 5xx or 429 would hide what the sandbox answered.
            .max_retries(0)
            .timeout(Duration::from_secs(10))
            .build();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            runtime,
            client,
            sandbox,
            _scratch: scratch,
        }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// The API error a call must end with: (status, code).
fn api_error<T: Debug>(result: Result<T, workos::Error>) -> (u16, Option<String>) {
    let error = result.expect_err("the call fails");
    let api = error
        .api()
        .unwrap_or_else(|| panic!("an API error, not {error}"));
    (api.status, api.code.clone())
}

fn bcrypt_digest(password: &str) -> Password {
    Password::Hashed {
        password_hash: bcrypt::hash(password, 4).unwrap(),
        password_hash_type: CreateUserPasswordHashType::Bcrypt,
        password_salt_position: None,
    }
}

fn strings(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[allow(deprecated)] // `domains` is deprecated in favour of `domain_data`
fn organization_input(name: &str, external_id: &str, domain: &str) -> OrganizationInput {
    OrganizationInput {
        name: name.to_owned(),
        allow_profiles_outside_organization: None,
        domains: None,
        domain_data: Some(vec![OrganizationDomainData {
            domain: domain.to_owned(),
            state: OrganizationDomainDataState::Verified,
        }]),
        metadata: Some(strings(&[("source", "clerk")])),
        external_id: Some(external_id.to_owned()),
    }
}

async fn create_organization(
    client: &Client,
    name: &str,
    external_id: &str,
    domain: &str,
) -> Organization {
    client
        .organizations()
        .create_organization(CreateOrganizationParams::new(organization_input(
            name,
            external_id,
            domain,
        )))
        .await
        .expect("the organization is created")
}

/// Every organization id, `limit` at a time, following the `after` cursor.
async fn organization_pages(client: &Client, limit: i64) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = client
            .organizations()
            .list_organizations(ListOrganizationsParams {
                limit: Some(limit),
                after: after.clone(),
                ..Default::default()
            })
            .await
            .expect("a page of organizations");
        assert!(page.data.len() <= limit as usize, "a page holds {limit}");
        assert_eq!(page.object, "list");
        pages.push(page.data.into_iter().map(|o| o.id).collect());
        match page.list_metadata.after {
            Some(cursor) => after = Some(cursor),
            None => return pages,
        }
        assert!(pages.len() < 50, "the cursor never ends");
    }
}

#[test]
fn users_are_created_with_a_bcrypt_digest_read_listed_updated_and_deleted() {
    let sdk = Sdk::start();
    let users = sdk.client.user_management();
    sdk.block_on(async {
        let mut body = CreateUserParamsBody::new(" Ada.Lovelace@Example.com ");
        body.first_name = Some("Ada".into());
        body.last_name = Some("Lovelace".into());
        body.email_verified = Some(true);
        body.external_id = Some("clerk_user_sdk_ada".into());
        body.metadata = Some(strings(&[("clerk_id", "user_2sdk")]));
        body.password = Some(bcrypt_digest("analytical engine"));
        let created = users
            .create_user(CreateUserParams::new(body))
            .await
            .expect("the user is created");
        assert_eq!(created.object, "user");
        assert!(created.id.starts_with("user_"), "{}", created.id);
        // WorkOS trims and lowercases the address it stores.
        assert_eq!(created.email, "ada.lovelace@example.com");
        assert_eq!(created.first_name.as_deref(), Some("Ada"));
        assert_eq!(created.last_name.as_deref(), Some("Lovelace"));
        assert!(created.email_verified);
        assert_eq!(created.external_id.as_deref(), Some("clerk_user_sdk_ada"));
        assert_eq!(
            created.metadata,
            Some(strings(&[("clerk_id", "user_2sdk")]))
        );

        let read = users.get_user(&created.id).await.unwrap();
        assert_eq!(read.id, created.id);
        assert_eq!(read.email, created.email);
        assert_eq!(read.created_at, created.created_at);
        let by_external = users
            .get_user_by_external_id("clerk_user_sdk_ada")
            .await
            .unwrap();
        assert_eq!(by_external.id, created.id);

        let listed = users
            .list_users(ListUsersParams {
                email: Some("ada.lovelace@example.com".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.object, "list");
        let ids: Vec<&str> = listed.data.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, [created.id.as_str()]);

        // An omitted field stays as it was.
        let mut change = UpdateUserParamsBody::new();
        change.first_name = Some("Augusta Ada".into());
        change.external_id = Some("clerk_user_sdk_ada_2".into());
        let updated = users
            .update_user(&created.id, UpdateUserParams::new(change))
            .await
            .unwrap();
        assert_eq!(updated.first_name.as_deref(), Some("Augusta Ada"));
        assert_eq!(updated.last_name.as_deref(), Some("Lovelace"));
        assert_eq!(updated.external_id.as_deref(), Some("clerk_user_sdk_ada_2"));
        assert_eq!(
            users.get_user(&created.id).await.unwrap().first_name,
            Some("Augusta Ada".into())
        );
        assert_eq!(
            api_error(users.get_user_by_external_id("clerk_user_sdk_ada").await).0,
            404
        );

        users.delete_user(&created.id).await.expect("deleted");
        assert_eq!(api_error(users.get_user(&created.id).await).0, 404);
        assert_eq!(
            api_error(users.get_user_by_external_id("clerk_user_sdk_ada_2").await).0,
            404
        );
        let listed = users
            .list_users(ListUsersParams {
                email: Some("ada.lovelace@example.com".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(listed.data.is_empty(), "{:?}", listed.data);
    });
}

#[test]
fn a_totp_factor_is_enrolled_with_an_imported_secret_listed_and_deleted() {
    let sdk = Sdk::start();
    let client = &sdk.client;
    sdk.block_on(async {
        let mut body = CreateUserParamsBody::new("grace@example.com");
        body.email_verified = Some(true);
        let user = client
            .user_management()
            .create_user(CreateUserParams::new(body))
            .await
            .unwrap();
        let mfa = client.multi_factor_auth();

        let enrolled = mfa
            .create_user_auth_factor(
                &user.id,
                CreateUserAuthFactorParams::new(EnrollUserAuthenticationFactor {
                    type_: "totp".into(),
                    totp_issuer: Some("Clerk".into()),
                    totp_user: Some("grace@example.com".into()),
                    totp_secret: Some(IMPORTED_TOTP_SECRET.into()),
                }),
            )
            .await
            .expect("the factor is enrolled");
        let factor = enrolled.authentication_factor;
        assert_eq!(factor.object, "authentication_factor");
        assert_eq!(factor.type_, AuthenticationFactorEnrolledType::Totp);
        assert_eq!(factor.user_id.as_deref(), Some(user.id.as_str()));
        let details = factor.totp.as_ref().expect("totp details");
        assert_eq!(details.issuer, "Clerk");
        assert_eq!(details.user, "grace@example.com");
        // The imported secret is kept, not replaced by a generated one.
        assert_eq!(details.secret.expose(), IMPORTED_TOTP_SECRET);
        assert!(
            details.uri.expose().starts_with("otpauth://totp/")
                && details
                    .uri
                    .expose()
                    .contains(&format!("secret={IMPORTED_TOTP_SECRET}")),
            "{}",
            details.uri.expose()
        );
        let challenge = enrolled.authentication_challenge;
        assert_eq!(challenge.authentication_factor_id, factor.id);

        // The codes an authenticator app shows for the imported secret verify.
        let now = totp::now_seconds();
        let current = totp::code_at(IMPORTED_TOTP_SECRET, now).unwrap();
        let near: Vec<String> = [now - 30, now, now + 30]
            .iter()
            .map(|t| totp::code_at(IMPORTED_TOTP_SECRET, *t).unwrap())
            .collect();
        let wrong = (0..)
            .map(|n| format!("{n:06}"))
            .find(|code| !near.contains(code))
            .unwrap();
        let verify = |code: String| {
            mfa.verify_challenge(
                &challenge.id,
                VerifyChallengeParams::new(AuthenticationChallengesVerifyRequest {
                    code: code.into(),
                }),
            )
        };
        let refused = verify(wrong).await.unwrap();
        assert!(!refused.valid);
        let accepted = verify(current).await.unwrap();
        assert!(accepted.valid);
        assert_eq!(accepted.challenge.id, challenge.id);

        let listed = mfa
            .list_user_auth_factors(&user.id, ListUserAuthFactorsParams::default())
            .await
            .unwrap();
        assert_eq!(listed.object, "list");
        assert_eq!(listed.data.len(), 1);
        assert_eq!(listed.data[0].id, factor.id);
        assert_eq!(listed.data[0].type_, AuthenticationFactorType::Totp);
        let listed_totp = listed.data[0].totp.as_ref().expect("totp details");
        assert_eq!(
            (listed_totp.issuer.as_str(), listed_totp.user.as_str()),
            ("Clerk", "grace@example.com")
        );
        assert_eq!(
            mfa.get_factor(&factor.id).await.unwrap().user_id,
            Some(user.id.clone())
        );

        mfa.delete_factor(&factor.id).await.expect("deleted");
        assert_eq!(api_error(mfa.get_factor(&factor.id).await).0, 404);
        let listed = mfa
            .list_user_auth_factors(&user.id, ListUserAuthFactorsParams::default())
            .await
            .unwrap();
        assert!(listed.data.is_empty());

        // A secret that is not base32 is refused.
        let (status, _) = api_error(
            mfa.create_user_auth_factor(
                &user.id,
                CreateUserAuthFactorParams::new(EnrollUserAuthenticationFactor {
                    type_: "totp".into(),
                    totp_issuer: None,
                    totp_user: None,
                    totp_secret: Some("not base32 at all!".into()),
                }),
            )
            .await,
        );
        assert_eq!(status, 422);
    });
}

#[test]
fn a_user_imported_with_a_bcrypt_digest_signs_in_with_its_password() {
    let sdk = Sdk::start();
    let client = &sdk.client;
    sdk.block_on(async {
        let mut body = CreateUserParamsBody::new("linus@example.com");
        body.email_verified = Some(true);
        body.password = Some(bcrypt_digest("correct horse battery staple"));
        let user = client
            .user_management()
            .create_user(CreateUserParams::new(body))
            .await
            .unwrap();

        let signed_in = client
            .user_management()
            .authenticate_with_password(AuthenticateWithPasswordParams::new(
                "linus@example.com",
                "correct horse battery staple",
            ))
            .await
            .expect("the right password signs in");
        assert_eq!(signed_in.user.id, user.id);
        assert_eq!(signed_in.user.email, "linus@example.com");
        assert_eq!(
            signed_in.authentication_method,
            Some(AuthenticateResponseAuthenticationMethod::Password)
        );
        assert_eq!(signed_in.organization_id, None);
        assert!(!signed_in.access_token.expose().is_empty());
        assert!(!signed_in.refresh_token.expose().is_empty());
        assert_ne!(
            signed_in.access_token.expose(),
            signed_in.refresh_token.expose()
        );
        // The sign-in is recorded on the user.
        let read = client.user_management().get_user(&user.id).await.unwrap();
        assert!(read.last_sign_in_at.is_some());

        let wrong = client
            .user_management()
            .authenticate_with_password(AuthenticateWithPasswordParams::new(
                "linus@example.com",
                "incorrect horse",
            ))
            .await;
        assert_eq!(api_error(wrong), (400, Some("invalid_credentials".into())));
        let unknown = client
            .user_management()
            .authenticate_with_password(AuthenticateWithPasswordParams::new(
                "nobody@example.com",
                "correct horse battery staple",
            ))
            .await;
        assert_eq!(
            api_error(unknown),
            (400, Some("invalid_credentials".into()))
        );

        // The client id is part of the grant: without it the SDK's request is refused.
        let anonymous = Client::builder()
            .base_url(&sdk.sandbox.info.workos_url)
            .api_key(&sdk.sandbox.info.workos_api_key)
            .max_retries(0)
            .build();
        let refused = anonymous
            .user_management()
            .authenticate_with_password(AuthenticateWithPasswordParams::new(
                "linus@example.com",
                "correct horse battery staple",
            ))
            .await;
        assert_eq!(api_error(refused), (400, Some("invalid_client".into())));
    });
}

#[test]
fn organizations_are_created_with_domains_read_paged_updated_and_deleted() {
    let sdk = Sdk::start();
    let client = &sdk.client;
    let organizations = client.organizations();
    sdk.block_on(async {
        let before: BTreeSet<String> = organization_pages(client, 100)
            .await
            .into_iter()
            .flatten()
            .collect();

        let org = create_organization(client, "Acme", "clerk_org_acme", "acme-sdk.example").await;
        assert_eq!(org.object, "organization");
        assert!(org.id.starts_with("org_"), "{}", org.id);
        assert_eq!(org.name, "Acme");
        assert_eq!(org.external_id.as_deref(), Some("clerk_org_acme"));
        assert_eq!(org.metadata, strings(&[("source", "clerk")]));
        assert_eq!(org.domains.len(), 1);
        let domain = &org.domains[0];
        assert_eq!(domain.domain, "acme-sdk.example");
        assert_eq!(domain.organization_id, org.id);
        assert_eq!(domain.state, Some(OrganizationDomainState::Verified));

        let read = organizations.get_organization(&org.id).await.unwrap();
        assert_eq!(
            (read.id.as_str(), read.name.as_str()),
            (org.id.as_str(), "Acme")
        );
        assert_eq!(read.domains[0].domain, "acme-sdk.example");
        let by_external = organizations
            .get_organization_by_external_id("clerk_org_acme")
            .await
            .unwrap();
        assert_eq!(by_external.id, org.id);

        let mut created = vec![org.id.clone()];
        for n in 1..=4 {
            let other = create_organization(
                client,
                &format!("Other {n}"),
                &format!("clerk_org_other_{n}"),
                &format!("other-{n}-sdk.example"),
            )
            .await;
            created.push(other.id);
        }

        // Five more, two at a time: three pages, each id once.
        let pages = organization_pages(client, 2).await;
        let all: Vec<String> = pages.iter().flatten().cloned().collect();
        let distinct: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(all.len(), distinct.len(), "an id on two pages: {pages:?}");
        let expected: BTreeSet<String> = before.iter().cloned().chain(created.clone()).collect();
        assert_eq!(distinct, expected);
        // Full pages, then what is left: at least three pages for five more.
        let (last, full) = pages.split_last().unwrap();
        assert!(full.len() >= 2, "{pages:?}");
        assert!(full.iter().all(|page| page.len() == 2), "{pages:?}");
        assert!((1..=2).contains(&last.len()), "{pages:?}");
        // Newest first, the SDK's default order.
        let newest_first: Vec<&String> = all.iter().filter(|id| created.contains(id)).collect();
        let created_newest_first: Vec<&String> = created.iter().rev().collect();
        assert_eq!(newest_first, created_newest_first);
        let oldest_first = organizations
            .list_organizations(ListOrganizationsParams {
                limit: Some(100),
                order: Some(PaginationOrder::Asc),
                ..Default::default()
            })
            .await
            .unwrap();
        let ascending: Vec<&String> = oldest_first
            .data
            .iter()
            .map(|o| &o.id)
            .filter(|id| created.contains(id))
            .collect();
        assert_eq!(ascending, created.iter().collect::<Vec<_>>());

        let mut change = UpdateOrganization {
            name: Some("Acme Corporation".into()),
            allow_profiles_outside_organization: None,
            #[allow(deprecated)]
            domains: None,
            domain_data: None,
            stripe_customer_id: None,
            metadata: None,
            external_id: None,
        };
        let updated = organizations
            .update_organization(&org.id, UpdateOrganizationParams::new(change.clone()))
            .await
            .unwrap();
        assert_eq!(updated.name, "Acme Corporation");
        assert_eq!(updated.external_id.as_deref(), Some("clerk_org_acme"));
        assert_eq!(updated.domains.len(), 1);
        change.name = None;
        change.external_id = Some("clerk_org_acme_2".into());
        let updated = organizations
            .update_organization(&org.id, UpdateOrganizationParams::new(change))
            .await
            .unwrap();
        assert_eq!(updated.name, "Acme Corporation");
        assert_eq!(updated.external_id.as_deref(), Some("clerk_org_acme_2"));
        assert_eq!(
            organizations
                .get_organization_by_external_id("clerk_org_acme_2")
                .await
                .unwrap()
                .name,
            "Acme Corporation"
        );

        organizations
            .delete_organization(&org.id)
            .await
            .expect("deleted");
        assert_eq!(
            api_error(organizations.get_organization(&org.id).await).0,
            404
        );
        assert_eq!(
            api_error(
                organizations
                    .get_organization_by_external_id("clerk_org_acme_2")
                    .await
            )
            .0,
            404
        );
    });
}

#[test]
fn memberships_are_created_with_a_role_listed_both_ways_changed_and_deleted() {
    let sdk = Sdk::start();
    let client = &sdk.client;
    let memberships = client.organization_membership();
    sdk.block_on(async {
        let org =
            create_organization(client, "Initech", "clerk_org_initech", "initech.example").await;
        let mut body = CreateUserParamsBody::new("peter@initech.example");
        body.email_verified = Some(true);
        let user = client
            .user_management()
            .create_user(CreateUserParams::new(body))
            .await
            .unwrap();

        let mut request = CreateOrganizationMembershipParamsBody::new(&user.id, &org.id);
        request.role = Some(MembershipRole::Single {
            role_slug: "admin".into(),
        });
        let membership = memberships
            .create_organization_membership(CreateOrganizationMembershipParams::new(request))
            .await
            .expect("the membership is created");
        assert_eq!(membership.object, "organization_membership");
        assert!(membership.id.starts_with("om_"), "{}", membership.id);
        assert_eq!(membership.user_id, user.id);
        assert_eq!(membership.organization_id, org.id);
        assert_eq!(membership.organization_name.as_deref(), Some("Initech"));
        assert_eq!(membership.status, OrganizationMembershipStatus::Active);
        assert!(!membership.directory_managed);
        assert_eq!(membership.role.slug, "admin");
        let role_slugs: Vec<&str> = membership.roles.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(role_slugs, ["admin"]);
        assert_eq!(membership.user.id, user.id);
        assert_eq!(membership.user.email, "peter@initech.example");

        // A second membership of the same user in the same organization is refused.
        let again = CreateOrganizationMembershipParamsBody::new(&user.id, &org.id);
        let (status, _) = api_error(
            memberships
                .create_organization_membership(CreateOrganizationMembershipParams::new(again))
                .await,
        );
        assert_eq!(status, 409);

        let by_user = memberships
            .list_organization_memberships(ListOrganizationMembershipsParams {
                user_id: Some(user.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<&str> = by_user.data.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, [membership.id.as_str()]);
        assert_eq!(by_user.data[0].role.slug, "admin");
        assert_eq!(by_user.data[0].user.email, "peter@initech.example");
        let by_org = memberships
            .list_organization_memberships(ListOrganizationMembershipsParams {
                organization_id: Some(org.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        let ids: Vec<&str> = by_org.data.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, [membership.id.as_str()]);
        assert_eq!(
            by_org.data[0].status,
            UserOrganizationMembershipStatus::Active
        );

        let mut change = UpdateOrganizationMembershipParamsBody::new();
        change.role = Some(MembershipRole::Single {
            role_slug: "member".into(),
        });
        let updated = memberships
            .update_organization_membership(
                &membership.id,
                UpdateOrganizationMembershipParams::new(change),
            )
            .await
            .unwrap();
        assert_eq!(updated.id, membership.id);
        assert_eq!(updated.role.slug, "member");
        let role_slugs: Vec<&str> = updated.roles.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(role_slugs, ["member"]);
        assert_eq!(
            memberships
                .get_organization_membership(&membership.id)
                .await
                .unwrap()
                .role
                .slug,
            "member"
        );

        // A role the environment does not have is refused.
        let mut change = UpdateOrganizationMembershipParamsBody::new();
        change.role = Some(MembershipRole::Single {
            role_slug: "no-such-role".into(),
        });
        let (status, _) = api_error(
            memberships
                .update_organization_membership(
                    &membership.id,
                    UpdateOrganizationMembershipParams::new(change),
                )
                .await,
        );
        assert_eq!(status, 422);

        memberships
            .delete_organization_membership(&membership.id)
            .await
            .expect("deleted");
        assert_eq!(
            api_error(
                memberships
                    .get_organization_membership(&membership.id)
                    .await
            )
            .0,
            404
        );
        let by_user = memberships
            .list_organization_memberships(ListOrganizationMembershipsParams {
                user_id: Some(user.id.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(by_user.data.is_empty());
    });
}

#[test]
fn roles_and_permissions_are_listed_created_updated_and_given_permissions() {
    let sdk = Sdk::start();
    let authorization = sdk.client.authorization();
    sdk.block_on(async {
        let roles = authorization.list_environment_roles().await.unwrap();
        assert_eq!(roles.object, "list");
        let slugs: Vec<&str> = roles.data.iter().map(|r| r.slug.as_str()).collect();
        assert!(
            slugs.contains(&"admin") && slugs.contains(&"member"),
            "{slugs:?}"
        );
        assert!(
            roles
                .data
                .iter()
                .all(|r| r.type_ == RoleType::EnvironmentRole)
        );

        let permission = authorization
            .create_permission(CreatePermissionParams::new(CreateAuthorizationPermission {
                slug: "reports:read".into(),
                name: "Read reports".into(),
                description: Some("See the monthly reports".into()),
                resource_type_slug: None,
            }))
            .await
            .expect("the permission is created");
        assert_eq!(permission.object, "permission");
        assert_eq!(permission.slug, "reports:read");
        assert_eq!(permission.name, "Read reports");
        assert_eq!(
            permission.description.as_deref(),
            Some("See the monthly reports")
        );
        assert!(!permission.system);
        let listed = authorization
            .list_permissions(ListPermissionsParams {
                limit: Some(100),
                ..Default::default()
            })
            .await
            .unwrap();
        let found = listed
            .data
            .iter()
            .find(|p| p.slug == "reports:read")
            .expect("the new permission is listed");
        assert_eq!(found.id, permission.id);
        assert_eq!(found.name, "Read reports");

        let role = authorization
            .create_environment_role(CreateEnvironmentRoleParams::new(CreateRole {
                slug: "auditor".into(),
                name: "Auditor".into(),
                description: Some("Reads reports".into()),
                resource_type_slug: None,
            }))
            .await
            .expect("the role is created");
        assert_eq!(role.object, "role");
        assert_eq!(role.slug, "auditor");
        assert_eq!(role.name, "Auditor");
        assert_eq!(role.description.as_deref(), Some("Reads reports"));
        assert_eq!(role.type_, RoleType::EnvironmentRole);
        assert!(role.permissions.is_empty());

        let updated = authorization
            .update_environment_role(
                "auditor",
                UpdateEnvironmentRoleParams::new(UpdateRole {
                    name: Some("Senior auditor".into()),
                    description: None,
                }),
            )
            .await
            .unwrap();
        assert_eq!(updated.id, role.id);
        assert_eq!(updated.name, "Senior auditor");
        // An omitted description stays.
        assert_eq!(updated.description.as_deref(), Some("Reads reports"));

        let with_permissions = authorization
            .set_environment_role_permissions(
                "auditor",
                SetEnvironmentRolePermissionsParams::new(SetRolePermissions {
                    permissions: vec!["reports:read".into()],
                }),
            )
            .await
            .unwrap();
        assert_eq!(with_permissions.permissions, ["reports:read"]);

        let roles = authorization.list_environment_roles().await.unwrap();
        let auditor = roles
            .data
            .iter()
            .find(|r| r.slug == "auditor")
            .expect("the new role is listed");
        assert_eq!(auditor.name, "Senior auditor");
        assert_eq!(auditor.permissions, ["reports:read"]);

        let (status, _) = api_error(
            authorization
                .update_environment_role(
                    "no-such-role",
                    UpdateEnvironmentRoleParams::new(UpdateRole {
                        name: Some("x".into()),
                        description: None,
                    }),
                )
                .await,
        );
        assert_eq!(status, 404);
    });
}

#[test]
fn webhook_endpoints_are_listed_and_disabled_and_enabled_again() {
    let sdk = Sdk::start();
    let webhooks = sdk.client.webhooks();
    sdk.block_on(async {
        let endpoint = webhooks
            .create_webhook_endpoint(CreateWebhookEndpointParams::new(CreateWebhookEndpoint {
                endpoint_url: "https://hooks.example.com/workos".into(),
                events: vec![
                    CreateWebhookEndpointEvents::UserCreated,
                    CreateWebhookEndpointEvents::UserUpdated,
                ],
            }))
            .await
            .expect("the endpoint is created");
        assert_eq!(endpoint.object, "webhook_endpoint");
        assert_eq!(endpoint.endpoint_url, "https://hooks.example.com/workos");
        assert_eq!(endpoint.status, WebhookEndpointStatus::Enabled);
        assert_eq!(endpoint.events, ["user.created", "user.updated"]);
        assert!(endpoint.secret.expose().starts_with("whsec_"));

        let listed = webhooks
            .list_webhook_endpoints(ListWebhookEndpointsParams::default())
            .await
            .unwrap();
        assert_eq!(listed.object, "list");
        assert_eq!(listed.data.len(), 1);
        assert_eq!(listed.data[0].id, endpoint.id);
        assert_eq!(listed.data[0].secret.expose(), endpoint.secret.expose());

        let status = |status| UpdateWebhookEndpoint {
            endpoint_url: None,
            status: Some(status),
            events: None,
        };
        let disabled = webhooks
            .update_webhook_endpoint(
                &endpoint.id,
                UpdateWebhookEndpointParams::new(status(UpdateWebhookEndpointStatus::Disabled)),
            )
            .await
            .unwrap();
        assert_eq!(disabled.status, WebhookEndpointStatus::Disabled);
        assert_eq!(disabled.events, endpoint.events);
        let listed = webhooks
            .list_webhook_endpoints(ListWebhookEndpointsParams::default())
            .await
            .unwrap();
        assert_eq!(listed.data[0].status, WebhookEndpointStatus::Disabled);

        let enabled = webhooks
            .update_webhook_endpoint(
                &endpoint.id,
                UpdateWebhookEndpointParams::new(status(UpdateWebhookEndpointStatus::Enabled)),
            )
            .await
            .unwrap();
        assert_eq!(enabled.status, WebhookEndpointStatus::Enabled);

        let (code, _) = api_error(
            webhooks
                .update_webhook_endpoint(
                    "we_01UNKNOWN0000000000000000",
                    UpdateWebhookEndpointParams::new(status(UpdateWebhookEndpointStatus::Disabled)),
                )
                .await,
        );
        assert_eq!(code, 404);
    });
}

/// SAML options with the manual IdP fields instead of a metadata URL.
fn saml_manual() -> CreateProtocolOptions {
    CreateProtocolOptions::SAML {
        saml_options: CreateConnectionSAMLOptions {
            idp_metadata_url: None,
            acs_url: None,
            sp_entity_id: None,
            idp_entity_id: Some("https://idp.example.com/entity".into()),
            idp_sso_url: Some("https://idp.example.com/sso".into()),
            idp_signing_certs: Some(vec![IDP_CERTIFICATE.into()]),
            sp_signing_key_pair: None,
            sp_encryption_key_pairs: None,
        },
    }
}

#[test]
#[allow(deprecated)] // `Connection::status` is deprecated in favour of `state`, still sent
fn sso_connections_follow_the_sdk_models_and_the_external_id_rule() {
    let sdk = Sdk::start();
    let client = &sdk.client;
    let sso = client.sso();
    sdk.block_on(async {
        let org = create_organization(client, "Globex", "clerk_org_globex", "globex.example").await;
        let other = create_organization(client, "Hooli", "clerk_org_hooli", "hooli.example").await;

        let create = |organization_id: &str, external_id: &str, name: &str, options| {
            let mut body = CreateConnectionParamsBody::new(organization_id, options);
            body.external_id = Some(external_id.to_owned());
            body.name = Some(name.to_owned());
            sso.create_connection(CreateConnectionParams::new(body))
        };

        let saml = create(&org.id, "clerk_conn_saml", "Globex SAML", saml_manual())
            .await
            .expect("a SAML connection with the manual IdP fields");
        assert_eq!(saml.object, "connection");
        assert!(saml.id.starts_with("conn_"), "{}", saml.id);
        assert_eq!(saml.organization_id.as_deref(), Some(org.id.as_str()));
        assert_eq!(saml.connection_type, ConnectionType::GenericSAML);
        assert_eq!(saml.name, "Globex SAML");
        assert_eq!(saml.state, ConnectionState::Active);
        assert_eq!(saml.status, ConnectionStatus::Linked);
        let domains: Vec<&str> = saml.domains.iter().map(|d| d.domain.as_str()).collect();
        assert_eq!(domains, ["globex.example"]);
        assert_eq!(saml.domains[0].object, "connection_domain");

        // The documented rule: the same external_id in the same organization
        // answers with the connection already there.
        let again = create(
            &org.id,
            "clerk_conn_saml",
            "Globex SAML again",
            saml_manual(),
        )
        .await
        .unwrap();
        assert_eq!(again.id, saml.id);
        assert_eq!(again.name, "Globex SAML");
        // In another organization the same external_id is another connection.
        let elsewhere = create(&other.id, "clerk_conn_saml", "Hooli SAML", saml_manual())
            .await
            .unwrap();
        assert_ne!(elsewhere.id, saml.id);
        assert_eq!(
            elsewhere.organization_id.as_deref(),
            Some(other.id.as_str())
        );

        let by_metadata = create(
            &org.id,
            "clerk_conn_metadata",
            "Globex metadata",
            CreateProtocolOptions::SAML {
                saml_options: CreateConnectionSAMLOptions {
                    idp_metadata_url: Some("https://idp.example.com/metadata.xml".into()),
                    acs_url: None,
                    sp_entity_id: None,
                    idp_entity_id: None,
                    idp_sso_url: None,
                    idp_signing_certs: None,
                    sp_signing_key_pair: None,
                    sp_encryption_key_pairs: None,
                },
            },
        )
        .await
        .expect("a SAML connection from a metadata URL");
        assert_eq!(by_metadata.connection_type, ConnectionType::GenericSAML);
        assert_ne!(by_metadata.id, saml.id);

        let oidc = create(
            &org.id,
            "clerk_conn_oidc",
            "Globex OIDC",
            CreateProtocolOptions::Oidc {
                oidc_options: CreateConnectionOidcOptions {
                    discovery_endpoint:
                        "https://login.example.com/.well-known/openid-configuration".into(),
                    client_id: "globex-client".into(),
                    client_secret: Some("globex-secret".into()),
                    redirect_uri: None,
                    pkce: None,
                    token_authentication_method: None,
                    jwt_signing_key_pair: None,
                    id_token_signature_algorithm: None,
                    fetch_user_info: None,
                },
            },
        )
        .await
        .expect("an OIDC connection");
        assert_eq!(oidc.connection_type, ConnectionType::GenericOidc);
        assert_eq!(oidc.name, "Globex OIDC");
        assert_eq!(oidc.state, ConnectionState::Active);

        let read = sso.get_connection(&saml.id).await.unwrap();
        assert_eq!(read.id, saml.id);
        assert_eq!(read.name, "Globex SAML");
        assert_eq!(read.connection_type, ConnectionType::GenericSAML);
        assert_eq!(read.created_at, saml.created_at);

        let in_org = |organization_id: String| {
            sso.list_connections(ListConnectionsParams {
                organization_id: Some(organization_id),
                ..Default::default()
            })
        };
        let listed = in_org(org.id.clone()).await.unwrap();
        assert_eq!(listed.object, "list");
        let ids: BTreeSet<&str> = listed.data.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            BTreeSet::from([saml.id.as_str(), by_metadata.id.as_str(), oidc.id.as_str()])
        );
        let listed = in_org(other.id.clone()).await.unwrap();
        let ids: Vec<&str> = listed.data.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, [elsewhere.id.as_str()]);

        let mut change = UpdateConnectionParamsBody::new();
        change.name = Some("Globex Okta".into());
        let renamed = sso
            .update_connection(&saml.id, UpdateConnectionParams::new(change))
            .await
            .unwrap();
        assert_eq!(renamed.id, saml.id);
        assert_eq!(renamed.name, "Globex Okta");
        assert_eq!(renamed.connection_type, ConnectionType::GenericSAML);
        assert_eq!(
            sso.get_connection(&saml.id).await.unwrap().name,
            "Globex Okta"
        );

        let certificates = sso
            .list_connection_saml_idp_signing_certs(&saml.id)
            .await
            .unwrap();
        assert_eq!(certificates.object, "list");
        let values: Vec<&str> = certificates.data.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, [IDP_CERTIFICATE]);
        assert_eq!(certificates.data[0].object, "saml_idp_signing_certificate");

        sso.delete_connection(&oidc.id).await.expect("deleted");
        assert_eq!(api_error(sso.get_connection(&oidc.id).await).0, 404);
        let listed = in_org(org.id.clone()).await.unwrap();
        assert_eq!(listed.data.len(), 2);
        assert!(listed.data.iter().all(|c| c.id != oidc.id));

        // Options that name no IdP are refused.
        let (status, _) = api_error(
            create(
                &org.id,
                "clerk_conn_empty",
                "Empty",
                CreateProtocolOptions::SAML {
                    saml_options: CreateConnectionSAMLOptions {
                        idp_metadata_url: None,
                        acs_url: None,
                        sp_entity_id: None,
                        idp_entity_id: None,
                        idp_sso_url: None,
                        idp_signing_certs: None,
                        sp_signing_key_pair: None,
                        sp_encryption_key_pairs: None,
                    },
                },
            )
            .await,
        );
        assert_eq!(status, 422);
    });
}

#[test]
fn admin_portal_links_are_generated_for_an_existing_organization_only() {
    let sdk = Sdk::start();
    let client = &sdk.client;
    let portal = client.admin_portal();
    sdk.block_on(async {
        let org =
            create_organization(client, "Umbrella", "clerk_org_umbrella", "umbrella.example").await;
        let link = |organization: &str| {
            portal.generate_link(GenerateLinkParams::new(GenerateLink {
                return_url: None,
                success_url: None,
                organization: organization.to_owned(),
                external_user_id: None,
                intent: Some(GenerateLinkIntent::SSO),
                it_contact_emails: None,
            }))
        };
        let generated = link(&org.id).await.expect("a portal link");
        let url = reqwest::Url::parse(generated.link.expose()).expect("the link is a URL");
        assert_eq!(url.scheme(), "https");
        assert!(url.host_str().is_some());
        let another = link(&org.id).await.unwrap();
        assert_ne!(
            another.link.expose(),
            generated.link.expose(),
            "each link is a new credential"
        );

        let (status, code) = api_error(link("org_01UNKNOWN00000000000000000").await);
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("organization_not_found"))
        );
    });
}
