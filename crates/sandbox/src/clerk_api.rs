//! The Clerk Backend API imitation: the read routes ferry and the official
//! `@clerk/backend` SDK use (users, organizations, memberships, organization
//! roles, permissions and domains, enterprise connections, and the
//! invitations `clerk_invitations` serves), with Clerk's pagination (`limit` 1..500,
//! `offset`, `order_by`, `starting_after`), filters, Bearer authentication,
//! the per-key rate limit and Clerk's error envelope for every failure.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::clerk_filters::UserFilter;
use super::clerk_invitations;
use super::clerk_params::{
    Page, boolean, error, invalid_parameter, json, matches_query, order, page, paginate,
    resource_not_found,
};
use super::limits::{Bucket, RetryAfter};
use super::query::QueryParams;
use crate::shared::Shared;
use ferry_wire::clerk::model::{
    Instance, OrganizationDomain, OrganizationMembership, TotalCount, User,
};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/users", get(list_users))
        .route("/v1/users/count", get(count_users))
        .route("/v1/users/{id}", get(get_user))
        .route("/v1/organizations", get(list_organizations))
        .route("/v1/organizations/{id}", get(get_organization))
        .route(
            "/v1/organizations/{id}/memberships",
            get(list_organization_memberships),
        )
        .route("/v1/organization_memberships", get(list_all_memberships))
        .route(
            "/v1/users/{id}/organization_memberships",
            get(list_user_memberships),
        )
        .route("/v1/users/{id}/verify_password", post(verify_password))
        .route("/v1/users/{id}/verify_totp", post(verify_totp))
        .route("/v1/organization_roles", get(list_roles))
        .route("/v1/organization_permissions", get(list_permissions))
        .route(
            "/v1/organizations/{id}/domains",
            get(list_organization_domains),
        )
        .route("/v1/organization_domains", get(list_all_domains))
        .route("/v1/instance", get(get_instance))
        .route(
            "/v1/enterprise_connections",
            get(list_enterprise_connections),
        )
        .route("/v1/saml_connections/{id}", get(get_saml_connection))
        .route("/v1/scim_directories", get(list_scim_directories))
        .route(
            "/v1/organization_invitations",
            get(clerk_invitations::list_instance_organization_invitations),
        )
        .route(
            "/v1/organizations/{id}/invitations",
            get(clerk_invitations::list_organization_invitations),
        )
        .route(
            "/v1/organizations/{id}/invitations/pending",
            get(clerk_invitations::list_pending_organization_invitations),
        )
        .route("/v1/invitations", get(clerk_invitations::list_invitations))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed",
                "This method is not allowed on this resource",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), authenticate))
        .with_state(shared)
}

/// 429 in Clerk's envelope, with `Retry-After`.
pub fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "Too Many Requests",
        "Too many requests, retry later",
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

async fn not_found() -> Response {
    resource_not_found()
}

/// Bearer check, then the per-key limit (`sk_live_` keys get the live quota).
async fn authenticate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let key = bearer(request.headers());
    let Some(key) = key.filter(|key| shared.keys.clerk_secret_key == *key) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "authentication_invalid",
            "Invalid authentication",
            "Unable to authenticate the request, you need to supply an active API key",
        );
    };
    let bucket = if key.starts_with("sk_live_") {
        Bucket::ClerkLive
    } else {
        Bucket::ClerkTest
    };
    if let Err(retry) = shared.check_limit(bucket, &key) {
        return too_many_requests(RetryAfter::header_seconds(retry));
    }
    next.run(request).await
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|key| key.trim().to_owned())
}

/// The users a `/v1/users` or `/v1/users/count` query selects, in creation
/// order (`None`: no filter, everyone); a bad filter value is 422.
fn filtered_positions(
    shared: &Shared,
    params: &QueryParams,
) -> Result<Option<Vec<usize>>, Response> {
    let clerk = shared.clerk();
    let store = &clerk;
    let Some(filter) = UserFilter::parse(params, store).map_err(invalid_parameter)? else {
        return Ok(None);
    };
    let users = store.users();
    Ok(Some(
        filter
            .candidates(store)
            .into_iter()
            .filter(|&p| filter.matches(&users[p]))
            .collect(),
    ))
}

