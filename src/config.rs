//! The validated configuration a command runs with. `cli` builds it from the
//! command line; nothing below this module knows clap exists.

use std::path::PathBuf;

use crate::output::ColorChoice;

#[derive(Debug, Clone)]
pub struct Config {
    pub color: ColorChoice,
    /// 0 = warnings only, 1 = info, 2 = debug, 3+ = trace.
    pub verbosity: u8,
    pub command: Command,
}

#[derive(Debug, Clone)]
pub enum Command {
    /// Check a plan and its script; report every problem.
    Validate { plan: PathBuf, json: bool },
    /// Run the plan's script tests.
    Test {
        plan: PathBuf,
        json: bool,
        filter: Option<String>,
    },
    /// Write a starter plan and script.
    Init { dir: PathBuf, force: bool },
}
