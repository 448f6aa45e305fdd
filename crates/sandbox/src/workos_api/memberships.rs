//! `/user_management/organization_memberships`: create, read, list by user
//! or organization, change the role, delete.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::respond::Reply;
use super::respond::code;
use super::respond::{failure, list_query, ok, parse};
use crate::query::QueryParams;
use crate::shared::Shared;
use ferry_wire::workos::model::CreateOrganizationMembership;

pub(super) async fn create_membership(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateOrganizationMembership = parse(&body)?;
    let membership = shared
        .workos()
        .create_membership(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &membership)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateMembership {
    #[serde(default)]
    role_slug: Option<String>,
}

pub(super) async fn update_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateMembership = parse(&body)?;
    let membership = shared
        .workos()
        .update_membership(&id, request.role_slug)
        .map_err(failure)?;
    ok(StatusCode::OK, &membership)
}

pub(super) async fn deactivate_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let membership = shared
        .workos()
        .set_membership_active(&id, false)
        .map_err(failure)?;
    ok(StatusCode::OK, &membership)
}

pub(super) async fn reactivate_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let membership = shared
        .workos()
        .set_membership_active(&id, true)
        .map_err(failure)?;
    ok(StatusCode::OK, &membership)
}

pub(super) async fn get_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let membership = shared.workos().membership(&id).map_err(failure)?;
    ok(StatusCode::OK, &membership)
}

pub(super) async fn list_memberships(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "om")?;
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

pub(super) async fn delete_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared.workos().delete_membership(&id).map_err(failure)?;
    // The spec documents 200 (no body) for a DELETE.
    Ok(StatusCode::OK.into_response())
}
