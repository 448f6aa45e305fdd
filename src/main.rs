//! The `ferry` binary: the edge of the tool. It parses the command line
//! into the settings the engine takes ([`args`]), runs the command
//! ([`commands`]), renders what the engine reports ([`render`], [`output`]),
//! and maps the outcome to the documented exit code in one table ([`exit`]).
//! Everything a migration does lives in `ferry-core`; the local imitations
//! of Clerk and WorkOS live in `ferry-sandbox`.

mod args;
mod commands;
mod error;
mod exit;
mod memory;
mod output;
mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::exit::Exit;
use crate::output::Painter;

fn main() -> ExitCode {
    memory::fix_mmap_threshold();
    let arguments = match args::Arguments::try_parse() {
        Ok(arguments) => arguments,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::BadArguments.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    output::apply_color_choice(arguments.color);
    output::init_logging(arguments.verbose, arguments.color);
    match commands::run(arguments.command) {
        Ok(exit) => exit.into(),
        Err(error) => {
            let painter = Painter::stderr();
            let mut stderr = std::io::stderr().lock();
            for diagnostic in error.diagnostics() {
                let _ = write!(stderr, "{}", painter.diagnostic(diagnostic));
            }
            // Whatever a server echoed into the error, no secret is printed.
            let message = format!("{error:#}");
            let _ = writeln!(
                stderr,
                "{}: {}",
                painter.error("error"),
                ferry_wire::redact::redact(&message)
            );
            Exit::Error(error.kind()).into()
        }
    }
}
