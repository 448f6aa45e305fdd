//! `/user_management/invitations`: send, list, read by id or by token,
//! revoke, resend, accept, as the spec's `UserlandUserInvitesController`
//! has them. Creating one and resending one are the calls that email the
//! invitee: the state records each instead of sending it.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;

use super::respond::Reply;
use super::respond::{failure, list_query, ok, parse};
use crate::query::QueryParams;
use crate::shared::Shared;
use ferry_wire::workos::invitation::CreateInvitation;

pub(super) async fn create_invitation(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let request: CreateInvitation = parse(&body)?;
    let invitation = shared
        .workos()
        .create_invitation(request)
        .map_err(failure)?;
    ok(StatusCode::CREATED, &invitation)
}

pub(super) async fn list_invitations(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Reply {
    let params = QueryParams::parse(raw.as_deref());
    let query = list_query(&params, 100, "invitation")?;
    let list = shared.workos().list_invitations(
        &query,
        params.get("organization_id"),
        params.get("email"),
    );
    ok(StatusCode::OK, &list)
}

pub(super) async fn get_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let invitation = shared.workos().invitation(&id).map_err(failure)?;
    ok(StatusCode::OK, &invitation)
}

pub(super) async fn get_invitation_by_token(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
) -> Reply {
    let invitation = shared
        .workos()
        .invitation_by_token(&token)
        .map_err(failure)?;
    ok(StatusCode::OK, &invitation)
}

/// Revoke and accept take no body; the SDKs send none, `null` or `{}`.
pub(super) async fn revoke_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let invitation = shared.workos().revoke_invitation(&id).map_err(failure)?;
    ok(StatusCode::OK, &invitation)
}

pub(super) async fn accept_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Reply {
    let invitation = shared.workos().accept_invitation(&id).map_err(failure)?;
    ok(StatusCode::OK, &invitation)
}

/// `ResendUserlandUserInviteOptionsDto`: only a `locale`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResendInvitation {
    #[serde(default)]
    locale: Option<String>,
}

/// The body is optional in practice: the Node SDK 7.x sends none, 12.x `{}`.
pub(super) async fn resend_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let empty = body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null";
    let request: Option<ResendInvitation> = if empty { None } else { Some(parse(&body)?) };
    let locale = request.and_then(|r| r.locale);
    let invitation = shared
        .workos()
        .resend_invitation(&id, locale.as_deref())
        .map_err(failure)?;
    ok(StatusCode::OK, &invitation)
}
