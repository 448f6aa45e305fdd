//! `ferry plan --offline` on a large export: users mapped per second and the
//! process's peak memory.
//!
//! `cargo bench --bench offline` generates a 1,000,000-user tenant, writes
//! its Dashboard CSV export, then times `ferry plan --offline` over it (the
//! reference script's `map_user` included), following the child's peak
//! resident memory (`VmHWM` in `/proc/PID/status`) while it runs. (The
//! kernel's `RUSAGE_CHILDREN` figure would count this process's own memory,
//! which the child shares between fork and exec.)
//! `FERRY_BENCH_USERS` sets the size. Targets: at least 50,000 users per
//! second and at most 150 MB.

mod common;

use std::time::Instant;

use ferry_sandbox::export::write_csv;
use ferry_sandbox::{GeneratorOptions, generate};

fn main() {
    let users: usize = std::env::var("FERRY_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a scratch folder");
    let started = Instant::now();
    let generated = generate::generate(GeneratorOptions {
        users,
        organizations: 0,
        seed: 5,
    });
    write_csv(&dir.path().join("users.csv"), &generated.export).expect("the export");
    drop(generated);
    let csv_mb = std::fs::metadata(dir.path().join("users.csv"))
        .map(|m| m.len())
        .unwrap_or(0) as f64
        / 1e6;
    println!(
        "export: {users} users, {csv_mb:.0} MB, written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/clerk-to-workos.rhai");
    std::fs::write(
        dir.path().join("plan.yaml"),
        format!(
            "ferry: 1\nname: offline\nsource:\n  clerk:\n    export_csv: users.csv\ntarget:\n  workos:\n    api_key: unused\nscript: {}\nsteps: [users]\n",
            script.display()
        ),
    )
    .expect("the plan");

    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"));
    command
        .args(["plan", "plan.yaml", "--offline"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1");
    let watched = common::watch(command);
    let (wall, peak) = (watched.wall, watched.peak_mb);
    assert!(watched.status.success(), "{}", watched.stderr);
    let stdout = watched.stdout;
    println!(
        "{}",
        stdout
            .lines()
            .filter(|l| !l.starts_with("    "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!(
        "ferry plan --offline: {wall:.2} s, {:.0} users/s, peak memory {peak:.0} MB",
        users as f64 / wall
    );
    println!(
        "targets: >= 50,000 users/s: {}; <= 150 MB: {}",
        if users as f64 / wall >= 50_000.0 {
            "met"
        } else {
            "NOT met"
        },
        if peak <= 150.0 { "met" } else { "NOT met" }
    );
}
