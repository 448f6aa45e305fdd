//! The command line, as clap types. Each subcommand's arguments parse
//! straight into the struct its command takes (the engine's own settings
//! and the sandbox's are flattened in), so nothing copies them field by
//! field. Nothing outside the binary sees this module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ferry_core::engine::RunOptions;
use ferry_core::plan::ReportFormat;
use ferry_core::undo::UndoOptions;
use ferry_sandbox::serve::SandboxArgs;

/// Move users, organizations, memberships and MFA factors from Clerk to WorkOS.
#[derive(Debug, Parser)]
#[command(name = "ferry", version, about, long_about = None, propagate_version = true)]
pub struct Arguments {
    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, env = "FERRY_COLOR")]
    pub color: ColorChoice,

    /// More log output (-v info, -vv debug). `FERRY_LOG` takes a full filter.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a plan and its script, reporting every problem with file:line:col.
    Validate(ValidateArgs),
    /// Run the script tests declared in the plan's `tests:`.
    Test(TestArgs),
    /// Print every hook a script may define: its signature, what it returns, and the shape of its arguments.
    Hooks(HooksArgs),
    /// Write a commented starter plan and script (plans/migration.yaml, scripts/migration.rhai).
    Init(InitArgs),
    /// Show what `run` would do for each user (create, update, unchanged, skip, reject), writing nothing.
    Plan(PlanArgs),
    /// Migrate: write to WorkOS. Resumable; a rerun picks up where the last one stopped.
    Run(RunArgs),
    /// After a finished run: apply what changed in Clerk since (new, changed and deleted users, organizations, memberships, roles).
    Sync(RunArgs),
    /// Delete from WorkOS what ferry created (one run's or all), keeping users who signed in since.
    Undo(UndoArgs),
    /// Summarise the journal: runs and every record's outcome.
    Status(JsonPlanArgs),
    /// Write the Clerk-to-WorkOS id map (users and organizations) as CSV.
    ExportIds(ExportIdsArgs),
    /// The pre-migration assessment: what the migration will meet, read-only, from the source alone.
    Assess(JsonPlanArgs),
    /// The verification checklist against WorkOS as it is now; exits 1 when a check fails.
    Verify(JsonPlanArgs),
    /// Password sign-ins since the migration, per hash cohort; exits 1 on a cohort whose failures are out of line.
    Watch(WatchArgs),
    /// Render a run's report again (the last run's unless --run).
    Report(ReportArgs),
    /// Print a fresh Admin Portal link for one organization's IT admin (valid minutes; never stored).
    PortalLink(PortalLinkArgs),
    /// Run the reference plan end to end against the built-in sandbox and show the report.
    Demo(DemoArgs),
    /// Serve local imitations of Clerk's Backend API and the WorkOS API, with a synthetic tenant.
    Sandbox(Box<SandboxArgs>),
    /// Print a shell completion script (e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`).
    Completions(CompletionsArgs),
    /// Print ferry's man page, or one command's, as roff (e.g. `ferry man run | man -l -`).
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print; ferry's own page when absent.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(SUBCOMMANDS))]
    pub command: Option<String>,
}

/// The subcommands `ferry man` has a page for.
const SUBCOMMANDS: [&str; 19] = [
    "validate",
    "test",
    "hooks",
    "init",
    "plan",
    "run",
    "sync",
    "undo",
    "status",
    "export-ids",
    "assess",
    "verify",
    "watch",
    "report",
    "portal-link",
    "demo",
    "sandbox",
    "completions",
    "man",
];

#[derive(Debug, Args)]
pub struct HooksArgs {
    /// Print the reference as JSON, each argument as its JSON Schema.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The plan file a command works on.
#[derive(Debug, Args)]
pub struct PlanFile {
    /// The plan file.
    pub plan: PathBuf,
}

#[derive(Debug, Args)]
pub struct PortalLinkArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// The organization: its Clerk id (the journal maps it to the WorkOS
    /// organization ferry made) or its WorkOS id.
    pub organization: String,
    /// What the IT admin sets up.
    #[arg(long, value_enum, default_value_t = PortalIntent::Sso)]
    pub intent: PortalIntent,
}

/// An Admin Portal intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PortalIntent {
    /// An SSO connection (and its ACS URL and SP entity id).
    Sso,
    /// Directory sync (SCIM).
    Dsync,
    /// Domain verification.
    DomainVerification,
    /// A new IdP signing certificate.
    CertificateRenewal,
}

impl PortalIntent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sso => "sso",
            Self::Dsync => "dsync",
            Self::DomainVerification => "domain_verification",
            Self::CertificateRenewal => "certificate_renewal",
        }
    }
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Print the diagnostics as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run only tests whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write into.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Save every user's planned action as JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Ask WorkOS nothing: decide from the export and the journal alone.
    #[arg(long)]
    pub offline: bool,
    /// Preview a `ferry sync`: also what it would do with what Clerk no longer has.
    #[arg(long, conflicts_with = "offline")]
    pub sync: bool,
    /// Print the preview (counts, reasons, examples) as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the run's events as JSON lines instead of progress and summaries.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub options: RunOptions,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub options: UndoOptions,
}

#[derive(Debug, Args)]
pub struct ExportIdsArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Sign-ins from this instant on (RFC 3339, e.g. 2026-12-07T09:00:00Z); the journal's first run when absent.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Print the tally once, as JSON.
    #[arg(long)]
    pub json: bool,
}

fn instant(text: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|_| "not an RFC 3339 time such as 2026-12-07T09:00:00Z".to_owned())
}

#[derive(Debug, Args)]
pub struct JsonPlanArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub plan: PlanFile,
    /// The run whose report to render.
    #[arg(long)]
    pub run: Option<i64>,
    #[arg(long, value_enum, default_value_t = Format::Html)]
    pub format: Format,
    /// Where to write it (default: the plan's report folder).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// A report format, as `--format` spells it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Json,
}

impl From<Format> for ReportFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Html => ReportFormat::Html,
            Format::Md => ReportFormat::Md,
            Format::Json => ReportFormat::Json,
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Users in the generated Clerk tenant.
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// Organizations in the generated tenant.
    #[arg(long, default_value_t = 50)]
    pub orgs: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The demo's folder (cleared and rewritten by each demo).
    #[arg(long, default_value = "ferry-demo")]
    pub dir: PathBuf,
    /// Multiply the real rate limits (the default 10 finishes in seconds; 1 shows real pacing).
    #[arg(long, default_value_t = 10.0)]
    pub limits_scale: f64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn man_offers_a_page_for_every_subcommand() {
        let command = super::Arguments::command();
        let mut names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
        let mut offered = super::SUBCOMMANDS.to_vec();
        names.sort_unstable();
        offered.sort_unstable();
        assert_eq!(names, offered);
    }
}
