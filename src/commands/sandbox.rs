//! `ferry sandbox`: builds or loads a Clerk tenant, writes the requested side
//! files (CSV export, passwords, ground truth), serves the Clerk and WorkOS
//! imitations on loopback, prints the URLs and keys to use, and serves until
//! Ctrl-C.

use std::collections::HashSet;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use crate::config::{SandboxSettings, TenantSource};
use crate::error::{Error, ExitStatus, Result};
use crate::output::Painter;
use crate::sandbox::export::{self, ExportRow};
use crate::sandbox::faults::RetryAfterFormat;
use crate::sandbox::generate::{self, GeneratorOptions, PasswordRow};
use crate::sandbox::{
    FaultConfig, GroundTruth, RateLimits, Sandbox, SandboxError, SandboxInfo, SandboxOptions,
    Tenant, ThrottleBurst,
};

/// What the sandbox serves, and what is known about it.
struct Prepared {
    tenant: Tenant,
    export: Vec<ExportRow>,
    passwords: Vec<PasswordRow>,
    truth: Option<GroundTruth>,
    notes: Vec<String>,
}

pub fn run(settings: &SandboxSettings) -> Result<ExitStatus> {
    let started = Instant::now();
    // Scripts wait for this file: a stale one from a killed run must not fool them.
    if let Some(path) = &settings.ready_file {
        let _ = std::fs::remove_file(path);
    }
    let (source, export_is_input) = resolve_source(settings);
    let prepared = prepare(&source)?;
    write_side_files(settings, &prepared, export_is_input)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::io("start the runtime for", "the sandbox", source))?;
    runtime.block_on(serve(settings, prepared, started))
}

/// `ferry sandbox --tenant tenant.json --export users.csv` names the export
/// that goes with a snapshot: when the tenant is loaded and that file exists,
/// it is read (as `--csv` would), never overwritten: it may be a team's only
/// copy of its digests. Returns the source and whether `--export` was input.
fn resolve_source(settings: &SandboxSettings) -> (TenantSource, bool) {
    match (&settings.tenant, &settings.export) {
        (TenantSource::Load { tenant, csv: None }, Some(export)) if export.exists() => (
            TenantSource::Load {
                tenant: tenant.clone(),
                csv: Some(export.clone()),
            },
            true,
        ),
        (source, _) => (source.clone(), false),
    }
}

fn prepare(source: &TenantSource) -> Result<Prepared> {
    match source {
        TenantSource::Generate {
            users,
            organizations,
            seed,
        } => {
            let generated = generate::generate(GeneratorOptions {
                users: *users,
                organizations: *organizations,
                seed: *seed,
            });
            Ok(Prepared {
                tenant: generated.tenant,
                export: generated.export,
                passwords: generated.passwords,
                truth: Some(generated.truth),
                notes: vec![format!(
                    "synthetic bcrypt digests use cost {} (Clerk's own use 10)",
                    generate::BCRYPT_COST
                )],
            })
        }
        TenantSource::Load { tenant, csv } => {
            let rows = csv.as_deref().map(export::read_csv).transpose()?;
            let mut notes = Vec::new();
            let (tenant, export) = match (tenant, rows) {
                (Some(path), rows) => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|source| Error::io("read", path, source))?;
                    let (tenant, legacy_rows) = Tenant::parse(path, &text)?;
                    let export = match rows.or(legacy_rows) {
                        Some(rows) => {
                            let ids: HashSet<&str> =
                                tenant.users.iter().map(|u| u.id.as_str()).collect();
                            let matched =
                                rows.iter().filter(|r| ids.contains(r.id.as_str())).count();
                            notes.push(format!(
                                "{matched} of {} CSV rows match a tenant user",
                                rows.len()
                            ));
                            rows
                        }
                        None => export::rows_from_tenant(&tenant),
                    };
                    (tenant, export)
                }
                (None, Some(rows)) => (export::tenant_from_export(&rows), rows),
                (None, None) => (Tenant::default(), Vec::new()),
            };
            Ok(Prepared {
                tenant,
                export,
                passwords: Vec::new(),
                truth: None,
                notes,
            })
        }
    }
}

