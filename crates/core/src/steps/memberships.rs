//! The memberships step: every membership of every Clerk organization, with
//! Clerk ids translated to WorkOS ids through the journal (a Clerk id is
//! never sent to WorkOS) and roles mapped.
//!
//! The step reconciles against WorkOS rather than trusting the journal
//! alone: for each organization it reads WorkOS's memberships first, so a
//! rerun recreates memberships that went missing in WorkOS (also for users
//! who existed there before the migration) and writes nothing else.

use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::error::StepError;
use super::recorder::Recorded;
use crate::clerk::client::ClerkClient;
use crate::journal::{Action, Journal, Kind, Outcome, RecordState};
use crate::mapping::membership::map_role;
use crate::mapping::role::{RoleMapper, RoleSlug};
use crate::script::Script;
use crate::workos::client::{MembershipFilter, WorkosClient, WorkosError};
use ferry_wire::clerk::model::OrganizationMembership;
use ferry_wire::workos::model::CreateOrganizationMembership;

/// An organization's state, shared by its memberships.
#[derive(Debug)]
pub struct OrgContext {
    pub clerk_id: String,
    /// The WorkOS organization, when the organizations step migrated it.
    pub target_id: Option<String>,
    /// WorkOS user id → (membership id, role slug), as WorkOS has them now.
    pub existing: Mutex<HashMap<String, (String, String)>>,
}

/// One Clerk membership to bring over.
#[derive(Debug)]
pub struct MembershipItem {
    pub org: Arc<OrgContext>,
    pub membership: OrganizationMembership,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MembershipStats {
    pub organizations: u64,
    pub memberships: u64,
}

pub struct MembershipsStep<'a> {
    pub roles: RoleMapper<'a>,
    pub script: Option<&'a Script>,
    pub ctx: Value,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
}

fn lookup(journal: &Mutex<Journal>, kind: Kind, id: &str) -> Option<RecordState> {
    journal
        .lock()
        .expect("journal lock")
        .record(kind, id)
        .ok()
        .flatten()
}

/// Sends every membership of every organization, with each organization's
/// WorkOS state; stops, without error, once `stop` is set (the writes will
/// not happen) or the receiver is gone.
pub async fn read_memberships(
    clerk: &ClerkClient,
    workos: &WorkosClient,
    journal: &Mutex<Journal>,
    stop: &AtomicBool,
    tx: mpsc::Sender<MembershipItem>,
) -> Result<MembershipStats, StepError> {
    let mut stats = MembershipStats::default();
    let organizations = clerk
        .all_organizations()
        .await
        .map_err(crate::source::read::SourceError::from)?;
    // Each organization needs two listings (WorkOS's memberships, Clerk's):
    // several organizations are read at once, ahead of the writes, so the
    // writes never wait a round trip for the next organization.
    let reads = futures_util::stream::iter(organizations)
        .map(|organization| async move {
            let target_id = lookup(journal, Kind::Organization, &organization.id)
                .filter(|r| r.action.wrote_target())
                .and_then(|r| r.target_id);
            let existing = async {
                match &target_id {
                    Some(id) => existing_memberships(workos, id)
                        .await
                        .map_err(StepError::from),
                    None => Ok(HashMap::new()),
                }
            };
            let members = async {
                clerk
                    .all_memberships(&organization.id)
                    .await
                    .map_err(|e| StepError::from(crate::source::read::SourceError::from(e)))
            };
            let (existing, memberships) = tokio::try_join!(existing, members)?;
            let org = Arc::new(OrgContext {
                clerk_id: organization.id.clone(),
                target_id,
                existing: Mutex::new(existing),
            });
            Ok::<_, StepError>((org, memberships))
        })
        .buffered(ORGANIZATIONS_AHEAD);
    futures_util::pin_mut!(reads);
    while let Some(read) = reads.next().await {
        if stop.load(Ordering::Relaxed) {
            return Ok(stats);
        }
        let (org, memberships) = read?;
        stats.organizations += 1;
        for membership in memberships {
            stats.memberships += 1;
            let item = MembershipItem {
                org: Arc::clone(&org),
                membership,
            };
            if tx.send(item).await.is_err() {
                return Ok(stats);
            }
        }
    }
    Ok(stats)
}

/// Organizations whose memberships are read at once, ahead of the writes.
const ORGANIZATIONS_AHEAD: usize = 8;

