//! `ferry sandbox` as a process: bad options are usage errors; a running
//! sandbox writes its ready file, side files and serves what it was given.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferry_sandbox::generate::{GeneratorOptions, generate};
use ferry_sandbox::{SandboxInfo, export};

use crate::common::Scratch;

/// `ferry sandbox` with both servers on any free port.
const SANDBOX_ON_FREE_PORTS: [&str; 5] = ["sandbox", "--clerk-port", "0", "--workos-port", "0"];

/// A `ferry sandbox` child process, killed on drop.
pub(crate) struct Running {
    child: Child,
    pub(crate) info: SandboxInfo,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, args: &[&str]) -> Running {
    let mut all = SANDBOX_ON_FREE_PORTS.to_vec();
    all.extend_from_slice(args);
    start_with(dir, &all)
}

/// `ferry ARGS` (a `sandbox` command line), once it is ready.
pub(crate) fn start_with(dir: &Path, args: &[&str]) -> Running {
    let ready = dir.join("ready.json");
    // A killed sandbox cannot clean up; never read a previous run's file.
    let _ = std::fs::remove_file(&ready);
    let child = Command::new(assert_cmd::cargo::cargo_bin("ferry"))
        .current_dir(dir)
        .args(args)
        .args(["--ready-file"])
        .arg(&ready)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ferry sandbox starts");
    let mut running = Running {
        child,
        info: SandboxInfo {
            clerk_api_url: String::new(),
            clerk_url: String::new(),
            workos_url: String::new(),
            admin_url: String::new(),
            clerk_secret_key: String::new(),
            workos_api_key: String::new(),
            workos_client_id: String::new(),
        },
    };
    // Generous: a loaded CI machine can be slow to start a process.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = running.child.try_wait().unwrap() {
            panic!("ferry sandbox exited early with {status}");
        }
        if let Ok(text) = std::fs::read_to_string(&ready)
            && let Ok(info) = serde_json::from_str(&text)
        {
            running.info = info;
            return running;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("ferry sandbox never wrote its ready file");
}

async fn users_count(info: &SandboxInfo) -> u64 {
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/users/count", info.clerk_api_url))
        .bearer_auth(&info.clerk_secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["total_count"].as_u64().unwrap()
}

#[test]
fn bad_options_are_usage_errors() {
    let scratch = Scratch::new();
    let output = scratch
        .ferry()
        .args(["sandbox", "--error-rate", "2"])
        .env("FERRY_COLOR", "never")
        .run()
        .code(2);
    output.stderr_has("between 0 and 1");
    scratch
        .ferry()
        .args(["sandbox", "--limits-scale", "0"])
        .run()
        .code(2);
    scratch
        .ferry()
        .args(["sandbox", "--throttle", "5"])
        .run()
        .code(2);
    let output = scratch
        .ferry()
        .args([
            "sandbox",
            "--tenant",
            "missing.json",
            "--clerk-port",
            "0",
            "--workos-port",
            "0",
        ])
        .run()
        .code(2);
    output.stderr_has("missing.json");
    let broken = scratch.write("broken.json", r#"{"users": [{"id": 3}]}"#);
    let output = scratch
        .ferry()
        .args(SANDBOX_ON_FREE_PORTS)
        .args(["--tenant"])
        .args([&broken])
        .run()
        .code(2);
    output.stderr_has("users[0].id");
}

#[tokio::test]
async fn a_generated_tenant_is_served_with_its_side_files() {
    let scratch = Scratch::new();
    let running = start(
        scratch.path(),
        &[
            "--users",
            "50",
            "--orgs",
            "3",
            "--export",
            "users.csv",
            "--passwords",
            "passwords.csv",
            "--truth",
            "truth.json",
        ],
    );
    assert!(running.info.clerk_secret_key.starts_with("sk_test_"));
    assert_eq!(users_count(&running.info).await, 50);
    let rows = export::read_csv(&scratch.path().join("users.csv")).unwrap();
    assert_eq!(rows.len(), 50);
    let header = std::fs::read_to_string(scratch.path().join("users.csv")).unwrap();
    assert!(header.starts_with(&export::HEADER.join(",")));
    let passwords = export::read_passwords(&scratch.path().join("passwords.csv")).unwrap();
    assert!(
        passwords
            .iter()
            .all(|p| rows.iter().any(|r| r.id == p.user_id))
    );
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.path().join("truth.json")).unwrap())
            .unwrap();
    assert_eq!(truth["users"], 50);
}

