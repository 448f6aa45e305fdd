//! Fault injection (deterministic under a seed, changed at run time through
//! the admin route) and introspection (request counts, WorkOS state dump).

use std::time::{Duration, Instant};

use ferry_sandbox::{FaultConfig, RequestCounts, WorkosDump};
use reqwest::Method;
use serde_json::json;

use super::{Harness, read};

async fn set_faults(harness: &Harness, config: serde_json::Value) {
    let (status, body) = read(
        harness
            .admin(Method::PUT, "faults")
            .json(&config)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn statuses(harness: &Harness, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        let (status, _) = harness.workos_get("/user_management/users").await;
        statuses.push(status);
    }
    statuses
}

#[tokio::test]
async fn server_errors_follow_the_seed() {
    let harness = Harness::unlimited().await;
    let config = json!({"seed": 5, "error_rate": 0.3});
    set_faults(&harness, config.clone()).await;
    let first = statuses(&harness, 60).await;
    set_faults(&harness, config).await;
    let second = statuses(&harness, 60).await;
    assert_eq!(first, second, "the same seed must give the same faults");
    assert!(first.iter().any(|s| [500, 502, 503].contains(s)));
    assert!(first.contains(&200));
    set_faults(&harness, json!({"seed": 6, "error_rate": 0.3})).await;
    assert_ne!(statuses(&harness, 60).await, first);
}

#[tokio::test]
async fn a_reset_connection_is_an_error_for_the_client() {
    let harness = Harness::unlimited().await;
    set_faults(&harness, json!({"reset_rate": 1.0})).await;
    let result = harness
        .workos(Method::GET, "/user_management/users")
        .send()
        .await;
    assert!(
        result.is_err(),
        "expected a connection error, got {result:?}"
    );
    let counts = harness.sandbox.request_counts();
    assert_eq!(counts.count("GET /user_management/users", "reset"), 1);
}

#[tokio::test]
async fn a_dropped_write_took_effect_though_the_client_saw_an_error() {
    let harness = Harness::unlimited().await;
    set_faults(&harness, json!({"drop_write_rate": 1.0})).await;
    let result = harness
        .workos(Method::POST, "/user_management/users")
        .json(&json!({"email": "ghost@acme.test", "external_id": "user_clerk_9"}))
        .send()
        .await;
    assert!(
        result.is_err(),
        "the answer should have been dropped: {result:?}"
    );
    // Reads are never dropped: the user is there.
    let (status, user) = harness
        .workos_get("/user_management/users/external_id/user_clerk_9")
        .await;
    assert_eq!(
        (status, user["email"].as_str()),
        (200, Some("ghost@acme.test"))
    );
    // A blind retry now meets the conflict an idempotent client must resolve.
    set_faults(&harness, json!({})).await;
    let (status, body) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "ghost@acme.test", "external_id": "user_clerk_9"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "email_not_available");
    let counts = harness.sandbox.request_counts();
    assert_eq!(
        counts.count("POST /user_management/users", "201 dropped"),
        1
    );
}

#[tokio::test]
async fn scripted_429_bursts_hit_exact_requests() {
    let harness = Harness::unlimited().await;
    set_faults(
        &harness,
        json!({"throttle": [{"after_requests": 1, "count": 2, "retry_after_secs": 3}]}),
    )
    .await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let response = harness
            .workos(Method::GET, "/organizations")
            .send()
            .await
            .unwrap();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.push((response.status().as_u16(), retry));
    }
    let throttled = (429, Some("3".to_owned()));
    assert_eq!(
        seen,
        [(200, None), throttled.clone(), throttled, (200, None)]
    );
}

#[tokio::test]
async fn latency_is_added_and_faults_can_be_read_back() {
    let harness = Harness::unlimited().await;
    set_faults(&harness, json!({"latency_ms": 120})).await;
    let started = Instant::now();
    harness.workos_get("/organizations").await;
    // A lower bound only: a busy machine may be slower, never faster.
    assert!(started.elapsed() >= Duration::from_millis(120));
    let (_, config) = read(harness.admin(Method::GET, "faults").send().await).await;
    let config: FaultConfig = serde_json::from_value(config).unwrap();
    assert_eq!(config.latency_ms, 120);
    assert_eq!(harness.sandbox.faults(), config);

    let (status, _) = read(
        harness
            .admin(Method::PUT, "faults")
            .json(&json!({"error_rate": 2.0}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = read(
        harness
            .admin(Method::PUT, "faults")
            .json(&json!({"no_such_knob": 1}))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn request_counts_and_the_state_dump() {
    let harness = Harness::unlimited().await;
    harness.create_user(json!({"email": "a@acme.test"})).await;
    harness
        .workos_post("/user_management/users", json!({"email": "a@acme.test"}))
        .await;
    harness.workos_get("/user_management/users").await;
    harness.workos_get("/user_management/users/user_nope").await;

    let (_, counts) = read(harness.admin(Method::GET, "requests").send().await).await;
    let counts: RequestCounts = serde_json::from_value(counts).unwrap();
    assert_eq!(counts.count("POST /user_management/users", "201"), 1);
    assert_eq!(counts.count("POST /user_management/users", "400"), 1);
    assert_eq!(counts.count("GET /user_management/users/{id}", "404"), 1);
    assert_eq!(counts.workos_writes, 2);
    assert_eq!(counts.total, 4, "admin requests are not counted");

    let (status, _) = read(harness.admin(Method::POST, "requests/reset").send().await).await;
    assert_eq!(status, 204);
    harness.workos_get("/user_management/users").await;
    let counts = harness.sandbox.request_counts();
    assert_eq!(
        (counts.total, counts.workos_writes),
        (1, 0),
        "a read-only pass made no writes"
    );

    let (_, dump) = read(harness.admin(Method::GET, "state").send().await).await;
    let dump: WorkosDump = serde_json::from_value(dump).unwrap();
    let emails: Vec<&str> = dump.users.iter().map(|u| u.user.email.as_str()).collect();
    assert_eq!(emails, ["a@acme.test"], "exactly one user per email");
    assert_eq!(dump.users[0].password_hash_type, None);

    let (status, _) = read(harness.admin(Method::POST, "state/reset").send().await).await;
    assert_eq!(status, 204);
    assert!(harness.sandbox.workos_state().users.is_empty());
    harness.create_user(json!({"email": "a@acme.test"})).await;
}

#[tokio::test]
async fn the_ground_truth_of_a_generated_tenant() {
    let (harness, generated) = Harness::generated(50, 2).await;
    let (status, truth) = read(harness.admin(Method::GET, "truth").send().await).await;
    assert_eq!(status, 200);
    assert_eq!(truth["users"], 50);
    assert_eq!(truth, serde_json::to_value(&generated.truth).unwrap());
    let empty = Harness::unlimited().await;
    let (status, _) = read(empty.admin(Method::GET, "truth").send().await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn retry_after_can_be_an_http_date() {
    let harness = Harness::unlimited().await;
    set_faults(
        &harness,
        json!({"throttle": [{"after_requests": 0, "count": 1, "retry_after_secs": 30}],
               "retry_after_format": "http_date"}),
    )
    .await;
    let response = harness
        .workos(Method::GET, "/organizations")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let date = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .to_owned();
    let at = chrono::DateTime::parse_from_rfc2822(&date.replace("GMT", "+0000"))
        .unwrap_or_else(|_| panic!("an HTTP date, got {date}"));
    assert!(at > chrono::Utc::now(), "{date} is not in the future");
    assert!(response.headers().contains_key("x-request-id"));
}
