//! The sandbox's 100,000-user acceptance benchmark (see docs/benchmarks.md).
//!
//! `cargo bench --bench sandbox` measures, in a release build:
//! 1. generating a 100,000-user tenant in process;
//! 2. `ferry sandbox --users 100000` as a process, from spawn to ready file;
//! 3. `GET /v1/users?limit=500` over loopback HTTP for every page of the
//!    tenant (offset pages and `starting_after` pages), per-page latency;
//! 4. the WorkOS side at migration scale: 20,000 user creations (with
//!    imported bcrypt digests) at 50 in flight, then every
//!    `GET /user_management/users?limit=100` page by `after` cursor.
//!
//! Prints the numbers and fails (non-zero exit) if a target is missed:
//! ready in under 10 s, every page in under 20 ms.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_sandbox::generate::{GeneratorOptions, generate};
use ferry_sandbox::{RateLimits, Sandbox, SandboxInfo, SandboxOptions};

const USERS: usize = 100_000;
const ORGANIZATIONS: usize = 1_000;
const PAGE: usize = 500;
const READY_TARGET: Duration = Duration::from_secs(10);
const PAGE_TARGET: Duration = Duration::from_millis(20);

fn main() {
    let mut failures = Vec::new();

    let started = Instant::now();
    let generated = generate(GeneratorOptions {
        users: USERS,
        organizations: ORGANIZATIONS,
        seed: 1,
    });
    println!(
        "generate {USERS} users, {ORGANIZATIONS} organizations, {} memberships in process: {:.2} s",
        generated.truth.memberships,
        started.elapsed().as_secs_f64()
    );

    let ready = process_ready_time(&[]);
    println!(
        "ferry sandbox --users {USERS} --orgs {ORGANIZATIONS}: ready in {:.2} s",
        ready.as_secs_f64()
    );
    if ready >= READY_TARGET {
        failures.push(format!("ready in {ready:?}, target {READY_TARGET:?}"));
    }
    let with_files = process_ready_time(&["--export", "users.csv", "--passwords", "passwords.csv"]);
    println!(
        "  … also writing the CSV export and the passwords file: ready in {:.2} s",
        with_files.as_secs_f64()
    );
    if with_files >= READY_TARGET {
        failures.push(format!(
            "ready with side files in {with_files:?}, target {READY_TARGET:?}"
        ));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let options = SandboxOptions::default()
            .with_generated(&generated)
            .with_limits(RateLimits::disabled());
        let sandbox = Sandbox::start(options).await.expect("the sandbox starts");
        let client = reqwest::Client::new();
        for (label, by_cursor) in [("offset", false), ("starting_after", true)] {
            let timings = pages(&client, &sandbox, by_cursor).await;
            report(&format!("GET /v1/users?limit={PAGE} by {label}"), &timings);
            let worst = timings.iter().max().copied().unwrap_or_default();
            if worst >= PAGE_TARGET {
                failures.push(format!(
                    "{label}: slowest page {worst:?}, target {PAGE_TARGET:?}"
                ));
            }
        }
        workos_at_scale(&client, &sandbox, &generated).await;
    });

    if failures.is_empty() {
        println!("all targets met");
    } else {
        for failure in &failures {
            eprintln!("MISSED: {failure}");
        }
        std::process::exit(1);
    }
}

/// Walks the whole tenant 500 users at a time; the time of each page,
/// request sent to body fully read.
async fn pages(client: &reqwest::Client, sandbox: &Sandbox, by_cursor: bool) -> Vec<Duration> {
    // One untimed request opens the keep-alive connection: connecting is
    // not serving a page.
    client
        .get(format!("{}/users/count", sandbox.clerk_url()))
        .bearer_auth(&sandbox.keys().clerk_secret_key)
        .send()
        .await
        .expect("an answer");
    let mut timings = Vec::new();
    let mut cursor: Option<String> = None;
    let mut offset = 0;
    let mut seen = 0;
    loop {
        let url = match (&cursor, by_cursor) {
            (Some(last), true) => format!(
                "{}/users?limit={PAGE}&order_by=%2Bcreated_at&starting_after={last}",
                sandbox.clerk_url()
            ),
            _ => format!(
                "{}/users?limit={PAGE}&offset={offset}&order_by=%2Bcreated_at",
                sandbox.clerk_url()
            ),
        };
        let started = Instant::now();
        let body = client
            .get(url)
            .bearer_auth(&sandbox.keys().clerk_secret_key)
            .send()
            .await
            .expect("an answer")
            .bytes()
            .await
            .expect("a body");
        timings.push(started.elapsed());
        let users: Vec<serde_json::Value> = serde_json::from_slice(&body).expect("a JSON array");
        if users.is_empty() {
            break;
        }
        seen += users.len();
        offset += users.len();
        cursor = users
            .last()
            .and_then(|user| user["id"].as_str())
            .map(str::to_owned);
    }
    assert_eq!(seen, USERS, "every user exactly once");
    timings
}

