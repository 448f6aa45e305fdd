//! The transport follows no one: real loopback servers that redirect,
//! answer without end, or never answer, against the client every API call
//! of ferry goes through.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ferry_core::http::client::MAX_BODY;
use ferry_core::http::{ApiClient, ApiErrorKind, Request, RetryPolicy};
use ferry_core::support::cancel::{Cancel, Stop};
use ferry_wire::secret::Secret;

/// A loopback server answering each connection with `answer`; counts the
/// connections and keeps every request it read, whole.
struct Server {
    url: String,
    port: u16,
    connections: Arc<AtomicUsize>,
    received: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Serves each connection on its own thread: reads the request head,
/// then lets `answer` write whatever it wants given the request line.
fn serve(answer: impl Fn(&str, &mut TcpStream) + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (counter, log) = (Arc::clone(&connections), Arc::clone(&received));
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1000) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let (answer, log) = (Arc::clone(&answer), Arc::clone(&log));
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or("").to_owned();
                log.lock().unwrap().push(line.clone());
                answer(&line, &mut stream);
            });
        }
    });
    Server {
        url: format!("http://127.0.0.1:{port}"),
        port,
        connections,
        received,
    }
}

fn api_client(base: &str, retry: RetryPolicy) -> (ApiClient, Cancel) {
    let cancel = Cancel::default();
    let client = ApiClient::new("WorkOS", base, Secret::new("sk_test_transport_key"), retry)
        .unwrap()
        .with_cancel(cancel.clone());
    (client, cancel)
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_its_host_and_nothing_follows_it() {
    let elsewhere = serve(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    });
    for status in [301u16, 302, 307, 308] {
        let location = format!("http://127.0.0.2:{}/steal?x=1", elsewhere.port);
        let redirecting = serve(move |_, stream| {
            let answer = format!(
                "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes());
        });
        let (client, cancel) = api_client(&redirecting.url, quick());
        let request = Request::post(
            "/user_management/users",
            serde_json::json!({ "password_hash": "$2b$10$secretdigest" }),
        );
        let error = client.send(&request).await.unwrap_err();
        assert!(
            matches!(&error.kind, ApiErrorKind::Redirect { status: s, host } if *s == status && *host == format!("127.0.0.2:{}", elsewhere.port)),
            "{status}: {error}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "WorkOS POST /user_management/users: HTTP {status} redirect to 127.0.0.2:{}; ferry follows no redirect: point the plan's `api_url` at the API itself (after 1 attempt)",
                elsewhere.port
            )
        );
        assert_eq!(
            redirecting.connections.load(Ordering::SeqCst),
            1,
            "{status}: sent once, not retried"
        );
        assert!(
            matches!(cancel.reason(), Some(Stop::Configuration { .. })),
            "a redirecting API stops the run: {:?}",
            cancel.reason()
        );
    }
    assert_eq!(
        elsewhere.connections.load(Ordering::SeqCst),
        0,
        "nothing reached the host a redirect named: {:?}",
        elsewhere.received.lock().unwrap()
    );
}

#[tokio::test]
async fn a_body_past_the_cap_is_refused_without_reading_it_all() {
    // A chunked answer with no declared length, sent until the client hangs up.
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let endless = serve(move |_, stream| {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
        let chunk = vec![b' '; 1 << 20];
        let header = format!("{:x}\r\n", chunk.len());
        // Bounded: at most four times the cap, then the server gives up.
        for _ in 0..((4 * MAX_BODY) >> 20) {
            if stream.write_all(header.as_bytes()).is_err()
                || stream.write_all(&chunk).is_err()
                || stream.write_all(b"\r\n").is_err()
            {
                return;
            }
            counter.fetch_add(chunk.len(), Ordering::SeqCst);
        }
    });
    let (client, _) = api_client(&endless.url, quick());
    let error = client
        .send(&Request::get("/user_management/users"))
        .await
        .unwrap_err();
    assert!(
        matches!(error.kind, ApiErrorKind::TooLarge { limit } if limit == MAX_BODY),
        "{error}"
    );
    assert_eq!(
        endless.connections.load(Ordering::SeqCst),
        1,
        "an oversized answer is not asked for again"
    );
    assert!(
        sent.load(Ordering::SeqCst) < 2 * MAX_BODY,
        "the client stopped reading near the cap ({} bytes sent)",
        sent.load(Ordering::SeqCst)
    );

    // A declared length over the cap is refused before a byte of it is read.
    let declared = serve(|_, stream| {
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 3u64 << 30);
        let _ = stream.write_all(head.as_bytes());
    });
    let (client, _) = api_client(&declared.url, quick());
    let error = client.send(&Request::get("/x")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "WorkOS GET /x: the response body is larger than {MAX_BODY} bytes; ferry reads no more (after 1 attempt)"
        )
    );
}

