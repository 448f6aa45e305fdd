//! The organizations step as the engine runs and previews it.

use futures_util::future::LocalBoxFuture;

use super::{OrganizationsStep, read_domains, read_organizations};
use crate::journal::Kind;
use crate::plan::{OrganizationSettings, StepKind};
use crate::report::outcome::StepOutcome;
use crate::steps::error::StepError;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, listed, write_records,
};
use crate::target::reconcile;

pub struct Organizations<'p>(pub &'p OrganizationSettings);

impl Stage for Organizations<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Organizations
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Organizations)?;
            let listing = match cx.reconcile {
                true => Some(
                    listed(
                        cx,
                        StepKind::Organizations,
                        reconcile::list_organizations(cx.workos),
                    )
                    .await?,
                ),
                false => None,
            };
            let step = OrganizationsStep {
                settings: self.0.clone(),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Organizations, false),
                workos: cx.workos,
                journal: cx.reader,
                listing,
                clerk_domains: read_domains(clerk).await?,
            };
            let seen = cx.seen;
            let (outcome, incomplete) = write_records(
                cx,
                StepKind::Organizations,
                Kind::Organization,
                async |tx| read_organizations(clerk, tx).await,
                |org| {
                    let step = &step;
                    if let Some(seen) = seen {
                        seen.add(Kind::Organization, &org.id);
                    }
                    async move { step.write(&org).await }
                },
            )
            .await?;
            let why = incomplete.map(|why| format!("Clerk's organizations listing: {why}"));
            cx.listed_all(StepKind::Organizations, Kind::Organization, &outcome, why);
            Ok(outcome)
        })
    }

    fn preview<'s>(&'s self, cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let listing = reconcile::list_organizations(workos)
                .await
                .map_err(StepError::from)?;
            let step = OrganizationsStep {
                settings: self.0.clone(),
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Organizations, true),
                workos,
                journal: cx.reader,
                listing: Some(listing),
                clerk_domains: read_domains(clerk).await?,
            };
            let organizations = clerk
                .all_organizations()
                .await
                .map_err(crate::source::read::SourceError::from)
                .map_err(StepError::from)?;
            let mut tally = PreviewTally::new(cx, StepKind::Organizations).of(Kind::Organization);
            tally.total(organizations.len() as u64);
            for org in &organizations {
                tally.planned(&step.preview(org));
            }
            Ok(tally.outcome())
        })
    }
}
