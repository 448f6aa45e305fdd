//! The assess step as the engine runs it: the source alone, read once.

use futures_util::future::LocalBoxFuture;

use super::AssessStep;
use crate::clerk::client::ClerkClient;
use crate::observe::Event;
use crate::plan::{Project, StepKind};
use crate::report::outcome::StepOutcome;
use crate::source::read::Sources;
use crate::source::shared_users::SharedUsers;
use crate::steps::stage::{RunContext, Stage, StageResult};

pub struct Assess;

impl Stage for Assess {
    fn kind(&self) -> StepKind {
        StepKind::Assess
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(assess(cx.project, cx.clerk, cx.shared_users, cx.observer))
    }
}

/// The assessment, from the source alone.
pub async fn assess(
    project: &Project,
    clerk: Option<&ClerkClient>,
    shared: Option<&SharedUsers>,
    observer: &dyn crate::observe::Observer,
) -> StageResult {
    let step = AssessStep {
        plan: &project.plan,
        observer,
    };
    let settings = project.plan.users().cloned().unwrap_or_default();
    let announce = |total| {
        observer.event(&Event::Total {
            step: StepKind::Assess,
            total,
        })
    };
    let sources = Sources {
        required_columns: settings.required_columns(),
        shared,
        on_total: Some(&announce),
        ..Sources::of(&project.plan.source, clerk)
    };
    Ok(StepOutcome::Assess(Box::new(
        step.run(sources, clerk).await?,
    )))
}
