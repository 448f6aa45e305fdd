//! ferry itself at scale, with the sandbox's limits off and no latency, so
//! what is measured is ferry's own cost and not WorkOS's pace.
//!
//! `cargo bench --bench scale` generates a tenant of 100,000 and then one of
//! 1,000,000 users (one organization per 100 users, the generator's
//! memberships), and for each:
//! 1. `ferry run` of users (hashes and TOTP factors imported),
//!    organizations and memberships: wall, users per second, CPU and peak
//!    memory (`VmHWM`, sampled every 20 ms);
//! 2. the same run again, where nothing changed: wall, CPU, the records
//!    the journal changed and the writes WorkOS received;
//! 3. that rerun under `strace` (when installed), counting `fsync` and
//!    `fdatasync` calls;
//! 4. at 100,000 users, `ferry verify` with `sample: all`:
//!    the requests it made next to the listing pages it needs, and whether
//!    any was a per-user Clerk read.
//!
//! `FERRY_BENCH_USERS` (comma-separated sizes) changes the sizes. Targets:
//! a no-op rerun of 1,000,000 users under 60 s with fewer than 100 fsyncs;
//! `run` on 1,000,000 users under 200 MB; `verify` all at most 1.2 × the
//! pages it needs, with no per-user Clerk request.

mod common;

use common::{Bench, LOAD, watch};
use ferry_sandbox::request_log::RequestCounts;

const STATE: &str = "state/scale.db";

