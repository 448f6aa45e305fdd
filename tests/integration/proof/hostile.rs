//! Hostile input and a hostile environment, each tried against the real
//! binary: ids that are paths, a proxy that would see the key, a server that
//! asks to wait a day, a Ctrl-C in the middle of a long wait.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::plan::Step;
use crate::users::{World, WorldOptions};
use ferry_sandbox::{FaultConfig, GeneratedTenant, ThrottleBurst};

/// Every user's id becomes a path: half climb out with `../..`, half are absolute.
fn hostile_ids(generated: &mut GeneratedTenant) {
    let outside = std::env::temp_dir().join("ferry-hostile-ids");
    let mut renames = std::collections::HashMap::new();
    for (index, user) in generated.tenant.users.iter_mut().enumerate() {
        let hostile = if index % 2 == 0 {
            format!("../../escaped-{index}")
        } else {
            format!("{}/abs-{index}", outside.display())
        };
        renames.insert(user.id.clone(), hostile.clone());
        user.id = hostile;
    }
    for row in &mut generated.export {
        if let Some(new) = renames.get(&row.id) {
            row.id = new.clone();
        }
    }
    for row in &mut generated.passwords {
        if let Some(new) = renames.get(&row.user_id) {
            row.user_id = new.clone();
        }
    }
}

#[test]
fn clerk_ids_that_are_paths_never_write_outside_the_report_folder() {
    let outside = std::env::temp_dir().join("ferry-hostile-ids");
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir_all(&outside).unwrap();
    let world = World::new(WorldOptions {
        users: 200,
        organizations: 1,
        more_steps: vec![Step::bare("mfa_report")],
        tweak: hostile_ids,
        ..WorldOptions::default()
    });
    world.run().code(0);
    let notices = world.scratch.path().join("reports/notices");
    let names: Vec<String> = std::fs::read_dir(&notices)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.is_empty(), "some users must be notified");
    for name in &names {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
                && !name.starts_with('.'),
            "notice file name {name:?}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written at an absolute id"
    );
    let escaped: Vec<_> = std::fs::read_dir(world.scratch.path())
        .unwrap()
        .chain(std::fs::read_dir(world.scratch.path().join("reports")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("escaped-") || n.starts_with("abs-"))
        .collect();
    assert!(escaped.is_empty(), "{escaped:?}");
    // The id itself is kept inside: in the notify list, as it was.
    let list =
        std::fs::read_to_string(world.scratch.path().join("reports/world-mfa-notify.csv")).unwrap();
    assert!(
        list.contains("../../escaped-") || list.contains("/abs-"),
        "{list}"
    );
}

/// A loopback "proxy" that only counts the connections it is offered.
fn counting_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1000) {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut stream) = stream {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = stream.read(&mut [0; 512]);
            }
        }
    });
    (address, seen)
}

#[test]
fn plain_http_to_loopback_never_goes_through_a_proxy() {
    let world = World::new(WorldOptions {
        users: 40,
        ..WorldOptions::default()
    });
    let (proxy, seen) = counting_proxy();
    let out = world
        .ferry()
        .env("HTTP_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("all_proxy", &proxy)
        .env("HTTPS_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(["run", "plan.yaml", "--yes"])
        .run()
        .code(0);
    out.stdout_has(&format!("{} created", world.expected().len()));
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the proxy saw a request");
}

#[test]
fn a_retry_after_of_a_day_stops_the_run_at_once_with_when_to_resume() {
    let world = World::new(WorldOptions {
        users: 40,
        faults: FaultConfig {
            throttle: vec![ThrottleBurst {
                after_requests: 0,
                count: 1_000,
                retry_after_secs: 86_400,
            }],
            ..FaultConfig::default()
        },
        ..WorldOptions::default()
    });
    let started = Instant::now();
    let out = world.run().code(4);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not wait: {:?}",
        started.elapsed()
    );
    let out = out.stderr_has("asked to wait 86400 s, more than the 300 s this plan allows");
    out.stderr_has("run again after");
    // Nothing was marked failed for it; the next run starts where this one stopped.
    let status = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    assert!(!status.stdout.contains("failed"), "{}", status.stdout);
    assert!(
        world
            .scratch
            .path()
            .join("reports/world-run-1.json")
            .is_file(),
        "the stopped run wrote its report"
    );
}

#[test]
fn ctrl_c_during_a_long_wait_ends_the_run_within_two_seconds() {
    let world = World::new(WorldOptions {
        users: 40,
        faults: FaultConfig {
            throttle: vec![ThrottleBurst {
                after_requests: 0,
                count: 1_000,
                retry_after_secs: 60,
            }],
            ..FaultConfig::default()
        },
        ..WorldOptions::default()
    });
    let mut child = world.spawn_run();
    // Let it reach the wait.
    std::thread::sleep(Duration::from_millis(1500));
    let interrupted = Instant::now();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            interrupted.elapsed() < Duration::from_secs(10),
            "still waiting after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = interrupted.elapsed();
    assert_eq!(status.code(), Some(4));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(
        world
            .scratch
            .path()
            .join("reports/world-run-1.html")
            .is_file()
    );
}
