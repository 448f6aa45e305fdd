//! One client per API: base URL, bearer key, rate-limit buckets and the retry
//! policy around every request.
//!
//! Refuses plain `http://` to anything but loopback, so an API key never
//! crosses a network in clear text, and follows no one: a redirect is an
//! error naming where it pointed, never a second request (it would carry
//! the key, and a body that may hold digests, to a host nobody checked).
//! A response body is read up to [`MAX_BODY`] and no further. A timeout
//! counts toward the circuit breaker like a refused connection, so a hung
//! server stops the run within minutes instead of failing every record.
//! Errors name the service, method, path and status, keep the response
//! body (bounded) for callers that branch on error codes, and never
//! include the key.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::limiter::Bucket;
use super::retry::{NextAttempt, RetryPolicy, parse_retry_after};
use crate::support::cancel::{Cancel, Stop};
use ferry_wire::secret::Secret;

/// The most of an error body kept for messages and error-code parsing.
const MAX_ERROR_BODY: usize = 4096;

/// The largest response body ferry reads: a Clerk page of 500 users with
/// full metadata is a few MiB, so 64 MiB is generous; a larger answer is
/// an error, never a reason to hold gigabytes.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

pub struct ApiClient {
    service: &'static str,
    http: reqwest::Client,
    base: String,
    key: Secret,
    retry: RetryPolicy,
    /// Ends every wait at once when the run stops; set by the engine.
    cancel: Cancel,
    /// Attempts in a row that could not connect or whose key was refused.
    refused_in_a_row: std::sync::atomic::AtomicU32,
    /// What this client sent, for the report.
    traffic: super::traffic::Traffic,
    /// What must happen before the first write (see [`WriteGate`]).
    gate: Option<std::sync::Arc<dyn WriteGate>>,
}

/// What must happen before the first write a client sends: awaited before
/// every request that is not a GET, and done once by the implementation
/// (the engine pauses webhook endpoints there, so a run that writes
/// nothing touches none). An `Err` keeps the request from being sent.
pub trait WriteGate: Send + Sync {
    fn open(&self) -> futures_util::future::BoxFuture<'_, Result<(), String>>;
}

/// How many attempts in a row may fail to connect, or be refused the key,
/// before the run stops (the circuit breaker): enough to ride out a blip,
/// few enough to stop within seconds.
const BREAKER: u32 = 8;

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("service", &self.service)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A request to make, with the buckets it draws from. Its `Debug` leaves
/// the body out: bodies carry password digests and TOTP secrets.
pub struct Request<'a> {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<serde_json::Value>,
    buckets: Vec<&'a Bucket>,
    /// Whether sending twice is harmless. When not, only failures that prove
    /// the server did nothing (429, a refused connection) are retried.
    idempotent: bool,
    /// Whether it takes its buckets' places ahead of other requests.
    first: bool,
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            buckets: Vec::new(),
            idempotent: true,
            first: false,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::POST, path).body(body)
    }

    pub fn put(path: impl Into<String>, body: serde_json::Value) -> Self {
        Self::new(Method::PUT, path).body(body)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    pub fn body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    /// The buckets it draws from, by name (for tests of who counts what).
    #[cfg(test)]
    pub(crate) fn bucket_names(&self) -> Vec<&str> {
        self.buckets.iter().map(|b| b.name()).collect()
    }

    pub fn bucket(mut self, bucket: &'a Bucket) -> Self {
        self.buckets.push(bucket);
        self
    }

    /// Sends it ahead of the requests not marked so when a bucket is full:
    /// for what a step is waiting on, when others only read ahead.
    pub fn first(mut self) -> Self {
        self.first = true;
        self
    }

    /// Marks the request as unsafe to repeat blindly (it creates something
    /// with no natural key). The caller checks what happened instead.
    pub fn once(mut self) -> Self {
        self.idempotent = false;
        self
    }
}

