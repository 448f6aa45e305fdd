//! The invitations step: every pending Clerk invitation (to an
//! organization, or to the application), listed in
//! `<name>-invitations.csv`, and with `send: true` re-issued from WorkOS,
//! which emails the invitee: in the organization ferry made for it, with
//! the role the plan's role map gives, from the inviter when ferry
//! migrated them, expiring when Clerk's would have (within 1 to 30 days).
//!
//! An email cannot be taken back, so an invitation is sent at most once
//! ([`decide`]): the journal keys each send by the Clerk invitation id,
//! and before every send WorkOS is looked at (the invitee's memberships
//! and the invitations to their address), so a send whose record a killed
//! run or a lost answer never wrote is found, not repeated. The create is
//! never retried blindly; an answer that was lost is settled by looking.
//! Nobody who is a member of the organization in WorkOS is invited.
//!
//! In a sync the step sends what Clerk invited since, and revokes in
//! WorkOS what ferry sent and Clerk has revoked since.

pub mod decide;
pub mod list;
pub mod retire;
pub mod stage;
mod verify;

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::clerk::client::ClerkClient;
use crate::http::listing::Incomplete;
use crate::journal::{Action, Journal, Kind};
use crate::mapping::invitation::{ClerkInvitation, Status, expires_in_days, map_role};
use crate::mapping::role::{RoleMapper, RoleSlug};
use crate::plan::InvitationSettings;
use crate::report::outcome::{Planned, PlannedAction};
use crate::script::Script;
use crate::steps::error::StepError;
use crate::steps::recorder::Recorded;
use crate::support::reason::{Reason, ReasonCode};
use crate::workos::client::{MembershipFilter, WorkosClient};
use decide::{Held, Look, Next};
use ferry_wire::workos::invitation::{CreateInvitation, Invitation};
use list::{ListOutcome, ListRow};

/// What Clerk holds of invitations, read once before the step.
#[derive(Debug, Default)]
pub struct ClerkInvitations {
    /// Every organization invitation (any status), then every pending and
    /// revoked application invitation, oldest first within each.
    pub invitations: Vec<ClerkInvitation>,
    /// Why a listing did not prove complete, when one did not.
    pub incomplete: Option<String>,
    /// Clerk organization id → slug (the list and the hook name it).
    pub organizations: HashMap<String, String>,
}

impl ClerkInvitations {
    pub async fn read(clerk: &ClerkClient, now_ms: i64) -> Result<Self, StepError> {
        let source = |e| StepError::from(crate::source::read::SourceError::from(e));
        let mut incomplete = None;
        let mut note = |what: &str, why: Option<Incomplete>| {
            if let Some(why) = why {
                incomplete.get_or_insert(format!("Clerk's {what} listing: {why}"));
            }
        };
        let organization = clerk
            .organization_invitations_listing()
            .await
            .map_err(source)?;
        note("organization invitations", organization.incomplete);
        let mut invitations: Vec<ClerkInvitation> = organization
            .items
            .into_iter()
            .map(|i| ClerkInvitation::of_organization(i, now_ms))
            .collect();
        // Clerk lists the application's invitations by one status at a
        // time; a sync needs the revoked ones to revoke what ferry sent.
        for status in ["pending", "revoked"] {
            let listed = clerk
                .application_invitations(status)
                .await
                .map_err(source)?;
            note("application invitations", listed.incomplete);
            invitations.extend(
                listed
                    .items
                    .into_iter()
                    .map(|i| ClerkInvitation::of_application(i, now_ms)),
            );
        }
        let organizations = clerk
            .all_organizations()
            .await
            .map_err(source)?
            .into_iter()
            .map(|o| (o.id, o.slug))
            .collect();
        Ok(Self {
            invitations,
            incomplete,
            organizations,
        })
    }

    /// How many are in each Clerk status.
    pub fn by_status(&self) -> HashMap<Status, u64> {
        let mut counts = HashMap::new();
        for invitation in &self.invitations {
            *counts.entry(invitation.status).or_default() += 1;
        }
        counts
    }
}

