//! The `totp` check: every migrated TOTP factor exists.

use futures_util::stream::{self, StreamExt};

use super::context::{PARALLEL_READS, VerifyStep, check, skipped};
use crate::journal::Kind;
use crate::report::verification::Check;
use crate::steps::error::StepError;

impl VerifyStep<'_> {
    pub(super) async fn check_totp(&self) -> Result<Check, StepError> {
        const TITLE: &str = "Migrated TOTP factors exist";
        let factors = self.journal_ids(Kind::TotpFactor)?;
        if factors.is_empty() {
            return Ok(skipped("totp", TITLE, "no TOTP factor was migrated"));
        }
        let users = self.journal_ids(Kind::User)?;
        let users = &users;
        let results: Vec<Result<Option<String>, StepError>> = stream::iter(factors.iter())
            .map(|(clerk_id, factor_id)| async move {
                let Some(user) = users.get(clerk_id) else {
                    return Ok(Some(format!("{clerk_id}: a factor but no migrated user")));
                };
                let present = self
                    .workos
                    .auth_factors(user)
                    .await
                    .map_err(StepError::from)?
                    .iter()
                    .any(|f| &f.id == factor_id && f.kind == "totp");
                Ok((!present).then(|| {
                    format!(
                        "{clerk_id}: TOTP factor {factor_id} is missing from WorkOS user {user}"
                    )
                }))
            })
            .buffer_unordered(PARALLEL_READS)
            .collect()
            .await;
        let mut failures = Vec::new();
        for result in results {
            failures.extend(result?);
        }
        failures.sort();
        let evidence = vec![format!("{} factors checked", factors.len())];
        Ok(check("totp", TITLE, failures, evidence))
    }
}
