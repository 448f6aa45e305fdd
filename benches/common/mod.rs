//! What the end-to-end benchmarks share: a sandbox serving a generated
//! tenant at WorkOS's real limits with injected latency, the tenant's CSV
//! export in a scratch folder, and the release `ferry run` timed on a plan
//! written there; and a watch on a child process's wall time, CPU time
//! and peak memory.

// Each benchmark uses the part it needs.
#![allow(dead_code)]

use std::time::Instant;

use ferry_sandbox::export::write_csv;
use ferry_sandbox::{
    FaultConfig, GeneratorOptions, RateLimits, Sandbox, SandboxInfo, SandboxOptions, generate,
};

/// The reference plan's loading steps (users with hashes and TOTP factors,
/// organizations, SSO connections, roles, memberships), as `steps:` entries.
pub const LOAD: &str = r#"  - users:
      passwords: import
      totp: import
      email_verified: from_clerk
      on_conflict: update
      banned: skip
      locked: skip
  - organizations
  - connections
  - roles
  - memberships:
      roles: { "org:admin": admin, "org:member": member }"#;

/// A running sandbox and the scratch folder holding `users.csv`.
pub struct Bench {
    // The runtime the sandbox serves on: dropped after it.
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    /// The generated tenant's ids, for a benchmark that changes it (the
    /// tenant itself is the sandbox's: a second copy would double a
    /// million-user benchmark's memory).
    pub ids: TenantIds,
    _runtime: tokio::runtime::Runtime,
}

/// The ids of the generated tenant, in creation order.
pub struct TenantIds {
    pub users: usize,
    /// Users with an email address.
    pub users_with_email: Vec<String>,
    pub organizations: Vec<String>,
    /// Each membership's user.
    pub membership_users: Vec<String>,
}

impl TenantIds {
    fn of(tenant: &ferry_sandbox::Tenant) -> Self {
        Self {
            users: tenant.users.len(),
            users_with_email: tenant
                .users
                .iter()
                .filter(|u| !u.email_addresses.is_empty())
                .map(|u| u.id.clone())
                .collect(),
            organizations: tenant.organizations.iter().map(|o| o.id.clone()).collect(),
            membership_users: tenant
                .memberships
                .iter()
                .filter_map(|m| Some(m.public_user_data.as_ref()?.user_id.clone()))
                .collect(),
        }
    }
}

impl Bench {
    /// At WorkOS's real default limits, with `latency_ms` on every answer.
    pub fn start(users: usize, organizations: usize, latency_ms: u64) -> Self {
        Self::start_with(users, organizations, latency_ms, RateLimits::default())
    }

    /// With the sandbox's limits off and no latency: what ferry itself costs.
    pub fn unlimited(users: usize, organizations: usize) -> Self {
        Self::start_with(
            users,
            organizations,
            0,
            RateLimits {
                enabled: false,
                ..RateLimits::default()
            },
        )
    }

    fn start_with(users: usize, organizations: usize, latency_ms: u64, limits: RateLimits) -> Self {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let generated = generate::generate(GeneratorOptions {
            users,
            organizations,
            seed: 3,
        });
        let dir = tempfile::tempdir().expect("a scratch folder");
        write_csv(&dir.path().join("users.csv"), &generated.export).expect("the export");
        let ids = TenantIds::of(&generated.tenant);
        // Moved into the sandbox, not copied: at a million users a copy is
        // gigabytes the sandbox's own figures would carry.
        let mut options = SandboxOptions::default()
            .with_tenant(generated.tenant)
            .with_limits(limits)
            .with_faults(FaultConfig {
                latency_ms,
                ..FaultConfig::default()
            });
        options.truth = Some(generated.truth);
        options.credentials = generated.export;
        let sandbox = runtime
            .block_on(Sandbox::start(options))
            .expect("the sandbox starts");
        Self {
            sandbox,
            dir,
            ids,
            _runtime: runtime,
        }
    }

    pub fn info(&self) -> SandboxInfo {
        self.sandbox.info()
    }

    /// Writes `plan` as `plan.yaml` and times `ferry run plan.yaml --yes`.
    pub fn run(&self, plan: &str) -> (std::process::Output, f64) {
        std::fs::write(self.dir.path().join("plan.yaml"), plan).expect("the plan");
        let started = Instant::now();
        let output = self
            .ferry(["run", "plan.yaml", "--yes"])
            .output()
            .expect("ferry runs");
        (output, started.elapsed().as_secs_f64())
    }

