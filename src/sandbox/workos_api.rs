//! The WorkOS API imitation: User Management users, password authentication
//! (bcrypt/argon2 digests, MFA and organization-selection continuations),
//! TOTP factors and challenges, organizations and memberships. Bodies are
//! parsed by hand so malformed ones get WorkOS's 422
//! `invalid_request_parameters`, not the framework's text. Rate limits are
//! the documented buckets, keyed by API key (and by email for authenticate).

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Shared;
use super::clerk_api::bearer;
use super::limits::Bucket;
use super::query::QueryParams;
use super::state::{Failure, ListQuery};
use crate::workos::model::{
    AuthenticateResponse, CodeError, CreateOrganization, CreateOrganizationMembership, CreateUser,
    EnrollAuthFactor, EnrollAuthFactorResponse, FieldError, MessageError, OAuthError,
    UpdateOrganization, UpdateUser, User, VerifyChallengeResponse,
};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/user_management/users", get(list_users).post(create_user))
        .route(
            "/user_management/users/external_id/{external_id}",
            get(get_user_by_external_id),
        )
        .route(
            "/user_management/users/{id}",
            get(get_user).put(update_user).delete(delete_user),
        )
        .route(
            "/user_management/users/{id}/auth_factors",
            get(list_factors).post(enroll_factor),
        )
        .route("/user_management/authenticate", post(authenticate))
        .route(
            "/user_management/organization_memberships",
            get(list_memberships).post(create_membership),
        )
        .route(
            "/user_management/organization_memberships/{id}",
            get(get_membership).delete(delete_membership),
        )
        .route(
            "/organizations",
            get(list_organizations).post(create_organization),
        )
        .route(
            "/organizations/external_id/{external_id}",
            get(get_organization_by_external_id),
        )
        .route(
            "/organizations/{id}",
            get(get_organization)
                .put(update_organization)
                .delete(delete_organization),
        )
        .route("/auth/factors/{id}", get(get_factor))
        .route("/auth/factors/{id}/challenge", post(challenge_factor))
        .route("/auth/challenges/{id}/verify", post(verify_challenge))
        .fallback(|| async { message(StatusCode::NOT_FOUND, "Not Found") })
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        .with_state(shared)
}

/// Both sides are finished answers, built once per request; boxing the
/// error side would buy nothing.
type Reply = Result<Response, Response>;

// ---- bodies ---------------------------------------------------------------

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        axum::Json(MessageError {
            message: text.to_owned(),
        }),
    )
        .into_response()
}

fn code(status: StatusCode, code: &str, text: &str) -> Response {
    let body = CodeError {
        code: code.to_owned(),
        message: text.to_owned(),
        errors: None,
    };
    (status, axum::Json(body)).into_response()
}

fn invalid_request(text: &str) -> Response {
    code(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request_parameters",
        text,
    )
}

fn oauth(status: StatusCode, error: &str, description: &str) -> Response {
    let body = OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    };
    (status, axum::Json(body)).into_response()
}

/// 429 with `Retry-After`, `{code, message}`.
pub fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut response = code(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "Too many requests. Retry after the time in Retry-After.",
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A 5xx answer the fault injector sends.
pub fn server_error(status: StatusCode) -> Response {
    message(status, status.canonical_reason().unwrap_or("Server Error"))
}

fn failure(failure: Failure) -> Response {
    match failure {
        Failure::NotFound(text) => message(StatusCode::NOT_FOUND, &text),
        Failure::Conflict {
            code: c,
            message: m,
        } => code(StatusCode::CONFLICT, c, &m),
        Failure::BadRequest {
            code: c,
            message: m,
        } => code(StatusCode::BAD_REQUEST, c, &m),
        Failure::InvalidRequest(text) => invalid_request(&text),
        Failure::UserCreation {
            code: c,
            message: m,
        } => {
            let body = CodeError {
                code: "user_creation_error".into(),
                message: "Could not create user.".into(),
                errors: Some(vec![FieldError {
                    code: c.to_owned(),
                    message: m,
                    field: None,
                }]),
            };
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        }
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // Name the field, never its value: serde's "invalid type: string
        // \"hunter2\"" would put a password or digest in the answer.
        let path = error.path().to_string();
        let inner = error.into_inner();
        let reason = inner.to_string();
        let message = match inner.classify() {
            serde_json::error::Category::Data if reason.starts_with("missing field") => reason
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_owned(),
            serde_json::error::Category::Data => format!("{path} has an invalid type or value"),
            _ => "the body is not valid JSON".to_owned(),
        };
        invalid_request(&message)
    })
}

