//! The WorkOS API imitation: User Management users, password authentication
//! (bcrypt/argon2 digests, MFA and organization-selection continuations),
//! TOTP factors and challenges, organizations and memberships, invitations,
//! roles and permissions, SSO connections and Admin Portal links, events and
//! webhook endpoints, behind the API-key check and the documented per-key
//! rate limits.

mod authenticate;
mod connections;
mod events;
mod invitations;
mod memberships;
mod mfa;
mod organizations;
mod respond;
mod roles;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, patch, post, put};

use super::clerk_api::bearer;
use super::limits::Bucket;
use crate::shared::Shared;

pub use respond::{server_error, too_many_requests};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/user_management/users",
            get(users::list_users).post(users::create_user),
        )
        .route(
            "/user_management/users/external_id/{external_id}",
            get(users::get_user_by_external_id),
        )
        .route(
            "/user_management/users/{id}",
            get(users::get_user)
                .put(users::update_user)
                .delete(users::delete_user),
        )
        .route(
            "/user_management/users/{id}/identities",
            get(users::list_identities),
        )
        .route(
            "/user_management/organization_memberships/{id}/deactivate",
            put(memberships::deactivate_membership),
        )
        .route(
            "/user_management/organization_memberships/{id}/reactivate",
            put(memberships::reactivate_membership),
        )
        .route(
            "/user_management/users/{id}/auth_factors",
            get(mfa::list_factors).post(mfa::enroll_factor),
        )
        .route(
            "/user_management/authenticate",
            post(authenticate::authenticate),
        )
        .route(
            "/user_management/organization_memberships",
            get(memberships::list_memberships).post(memberships::create_membership),
        )
        .route(
            "/user_management/organization_memberships/{id}",
            get(memberships::get_membership)
                .put(memberships::update_membership)
                .delete(memberships::delete_membership),
        )
        .route(
            "/user_management/invitations",
            get(invitations::list_invitations).post(invitations::create_invitation),
        )
        .route(
            "/user_management/invitations/by_token/{token}",
            get(invitations::get_invitation_by_token),
        )
        .route(
            "/user_management/invitations/{id}",
            get(invitations::get_invitation),
        )
        .route(
            "/user_management/invitations/{id}/revoke",
            post(invitations::revoke_invitation),
        )
        .route(
            "/user_management/invitations/{id}/resend",
            post(invitations::resend_invitation),
        )
        .route(
            "/user_management/invitations/{id}/accept",
            post(invitations::accept_invitation),
        )
        .route(
            "/organizations",
            get(organizations::list_organizations).post(organizations::create_organization),
        )
        .route(
            "/organizations/external_id/{external_id}",
            get(organizations::get_organization_by_external_id),
        )
        .route(
            "/organizations/{id}",
            get(organizations::get_organization)
                .put(organizations::update_organization)
                .delete(organizations::delete_organization),
        )
        .route(
            "/authorization/roles",
            get(roles::list_roles).post(roles::create_role),
        )
        .route(
            "/authorization/roles/{slug}",
            get(roles::get_role).patch(roles::update_role),
        )
        .route(
            "/authorization/roles/{slug}/permissions",
            put(roles::set_role_permissions),
        )
        .route(
            "/authorization/organizations/{id}/roles",
            get(roles::list_organization_roles).post(roles::create_organization_role),
        )
        // What the official Node SDK (7.x) calls for an organization's roles.
        .route(
            "/organizations/{id}/roles",
            get(roles::list_organization_roles),
        )
        .route(
            "/authorization/permissions",
            get(roles::list_permissions).post(roles::create_permission),
        )
        .route(
            "/auth/factors/{id}",
            get(mfa::get_factor).delete(mfa::delete_factor),
        )
        .route("/auth/factors/{id}/challenge", post(mfa::challenge_factor))
        .route("/auth/challenges/{id}/verify", post(mfa::verify_challenge))
        .route(
            "/connections",
            get(connections::list_connections).post(connections::create_connection),
        )
        .route(
            "/connections/{id}",
            get(connections::get_connection)
                .patch(connections::update_connection)
                .delete(connections::delete_connection),
        )
        .route(
            "/connections/{id}/saml_idp_signing_certs",
            get(connections::list_signing_certificates),
        )
        .route(
            "/portal/generate_link",
            post(connections::generate_portal_link),
        )
        .route("/events", get(events::list_events))
        .route(
            "/webhook_endpoints",
            get(events::list_webhook_endpoints).post(events::create_webhook_endpoint),
        )
        .route(
            "/webhook_endpoints/{id}",
            patch(events::update_webhook_endpoint).delete(events::delete_webhook_endpoint),
        )
        .fallback(|| async { respond::message(StatusCode::NOT_FOUND, "Not Found") })
        // In the API's error shape, so an SDK reads it rather than failing to parse.
        .method_not_allowed_fallback(|| async {
            respond::message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        })
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        .with_state(shared)
}

async fn authorize(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let is_authenticate = path == "/user_management/authenticate";
    let key = if is_authenticate {
        // authenticate carries the key as client_secret in the body; checked there.
        Some(shared.keys.workos_api_key.clone())
    } else {
        bearer(request.headers()).filter(|key| *key == shared.keys.workos_api_key)
    };
    let Some(key) = key else {
        return respond::message(StatusCode::UNAUTHORIZED, "Unauthorized");
    };
    let is_write = request.method() != Method::GET && request.method() != Method::HEAD;
    let mut buckets = vec![Bucket::WorkosPerKey];
    if path.starts_with("/user_management/") && !is_authenticate {
        buckets.push(if is_write {
            Bucket::WorkosWrites
        } else {
            Bucket::WorkosReads
        });
    }
    if request.method() == Method::DELETE && path.starts_with("/organizations/") {
        buckets.push(Bucket::OrganizationDeletes);
    }
    for bucket in buckets {
        if let Err(retry) = shared.check_limit(bucket, &key) {
            return respond::too_many_requests(retry.header_seconds());
        }
    }
    next.run(request).await
}
