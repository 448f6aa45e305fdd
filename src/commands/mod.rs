//! One module per subcommand. Each takes validated settings from
//! [`Config`], does its work through the core modules, prints for people (or
//! JSON), and returns the [`ExitStatus`] the command ends with.

mod assess;
mod demo;
mod init;
mod preview;
mod report;
pub mod run;
mod sandbox;
mod status;
mod test;
mod validate;
mod verify;

pub use demo::DemoSettings;

use crate::config::{Command, Config};
use crate::error::{ExitStatus, Result};

pub fn run(config: Config) -> Result<ExitStatus> {
    match config.command {
        Command::Validate { plan, json } => validate::run(&plan, json),
        Command::Test { plan, json, filter } => test::run(&plan, json, filter.as_deref()),
        Command::Init { dir, force } => init::run(&dir, force),
        Command::Sandbox(settings) => sandbox::run(&settings),
        Command::Plan { plan, out, offline } => preview::run(preview::PreviewSettings {
            plan: &plan,
            out,
            offline,
        }),
        Command::Run {
            plan,
            yes,
            allow_changed_plan,
        } => run::run(run::RunSettings {
            plan: &plan,
            yes,
            allow_changed_plan,
        }),
        Command::Status { plan } => status::status(&plan),
        Command::ExportIds { plan, out } => status::export_ids(&plan, &out),
        Command::Assess { plan, json } => assess::run(&plan, json),
        Command::Verify { plan, json } => verify::run(&plan, json),
        Command::Report {
            plan,
            run,
            format,
            out,
        } => report::run(&plan, run, format, out),
        Command::Demo(settings) => demo::run(&settings),
    }
}