/// A request that did not succeed, after every attempt allowed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} {method} {path}: {kind} (after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
pub struct ApiError {
    pub service: &'static str,
    pub method: String,
    pub path: String,
    pub attempts: u32,
    pub kind: ApiErrorKind,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiErrorKind {
    #[error("HTTP {status}: {}", summarize(body))]
    Status { status: u16, body: String },
    #[error("connection failed: {0}")]
    Network(String),
    #[error("unexpected response body: {0}")]
    Decode(String),
    #[error("TLS: {0}")]
    Tls(String),
    /// A 3xx: ferry follows no redirect, so nothing is sent where the
    /// plan did not say.
    #[error(
        "HTTP {status} redirect to {host}; ferry follows no redirect: point the plan's `api_url` at the API itself"
    )]
    Redirect { status: u16, host: String },
    #[error("the response body is larger than {limit} bytes; ferry reads no more")]
    TooLarge { limit: usize },
    /// A listing that could not prove it was read whole.
    #[error("the listing is incomplete: {0}")]
    Incomplete(super::listing::Incomplete),
    #[error("not sent: the run is stopping ({0})")]
    Stopped(String),
    /// What had to happen before the first write did not.
    #[error("not sent: {0}")]
    Held(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ApiErrorKind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A listing (a GET of `path`) that could not prove it was read whole.
    pub fn incomplete(service: &'static str, path: &str, why: super::listing::Incomplete) -> Self {
        Self {
            service,
            method: "GET".into(),
            path: path.to_owned(),
            attempts: 1,
            kind: ApiErrorKind::Incomplete(why),
        }
    }

    /// The error body parsed as JSON, when it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        match &self.kind {
            ApiErrorKind::Status { body, .. } => serde_json::from_str(body).ok(),
            _ => None,
        }
    }
}

