//! `POST /user_management/authenticate`: the password, MFA-TOTP and
//! organization-selection grants, with WorkOS's continuations (email
//! verification, MFA challenge, organization selection) and the per-email
//! rate limit.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::respond::Reply;
use super::respond::{code, failure, invalid_request, oauth, ok, parse, too_many_sign_ins};
use crate::limits::Bucket;
use crate::shared::Shared;
use crate::state::{PendingAuthentication, WorkosState};
use ferry_wire::workos::model::{
    AuthenticateResponse, AuthenticationContinuation, FactorReference, OrganizationChoice, User,
};

#[derive(serde::Deserialize)]
struct AuthenticateBody {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<ferry_wire::secret::Secret>,
    email: Option<String>,
    password: Option<ferry_wire::secret::Secret>,
    pending_authentication_token: Option<String>,
    authentication_challenge_id: Option<String>,
    code: Option<String>,
    organization_id: Option<String>,
}

const GRANT_PASSWORD: &str = "password";
const GRANT_TOTP: &str = "urn:workos:oauth:grant-type:mfa-totp";
const GRANT_ORGANIZATION: &str = "urn:workos:oauth:grant-type:organization-selection";

pub(super) async fn authenticate(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: AuthenticateBody = parse(&body)?;
    if request.client_id.as_deref() != Some(shared.keys.workos_client_id.as_str()) {
        return Err(oauth(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Invalid client ID.",
        ));
    }
    let secret_ok = request
        .client_secret
        .as_ref()
        .is_some_and(|secret| secret.expose() == shared.keys.workos_api_key);
    // The spec has no 401 here: a wrong secret is 400 `invalid_client`.
    if !secret_ok {
        return Err(oauth(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "Invalid client secret.",
        ));
    }
    match request.grant_type.as_str() {
        GRANT_PASSWORD => password_grant(&shared, request),
        GRANT_TOTP => totp_grant(&shared, request),
        GRANT_ORGANIZATION => organization_grant(&shared, request),
        _ => Err(oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The sandbox supports the password, mfa-totp and organization-selection grants.",
        )),
    }
}

fn password_grant(shared: &Shared, request: AuthenticateBody) -> Reply {
    let (Some(email), Some(password)) = (request.email, request.password) else {
        return Err(invalid_request("email and password are required"));
    };
    if let Err(retry) = shared.check_limit(Bucket::Authenticate, &email.to_lowercase()) {
        return Err(too_many_sign_ins(retry.header_seconds()));
    }
    let mut state = shared.workos();
    let Some(user) = state.check_password(&email, password.expose()) else {
        return Err(code(
            StatusCode::BAD_REQUEST,
            "invalid_credentials",
            "Invalid credentials.",
        ));
    };
    if !user.email_verified {
        let token = state.start_pending(&user.id, false);
        return Err(continuation(AuthenticationContinuation {
            email: Some(user.email.clone()),
            email_verification_id: Some(format!("email_verification_{}", user.id)),
            ..pending(
                "email_verification_required",
                "Email ownership must be verified before authentication.",
                token,
                None,
            )
        }));
    }
    let factors = state.totp_factors_of(&user.id);
    if !factors.is_empty() {
        let token = state.start_pending(&user.id, false);
        return Err(continuation(AuthenticationContinuation {
            authentication_factors: factors
                .iter()
                .map(|f| FactorReference {
                    id: f.id.clone(),
                    kind: f.kind.clone(),
                })
                .collect(),
            ..pending(
                "mfa_challenge",
                "The user must complete an MFA challenge to finish authenticating.",
                token,
                Some(user),
            )
        }));
    }
    finish(&mut state, &user.id, None)
}

/// The continuation a pending-authentication token stands for, taken (a
/// token is good for one completed step).
fn take_pending(state: &mut WorkosState, token: &str) -> Result<PendingAuthentication, Response> {
    state.take_pending(token).ok_or_else(|| {
        code(
            StatusCode::BAD_REQUEST,
            "invalid_pending_authentication_token",
            "The pending authentication token is invalid or expired.",
        )
    })
}

