//! How the WorkOS imitation answers: the three error shapes, 429 and 5xx
//! bodies, domain failures mapped to status and code, bodies parsed by hand
//! (so a malformed one gets WorkOS's 422 `invalid_request_parameters`, not
//! the framework's text), and list parameters.

#![allow(clippy::result_large_err)] // errors are finished `Response`s, built once per request

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ids::is_id_of;
use crate::query::QueryParams;
use crate::state::{Failure, ListQuery};
use ferry_wire::workos::model::{CodeError, FieldError, MessageError, OAuthError, ValidationError};

/// Both sides are finished answers, built once per request; boxing the
/// error side would buy nothing.
pub type Reply = Result<Response, Response>;

pub(super) fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        axum::Json(MessageError {
            message: text.to_owned(),
        }),
    )
        .into_response()
}

pub(super) fn code(status: StatusCode, code: &str, text: &str) -> Response {
    let body = CodeError {
        code: code.to_owned(),
        message: text.to_owned(),
        errors: None,
    };
    (status, axum::Json(body)).into_response()
}

pub(super) fn invalid_request(text: &str) -> Response {
    code(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request_parameters",
        text,
    )
}

pub(super) fn oauth(status: StatusCode, error: &str, description: &str) -> Response {
    let body = OAuthError {
        error: error.to_owned(),
        error_description: description.to_owned(),
    };
    (status, axum::Json(body)).into_response()
}

/// 429 with `Retry-After`, `{code, message}`: `rate_limit_exceeded`, the
/// code the spec documents for a rate limit.
pub fn too_many_requests(retry_after_secs: u64) -> Response {
    limited(
        retry_after_secs,
        "rate_limit_exceeded",
        "Too many requests. Retry after the time in Retry-After.",
    )
}

/// The per-email sign-in limit: `POST /user_management/authenticate`'s
/// spec names its 429 code `too_many_requests`.
pub(super) fn too_many_sign_ins(retry_after_secs: u64) -> Response {
    limited(
        retry_after_secs,
        "too_many_requests",
        "The request failed due to: too_many_requests.",
    )
}

fn limited(retry_after_secs: u64, error: &str, text: &str) -> Response {
    let mut response = code(StatusCode::TOO_MANY_REQUESTS, error, text);
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A 5xx answer the fault injector sends.
pub fn server_error(status: StatusCode) -> Response {
    message(status, status.canonical_reason().unwrap_or("Server Error"))
}

pub(super) fn failure(failure: Failure) -> Response {
    match failure {
        Failure::NotFound(text) => message(StatusCode::NOT_FOUND, &text),
        Failure::Conflict {
            code: c,
            message: m,
        } => code(StatusCode::CONFLICT, c, &m),
        Failure::BadRequest {
            code: c,
            message: m,
        } => code(StatusCode::BAD_REQUEST, c, &m),
        Failure::InvalidRequest(text) => invalid_request(&text),
        Failure::Unprocessable {
            code: c,
            message: m,
        } => code(StatusCode::UNPROCESSABLE_ENTITY, c, &m),
        Failure::CodedNotFound {
            code: c,
            message: m,
        } => code(StatusCode::NOT_FOUND, c, &m),
        Failure::InvalidField { field, code: c } => {
            let body = ValidationError {
                message: Some("Validation failed.".into()),
                errors: vec![FieldError {
                    code: c.to_owned(),
                    message: format!("{field} is {c}"),
                    field: Some(field),
                }],
            };
            (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
        }
        Failure::Validation { message: m, errors } => {
            let body = CodeError {
                code: "invalid_request_parameters".into(),
                message: m,
                errors: Some(
                    errors
                        .into_iter()
                        .map(|(c, m)| FieldError {
                            code: c.to_owned(),
                            message: m,
                            field: None,
                        })
                        .collect(),
                ),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
        }
        Failure::UserCreation {
            code: c,
            message: m,
        } => {
            let body = CodeError {
                code: "user_creation_error".into(),
                message: "Could not create user.".into(),
                errors: Some(vec![FieldError {
                    code: c.to_owned(),
                    message: m,
                    field: None,
                }]),
            };
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        }
    }
}

pub(super) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    crate::body::parse(body).map_err(|reason| invalid_request(&reason))
}

pub(super) fn ok<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    Ok((status, axum::Json(value)).into_response())
}

/// The list parameters, with `before`/`after` checked to be ids of the
/// listed kind (`prefix_…`): a cursor that is not one is refused (422)
/// rather than read as "from the start", which would repeat pages
/// forever. An id that no longer exists still works: cursors compare ids,
/// so the page starts where it would sort.
pub(super) fn list_query(
    params: &QueryParams,
    max: u64,
    prefix: &str,
) -> Result<ListQuery, Response> {
    let limit = params
        .integer("limit", 10, 1..=max)
        .map_err(|name| invalid_request(&format!("{name} must be between 1 and {max}")))?;
    let descending = match params.get("order").unwrap_or("desc") {
        "desc" | "normal" => true,
        "asc" => false,
        _ => return Err(invalid_request("order must be one of asc, desc, normal")),
    };
    let cursor = |name: &str| -> Result<Option<String>, Response> {
        match params.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(value) if is_id_of(value, prefix) => Ok(Some(value.to_owned())),
            Some(_) => Err(invalid_request(&format!(
                "{name} must be the id of a listed object ({prefix}_...)"
            ))),
        }
    };
    Ok(ListQuery {
        limit: limit as usize,
        before: cursor("before")?,
        after: cursor("after")?,
        descending,
    })
}
