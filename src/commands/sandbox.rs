//! `ferry sandbox`: the sandbox crate serves; this prints its banner.

use std::io::Write;

use ferry_sandbox::serve::{self, Ready, SandboxArgs};

use crate::error::Result;
use crate::exit::Exit;
use crate::output::Painter;

pub fn run(args: &SandboxArgs) -> Result<Exit> {
    serve::run(args, banner)?;
    Ok(Exit::Success)
}

fn banner(ready: &Ready<'_>) {
    let painter = Painter::stdout();
    let info = ready.info;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} in {:.2} s: {} users, {} organizations, {} memberships",
        painter.success("sandbox ready"),
        ready.took.as_secs_f64(),
        ready.users,
        ready.organizations,
        ready.memberships
    );
    let _ = writeln!(out, "  Clerk   {}", info.clerk_api_url);
    let _ = writeln!(out, "  WorkOS  {}", info.workos_url);
    let _ = writeln!(out, "  Admin   {}", info.admin_url);
    let _ = writeln!(out, "Sandbox keys (fake, safe to print):");
    let _ = writeln!(out, "  export CLERK_SECRET_KEY={}", info.clerk_secret_key);
    let _ = writeln!(out, "  export WORKOS_API_KEY={}", info.workos_api_key);
    let _ = writeln!(out, "  export WORKOS_CLIENT_ID={}", info.workos_client_id);
    for note in ready.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "Press Ctrl-C to stop.");
    let _ = out.flush();
}
