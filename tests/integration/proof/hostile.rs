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
    let list = world.report("world-mfa-notify.csv");
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
    let out = out.stdout_has(&format!("{} created", world.expected().len()));
    // Against loopback, the preflight says so: no proxy is used at all.
    out.stdout_has("proxy: none: requests go directly");
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the proxy saw a request");
}

/// A world whose every request, on both sides, is answered 429 with this `Retry-After`.
fn throttled_world(retry_after_secs: u64) -> World {
    World::new(WorldOptions {
        users: 40,
        faults: FaultConfig {
            throttle: vec![ThrottleBurst {
                after_requests: 0,
                count: 1_000,
                retry_after_secs,
            }],
            ..FaultConfig::default()
        },
        ..WorldOptions::default()
    })
}

#[test]
fn a_retry_after_of_a_day_stops_the_run_at_once_with_when_to_resume() {
    let world = throttled_world(86_400);
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
    let world = throttled_world(60);
    let mut child = world.spawn_run();
    // Let it reach the wait: its first request met the 429.
    world.wait_for_requests(1);
    std::thread::sleep(Duration::from_millis(300));
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

/// The first exported TOTP secret of the tenant becomes something no
/// authenticator could use.
fn broken_totp_secret(generated: &mut GeneratedTenant) {
    let migrated = |id: &str| {
        generated
            .tenant
            .users
            .iter()
            .any(|u| u.id == id && !u.banned && !u.locked && u.primary_email().is_some())
    };
    let at = generated
        .export
        .iter()
        .position(|row| row.totp_secret.is_some() && migrated(&row.id))
        .expect("a migrated user with an exported TOTP secret");
    let row = &mut generated.export[at];
    row.totp_secret = Some(ferry_wire::secret::Secret::new("not base32: 0189!"));
}

#[test]
fn a_totp_secret_that_is_not_base32_is_rejected_locally_and_the_user_told() {
    let world = World::new(WorldOptions {
        users: 120,
        organizations: 1,
        more_steps: vec![
            Step::bare("mfa_report"),
            Step::with("verify", serde_json::json!({ "sample": "all" })),
        ],
        tweak: broken_totp_secret,
        ..WorldOptions::default()
    });
    let broken = world
        .generated
        .export
        .iter()
        .find(|row| {
            row.totp_secret
                .as_ref()
                .is_some_and(|s| s.expose().contains("!"))
        })
        .unwrap()
        .id
        .clone();
    let out = world.run().code(0);
    let out = out.stdout_has("known exceptions: 1 exported TOTP secrets could not be imported");
    out.stdout_has("verify: passed");
    let failures = world.report("world-run-1-failures.csv");
    assert!(
        failures.contains(&format!("{broken},")) && failures.contains("not Base32"),
        "{failures}"
    );
    let notify = world.report("world-mfa-notify.csv");
    assert!(
        notify
            .lines()
            .any(|l| l.starts_with(&format!("{broken},")) && l.contains("totp_not_imported")),
        "{notify}"
    );
    // Nothing was sent for it.
    let user = world
        .dump()
        .users
        .into_iter()
        .find(|u| u.user.external_id.as_deref() == Some(broken.as_str()))
        .unwrap();
    assert!(
        !world
            .dump()
            .auth_factors
            .iter()
            .any(|f| f.user_id.as_deref() == Some(user.user.id.as_str())),
        "no factor was enrolled"
    );
}

#[test]
fn two_paths_to_one_journal_meet_one_lock() {
    // The first run meets a 429 asking for 4 s on its first request, and
    // holds the journal while it waits.
    let world = World::new(WorldOptions {
        users: 60,
        faults: FaultConfig {
            throttle: vec![ThrottleBurst {
                after_requests: 0,
                count: 1,
                retry_after_secs: 4,
            }],
            ..FaultConfig::default()
        },
        ..WorldOptions::default()
    });
    std::fs::create_dir_all(world.scratch.path().join(".ferry")).unwrap();
    std::os::unix::fs::symlink(
        world.scratch.path().join(".ferry/world.db"),
        world.scratch.path().join("link.db"),
    )
    .unwrap();
    let mut other = world.plan.clone();
    other.state = Some("link.db".into());
    world.scratch.write_plan("other.yaml", &other);
    let mut first = world.spawn_run();
    // The first run holds the lock from before its first request.
    world.wait_for_requests(1);
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run still runs"
    );
    let second = world.ferry().args(["run", "other.yaml", "--yes"]).run();
    let _ = first.kill();
    let _ = first.wait();
    let second = second.code(2);
    second.stderr_has("another ferry run is using");
}

