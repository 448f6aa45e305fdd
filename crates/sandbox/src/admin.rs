//! Admin routes under `/__sandbox/` on the WorkOS server (no key needed,
//! never faulted, never counted): read and replace the fault config and the
//! rate limits at run time, read and reset the request counts, dump or empty
//! the WorkOS state, read the emails WorkOS would have sent (`emails`), read
//! the ground truth of a generated tenant (as it was generated), simulate an
//! SSO sign-in (`sso/sign_in`), and change the Clerk tenant while it runs
//! (`clerk_admin`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Serialize;

use super::clerk_admin;
use super::faults::FaultConfig;
use super::limits::{Limiters, RateLimits};
use crate::shared::{ADMIN_PREFIX, Shared};

/// The largest tenant `PUT /__sandbox/clerk/tenant` takes: a real
/// tenant's export as JSON (a million users is a few GB), where every
/// other route keeps axum's 2 MB.
const MAX_TENANT_BODY: usize = 4 << 30;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(&format!("{ADMIN_PREFIX}info"), get(info))
        .route(
            &format!("{ADMIN_PREFIX}faults"),
            get(get_faults).put(set_faults),
        )
        .route(
            &format!("{ADMIN_PREFIX}limits"),
            get(get_limits).put(set_limits),
        )
        .route(&format!("{ADMIN_PREFIX}requests"), get(requests))
        .route(
            &format!("{ADMIN_PREFIX}requests/reset"),
            post(reset_requests),
        )
        .route(&format!("{ADMIN_PREFIX}state"), get(state))
        .route(&format!("{ADMIN_PREFIX}state/reset"), post(reset_state))
        .route(&format!("{ADMIN_PREFIX}truth"), get(truth))
        .route(&format!("{ADMIN_PREFIX}sso/sign_in"), post(sso_sign_in))
        .route(
            &format!("{ADMIN_PREFIX}clerk/tenant"),
            get(clerk_admin::get_tenant)
                .put(clerk_admin::put_tenant)
                .layer(DefaultBodyLimit::max(MAX_TENANT_BODY)),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/users"),
            post(clerk_admin::create_user),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/users/{{id}}"),
            patch(clerk_admin::update_user).delete(clerk_admin::delete_user),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/organizations"),
            post(clerk_admin::create_organization),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/organizations/{{id}}"),
            patch(clerk_admin::update_organization).delete(clerk_admin::delete_organization),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/memberships"),
            post(clerk_admin::create_membership),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/memberships/{{id}}"),
            patch(clerk_admin::update_membership).delete(clerk_admin::delete_membership),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/organization_invitations"),
            post(clerk_admin::create_organization_invitation),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/organization_invitations/{{id}}/revoke"),
            post(clerk_admin::revoke_organization_invitation),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/organization_invitations/{{id}}/accept"),
            post(clerk_admin::accept_organization_invitation),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/invitations"),
            post(clerk_admin::create_invitation),
        )
        .route(
            &format!("{ADMIN_PREFIX}clerk/invitations/{{id}}/revoke"),
            post(clerk_admin::revoke_invitation),
        )
        .route(&format!("{ADMIN_PREFIX}emails"), get(emails))
        .with_state(shared)
}

fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

fn unprocessable(message: String) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(serde_json::json!({ "message": message })),
    )
        .into_response()
}

async fn info(State(shared): State<Arc<Shared>>) -> Response {
    json(&shared.info())
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Response {
    json(&shared.faults.config())
}

async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let config: FaultConfig = match serde_json::from_slice(&body) {
        Ok(config) => config,
        Err(error) => return unprocessable(error.to_string()),
    };
    if let Err(message) = config.validate() {
        return unprocessable(message);
    }
    shared.set_faults(config.clone());
    json(&config)
}

async fn get_limits(State(shared): State<Arc<Shared>>) -> Response {
    json(shared.limiters().limits())
}

async fn set_limits(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let limits: RateLimits = match serde_json::from_slice(&body) {
        Ok(limits) => limits,
        Err(error) => return unprocessable(error.to_string()),
    };
    shared.replace_limiters(Limiters::new(limits.clone()));
    json(&limits)
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    json(&shared.log.snapshot())
}

async fn reset_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.log.reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    json(&shared.workos().dump())
}

async fn reset_state(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset_workos();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /__sandbox/emails`: `{data: [...]}`, every email the WorkOS side
/// would have sent since the state was last reset, oldest first.
async fn emails(State(shared): State<Arc<Shared>>) -> Response {
    json(&serde_json::json!({ "data": shared.workos().sent_emails() }))
}

async fn truth(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.truth {
        Some(truth) => json(truth),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "message": "this tenant was loaded, not generated" })),
        )
            .into_response(),
    }
}

/// `POST /__sandbox/sso/sign_in {connection_id, email}`: what an SSO
/// sign-in for `email` through the connection would find (linked to an
/// existing user, a new user, or refused), without signing anyone in.
async fn sso_sign_in(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Request {
        connection_id: String,
        email: String,
    }
    let request: Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return unprocessable(error.to_string()),
    };
    match shared
        .workos()
        .simulate_sso_sign_in(&request.connection_id, &request.email)
    {
        Ok(outcome) => json(&outcome),
        Err(failure) => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "message": format!("{failure:?}") })),
        )
            .into_response(),
    }
}
