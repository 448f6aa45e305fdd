//! `ferry assess PLAN`: the pre-migration decision tree, read-only; needs only the source.

use ferry_core::engine::Engine;

use crate::args::JsonPlanArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::Painter;
use crate::render::progress::Progress;
use crate::render::summary;

pub fn run(args: &JsonPlanArgs) -> Result<Exit> {
    let project = super::open::for_source(&args.plan)?;
    // Progress on stderr: stdout holds the assessment (or its JSON).
    let progress = Progress::on_stderr();
    let assessment = Engine::new(&project, &progress).assess()?;
    drop(progress);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&assessment).unwrap_or_default()
        );
    } else {
        summary::assessment(&assessment, &Painter::stdout());
    }
    Ok(Exit::Success)
}
