//! The outermost layer of both servers: counts every request by route and
//! status for introspection, and applies the fault injector's decision
//! (latency, scripted 429, 5xx, connection reset, dropped write response).
//! Admin routes pass through untouched.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::Frame;

use super::faults::{Fault, RetryAfterFormat};
use super::{clerk_api, clerk_params, workos_api};
use crate::request_log::{Captured, Flavor};
use crate::shared::{ADMIN_PREFIX, Shared};

pub async fn gate(
    State((shared, flavor)): State<(Arc<Shared>, Flavor)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with(ADMIN_PREFIX) {
        return next.run(request).await;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| matched.as_str().to_owned())
        .unwrap_or(path);
    let method = request.method().clone();
    let key = format!("{method} {route}");
    let is_write = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    let decision = shared.faults.decide(is_write);
    let ordinal = decision.ordinal;
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let (response, outcome) = match decision.fault {
        Fault::Throttle { retry_after_secs } => {
            let response = match flavor {
                Flavor::Clerk => clerk_api::too_many_requests(retry_after_secs),
                Flavor::Workos => workos_api::too_many_requests(retry_after_secs),
            };
            (response, "429".to_owned())
        }
        Fault::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let response = match flavor {
                Flavor::Clerk => clerk_params::error(
                    status,
                    "internal_clerk_error",
                    "Oops, an unexpected error occurred",
                    "Injected by the sandbox",
                ),
                Flavor::Workos => workos_api::server_error(status),
            };
            (response, code.to_string())
        }
        Fault::Reset => (aborted(), "reset".to_owned()),
        Fault::Echo => (echo(request).await, "400 echo".to_owned()),
        Fault::DropResponse => {
            let response = next.run(request).await;
            let outcome = format!("{} dropped", response.status().as_u16());
            (aborted(), outcome)
        }
        Fault::None => {
            let response = next.run(request).await;
            let outcome = response.status().as_u16().to_string();
            let response = if shared.log.capturing() {
                capture(&shared, flavor, &method, &route, response).await
            } else {
                response
            };
            (response, outcome)
        }
    };
    shared.log.record(flavor, &key, &outcome, is_write);
    let mut response = response;
    if response.status() == StatusCode::TOO_MANY_REQUESTS
        && shared.faults.config().retry_after_format == RetryAfterFormat::HttpDate
    {
        as_http_date(&mut response);
    }
    if flavor == Flavor::Workos
        && let Ok(value) = HeaderValue::from_str(&format!("sandbox-{ordinal}"))
    {
        // The WorkOS SDK quotes it in its exceptions.
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Keeps a copy of a real answer (not an injected fault) for spec checks.
async fn capture(
    shared: &Shared,
    flavor: Flavor,
    method: &Method,
    route: &str,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    shared.log.capture(Captured {
        flavor,
        method: method.to_string(),
        route: route.to_owned(),
        status: parts.status.as_u16(),
        body: bytes.to_vec(),
    });
    Response::from_parts(parts, Body::from(bytes))
}

/// A 400 page that quotes the request back, headers and body: what a proxy
/// or a careless server does, and what ferry must never pass on.
async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut page = format!(
        "<html><body><h1>400 Bad Request</h1><pre>{} {}\n",
        parts.method, parts.uri
    );
    for (name, value) in &parts.headers {
        page.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
    }
    page.push('\n');
    page.push_str(&String::from_utf8_lossy(&body));
    page.push_str("</pre></body></html>");
    let mut response = Response::new(Body::from(page));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Rewrites `Retry-After: N` as the HTTP date N seconds from now.
fn as_http_date(response: &mut Response) {
    let seconds = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i64>().ok());
    if let Some(seconds) = seconds {
        let at = chrono::Utc::now() + chrono::Duration::seconds(seconds);
        let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        if let Ok(value) = HeaderValue::from_str(&date) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
}

/// A response whose body fails before a byte is written: hyper then closes
/// the connection without sending the status line, so the client sees a
/// connection error and cannot know whether the request took effect.
fn aborted() -> Response {
    Response::new(Body::new(FailingBody))
}

struct FailingBody;

impl http_body::Body for FailingBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by the sandbox's fault injector",
        ))))
    }
}
