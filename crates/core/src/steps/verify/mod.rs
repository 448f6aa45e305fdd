//! The `verify` step: the checklist that proves a migration, each check with
//! pass or fail and its evidence.
//!
//! 1. users: every user the journal says was migrated exists in WorkOS; the
//!    counts match Clerk's minus the listed exclusions; a sample (or all)
//!    matches field by field (email, names, email_verified, external_id).
//! 2. logins: the plan's canary logins sign in with their passwords (a 200,
//!    or an MFA or organization-selection continuation, which proves the
//!    password too).
//! 3. organizations: the counts match.
//! 4. memberships: the sampled users' memberships and roles match Clerk's.
//! 5. emails: no two WorkOS users share an email, and every social-only
//!    user's provider email is its WorkOS email (what auto-linking needs).
//! 6. totp: every migrated TOTP factor exists.
//!
//! Read-only, apart from the canary sign-ins, which keep to WorkOS's
//! authenticate limit.

mod context;
mod emails;
mod logins;
mod memberships;
mod organizations;
mod totp;
mod users;

use crate::report::verification::{Status, Verification};
use crate::source::read::Sources;
use crate::steps::error::StepError;
pub use context::VerifyStep;
use context::pick_sample;

impl VerifyStep<'_> {
    pub async fn run(&self, sources: Sources<'_>) -> Result<Verification, StepError> {
        let (sample, logins) = self.options();
        let migrated = self.journal_ids(crate::journal::Kind::User)?;
        let sampled_ids = pick_sample(&migrated, sample);
        let seen = self.read_source(sources, &sampled_ids).await?;
        let workos_users = self.all_workos_users().await?;

        let mut checks = vec![self.check_users(&migrated, &seen, &workos_users)?];
        checks.push(self.check_logins(&logins).await);
        checks.push(self.check_organizations().await?);
        checks.push(self.check_memberships(&seen, &migrated).await?);
        checks.push(self.check_emails(&workos_users, &seen, &migrated));
        checks.push(self.check_totp().await?);
        Ok(Verification {
            passed: checks.iter().all(|c| c.status != Status::Fail),
            checks,
        })
    }
}
