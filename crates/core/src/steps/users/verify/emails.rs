//! The `emails` check: no two WorkOS users share an email, and social-only users keep their provider email.

use std::collections::{BTreeMap, HashMap};

use crate::report::verification::Check;
use crate::steps::verify::context::{Seen, VerifyStep, check};
use ferry_wire::workos::model::User;

impl VerifyStep<'_> {
    pub(crate) fn check_emails(
        &self,
        workos: &HashMap<String, User>,
        seen: &Seen,
        migrated: &BTreeMap<String, String>,
    ) -> Check {
        let mut by_email: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for user in workos.values() {
            by_email
                .entry(crate::mapping::claims::email_identity(&user.email))
                .or_default()
                .push(&user.id);
        }
        let mut failures: Vec<String> = by_email
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(email, ids)| format!("{email} is shared by {}", ids.join(", ")))
            .collect();
        let mut social_checked = 0;
        let mut known_in_clerk = 0;
        for (clerk_id, (provider_emails, clerk_primary)) in &seen.social_only {
            let Some(user) = migrated.get(clerk_id).and_then(|t| workos.get(t)) else {
                continue;
            };
            social_checked += 1;
            if provider_emails
                .iter()
                .all(|e| e.eq_ignore_ascii_case(&user.email))
            {
                continue;
            }
            let differed_in_clerk = clerk_primary
                .as_ref()
                .is_none_or(|p| provider_emails.iter().any(|e| !e.eq_ignore_ascii_case(p)));
            if differed_in_clerk {
                // Already so in Clerk: the mfa_report step lists these users.
                known_in_clerk += 1;
            } else {
                failures.push(format!(
                    "{clerk_id}: signs in only with a social account for {}, but its WorkOS email is {} (WorkOS links by email)",
                    provider_emails.join(", "),
                    user.email
                ));
            }
        }
        let evidence = vec![
            format!(
                "{} WorkOS users, {} distinct emails",
                workos.len(),
                by_email.len()
            ),
            format!(
                "{social_checked} social-only users checked for a provider email equal to their WorkOS email"
            ),
            format!(
                "{known_in_clerk} of them already had a different provider email in Clerk (listed by mfa_report; not a migration fault)"
            ),
        ];
        check(
            "emails",
            "No two users share an email; social-only users will auto-link",
            failures,
            evidence,
        )
    }
}
