//! The `memberships` check: the sampled users' memberships and roles match
//! Clerk's. Both sides are read by listing: Clerk's instance-wide
//! memberships, and every page of each migrated organization's in WorkOS;
//! no read per user, whatever the sample.

use crate::plan::StepKind;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::stream::{self, StreamExt};

use crate::journal::Kind;
use crate::mapping::membership::map_role;
use crate::mapping::role::RoleSlug;
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::verify::context::{PARALLEL_READS, Seen, VerifyStep, check, skipped};
use crate::workos::client::MembershipFilter;

impl VerifyStep<'_> {
    pub(crate) async fn check_memberships(
        &self,
        seen: &Seen,
        migrated: &BTreeMap<String, String>,
    ) -> Result<Check, StepError> {
        const TITLE: &str = "Memberships and roles of the sampled users match Clerk's";
        let (Some(clerk), Some(_)) = (
            self.clerk,
            self.plan.has(StepKind::Memberships).then_some(()),
        ) else {
            return Ok(skipped(
                "memberships",
                TITLE,
                "the plan has no memberships step",
            ));
        };
        let orgs = self.journal_ids(Kind::Organization)?;
        let sampled: HashMap<&str, &str> = seen
            .sampled
            .keys()
            .filter_map(|id| {
                migrated
                    .get(id)
                    .map(|target| (target.as_str(), id.as_str()))
            })
            .collect();
        // Clerk's side: one instance-wide listing, no read per user.
        let listed = self.clerk_memberships(clerk).await?;
        let mut expected: HashMap<&str, BTreeSet<(String, String)>> = HashMap::new();
        for membership in listed {
            let Some(user) = membership.public_user_data.as_ref() else {
                continue;
            };
            if !seen.sampled.contains_key(&user.user_id)
                || !orgs.contains_key(&membership.organization.id)
            {
                continue;
            }
            if let Ok(RoleSlug::Slug(slug)) =
                map_role(membership, &self.roles, self.script, &self.memberships_ctx)
            {
                expected
                    .entry(user.user_id.as_str())
                    .or_default()
                    .insert((membership.organization.id.clone(), slug));
            }
        }
        // WorkOS's side: every page of each migrated organization's memberships, many at once.
        let listings: Vec<Result<(String, Vec<_>), StepError>> = stream::iter(orgs.iter())
            .map(|(clerk_org, target)| async move {
                let memberships = self
                    .workos
                    .all_memberships(MembershipFilter::Organization(target))
                    .await
                    .map_err(StepError::from)?;
                Ok((clerk_org.clone(), memberships))
            })
            .buffer_unordered(PARALLEL_READS)
            .collect()
            .await;
        let mut actual: HashMap<&str, BTreeSet<(String, String)>> = HashMap::new();
        for listing in listings {
            let (clerk_org, memberships) = listing?;
            for membership in memberships {
                if let Some(clerk_id) = sampled.get(membership.user_id.as_str()) {
                    actual
                        .entry(clerk_id)
                        .or_default()
                        .insert((clerk_org.clone(), membership.role.slug));
                }
            }
        }
        let none = BTreeSet::new();
        let compared: Vec<Vec<String>> = sampled
            .values()
            .map(|clerk_id| {
                let expected = expected.get(clerk_id).unwrap_or(&none);
                let actual = actual.get(clerk_id).unwrap_or(&none);
                let mut problems = Vec::new();
                for (org, slug) in expected.difference(actual) {
                    problems.push(format!("{clerk_id}: missing in {org} as {slug}"));
                }
                for (org, slug) in actual.difference(expected) {
                    problems.push(format!("{clerk_id}: unexpected in {org} as {slug}"));
                }
                problems
            })
            .collect();
        let count = compared.len();
        let mut failures = Vec::new();
        for problems in compared {
            failures.extend(problems);
        }
        failures.sort();
        Ok(check(
            "memberships",
            TITLE,
            failures,
            vec![format!("{count} sampled users' memberships compared")],
        ))
    }
}
