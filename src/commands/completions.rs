//! `ferry completions <shell>` and `ferry man [COMMAND]`: what a packager
//! or a user's dotfiles install, generated from the same clap definition
//! the binary parses with, so they cannot describe another command line.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Arguments, CompletionsArgs, ManArgs};
use crate::error::{Error, Result};
use crate::exit::Exit;

fn print(bytes: &[u8]) -> Result<Exit> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("write", "standard output", e))?;
    Ok(Exit::Success)
}

pub fn completions(args: &CompletionsArgs) -> Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Arguments::command(), "ferry", &mut script);
    print(&script)
}

/// ferry's page, or one subcommand's (`ferry man run`), as roff.
pub fn man(args: &ManArgs) -> Result<Exit> {
    let mut ferry = Arguments::command();
    ferry.build();
    let command = match &args.command {
        None => ferry,
        Some(name) => {
            let sub = ferry
                .find_subcommand(name)
                .cloned()
                .expect("clap only accepts ferry's own subcommands");
            // The page is named as man(1) looks it up: `man ferry-run`.
            let page = format!("ferry-{}", sub.get_name());
            sub.name(page)
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(|e| Error::io("render", "the man page", e))?;
    print(&page)
}
