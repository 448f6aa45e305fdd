//! Rate limits as documented: bursts beyond them meet 429 with Retry-After,
//! a client that keeps to them meets none.

use std::sync::Arc;
use std::time::Duration;

use ferry_sandbox::{Quota, RateLimits, SandboxOptions};
use reqwest::Method;
use serde_json::json;
use tokio::sync::Semaphore;

use super::{Harness, read};

/// A client that keeps to "`limit` requests per `window`" from what it can
/// prove: a request counts from just before it is sent until a window
/// after its answer (it surely arrived by then), one place left spare.
struct Pace {
    places: Arc<Semaphore>,
    window: Duration,
}

impl Pace {
    fn new(limit: usize, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            places: Arc::new(Semaphore::new(limit - 1)),
            window,
        })
    }
}

/// Fires `count` user creations with `in_flight` at once; (status, Retry-After) each.
async fn create_users(
    harness: &Arc<Harness>,
    count: usize,
    in_flight: usize,
    pace: Option<Arc<Pace>>,
) -> Vec<(u16, Option<String>)> {
    let permits = Arc::new(Semaphore::new(in_flight));
    let mut tasks = Vec::new();
    for i in 0..count {
        let harness = harness.clone();
        let permits = permits.clone();
        let pace = pace.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await.unwrap();
            let place = match &pace {
                Some(pace) => Some(pace.places.clone().acquire_owned().await.unwrap()),
                None => None,
            };
            let response = harness
                .workos(Method::POST, "/user_management/users")
                .json(&json!({"email": format!("load{i}@acme.test")}))
                .send()
                .await
                .unwrap();
            if let (Some(place), Some(pace)) = (place, &pace) {
                let window = pace.window;
                tokio::spawn(async move {
                    tokio::time::sleep(window).await;
                    drop(place);
                });
            }
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (response.status().as_u16(), retry_after)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_creates_meets_429_with_retry_after() {
    let harness = Arc::new(Harness::start(SandboxOptions::default()).await);
    let results = create_users(&harness, 1000, 50, None).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let throttled: Vec<_> = results.iter().filter(|(s, _)| *s == 429).collect();
    assert!(
        !throttled.is_empty(),
        "1000 creates at once stayed under 500 / 10 s"
    );
    assert!(
        created >= 500,
        "the burst allowance is 500, {created} got through"
    );
    assert_eq!(created + throttled.len(), 1000);
    for (_, retry_after) in throttled {
        let seconds: u64 = retry_after
            .as_deref()
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=10).contains(&seconds));
    }
    // Refused creates left nothing behind.
    assert_eq!(harness.sandbox.workos_state().users.len(), created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_to_the_limit_meets_none() {
    // The sandbox counts arrivals in an exact window (100 writes a second
    // here, to keep the test short); a client that counts each request until
    // a window after its answer sends each window's worth at once, 50 in
    // flight, and meets no 429 although requests reach the server whenever
    // the scheduler lets them. (Not ferry's bucket, which takes the fastest
    // round trip off that wait: it assumes that round trip had no delay of
    // its own, which loopback on a loaded machine does not give, and it
    // met a 429 here once in several runs.)
    let limits = RateLimits {
        workos_writes: Quota::new(100, 1.0),
        ..RateLimits::default()
    };
    let harness = Arc::new(Harness::start(SandboxOptions::default().with_limits(limits)).await);
    let pace = Pace::new(100, Duration::from_secs(1));
    let results = create_users(&harness, 350, 50, Some(pace)).await;
    let throttled = results.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(throttled, 0);
    assert_eq!(harness.sandbox.workos_state().users.len(), 350);
}

/// Requests until the first 429: (how many passed before it, its Retry-After).
/// Counting, not timing: the bucket refills while a slow machine loops.
async fn until_throttled(mut send: impl AsyncFnMut() -> reqwest::Response) -> (usize, String) {
    for passed in 0..10_000 {
        let response = send().await;
        if response.status() == 429 {
            let retry_after = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .to_owned();
            return (passed, retry_after);
        }
        assert!(response.status().is_success(), "{}", response.status());
    }
    panic!("never throttled");
}

#[tokio::test]
async fn clerk_limits_each_test_key_to_100_per_10_seconds() {
    let harness = Harness::start(SandboxOptions::default()).await;
    let (passed, retry_after) = until_throttled(async || {
        harness
            .clerk(Method::GET, "/users/count")
            .send()
            .await
            .unwrap()
    })
    .await;
    assert!(
        (100..150).contains(&passed),
        "{passed} passed before the first 429"
    );
    assert!(retry_after.parse::<u64>().unwrap() >= 1);
    let (status, body) = harness.clerk_get("/users/count").await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["code"], "too_many_requests");
}

#[tokio::test]
async fn limits_scale_and_change_at_run_time() {
    // 500 × 0.01 = 5 writes per 10 s.
    let harness =
        Harness::start(SandboxOptions::default().with_limits(RateLimits::default().scaled(0.01)))
            .await;
    let mut n = 0;
    let (passed, _) = until_throttled(async || {
        n += 1;
        harness
            .workos(Method::POST, "/user_management/users")
            .json(&json!({"email": format!("s{n}@acme.test")}))
            .send()
            .await
            .unwrap()
    })
    .await;
    assert!(
        (5..8).contains(&passed),
        "{passed} writes passed before the first 429"
    );

    // Through the admin route: a generous write quota, fresh buckets.
    let limits = RateLimits {
        workos_writes: Quota::new(1000, 1.0),
        ..RateLimits::default()
    };
    let (status, _) = read(
        harness
            .admin(Method::PUT, "limits")
            .json(&limits)
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = harness
        .workos_post(
            "/user_management/users",
            json!({"email": "after@acme.test"}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, current) = read(harness.admin(Method::GET, "limits").send().await).await;
    assert_eq!(current["workos_writes"]["requests"], 1000);
}