fn ok<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    Ok((status, axum::Json(value)).into_response())
}

fn list_query(params: &QueryParams, max: u64) -> Result<ListQuery, Response> {
    let limit = params
        .integer("limit", 10, 1..=max)
        .map_err(|name| invalid_request(&format!("{name} must be between 1 and {max}")))?;
    let descending = match params.get("order").unwrap_or("desc") {
        "desc" | "normal" => true,
        "asc" => false,
        _ => return Err(invalid_request("order must be one of asc, desc, normal")),
    };
    Ok(ListQuery {
        limit: limit as usize,
        before: params
            .get("before")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        after: params
            .get("after")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        descending,
    })
}

// ---- authorization and limits ---------------------------------------------

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
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
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
            return too_many_requests(retry.header_seconds());
        }
    }
    next.run(request).await
}

// ---- users ----------------------------------------------------------------

async fn create_user(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateUser = parse(&body)?;
    let user = shared.workos().create_user(request).map_err(failure)?;
    ok(StatusCode::CREATED, &user)
}

async fn get_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let user = shared.workos().user(&id).map_err(failure)?;
    ok(StatusCode::OK, &user)
}

async fn get_user_by_external_id(
    State(shared): State<Arc<Shared>>,
    Path(external_id): Path<String>,
) -> Reply {
    let user = shared
        .workos()
        .user_by_external_id(&external_id)
        .map_err(failure)?;
    ok(StatusCode::OK, &user)
}

async fn list_users(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100)?;
    let organization = params.get("organization_id").or(params.get("organization"));
    let list = shared
        .workos()
        .list_users(&query, params.get("email"), organization);
    ok(StatusCode::OK, &list)
}

async fn update_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateUser = parse(&body)?;
    let user = shared.workos().update_user(&id, request).map_err(failure)?;
    ok(StatusCode::OK, &user)
}

async fn delete_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    shared.workos().delete_user(&id).map_err(failure)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- MFA ------------------------------------------------------------------

async fn enroll_factor(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: EnrollAuthFactor = parse(&body)?;
    let (authentication_factor, authentication_challenge) = shared
        .workos()
        .enroll_factor(&id, request)
        .map_err(failure)?;
    ok(
        StatusCode::CREATED,
        &EnrollAuthFactorResponse {
            authentication_factor,
            authentication_challenge,
        },
    )
}

async fn list_factors(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100)?;
    let list = shared.workos().factors_of(&id, &query).map_err(failure)?;
    ok(StatusCode::OK, &list)
}

async fn get_factor(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let factor = shared.workos().factor(&id).map_err(failure)?;
    ok(StatusCode::OK, &factor)
}

async fn challenge_factor(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    // The body (sms_template) matters only for SMS factors.
    if !body.is_empty() {
        parse::<Value>(&body)?;
    }
    let challenge = shared.workos().challenge(&id).map_err(failure)?;
    ok(StatusCode::CREATED, &challenge)
}

#[derive(serde::Deserialize)]
struct VerifyBody {
    code: String,
}

async fn verify_challenge(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: VerifyBody = parse(&body)?;
    let (challenge, valid) = shared
        .workos()
        .verify_challenge(&id, &request.code)
        .map_err(failure)?;
    ok(
        StatusCode::CREATED,
        &VerifyChallengeResponse { challenge, valid },
    )
}

// ---- authentication ------------------------------------------------------

#[derive(serde::Deserialize)]
struct AuthenticateBody {
    grant_type: String,
    client_id: Option<String>,
    client_secret: Option<crate::secret::Secret>,
    email: Option<String>,
    password: Option<crate::secret::Secret>,
    pending_authentication_token: Option<String>,
    authentication_challenge_id: Option<String>,
    code: Option<String>,
    organization_id: Option<String>,
}

const GRANT_PASSWORD: &str = "password";
const GRANT_TOTP: &str = "urn:workos:oauth:grant-type:mfa-totp";
const GRANT_ORGANIZATION: &str = "urn:workos:oauth:grant-type:organization-selection";