#[tokio::test]
async fn a_tenant_snapshot_and_a_csv_export_load() {
    let scratch = Scratch::new();
    let generated = generate(GeneratorOptions {
        users: 12,
        organizations: 2,
        seed: 9,
    });
    let tenant_path: PathBuf = scratch.path().join("tenant.json");
    generated.tenant.save(&tenant_path).unwrap();
    let running = start(scratch.path(), &["--tenant", "tenant.json"]);
    assert_eq!(users_count(&running.info).await, 12);
    drop(running);

    // A Dashboard export as Clerk publishes its sample: BOM, a comment line.
    let csv_path = scratch.path().join("export.csv");
    export::write_csv(&csv_path, &generated.export).unwrap();
    let text = std::fs::read_to_string(&csv_path).unwrap();
    std::fs::write(
        &csv_path,
        format!("\u{feff}# Password for users with passwords: x\n{text}"),
    )
    .unwrap();
    let running = start(scratch.path(), &["--csv", "export.csv"]);
    assert_eq!(users_count(&running.info).await, 12);
}

#[tokio::test]
async fn faults_can_be_set_from_the_command_line() {
    let scratch = Scratch::new();
    let running = start(
        scratch.path(),
        &["--users", "5", "--throttle", "0:2:7", "--no-limits"],
    );
    let client = reqwest::Client::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let response = client
            .get(format!("{}/users/count", running.info.clerk_api_url))
            .bearer_auth(&running.info.clerk_secret_key)
            .send()
            .await
            .unwrap();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.push((response.status().as_u16(), retry));
    }
    let throttled = (429, Some("7".to_owned()));
    assert_eq!(seen, [throttled.clone(), throttled, (200, None)]);
}

/// A synchronous test can run the sandbox on its own runtime and block.
#[test]
fn a_blocking_sandbox_serves_while_the_caller_blocks() {
    use std::io::{Read, Write};

    let generated = generate(GeneratorOptions {
        users: 3,
        organizations: 0,
        seed: 2,
    });
    let sandbox = ferry_sandbox::Sandbox::start_blocking(
        ferry_sandbox::SandboxOptions::default().with_generated(&generated),
    )
    .unwrap();
    let address = sandbox
        .info()
        .clerk_url
        .trim_start_matches("http://")
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "GET /v1/users/count HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        sandbox.keys().clerk_secret_key
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""total_count":3"#), "{answer}");
    sandbox.shutdown();
}

/// `--tenant snapshot.json --export users.csv` with an existing export reads
/// it and never overwrites it (it may hold a team's only copy of its digests).
#[tokio::test]
async fn an_existing_export_beside_a_tenant_is_read_not_overwritten() {
    let scratch = Scratch::new();
    let generated = generate(GeneratorOptions {
        users: 8,
        organizations: 1,
        seed: 5,
    });
    generated
        .tenant
        .save(&scratch.path().join("tenant.json"))
        .unwrap();
    let export_path = scratch.path().join("users.csv");
    export::write_csv(&export_path, &generated.export).unwrap();
    let before = std::fs::read(&export_path).unwrap();
    let running = start(
        scratch.path(),
        &["--tenant", "tenant.json", "--export", "users.csv"],
    );
    assert_eq!(users_count(&running.info).await, 8);
    drop(running);
    assert_eq!(std::fs::read(&export_path).unwrap(), before);

    // A generated tenant's export is output: written (and rewritten).
    let running = start(scratch.path(), &["--users", "3", "--export", "users.csv"]);
    assert_eq!(users_count(&running.info).await, 3);
    assert_eq!(export::read_csv(&export_path).unwrap().len(), 3);
}

/// Every flag `ferry sandbox --help` lists is documented in docs/sandbox.md.
#[test]
fn every_flag_is_documented() {
    let help = Scratch::new()
        .ferry()
        .args(["sandbox", "--help"])
        .run()
        .code(0)
        .stdout;
    let docs = std::fs::read_to_string(crate::common::repo().join("docs/sandbox.md")).unwrap();
    let flags: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[' || c == ']')
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(|word| word.trim_end_matches('.'))
        .filter(|flag| !["--help", "--version", "--color", "--verbose"].contains(flag))
        .collect();
    assert!(flags.len() > 15, "{help}");
    for flag in flags {
        assert!(
            docs.contains(&format!("`{flag}")),
            "{flag} is not in docs/sandbox.md"
        );
    }
}

#[test]
fn a_ready_file_that_is_not_a_regular_file_is_refused_and_left_alone() {
    let scratch = Scratch::new();
    let fifo = scratch.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let target = scratch.write("precious.txt", "keep me\n");
    let link = scratch.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for path in [&fifo, &link] {
        let out = scratch
            .ferry()
            .args(SANDBOX_ON_FREE_PORTS)
            .args(["--ready-file"])
            .arg_path(path)
            .run()
            .code(2);
        out.stderr_has("is not a regular file");
        assert!(
            std::fs::symlink_metadata(path).is_ok(),
            "{} is still there",
            path.display()
        );
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
}
