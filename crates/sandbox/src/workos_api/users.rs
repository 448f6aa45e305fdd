//! `/user_management/users`: create, read, list, update, delete.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::respond::Reply;
use super::respond::{failure, list_query, ok, parse};
use crate::query::QueryParams;
use crate::shared::Shared;
use ferry_wire::workos::model::{CreateUser, UpdateUser};

pub(super) async fn create_user(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateUser = parse(&body)?;
    let mut user = shared.workos().create_user(request).map_err(failure)?;
    if shared.faults.config().one_user_answer
        && let Some(oldest) = shared.workos().oldest_user()
    {
        user = oldest;
    }
    ok(StatusCode::CREATED, &user)
}

/// `GET /user_management/users/{id}/identities`: the user's SSO and OAuth
/// identities; users made through the API have none.
pub(super) async fn list_identities(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared.workos().user(&id).map_err(failure)?;
    ok(StatusCode::OK, &serde_json::json!([]))
}

pub(super) async fn get_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Reply {
    let user = shared.workos().user(&id).map_err(failure)?;
    ok(StatusCode::OK, &user)
}

pub(super) async fn get_user_by_external_id(
    State(shared): State<Arc<Shared>>,
    Path(external_id): Path<String>,
) -> Reply {
    let user = shared
        .workos()
        .user_by_external_id(&external_id)
        .map_err(failure)?;
    ok(StatusCode::OK, &user)
}

pub(super) async fn list_users(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "user")?;
    let organization = params.get("organization_id").or(params.get("organization"));
    let list = shared
        .workos()
        .list_users(&query, params.get("email"), organization);
    ok(StatusCode::OK, &list)
}

pub(super) async fn update_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateUser = parse(&body)?;
    let user = shared.workos().update_user(&id, request).map_err(failure)?;
    ok(StatusCode::OK, &user)
}

pub(super) async fn delete_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared.workos().delete_user(&id).map_err(failure)?;
    // The spec documents 200 (no body) for a DELETE.
    Ok(StatusCode::OK.into_response())
}