/// A TLS server on loopback whose certificate no client trusts (a
/// self-signed one, as an intercepting proxy or a wrong URL would show);
/// counts the handshakes it is offered.
fn untrusted_tls_server() -> (u16, Arc<AtomicUsize>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let fixtures = crate::common::repo().join("tests/fixtures");
    let certs = vec![CertificateDer::from_pem_file(fixtures.join("untrusted.cert.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(fixtures.join("untrusted.key.pem")).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10_000) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                if let Ok(mut connection) = rustls::ServerConnection::new(config) {
                    let _ = connection.complete_io(&mut stream);
                }
            });
        }
    });
    (port, seen)
}

#[test]
fn a_refused_certificate_stops_the_run_as_a_configuration_error() {
    let mut world = World::new(WorldOptions {
        users: 40,
        ..WorldOptions::default()
    });
    let (port, handshakes) = untrusted_tls_server();
    world.plan = world
        .plan
        .clone()
        .workos("api_url", format!("https://127.0.0.1:{port}"));
    world.write_plan();
    let started = Instant::now();
    let out = world.run();
    let failures = world.report("world-run-1-failures.csv");
    assert_eq!(out.code, 2, "{failures}");
    assert!(started.elapsed() < Duration::from_secs(30));
    let out = out.stderr_has("refused the TLS connection");
    let out = out.output_lacks("OtherError");
    out.output_lacks("Some(");
    // No retries: at most one handshake per request that was in flight.
    let offered = handshakes.load(Ordering::SeqCst);
    assert!(offered <= world.expected().len(), "{offered} handshakes");
    let status = world.ferry().args(["status", "plan.yaml"]).run().code(0);
    assert!(!status.stdout.contains("failed"), "{}", status.stdout);
}

/// A Clerk role key carrying a terminal escape and raw HTML.
const HOSTILE_ROLE: &str = "org:\u{1b}]0;pwned\u{7}\u{1b}[2J<img src=x onerror=alert(1)>";

fn hostile_role(generated: &mut GeneratedTenant) {
    let role = generated
        .tenant
        .roles
        .iter_mut()
        .find(|r| r.key != "org:admin" && r.key != "org:member")
        .expect("a custom role");
    let old = std::mem::replace(&mut role.key, HOSTILE_ROLE.to_owned());
    for membership in &mut generated.tenant.memberships {
        if membership.role == old {
            membership.role = HOSTILE_ROLE.to_owned();
        }
    }
}

#[test]
fn outside_values_reach_no_terminal_as_control_characters_and_no_report_as_markup() {
    let world = World::new(WorldOptions {
        users: 120,
        organizations: 3,
        tweak: hostile_role,
        ..WorldOptions::default()
    });
    let out = world.ferry().args(["assess", "plan.yaml"]).run().code(0);
    assert!(
        !out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{7}'),
        "{:?}",
        out.stdout
    );
    let shown = "org:?]0;pwned??[2J<img src=x onerror=alert(1)>";
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim_start().starts_with(shown)),
        "{}",
        out.stdout
    );

    let mut plan = world.plan.clone();
    plan = plan.step(Step::bare("assess"));
    world.scratch.write_plan("plan.yaml", &plan);
    world.run().code(0);
    let markdown = world.report("world-run-1.md");
    assert!(!markdown.contains("<img"), "raw HTML reached the report");
    assert!(!markdown.contains('\u{1b}'));
    let row = "| org:?]0;pwned??[2J&lt;img src=x onerror=alert(1)&gt; |";
    assert!(markdown.lines().any(|l| l.starts_with(row)), "{markdown}");
}

