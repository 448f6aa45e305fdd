//! The `totp` check, against WorkOS: every migrated TOTP factor exists
//! and is its user's only one (a second would mean an enrollment ran
//! twice); a migrated user whose factor the journal holds as deleted (by
//! undo or sync) must have one again in WorkOS, since the journal alone
//! proves nothing; a factor that failed fails the check; secrets that
//! could not be imported are named as known exceptions (their users are
//! on the MFA re-enrollment list).

use futures_util::stream::{self, StreamExt};

use crate::journal::{Action, Kind};
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::verify::context::{PARALLEL_READS, VerifyStep, check, skipped};

impl VerifyStep<'_> {
    pub(crate) async fn check_totp(&self) -> Result<Check, StepError> {
        const TITLE: &str = "Migrated TOTP factors exist";
        let factors = self.journal_ids(Kind::TotpFactor)?;
        let (failed, rejected, deleted) = {
            let journal = self.journal.lock().expect("journal lock");
            (
                journal.records_with(Kind::TotpFactor, Action::Failed)?,
                journal.records_with(Kind::TotpFactor, Action::Rejected)?,
                journal.records_with(Kind::TotpFactor, Action::Deleted)?,
            )
        };
        if factors.is_empty() && failed.is_empty() && rejected.is_empty() && deleted.is_empty() {
            return Ok(skipped("totp", TITLE, "no TOTP factor was migrated"));
        }
        let users = self.journal_ids(Kind::User)?;
        let users = &users;
        // Users still migrated whose factor the journal holds as deleted.
        let deleted: Vec<(&String, &String)> = deleted
            .iter()
            .filter_map(|(clerk_id, _)| Some((clerk_id, users.get(clerk_id)?)))
            .collect();
        let missing: Vec<Result<Option<String>, StepError>> = stream::iter(deleted.iter())
            .map(|(clerk_id, user)| async move {
                let has_totp = self
                    .workos
                    .auth_factors(user)
                    .await
                    .map_err(StepError::from)?
                    .iter()
                    .any(|f| f.kind == "totp");
                Ok((!has_totp).then(|| {
                    format!(
                        "{clerk_id}: WorkOS user {user} has no TOTP factor; the journal holds its factor as deleted: run again to enroll it"
                    )
                }))
            })
            .buffer_unordered(PARALLEL_READS)
            .collect()
            .await;
        let results: Vec<Result<Option<String>, StepError>> = stream::iter(factors.iter())
            .map(|(clerk_id, factor_id)| async move {
                let Some(user) = users.get(clerk_id) else {
                    return Ok(Some(format!("{clerk_id}: a factor but no migrated user")));
                };
                let totps: Vec<String> = self
                    .workos
                    .auth_factors(user)
                    .await
                    .map_err(StepError::from)?
                    .into_iter()
                    .filter(|f| f.kind == "totp")
                    .map(|f| f.id)
                    .collect();
                Ok(if !totps.contains(factor_id) {
                    Some(format!(
                        "{clerk_id}: TOTP factor {factor_id} is missing from WorkOS user {user}"
                    ))
                } else if totps.len() > 1 {
                    Some(format!(
                        "{clerk_id}: WorkOS user {user} has {} TOTP factors; ferry enrolls one",
                        totps.len()
                    ))
                } else {
                    None
                })
            })
            .buffer_unordered(PARALLEL_READS)
            .collect()
            .await;
        let mut failures = Vec::new();
        for result in results.into_iter().chain(missing) {
            failures.extend(result?);
        }
        failures.extend(failed.iter().map(|(clerk_id, state)| {
            format!(
                "{clerk_id}: the TOTP factor failed: {}",
                state
                    .reason
                    .as_ref()
                    .map_or("no reason recorded", |r| r.detail.as_str())
            )
        }));
        failures.sort();
        let mut evidence = vec![format!(
            "{} factors checked, and {} migrated users whose factor was deleted",
            factors.len(),
            deleted.len()
        )];
        if !rejected.is_empty() {
            evidence.push(format!(
                "known exceptions: {} exported TOTP secrets could not be imported (not Base32); those users are on the MFA re-enrollment list",
                rejected.len()
            ));
        }
        Ok(check("totp", TITLE, failures, evidence))
    }
}
