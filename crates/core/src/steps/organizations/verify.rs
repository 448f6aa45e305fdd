//! The `organizations` check: organization counts match Clerk's.

use crate::plan::StepKind;
use std::collections::BTreeSet;

use crate::journal::Kind;
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::verify::context::{VerifyStep, check, skipped};

impl VerifyStep<'_> {
    pub(crate) async fn check_organizations(&self) -> Result<Check, StepError> {
        const TITLE: &str = "Organization counts match";
        let (Some(clerk), Some(_)) = (
            self.clerk,
            self.plan.has(StepKind::Organizations).then_some(()),
        ) else {
            return Ok(skipped(
                "organizations",
                TITLE,
                "the plan has no organizations step",
            ));
        };
        let clerk_ids: BTreeSet<String> = clerk
            .all_organizations()
            .await
            .map_err(crate::source::read::SourceError::from)?
            .into_iter()
            .map(|o| o.id)
            .collect();
        // Through the listing check: a cursor that loops is an error, not a count.
        let in_workos = crate::target::reconcile::list_organizations(self.workos)
            .await
            .map_err(StepError::from)?
            .into_by_id()
            .into_values()
            .filter(|o| {
                o.external_id
                    .as_ref()
                    .is_some_and(|e| clerk_ids.contains(e))
            })
            .count() as u64;
        let excluded: u64 = self.excluded(Kind::Organization)?.values().sum();
        let expected = (clerk_ids.len() as u64).saturating_sub(excluded);
        let failures = if in_workos == expected {
            Vec::new()
        } else {
            vec![format!(
                "expected {expected} organizations in WorkOS, found {in_workos}"
            )]
        };
        let evidence = vec![format!(
            "Clerk: {} organizations; excluded: {excluded}; in WorkOS with a Clerk external_id: {in_workos}",
            clerk_ids.len()
        )];
        Ok(check("organizations", TITLE, failures, evidence))
    }
}
