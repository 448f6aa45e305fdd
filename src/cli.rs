//! The command line: clap types, and their conversion into a [`Config`].
//!
//! This is the only module that knows about clap. `main` calls [`main`],
//! which parses, runs the command and turns the outcome into an exit code.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{Command, Config};
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
}

impl Arguments {
    pub fn into_config(self) -> Config {
        let command = match self.command {
            Subcommands::Validate { plan, json } => Command::Validate { plan, json },
            Subcommands::Test { plan, json, filter } => Command::Test { plan, json, filter },
            Subcommands::Init { dir, force } => Command::Init { dir, force },
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