pub struct InvitationsStep<'a> {
    pub settings: &'a InvitationSettings,
    pub roles: RoleMapper<'a>,
    pub script: Option<&'a Script>,
    pub ctx: Value,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
    pub clerk: &'a ClerkInvitations,
    /// The slugs of WorkOS's environment roles, read once at the first
    /// invitation to send; `None` inside when WorkOS could not list them.
    pub workos_roles: OnceLock<Option<HashSet<String>>>,
    /// The Clerk roles the roles step rejected or failed, with why.
    pub unmigrated_roles: OnceLock<HashMap<String, String>>,
    /// Role slugs the plan's roles step will make (a preview's: in a run,
    /// the roles step has ended and WorkOS has them).
    pub coming_roles: HashSet<String>,
    /// Clerk organization id → the addresses of its Clerk members, read by
    /// a preview for an organization not migrated yet (its memberships
    /// will be in WorkOS before the invitations step runs).
    pub clerk_members: tokio::sync::Mutex<HashMap<String, HashSet<String>>>,
    /// When ferry began working on this target: a WorkOS invitation made
    /// since then to the invitee is ferry's own send.
    pub since: Option<DateTime<Utc>>,
    /// WorkOS invitation id → the Clerk invitation the journal sent it
    /// for, read at the first look.
    pub sent_for: OnceLock<HashMap<String, String>>,
    pub now_ms: i64,
    /// The list's rows, one per pending invitation, as the step goes.
    pub rows: Mutex<Vec<ListRow>>,
}

/// A pending invitation mapped and placed: what WorkOS would receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub organization: Option<String>,
    pub role_slug: Option<String>,
    pub inviter: Option<String>,
    pub expires_in_days: u32,
}

impl Ready {
    fn body(&self, email: &str) -> CreateInvitation {
        CreateInvitation {
            email: email.to_owned(),
            organization_id: self.organization.clone(),
            role_slug: self.role_slug.clone(),
            expires_in_days: Some(self.expires_in_days),
            inviter_user_id: self.inviter.clone(),
            locale: None,
        }
    }
}