fn compare_users(field: &str, a: &User, b: &User) -> Ordering {
    let primary = |user: &User| user.primary_email().map(|e| e.email_address.to_lowercase());
    match field {
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        "last_sign_in_at" => a.last_sign_in_at.cmp(&b.last_sign_in_at),
        "username" => a.username.cmp(&b.username),
        "first_name" => a.first_name.cmp(&b.first_name),
        "last_name" => a.last_name.cmp(&b.last_name),
        "email_address" => primary(a).cmp(&primary(b)),
        _ => a.created_at.cmp(&b.created_at),
    }
    .then_with(|| a.id.cmp(&b.id))
}

const USER_ORDERS: &[&str] = &[
    "created_at",
    "updated_at",
    "last_sign_in_at",
    "username",
    "first_name",
    "last_name",
    "email_address",
];

async fn list_users(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let Page { limit, offset } = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let limit = limit.min(page_cap(&shared).unwrap_or(usize::MAX));
    let (field, ascending) = match order(&params, USER_ORDERS) {
        Ok(order) => order,
        Err(response) => return response,
    };
    let all = clerk.users();
    let filtered = match filtered_positions(&shared, &params) {
        Ok(filtered) => filtered,
        Err(response) => return response,
    };
    let cursor = params.get("starting_after");
    // Clerk only takes a cursor with creation ordering and no offset.
    if cursor.is_some() && (field != "created_at" || offset != 0) {
        return invalid_parameter("starting_after");
    }
    // The common case (everyone, creation order) is index arithmetic on the
    // store, which is already in creation order: no copy of 100,000 users.
    if filtered.is_none() && field == "created_at" {
        let total = all.len();
        let start = match cursor {
            None => offset,
            Some(cursor) => match clerk.user_position(cursor) {
                Some(position) if ascending => position + 1,
                Some(position) => total - position,
                None => return invalid_parameter("starting_after"),
            },
        };
        let page: Vec<&User> = (start..total)
            .take(limit)
            .map(|k| {
                if ascending {
                    &all[k]
                } else {
                    &all[total - 1 - k]
                }
            })
            .collect();
        let answer = json(&page);
        if start == 0 {
            let ids: Vec<String> = page.iter().map(|user| user.id.clone()).collect();
            delete_during_listing(&shared, &ids);
        }
        return answer;
    }
    let mut selected: Vec<&User> = match filtered {
        Some(positions) => positions.into_iter().map(|p| &all[p]).collect(),
        None => all.iter().collect(),
    };
    // The store is already in creation order; other fields need a sort.
    if field != "created_at" {
        selected.sort_by(|a, b| compare_users(&field, a, b));
    }
    if !ascending {
        selected.reverse();
    }
    let mut start = offset;
    if let Some(cursor) = cursor {
        let Some(position) = selected.iter().position(|user| user.id == cursor) else {
            return invalid_parameter("starting_after");
        };
        start = position + 1;
    }
    let page: Vec<&User> = selected.into_iter().skip(start).take(limit).collect();
    json(&page)
}

async fn count_users(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let total = match filtered_positions(&shared, &params) {
        Ok(Some(positions)) => positions.len(),
        Ok(None) => clerk.users().len(),
        Err(response) => return response,
    };
    json(&TotalCount {
        object: "total_count".into(),
        total_count: total as u64,
    })
}

async fn get_user(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let clerk = shared.clerk();
    match clerk.user(&id) {
        Some(user) => json(user),
        None => resource_not_found(),
    }
}