fn totp_grant(shared: &Shared, request: AuthenticateBody) -> Reply {
    let (Some(token), Some(challenge_id), Some(code_text)) = (
        request.pending_authentication_token,
        request.authentication_challenge_id,
        request.code,
    ) else {
        return Err(invalid_request(
            "pending_authentication_token, authentication_challenge_id and code are required",
        ));
    };
    let mut state = shared.workos();
    let pending = take_pending(&mut state, &token)?;
    if state.challenge_user(&challenge_id).as_deref() != Some(pending.user_id.as_str()) {
        state.restore_pending(&token, pending);
        return Err(code(
            StatusCode::BAD_REQUEST,
            "user_mismatch",
            "The challenge belongs to another user.",
        ));
    }
    let (_, valid) = state
        .verify_challenge(&challenge_id, &code_text)
        .map_err(failure)?;
    if !valid {
        // The token stays usable for another attempt.
        state.restore_pending(&token, pending);
        return Err(code(
            StatusCode::BAD_REQUEST,
            "invalid_one_time_code",
            "Invalid one-time code.",
        ));
    }
    finish(&mut state, &pending.user_id, None)
}

fn organization_grant(shared: &Shared, request: AuthenticateBody) -> Reply {
    let (Some(token), Some(organization_id)) = (
        request.pending_authentication_token,
        request.organization_id,
    ) else {
        return Err(invalid_request(
            "pending_authentication_token and organization_id are required",
        ));
    };
    let mut state = shared.workos();
    let pending = take_pending(&mut state, &token)?;
    let member = state
        .active_organizations_of(&pending.user_id)
        .iter()
        .any(|(id, _)| *id == organization_id);
    if !member {
        return Err(oauth(
            StatusCode::BAD_REQUEST,
            "organization_membership_not_found",
            "The user is not a member of that organization.",
        ));
    }
    finish(&mut state, &pending.user_id, Some(organization_id))
}

/// Organization selection if needed, else a session.
fn finish(state: &mut WorkosState, user_id: &str, chosen_organization: Option<String>) -> Reply {
    let organizations = state.active_organizations_of(user_id);
    let organization_id = match chosen_organization {
        Some(chosen) => Some(chosen),
        None if organizations.len() > 1 => {
            let user = state.user(user_id).map_err(failure)?;
            let token = state.start_pending(user_id, true);
            return Err(continuation(AuthenticationContinuation {
                organizations: organizations
                    .iter()
                    .map(|(id, name)| OrganizationChoice {
                        id: id.clone(),
                        name: name.clone(),
                    })
                    .collect(),
                ..pending(
                    "organization_selection_required",
                    "The user must choose an organization to finish authenticating.",
                    token,
                    Some(user),
                )
            }));
        }
        None => organizations.first().map(|(id, _)| id.clone()),
    };
    let user = state.record_sign_in(user_id).map_err(failure)?;
    let response = AuthenticateResponse {
        access_token: access_token(&user, organization_id.as_deref()),
        refresh_token: format!("sandbox_refresh_{}", rand::random::<u64>()),
        user,
        organization_id,
        authentication_method: Some("Password".into()),
    };
    ok(StatusCode::OK, &response)
}

fn continuation(body: AuthenticationContinuation) -> Response {
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

/// A continuation with its token and nothing else yet.
fn pending(
    code: &str,
    message: &str,
    token: String,
    user: Option<User>,
) -> AuthenticationContinuation {
    AuthenticationContinuation {
        code: code.to_owned(),
        message: message.to_owned(),
        pending_authentication_token: Some(token),
        user,
        email: None,
        email_verification_id: None,
        authentication_factors: Vec::new(),
        organizations: Vec::new(),
    }
}

/// A JWT-shaped token (unsigned: the sandbox has no keys to publish).
fn access_token(user: &User, organization_id: Option<&str>) -> String {
    let encode =
        |value: &Value| data_encoding::BASE64URL_NOPAD.encode(value.to_string().as_bytes());
    let now = chrono::Utc::now().timestamp();
    let header = json!({ "alg": "none", "typ": "JWT" });
    let claims = json!({
        "iss": "ferry-sandbox",
        "sub": user.id,
        "sid": format!("session_{}", rand::random::<u32>()),
        "org_id": organization_id,
        "iat": now,
        "exp": now + 300,
    });
    format!("{}.{}.sandbox", encode(&header), encode(&claims))
}