fn summarize(body: &str) -> String {
    let flat: String = body
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.trim().is_empty() {
        "(empty body)".into()
    } else {
        flat
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{service} URL `{url}`: {source}")]
    NotAUrl {
        service: &'static str,
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("{service} URL `{url}`: {reason}")]
    Url {
        service: &'static str,
        url: String,
        reason: String,
    },
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

impl ApiClient {
    pub fn new(
        service: &'static str,
        base: &str,
        key: Secret,
        retry: RetryPolicy,
    ) -> Result<Self, ClientError> {
        let url_error = |reason: &str| ClientError::Url {
            service,
            url: base.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(base).map_err(|source| ClientError::NotAUrl {
            service,
            url: base.to_owned(),
            source,
        })?;
        match parsed.scheme() {
            "https" => {}
            "http" if is_loopback(&parsed) => {}
            "http" => {
                return Err(url_error(
                    "plain http is allowed only to loopback; use https",
                ));
            }
            other => return Err(url_error(&format!("unsupported scheme `{other}`"))),
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(retry.attempt_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(256)
            .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")));
        if parsed.scheme() == "http" {
            // Plain http goes directly to loopback, never through a proxy
            // the environment names: the key would cross it in clear text.
            http = http.no_proxy();
        } else if let Some(proxy) = https_proxy() {
            tracing::info!(
                "{service}: https through the proxy {proxy} (from the environment; NO_PROXY is honoured)"
            );
        }
        let http = http.build().map_err(ClientError::Build)?;
        Ok(Self {
            service,
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            retry,
            cancel: Cancel::default(),
            refused_in_a_row: Default::default(),
            traffic: Default::default(),
            gate: None,
        })
    }

    /// Makes every write wait for `gate` first.
    pub fn with_write_gate(mut self, gate: std::sync::Arc<dyn WriteGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Lets `cancel` end this client's waits (the engine passes the run's).
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// Counts an attempt for the circuit breaker; opens it (stops the run)
    /// when too many in a row could not connect or were refused the key.
    fn breaker(&self, refused: Option<String>) {
        use std::sync::atomic::Ordering;
        let Some(why) = refused else {
            self.refused_in_a_row.store(0, Ordering::SeqCst);
            return;
        };
        let in_a_row = self.refused_in_a_row.fetch_add(1, Ordering::SeqCst) + 1;
        if in_a_row >= BREAKER {
            self.cancel.stop(Stop::Unavailable {
                message: format!(
                    "{} at {}: {why}, {in_a_row} times in a row; the run stops without marking records failed: fix it (or wait until {} is back), then run again and it resumes",
                    self.service, self.base, self.service
                ),
            });
        }
    }

    /// Counts a connection failure or a timeout; whether it opened the breaker.
    fn refused_in_a_row_now(&self, error: &reqwest::Error) -> bool {
        let what = if error.is_timeout() {
            format!("no answer within {:?}", self.retry.attempt_timeout)
        } else {
            format!("cannot connect ({})", describe(error))
        };
        self.breaker(Some(what));
        self.cancel.is_cancelled()
    }

    fn stopped(&self) -> ApiErrorKind {
        ApiErrorKind::Stopped(
            self.cancel
                .reason()
                .map_or_else(|| "interrupted".to_owned(), |r| r.to_string()),
        )
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Sends with retries; returns the body of a 2xx answer.
    pub async fn send(
        &self,
        request: &Request<'_>,
    ) -> Result<(StatusCode, bytes::Bytes), ApiError> {
        let url = format!("{}{}", self.base, request.path);
        if request.method != Method::GET
            && let Some(gate) = &self.gate
            && let Err(why) = gate.open().await
        {
            return Err(ApiError {
                service: self.service,
                method: request.method.to_string(),
                path: request.path.clone(),
                attempts: 0,
                kind: ApiErrorKind::Held(why),
            });
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = |kind| ApiError {
                service: self.service,
                method: request.method.to_string(),
                path: request.path.clone(),
                attempts: attempt,
                kind,
            };
            // Held until the answer is read: each counts this attempt in its
            // bucket's window from before it is sent until after it arrived.
            let mut permits = Vec::with_capacity(request.buckets.len());
            for bucket in &request.buckets {
                let place = async {
                    match request.first {
                        true => bucket.acquire_first().await,
                        false => bucket.acquire().await,
                    }
                };
                tokio::select! {
                    permit = place => permits.push(permit),
                    () = self.cancel.cancelled() => return Err(error(self.stopped())),
                }
            }
            let mut builder = self
                .http
                .request(request.method.clone(), &url)
                .bearer_auth(self.key.expose());
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = &request.body {
                builder = builder.json(body);
            }
            self.traffic
                .sent(attempt, request.method != reqwest::Method::GET);
            let sent_at = std::time::Instant::now();
            let verdict = match builder.send().await {
                Ok(response) => {
                    let status = response.status();
                    tracing::debug!(
                        "{} {} {} → {} in {} ms (attempt {attempt})",
                        self.service,
                        request.method,
                        request.path,
                        status.as_u16(),
                        sent_at.elapsed().as_millis()
                    );
                    self.breaker(
                        matches!(status.as_u16(), 401 | 403)
                            .then(|| format!("the key was refused (HTTP {})", status.as_u16())),
                    );
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    if status.is_redirection() {
                        let host = redirect_host(&response);
                        let kind = ApiErrorKind::Redirect {
                            status: status.as_u16(),
                            host,
                        };
                        self.cancel.stop(Stop::Configuration {
                            message: format!("{} at {}: {kind}", self.service, self.base),
                        });
                        return Err(error(kind));
                    }
                    let body = match read_bounded(response, MAX_BODY).await {
                        Ok(Some(body)) => body,
                        Ok(None) => return Err(error(ApiErrorKind::TooLarge { limit: MAX_BODY })),
                        Err(e) => {
                            // The connection dropped mid-body: as good as a network error.
                            if !request.idempotent {
                                return Err(error(ApiErrorKind::Network(describe(&e))));
                            }
                            match self.retry.after_network_error(attempt) {
                                NextAttempt::RetryAfter(wait) => {
                                    if !self.cancel.sleep(wait).await {
                                        return Err(error(self.stopped()));
                                    }
                                    continue;
                                }
                                NextAttempt::GiveUp => {
                                    return Err(error(ApiErrorKind::Network(describe(&e))));
                                }
                            }
                        }
                    };
                    if status.is_success() {
                        return Ok((status, body));
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.traffic.throttled();
                        let wait = retry_after.unwrap_or(Duration::from_secs(1));
                        if wait > self.retry.max_wait {
                            // Waiting a day in silence helps no one: stop, say when to come back.
                            self.cancel.stop(Stop::WaitTooLong {
                                service: self.service.to_owned(),
                                seconds: wait.as_secs(),
                                allowed: self.retry.max_wait.as_secs(),
                                resume_after: (chrono::Utc::now()
                                    + chrono::Duration::from_std(wait).unwrap_or_default())
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            });
                            return Err(error(self.stopped()));
                        }
                        for bucket in &request.buckets {
                            bucket.pause(wait);
                        }
                    }
                    // A request that must not be repeated blindly is tried
                    // again only after a 429, which says it was not taken;
                    // a 5xx may come after the work was done.
                    let next = match request.idempotent || status == StatusCode::TOO_MANY_REQUESTS {
                        true => self
                            .retry
                            .after_status(attempt, status.as_u16(), retry_after),
                        false => NextAttempt::GiveUp,
                    };
                    match next {
                        NextAttempt::RetryAfter(wait) => wait,
                        NextAttempt::GiveUp => {
                            // An error page may echo the request: keys, passwords, digests.
                            let text = ferry_wire::redact::redact(&String::from_utf8_lossy(
                                &body[..body.len().min(MAX_ERROR_BODY)],
                            ))
                            .into_owned();
                            return Err(error(ApiErrorKind::Status {
                                status: status.as_u16(),
                                body: text,
                            }));
                        }
                    }
                }
                Err(e) if let Some(problem) = certificate_problem(&e) => {
                    let message = format!(
                        "ferry refused the TLS connection to {} at {}: {problem}; check `api_url`, this machine's clock, and any proxy that intercepts TLS",
                        self.service, self.base
                    );
                    self.cancel.stop(Stop::Configuration {
                        message: message.clone(),
                    });
                    return Err(error(ApiErrorKind::Tls(message)));
                }
                Err(e) if (e.is_connect() || e.is_timeout()) && self.refused_in_a_row_now(&e) => {
                    return Err(error(self.stopped()));
                }
                Err(e) if !request.idempotent && !e.is_connect() => {
                    return Err(error(ApiErrorKind::Network(describe(&e))));
                }
                Err(e) => match self.retry.after_network_error(attempt) {
                    NextAttempt::RetryAfter(wait) => wait,
                    NextAttempt::GiveUp => return Err(error(ApiErrorKind::Network(describe(&e)))),
                },
            };
            drop(permits);
            tracing::debug!(service = self.service, path = %request.path, attempt, wait_ms = verdict.as_millis() as u64, "retrying");
            if verdict >= Duration::from_secs(5) {
                tracing::warn!(
                    "{} {}: waiting {} s before attempt {} (ends at once on Ctrl-C)",
                    self.service,
                    request.path,
                    verdict.as_secs(),
                    attempt + 1
                );
            }
            if !self.cancel.sleep(verdict).await {
                return Err(error(self.stopped()));
            }
        }
    }

    /// What this client has sent so far.
    pub fn traffic(&self) -> super::traffic::TrafficCounts {
        self.traffic.counts()
    }

    /// What one plan step sent through this client.
    pub fn traffic_of(&self, step: &str) -> super::traffic::TrafficCounts {
        self.traffic.counts_of(step)
    }

    /// Sends and decodes a JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, request: &Request<'_>) -> Result<T, ApiError> {
        let (_, body) = self.send(request).await?;
        serde_json::from_slice(&body).map_err(|e| ApiError {
            service: self.service,
            method: request.method.to_string(),
            path: request.path.clone(),
            attempts: 1,
            kind: ApiErrorKind::Decode(e.to_string()),
        })
    }
}

/// Reads a response body up to `limit` bytes: `None` past it (a declared
/// length over the limit is refused before a byte is read).
async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<bytes::Bytes>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Ok(None);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// Where a redirect pointed, as a host name only (a `Location` can carry
/// a path and query with anything in them), made safe to print.
fn redirect_host(response: &reqwest::Response) -> String {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok());
    let Some(location) = location else {
        return "(no Location given)".to_owned();
    };
    match response.url().join(location) {
        Ok(url) => {
            let host = ferry_wire::inert::printable(url.host_str().unwrap_or("(no host)"));
            match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.into_owned(),
            }
        }
        Err(_) => "(an unreadable Location)".to_owned(),
    }
}

/// A reqwest error without the URL (which can carry query values) and with its cause.
fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "the response body broke off".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ferry_wire::redact::redact(&text).into_owned()
}

/// The proxy the environment names for https, without its credentials.
pub fn https_proxy() -> Option<String> {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .map(|proxy| match Url::parse(&proxy) {
            Ok(mut url) => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.to_string()
            }
            Err(_) => "(unparseable)".to_owned(),
        })
}

/// What is wrong with the server's certificate, when a request was refused
/// at the TLS handshake for it: a setting to fix, never a transient failure.
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(cause) = source {
        // hyper wraps the TLS error in io::Errors, whose `source()` skips it.
        let mut inner: &(dyn std::error::Error + 'static) = cause;
        loop {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return describe_certificate(tls);
            }
            match inner
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(wrapped) => inner = wrapped,
                None => break,
            }
        }
        source = cause.source();
    }
    None
}

