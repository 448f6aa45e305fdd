//! One module per subcommand. Each takes validated settings from
//! [`Config`], does its work through the core modules, prints for people (or
//! JSON), and returns the [`ExitStatus`] the command ends with.

mod init;
mod sandbox;
mod test;
mod validate;

use crate::config::{Command, Config};
use crate::error::{ExitStatus, Result};

pub fn run(config: Config) -> Result<ExitStatus> {
    match config.command {
        Command::Validate { plan, json } => validate::run(&plan, json),
        Command::Test { plan, json, filter } => test::run(&plan, json, filter.as_deref()),
        Command::Init { dir, force } => init::run(&dir, force),
        Command::Sandbox(settings) => sandbox::run(&settings),
    }
}
