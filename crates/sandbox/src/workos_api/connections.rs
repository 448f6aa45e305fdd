//! `/connections` (create, list, read, update, delete, the IdP signing
//! certificates) and `/portal/generate_link`, per the official `workos`
//! crate's models for the routes newer than the spec copy.

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
use ferry_wire::workos::sso::{CreateConnection, GeneratePortalLink, UpdateConnection};

pub(super) async fn create_connection(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateConnection = parse(&body)?;
    let (created, connection) = shared
        .workos()
        .create_connection(request)
        .map_err(failure)?;
    // The external_id rule answers with the connection that was already there.
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    ok(status, &connection)
}

pub(super) async fn list_connections(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "conn")?;
    let list = shared.workos().list_connections(
        &query,
        params.get("organization_id"),
        params.get("connection_type"),
        params.get("domain"),
    );
    ok(StatusCode::OK, &list)
}

pub(super) async fn get_connection(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let connection = shared.workos().connection(&id).map_err(failure)?;
    ok(StatusCode::OK, &connection)
}

pub(super) async fn update_connection(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateConnection = parse(&body)?;
    let connection = shared
        .workos()
        .update_connection(&id, request)
        .map_err(failure)?;
    ok(StatusCode::OK, &connection)
}

pub(super) async fn delete_connection(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared.workos().delete_connection(&id).map_err(failure)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn list_signing_certificates(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let list = shared.workos().signing_certificates(&id).map_err(failure)?;
    ok(StatusCode::OK, &list)
}

pub(super) async fn generate_portal_link(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: GeneratePortalLink = parse(&body)?;
    let link = shared
        .workos()
        .generate_portal_link(&request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &serde_json::json!({ "link": link }))
}
