//! The admin routes that change the Clerk tenant while the sandbox runs
//! (the WorkOS state stays): `GET`/`PUT /__sandbox/clerk/tenant` read and
//! replace it whole in the `--tenant` shapes, `users`, `organizations`
//! and `memberships` take single creates (`POST`), updates (`PATCH`) and
//! deletes (`DELETE …/{id}`), and `organization_invitations` and
//! `invitations` are sent (`POST`) and settled (`POST …/{id}/revoke`,
//! `…/{id}/accept`). Each change is made in place (a request already
//! reading keeps the tenant it started with: the store is copied only
//! then), so a thousand edits of a million-user tenant stay fast.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::path::Path as FilePath;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clerk_edit::{
    EditError, MembershipChange, NewInvitation, NewMembership, NewOrganization,
    NewOrganizationInvitation, NewUser, OrganizationChange, UserChange,
};
use crate::export::ExportRow;
use crate::shared::Shared;
use crate::tenant::Tenant;

fn answer(status: StatusCode, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "message": message })),
    )
        .into_response()
}

fn refused(error: EditError) -> Response {
    match error {
        EditError::NotFound(message) => answer(StatusCode::NOT_FOUND, message),
        EditError::Invalid(message) => answer(StatusCode::UNPROCESSABLE_ENTITY, message),
    }
}

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    crate::body::parse(bytes).map_err(|reason| answer(StatusCode::UNPROCESSABLE_ENTITY, reason))
}

/// `then` with the parsed body, or the 422 that names what is wrong with it.
fn parsed<T: DeserializeOwned>(bytes: &Bytes, then: impl FnOnce(T) -> Response) -> Response {
    match body(bytes) {
        Ok(request) => then(request),
        Err(response) => response,
    }
}

/// Applies `edit` to the tenant as it stands and serves the result.
fn change<T: Serialize>(
    shared: &Shared,
    status: StatusCode,
    edit: impl FnOnce(&mut Tenant) -> Result<(T, Option<ExportRow>), EditError>,
) -> Response {
    let mut served = shared.clerk.write().unwrap_or_else(|p| p.into_inner());
    match Arc::make_mut(&mut served).edit(edit) {
        Ok(value) => (status, axum::Json(value)).into_response(),
        Err(error) => refused(error),
    }
}

fn deleted(shared: &Shared, edit: impl FnOnce(&mut Tenant) -> Result<(), EditError>) -> Response {
    change(shared, StatusCode::OK, |tenant| {
        edit(tenant).map(|()| (serde_json::json!({ "deleted": true }), None))
    })
}

pub(crate) async fn get_tenant(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.clerk().to_tenant()).into_response()
}

pub(crate) async fn put_tenant(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let text = String::from_utf8_lossy(&bytes);
    let tenant = match Tenant::parse(FilePath::new("the request body"), &text) {
        Ok((tenant, _)) => tenant,
        Err(error) => return answer(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
    };
    let counts = serde_json::json!({
        "users": tenant.users.len(),
        "organizations": tenant.organizations.len(),
        "memberships": tenant.memberships.len(),
        "organization_invitations": tenant.organization_invitations.len(),
        "invitations": tenant.invitations.len(),
    });
    let mut served = shared.clerk.write().unwrap_or_else(|p| p.into_inner());
    *served = Arc::new(served.succeeded_by(tenant, None));
    axum::Json(counts).into_response()
}

pub(crate) async fn create_user(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    parsed(&bytes, |request: NewUser| {
        change(&shared, StatusCode::CREATED, |tenant| {
            tenant
                .add_user(request)
                .map(|(user, row)| (user, Some(row)))
        })
    })
}

pub(crate) async fn update_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    parsed(&bytes, |request: UserChange| {
        change(&shared, StatusCode::OK, |tenant| {
            tenant.change_user(&id, request).map(|user| (user, None))
        })
    })
}

pub(crate) async fn delete_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    deleted(&shared, |tenant| tenant.remove_user(&id))
}

pub(crate) async fn create_organization(
    State(shared): State<Arc<Shared>>,
    bytes: Bytes,
) -> Response {
    parsed(&bytes, |request: NewOrganization| {
        change(&shared, StatusCode::CREATED, |tenant| {
            tenant.add_organization(request).map(|o| (o, None))
        })
    })
}

pub(crate) async fn update_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    parsed(&bytes, |request: OrganizationChange| {
        change(&shared, StatusCode::OK, |tenant| {
            tenant.change_organization(&id, request).map(|o| (o, None))
        })
    })
}

pub(crate) async fn delete_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    deleted(&shared, |tenant| tenant.remove_organization(&id))
}

pub(crate) async fn create_membership(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    parsed(&bytes, |request: NewMembership| {
        change(&shared, StatusCode::CREATED, |tenant| {
            tenant.add_membership(request).map(|m| (m, None))
        })
    })
}

pub(crate) async fn update_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    parsed(&bytes, |request: MembershipChange| {
        change(&shared, StatusCode::OK, |tenant| {
            tenant.change_membership(&id, request).map(|m| (m, None))
        })
    })
}

pub(crate) async fn delete_membership(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    deleted(&shared, |tenant| tenant.remove_membership(&id))
}

pub(crate) async fn create_organization_invitation(
    State(shared): State<Arc<Shared>>,
    bytes: Bytes,
) -> Response {
    parsed(&bytes, |request: NewOrganizationInvitation| {
        change(&shared, StatusCode::CREATED, |tenant| {
            tenant
                .add_organization_invitation(request)
                .map(|i| (i, None))
        })
    })
}

pub(crate) async fn revoke_organization_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    change(&shared, StatusCode::OK, |tenant| {
        tenant
            .settle_organization_invitation(&id, "revoked")
            .map(|i| (i, None))
    })
}

pub(crate) async fn accept_organization_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    change(&shared, StatusCode::OK, |tenant| {
        tenant
            .settle_organization_invitation(&id, "accepted")
            .map(|i| (i, None))
    })
}

pub(crate) async fn create_invitation(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    parsed(&bytes, |request: NewInvitation| {
        change(&shared, StatusCode::CREATED, |tenant| {
            tenant.add_invitation(request).map(|i| (i, None))
        })
    })
}

pub(crate) async fn revoke_invitation(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    change(&shared, StatusCode::OK, |tenant| {
        tenant.revoke_invitation(&id).map(|i| (i, None))
    })
}
