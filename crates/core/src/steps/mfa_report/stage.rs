//! The mfa_report step as the engine runs it.

use futures_util::future::LocalBoxFuture;

use super::MfaReportStep;
use crate::plan::{MfaReportSettings, StepKind};
use crate::report::outcome::StepOutcome;
use crate::steps::connections::ClerkSso;
use crate::steps::stage::{RunContext, Stage, StageResult};

pub struct MfaReport<'p>(pub &'p MfaReportSettings);

impl Stage for MfaReport<'_> {
    fn kind(&self) -> StepKind {
        StepKind::MfaReport
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let plan = &cx.project.plan;
            let step = MfaReportStep {
                plan_name: plan.name.clone(),
                template: self.0.notice_template.clone(),
                out_dir: self
                    .0
                    .out_dir
                    .clone()
                    .unwrap_or_else(|| plan.report.dir.join("notices")),
                report_dir: plan.report.dir.clone(),
                enabled_providers: plan
                    .target
                    .as_ref()
                    .map(|t| t.oauth_providers.clone())
                    .unwrap_or_default(),
                journal: cx.reader,
                sso: match (plan.has(StepKind::Connections), cx.clerk) {
                    (true, Some(clerk)) => Some(ClerkSso::read(clerk).await?),
                    _ => None,
                },
            };
            Ok(StepOutcome::MfaReport(step.run(cx.sources()).await?))
        })
    }
}
