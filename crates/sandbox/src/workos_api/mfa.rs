//! TOTP factors (`/user_management/users/{id}/auth_factors`) and the
//! challenge/verify routes under `/auth/`.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use super::respond::Reply;
use super::respond::{failure, list_query, ok, parse};
use crate::query::QueryParams;
use crate::shared::Shared;
use ferry_wire::workos::model::{
    EnrollAuthFactor, EnrollAuthFactorResponse, VerifyChallengeResponse,
};
use serde_json::Value;

pub(super) async fn enroll_factor(
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

pub(super) async fn list_factors(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "auth_factor")?;
    let list = shared.workos().factors_of(&id, &query).map_err(failure)?;
    ok(StatusCode::OK, &list)
}

pub(super) async fn get_factor(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let factor = shared.workos().factor(&id).map_err(failure)?;
    ok(StatusCode::OK, &factor)
}

pub(super) async fn delete_factor(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared.workos().delete_factor(&id).map_err(failure)?;
    // The spec documents 200 or 204; 200, like every other DELETE here.
    Ok(axum::response::IntoResponse::into_response(StatusCode::OK))
}

pub(super) async fn challenge_factor(
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

pub(super) async fn verify_challenge(
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
