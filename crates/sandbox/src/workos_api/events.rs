//! `/events` (the environment's writes as events, with the spec's type,
//! date-range and organization filters and cursors) and
//! `/webhook_endpoints` (list, create, update, delete).

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;

use super::respond::Reply;
use super::respond::{failure, list_query, ok, parse};
use crate::query::QueryParams;
use crate::shared::Shared;
use crate::state::EventQuery;
use ferry_wire::workos::events::{CreateWebhookEndpoint, UpdateWebhookEndpoint, WebhookEndpoint};

pub(super) async fn list_events(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let page = list_query(&params, 100, "event")?;
    // `events=a,b` (the spec's form style, not exploded) or repeated keys.
    let mut events: Vec<String> = params
        .all("events")
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|kind| !kind.is_empty())
        .map(str::to_owned)
        .collect();
    if shared.faults.config().events_unfiltered {
        events = crate::state::EVENT_TYPES
            .iter()
            .map(|kind| (*kind).to_owned())
            .collect();
    }
    let query = EventQuery {
        page,
        events,
        range_start: params.get("range_start").map(str::to_owned),
        range_end: params.get("range_end").map(str::to_owned),
        organization_id: params.get("organization_id").map(str::to_owned),
    };
    let list = shared.workos().list_events(&query).map_err(failure)?;
    ok(StatusCode::OK, &list)
}

/// The endpoint as the API shows it: with its signing secret (which
/// [`ferry_wire::secret::Secret`] would mask).
fn served(endpoint: &WebhookEndpoint) -> Value {
    let mut value = serde_json::to_value(endpoint).unwrap_or_default();
    value["secret"] = endpoint.secret.expose().into();
    value
}

pub(super) async fn list_webhook_endpoints(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "we")?;
    let list = shared.workos().list_webhook_endpoints(&query);
    let data: Vec<Value> = list.data.iter().map(served).collect();
    ok(
        StatusCode::OK,
        &serde_json::json!({ "object": "list", "data": data, "list_metadata": list.list_metadata }),
    )
}

pub(super) async fn create_webhook_endpoint(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Reply {
    let request: CreateWebhookEndpoint = parse(&body)?;
    let endpoint = shared
        .workos()
        .create_webhook_endpoint(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &served(&endpoint))
}

pub(super) async fn update_webhook_endpoint(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let request: UpdateWebhookEndpoint = parse(&body)?;
    let endpoint = shared
        .workos()
        .update_webhook_endpoint(&id, request)
        .map_err(failure)?;
    ok(StatusCode::OK, &served(&endpoint))
}

pub(super) async fn delete_webhook_endpoint(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    shared
        .workos()
        .delete_webhook_endpoint(&id)
        .map_err(failure)?;
    // This route's spec answers 204, unlike the user-management DELETEs.
    Ok(StatusCode::NO_CONTENT.into_response())
}
