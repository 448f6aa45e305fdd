//! `ferry hooks`: the hook reference, generated from the types the runtime
//! passes to a script (see `ferry_core::commands::hook_reference`). docs/hooks.md is
//! this command's output, and a test keeps the two the same.

use std::io::Write;

use ferry_core::commands::hook_reference;

use crate::args::HooksArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;

pub fn run(args: &HooksArgs) -> Result<Exit> {
    let docs = hook_reference::reference();
    let text = if args.json {
        serde_json::to_string_pretty(&serde_json::json!({ "hooks": docs })).unwrap_or_default()
            + "\n"
    } else {
        hook_reference::render(&docs)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("write", "standard output", e))?;
    Ok(Exit::Success)
}
