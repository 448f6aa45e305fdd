//! `/organizations`: create, read by id or external_id, list, update, delete.

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
use ferry_wire::workos::model::{CreateOrganization, UpdateOrganization};

pub(super) async fn create_organization(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateOrganization = parse(&body)?;
    let organization = shared
        .workos()
        .create_organization(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &organization)
}

pub(super) async fn get_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let organization = shared.workos().organization(&id).map_err(failure)?;
    ok(StatusCode::OK, &organization)
}

pub(super) async fn get_organization_by_external_id(
    State(shared): State<Arc<Shared>>,
    Path(external_id): Path<String>,
) -> Reply {
    let organization = shared
        .workos()
        .organization_by_external_id(&external_id)
        .map_err(failure)?;
    ok(StatusCode::OK, &organization)
}

pub(super) async fn list_organizations(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "org")?;
    let domains = params.all("domains");
    let list = shared
        .workos()
        .list_organizations(&query, params.get("search"), &domains);
    ok(StatusCode::OK, &list)
}

pub(super) async fn update_organization(
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

pub(super) async fn delete_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared.workos().delete_organization(&id).map_err(failure)?;
    // The spec documents 200 (no body) for a DELETE.
    Ok(StatusCode::OK.into_response())
}