async fn authenticate(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
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
    if !secret_ok {
        return Err(oauth(
            StatusCode::UNAUTHORIZED,
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
        return Err(too_many_requests(retry.header_seconds()));
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
        return Err(continuation(json!({
            "code": "email_verification_required",
            "message": "Email ownership must be verified before authentication.",
            "pending_authentication_token": token,
            "email": user.email,
            "email_verification_id": format!("email_verification_{}", user.id),
        })));
    }
    let factors = state.totp_factors_of(&user.id);
    if !factors.is_empty() {
        let token = state.start_pending(&user.id, false);
        let factors: Vec<Value> = factors
            .iter()
            .map(|f| json!({ "id": f.id, "type": f.kind }))
            .collect();
        return Err(continuation(json!({
            "code": "mfa_challenge",
            "message": "The user must complete an MFA challenge to finish authenticating.",
            "pending_authentication_token": token,
            "user": user,
            "authentication_factors": factors,
        })));
    }
    finish(&mut state, &user.id, None)
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
    let Some(pending) = state.take_pending(&token) else {
        return Err(code(
            StatusCode::BAD_REQUEST,
            "invalid_pending_authentication_token",
            "The pending authentication token is invalid or expired.",
        ));
    };
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
    let Some(pending) = state.take_pending(&token) else {
        return Err(code(
            StatusCode::BAD_REQUEST,
            "invalid_pending_authentication_token",
            "The pending authentication token is invalid or expired.",
        ));
    };
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
fn finish(
    state: &mut super::state::WorkosState,
    user_id: &str,
    chosen_organization: Option<String>,
) -> Reply {
    let organizations = state.active_organizations_of(user_id);
    let organization_id = match chosen_organization {
        Some(chosen) => Some(chosen),
        None if organizations.len() > 1 => {
            let user = state.user(user_id).map_err(failure)?;
            let token = state.start_pending(user_id, true);
            let choices: Vec<Value> = organizations
                .iter()
                .map(|(id, name)| json!({ "id": id, "name": name }))
                .collect();
            return Err(continuation(json!({
                "code": "organization_selection_required",
                "message": "The user must choose an organization to finish authenticating.",
                "pending_authentication_token": token,
                "user": user,
                "organizations": choices,
            })));
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

fn continuation(body: Value) -> Response {
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
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

// ---- organizations ----------------------------------------------------------

async fn create_organization(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateOrganization = parse(&body)?;
    let organization = shared
        .workos()
        .create_organization(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &organization)
}

async fn get_organization(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let organization = shared.workos().organization(&id).map_err(failure)?;
    ok(StatusCode::OK, &organization)
}

async fn get_organization_by_external_id(
    State(shared): State<Arc<Shared>>,
    Path(external_id): Path<String>,
) -> Reply {
    let organization = shared
        .workos()
        .organization_by_external_id(&external_id)
        .map_err(failure)?;
    ok(StatusCode::OK, &organization)
}

async fn list_organizations(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100)?;
    let domains = params.all("domains");
    let list = shared
        .workos()
        .list_organizations(&query, params.get("search"), &domains);
    ok(StatusCode::OK, &list)
}

async fn update_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateOrganization = parse(&body)?;
    let organization = shared
        .workos()
        .update_organization(&id, request)
        .map_err(failure)?;
    ok(StatusCode::OK, &organization)
}

async fn delete_organization(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    shared.workos().delete_organization(&id).map_err(failure)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- memberships ----------------------------------------------------------

async fn create_membership(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateOrganizationMembership = parse(&body)?;
    let membership = shared
        .workos()
        .create_membership(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &membership)
}

async fn get_membership(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let membership = shared.workos().membership(&id).map_err(failure)?;
    ok(StatusCode::OK, &membership)
}

async fn list_memberships(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100)?;
    let user_id = params.get("user_id");
    let organization_id = params.get("organization_id");
    if user_id.is_none() && organization_id.is_none() {
        return Err(code(
            StatusCode::BAD_REQUEST,
            "invalid_request_parameters",
            "Either user_id or organization_id is required.",
        ));
    }
    let statuses: Vec<String> = params
        .all("statuses")
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::to_owned)
        .collect();
    let list = shared
        .workos()
        .list_memberships(&query, user_id, organization_id, &statuses);
    ok(StatusCode::OK, &list)
}

async fn delete_membership(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    shared.workos().delete_membership(&id).map_err(failure)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
