//! Clerk's invitation listings, served from the tenant: organization
//! invitations of the whole instance (`GET /v1/organization_invitations`,
//! each with its organization's public data), of one organization (all, or
//! the deprecated `…/pending`), and application invitations
//! (`GET /v1/invitations`, a bare array unless `paginated=true` asks for
//! Clerk's page envelope, as the official SDK does). Each carries the `url` whose
//! ticket accepts it, as Clerk sends it, so a test can show ferry never
//! keeps it; a pending invitation whose `expires_at` has passed is served
//! `expired`, as Clerk shows it.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::clerk_params::{
    Page, boolean, invalid_parameter, json as answer, matches_query, order, page, paginate,
    resource_not_found,
};
use crate::clerk_store::ClerkStore;
use crate::query::QueryParams;
use crate::shared::Shared;
use crate::tenant::public_user_data;
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};

/// What the spec's `status` filters take.
const STATUSES: [&str; 4] = ["pending", "accepted", "revoked", "expired"];

/// The status Clerk shows at `now_ms`: a pending invitation whose
/// `expires_at` has passed is `expired`, whatever it was stored as.
pub fn status_at(status: &str, expires_at: Option<i64>, now_ms: i64) -> &str {
    if status == "pending" && expires_at.is_some_and(|at| at <= now_ms) {
        "expired"
    } else {
        status
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The link Clerk sends an invitee: its ticket accepts the invitation for
/// whoever holds it. Derived from the id, so an invitation shows the same
/// link on every listing and a test can compute it and look for it in what
/// ferry writes.
pub fn ticket_url(invitation_id: &str) -> String {
    let digest = Sha256::digest(format!("ferry-sandbox-ticket:{invitation_id}").as_bytes());
    format!(
        "https://accounts.sandbox.test/sign-up?__clerk_ticket=sbx_{}",
        hex::encode(&digest[..24])
    )
}

/// A listing's page, order and `status` filter (repeatable; none filters nothing).
struct Selection {
    page: Page,
    field: String,
    ascending: bool,
    statuses: Vec<String>,
}

fn selection(params: &QueryParams, orders: &[&str]) -> Result<Selection, Response> {
    let page = page(params)?;
    let (field, ascending) = order(params, orders)?;
    let statuses = params.all("status");
    if statuses.iter().any(|s| !STATUSES.contains(&s.as_str())) {
        return Err(invalid_parameter("status"));
    }
    Ok(Selection {
        page,
        field,
        ascending,
        statuses,
    })
}

impl Selection {
    fn keeps(&self, status: &str) -> bool {
        self.statuses.is_empty() || self.statuses.iter().any(|s| s == status)
    }
}

/// The inviter as Clerk shows them: their current names and identifier
/// while they are a user of the tenant, else what the invitation kept.
fn inviter(store: &ClerkStore, invitation: &OrganizationInvitation) -> Value {
    let kept = invitation.public_inviter_data.as_ref();
    let user_id = invitation
        .inviter_id
        .as_deref()
        .or(kept.map(|k| k.user_id.as_str()));
    if let Some(user) = user_id.and_then(|id| store.user(id)) {
        let data = public_user_data(user);
        return json!({
            "user_id": data.user_id,
            "first_name": data.first_name,
            "last_name": data.last_name,
            "image_url": data.image_url,
            "has_image": data.has_image,
            "identifier": data.identifier.unwrap_or_default(),
        });
    }
    match kept {
        Some(kept) => json!({
            "user_id": kept.user_id,
            "first_name": kept.first_name,
            "last_name": kept.last_name,
            "image_url": "",
            "has_image": false,
            "identifier": kept.identifier.clone().unwrap_or_default(),
        }),
        None => Value::Null,
    }
}

/// One organization invitation as Clerk sends it: its status now, the
/// role's current name (the kept one for a role the tenant no longer has),
/// the inviter, the `url`, and the organization's public data when the
/// listing has it (the spec gives `public_organization_data` to the
/// instance listing only).
fn render_organization_invitation(
    store: &ClerkStore,
    invitation: &OrganizationInvitation,
    now: i64,
    with_organization: bool,
) -> Value {
    let mut value = serde_json::to_value(invitation).unwrap_or_default();
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    let status = status_at(&invitation.status, invitation.expires_at, now);
    object.insert("status".into(), status.into());
    let role_name = store
        .roles()
        .iter()
        .find(|r| r.key == invitation.role)
        .map(|r| r.name.clone())
        .or_else(|| invitation.role_name.clone())
        .unwrap_or_default();
    object.insert("role_name".into(), role_name.into());
    object.insert("public_inviter_data".into(), inviter(store, invitation));
    object.insert("url".into(), ticket_url(&invitation.id).into());
    object.remove("public_organization_data");
    let organization = invitation
        .organization()
        .and_then(|id| store.organization(id));
    if let (true, Some(organization)) = (with_organization, organization) {
        let mut data = json!({
            "id": organization.id,
            "name": organization.name,
            "slug": organization.slug,
            "has_image": organization.has_image,
        });
        if let Some(image_url) = &organization.image_url {
            data["image_url"] = image_url.clone().into();
        }
        object.insert("public_organization_data".into(), data);
    }
    value
}

/// One application invitation as Clerk sends it: its status now and its `url`.
fn render_invitation(invitation: &Invitation, now: i64) -> Value {
    let mut value = serde_json::to_value(invitation).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        let status = status_at(&invitation.status, invitation.expires_at, now);
        object.insert("status".into(), status.into());
        object.insert("url".into(), ticket_url(&invitation.id).into());
    }
    value
}

/// One `{data, total_count}` page of organization invitations, in the
/// selection's order, `total_count` counting every one the filters keep.
fn organization_invitation_page(
    store: &ClerkStore,
    selection: Selection,
    mut invitations: Vec<&OrganizationInvitation>,
    with_organization: bool,
) -> Response {
    let now = now_ms();
    invitations.retain(|i| selection.keeps(status_at(&i.status, i.expires_at, now)));
    if selection.field == "email_address" {
        invitations.sort_by_cached_key(|i| (i.email_address.to_lowercase(), i.id.clone()));
    }
    let list = paginate(invitations, selection.page, selection.ascending, None);
    let data: Vec<Value> = list
        .data
        .iter()
        .map(|i| render_organization_invitation(store, i, now, with_organization))
        .collect();
    answer(&json!({ "data": data, "total_count": list.total_count }))
}

const ORGANIZATION_INVITATION_ORDERS: &[&str] = &["created_at", "email_address"];

/// `GET /v1/organization_invitations`: `status`, `query` (part of the
/// address), `order_by`, `limit`/`offset`; newest first by default.
pub(crate) async fn list_instance_organization_invitations(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let selection = match selection(&params, ORGANIZATION_INVITATION_ORDERS) {
        Ok(selection) => selection,
        Err(response) => return response,
    };
    let invitations = clerk
        .organization_invitations()
        .iter()
        .filter(|i| matches_query(&params, &[&i.email_address]))
        .collect();
    organization_invitation_page(&clerk, selection, invitations, true)
}

/// `GET /v1/organizations/{id}/invitations` (id or slug): `status`,
/// `email_address`, `order_by`, `limit`/`offset`; 404 for an unknown
/// organization.
pub(crate) async fn list_organization_invitations(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let Some(organization) = clerk.organization(&id) else {
        return resource_not_found();
    };
    let params = QueryParams::parse(raw.as_deref());
    let selection = match selection(&params, ORGANIZATION_INVITATION_ORDERS) {
        Ok(selection) => selection,
        Err(response) => return response,
    };
    let address = params.get("email_address").map(str::to_lowercase);
    let invitations = clerk
        .organization_invitations_of(&organization.id)
        .into_iter()
        .filter(|i| {
            address
                .as_deref()
                .is_none_or(|a| i.email_address.to_lowercase() == a)
        })
        .collect();
    organization_invitation_page(&clerk, selection, invitations, false)
}

/// `GET /v1/organizations/{id}/invitations/pending` (deprecated in the
/// spec): the pending ones, newest first, `limit`/`offset`.
pub(crate) async fn list_pending_organization_invitations(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let Some(organization) = clerk.organization(&id) else {
        return resource_not_found();
    };
    let params = QueryParams::parse(raw.as_deref());
    let page = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let selection = Selection {
        page,
        field: "created_at".into(),
        ascending: false,
        statuses: vec!["pending".into()],
    };
    let invitations = clerk.organization_invitations_of(&organization.id);
    organization_invitation_page(&clerk, selection, invitations, false)
}

/// `GET /v1/invitations`: a bare array, the spec's answer. The spec's
/// `paginated=true` ("the results will be paginated") gives Clerk's page
/// envelope `{data, total_count}` instead, which the official SDK sends and
/// reads. `status` filters; without it, every invitation but the revoked
/// ones, as the spec describes. `query` matches part of the address or the
/// id; `order_by` created_at, email_address or expires_at; `limit`/`offset`.
pub(crate) async fn list_invitations(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let selection = match selection(&params, &["created_at", "email_address", "expires_at"]) {
        Ok(selection) => selection,
        Err(response) => return response,
    };
    let paginated = match boolean(&params, "paginated") {
        Ok(paginated) => paginated.unwrap_or(false),
        Err(response) => return response,
    };
    let now = now_ms();
    let mut invitations: Vec<&Invitation> = clerk
        .invitations()
        .iter()
        .filter(|i| {
            let status = status_at(&i.status, i.expires_at, now);
            if selection.statuses.is_empty() {
                status != "revoked"
            } else {
                selection.keeps(status)
            }
        })
        .filter(|i| matches_query(&params, &[&i.email_address, &i.id]))
        .collect();
    match selection.field.as_str() {
        "email_address" => {
            invitations.sort_by_cached_key(|i| (i.email_address.to_lowercase(), i.id.clone()))
        }
        "expires_at" => invitations.sort_by(|a, b| {
            a.expires_at
                .cmp(&b.expires_at)
                .then_with(|| a.id.cmp(&b.id))
        }),
        _ => {}
    }
    let list = paginate(invitations, selection.page, selection.ascending, None);
    let data: Vec<Value> = list
        .data
        .iter()
        .map(|i| render_invitation(i, now))
        .collect();
    if paginated {
        answer(&json!({ "data": data, "total_count": list.total_count }))
    } else {
        answer(&data)
    }
}