    /// The release `ferry` with `args`, in the scratch folder, with the
    /// sandbox's keys in its environment.
    pub fn ferry<I, S>(&self, args: I) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command(env!("CARGO_BIN_EXE_ferry"), args)
    }

    /// `program` with `args`, run as [`Bench::ferry`] runs ferry (for a
    /// wrapper such as `strace` in front of it).
    pub fn command<I, S>(&self, program: &str, args: I) -> std::process::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let info = self.info();
        let mut command = std::process::Command::new(program);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("CLERK_SECRET_KEY", &info.clerk_secret_key)
            .env("WORKOS_API_KEY", &info.workos_api_key)
            .env("WORKOS_CLIENT_ID", &info.workos_client_id)
            .env("NO_COLOR", "1");
        command
    }
}

/// What a watched process cost.
pub struct Watched {
    pub status: std::process::ExitStatus,
    pub wall: f64,
    /// The high-water mark of its resident memory (`VmHWM`), in MB.
    pub peak_mb: f64,
    /// User plus system CPU seconds.
    pub cpu: f64,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end, sampling its peak memory every 20 ms. (The
/// kernel's `RUSAGE_CHILDREN` figure would count this process's own memory,
/// which the child shares between fork and exec.) Its CPU time is read from
/// `/proc/PID/stat` once it has exited but before it is reaped.
pub fn watch(mut command: std::process::Command) -> Watched {
    // Files rather than pipes: a child that fills a pipe nobody drains yet would never exit.
    let (mut out, mut err) = (
        tempfile::tempfile().expect("a file"),
        tempfile::tempfile().expect("a file"),
    );
    let started = Instant::now();
    let mut child = command
        .stdout(out.try_clone().expect("a file"))
        .stderr(err.try_clone().expect("a file"))
        .spawn()
        .expect("the command starts");
    let pid = child.id();
    let mut peak_mb: f64 = 0.0;
    loop {
        if let Some(mb) = peak_rss_mb(pid) {
            peak_mb = peak_mb.max(mb);
        }
        if exited(pid) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid).unwrap_or_default();
    let status = child.wait().expect("the command is reaped");
    let text = |file: &mut std::fs::File| {
        use std::io::{Read, Seek};
        let mut text = String::new();
        file.rewind().expect("a file");
        file.read_to_string(&mut text).expect("text");
        text
    };
    Watched {
        status,
        wall,
        peak_mb,
        cpu,
        stdout: text(&mut out),
        stderr: text(&mut err),
    }
}

/// Whether `pid` has exited, without reaping it.
fn exited(pid: u32) -> bool {
    // SAFETY: waitid only writes the siginfo_t it is given.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let found = libc::waitid(
            libc::P_PID,
            pid,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        found == 0 && info.si_pid() != 0
    }
}

/// The high-water mark of a running process's resident memory, in MB.
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    status_mb(pid, "VmHWM:")
}

/// A running process's resident memory now, in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    status_mb(pid, "VmRSS:")
}

fn status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// utime + stime of `pid` (fields 14 and 15 of `/proc/PID/stat`).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: count fields after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / per_second)
}

/// A plan against `bench`'s sandbox with every limit out of the way, the
/// reference script, `state` as its journal and `steps` (YAML lines).
pub fn unlimited_plan(bench: &Bench, state: &str, steps: &str) -> String {
    let info = bench.info();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clerk-to-workos.rhai");
    format!(
        r#"ferry: 1
name: scale
state: {state}
source:
  clerk:
    secret_key: ${{CLERK_SECRET_KEY}}
    api_url: {clerk}
    export_csv: users.csv
    limits: {{ requests_per_10s: 100000 }}
target:
  workos:
    api_key: ${{WORKOS_API_KEY}}
    client_id: ${{WORKOS_CLIENT_ID}}
    api_url: {workos}
    limits: {{ writes_per_10s: 100000, reads_per_10s: 100000, requests_per_60s: 1000000 }}
script: {script}
steps:
{steps}
report: {{ dir: reports, formats: [json] }}
"#,
        clerk = info.clerk_api_url,
        workos = info.workos_url,
    )
}

/// `ferry ARGS`, watched; a failure ends the benchmark (its figures would
/// mean nothing), saying which step (`label`) failed and what ferry said.
pub fn ferry_ok(bench: &Bench, label: &str, args: &[&str]) -> Watched {
    let watched = watch(bench.ferry(args));
    if !watched.status.success() {
        eprintln!(
            "{label}: ferry exited {}:\n{}{}",
            watched.status, watched.stdout, watched.stderr
        );
        std::process::exit(1);
    }
    watched
}