async fn list_organizations(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let page = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let (field, ascending) = match order(&params, &["created_at", "name"]) {
        Ok(order) => order,
        Err(response) => return response,
    };
    // `query` matches id, name or slug; `user_id` keeps the user's
    // organizations; `organization_id` (repeatable) names them.
    let query = params.get("query").map(str::to_lowercase);
    let ids = params.all("organization_id");
    let users = params.all("user_id");
    let mut organizations: Vec<_> = clerk
        .organizations()
        .iter()
        .filter(|o| {
            query.as_deref().is_none_or(|q| {
                [&o.id, &o.name, &o.slug]
                    .iter()
                    .any(|f| f.to_lowercase().contains(q))
            })
        })
        .filter(|o| ids.is_empty() || ids.contains(&o.id))
        .filter(|o| {
            users.is_empty()
                || clerk.memberships_of(&o.id).iter().any(|m| {
                    m.public_user_data
                        .as_ref()
                        .is_some_and(|u| users.contains(&u.user_id))
                })
        })
        .collect();
    if field == "name" {
        organizations.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    }
    let mut list = paginate(organizations, page, ascending, page_cap(&shared));
    if params.get("include_members_count") == Some("true") {
        for organization in &mut list.data {
            organization.members_count = Some(clerk.memberships_of(&organization.id).len() as u64);
        }
    }
    json(&list)
}

async fn get_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let Some(organization) = clerk.organization(&id) else {
        return resource_not_found();
    };
    let mut organization = organization.clone();
    if QueryParams::parse(raw.as_deref()).get("include_members_count") == Some("true") {
        organization.members_count = Some(clerk.memberships_of(&organization.id).len() as u64);
    }
    json(&organization)
}

const MEMBERSHIP_ORDERS: &[&str] = &["created_at", "updated_at"];

fn sort_memberships(memberships: &mut [&OrganizationMembership], field: &str) {
    if field == "updated_at" {
        memberships.sort_by(|a, b| {
            a.updated_at
                .cmp(&b.updated_at)
                .then_with(|| a.id.cmp(&b.id))
        });
    }
}

async fn list_organization_memberships(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let Some(organization) = clerk.organization(&id) else {
        return resource_not_found();
    };
    membership_page(
        &shared,
        raw.as_deref(),
        clerk.memberships_of(&organization.id),
    )
}

/// `GET /v1/users/{id}/organization_memberships`: one user's memberships.
async fn list_user_memberships(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    if clerk.user(&id).is_none() {
        return resource_not_found();
    }
    let memberships = clerk
        .memberships()
        .iter()
        .filter(|m| {
            m.public_user_data
                .as_ref()
                .is_some_and(|data| data.user_id == id)
        })
        .collect();
    membership_page(&shared, raw.as_deref(), memberships)
}

async fn list_all_memberships(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    membership_page(
        &shared,
        raw.as_deref(),
        clerk.memberships().iter().collect(),
    )
}

/// The `delete_during_listing` fault: deletes that many of the first
/// page's users once it is answered, and clears itself.
fn delete_during_listing(shared: &Shared, first_page: &[String]) {
    let mut faults = shared.faults.config();
    let Some(count) = faults.delete_during_listing.take() else {
        return;
    };
    shared.faults.set(faults);
    let mut served = shared.clerk.write().unwrap_or_else(|p| p.into_inner());
    let _ = Arc::make_mut(&mut served).edit(|tenant| {
        for id in first_page.iter().take(count) {
            let _ = tenant.remove_user(id);
        }
        Ok::<_, ()>(((), None))
    });
}

/// The `clerk_page_cap` fault, which cuts the pages of the listings a
/// sync diffs (users, organizations, memberships).
fn page_cap(shared: &Shared) -> Option<usize> {
    shared.faults.config().clerk_page_cap
}

/// One `{data,total_count}` page of memberships: limit, offset, `order_by`
/// and `user_id` filters, as every membership listing takes them.
fn membership_page(
    shared: &Shared,
    raw: Option<&str>,
    mut memberships: Vec<&OrganizationMembership>,
) -> Response {
    let params = QueryParams::parse(raw);
    let page = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let (field, ascending) = match order(&params, MEMBERSHIP_ORDERS) {
        Ok(order) => order,
        Err(response) => return response,
    };
    let user_ids = params.all("user_id");
    if !user_ids.is_empty() {
        memberships.retain(|membership| {
            membership
                .public_user_data
                .as_ref()
                .is_some_and(|data| user_ids.contains(&data.user_id))
        });
    }
    sort_memberships(&mut memberships, &field);
    json(&paginate(memberships, page, ascending, page_cap(shared)))
}