fn write_side_files(
    settings: &SandboxSettings,
    prepared: &Prepared,
    export_is_input: bool,
) -> Result<()> {
    if let Some(path) = &settings.export
        && !export_is_input
    {
        export::write_csv(path, &prepared.export)?;
    }
    if let Some(path) = &settings.passwords {
        if prepared.truth.is_none() {
            return Err(Error::Usage(
                "--passwords needs a generated tenant: a loaded one has no known passwords".into(),
            ));
        }
        export::write_passwords(path, &prepared.passwords)?;
    }
    if let Some(path) = &settings.truth {
        let Some(truth) = &prepared.truth else {
            return Err(Error::Usage("--truth needs a generated tenant".into()));
        };
        write_json(path, truth)?;
    }
    Ok(())
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| Error::io("serialise", path, std::io::Error::other(error)))?;
    std::fs::write(path, text + "\n").map_err(|source| Error::io("write", path, source))
}

async fn serve(
    settings: &SandboxSettings,
    prepared: Prepared,
    started: Instant,
) -> Result<ExitStatus> {
    let counts = (
        prepared.tenant.users.len(),
        prepared.tenant.organizations.len(),
        prepared.tenant.memberships.len(),
    );
    let limits = match settings.limits_scale {
        Some(scale) => RateLimits::default().scaled(scale),
        None => RateLimits::disabled(),
    };
    let faults = FaultConfig {
        seed: settings.faults.seed,
        latency_ms: settings.faults.latency_ms,
        jitter_ms: settings.faults.jitter_ms,
        error_rate: settings.faults.error_rate,
        reset_rate: settings.faults.reset_rate,
        drop_write_rate: settings.faults.drop_write_rate,
        throttle: settings
            .faults
            .throttle
            .iter()
            .map(|burst| ThrottleBurst {
                after_requests: burst.after,
                count: burst.count,
                retry_after_secs: burst.retry_after_secs,
            })
            .collect(),
        retry_after_format: if settings.faults.retry_after_http_date {
            RetryAfterFormat::HttpDate
        } else {
            RetryAfterFormat::Seconds
        },
    };
    let options = SandboxOptions {
        clerk_addr: SocketAddr::from(([127, 0, 0, 1], settings.clerk_port)),
        workos_addr: SocketAddr::from(([127, 0, 0, 1], settings.workos_port)),
        tenant: prepared.tenant,
        truth: prepared.truth,
        limits,
        faults,
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(options).await?;
    let info = sandbox.info();
    if let Some(path) = &settings.ready_file {
        write_json(path, &info)?;
    }
    print_banner(&info, counts, started, &prepared.notes);

    wait_for_stop().await.map_err(|source| {
        Error::from(SandboxError::Io {
            action: "wait for Ctrl-C in",
            path: "the sandbox".into(),
            source,
        })
    })?;
    sandbox.shutdown();
    if let Some(path) = &settings.ready_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(ExitStatus::Success)
}

fn print_banner(
    info: &SandboxInfo,
    counts: (usize, usize, usize),
    started: Instant,
    notes: &[String],
) {
    let painter = Painter::stdout();
    let (users, organizations, memberships) = counts;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} in {:.2} s: {users} users, {organizations} organizations, {memberships} memberships",
        painter.success("sandbox ready"),
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(out, "  Clerk   {}", info.clerk_api_url);
    let _ = writeln!(out, "  WorkOS  {}", info.workos_url);
    let _ = writeln!(out, "  Admin   {}", info.admin_url);
    let _ = writeln!(out, "Sandbox keys (fake, safe to print):");
    let _ = writeln!(out, "  export CLERK_SECRET_KEY={}", info.clerk_secret_key);
    let _ = writeln!(out, "  export WORKOS_API_KEY={}", info.workos_api_key);
    let _ = writeln!(out, "  export WORKOS_CLIENT_ID={}", info.workos_client_id);
    for note in notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "Press Ctrl-C to stop.");
    let _ = out.flush();
}

/// Ctrl-C, or (on Unix) the SIGTERM a script's `kill` sends.
async fn wait_for_stop() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