/// A report folder that exists but cannot take files stops the run in
/// the preflight, before a single write to WorkOS, with the folder and the
/// fix named (ferry used to write to WorkOS, then lose the report).
#[test]
fn a_report_folder_that_cannot_take_files_stops_the_run_before_any_write() {
    let world = World::new(WorldOptions {
        users: 40,
        ..WorldOptions::default()
    });
    // A folder no one can add a file to, root included.
    let plan = world.plan.clone().report_dir("/proc/self");
    world.scratch.write_plan("plan.yaml", &plan);
    let out = world.run().code(2);
    let prefix = "  report: the report folder /proc/self cannot take files (/proc/self: ";
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with(prefix) && l.ends_with("); fix it or set `report.dir`")),
        "{}",
        out.stderr
    );
    assert_eq!(world.counts().workos_writes, 0);
    assert!(world.dump().users.is_empty());
}

/// A run whose preflight failed wrote nothing: fixing the plan needs no
/// `--allow-changed-plan`.
#[test]
fn a_plan_fixed_after_a_failed_preflight_runs_without_consent() {
    let world = World::new(WorldOptions {
        users: 40,
        ..WorldOptions::default()
    });
    let broken = world.plan.clone().report_dir("/proc/self");
    world.scratch.write_plan("plan.yaml", &broken);
    world.run().code(2);
    world.write_plan();
    world.run().code(0);
    world.assert_migrated_exactly_once();
}

/// Links planted in an existing report folder, at a report's `.partial`
/// and at a run list's name, redirect nothing: the operator's files keep
/// their content and mode, and the run's files are files.
#[test]
fn links_planted_in_the_report_folder_redirect_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new(WorldOptions {
        users: 80,
        more_steps: vec![Step::bare("mfa_report")],
        ..WorldOptions::default()
    });
    let reports = world.scratch.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let victim = world.scratch.path().join("operator-notes.txt");
    std::fs::write(&victim, "mine").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let planted = [
        "world-run-1.md.partial",
        "world-run-1-skipped.csv",
        "world-mfa-notify.csv",
    ];
    for name in planted {
        std::os::unix::fs::symlink(&victim, reports.join(name)).unwrap();
    }
    world.run().code(0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the operator's file keeps its mode");
    for name in [
        "world-run-1.md",
        "world-run-1-skipped.csv",
        "world-mfa-notify.csv",
    ] {
        let meta = std::fs::symlink_metadata(reports.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is a file of its own");
    }
    assert!(!reports.join("world-run-1.md.partial").exists());
}

/// Names that a spreadsheet would run as formulas reach every list inert.
#[test]
fn formula_names_reach_the_lists_inert() {
    const FORMULAS: [&str; 4] = [
        "=HYPERLINK(\"http://evil.test\",\"x\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
    ];
    fn formula_names(generated: &mut GeneratedTenant) {
        for (index, user) in generated.tenant.users.iter_mut().enumerate() {
            user.first_name = Some(FORMULAS[index % FORMULAS.len()].to_owned());
        }
        for (index, row) in generated.export.iter_mut().enumerate() {
            row.first_name = FORMULAS[index % FORMULAS.len()].to_owned();
        }
    }
    let world = World::new(WorldOptions {
        users: 120,
        more_steps: vec![Step::bare("mfa_report")],
        tweak: formula_names,
        ..WorldOptions::default()
    });
    world.run().code(0);
    let mut cells = 0;
    for entry in std::fs::read_dir(world.scratch.path().join("reports")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&path)
            .unwrap();
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                cells += 1;
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{}: {cell:?}",
                    path.display()
                );
            }
        }
    }
    assert!(cells > 0);
    let notify = world.report("world-mfa-notify.csv");
    assert!(
        notify.contains(",\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\","),
        "{notify}"
    );
}

