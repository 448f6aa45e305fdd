//! The CPU cost of calling a realistic `map_user` hook.
//!
//! `cargo bench --bench hook_cost` compiles the reference script
//! (`scripts/clerk-to-workos.rhai`, the `map_user` a team starts from) and the
//! heavier `scripts/examples/every-hook.rhai`, then calls each `map_user`
//! 100,000 times on realistic joined Clerk records (with the same conversion
//! in and out that a run does) and prints the process CPU time.
//! Target: under one second of CPU for 100,000 calls of the reference hook.
//! `FERRY_BENCH_SCRIPT=path.rhai` measures your own script instead.

use std::path::Path;
use std::time::{Duration, Instant};

use ferry_core::script::{Hook, HookAnswer, Limits, Script};
use serde_json::json;

const CALLS: usize = 100_000;

fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we hand it and nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scripts = match std::env::var_os("FERRY_BENCH_SCRIPT") {
        Some(path) => vec![std::path::PathBuf::from(path)],
        None => vec![
            repo.join("scripts/clerk-to-workos.rhai"),
            repo.join("scripts/examples/every-hook.rhai"),
        ],
    };
    for path in scripts {
        measure(&path);
    }
}

fn measure(path: &Path) {
    let (script, _) = Script::load(path, Limits::default()).expect("the script compiles");
    let ctx = json!({
        "plan": "bench", "revision": 1, "dry_run": false, "step": "users",
        "options": { "on_conflict": "update" }
    });
    let users: Vec<_> = (0..1000)
        .map(|i| {
            json!({
                "id": format!("user_2b{i:024}"),
                "email": format!("Person.{i}+promo@Example.com"),
                "email_verified": true,
                "emails": [
                    { "email": format!("person.{i}+promo@example.com"), "verified": true },
                    { "email": format!("p{i}@old.example.org"), "verified": false }
                ],
                "first_name": "Ada", "last_name": "Lovelace", "username": null,
                "public_metadata": { "plan": "pro", "seats": i % 50, "beta": i % 3 == 0, "region": "eu-west" },
                "private_metadata": { "stripe_customer": format!("cus_{i:010}") },
                "unsafe_metadata": {},
                "password": { "hasher": "bcrypt", "supported": true },
                "totp": i % 7 == 0,
                "oauth": [{ "provider": "oauth_google", "email": format!("person.{i}@example.com") }],
                "banned": false, "locked": false,
                "created_at": 1_700_000_000_000_i64 + i as i64,
            })
        })
        .collect();

    // Warm up, and check the hook does what the benchmark claims it does.
    let first = script
        .call(Hook::MapUser, "user", &[&users[0], &ctx])
        .expect("map_user runs");
    if std::env::var_os("FERRY_BENCH_SCRIPT").is_none() {
        let HookAnswer::Value(mapped) = first else {
            panic!("map_user skipped the user")
        };
        assert!(mapped["email"].as_str().unwrap().starts_with("person.0"));
    }

    let (cpu_before, wall_before) = (cpu_time(), Instant::now());
    for i in 0..CALLS {
        let user = &users[i % users.len()];
        let outcome = script
            .call(Hook::MapUser, "user", &[user, &ctx])
            .expect("map_user runs");
        std::hint::black_box(outcome);
    }
    let (cpu, wall) = (cpu_time() - cpu_before, wall_before.elapsed());
    println!(
        "script:         {}",
        path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(path)
            .display()
    );
    println!("map_user calls: {CALLS}");
    println!("cpu time:       {:.3} s", cpu.as_secs_f64());
    println!("wall time:      {:.3} s", wall.as_secs_f64());
    println!(
        "per call:       {:.2} us cpu",
        cpu.as_secs_f64() * 1e6 / CALLS as f64
    );
    println!(
        "under 1 s cpu:  {}\n",
        if cpu < Duration::from_secs(1) {
            "yes"
        } else {
            "no"
        }
    );
}
