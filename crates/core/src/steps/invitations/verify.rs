//! The `invitations` check: every invitation the journal says ferry sent
//! is in WorkOS, to the invitee's address, in the organization ferry made
//! for its Clerk organization; and nobody holds two invitations ferry
//! made there (WorkOS lists, per address and organization, at most one
//! made since ferry began working on this target).

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;

use crate::journal::Kind;
use crate::plan::StepKind;
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::verify::context::{VerifyStep, check, skipped};

impl VerifyStep<'_> {
    pub(crate) async fn check_invitations(&self) -> Result<Check, StepError> {
        const TITLE: &str = "invitations went out once, where they belong";
        let Some((clerk, settings)) = self.clerk.zip(self.plan.invitations()) else {
            return Ok(skipped(
                "invitations",
                TITLE,
                "the plan has no invitations step",
            ));
        };
        if let Some(ended) = self.ended {
            ended.wait(StepKind::Invitations).await;
        }
        let now_ms = Utc::now().timestamp_millis();
        let invitations = super::ClerkInvitations::read(clerk, now_ms).await?;
        let sent = self.journal_ids(Kind::Invitation)?;
        let organizations = self.journal_ids(Kind::Organization)?;
        let since = self.journal.lock().expect("journal lock").working_since();
        let mut failures = Vec::new();
        let mut checked = 0;
        // Per (organization, address): the invitations looked at already.
        let mut looked: HashMap<(Option<String>, String), ()> = HashMap::new();
        let mut twice = BTreeMap::new();
        for invitation in &invitations.invitations {
            let Some(target) = sent.get(&invitation.id) else {
                continue;
            };
            checked += 1;
            let expected = invitation
                .organization_id
                .as_ref()
                .and_then(|o| organizations.get(o))
                .cloned();
            let Some(found) = self.workos.invitation(target).await? else {
                failures.push(format!(
                    "{}: WorkOS invitation {target} is gone",
                    invitation.id
                ));
                continue;
            };
            if found.organization_id != expected
                || !found.email.eq_ignore_ascii_case(&invitation.email)
            {
                failures.push(format!(
                    "{}: WorkOS invitation {target} is to {} in organization {}, not to the invitee in {}",
                    invitation.id,
                    found.email,
                    found.organization_id.as_deref().unwrap_or("(none)"),
                    expected.as_deref().unwrap_or("(none)")
                ));
                continue;
            }
            let key = (expected.clone(), invitation.email.to_lowercase());
            if looked.insert(key, ()).is_some() {
                continue;
            }
            let made_by_ferry = self
                .workos
                .invitations_to(&invitation.email, expected.as_deref())
                .await?
                .into_iter()
                .filter(|held| held.organization_id == expected)
                .filter(|held| super::retire::made_since(&held.created_at, since))
                .count();
            if made_by_ferry > 1 {
                twice.insert(invitation.id.clone(), made_by_ferry);
            }
        }
        for (id, count) in twice {
            failures.push(format!(
                "{id}: WorkOS holds {count} invitations to its invitee made since ferry began"
            ));
        }
        let evidence = vec![format!(
            "Clerk: {} invitations; sent by ferry and checked: {checked}{}",
            invitations.invitations.len(),
            match settings.send {
                true => "",
                false => " (`send` is off: the plan lists them)",
            }
        )];
        Ok(check("invitations", TITLE, failures, evidence))
    }
}
