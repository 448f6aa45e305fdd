//! The `memberships` check: the sampled users' memberships and roles match Clerk's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::stream::{self, StreamExt};

use super::context::{PARALLEL_READS, Seen, VerifyStep, check, skipped};
use crate::journal::Kind;
use crate::mapping::membership::map_role;
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::workos::client::MembershipFilter;

impl VerifyStep<'_> {
    pub(super) async fn check_memberships(
        &self,
        seen: &Seen,
        migrated: &BTreeMap<String, String>,
    ) -> Result<Check, StepError> {
        const TITLE: &str = "Memberships and roles of the sampled users match Clerk's";
        let (Some(clerk), Some(_)) = (self.clerk, self.plan.memberships()) else {
            return Ok(skipped(
                "memberships",
                TITLE,
                "the plan has no memberships step",
            ));
        };
        let orgs = self.journal_ids(Kind::Organization)?;
        let org_by_target: HashMap<&str, &str> =
            orgs.iter().map(|(s, t)| (t.as_str(), s.as_str())).collect();
        let (orgs, org_by_target) = (&orgs, &org_by_target);
        // Each sampled user costs a Clerk read and a WorkOS read: ask many at once.
        let compared: Vec<Result<Vec<String>, StepError>> = stream::iter(
            seen.sampled
                .keys()
                .filter_map(|id| migrated.get(id).map(|target| (id, target))),
        )
        .map(|(clerk_id, target)| async move {
            let mut expected = BTreeSet::new();
            let memberships = clerk
                .user_memberships(clerk_id)
                .await
                .map_err(crate::source::read::SourceError::from)?;
            for membership in memberships {
                if !orgs.contains_key(&membership.organization.id) {
                    continue;
                }
                if let Ok(Some(slug)) =
                    map_role(&membership, &self.roles, self.script, &self.memberships_ctx)
                {
                    expected.insert((membership.organization.id.clone(), slug));
                }
            }
            // Every page: a user in many organizations has more than one.
            let memberships = self
                .workos
                .all_memberships(MembershipFilter::User(target))
                .await
                .map_err(StepError::from)?;
            let actual: BTreeSet<(String, String)> = memberships
                .into_iter()
                .filter_map(|m| {
                    Some((
                        org_by_target.get(m.organization_id.as_str())?.to_string(),
                        m.role.slug,
                    ))
                })
                .collect();
            let mut problems = Vec::new();
            for (org, slug) in expected.difference(&actual) {
                problems.push(format!("{clerk_id}: missing in {org} as {slug}"));
            }
            for (org, slug) in actual.difference(&expected) {
                problems.push(format!("{clerk_id}: unexpected in {org} as {slug}"));
            }
            Ok(problems)
        })
        .buffer_unordered(PARALLEL_READS)
        .collect()
        .await;
        let count = compared.len();
        let mut failures = Vec::new();
        for result in compared {
            failures.extend(result?);
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
