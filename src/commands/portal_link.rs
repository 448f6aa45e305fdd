//! `ferry portal-link PLAN ORG [--intent sso|dsync|domain_verification|certificate_renewal]`:
//! a fresh Admin Portal link for one organization's IT admin. The link is
//! a bearer credential that WorkOS lets live five minutes: it goes to
//! standard output and nowhere else (no journal, no log, no report), so
//! ask for one when the admin is ready to use it.

use ferry_core::engine::Engine;
use ferry_core::observe::Quiet;

use crate::args::PortalLinkArgs;
use crate::error::Result;
use crate::exit::Exit;

pub fn run(args: &PortalLinkArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    let (organization, link) =
        Engine::new(&project, &Quiet).portal_link(&args.organization, args.intent.as_str())?;
    eprintln!(
        "Admin Portal link ({}) for WorkOS organization {}: valid for five minutes, not stored",
        args.intent.as_str(),
        ferry_wire::inert::printable(&organization)
    );
    println!("{}", link.expose());
    Ok(Exit::Success)
}
