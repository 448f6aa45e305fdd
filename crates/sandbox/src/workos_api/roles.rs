//! `/authorization/roles` (environment roles and their permissions),
//! `/authorization/organizations/{id}/roles`, and `/authorization/permissions`.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::respond::Reply;
use super::respond::{failure, list_query, ok, parse};
use crate::query::QueryParams;
use crate::shared::Shared;
use ferry_wire::workos::model::{CreatePermission, CreateRole, SetRolePermissions};

pub(super) async fn list_roles(State(shared): State<Arc<Shared>>) -> Reply {
    ok(StatusCode::OK, &shared.workos().list_roles())
}

pub(super) async fn create_role(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateRole = parse(&body)?;
    let role = shared.workos().create_role(request).map_err(failure)?;
    ok(StatusCode::CREATED, &role)
}

pub(super) async fn get_role(State(shared): State<Arc<Shared>>, Path(slug): Path<String>) -> Reply {
    let role = shared.workos().role(&slug).map_err(failure)?;
    ok(StatusCode::OK, &role)
}

/// `PATCH` body: a description may be set to `null`.
#[derive(Deserialize)]
struct UpdateRole {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub(super) async fn update_role(
    State(shared): State<Arc<Shared>>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateRole = parse(&body)?;
    let role = shared
        .workos()
        .update_role(&slug, request.name, request.description)
        .map_err(failure)?;
    ok(StatusCode::OK, &role)
}

pub(super) async fn set_role_permissions(
    State(shared): State<Arc<Shared>>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Reply {
    let request: SetRolePermissions = parse(&body)?;
    let role = shared
        .workos()
        .set_role_permissions(&slug, request.permissions)
        .map_err(failure)?;
    ok(StatusCode::OK, &role)
}

pub(super) async fn list_organization_roles(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let roles = shared.workos().organization_roles(&id).map_err(failure)?;
    ok(StatusCode::OK, &roles)
}

pub(super) async fn create_organization_role(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: CreateRole = parse(&body)?;
    let role = shared
        .workos()
        .create_organization_role(&id, request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &role)
}

pub(super) async fn list_permissions(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "perm")?;
    ok(StatusCode::OK, &shared.workos().list_permissions(&query))
}

pub(super) async fn create_permission(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreatePermission = parse(&body)?;
    let permission = shared
        .workos()
        .create_permission(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &permission)
}
