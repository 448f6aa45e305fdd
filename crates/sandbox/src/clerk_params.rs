//! What every Clerk listing of the imitation shares, whoever serves it
//! (`clerk_api`, `clerk_invitations`): the query parameters (`limit`,
//! `offset`, `order_by`, `query`, boolean filters) validated as Clerk
//! validates them, one page of an offset listing, and Clerk's error
//! envelope.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::query::QueryParams;
use ferry_wire::clerk::model::{ClerkError, ClerkErrors, PaginatedList};

const MAX_LIMIT: u64 = 500;
const DEFAULT_LIMIT: u64 = 10;

/// A Clerk error answer.
pub fn error(status: StatusCode, code: &str, message: &str, long_message: &str) -> Response {
    let body = ClerkErrors {
        errors: vec![ClerkError {
            message: message.to_owned(),
            long_message: long_message.to_owned(),
            code: code.to_owned(),
            meta: None,
        }],
        clerk_trace_id: Some(trace_id()),
    };
    (status, axum::Json(body)).into_response()
}

/// 422 for a parameter out of range; Clerk names it in `meta`.
pub(crate) fn invalid_parameter(name: &str) -> Response {
    let body = ClerkErrors {
        errors: vec![ClerkError {
            message: "is invalid".into(),
            long_message: format!("{name} is invalid"),
            code: "form_param_value_invalid".into(),
            meta: Some(serde_json::json!({ "param_name": name })),
        }],
        clerk_trace_id: Some(trace_id()),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

fn trace_id() -> String {
    format!("sandbox-{:016x}", rand::random::<u64>())
}

pub(crate) fn resource_not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        "not found",
        "The requested resource was not found",
    )
}

/// `limit` and `offset`, validated.
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

pub(crate) fn page(params: &QueryParams) -> Result<Page, Response> {
    let limit = params
        .integer("limit", DEFAULT_LIMIT, 1..=MAX_LIMIT)
        .map_err(invalid_parameter)?;
    let offset = params
        .integer("offset", 0, 0..=u64::MAX >> 1)
        .map_err(invalid_parameter)?;
    Ok(Page {
        limit: limit as usize,
        offset: offset as usize,
    })
}

/// `order_by`: a field with an optional `+` (ascending) or `-` (descending, the default).
pub(crate) fn order(params: &QueryParams, allowed: &[&str]) -> Result<(String, bool), Response> {
    let raw = params.get("order_by").unwrap_or("-created_at");
    // An unencoded `+created_at` arrives as " created_at" (form decoding
    // turns `+` into a space): take it as the `+` it was meant to be.
    let (ascending, field) = match raw.as_bytes().first() {
        Some(b'+' | b' ') => (true, &raw[1..]),
        Some(b'-') => (false, &raw[1..]),
        _ => (true, raw),
    };
    if !allowed.contains(&field) {
        return Err(invalid_parameter("order_by"));
    }
    Ok((field.to_owned(), ascending))
}

/// A `true|false` filter: absent is no filter, anything else is 422.
pub(crate) fn boolean(params: &QueryParams, name: &str) -> Result<Option<bool>, Response> {
    match params.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(invalid_parameter(name)),
    }
}

pub(crate) fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

/// One page of an offset listing, at most `cap` objects (the
/// `clerk_page_cap` fault) while `total_count` stays true.
pub(crate) fn paginate<T: Serialize + Clone>(
    items: Vec<&T>,
    page: Page,
    ascending: bool,
    cap: Option<usize>,
) -> PaginatedList<T> {
    let total_count = items.len() as u64;
    let cap = cap.unwrap_or(usize::MAX);
    let ordered: Box<dyn Iterator<Item = &T>> = if ascending {
        Box::new(items.into_iter())
    } else {
        Box::new(items.into_iter().rev())
    };
    PaginatedList {
        data: ordered
            .skip(page.offset)
            .take(page.limit.min(cap))
            .cloned()
            .collect(),
        total_count,
    }
}

/// Whether `query` (case-insensitive) is part of any of `fields`; no query matches all.
pub(crate) fn matches_query(params: &QueryParams, fields: &[&str]) -> bool {
    params.get("query").is_none_or(|query| {
        let query = query.to_lowercase();
        fields.iter().any(|f| f.to_lowercase().contains(&query))
    })
}
