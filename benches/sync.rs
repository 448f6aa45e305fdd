//! `ferry sync` after a load: what 1,000 changes in Clerk cost in a
//! 100,000-user tenant, next to the full run that loaded it.
//!
//! `cargo bench --bench sync` generates the tenant (one organization per
//! 100 users), runs users, organizations, roles and memberships with the
//! sandbox's limits off and no latency (so ferry's own cost is measured),
//! then makes 1,000 changes through the sandbox's Clerk admin routes: 400
//! sign-ups, 300 renames, 100 deletions, 100 new memberships and 100 role
//! changes. It times `ferry sync` and counts its requests and writes by
//! kind, and times a second sync that has nothing to do.
//! `FERRY_BENCH_USERS` changes the tenant's size.

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

    let changes = change(&bench);
    bench.sandbox.reset_request_counts();
    let sync = common::ferry_ok(&bench, "sync", &["sync", "plan.yaml", "--yes"]);
    let counts = bench.sandbox.request_counts();
    println!(
        "sync:         wall {:.1} s, CPU {:.1} s, peak {:.0} MB, {} requests ({} Clerk, {} WorkOS), {} WorkOS writes for {changes} changes",
        sync.wall,
        sync.cpu,
        sync.peak_mb,
        counts.total,
        total(&counts.clerk),
        total(&counts.workos),
        counts.workos_writes,
    );
    for (route, n) in counts.clerk.iter().chain(counts.workos.iter()) {
        println!("  {route}: {}", n.values().sum::<u64>());
    }

    bench.sandbox.reset_request_counts();
    let again = common::ferry_ok(&bench, "second sync", &["sync", "plan.yaml", "--yes"]);
    let counts = bench.sandbox.request_counts();
    println!(
        "second sync:  wall {:.1} s, CPU {:.1} s, {} requests, {} WorkOS writes",
        again.wall, again.cpu, counts.total, counts.workos_writes
    );
}

fn total(
    routes: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
) -> u64 {
    routes.values().flat_map(|n| n.values()).sum()
}

/// 1,000 changes in Clerk, through the sandbox's admin routes; returns how many.
fn change(bench: &Bench) -> usize {
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
        let tenant = call(reqwest::Method::GET, "tenant".into(), None).await;
        let users: Vec<String> = tenant["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| !u["email_addresses"].as_array().unwrap().is_empty())
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        let memberships = tenant["memberships"].as_array().unwrap();
        let organizations: Vec<String> = tenant["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect();
        let mut count = 0;
        for n in 0..400 {
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
        let mut deleted = std::collections::HashSet::new();
        for _ in 0..100 {
            let id = from_end.next().unwrap();
            call(reqwest::Method::DELETE, format!("users/{id}"), None).await;
            deleted.insert(id.as_str());
            count += 1;
        }
        for (n, user) in users.iter().take(100).enumerate() {
            let body = json!({"organization_id": organizations[n % organizations.len()], "user_id": user, "role": "org:member"});
            // A user already in that organization is refused: not counted.
            let request = client
                .request(reqwest::Method::POST, format!("{admin}memberships"))
                .json(&body);
            if request.send().await.expect("answers").status().is_success() {
                count += 1;
            }
        }
        let kept = |m: &&Value| {
            !deleted.contains(m["public_user_data"]["user_id"].as_str().unwrap_or(""))
        };
        for m in memberships.iter().rev().filter(kept).take(100) {
            let role = match m["role"].as_str() {
                Some("org:admin") => "org:member",
                _ => "org:admin",
            };
            let id = m["id"].as_str().unwrap();
            call(
                reqwest::Method::PATCH,
                format!("memberships/{id}"),
                Some(json!({"role": role})),
            )
            .await;
            count += 1;
        }
        count
    })
}
