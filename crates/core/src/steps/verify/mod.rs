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
//! 4. roles: every role the memberships use exists in WorkOS; a role ferry
//!    made carries its mapped permissions.
//! 5. memberships: the sampled users' memberships and roles match Clerk's.
//! 6. emails: no two WorkOS users share an email, and every social-only
//!    user's provider email is its WorkOS email (what auto-linking needs).
//! 7. totp: every migrated TOTP factor exists.
//!
//! Read-only, apart from the canary sign-ins, which keep to WorkOS's
//! authenticate limit. Each check lives in the room of the step whose
//! objects it checks (`steps/<step>/verify.rs`, the users step's four in
//! `steps/users/verify/`); this folder holds what they share
//! ([`context`]) and the order they run in.

pub(crate) mod context;
pub mod stage;

use crate::report::verification::{Status, Verification};
use crate::source::read::Sources;
use crate::steps::error::StepError;
pub use context::VerifyStep;
use context::pick_sample;

/// The checks whose failures a `--reconcile` run repairs.
const REPAIRABLE: &[&str] = &["users", "organizations", "memberships", "totp"];

/// Says, under each failed check a reconcile repairs, how to repair it.
fn name_the_repair(checks: &mut [crate::report::verification::Check]) {
    for check in checks
        .iter_mut()
        .filter(|c| c.status == Status::Fail && REPAIRABLE.contains(&c.id.as_str()))
    {
        check.evidence.push(
            "repair: `ferry run PLAN --reconcile` lists WorkOS, makes again what is missing and never writes to an id that now belongs to someone else".to_owned(),
        );
    }
}

impl VerifyStep<'_> {
    pub async fn run(&self, sources: Sources<'_>) -> Result<Verification, StepError> {
        let (sample, logins) = self.options();
        let migrated = self.journal_ids(crate::journal::Kind::User)?;
        let sampled_ids = pick_sample(&migrated, sample);
        // Everything reads at once, each check keeping to its buckets: the
        // source and WorkOS's users are listed while the checks that need
        // neither (organizations, roles, TOTP factors) run, and the
        // memberships check and the canary sign-ins follow the memberships
        // step, which may still be writing in a run.
        let listed = async {
            let (seen, workos_users) = tokio::try_join!(
                self.read_source(sources, &sampled_ids),
                self.all_workos_users(&migrated)
            )?;
            if let Some(ended) = self.ended {
                // Checked whether or not that step finished: verify reports what is there.
                ended.wait(crate::plan::StepKind::Memberships).await;
            }
            let memberships = self.check_memberships(&seen, &migrated).await;
            Ok::<_, StepError>((seen, workos_users, memberships))
        };
        // The canaries sign in once the memberships are written: a sign-in
        // answers as it will after the cutover (one that belongs to two
        // organizations is asked to pick one), not as the run left it midway.
        let logins = async {
            if let Some(ended) = self.ended {
                ended.wait(crate::plan::StepKind::Memberships).await;
            }
            self.check_logins(&logins).await
        };
        let (listed, logins, organizations, roles, totp, connections, invitations) = tokio::join!(
            listed,
            logins,
            self.check_organizations(),
            self.check_roles(),
            self.check_totp(),
            self.check_connections(),
            self.check_invitations()
        );
        let (seen, workos_users, memberships) = listed?;
        // Clerk's own count, asked now: a listing that lost users (pages
        // shifted by deletions, or cut short) cannot vouch for itself.
        let clerk_count = match self.clerk {
            Some(clerk) => Some(
                clerk
                    .user_count()
                    .await
                    .map_err(crate::source::read::SourceError::from)?,
            ),
            None => None,
        };
        let mut checks = vec![self.check_users(&migrated, &seen, &workos_users, clerk_count)?];
        checks.push(logins);
        checks.push(organizations?);
        checks.push(roles?);
        checks.push(memberships?);
        checks.push(self.check_emails(&workos_users, &seen, &migrated));
        checks.push(totp?);
        let connections = connections?;
        checks.push(
            self.check_sso_users(&seen, &workos_users, connections.1)
                .await?,
        );
        checks.push(connections.0);
        checks.push(invitations?);
        name_the_repair(&mut checks);
        Ok(Verification {
            passed: checks.iter().all(|c| c.status != Status::Fail),
            checks,
        })
    }
}