impl InvitationsStep<'_> {
    fn written_id(&self, kind: Kind, clerk_id: &str) -> Option<String> {
        let journal = self.journal.lock().expect("journal lock");
        journal.written_id(kind, clerk_id)
    }

    /// Why the roles step left this Clerk role out of WorkOS, if it did.
    fn unmigrated_role(&self, key: &str) -> Option<String> {
        self.unmigrated_roles
            .get_or_init(|| {
                crate::steps::roles::not_migrated(&self.journal.lock().expect("journal lock"))
            })
            .get(key)
            .cloned()
    }

    /// Whether WorkOS has the role `slug`; `true` when its roles could not
    /// be listed (WorkOS's own refusal, `invalid_role`, then says it).
    async fn role_exists(&self, slug: &str) -> bool {
        if self.workos_roles.get().is_none() {
            let listed = self
                .workos
                .roles()
                .await
                .ok()
                .map(|roles| roles.into_iter().map(|r| r.slug).collect());
            let _ = self.workos_roles.set(listed);
        }
        match self.workos_roles.get() {
            Some(Some(slugs)) => slugs.contains(slug),
            _ => true,
        }
    }

    /// The invitation mapped and placed, or why it cannot be sent (its
    /// organization not migrated, its role left out or not in WorkOS).
    pub async fn prepare(&self, invitation: &ClerkInvitation) -> Result<Ready, (Action, Reason)> {
        let role_slug = self.mapped_role(invitation).await?;
        let organization = match &invitation.organization_id {
            None => None,
            Some(clerk_id) => match self.written_id(Kind::Organization, clerk_id) {
                Some(id) => Some(id),
                None => {
                    return Err((
                        Action::Skipped,
                        Reason::new(
                            ReasonCode::OrganizationNotMigrated,
                            format!(
                                "its organization {} was not migrated (skipped, rejected, failed, or not in the plan)",
                                self.organization_label(invitation)
                            ),
                        ),
                    ));
                }
            },
        };
        let inviter = invitation
            .inviter_id
            .as_deref()
            .and_then(|id| self.written_id(Kind::User, id));
        Ok(Ready {
            organization,
            role_slug,
            inviter,
            expires_in_days: expires_in_days(invitation.expires_at, self.now_ms),
        })
    }

    /// The WorkOS role the invitation carries (none for an application
    /// invitation), or why it cannot be sent: the hook left it out or
    /// refused it, or the role is not in WorkOS.
    async fn mapped_role(
        &self,
        invitation: &ClerkInvitation,
    ) -> Result<Option<String>, (Action, Reason)> {
        let skipped = |code, detail: String| (Action::Skipped, Reason::new(code, detail));
        let slug = match map_role(
            invitation,
            self.organization_slug(invitation),
            &self.roles,
            self.script,
            &self.ctx,
        ) {
            Ok(RoleSlug::Slug(slug)) => slug,
            Ok(RoleSlug::LeftOut(why)) => return Err((Action::Skipped, why)),
            Err(refused) => return Err((Action::Rejected, refused)),
        };
        let Some(key) = &invitation.role else {
            return Ok(None);
        };
        if let Some(why) = self.unmigrated_role(key) {
            return Err(skipped(
                ReasonCode::RoleNotMigrated,
                format!(
                    "its role `{}` was not migrated: {why}",
                    ferry_wire::inert::printable(key)
                ),
            ));
        }
        if !self.coming_roles.contains(&slug) && !self.role_exists(&slug).await {
            return Err(skipped(
                ReasonCode::RoleMissing,
                format!(
                    "its role `{}` maps to `{}`, which WorkOS does not have",
                    ferry_wire::inert::printable(key),
                    ferry_wire::inert::printable(&slug)
                ),
            ));
        }
        Ok(Some(slug))
    }

    fn organization_slug(&self, invitation: &ClerkInvitation) -> Option<&str> {
        invitation
            .organization_id
            .as_ref()
            .and_then(|id| self.clerk.organizations.get(id))
            .map(String::as_str)
    }

    /// The organization's slug, else its id; empty for the application.
    fn organization_label(&self, invitation: &ClerkInvitation) -> String {
        self.organization_slug(invitation)
            .map(str::to_owned)
            .or_else(|| invitation.organization_id.clone())
            .unwrap_or_default()
    }

    /// The journal's WorkOS invitation for a Clerk one, when ferry sent it.
    fn sent(&self, clerk_id: &str) -> Option<String> {
        self.written_id(Kind::Invitation, clerk_id)
    }

    /// What a run would do with one invitation (`ferry plan`), and why:
    /// `create` is an email WorkOS would send. `left_out` holds what the
    /// earlier steps' previews plan to skip: an organization the journal
    /// does not know yet, and that is not among them, the run migrates
    /// first, so its invitations are planned as sent.
    pub async fn preview(
        &self,
        invitation: &ClerkInvitation,
        left_out: &HashMap<(Kind, String), Reason>,
        clerk: &ClerkClient,
    ) -> Option<Planned> {
        let prepared = self.prepare(invitation).await;
        let awaiting = match (&prepared, &invitation.organization_id) {
            (Err((_, reason)), Some(organization))
                if reason.code == ReasonCode::OrganizationNotMigrated =>
            {
                let known = self
                    .journal
                    .lock()
                    .expect("journal lock")
                    .record(Kind::Organization, organization)
                    .ok()
                    .flatten()
                    .is_some();
                !known && !left_out.contains_key(&(Kind::Organization, organization.clone()))
            }
            _ => false,
        };
        let blocked = prepared.as_ref().err().cloned().filter(|_| !awaiting);
        // Where it would go, also for an organization the run migrates first.
        let described = match (&prepared, awaiting) {
            (Ok(ready), _) => Some(self.describe(invitation, ready)),
            (Err(_), true) => self.mapped_role(invitation).await.ok().map(|role_slug| {
                let ready = Ready {
                    role_slug,
                    ..ready_of(&prepared)
                };
                self.describe(
                    invitation,
                    &Ready {
                        expires_in_days: expires_in_days(invitation.expires_at, self.now_ms),
                        ..ready
                    },
                )
            }),
            (Err(_), false) => None,
        };
        let planned = |action, reason| Planned {
            clerk_id: invitation.id.clone(),
            email: Some(invitation.email.clone()),
            action,
            reason,
            notes: described.clone().into_iter().collect(),
            enrolls_totp: false,
        };
        let sent = self.sent(&invitation.id);
        Some(
            match decide::first(
                invitation.status,
                sent.as_deref(),
                self.settings.send,
                blocked,
            ) {
                Next::NotPending(_) => return None,
                Next::Unchanged { .. } => planned(PlannedAction::Unchanged, None),
                Next::Listed => planned(
                    PlannedAction::Skip,
                    Some(Reason::new(
                        ReasonCode::InvitationListed,
                        "listed only: the plan does not say `send: true`",
                    )),
                ),
                Next::Settled(Action::Rejected, reason) => {
                    planned(PlannedAction::Reject, Some(reason))
                }
                Next::Settled(_, reason) => planned(PlannedAction::Skip, Some(reason)),
                Next::Revoke { .. } => planned(
                    PlannedAction::Update,
                    Some(Reason::new(
                        ReasonCode::RevokedInClerk,
                        "revoked in Clerk since ferry sent it: the run revokes it in WorkOS",
                    )),
                ),
                Next::Look if awaiting => match self.clerk_member(invitation, clerk).await {
                    Ok(false) => planned(
                        PlannedAction::Create,
                        Some(Reason::new(
                            ReasonCode::AwaitingMigration,
                            "once its organization is migrated",
                        )),
                    ),
                    Ok(true) => planned(
                        PlannedAction::Skip,
                        Some(Reason::new(
                            ReasonCode::InviteeAlreadyMember,
                            "a member in Clerk, so in WorkOS once the memberships step ran: nobody is emailed",
                        )),
                    ),
                    Err(reason) => planned(PlannedAction::Fail, Some(reason)),
                },
                Next::Look => match self.look(invitation, &ready_of(&prepared)).await {
                    Ok(look) => match decide::after_look(&look) {
                        Next::Send => planned(PlannedAction::Create, None),
                        Next::Found { .. } | Next::AlreadyInvited { .. } => {
                            planned(PlannedAction::Adopt, None)
                        }
                        Next::Settled(_, reason) => planned(PlannedAction::Skip, Some(reason)),
                        _ => planned(PlannedAction::Create, None),
                    },
                    Err(reason) => planned(PlannedAction::Fail, Some(reason)),
                },
                Next::Found { .. } | Next::AlreadyInvited { .. } | Next::Send => {
                    planned(PlannedAction::Create, None)
                }
            },
        )
    }

    /// Whether the invitee is a member of the invitation's organization in
    /// Clerk (a preview's look, for an organization not migrated yet).
    async fn clerk_member(
        &self,
        invitation: &ClerkInvitation,
        clerk: &ClerkClient,
    ) -> Result<bool, Reason> {
        let Some(organization) = &invitation.organization_id else {
            return Ok(false);
        };
        let mut members = self.clerk_members.lock().await;
        if !members.contains_key(organization) {
            let listed = clerk.memberships_listing(organization).await.map_err(|e| {
                Reason::new(
                    ReasonCode::WorkosFailed,
                    format!("Clerk's memberships of {organization}: {e}"),
                )
            })?;
            let addresses = listed
                .items
                .into_iter()
                .filter_map(|m| m.public_user_data?.identifier)
                .map(|identifier| identifier.to_lowercase())
                .collect();
            members.insert(organization.clone(), addresses);
        }
        Ok(members[organization].contains(&invitation.email.to_lowercase()))
    }

    /// Where the invitation goes, in words (for `ferry plan`).
    fn describe(&self, invitation: &ClerkInvitation, ready: &Ready) -> String {
        let place = match &invitation.organization_id {
            Some(_) => format!(
                "to {} as {}",
                self.organization_label(invitation),
                ready.role_slug.as_deref().unwrap_or("(default role)")
            ),
            None => "to the application".to_owned(),
        };
        match ready.expires_in_days {
            1 => format!("{place}, expiring in 1 day"),
            days => format!("{place}, expiring in {days} days"),
        }
    }

    /// What WorkOS holds for the invitee: their membership in the
    /// organization (or, for an application invitation, their user), and
    /// the invitations to their address there.
    async fn look(&self, invitation: &ClerkInvitation, ready: &Ready) -> Result<Look, Reason> {
        let failed = |e: crate::workos::client::WorkosError| e.reason();
        let users = self
            .workos
            .users_by_email(&invitation.email)
            .await
            .map_err(failed)?;
        let member = match &ready.organization {
            None => !users.is_empty(),
            Some(organization) => {
                let mut member = false;
                for user in &users {
                    let memberships = self
                        .workos
                        .all_memberships(MembershipFilter::User(&user.id))
                        .await
                        .map_err(failed)?;
                    member |= memberships
                        .iter()
                        .any(|m| &m.organization_id == organization);
                }
                member
            }
        };
        let invitations = self
            .workos
            .invitations_to(&invitation.email, ready.organization.as_deref())
            .await
            .map_err(failed)?
            .into_iter()
            // Without an organization filter WorkOS lists them all.
            .filter(|held| held.organization_id == ready.organization)
            .map(|held| self.held(&held, &invitation.id))
            .collect();
        Ok(Look {
            member,
            invitations,
        })
    }

    /// A WorkOS invitation to the invitee of Clerk invitation `clerk_id`.
    fn held(&self, invitation: &Invitation, clerk_id: &str) -> Held {
        // Which Clerk invitation each WorkOS invitation was journaled for,
        // read once: the journal has no index by WorkOS id.
        let sent_for = self.sent_for.get_or_init(|| {
            let journal = self.journal.lock().expect("journal lock");
            journal
                .every_target(Kind::Invitation)
                .unwrap_or_default()
                .into_iter()
                .map(|(source, target)| (target, source))
                .collect()
        });
        Held {
            id: invitation.id.clone(),
            state: invitation.state.clone(),
            since_ferry: retire::made_since(&invitation.created_at, self.since),
            for_another: sent_for
                .get(&invitation.id)
                .is_some_and(|source| source != clerk_id),
        }
    }

    /// Runs one invitation: what the journal records of it (nothing for
    /// one that is not pending and was never sent).
    pub async fn write(&self, invitation: &ClerkInvitation) -> Vec<Recorded> {
        let record =
            |action, target_id, reason| recorded(&invitation.id, action, target_id, reason);
        let prepared = self.prepare(invitation).await;
        let sent = self.sent(&invitation.id);
        let next = decide::first(
            invitation.status,
            sent.as_deref(),
            self.settings.send,
            prepared.as_ref().err().cloned(),
        );
        let next = match next {
            Next::Look => match self.look(invitation, &ready_of(&prepared)).await {
                Ok(look) => decide::after_look(&look),
                Err(reason) => {
                    self.list(invitation, &prepared, ListOutcome::Failed, Some(&reason));
                    return vec![record(Action::Failed, None, Some(reason))];
                }
            },
            next => next,
        };
        let (outcome, recorded) = match next {
            Next::NotPending(_) => return Vec::new(),
            Next::Listed => (ListOutcome::Listed, Vec::new()),
            Next::Unchanged { .. } => (
                ListOutcome::SentBefore,
                vec![Recorded::settled(
                    Kind::Invitation,
                    &invitation.id,
                    Action::Unchanged,
                    true,
                )],
            ),
            Next::Settled(action, reason) => {
                self.list(
                    invitation,
                    &prepared,
                    ListOutcome::of(action),
                    Some(&reason),
                );
                return vec![record(action, None, Some(reason))];
            }
            Next::Found { id } => (
                ListOutcome::SentBefore,
                vec![record(
                    Action::Created,
                    Some(id),
                    Some(Reason::new(
                        ReasonCode::AnswerLost,
                        "WorkOS holds the invitation an earlier attempt sent: not sent again",
                    )),
                )],
            ),
            Next::AlreadyInvited { id } => (
                ListOutcome::AlreadyInvited,
                vec![record(
                    Action::Adopted,
                    Some(id),
                    Some(Reason::new(
                        ReasonCode::AlreadyInvited,
                        "WorkOS holds a pending invitation to this address from before ferry: nobody is emailed again",
                    )),
                )],
            ),
            Next::Revoke { id } => return vec![self.revoke(invitation, &id).await],
            Next::Send => {
                let ready = ready_of(&prepared);
                let recorded = self.send(invitation, &ready).await;
                self.list(
                    invitation,
                    &prepared,
                    ListOutcome::of(recorded.outcome.action),
                    recorded.outcome.reason.as_ref(),
                );
                return vec![recorded];
            }
            Next::Look => unreachable!("looked at above"),
        };
        self.list(invitation, &prepared, outcome, None);
        recorded
    }

    /// Sends the invitation. An answer that was lost, or a refusal that
    /// says the address is invited already, is settled by looking again:
    /// never by sending a second time.
    async fn send(&self, invitation: &ClerkInvitation, ready: &Ready) -> Recorded {
        let record =
            |action, target_id, reason| recorded(&invitation.id, action, target_id, reason);
        let error = match self
            .workos
            .create_invitation(&ready.body(&invitation.email))
            .await
        {
            Ok(answer)
                if answer.organization_id == ready.organization
                    && answer.email.eq_ignore_ascii_case(&invitation.email) =>
            {
                return record(Action::Created, Some(answer.id), None);
            }
            Ok(answer) => {
                return record(
                    Action::Failed,
                    None,
                    Some(Reason::new(
                        ReasonCode::AmbiguousCreateAnswer,
                        format!(
                            "WorkOS answered with invitation {} to another address or of organization {}, not {}",
                            answer.id,
                            answer.organization_id.as_deref().unwrap_or("(none)"),
                            ready.organization.as_deref().unwrap_or("(none)")
                        ),
                    )),
                );
            }
            Err(error) => error,
        };
        if error.has_code("user_already_organization_member") {
            return record(
                Action::Skipped,
                None,
                Some(Reason::new(
                    ReasonCode::InviteeAlreadyMember,
                    "WorkOS says the invitee is a member already: nobody is emailed",
                )),
            );
        }
        let ambiguous = error.status().is_none_or(|status| status >= 500)
            || error.has_code("email_already_invited_to_organization")
            || error.has_code("email_already_invited");
        if !ambiguous {
            return record(Action::Failed, None, Some(error.reason()));
        }
        match self.look(invitation, ready).await.map(|look| decide::after_look(&look)) {
            Ok(Next::Found { id }) => record(
                Action::Created,
                Some(id),
                Some(Reason::new(
                    ReasonCode::AnswerLost,
                    "the answer was lost; WorkOS holds the invitation it made",
                )),
            ),
            Ok(Next::AlreadyInvited { id }) => record(
                Action::Adopted,
                Some(id),
                Some(Reason::new(
                    ReasonCode::AlreadyInvited,
                    "WorkOS holds a pending invitation to this address from before ferry",
                )),
            ),
            // Not there (yet): the next run looks again before sending.
            _ => record(
                Action::Failed,
                None,
                Some(error.reason().within(
                    "the answer was lost and WorkOS shows no invitation yet; the next run looks again before sending",
                )),
            ),
        }
    }

    /// Revokes in WorkOS an invitation ferry sent and Clerk revoked since.
    async fn revoke(&self, invitation: &ClerkInvitation, id: &str) -> Recorded {
        let record = |action, target_id: Option<&str>, reason| {
            recorded(
                &invitation.id,
                action,
                target_id.map(str::to_owned),
                Some(reason),
            )
        };
        let held = match self.workos.invitation(id).await {
            Ok(held) => held,
            Err(error) => return record(Action::Failed, Some(id), error.reason()),
        };
        let organization = invitation
            .organization_id
            .as_deref()
            .and_then(|clerk_id| self.written_id(Kind::Organization, clerk_id));
        let standing = held.as_ref().map(|held| retire::Held {
            state: &held.state,
            ferrys: held.email.eq_ignore_ascii_case(&invitation.email)
                && held.organization_id == organization
                && retire::made_since(&held.created_at, self.since),
        });
        match retire::revoke(standing) {
            retire::Verdict::Delete => match self.workos.revoke_invitation(id).await {
                Ok(_) => record(
                    Action::Deleted,
                    Some(id),
                    Reason::new(
                        ReasonCode::RevokedInClerk,
                        "revoked in Clerk, so revoked in WorkOS (the email it sent cannot be taken back)",
                    ),
                ),
                Err(error) => record(Action::Failed, Some(id), error.reason()),
            },
            retire::Verdict::Gone => record(
                Action::Deleted,
                Some(id),
                Reason::new(
                    ReasonCode::RevokedInClerk,
                    "revoked in Clerk; WorkOS's invitation was no longer pending",
                ),
            ),
            retire::Verdict::Keep(reason) => record(Action::Unchanged, Some(id), reason),
        }
    }

    /// Adds the invitation's row to the list.
    fn list(
        &self,
        invitation: &ClerkInvitation,
        prepared: &Result<Ready, (Action, Reason)>,
        outcome: ListOutcome,
        reason: Option<&Reason>,
    ) {
        let ready = prepared.as_ref().ok();
        let mapped_role = match (&invitation.role, ready) {
            (Some(_), Some(ready)) => ready.role_slug.clone().unwrap_or_default(),
            _ => String::new(),
        };
        let inviter = invitation.inviter_id.clone().unwrap_or_default();
        let row = ListRow {
            invitation: invitation.id.clone(),
            organization: self.organization_label(invitation),
            workos_organization: ready
                .and_then(|r| r.organization.clone())
                .unwrap_or_default(),
            email: invitation.email.clone(),
            clerk_role: invitation.role.clone().unwrap_or_default(),
            workos_role: mapped_role,
            inviter,
            workos_inviter: ready.and_then(|r| r.inviter.clone()).unwrap_or_default(),
            expires_at: invitation.expires_at,
            expires_in_days: ready.map(|r| r.expires_in_days),
            outcome,
            code: reason.map(|r| r.code),
            reason: reason.map(|r| r.detail.clone()).unwrap_or_default(),
        };
        self.rows.lock().expect("rows lock").push(row);
    }
}

/// The journal's record of one invitation after one attempt.
fn recorded(
    clerk_id: &str,
    action: Action,
    target_id: Option<String>,
    reason: Option<Reason>,
) -> Recorded {
    Recorded::attempted(
        Kind::Invitation,
        clerk_id,
        action,
        target_id,
        reason,
        None,
        true,
    )
}

/// The invitation as it would be sent, once its preparation passed
/// (`first` only asks to look, or to send, when it did).
fn ready_of(prepared: &Result<Ready, (Action, Reason)>) -> Ready {
    prepared.clone().unwrap_or(Ready {
        organization: None,
        role_slug: None,
        inviter: None,
        expires_in_days: *ferry_wire::workos::invitation::EXPIRES_IN_DAYS.end(),
    })
}
