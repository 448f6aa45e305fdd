//! The roles step as the engine runs and previews it.

use futures_util::future::LocalBoxFuture;

use super::{RolesStep, read_roles};
use crate::journal::Kind;
use crate::observe::Event;
use crate::plan::{RoleSettings, StepKind};
use crate::report::outcome::StepOutcome;
use crate::steps::error::StepError;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, write_records,
};

pub struct Roles<'p>(pub &'p RoleSettings);

impl Stage for Roles<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Roles
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Roles)?;
            let step = RolesStep::new(
                crate::mapping::role::RoleMapper::of(cx.project, false),
                self.0.permissions,
                cx.workos,
                cx.reader,
            )
            .await
            .map_err(StepError::from)?;
            let (mut outcome, _) = write_records(
                cx,
                StepKind::Roles,
                Kind::Role,
                async |tx| read_roles(clerk, tx).await,
                |role| {
                    let step = &step;
                    async move { step.write(&role).await }
                },
            )
            .await?;
            if let StepOutcome::Records { notes, .. } = &mut outcome {
                *notes = step.notes.lock().expect("notes lock").clone();
                for note in notes.iter() {
                    cx.observer.event(&Event::Warning {
                        step: Some(StepKind::Roles),
                        message: note,
                    });
                }
            }
            Ok(outcome)
        })
    }

    fn preview<'s>(&'s self, cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let step = RolesStep::new(
                crate::mapping::role::RoleMapper::of(cx.project, true),
                self.0.permissions,
                workos,
                cx.reader,
            )
            .await
            .map_err(StepError::from)?;
            let roles = clerk
                .all_roles()
                .await
                .map_err(crate::source::read::SourceError::from)
                .map_err(StepError::from)?;
            let mut tally = PreviewTally::new(cx, StepKind::Roles);
            tally.total(roles.len() as u64);
            for role in &roles {
                tally.planned(&step.preview(role));
            }
            Ok(tally.outcome())
        })
    }
}