#[tokio::test]
async fn timeouts_open_the_circuit_breaker_like_refused_connections() {
    // Reads the request, then never answers.
    let hung = serve(|_, stream| {
        std::thread::sleep(Duration::from_secs(5));
        let _ = stream.flush();
    });
    let (client, cancel) = api_client(
        &hung.url,
        RetryPolicy {
            attempt_timeout: Duration::from_millis(200),
            max_attempts: 5,
            ..quick()
        },
    );
    let first = client.send(&Request::get("/users/count")).await;
    assert!(first.is_err());
    assert!(!cancel.is_cancelled(), "five timeouts are not yet eight");
    let second = client
        .send(&Request::get("/users/count"))
        .await
        .unwrap_err();
    let Some(Stop::Unavailable { message }) = cancel.reason() else {
        panic!("the breaker opens on timeouts: {:?}", cancel.reason());
    };
    assert!(
        message.starts_with(&format!(
            "WorkOS at {}: no answer within 200ms, 8 times in a row; the run stops without marking records failed",
            hung.url
        )),
        "{message}"
    );
    assert!(matches!(second.kind, ApiErrorKind::Stopped(_)), "{second}");
    assert_eq!(hung.connections.load(Ordering::SeqCst), 8);
}

/// Answers every request with the status and JSON body `page(request
/// line)` chooses.
fn serve_json(page: impl Fn(&str) -> (u16, serde_json::Value) + Send + Sync + 'static) -> Server {
    serve(move |line, stream| {
        let (status, body) = page(line);
        let body = body.to_string();
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(answer.as_bytes());
    })
}

fn workos(base: &str) -> ferry_core::workos::client::WorkosClient {
    ferry_core::workos::client::WorkosClient::new(
        base,
        Secret::new("sk_test_transport_key"),
        &ferry_core::workos::client::WorkosLimits::default(),
        quick(),
    )
    .unwrap()
}

fn role(slug: &str) -> serde_json::Value {
    serde_json::json!({
        "object": "role", "id": format!("role_{slug}"), "slug": slug, "name": slug,
        "type": "EnvironmentRole", "permissions": [],
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    })
}

#[tokio::test]
async fn roles_a_server_pages_are_all_read() {
    // Ten roles, then `admin` and `member` behind a cursor.
    let server = serve_json(|line| {
        let page = if line.contains("after=role_r9") {
            serde_json::json!({ "object": "list", "data": [role("admin"), role("member")],
                "list_metadata": { "before": "role_admin", "after": null } })
        } else {
            let first: Vec<_> = (0..10).map(|i| role(&format!("r{i}"))).collect();
            serde_json::json!({ "object": "list", "data": first,
                "list_metadata": { "before": null, "after": "role_r9" } })
        };
        (200, page)
    });
    let roles = workos(&server.url).roles().await.unwrap();
    let slugs: Vec<&str> = roles.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(
        slugs,
        [
            "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "admin", "member"
        ]
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_membership_cursor_that_never_ends_is_an_error_not_an_endless_read() {
    // Every page holds a new membership and offers yet another page.
    let pages = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pages);
    let server = serve_json(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        // From the fifth page on, the cursor comes back: a loop.
        let after = format!("om_{}", n.min(4));
        let page = serde_json::json!({ "object": "list",
            "data": [{ "object": "organization_membership", "id": format!("om_{n}"),
                "user_id": "user_1", "organization_id": "org_1", "status": "active",
                "role": { "slug": "member" },
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" }],
            "list_metadata": { "before": null, "after": after } });
        (200, page)
    });
    let error = workos(&server.url)
        .all_memberships(ferry_core::workos::client::MembershipFilter::Organization(
            "org_1",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "WorkOS GET /user_management/organization_memberships: the listing is incomplete: page 6 handed out a cursor it had handed out before (after 1 attempt)"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn a_404_on_a_webhook_patch_is_gone_only_when_the_listing_agrees() {
    let endpoint = serde_json::json!({ "object": "webhook_endpoint", "id": "we_1",
        "endpoint_url": "https://example.test/hook", "secret": "whsec_x", "status": "disabled",
        "events": [], "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z" });
    for (listed, gone) in [(true, false), (false, true)] {
        let endpoint = endpoint.clone();
        let server = serve_json(move |line| {
            if line.starts_with("PATCH") {
                (404, serde_json::json!({ "message": "Not Found" }))
            } else {
                let data = if listed {
                    vec![endpoint.clone()]
                } else {
                    vec![]
                };
                (
                    200,
                    serde_json::json!({ "object": "list", "data": data,
                    "list_metadata": { "before": null, "after": null } }),
                )
            }
        });
        let result = workos(&server.url).set_webhook_enabled("we_1", true).await;
        match (gone, result) {
            (true, Ok(false)) => {}
            (false, Err(error)) => assert_eq!(error.status(), Some(404), "{error}"),
            (gone, other) => panic!("listed: {listed}, gone: {gone}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_sign_in_counts_only_with_the_user_it_signed_in() {
    let answers = [
        (
            serde_json::json!({}),
            Err(
                "200 without the user it signed in: WorkOS's answer holds no user with this email"
                    .to_owned(),
            ),
        ),
        (
            serde_json::json!({ "user": { "email": "someone.else@example.test" } }),
            Err(
                "200 without the user it signed in: WorkOS's answer holds no user with this email"
                    .to_owned(),
            ),
        ),
        (
            serde_json::json!({ "user": { "email": "Canary@Example.test" }, "access_token": "x" }),
            Ok("signed in (200)".to_owned()),
        ),
    ];
    for (answer, expected) in answers {
        let server = serve_json(move |_| (200, answer.clone()));
        let result = workos(&server.url)
            .authenticate(
                "client_1",
                &Secret::new("sk_test_transport_key"),
                "canary@example.test",
                &Secret::new("a canary password"),
            )
            .await;
        assert_eq!(result, expected);
    }
}
