//! `ferry verify PLAN`: the verification checklist against WorkOS as it is
//! now, without running anything else. Exits 1 when a check fails.

use ferry_core::engine::Engine;
use ferry_core::observe::Quiet;

use crate::args::JsonPlanArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::Painter;
use crate::render::summary;

pub fn run(args: &JsonPlanArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    let verification = Engine::new(&project, &Quiet).verify()?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verification).unwrap_or_default()
        );
    } else {
        summary::verification(&verification, &Painter::stdout());
    }
    Ok(if verification.passed {
        Exit::Success
    } else {
        Exit::ProblemFound
    })
}
