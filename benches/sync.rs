//! `ferry sync` in the cutover window: what 1,000 changes in Clerk cost in
//! a 100,000-user tenant (`FERRY_BENCH_USERS=1000000` for the million the
//! window is sized for), under production limits, against the floor
//! Clerk's listings set.
//!
//! `cargo bench --bench sync` generates the tenant (one organization per
//! 100 users) and runs users, organizations, roles and memberships with
//! every limit off (the load is not what is measured), then one sync, as a
//! team rehearses before the window (it leaves the WorkOS event cursor the
//! window's sync follows). It then makes 1,000
//! changes through the sandbox's Clerk admin routes (300 sign-ups, 300
//! renames, 200 deletions, 200 new memberships), turns on production
//! limits (Clerk 1,000 requests per 10 s, as an `sk_live_` key gets;
//! WorkOS's documented limits, in the sandbox and in ferry's plan), and
//! times `ferry sync`. It reports:
//! - wall time against the Clerk listing floor: every user, organization
//!   and membership page (500 a page) at Clerk's 100 requests a second;
//! - requests per API and route;
//! - WorkOS writes against the changes.
//!
//! It then times a second sync that has nothing to do.

mod common;

use common::{Bench, LOAD};
use serde_json::{Value, json};

const STATE: &str = "state/sync.db";

fn main() {
    let users: usize = std::env::var("FERRY_BENCH_USERS")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let organizations = (users / 100).max(1);
    println!("{users} users, {organizations} organizations, limits off");
    let bench = Bench::unlimited(users, organizations);
    sandbox_memory("the tenant loaded");
    let plan = format!(
        "{}sync: {{ on_deleted: delete }}\n",
        common::unlimited_plan(&bench, STATE, LOAD)
    );
    std::fs::write(bench.dir.path().join("plan.yaml"), plan).expect("the plan");

    let run = common::ferry_ok(&bench, "run", &["run", "plan.yaml", "--yes"]);
    let loaded = bench.sandbox.request_counts();
    println!(
        "run:          wall {:.1} s, CPU {:.1} s, peak {:.0} MB, {} requests, {} WorkOS writes",
        run.wall, run.cpu, run.peak_mb, loaded.total, loaded.workos_writes
    );
    sandbox_memory("after the run");

    // The rehearsal: a sync before the window, limits still off.
    bench.sandbox.reset_request_counts();
    let rehearsal = common::ferry_ok(&bench, "rehearsal sync", &["sync", "plan.yaml", "--yes"]);
    let counts = bench.sandbox.request_counts();
    println!(
        "rehearsal sync (limits off): wall {:.1} s, CPU {:.1} s, peak {:.0} MB, {} requests, {} WorkOS writes",
        rehearsal.wall, rehearsal.cpu, rehearsal.peak_mb, counts.total, counts.workos_writes
    );

    let edits = std::time::Instant::now();
    let (changes, tenant) = change(&bench);
    println!(
        "{changes} changes through the sandbox's Clerk admin routes: {:.1} s; this process (the sandbox in it) holds {:.0} MB, peaked at {:.0} MB (generating the tenant included)",
        edits.elapsed().as_secs_f64(),
        common::rss_mb(std::process::id()).unwrap_or(f64::NAN),
        common::peak_rss_mb(std::process::id()).unwrap_or(f64::NAN),
    );
    // Production limits from here on: the sandbox's (a live Clerk key's
    // 1,000 per 10 s) and ferry's own (the plan's defaults for WorkOS).
    bench.sandbox.set_limits(ferry_sandbox::RateLimits {
        clerk_test: ferry_sandbox::Quota::new(1000, 10.0),
        ..ferry_sandbox::RateLimits::default()
    });
    let limited = common::unlimited_plan(&bench, STATE, LOAD)
        .replace("limits: { requests_per_10s: 100000 }", "limits: { requests_per_10s: 1000 }")
        .replace(
            "    limits: { writes_per_10s: 100000, reads_per_10s: 100000, requests_per_60s: 1000000 }\n",
            "",
        );
    let limited = format!("{limited}sync: {{ on_deleted: delete }}\n");
    std::fs::write(bench.dir.path().join("plan.yaml"), limited).expect("the plan");
    bench.sandbox.reset_request_counts();
    let sync = common::ferry_ok(&bench, "sync", &["sync", "plan.yaml", "--yes"]);
    let counts = bench.sandbox.request_counts();
    // Clerk's listings at 500 a page, at 100 requests a second.
    let pages = |n: usize| n.div_ceil(500);
    let floor_pages = pages(tenant.users) + pages(tenant.organizations) + pages(tenant.memberships);
    let floor = floor_pages as f64 / 100.0;
    println!(
        "sync (production limits): wall {:.1} s = {:.2} × the Clerk listing floor ({floor_pages} pages, {floor:.1} s), CPU {:.1} s, peak {:.0} MB",
        sync.wall,
        sync.wall / floor,
        sync.cpu,
        sync.peak_mb,
    );
    // ferry lets 498 writes through in any 10 s (half a percent under
    // WorkOS's 500): writes known at once need that many windows.
    let windows = counts.workos_writes.div_ceil(498).max(1);
    println!(
        "  requests: {} Clerk, {} WorkOS ({} reads, {} writes for {changes} changes; those writes alone span {windows} windows of WorkOS's 500 per 10 s: at least {} s from the first to the last)",
        total(&counts.clerk),
        total(&counts.workos),
        total(&counts.workos) - counts.workos_writes,
        counts.workos_writes,
        (windows - 1) * 10,
    );
    by_route(&counts);
    steps_of_latest_report(&bench);

    bench.sandbox.reset_request_counts();
    let again = common::ferry_ok(&bench, "second sync", &["sync", "plan.yaml", "--yes"]);
    let counts = bench.sandbox.request_counts();
    println!(
        "second sync:  wall {:.1} s, CPU {:.1} s, {} requests, {} WorkOS writes",
        again.wall, again.cpu, counts.total, counts.workos_writes
    );
    by_route(&counts);
    steps_of_latest_report(&bench);
}

