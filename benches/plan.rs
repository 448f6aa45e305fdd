//! The whole reference plan (assess, users, organizations, roles,
//! memberships, mfa_report, verify) against the sandbox at WorkOS's real
//! default limits, with injected latency: how close the run gets to the
//! floor, and where its time goes.
//!
//! `cargo bench --bench plan` runs 3,000 generated users in 30
//! organizations at 20, 200 and 800 ms. `FERRY_BENCH_USERS`,
//! `FERRY_BENCH_ORGS` and `FERRY_BENCH_LATENCIES` (comma-separated ms)
//! change that. The floor is the `/user_management` writes made divided by
//! 50 per second (WorkOS's 500 / 10 s); organizations and roles are outside
//! that limit. For each latency it prints the wall time, wall ÷ floor, the
//! 429s received, and each step's duration and share of the wall.

mod common;

use common::{Bench, LOAD};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let users = env_number("FERRY_BENCH_USERS", 3000);
    let organizations = env_number("FERRY_BENCH_ORGS", 30);
    let latencies: Vec<u64> = std::env::var("FERRY_BENCH_LATENCIES")
        .unwrap_or_else(|_| "20,200,800".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    println!(
        "the reference plan at WorkOS's default limits, {users} users in {organizations} organizations"
    );
    for latency in latencies {
        measure(users, organizations, latency);
    }
}

fn plan(clerk: &str, workos: &str, script: &str) -> String {
    format!(
        r#"ferry: 1
name: bench
source:
  clerk:
    secret_key: ${{CLERK_SECRET_KEY}}
    api_url: {clerk}
    export_csv: users.csv
target:
  workos:
    api_key: ${{WORKOS_API_KEY}}
    client_id: ${{WORKOS_CLIENT_ID}}
    api_url: {workos}
    limits: {{ writes_per_10s: 500, reads_per_10s: 1000 }}
    oauth_providers: [google, microsoft]
script: {script}
steps:
  - assess
{LOAD}
  - mfa_report
  - verify:
      sample: 100
report: {{ dir: reports, formats: [json] }}
"#
    )
}

fn measure(users: usize, organizations: usize, latency_ms: u64) {
    let bench = Bench::start(users, organizations, latency_ms);
    let info = bench.info();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clerk-to-workos.rhai");
    let (output, wall) = bench.run(&plan(&info.clerk_api_url, &info.workos_url, script));
    let (sandbox, dir) = (&bench.sandbox, &bench.dir);
    if !output.status.success() {
        eprintln!(
            "ferry exited {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let counts = sandbox.request_counts();
    let user_management_writes: u64 = counts
        .workos
        .iter()
        .filter(|(route, _)| !route.starts_with("GET ") && route.contains(" /user_management/"))
        .map(|(_, outcomes)| outcomes.values().sum::<u64>())
        .sum();
    let floor = user_management_writes as f64 / 50.0;
    let throttled: u64 = counts
        .workos
        .values()
        .chain(counts.clerk.values())
        .filter_map(|o| o.get("429"))
        .sum();
    let reads: u64 = counts
        .workos
        .iter()
        .chain(counts.clerk.iter())
        .filter(|(route, _)| route.starts_with("GET "))
        .map(|(_, outcomes)| outcomes.values().sum::<u64>())
        .sum();
    println!(
        "\n{latency_ms} ms: {user_management_writes} /user_management writes, floor {floor:.1} s, wall {wall:.1} s, wall/floor {:.3}, {throttled} 429s, {reads} reads",
        wall / floor
    );
    let report = std::fs::read_dir(dir.path().join("reports"))
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "json"));
    let Some(report) = report else {
        eprintln!("no JSON report was written");
        return;
    };
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).expect("the report")).expect("JSON");
    for step in report["steps"].as_array().into_iter().flatten() {
        let seconds = step["duration_ms"].as_f64().unwrap_or_default() / 1000.0;
        println!(
            "  {:<12} {:>7.1} s {:>5.1}%",
            step["name"].as_str().unwrap_or("?"),
            seconds,
            100.0 * seconds / wall
        );
    }
}
