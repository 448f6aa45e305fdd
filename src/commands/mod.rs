//! One module per subcommand. Each takes its parsed arguments, asks the
//! engine (`ferry-core`) or the sandbox to do the work, renders the result
//! for people (or JSON), and says how the command ended ([`Exit`]). No
//! command sequences steps or opens the journal itself.

mod assess;
mod completions;
mod demo;
mod hooks;
mod init;
mod open;
mod plan;
mod portal_link;
mod report;
mod run;
mod sandbox;
mod status;
mod sync;
mod test;
mod undo;
mod validate;
mod verify;
mod watch;

use crate::args::Command;
use crate::error::Result;
use crate::exit::Exit;

pub fn run(command: Command) -> Result<Exit> {
    match command {
        Command::Validate(args) => validate::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Hooks(args) => hooks::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Sandbox(args) => sandbox::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Sync(args) => sync::run(&args),
        Command::Undo(args) => undo::run(&args),
        Command::Status(args) => status::status(&args),
        Command::ExportIds(args) => status::export_ids(&args),
        Command::Assess(args) => assess::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Report(args) => report::run(&args),
        Command::PortalLink(args) => portal_link::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => completions::man(&args),
    }
}
