//! The verify step as the engine runs it, and the checklist `ferry verify` asks for.

use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use super::VerifyStep;
use crate::journal::Journal;
use crate::plan::{Project, StepKind};
use crate::report::outcome::StepOutcome;
use crate::source::read::Sources;
use crate::steps::ended::Ended;
use crate::steps::stage::{RunContext, Stage, StageResult};
use crate::workos::client::WorkosClient;

pub struct Verify;

impl Stage for Verify {
    fn kind(&self) -> StepKind {
        StepKind::Verify
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(verify(
            cx.project,
            cx.workos,
            cx.sources(),
            cx.reader,
            cx.ended,
            false,
        ))
    }
}

/// The verification checklist against WorkOS as it is now.
pub async fn verify(
    project: &Project,
    workos: &WorkosClient,
    sources: Sources<'_>,
    reader: &Mutex<Journal>,
    ended: Option<&Ended>,
    dry_run: bool,
) -> StageResult {
    let clerk = sources.clerk;
    let plan = &project.plan;
    let step = VerifyStep {
        plan,
        script: project.script.as_ref(),
        users_ctx: project.hook_context(StepKind::Users, dry_run),
        memberships_ctx: project.hook_context(StepKind::Memberships, dry_run),
        workos,
        clerk,
        journal: reader,
        api_key: plan
            .target
            .as_ref()
            .and_then(|t| t.api_key.clone())
            .unwrap_or_default(),
        roles: crate::mapping::role::RoleMapper::of(project, dry_run),
        ended,
        clerk_memberships: Default::default(),
    };
    Ok(StepOutcome::Verify(step.run(sources).await?))
}