fn describe_certificate(error: &rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(problem) = error else {
        return matches!(error, rustls::Error::NoCertificatesPresented)
            .then(|| "the server presented no certificate".to_owned());
    };
    Some(
        match problem {
            C::UnknownIssuer => "its certificate is not signed by an authority this machine trusts",
            C::Expired | C::ExpiredContext { .. } => "its certificate has expired (or this machine's clock is wrong)",
            C::NotValidYet | C::NotValidYetContext { .. } => "its certificate is not valid yet (or this machine's clock is wrong)",
            C::NotValidForName | C::NotValidForNameContext { .. } => "its certificate is for another host name",
            C::Revoked => "its certificate has been revoked",
            _ => "its certificate is not one a server may present (self-signed, or an authority's own)",
        }
        .to_owned(),
    )
}

/// One path segment from a value ferry did not choose (an id an API
/// answered, an external id, a slug): percent-encoded, so no `/`, `?` or
/// `#` in it changes the request; and never `.` or `..` (which a URL reads
/// as a step up, even encoded), which become a segment no route has.
pub fn segment(value: &str) -> String {
    let encoded = url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    if value.trim_matches('.').is_empty() {
        "%00".to_owned()
    } else {
        encoded
    }
}

/// The loopback rule, defined where the plan is (the config layer).
pub use crate::plan::endpoint::is_loopback;

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn a_value_from_outside_stays_one_path_segment() {
        assert_eq!(segment("user_01ABC"), "user_01ABC");
        assert_eq!(segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        for step in [".", "..", "..."] {
            assert_eq!(segment(step), "%00", "{step}");
        }
        let url = url::Url::parse("https://api.workos.com/user_management/users/")
            .unwrap()
            .join(&segment("../../organizations"))
            .unwrap();
        assert_eq!(url.path(), "/user_management/users/..%2F..%2Forganizations");
    }
}
