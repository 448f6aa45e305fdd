//! The `roles` check: every role a migrated membership uses exists in
//! WorkOS, and each role ferry made carries the permissions it maps to
//! (an adopted role is someone else's and is not held to them).

use crate::plan::StepKind;
use std::collections::BTreeMap;

use crate::journal::Kind;
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::roles::decide::{ADOPTED, desired_role};
use crate::steps::roles::needed::needed_by;
use crate::steps::verify::context::{VerifyStep, check, skipped};

impl VerifyStep<'_> {
    pub(crate) async fn check_roles(&self) -> Result<Check, StepError> {
        const TITLE: &str = "Every role the memberships use exists in WorkOS with its permissions";
        let (Some(clerk), Some(_)) = (
            self.clerk,
            self.plan.has(StepKind::Memberships).then_some(()),
        ) else {
            return Ok(skipped("roles", TITLE, "the plan has no memberships step"));
        };
        let needed = needed_by(
            self.clerk_memberships(clerk).await?,
            &self.roles,
            self.script,
            &self.memberships_ctx,
        );
        let workos: BTreeMap<String, _> = self
            .workos
            .roles()
            .await
            .map_err(StepError::from)?
            .into_iter()
            .map(|r| (r.slug.clone(), r))
            .collect();
        let clerk_roles = clerk
            .all_roles()
            .await
            .map_err(crate::source::read::SourceError::from)?;
        let with_permissions = self.plan.roles_step().is_none_or(|o| o.permissions);
        let mut failures = Vec::new();
        let mut made = 0;
        for (slug, from) in &needed {
            let Some(role) = workos.get(slug) else {
                let from: Vec<&str> = from.iter().map(String::as_str).collect();
                failures.push(format!(
                    "role `{slug}` (from {}) is missing from WorkOS",
                    from.join(", ")
                ));
                continue;
            };
            for clerk_role in clerk_roles.iter().filter(|r| from.contains(&r.key)) {
                let ours = self
                    .journal
                    .lock()
                    .expect("journal lock")
                    .record(Kind::Role, &clerk_role.key)?
                    .is_some_and(|r| {
                        r.target_id.as_deref() == Some(role.id.as_str())
                            && r.fingerprint.as_deref().is_some_and(|f| f != ADOPTED)
                    });
                if !ours {
                    continue;
                }
                made += 1;
                let Ok(desired) = desired_role(clerk_role, slug.clone(), with_permissions) else {
                    continue;
                };
                let Some(mut have) = role.permissions.clone() else {
                    failures.push(format!(
                        "role `{slug}`: WorkOS did not say which permissions it has; ferry made it with [{}]",
                        desired.permission_slugs().join(", ")
                    ));
                    continue;
                };
                have.sort();
                if have != desired.permission_slugs() {
                    failures.push(format!(
                        "role `{slug}` has permissions [{}]; ferry made it with [{}]",
                        have.join(", "),
                        desired.permission_slugs().join(", ")
                    ));
                }
            }
        }
        let evidence = vec![format!(
            "{} roles used by memberships; {} in WorkOS; {made} made by ferry checked for their permissions",
            needed.len(),
            needed.keys().filter(|s| workos.contains_key(*s)).count()
        )];
        Ok(check("roles", TITLE, failures, evidence))
    }
}
