//! End-to-end users migration against the sandbox at WorkOS's real default
//! limits, with injected latency: how close a run gets to the rate-limit floor.
//!
//! `cargo bench --bench migrate` migrates 3,000 generated users at 200 ms of
//! latency. `FERRY_BENCH_USERS=3000 FERRY_BENCH_LATENCIES=20,200,800` sets
//! the size and the latencies. For each latency it prints the writes made,
//! the floor (writes ÷ 50 per second, WorkOS's 500 / 10 s), the wall time
//! and its ratio to the floor, the achieved write rate against the limit,
//! 429s received and failed users.

mod common;

use common::Bench;

fn main() {
    let users: usize = std::env::var("FERRY_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let latencies: Vec<u64> = std::env::var("FERRY_BENCH_LATENCIES")
        .unwrap_or_else(|_| "200".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    println!("users migration at WorkOS's default limits, {users} generated users");
    println!(
        "{:>8} {:>7} {:>8} {:>8} {:>9} {:>12} {:>5} {:>7}",
        "latency", "writes", "floor s", "wall s", "wall/flr", "rate/limit", "429s", "failed"
    );
    for latency in latencies {
        measure(users, latency);
    }
}

fn measure(users: usize, latency_ms: u64) {
    let bench = Bench::start(users, 0, latency_ms);
    let info = bench.info();
    let (output, wall) = bench.run(&format!(
        "ferry: 1\nname: bench\nsource:\n  clerk:\n    secret_key: ${{CLERK_SECRET_KEY}}\n    api_url: {}\n    export_csv: users.csv\ntarget:\n  workos:\n    api_key: ${{WORKOS_API_KEY}}\n    client_id: ${{WORKOS_CLIENT_ID}}\n    api_url: {}\nsteps: [users]\n",
        info.clerk_api_url, info.workos_url
    ));
    let sandbox = &bench.sandbox;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let counts = sandbox.request_counts();
    let writes = counts.workos_writes as f64;
    let floor = writes / 50.0;
    let throttled: u64 = counts.workos.values().filter_map(|o| o.get("429")).sum();
    let failed = stdout
        .lines()
        .find(|l| l.starts_with("users:"))
        .and_then(|l| l.rsplit(", ").next())
        .unwrap_or("?")
        .to_owned();
    println!(
        "{:>6}ms {:>7} {:>8.1} {:>8.1} {:>8.1}% {:>11.1}% {:>5} {:>7}",
        latency_ms,
        counts.workos_writes,
        floor,
        wall,
        100.0 * wall / floor,
        100.0 * (writes / wall) / 50.0,
        throttled,
        failed.trim_end_matches(" failed"),
    );
    if !output.status.success() {
        eprintln!(
            "ferry exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
