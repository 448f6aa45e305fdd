//! `ferry sandbox` as a library call: the command's arguments (parsed by
//! clap straight into [`SandboxArgs`]), building or loading the Clerk
//! tenant, writing the requested side files (CSV export, passwords, ground
//! truth), and serving the Clerk and WorkOS imitations on loopback until
//! Ctrl-C or SIGTERM. The binary only prints the banner it is handed.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::export::{self, ExportRow};
use crate::faults::FaultConfig;
use crate::generate::{self, GeneratorOptions, PasswordRow};
use crate::{GroundTruth, RateLimits, Sandbox, SandboxError, SandboxInfo, SandboxOptions, Tenant};

/// `ferry sandbox`: what to serve, where, and how badly to behave.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port of the Clerk imitation (0 = any free port).
    #[arg(long, default_value_t = 8710)]
    pub clerk_port: u16,
    /// Port of the WorkOS imitation and its admin routes (0 = any free port).
    #[arg(long, default_value_t = 8711)]
    pub workos_port: u16,
    /// Generate this many users.
    #[arg(long, default_value_t = 200, conflicts_with_all = ["tenant", "csv"])]
    pub users: usize,
    /// Generate this many organizations.
    #[arg(long, default_value_t = 20, conflicts_with_all = ["tenant", "csv"])]
    pub orgs: usize,
    /// Seed of the generator: the same seed gives the same tenant.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Serve this tenant instead: JSON with `users`, `organizations` and `memberships` in Clerk's API shapes.
    #[arg(long, value_name = "FILE")]
    pub tenant: Option<PathBuf>,
    /// A Clerk Dashboard CSV export: alone, its users become the tenant; with --tenant, it is checked against it.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the Dashboard CSV export of the served tenant (digests and TOTP secrets included).
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Write the plaintext passwords of generated users (CSV: user_id,email,username,password,password_hasher).
    #[arg(long, value_name = "FILE")]
    pub passwords: Option<PathBuf>,
    /// Write what the generator planted, by category (JSON).
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Write the URLs and keys as JSON once both servers listen.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// Multiply every rate limit's request count (0.1 = ten times stricter).
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    pub limits_scale: f64,
    /// Enforce no rate limit at all.
    #[arg(long, conflicts_with = "limits_scale")]
    pub no_limits: bool,
    #[command(flatten)]
    pub faults: FaultConfig,
}

fn positive(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if value > 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(format!("{value} is not a positive number"))
    }
}

/// Where the Clerk tenant comes from.
#[derive(Debug, Clone, PartialEq)]
enum TenantSource {
    /// The seeded generator.
    Generate {
        users: usize,
        organizations: usize,
        seed: u64,
    },
    /// A tenant JSON file in Clerk's API shapes and/or a Dashboard CSV export.
    Load {
        tenant: Option<PathBuf>,
        csv: Option<PathBuf>,
    },
}

impl SandboxArgs {
    fn tenant_source(&self) -> TenantSource {
        if self.tenant.is_some() || self.csv.is_some() {
            TenantSource::Load {
                tenant: self.tenant.clone(),
                csv: self.csv.clone(),
            }
        } else {
            TenantSource::Generate {
                users: self.users,
                organizations: self.orgs,
                seed: self.seed,
            }
        }
    }

    fn limits(&self) -> RateLimits {
        if self.no_limits {
            RateLimits::disabled()
        } else {
            RateLimits::default().scaled(self.limits_scale)
        }
    }
}

/// What the banner shows once both servers listen.
pub struct Ready<'a> {
    pub info: &'a SandboxInfo,
    pub users: usize,
    pub organizations: usize,
    pub memberships: usize,
    pub took: Duration,
    pub notes: &'a [String],
}

/// Prepares, serves until Ctrl-C or SIGTERM, and cleans up; `on_ready` is
/// called once the servers listen.
pub fn run(args: &SandboxArgs, on_ready: impl FnOnce(&Ready<'_>)) -> Result<(), SandboxError> {
    let started = Instant::now();
    // Scripts wait for this file: a stale one from a killed run must not fool them.
    if let Some(path) = &args.ready_file {
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.file_type().is_file()
        {
            return Err(SandboxError::Options(format!(
                "--ready-file {} is not a regular file (a link, a folder or a device); name a file for the sandbox to write",
                path.display()
            )));
        }
        remove_ready_file(path, None);
    }
    let (source, export_is_input) = resolve_source(args);
    let prepared = prepare(&source)?;
    write_side_files(args, &prepared, export_is_input)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| io("start the runtime for", "the sandbox", source))?;
    runtime.block_on(serve(args, prepared, started, on_ready))
}

fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> SandboxError {
    SandboxError::Io {
        action,
        path: path.into(),
        source,
    }
}

/// What the sandbox serves, and what is known about it.
struct Prepared {
    tenant: Tenant,
    export: Vec<ExportRow>,
    passwords: Vec<PasswordRow>,
    truth: Option<GroundTruth>,
    notes: Vec<String>,
}

/// `ferry sandbox --tenant tenant.json --export users.csv` names the export
/// that goes with a snapshot: when the tenant is loaded and that file exists,
/// it is read (as `--csv` would), never overwritten: it may be a team's only
/// copy of its digests. Returns the source and whether `--export` was input.
fn resolve_source(args: &SandboxArgs) -> (TenantSource, bool) {
    match (&args.tenant_source(), &args.export) {
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

fn prepare(source: &TenantSource) -> Result<Prepared, SandboxError> {
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
                    let text =
                        std::fs::read_to_string(path).map_err(|source| io("read", path, source))?;
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
                        None => crate::tenant::rows_from_tenant(&tenant),
                    };
                    (tenant, export)
                }
                (None, Some(rows)) => (crate::tenant::tenant_from_export(&rows), rows),
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
    args: &SandboxArgs,
    prepared: &Prepared,
    export_is_input: bool,
) -> Result<(), SandboxError> {
    if let Some(path) = &args.export
        && !export_is_input
    {
        export::write_csv(path, &prepared.export)?;
    }
    if let Some(path) = &args.passwords {
        if prepared.truth.is_none() {
            return Err(SandboxError::Options(
                "--passwords needs a generated tenant: a loaded one has no known passwords".into(),
            ));
        }
        export::write_passwords(path, &prepared.passwords)?;
    }
    if let Some(path) = &args.truth {
        let Some(truth) = &prepared.truth else {
            return Err(SandboxError::Options(
                "--truth needs a generated tenant".into(),
            ));
        };
        write_json(path, truth)?;
    }
    Ok(())
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), SandboxError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| io("serialise", path, std::io::Error::other(error)))?;
    ferry_wire::files::write(path, (text + "\n").as_bytes())
        .map_err(|source| io("write", path, source))
}

async fn serve(
    args: &SandboxArgs,
    prepared: Prepared,
    started: Instant,
    on_ready: impl FnOnce(&Ready<'_>),
) -> Result<(), SandboxError> {
    let (users, organizations, memberships) = (
        prepared.tenant.users.len(),
        prepared.tenant.organizations.len(),
        prepared.tenant.memberships.len(),
    );
    let options = SandboxOptions {
        clerk_addr: SocketAddr::from(([127, 0, 0, 1], args.clerk_port)),
        workos_addr: SocketAddr::from(([127, 0, 0, 1], args.workos_port)),
        tenant: prepared.tenant,
        truth: prepared.truth,
        credentials: prepared.export,
        limits: args.limits(),
        faults: args.faults.clone(),
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(options).await?;
    let info = sandbox.info();
    if let Some(path) = &args.ready_file {
        write_json(path, &info)?;
    }
    on_ready(&Ready {
        info: &info,
        users,
        organizations,
        memberships,
        took: started.elapsed(),
        notes: &prepared.notes,
    });

    wait_for_stop()
        .await
        .map_err(|source| io("wait for Ctrl-C in", "the sandbox", source))?;
    sandbox.shutdown();
    if let Some(path) = &args.ready_file {
        remove_ready_file(path, Some(&info));
    }
    Ok(())
}

/// Removes a ready file, but only one a sandbox wrote: a regular file (not
/// a link, a device or a folder) holding a sandbox's JSON, and at exit the
/// very JSON this sandbox wrote. Anything else at that path is left alone.
fn remove_ready_file(path: &Path, ours: Option<&SandboxInfo>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if !meta.file_type().is_file() || meta.len() > 64 * 1024 {
        return;
    }
    let written = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<SandboxInfo>(&text).ok());
    let remove = match (written, ours) {
        (Some(written), Some(ours)) => &written == ours,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if remove {
        let _ = std::fs::remove_file(path);
    }
}

/// Ctrl-C, or the SIGTERM a script's `kill` sends.
async fn wait_for_stop() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}