/// What this process (the sandbox in it) holds now, and has held at most.
fn sandbox_memory(when: &str) {
    let pid = std::process::id();
    println!(
        "  this process (the sandbox in it), {when}: {:.0} MB, peak {:.0} MB",
        common::rss_mb(pid).unwrap_or(f64::NAN),
        common::peak_rss_mb(pid).unwrap_or(f64::NAN),
    );
}

/// Each step of the newest report: how long it took and what it sent
/// (steps the engine overlaps overlap here too).
fn steps_of_latest_report(bench: &Bench) {
    let newest = std::fs::read_dir(bench.dir.path().join("reports"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .max_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
    let Some(report) = newest
        .and_then(|path| std::fs::read(path).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        return;
    };
    for step in report["steps"].as_array().into_iter().flatten() {
        println!(
            "  step {}: {}, {} requests ({} writes, {} retries, {} throttled)",
            step["name"].as_str().unwrap_or("?"),
            step["duration"].as_str().unwrap_or("?"),
            step["traffic"]["requests"],
            step["traffic"]["writes"],
            step["traffic"]["retries"],
            step["traffic"]["throttled"],
        );
    }
}

fn by_route(counts: &ferry_sandbox::RequestCounts) {
    for (route, outcomes) in counts.clerk.iter().chain(counts.workos.iter()) {
        let unusual: Vec<String> = outcomes
            .iter()
            .filter(|(outcome, _)| !outcome.starts_with('2'))
            .map(|(outcome, n)| format!("{n} × {outcome}"))
            .collect();
        match unusual.is_empty() {
            true => println!("  {route}: {}", outcomes.values().sum::<u64>()),
            false => println!(
                "  {route}: {} ({})",
                outcomes.values().sum::<u64>(),
                unusual.join(", ")
            ),
        }
    }
}

fn total(
    routes: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> u64 {
    routes.values().flat_map(|n| n.values()).sum()
}

/// How big the tenant is after the changes.
struct Size {
    users: usize,
    organizations: usize,
    memberships: usize,
}

/// 1,000 changes in Clerk, through the sandbox's admin routes; returns how
/// many, and the tenant's size after them.
fn change(bench: &Bench) -> (usize, Size) {
    let admin = format!("{}clerk/", bench.sandbox.admin_url());
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let call = async |method: reqwest::Method, path: String, body: Option<Value>| {
            let mut request = client.request(method, format!("{admin}{path}"));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the sandbox answers");
            assert!(response.status().is_success(), "{path}: {}", response.status());
            response.json::<Value>().await.unwrap_or(Value::Null)
        };
        let users = &bench.ids.users_with_email;
        let organizations = &bench.ids.organizations;
        let mut count = 0;
        for n in 0..300 {
            let body = json!({"email_address": [format!("bench.signup.{n}@acme.test")], "first_name": "New"});
            call(reqwest::Method::POST, "users".into(), Some(body)).await;
            count += 1;
        }
        // Renamed and deleted users are taken from the far end of the list,
        // new members from its start: no user gets two changes.
        let mut from_end = users.iter().rev();
        for _ in 0..300 {
            let id = from_end.next().unwrap();
            let body = json!({"first_name": "Renamed"});
            call(reqwest::Method::PATCH, format!("users/{id}"), Some(body)).await;
            count += 1;
        }
        let mut deleted = Vec::new();
        for _ in 0..200 {
            let id = from_end.next().unwrap();
            call(reqwest::Method::DELETE, format!("users/{id}"), None).await;
            deleted.push(id);
            count += 1;
        }
        let mut added = 0;
        for (n, user) in users.iter().enumerate() {
            if added == 200 {
                break;
            }
            let body = json!({"organization_id": organizations[n % organizations.len()], "user_id": user, "role": "org:member"});
            // A user already in that organization is refused: not counted.
            let request = client
                .request(reqwest::Method::POST, format!("{admin}memberships"))
                .json(&body);
            if request.send().await.expect("answers").status().is_success() {
                count += 1;
                added += 1;
            }
        }
        // The tenant's size after the changes, from the generated one:
        // the deleted users' memberships went with them.
        let gone: std::collections::HashSet<&String> = deleted.into_iter().collect();
        let size = Size {
            users: bench.ids.users + 300 - gone.len(),
            organizations: organizations.len(),
            memberships: bench.ids.membership_users.len() + added
                - bench
                    .ids
                    .membership_users
                    .iter()
                    .filter(|user| gone.contains(user))
                    .count(),
        };
        (count, size)
    })
}