async fn existing_memberships(
    workos: &WorkosClient,
    organization_id: &str,
) -> Result<HashMap<String, (String, String)>, WorkosError> {
    Ok(workos
        .all_memberships(MembershipFilter::Organization(organization_id))
        .await?
        .into_iter()
        .map(|m| (m.user_id, (m.id, m.role.slug)))
        .collect())
}

impl MembershipsStep<'_> {
    pub async fn write(&self, item: MembershipItem) -> Vec<Recorded> {
        let MembershipItem { org, membership } = item;
        let recorded = |action, target_id, reason: Option<String>| Recorded {
            outcome: Outcome {
                kind: Kind::Membership,
                source_id: membership.id.clone(),
                target_id,
                action,
                attempts: 1,
                reason,
                fingerprint: None,
            },
            // Clerk's identifier is whatever the user signs in with: an
            // email, but also a username or a phone number, which the
            // list's `email` column must not pass off as one.
            email: membership
                .public_user_data
                .as_ref()
                .and_then(|u| u.identifier.clone())
                .filter(|identifier| identifier.contains('@')),
            advances: true,
            password_reset: None,
            settled: false,
            signs_in: None,
            seal: None,
        };
        let Some(org_target) = org.target_id.clone() else {
            return vec![recorded(
                Action::Skipped,
                None,
                Some(format!("organization {} was not migrated", org.clerk_id)),
            )];
        };
        let Some(clerk_user) = membership
            .public_user_data
            .as_ref()
            .map(|u| u.user_id.clone())
        else {
            return vec![recorded(
                Action::Skipped,
                None,
                Some("the membership names no user".into()),
            )];
        };
        let user_target = match lookup(self.journal, Kind::User, &clerk_user) {
            Some(RecordState {
                target_id: Some(id),
                action,
                ..
            }) if action.wrote_target() => id,
            Some(state) => {
                let why = state
                    .reason
                    .unwrap_or_else(|| state.action.as_str().to_owned());
                return vec![recorded(
                    Action::Skipped,
                    None,
                    Some(format!("user {clerk_user} was not migrated: {why}")),
                )];
            }
            None => {
                return vec![recorded(
                    Action::Skipped,
                    None,
                    Some(format!("user {clerk_user} was not migrated")),
                )];
            }
        };
        let slug = match map_role(&membership, &self.roles, self.script, &self.ctx) {
            Ok(RoleSlug::Slug(slug)) => slug,
            Ok(RoleSlug::LeftOut(reason)) => {
                return vec![recorded(Action::Skipped, None, Some(reason))];
            }
            Err(reason) => return vec![recorded(Action::Rejected, None, Some(reason))],
        };
        let existing = org
            .existing
            .lock()
            .expect("memberships lock")
            .get(&user_target)
            .cloned();
        let result = match existing {
            Some((id, role)) if role == slug => Ok((Action::Unchanged, id)),
            Some((id, _)) => self
                .workos
                .update_membership(&id, &slug)
                .await
                .map(|m| (Action::Updated, m.id))
                .map_err(|e| e.reason()),
            None => self.create(&user_target, &org_target, &slug).await,
        };
        vec![match result {
            Ok((action, id)) => {
                org.existing
                    .lock()
                    .expect("memberships lock")
                    .insert(user_target, (id.clone(), slug));
                recorded(action, Some(id), None)
            }
            Err(reason) => recorded(Action::Failed, None, Some(reason)),
        }]
    }

    async fn create(
        &self,
        user_id: &str,
        organization_id: &str,
        slug: &str,
    ) -> Result<(Action, String), String> {
        let body = CreateOrganizationMembership {
            user_id: user_id.to_owned(),
            organization_id: organization_id.to_owned(),
            role_slug: Some(slug.to_owned()),
            role_slugs: None,
        };
        match self.workos.create_membership(&body).await {
            Ok(created) => Ok((Action::Created, created.id)),
            Err(error)
                if error.status() == Some(409)
                    || error.has_code("organization_membership_already_exists") =>
            {
                // Made by an attempt whose answer was lost: find it.
                let page = self
                    .workos
                    .memberships_page(MembershipFilter::User(user_id), None)
                    .await
                    .map_err(|e| e.reason())?;
                page.data
                    .into_iter()
                    .find(|m| m.organization_id == organization_id)
                    .map(|m| (Action::Adopted, m.id))
                    .ok_or_else(|| error.reason())
            }
            Err(error) => Err(error.reason()),
        }
    }
}