/// What a `verify_*` route checks: the user's secrets and the one
/// string field `name` of the body; 404 for an unknown user, 422 naming a
/// missing field.
fn credential_check(
    shared: &Shared,
    id: &str,
    body: &[u8],
    name: &'static str,
) -> Result<(Option<crate::clerk_store::Credentials>, String), Response> {
    let clerk = shared.clerk();
    if clerk.user(id).is_none() {
        return Err(resource_not_found());
    }
    let value = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(name)?.as_str().map(str::to_owned))
        .ok_or_else(|| invalid_parameter(name))?;
    Ok((clerk.credentials(id).cloned(), value))
}

/// A `verify_*` answer: `verified` (200 with `ok`), or 422 with `code`.
fn verdict(verified: bool, ok: serde_json::Value, code: &str, what: &str) -> Response {
    if verified {
        json(&ok)
    } else {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            &format!("incorrect {what}"),
            &format!("The provided {what} was incorrect"),
        )
    }
}

/// `POST /v1/users/{id}/verify_password` `{password}`: checked against the
/// export's digest (bcrypt and argon2 verify; other hashers' sandbox digests
/// are shaped but random, so nothing matches them). 200 `{verified: true}`;
/// no password → 400 `password_not_set`; wrong → 422 `incorrect_password`.
async fn verify_password(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (stored, password) = match credential_check(&shared, &id, &body, "password") {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let Some((digest, hasher)) = stored.and_then(|s| s.password) else {
        return error(
            StatusCode::BAD_REQUEST,
            "password_not_set",
            "no password",
            "The user does not have a password set",
        );
    };
    let kind = match &*hasher {
        "bcrypt" => Some(crate::hashes::HashKind::Bcrypt),
        "argon2i" | "argon2id" => Some(crate::hashes::HashKind::Argon2),
        _ => None,
    };
    let verified =
        kind.is_some_and(|kind| crate::hashes::verify(kind, digest.expose(), &password, None));
    verdict(
        verified,
        serde_json::json!({ "verified": true }),
        "incorrect_password",
        "password",
    )
}

/// `POST /v1/users/{id}/verify_totp` `{code}`: checked against the export's
/// TOTP secret (SHA-1, 6 digits, 30 s, one step of skew). 200 `{verified:
/// true, code_type: "totp"}`; no TOTP → 400 `totp_not_enabled`; wrong → 422
/// `incorrect_code`.
async fn verify_totp(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (stored, code) = match credential_check(&shared, &id, &body, "code") {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let Some(secret) = stored.and_then(|s| s.totp_secret) else {
        return error(
            StatusCode::BAD_REQUEST,
            "totp_not_enabled",
            "no TOTP",
            "The user has no TOTP factor",
        );
    };
    let verified = crate::totp::verify_at(secret.expose(), &code, crate::totp::now_seconds());
    verdict(
        verified,
        serde_json::json!({ "verified": true, "code_type": "totp" }),
        "incorrect_code",
        "code",
    )
}

/// A page of definitions (roles, permissions) in definition order, `query`
/// matching the fields `searched` gives.
fn definitions_page<T: Serialize + Clone>(
    raw: Option<&str>,
    items: &[T],
    searched: impl Fn(&T) -> [&str; 2],
) -> Response {
    let params = QueryParams::parse(raw);
    let page = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let selected = items
        .iter()
        .filter(|item| matches_query(&params, &searched(item)))
        .collect();
    json(&paginate(selected, page, true, None))
}

/// `GET /v1/organization_roles` (`query` matches key or name).
async fn list_roles(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let clerk = shared.clerk();
    definitions_page(raw.as_deref(), clerk.roles(), |r| [&r.key, &r.name])
}

/// `GET /v1/instance`: a live key's instance is `production`, a test key's
/// `development`, as Clerk's keys are bound to one instance each.
async fn get_instance(headers: HeaderMap) -> Response {
    let live = bearer(&headers).is_some_and(|key| key.starts_with("sk_live_"));
    let instance = Instance {
        object: "instance".into(),
        id: "ins_sandbox".into(),
        environment_type: if live { "production" } else { "development" }.into(),
        allowed_origins: None,
        workspace_id: None,
    };
    axum::Json(instance).into_response()
}

/// `GET /v1/organization_permissions` (`query` matches key or name).
async fn list_permissions(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let clerk = shared.clerk();
    definitions_page(raw.as_deref(), clerk.permissions(), |p| [&p.key, &p.name])
}

/// The domains a query selects: `verified`, `enrollment_mode` (repeatable), `query`.
fn domain_page<'a>(
    params: &QueryParams,
    domains: impl Iterator<Item = &'a OrganizationDomain>,
) -> Response {
    let page = match page(params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let verified = match boolean(params, "verified") {
        Ok(verified) => verified,
        Err(response) => return response,
    };
    let modes = params.all("enrollment_mode");
    let selected = domains
        .filter(|d| verified.is_none_or(|v| d.is_verified() == v))
        .filter(|d| modes.is_empty() || modes.contains(&d.enrollment_mode))
        .filter(|d| matches_query(params, &[&d.name]))
        .collect();
    json(&paginate(selected, page, true, None))
}

async fn list_organization_domains(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let Some(organization) = clerk.organization(&id) else {
        return resource_not_found();
    };
    let params = QueryParams::parse(raw.as_deref());
    domain_page(
        &params,
        clerk
            .domains()
            .iter()
            .filter(|d| d.organization_id == organization.id),
    )
}

/// `GET /v1/organization_domains`, optionally for one `organization_id`.
async fn list_all_domains(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let organization = params.get("organization_id").map(str::to_owned);
    domain_page(
        &params,
        clerk.domains().iter().filter(|d| {
            organization
                .as_ref()
                .is_none_or(|o| &d.organization_id == o)
        }),
    )
}

/// `GET /v1/enterprise_connections`: `organization_id` and `active` filter,
/// `limit`/`offset` page, oldest first.
async fn list_enterprise_connections(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let page = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let active = match boolean(&params, "active") {
        Ok(active) => active,
        Err(response) => return response,
    };
    let organization = params.get("organization_id");
    let selected = clerk
        .enterprise_connections()
        .iter()
        .filter(|c| active.is_none_or(|a| c.active == a))
        .filter(|c| organization.is_none_or(|o| c.organization_id.as_deref() == Some(o)))
        .collect();
    json(&paginate(selected, page, true, None))
}

/// `GET /v1/saml_connections/{id}`: the one route with the IdP certificate.
async fn get_saml_connection(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    match shared.clerk().saml_connection(&id) {
        Some(connection) => json(connection),
        None => resource_not_found(),
    }
}

/// `GET /v1/scim_directories`, `limit`/`offset` paged, oldest first.
async fn list_scim_directories(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let clerk = shared.clerk();
    let params = QueryParams::parse(raw.as_deref());
    let page = match page(&params) {
        Ok(page) => page,
        Err(response) => return response,
    };
    let mut listed = serde_json::to_value(paginate(
        clerk.scim_directories().iter().collect(),
        page,
        true,
        None,
    ))
    .unwrap_or_default();
    // Clerk returns each directory's SCIM bearer token: so does the
    // imitation, so a test can show ferry never keeps or prints it.
    if let Some(data) = listed.get_mut("data").and_then(|d| d.as_array_mut()) {
        for directory in data {
            let token = format!(
                "scim_secret_{}",
                directory["id"].as_str().unwrap_or_default()
            );
            directory["api_key"] = serde_json::Value::from(token);
        }
    }
    json(&listed)
}
