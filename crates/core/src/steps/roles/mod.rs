//! The roles step: every Clerk organization role to one WorkOS environment
//! role, made once with its name, description and mapped permissions (the
//! permissions made first when WorkOS lacks them); a WorkOS role of the same
//! slug that ferry did not make is adopted as it is and never changed, and
//! a difference in its permissions is reported. It runs before
//! `memberships`, which name these slugs.
//!
//! Roles are few: Clerk's are read whole, WorkOS's roles are listed once
//! before the first write (so a rerun costs that one read), its permissions
//! only when a role needs one made. The mapping and the decision are pure
//! ([`decide`]); this module gathers the facts and applies the answer.

pub mod decide;
pub mod needed;
pub mod retire;
pub mod stage;
mod verify;

use crate::support::reason::{Reason, ReasonCode};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::mpsc;

use super::error::StepError;
use super::recorder::Recorded;
use crate::clerk::client::ClerkClient;
use crate::journal::{Action, Journal, Kind, RecordState};
use crate::mapping::role::{RoleMapper, RoleSlug};
use crate::report::outcome::{Planned, PlannedAction};
use crate::workos::client::{WorkosClient, WorkosError};
use decide::{ADOPTED, DesiredRole, RoleDecision, desired_role};
use ferry_wire::clerk::model::Role as ClerkRole;
use ferry_wire::workos::model::{CreatePermission, CreateRole, Role};

/// The Clerk roles the roles step rejected or failed, each with why in
/// words (`the roles step rejected: …`): a membership or an invitation
/// naming one is not sent, since WorkOS would refuse the role.
pub fn not_migrated(journal: &Journal) -> HashMap<String, String> {
    [Action::Rejected, Action::Failed]
        .into_iter()
        .filter_map(|action| journal.records_with(Kind::Role, action).ok())
        .flatten()
        .map(|(key, state)| {
            let why = state
                .reason
                .map_or_else(|| state.action.as_str().to_owned(), |r| r.detail);
            (
                key,
                format!("the roles step {}: {why}", state.action.as_str()),
            )
        })
        .collect()
}

/// The fingerprint of a role ferry made whose permissions were not set: the
/// next run completes it.
const INCOMPLETE: &str = "incomplete";

/// Sends every Clerk role, in Clerk's order.
pub async fn read_roles(
    clerk: &ClerkClient,
    tx: mpsc::Sender<ClerkRole>,
) -> Result<u64, StepError> {
    let roles = clerk
        .all_roles()
        .await
        .map_err(crate::source::read::SourceError::from)?;
    Ok(super::pump::send_all(roles, tx).await)
}

pub struct RolesStep<'a> {
    /// Clerk role keys to slugs (the `roles:` map, the default rule, `map_role`).
    pub mapper: RoleMapper<'a>,
    pub with_permissions: bool,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
    /// WorkOS's roles by slug, as listed before the step and as made since.
    existing: Mutex<HashMap<String, Role>>,
    /// WorkOS's permission slugs, read when a role first needs one.
    permissions: tokio::sync::Mutex<Option<BTreeSet<String>>>,
    /// What a person should know: roles adopted with other permissions.
    pub notes: Mutex<Vec<String>>,
}

impl<'a> RolesStep<'a> {
    /// Lists WorkOS's roles (one read).
    pub async fn new(
        mapper: RoleMapper<'a>,
        with_permissions: bool,
        workos: &'a WorkosClient,
        journal: &'a Mutex<Journal>,
    ) -> Result<Self, WorkosError> {
        let existing = workos
            .roles()
            .await?
            .into_iter()
            .map(|role| (role.slug.clone(), role))
            .collect();
        Ok(Self {
            mapper,
            with_permissions,
            workos,
            journal,
            existing: Mutex::new(existing),
            permissions: tokio::sync::Mutex::new(None),
            notes: Mutex::new(Vec::new()),
        })
    }

    fn lookup(&self, kind: Kind, id: &str) -> Option<RecordState> {
        self.journal
            .lock()
            .expect("journal lock")
            .record(kind, id)
            .ok()
            .flatten()
    }

    /// What the decision needs: the journal's record, WorkOS's role of the
    /// slug, and the fingerprint of what ferry would write.
    fn facts(
        &self,
        key: &str,
        desired: &DesiredRole,
    ) -> (Option<RecordState>, Option<Role>, String) {
        let existing = self
            .existing
            .lock()
            .expect("roles lock")
            .get(&desired.slug)
            .cloned();
        (
            self.lookup(Kind::Role, key),
            existing,
            desired.fingerprint(),
        )
    }

    /// The role as WorkOS should hold it, or how it is settled without a
    /// request: left out by `map_role` (skipped), or refused (rejected).
    fn desired(&self, role: &ClerkRole) -> Result<DesiredRole, (Action, Reason)> {
        match self.mapper.slug(&role.key, Some(&role.name)) {
            Err(reason) => Err((Action::Rejected, reason)),
            Ok(RoleSlug::LeftOut(reason)) => Err((Action::Skipped, reason)),
            Ok(RoleSlug::Slug(slug)) => desired_role(role, slug, self.with_permissions)
                .map_err(|reason| (Action::Rejected, reason)),
        }
    }

