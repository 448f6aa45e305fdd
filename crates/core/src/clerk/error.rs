//! What a failed Clerk call says, read from Clerk's error envelope
//! (`{errors: [{code, message, long_message, meta}], clerk_trace_id}`), so
//! the client decides on the documented codes rather than on the status
//! alone. A 404 means "this user is gone" only when Clerk says
//! `resource_not_found`: a proxy's or a wrong `api_url`'s 404 must never
//! read as every user deleted since the export.

use serde::Deserialize;

use crate::http::ApiError;

/// The envelope, leniently: only `code` is required (older answers have
/// been seen without `long_message` or `meta`).
#[derive(Debug, Deserialize)]
struct Envelope {
    errors: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    code: String,
}

fn envelope(error: &ApiError) -> Option<Envelope> {
    serde_json::from_value(error.body_json()?).ok()
}

/// The codes of a failed call, in Clerk's order (empty for a body that is
/// not Clerk's envelope).
pub fn codes(error: &ApiError) -> Vec<String> {
    envelope(error)
        .map(|e| e.errors.into_iter().map(|entry| entry.code).collect())
        .unwrap_or_default()
}

/// Clerk says the object does not exist: 404 `resource_not_found`.
pub fn is_not_found(error: &ApiError) -> bool {
    error.status() == Some(404) && codes(error).iter().any(|c| c == "resource_not_found")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::client::ApiErrorKind;

    fn failed(status: u16, body: &str) -> ApiError {
        ApiError {
            service: "clerk",
            method: "GET".into(),
            path: "/v1/users".into(),
            attempts: 1,
            kind: ApiErrorKind::Status {
                status,
                body: body.into(),
            },
        }
    }

    // Bodies as Clerk's Backend API answers them.
    const NOT_FOUND: &str = r#"{"errors":[{"message":"not found","long_message":"The requested resource was not found","code":"resource_not_found"}],"clerk_trace_id":"3f1b"}"#;
    const UNAUTHORIZED: &str = r#"{"errors":[{"message":"Invalid authentication","long_message":"Unable to authenticate the request, you need to supply an active API key","code":"authentication_invalid"}]}"#;

    #[test]
    fn only_clerk_s_resource_not_found_means_gone() {
        assert!(is_not_found(&failed(404, NOT_FOUND)));
        assert!(!is_not_found(&failed(404, "<html>Not Found</html>")));
        assert!(!is_not_found(&failed(404, "")));
        assert!(!is_not_found(&failed(401, UNAUTHORIZED)));
        assert_eq!(
            codes(&failed(401, UNAUTHORIZED)),
            ["authentication_invalid"]
        );
    }
}