/// A world whose plan reads Clerk's API only (no export), verifying every
/// user, with `faults` set once the first run may start.
fn api_only(users: usize, faults: FaultConfig) -> World {
    let mut world = World::new(WorldOptions {
        users,
        organizations: 0,
        more_steps: vec![Step::with("verify", serde_json::json!({ "sample": "all" }))],
        ..WorldOptions::default()
    });
    world.plan.source.clerk.remove("export_csv");
    world.write_plan();
    world.sandbox.set_faults(faults).unwrap();
    world
}

/// An API-only run whose Clerk cuts the users listing short: the run's
/// own verify asks Clerk's count afresh, and fails on the live users the
/// listing never handed out, instead of passing on what it read.
#[test]
fn a_run_whose_listing_lost_users_does_not_verify() {
    let world = api_only(
        120,
        FaultConfig {
            clerk_page_cap: Some(50),
            ..FaultConfig::default()
        },
    );
    let out = world.run().code(1);
    // The listing handed out one page of 50: 42 migrated, 8 skipped.
    let line = "       Clerk has 120 users: 42 migrated and 8 excluded leave 70 neither migrated nor excluded; `ferry run` migrates them";
    assert!(out.stdout.lines().any(|l| l == line), "{}", out.stdout);
    assert!(out.stdout.contains("verify: FAILED"), "{}", out.stdout);
}

/// An API-only run during which Clerk deletes 50 users just after the
/// listing's first page: later rows shift past the pages' overlap, and the
/// run reads the listing once more for the live users it lost; every live
/// user is migrated and the run's verify passes.
#[test]
fn an_api_only_run_finds_the_users_deletions_shifted_out_of_its_listing() {
    let world = api_only(
        2000,
        FaultConfig {
            delete_during_listing: Some(50),
            ..FaultConfig::default()
        },
    );
    let out = world.run().code(0);
    out.stdout_has("verify: passed");
    let (status, tenant) = world.clerk_admin(reqwest::Method::GET, "tenant", None);
    assert_eq!(status, 200);
    let still_in_clerk: std::collections::HashSet<&str> = tenant["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(still_in_clerk.len(), 2000 - 50);
    let migrated: std::collections::HashSet<String> = world
        .dump()
        .users
        .into_iter()
        .filter_map(|u| u.user.external_id)
        .collect();
    let expected = world.expected();
    let live: Vec<&String> = expected
        .keys()
        .filter(|id| still_in_clerk.contains(id.as_str()))
        .collect();
    assert!(live.len() > 1500);
    for id in live {
        assert!(
            migrated.contains(id),
            "{id} is live in Clerk but not migrated"
        );
    }
}

/// A WorkOS that accepts connections and never answers: within seconds,
/// not minutes, the preflight says what it is still waiting for.
#[test]
fn a_hung_target_is_named_while_the_preflight_waits() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hung = format!("http://{}", listener.local_addr().unwrap());
    // Holds every connection open, answering nothing, for the test's length.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(64) {
            held.extend(stream.ok());
        }
    });
    let world = World::new(WorldOptions {
        users: 20,
        ..WorldOptions::default()
    });
    let plan = world.plan.clone().workos("api_url", hung.as_str());
    world.scratch.write_plan("plan.yaml", &plan);
    let log = world.scratch.path().join("stderr.txt");
    let mut child = world
        .command(&["run", "plan.yaml", "--yes"])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let line = " WARN preflight: still waiting for WorkOS (GET /user_management/users, /webhook_endpoints) after 10 s (each attempt gives up after 60 s; Ctrl-C stops)";
    let said = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().any(|l| l == line) || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(said.lines().any(|l| l == line), "{said}");
}