    /// What a run would do with one role (`ferry plan`), and why.
    pub fn preview(&self, role: &ClerkRole) -> Planned {
        let (action, reason) = match self.desired(role) {
            Err((Action::Skipped, reason)) => (PlannedAction::Skip, Some(reason)),
            Err((_, reason)) => (PlannedAction::Reject, Some(reason)),
            Ok(desired) => {
                let (journal, existing, fingerprint) = self.facts(&role.key, &desired);
                match decide::decide(journal.as_ref(), existing.as_ref(), &desired, &fingerprint) {
                    RoleDecision::Unchanged => (PlannedAction::Unchanged, None),
                    RoleDecision::Create => (
                        PlannedAction::Create,
                        Some(Reason::new(
                            ReasonCode::AwaitingMigration,
                            format!(
                                "`{}` with permissions [{}]",
                                desired.slug,
                                desired.permission_slugs().join(", ")
                            ),
                        )),
                    ),
                    RoleDecision::Update => (
                        PlannedAction::Update,
                        Some(Reason::new(
                            ReasonCode::SourceChanged,
                            "the Clerk role changed since ferry made it",
                        )),
                    ),
                    RoleDecision::Adopt { differs } => (
                        PlannedAction::Adopt,
                        Some(match differs {
                            Some(differs) => Reason::new(ReasonCode::RoleAdoptedDiffers, differs),
                            None => Reason::new(
                                ReasonCode::AlreadyInWorkos,
                                format!("`{}` exists in WorkOS already", desired.slug),
                            ),
                        }),
                    ),
                }
            }
        };
        Planned {
            clerk_id: role.key.clone(),
            email: None,
            action,
            reason,
            notes: Vec::new(),
            enrolls_totp: false,
        }
    }

    pub async fn write(&self, role: &ClerkRole) -> Vec<Recorded> {
        let desired = match self.desired(role) {
            Ok(desired) => desired,
            Err((action, reason)) => {
                return vec![recorded(
                    Kind::Role,
                    &role.key,
                    action,
                    None,
                    Some(reason),
                    None,
                )];
            }
        };
        let (journal, existing, fingerprint) = self.facts(&role.key, &desired);
        let mut out = Vec::new();
        let decision = decide::decide(journal.as_ref(), existing.as_ref(), &desired, &fingerprint);
        let result = match (decision, existing) {
            (RoleDecision::Unchanged, Some(existing)) => {
                Ok((Action::Unchanged, existing.id, None, fingerprint.clone()))
            }
            (RoleDecision::Adopt { differs }, Some(existing)) => {
                if let Some(note) = &differs {
                    self.notes.lock().expect("notes lock").push(note.clone());
                }
                let again = journal.as_ref().is_some_and(|r| r.action.wrote_target());
                let action = if again {
                    Action::Unchanged
                } else {
                    Action::Adopted
                };
                let differs =
                    differs.map(|differs| Reason::new(ReasonCode::RoleAdoptedDiffers, differs));
                Ok((action, existing.id, differs, ADOPTED.to_owned()))
            }
            (RoleDecision::Update, Some(existing)) => {
                self.complete(
                    &desired,
                    &existing.id,
                    Action::Updated,
                    &fingerprint,
                    &mut out,
                    true,
                )
                .await
            }
            (_, _) => self.create(&desired, &fingerprint, &mut out).await,
        };
        let role_record = match result {
            Ok((action, id, reason, fingerprint)) => recorded(
                Kind::Role,
                &role.key,
                action,
                Some(id),
                reason,
                Some(fingerprint),
            ),
            Err((id, reason, fingerprint)) => recorded(
                Kind::Role,
                &role.key,
                Action::Failed,
                id,
                Some(reason),
                fingerprint,
            ),
        };
        out.insert(0, role_record);
        out
    }