fn main() {
    let sizes: Vec<usize> = std::env::var("FERRY_BENCH_USERS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|v| v.trim().replace('_', "").parse().ok())
        .collect();
    for users in sizes {
        measure(users);
    }
}

fn plan(bench: &Bench, steps: &str) -> String {
    common::unlimited_plan(bench, STATE, steps)
}

fn run(bench: &Bench, label: &str) -> common::Watched {
    ferry(bench, label, &["run", "plan.yaml", "--yes"])
}

/// `ferry ARGS`, watched; a failure ends the benchmark.
fn ferry(bench: &Bench, label: &str, args: &[&str]) -> common::Watched {
    common::ferry_ok(bench, label, args)
}

fn measure(users: usize) {
    let organizations = (users / 100).max(1);
    println!("\n{users} users, {organizations} organizations, limits off");
    let bench = Bench::unlimited(users, organizations);
    std::fs::write(bench.dir.path().join("plan.yaml"), plan(&bench, LOAD)).expect("the plan");

    let first = run(&bench, "run");
    let loaded = bench.sandbox.request_counts();
    println!(
        "run:    wall {:.1} s, {:.0} users/s, CPU {:.1} s, peak {:.0} MB, {} WorkOS writes",
        first.wall,
        users as f64 / first.wall,
        first.cpu,
        first.peak_mb,
        loaded.workos_writes
    );

    bench.sandbox.reset_request_counts();
    let rerun = run(&bench, "rerun");
    let changed = changed_by_last_run(&bench);
    println!(
        "rerun:  wall {:.1} s, CPU {:.1} s, peak {:.0} MB, {} journal records changed, {} WorkOS writes, {} requests",
        rerun.wall,
        rerun.cpu,
        rerun.peak_mb,
        changed,
        bench.sandbox.request_counts().workos_writes,
        bench.sandbox.request_counts().total
    );

    match fsyncs(&bench) {
        Some(count) => println!("rerun under strace: {count} fsync/fdatasync calls"),
        None => println!("rerun under strace: strace is not installed; fsyncs not counted"),
    }

    if users <= 100_000 {
        verify_all(&bench, users);
    }
}

/// Records the journal's last run was the last to change.
fn changed_by_last_run(bench: &Bench) -> u64 {
    let journal = ferry_core::journal::Journal::open_to_read(&bench.dir.path().join(STATE))
        .expect("the journal");
    let last = journal.last_run().expect("runs").expect("a run");
    journal.records_changed_by(last.id).expect("a count")
}

/// The rerun again, under `strace -f`, counting the sync calls of every thread.
fn fsyncs(bench: &Bench) -> Option<usize> {
    let strace = ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let trace = bench.dir.path().join("fsyncs.trace");
    let ferry = env!("CARGO_BIN_EXE_ferry");
    let mut args = vec![
        "-f",
        "--seccomp-bpf",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
    ];
    let trace_arg = trace.display().to_string();
    args.push(&trace_arg);
    args.extend([ferry, "run", "plan.yaml", "--yes"]);
    let watched = watch(bench.command(strace, args));
    if !watched.status.success() {
        eprintln!("strace run: {}{}", watched.stdout, watched.stderr);
    }
    let text = std::fs::read_to_string(&trace).ok()?;
    Some(
        text.lines()
            .filter(|l| l.contains("fsync(") || l.contains("fdatasync("))
            .count(),
    )
}

/// `verify` with `sample: all`, alone: requests by route next to the pages
/// each listing needs.
fn verify_all(bench: &Bench, users: usize) {
    std::fs::write(
        bench.dir.path().join("plan.yaml"),
        plan(bench, &format!("{LOAD}\n  - verify:\n      sample: all")),
    )
    .expect("the plan");
    bench.sandbox.reset_request_counts();
    let watched = ferry(bench, "verify", &["verify", "plan.yaml"]);
    let counts = bench.sandbox.request_counts();
    let truth = bench.sandbox.ground_truth().expect("a generated tenant");
    let workos = bench.sandbox.workos_state();
    let mut members = std::collections::HashMap::<&str, u64>::new();
    for membership in &workos.memberships {
        *members.entry(&membership.organization_id).or_default() += 1;
    }
    let per_organization = workos
        .organizations
        .iter()
        .map(|org| {
            members
                .get(org.id.as_str())
                .copied()
                .unwrap_or(0)
                .div_ceil(100)
                .max(1)
        })
        .sum::<u64>();
    let with_totp = workos
        .auth_factors
        .iter()
        .map(|f| &f.user_id)
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    // Pages of a listing that returns `n` items `per_page` at a time (an
    // empty listing still takes one request).
    let pages = |n: u64, per_page: u64| n.div_ceil(per_page).max(1);
    let needed = [
        ("Clerk GET /v1/users", pages(truth.users, 500)),
        (
            "Clerk GET /v1/organization_memberships",
            pages(truth.memberships, 500),
        ),
        (
            "WorkOS GET /user_management/users",
            pages(workos.users.len() as u64, 100),
        ),
        (
            "WorkOS GET /user_management/organization_memberships",
            per_organization,
        ),
        (
            "WorkOS GET /user_management/users/{id}/auth_factors",
            with_totp,
        ),
    ];
    let needed_total: u64 = needed.iter().map(|(_, n)| n).sum();
    let made = gets(&counts);
    let per_user_clerk: u64 = counts
        .clerk
        .iter()
        .filter(|(route, _)| {
            route.starts_with("GET /v1/users/") && route.as_str() != "GET /v1/users/count"
        })
        .map(|(_, outcomes)| outcomes.values().sum::<u64>())
        .sum();
    println!(
        "verify all on {users} users: wall {:.1} s, {made} requests for {needed_total} pages needed ({:.2} ×), {per_user_clerk} per-user Clerk reads",
        watched.wall,
        made as f64 / needed_total as f64,
    );
    for (route, pages) in needed {
        println!("  needed {route}: {pages}");
    }
    for (side, routes) in [("Clerk", &counts.clerk), ("WorkOS", &counts.workos)] {
        for (route, outcomes) in routes {
            println!(
                "  made   {side} {route}: {}",
                outcomes.values().sum::<u64>()
            );
        }
    }
}

fn gets(counts: &RequestCounts) -> u64 {
    counts
        .clerk
        .iter()
        .chain(counts.workos.iter())
        .filter(|(route, _)| route.starts_with("GET "))
        .map(|(_, outcomes)| outcomes.values().sum::<u64>())
        .sum()
}
