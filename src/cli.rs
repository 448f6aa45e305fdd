//! The command line: clap types, and their conversion into a [`Config`].
//!
//! This is the only module that knows about clap. `main` calls [`main`],
//! which parses, runs the command and turns the outcome into an exit code.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{
    Command, Config, FaultSettings, SandboxSettings, TenantSource, ThrottleSetting,
};
use crate::error::ExitStatus;
use crate::output::{self, ColorChoice, Painter};

/// Move users, organizations, memberships and MFA factors from Clerk to WorkOS.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None, propagate_version = true)]
pub struct Arguments {
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true, env = "FERRY_COLOR")]
    color: Color,

    /// More log output (-v info, -vv debug). `FERRY_LOG` takes a full filter.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Subcommands,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Html,
    Md,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Subcommands {
    /// Check a plan and its script, reporting every problem with file:line:col.
    Validate {
        /// The plan file.
        plan: PathBuf,
        /// Print the diagnostics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the script tests declared in the plan's `tests:`.
    Test {
        plan: PathBuf,
        /// Print results as JSON.
        #[arg(long)]
        json: bool,
        /// Run only tests whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Write a commented starter plan and script (plans/migration.yaml, scripts/migration.rhai).
    Init {
        /// The folder to write into.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
    /// Show what `run` would do for each user (create, update, unchanged, skip, reject), writing nothing.
    Plan {
        plan: PathBuf,
        /// Save every user's planned action as JSON.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Ask WorkOS nothing: decide from the export and the journal alone.
        #[arg(long)]
        offline: bool,
    },
    /// Migrate: write to WorkOS. Resumable; a rerun picks up where the last one stopped.
    Run {
        plan: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Continue an interrupted run even though the plan or script changed since.
        #[arg(long)]
        allow_changed_plan: bool,
    },
    /// Summarise the journal: runs and every record's outcome.
    Status { plan: PathBuf },
    /// Write the Clerk-to-WorkOS id map (users and organizations) as CSV.
    ExportIds {
        plan: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// The pre-migration assessment: what the migration will meet, read-only, from the source alone.
    Assess {
        plan: PathBuf,
        /// Print the assessment as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The verification checklist against WorkOS as it is now; exits 1 when a check fails.
    Verify {
        plan: PathBuf,
        /// Print the checklist as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Render a run's report again (the last run's unless --run).
    Report {
        plan: PathBuf,
        /// The run whose report to render.
        #[arg(long)]
        run: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Html)]
        format: Format,
        /// Where to write it (default: the plan's report folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the reference plan end to end against the built-in sandbox and show the report.
    Demo {
        /// Users in the generated Clerk tenant.
        #[arg(long, default_value_t = 2000)]
        users: usize,
        /// Organizations in the generated tenant.
        #[arg(long, default_value_t = 50)]
        orgs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The demo's folder (cleared and rewritten by each demo).
        #[arg(long, default_value = "ferry-demo")]
        dir: PathBuf,
        /// Multiply the real rate limits (the default 10 finishes in seconds; 1 shows real pacing).
        #[arg(long, default_value_t = 10.0)]
        limits_scale: f64,
    },
    /// Serve local imitations of Clerk's Backend API and the WorkOS API, with a synthetic tenant.
    Sandbox(Box<SandboxArguments>),
}

#[derive(Debug, clap::Args)]
struct SandboxArguments {
    /// Port of the Clerk imitation (0 = any free port).
    #[arg(long, default_value_t = 8710)]
    clerk_port: u16,
    /// Port of the WorkOS imitation and its admin routes (0 = any free port).
    #[arg(long, default_value_t = 8711)]
    workos_port: u16,
    /// Generate this many users.
    #[arg(long, default_value_t = 200, conflicts_with_all = ["tenant", "csv"])]
    users: usize,
    /// Generate this many organizations.
    #[arg(long, default_value_t = 20, conflicts_with_all = ["tenant", "csv"])]
    orgs: usize,
    /// Seed of the generator: the same seed gives the same tenant.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Serve this tenant instead: JSON with `users`, `organizations` and `memberships` in Clerk's API shapes.
    #[arg(long, value_name = "FILE")]
    tenant: Option<PathBuf>,
    /// A Clerk Dashboard CSV export: alone, its users become the tenant; with --tenant, it is checked against it.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write the Dashboard CSV export of the served tenant (digests and TOTP secrets included).
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
    /// Write the plaintext passwords of generated users (CSV: user_id,email,username,password,password_hasher).
    #[arg(long, value_name = "FILE")]
    passwords: Option<PathBuf>,
    /// Write what the generator planted, by category (JSON).
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// Write the URLs and keys as JSON once both servers listen.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// Multiply every rate limit's request count (0.1 = ten times stricter).
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    limits_scale: f64,
    /// Enforce no rate limit at all.
    #[arg(long, conflicts_with = "limits_scale")]
    no_limits: bool,
    /// Seed of the fault injector.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Add this latency to every answer.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Add up to this much more latency, at random.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Fraction of requests answered 500, 502 or 503.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    error_rate: f64,
    /// Fraction of requests whose connection is reset without an answer.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    reset_rate: f64,
    /// Fraction of writes that take effect but whose answer is dropped.
    #[arg(long, default_value_t = 0.0, value_parser = fraction)]
    drop_write_rate: f64,
    /// A scripted 429 burst, AFTER:COUNT[:RETRY_AFTER_SECS] in request numbers (repeatable).
    #[arg(long, value_name = "AFTER:COUNT[:SECS]", value_parser = throttle)]
    throttle: Vec<ThrottleSetting>,
    /// Send `Retry-After` as an HTTP date rather than seconds.
    #[arg(long)]
    retry_after_http_date: bool,
}

fn throttle(text: &str) -> Result<ThrottleSetting, String> {
    let numbers: Vec<u64> = text
        .split(':')
        .map(|part| part.trim().parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{text}` is not AFTER:COUNT[:SECS]"))?;
    match numbers[..] {
        [after, count] => Ok(ThrottleSetting {
            after,
            count,
            retry_after_secs: 1,
        }),
        [after, count, retry_after_secs] => Ok(ThrottleSetting {
            after,
            count,
            retry_after_secs,
        }),
        _ => Err(format!("`{text}` is not AFTER:COUNT[:SECS]")),
    }
}

fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
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

impl SandboxArguments {
    fn into_settings(self) -> SandboxSettings {
        let tenant = if self.tenant.is_some() || self.csv.is_some() {
            TenantSource::Load {
                tenant: self.tenant,
                csv: self.csv,
            }
        } else {
            TenantSource::Generate {
                users: self.users,
                organizations: self.orgs,
                seed: self.seed,
            }
        };
        SandboxSettings {
            clerk_port: self.clerk_port,
            workos_port: self.workos_port,
            tenant,
            export: self.export,
            passwords: self.passwords,
            truth: self.truth,
            ready_file: self.ready_file,
            limits_scale: (!self.no_limits).then_some(self.limits_scale),
            faults: FaultSettings {
                seed: self.fault_seed,
                latency_ms: self.latency_ms,
                jitter_ms: self.jitter_ms,
                error_rate: self.error_rate,
                reset_rate: self.reset_rate,
                drop_write_rate: self.drop_write_rate,
                throttle: self.throttle,
                retry_after_http_date: self.retry_after_http_date,
            },
        }
    }
}

impl Arguments {
    pub fn into_config(self) -> Config {
        let command = match self.command {
            Subcommands::Validate { plan, json } => Command::Validate { plan, json },
            Subcommands::Test { plan, json, filter } => Command::Test { plan, json, filter },
            Subcommands::Init { dir, force } => Command::Init { dir, force },
            Subcommands::Sandbox(arguments) => Command::Sandbox(arguments.into_settings()),
            Subcommands::Plan { plan, out, offline } => Command::Plan { plan, out, offline },
            Subcommands::Run {
                plan,
                yes,
                allow_changed_plan,
            } => Command::Run {
                plan,
                yes,
                allow_changed_plan,
            },
            Subcommands::Status { plan } => Command::Status { plan },
            Subcommands::ExportIds { plan, out } => Command::ExportIds { plan, out },
            Subcommands::Assess { plan, json } => Command::Assess { plan, json },
            Subcommands::Verify { plan, json } => Command::Verify { plan, json },
            Subcommands::Report {
                plan,
                run,
                format,
                out,
            } => Command::Report {
                plan,
                run,
                format: match format {
                    Format::Html => crate::plan::ReportFormat::Html,
                    Format::Md => crate::plan::ReportFormat::Md,
                    Format::Json => crate::plan::ReportFormat::Json,
                },
                out,
            },
            Subcommands::Demo {
                users,
                orgs,
                seed,
                dir,
                limits_scale,
            } => Command::Demo(crate::commands::DemoSettings {
                users,
                organizations: orgs,
                seed,
                dir,
                limits_scale,
            }),
        };
        Config {
            color: match self.color {
                Color::Auto => ColorChoice::Auto,
                Color::Always => ColorChoice::Always,
                Color::Never => ColorChoice::Never,
            },
            verbosity: self.verbose,
            command,
        }
    }
}

/// Parses `std::env::args_os`, runs, and returns the documented exit code.
pub fn main() -> ExitCode {
    run(std::env::args_os())
}

pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let arguments = match Arguments::try_parse_from(args) {
        Ok(arguments) => arguments,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitStatus::UsageError.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    let config = arguments.into_config();
    output::apply_color_choice(config.color);
    init_logging(config.verbosity);
    match crate::commands::run(config) {
        Ok(status) => status.into(),
        Err(error) => {
            let painter = Painter::stderr();
            let mut stderr = std::io::stderr().lock();
            for diagnostic in error.diagnostics() {
                let _ = write!(stderr, "{}", painter.diagnostic(diagnostic));
            }
            let _ = writeln!(stderr, "{}: {error:#}", painter.error("error"));
            error.exit_status().into()
        }
    }
}

fn init_logging(verbosity: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbosity {
        0 => "warn,ferry::script=info",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