const WORKOS_USERS: usize = 20_000;
const IN_FLIGHT: usize = 50;

/// Creates users the way a migration does, then lists them all back.
async fn workos_at_scale(
    client: &reqwest::Client,
    sandbox: &Sandbox,
    generated: &ferry_sandbox::GeneratedTenant,
) {
    let with_digest: Vec<(String, String, String)> = generated
        .export
        .iter()
        .filter(|row| row.password_hasher.as_deref() == Some("bcrypt"))
        .filter(|row| !row.primary_email_address.is_empty())
        .take(WORKOS_USERS)
        .map(|row| {
            let digest = row.password_digest.as_ref().map(|d| d.expose().to_owned());
            (
                row.id.clone(),
                row.primary_email_address.clone(),
                digest.unwrap_or_default(),
            )
        })
        .collect();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let url = format!("{}/user_management/users", sandbox.workos_url());
    let key = sandbox.keys().workos_api_key.clone();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(with_digest.len());
    for (id, email, digest) in with_digest {
        let (client, url, key, permits) =
            (client.clone(), url.clone(), key.clone(), permits.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("a permit");
            let body = serde_json::json!({
                "email": email, "external_id": id, "email_verified": true,
                "password_hash": digest, "password_hash_type": "bcrypt",
            });
            client
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    let mut created = 0;
    for task in tasks {
        if let Ok(Ok(201)) = task.await {
            created += 1;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "POST /user_management/users: {created} created at {IN_FLIGHT} in flight in {:.2} s ({:.0} per second)",
        elapsed.as_secs_f64(),
        created as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(created, sandbox.workos_state().users.len());

    let mut timings = Vec::new();
    let mut after: Option<String> = None;
    let mut seen = 0;
    loop {
        let mut page_url = format!("{url}?limit=100&order=asc");
        if let Some(cursor) = &after {
            page_url.push_str(&format!("&after={cursor}"));
        }
        let started = Instant::now();
        let body: serde_json::Value = client
            .get(page_url)
            .bearer_auth(&key)
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("a list");
        timings.push(started.elapsed());
        seen += body["data"].as_array().map_or(0, Vec::len);
        match body["list_metadata"]["after"].as_str() {
            Some(cursor) => after = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created, "every user exactly once");
    report("GET /user_management/users?limit=100 by after", &timings);
}

fn report(label: &str, timings: &[Duration]) {
    let mut sorted = timings.to_vec();
    sorted.sort();
    let at = |fraction: f64| sorted[((sorted.len() - 1) as f64 * fraction) as usize];
    println!(
        "{label}: {} pages, min {:.1} ms, median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        sorted.len(),
        ms(sorted[0]),
        ms(at(0.5)),
        ms(at(0.95)),
        ms(sorted[sorted.len() - 1]),
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Spawns `ferry sandbox --users 100000` and times spawn → ready file.
fn process_ready_time(extra: &[&str]) -> Duration {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let ready = dir.path().join("ready.json");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .current_dir(dir.path())
        .args(["sandbox", "--clerk-port", "0", "--workos-port", "0"])
        .args([
            "--users",
            &USERS.to_string(),
            "--orgs",
            &ORGANIZATIONS.to_string(),
        ])
        .arg("--ready-file")
        .arg(&ready)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ferry sandbox starts");
    let elapsed = wait_for(&ready, Duration::from_secs(120));
    let info: SandboxInfo =
        serde_json::from_str(&std::fs::read_to_string(&ready).expect("the ready file"))
            .expect("ready JSON");
    assert!(info.clerk_api_url.starts_with("http://127.0.0.1:"));
    let _ = child.kill();
    let _ = child.wait();
    elapsed.map(|_| started.elapsed()).expect("ready in time")
}

fn wait_for(path: &Path, limit: Duration) -> Option<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return Some(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}
