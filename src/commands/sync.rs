//! `ferry sync PLAN`: after a finished run, asks (unless `--yes`), then has
//! the engine apply what changed in Clerk since, and says what it wrote,
//! what is gone from Clerk and what became of it.

use ferry_core::engine::Engine;

use crate::args::RunArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::render;

pub fn run(args: &RunArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    if !args.yes {
        let plan = &project.plan;
        super::run::ask(&project, "sync", |target| {
            // Only the invitations step may email people: say how many.
            let emails = Engine::new(&project, &ferry_core::observe::Quiet)
                .estimate()
                .ok()
                .map(|estimate| super::run::emails(estimate.invitation_emails))
                .unwrap_or_default();
            format!(
                "Sync plan {} (revision {}) to {target}: apply what changed in Clerk since the last run; what Clerk no longer has is {}.{emails}",
                plan.name,
                plan.revision,
                match plan.on_deleted {
                    ferry_core::plan::schema::OnDeleted::Report =>
                        "listed (`sync.on_deleted: report`), memberships ferry made are deleted",
                    ferry_core::plan::schema::OnDeleted::Delete =>
                        "deleted where ferry created it (`sync.on_deleted: delete`)",
                }
            )
        })?;
    }
    let observer = render::for_run(args.json);
    let summary = Engine::new(&project, observer.as_ref()).sync(args.options)?;
    Ok(super::run::tell(
        &summary,
        &args.plan.plan,
        args.json,
        "sync",
    ))
}