    /// Creates the role, then gives it its permissions. A slug made
    /// meanwhile by someone else is adopted instead.
    async fn create(
        &self,
        desired: &DesiredRole,
        fingerprint: &str,
        out: &mut Vec<Recorded>,
    ) -> RoleResult {
        let body = CreateRole {
            slug: desired.slug.clone(),
            name: desired.name.clone(),
            description: desired.description.clone(),
        };
        match self.workos.create_role(&body).await {
            Ok(created) => {
                self.existing
                    .lock()
                    .expect("roles lock")
                    .insert(created.slug.clone(), created.clone());
                self.complete(
                    desired,
                    &created.id,
                    Action::Created,
                    fingerprint,
                    out,
                    false,
                )
                .await
            }
            Err(error) if error.status() == Some(409) || error.has_code("role_slug_conflict") => {
                let listed = self
                    .workos
                    .roles()
                    .await
                    .map_err(|e| (None, e.reason(), None))?;
                let Some(existing) = listed.into_iter().find(|r| r.slug == desired.slug) else {
                    let unresolved =
                        Reason::new(ReasonCode::ConflictUnresolved, error.reason().detail);
                    return Err((None, unresolved, None));
                };
                // The conflict came on a retry: the attempt whose answer was
                // lost made this role (it has the name ferry sent and no
                // permissions yet), so ferry finishes it as its own.
                let lost_answer = error.error.attempts > 1
                    && existing.name == desired.name
                    && existing.permissions.as_ref().is_some_and(Vec::is_empty);
                if lost_answer {
                    return self
                        .complete(
                            desired,
                            &existing.id,
                            Action::Created,
                            fingerprint,
                            out,
                            false,
                        )
                        .await;
                }
                let differs = match decide::decide(None, Some(&existing), desired, fingerprint) {
                    RoleDecision::Adopt { differs } => differs,
                    _ => None,
                };
                Ok((
                    Action::Adopted,
                    existing.id,
                    differs.map(|d| Reason::new(ReasonCode::RoleAdoptedDiffers, d)),
                    ADOPTED.to_owned(),
                ))
            }
            Err(error) => Err((None, error.reason(), None)),
        }
    }

    /// Sets name and description (an update only) and the permissions of a
    /// role ferry made; a failure leaves the role marked incomplete, so the
    /// next run finishes it.
    async fn complete(
        &self,
        desired: &DesiredRole,
        id: &str,
        action: Action,
        fingerprint: &str,
        out: &mut Vec<Recorded>,
        rename: bool,
    ) -> RoleResult {
        let incomplete =
            |reason: Reason| (Some(id.to_owned()), reason, Some(INCOMPLETE.to_owned()));
        if rename {
            self.workos
                .update_role(&desired.slug, &desired.name, desired.description.as_deref())
                .await
                .map_err(|e| incomplete(e.reason()))?;
        }
        if !desired.permissions.is_empty() || rename {
            self.ensure_permissions(desired, out)
                .await
                .map_err(|e| incomplete(e.reason()))?;
            let role = self
                .workos
                .set_role_permissions(&desired.slug, &desired.permission_slugs())
                .await
                .map_err(|e| incomplete(e.reason()))?;
            self.existing
                .lock()
                .expect("roles lock")
                .insert(role.slug.clone(), role);
        }
        Ok((action, id.to_owned(), None, fingerprint.to_owned()))
    }

    /// Makes the permissions WorkOS lacks (a permission made meanwhile, a
    /// 409, counts as there).
    async fn ensure_permissions(
        &self,
        desired: &DesiredRole,
        out: &mut Vec<Recorded>,
    ) -> Result<(), WorkosError> {
        let mut known = self.permissions.lock().await;
        if known.is_none() {
            *known = Some(self.all_permissions().await?);
        }
        let known = known.as_mut().expect("read above");
        // The missing ones are made at once: a role's permissions cost one
        // round trip, not one each.
        let missing: Vec<_> = desired
            .permissions
            .iter()
            .filter(|(slug, _)| !known.contains(*slug))
            .collect();
        let made = futures_util::future::join_all(missing.iter().map(|(slug, mapped)| {
            let body = CreatePermission {
                slug: (*slug).clone(),
                name: mapped.name.clone(),
                description: mapped.description.clone(),
            };
            async move { self.workos.create_permission(&body).await }
        }))
        .await;
        for ((slug, mapped), result) in missing.into_iter().zip(made) {
            let (action, id) = match result {
                Ok(created) => (Action::Created, Some(created.id)),
                Err(error) if error.status() == Some(409) => (Action::Adopted, None),
                Err(error) => return Err(error),
            };
            known.insert(slug.clone());
            out.push(recorded(
                Kind::Permission,
                &mapped.clerk_key,
                action,
                id,
                None,
                None,
            ));
        }
        Ok(())
    }

    async fn all_permissions(&self) -> Result<BTreeSet<String>, WorkosError> {
        let (permissions, _) = crate::target::reconcile::every_page(
            |after| async move { self.workos.permissions_page(after.as_deref()).await },
            |p: &ferry_wire::workos::model::Permission| &p.slug,
        )
        .await?;
        Ok(permissions.into_iter().map(|p| p.slug).collect())
    }
}

/// One role's (or permission's) outcome; a role advances progress, a
/// permission it needed does not.
fn recorded(
    kind: Kind,
    source_id: &str,
    action: Action,
    target_id: Option<String>,
    reason: Option<Reason>,
    fingerprint: Option<String>,
) -> Recorded {
    let advances = kind == Kind::Role;
    Recorded::attempted(
        kind,
        source_id,
        action,
        target_id,
        reason,
        fingerprint,
        advances,
    )
}

/// `(action, role id, reason, fingerprint)`, or `(role id if made, reason, fingerprint)`.
type RoleResult =
    Result<(Action, String, Option<Reason>, String), (Option<String>, Reason, Option<String>)>;
