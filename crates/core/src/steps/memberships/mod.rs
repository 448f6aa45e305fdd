//! The memberships step: every membership of every Clerk organization, with
//! Clerk ids translated to WorkOS ids through the journal (a Clerk id is
//! never sent to WorkOS) and roles mapped.
//!
//! The step reconciles against WorkOS rather than trusting the journal
//! alone: for each organization it reads WorkOS's memberships first, so a
//! rerun recreates memberships that went missing in WorkOS (also for users
//! who existed there before the migration) and writes nothing else.
//! A membership nothing changed for since ferry settled it is counted
//! without a journal look-up or a hook call ([`seal`]), once WorkOS's
//! listing shows it as ferry left it, or, in a run that reads WorkOS's
//! events ([`crate::target::changes`]), once they show nobody touched its
//! organization's memberships since ferry last accounted for them: such an
//! organization is listed only if one of its memberships needs deciding.

pub mod decide;
mod look;
pub mod retire;
pub mod seal;
pub mod source;
pub mod stage;
mod verify;

use crate::support::reason::{Reason, ReasonCode};
use decide::{InJournal, Next};
use futures_util::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

pub use self::look::Look;
use self::look::quiet;
use self::seal::{MembershipSeals, Sealed, SealedAs, vouch};
use super::error::StepError;
use super::recorder::Recorded;
use super::seal::Seal;
use crate::clerk::client::ClerkClient;
use crate::http::listing::Incomplete;
use crate::journal::{Action, Journal, Kind, Outcome, RecordState};
use crate::mapping::membership::map_role;
use crate::mapping::role::RoleMapper;
use crate::report::outcome::{Planned, PlannedAction};
use crate::script::Script;
use crate::target::changes;
use crate::workos::client::{MembershipFilter, WorkosClient, WorkosError};
use ferry_wire::clerk::model::OrganizationMembership;
use ferry_wire::workos::model::CreateOrganizationMembership;

/// WorkOS user id → (membership id, role slug), as WorkOS lists them.
type Existing = HashMap<String, (String, String)>;

/// An organization's state, shared by its memberships.
#[derive(Debug)]
pub struct OrgContext {
    pub clerk_id: String,
    /// The WorkOS organization, when the organizations step migrated it.
    pub target_id: Option<String>,
    /// WorkOS's memberships of the organization as it has them now: read
    /// ahead, or, in a quiet organization, when a membership first needs
    /// deciding.
    existing: tokio::sync::OnceCell<Mutex<Existing>>,
    /// WorkOS's events name none of this organization's memberships since
    /// ferry last accounted for them: a sealed membership keeps its vouch
    /// without a listing.
    quiet: bool,
    /// Clerk users whose WorkOS user was deleted since the cursor: their
    /// memberships are decided against a listing, wherever they are.
    users_deleted: Arc<HashSet<String>>,
    /// The vouch of each membership WorkOS listed (see [`seal::vouch`]),
    /// made when a sealed membership first asks (a preview never does).
    vouched: OnceLock<HashSet<u64>>,
}

impl OrgContext {
    /// An organization whose WorkOS memberships were listed (`existing`).
    pub fn listed(clerk_id: String, target_id: Option<String>, existing: Existing) -> Self {
        Self {
            clerk_id,
            target_id,
            existing: tokio::sync::OnceCell::new_with(Some(Mutex::new(existing))),
            quiet: false,
            users_deleted: Arc::default(),
            vouched: OnceLock::new(),
        }
    }

    /// An organization WorkOS's events show untouched: listed only if a
    /// membership needs deciding.
    fn quiet(clerk_id: String, target_id: String, users_deleted: Arc<HashSet<String>>) -> Self {
        Self {
            clerk_id,
            target_id: Some(target_id),
            existing: tokio::sync::OnceCell::new(),
            quiet: true,
            users_deleted,
            vouched: OnceLock::new(),
        }
    }

    /// WorkOS's memberships of the organization, listed now if they were
    /// not yet.
    async fn existing(&self, workos: &WorkosClient) -> Result<&Mutex<Existing>, Reason> {
        self.existing
            .get_or_try_init(|| async {
                let Some(id) = &self.target_id else {
                    return Ok(Mutex::default());
                };
                existing_memberships(workos, id)
                    .await
                    .map(Mutex::new)
                    .map_err(|e| e.reason())
            })
            .await
    }

    /// WorkOS's memberships as listed; `None` when they were not (the
    /// writer lists a quiet organization before deciding in it).
    fn existing_now(&self) -> Option<std::sync::MutexGuard<'_, Existing>> {
        self.existing
            .get()
            .map(|existing| existing.lock().expect("memberships lock"))
    }

    /// Whether a sealed membership of `clerk_user` keeps its vouch on
    /// WorkOS's events alone.
    fn vouched_by_events(&self, clerk_user: Option<&str>) -> bool {
        self.quiet && clerk_user.is_some_and(|user| !self.users_deleted.contains(user))
    }

    /// Whether WorkOS listed a membership with this vouch.
    fn vouches_for(&self, vouch: u64) -> bool {
        self.vouched
            .get_or_init(|| {
                let existing = self.existing_now();
                existing
                    .iter()
                    .flat_map(|existing| existing.iter())
                    .map(|(user, (id, slug))| seal::vouch(id, user, slug))
                    .collect()
            })
            .contains(&vouch)
    }
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
    /// The first listing that did not prove complete (Clerk's organizations,
    /// or one organization's memberships), and why: the memberships of
    /// this read cannot judge any membership gone.
    pub incomplete: Option<(String, Incomplete)>,
    /// What a person should know about how WorkOS was looked at.
    pub notes: Vec<String>,
    /// When this pass began, less the margin: the event cursor to keep
    /// once the step has accounted for every organization (`None` for a
    /// preview, which moves no cursor).
    #[serde(skip)]
    pub pass_began: Option<DateTime<Utc>>,
}

pub struct MembershipsStep<'a> {
    pub roles: RoleMapper<'a>,
    pub script: Option<&'a Script>,
    pub ctx: Value,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
    /// When the step seals (a run without `--reconcile`): the seals, loaded
    /// at the first write, once the users step has ended and its seals
    /// are final, or, for the memberships of users settled from their
    /// seals, once its listing was read and theirs are (`None` inside when
    /// the journal could not give them).
    pub seals: Option<OnceLock<Option<MembershipSeals>>>,
    /// The Clerk roles the roles step rejected or failed, with why: read
    /// from the journal once, at the first membership (the step starts
    /// after the roles step ends).
    pub unmigrated_roles: OnceLock<HashMap<String, String>>,
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
    total: impl FnOnce(u64),
    look: Look,
    tx: mpsc::Sender<MembershipItem>,
) -> Result<MembershipStats, StepError> {
    let mut stats = MembershipStats::default();
    let now = Utc::now();
    stats.pass_began = (look != Look::ListEvery).then(|| now - changes::MARGIN);
    let quiet = match quiet(workos, journal, look, now).await {
        Ok(quiet) => Some(quiet),
        Err(changes::Unusable::Reconcile | changes::Unusable::NoCursor) => None,
        Err(why) => {
            stats.notes.push(format!(
                "every organization's WorkOS memberships are listed: {why}"
            ));
            None
        }
    };
    let listed = clerk
        .organizations_with_member_counts()
        .await
        .map_err(crate::source::read::SourceError::from)?;
    // Clerk's member counts say how many memberships the step will read,
    // so its progress has a total and an ETA; a count Clerk did not give
    // leaves the total unknown rather than low.
    if let Some(members) = listed
        .items
        .iter()
        .map(|o| o.members_count)
        .sum::<Option<u64>>()
    {
        total(members);
    }
    let source = |e| StepError::from(crate::source::read::SourceError::from(e));
    // Clerk's memberships in one instance-wide listing where it is the
    // cheaper read and proves itself, else one listing per organization.
    let mut grouped = match listed.incomplete {
        Some(why) => {
            let grouped = source::Grouped::unused(format!(
                "Clerk's organizations listing did not prove complete: {why}"
            ));
            stats.incomplete = Some(("Clerk's organizations listing".to_owned(), why));
            grouped
        }
        None if source::cheaper(&listed.items, crate::clerk::client::PAGE_SIZE) => {
            source::Grouped::read(clerk, &listed.items)
                .await
                .map_err(source)?
        }
        None => source::Grouped::not_read(),
    };
    stats.notes.extend(grouped.notes());
    let organizations = listed.items;
    if let Some(quiet) = &quiet {
        stats.notes.push(format!(
            "WorkOS's events since the last pass ({} read) name {} organizations: only those are listed ahead, the others' sealed memberships keep their vouch",
            quiet.changes.events,
            quiet.changes.organizations.len(),
        ));
    }
    let quiet = &quiet;
    // Each organization needs two listings (WorkOS's memberships, unless
    // its events show it quiet, and Clerk's): several organizations are
    // read at once, ahead of the writes, so the writes never wait a round
    // trip for the next organization.
    let reads = futures_util::stream::iter(organizations)
        .map(|organization| {
            let vouched = grouped.take(&organization.id);
            async move {
                let target_id = lookup(journal, Kind::Organization, &organization.id)
                    .filter(|r| r.action.wrote_target())
                    .and_then(|r| r.target_id);
                let members = async {
                    match vouched {
                        Some(items) => Ok(crate::http::listing::Listed {
                            items,
                            incomplete: None,
                        }),
                        None => clerk
                            .memberships_listing(&organization.id)
                            .await
                            .map_err(source),
                    }
                };
                let (org, memberships) = match (quiet, target_id) {
                    (Some(quiet), Some(target_id)) if quiet.organization(Some(&target_id)) => {
                        let org = OrgContext::quiet(
                            organization.id.clone(),
                            target_id,
                            Arc::clone(&quiet.users_deleted),
                        );
                        (org, members.await?)
                    }
                    (_, target_id) => {
                        let existing = async {
                            match &target_id {
                                Some(id) => existing_memberships(workos, id)
                                    .await
                                    .map_err(StepError::from),
                                None => Ok(HashMap::new()),
                            }
                        };
                        let (existing, memberships) = tokio::try_join!(existing, members)?;
                        let org = OrgContext::listed(organization.id.clone(), target_id, existing);
                        (org, memberships)
                    }
                };
                Ok::<_, StepError>((Arc::new(org), memberships))
            }
        })
        .buffered(ORGANIZATIONS_AHEAD);
    futures_util::pin_mut!(reads);
    while let Some(read) = reads.next().await {
        if stop.load(Ordering::Relaxed) {
            return Ok(stats);
        }
        let (org, listed) = read?;
        stats.organizations += 1;
        if let Some(why) = listed.incomplete
            && stats.incomplete.is_none()
        {
            stats.incomplete = Some((
                format!(
                    "Clerk's memberships listing of organization {}",
                    org.clerk_id
                ),
                why,
            ));
        }
        let memberships = listed.items;
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

/// The membership's user's email, when Clerk's identifier is one: it is
/// whatever the user signs in with, also a username or a phone number,
/// which a list's `email` column must not pass off as an email.
fn identifier_email(membership: &OrganizationMembership) -> Option<String> {
    membership
        .public_user_data
        .as_ref()
        .and_then(|u| u.identifier.clone())
        .filter(|identifier| identifier.contains('@'))
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
    /// Why the roles step left this Clerk role out of WorkOS (rejected or
    /// failed), if it did.
    fn unmigrated_role(&self, clerk_role: &str) -> Option<String> {
        self.unmigrated_roles
            .get_or_init(|| {
                crate::steps::roles::not_migrated(&self.journal.lock().expect("journal lock"))
            })
            .get(clerk_role)
            .cloned()
    }

    /// Where a membership stands: its organization and user as the journal
    /// has them, its role as the mapping gives it, and WorkOS's membership
    /// as `org` read it. A preview (`preview`) plans a membership whose
    /// user or organization the journal does not hold yet as pending: the
    /// run migrates them first.
    fn next(&self, org: &OrgContext, membership: &OrganizationMembership, preview: bool) -> Next {
        let in_journal = |kind, id: &str| match lookup(self.journal, kind, id) {
            Some(RecordState {
                target_id: Some(id),
                action,
                ..
            }) if action.wrote_target() => InJournal::Migrated(id),
            Some(state) => InJournal::NotMigrated(
                state
                    .reason
                    .map_or_else(|| state.action.as_str().to_owned(), |r| r.detail),
            ),
            None => InJournal::Unknown,
        };
        let org_standing = match &org.target_id {
            Some(id) => InJournal::Migrated(id.clone()),
            // A run skips it either way; only a preview asks whether the
            // journal knows it (unknown: the run will migrate it first).
            None if !preview => InJournal::NotMigrated(String::new()),
            None => match in_journal(Kind::Organization, &org.clerk_id) {
                // Known but without a WorkOS id: not migrated.
                InJournal::Migrated(_) => InJournal::NotMigrated(String::new()),
                known => known,
            },
        };
        let clerk_user = membership
            .public_user_data
            .as_ref()
            .map(|u| u.user_id.as_str());
        let user = |id: &str| in_journal(Kind::User, id);
        let parties = match decide::parties(&org.clerk_id, &org_standing, clerk_user, user, preview)
        {
            Ok(parties) => parties,
            Err(settled) => return settled,
        };
        let slug = map_role(membership, &self.roles, self.script, &self.ctx);
        let unmigrated_role = self.unmigrated_role(&membership.role);
        let existing = parties
            .user
            .as_ref()
            .and_then(|user| org.existing_now()?.get(user).cloned());
        decide::role(
            parties,
            &membership.role,
            slug,
            unmigrated_role.as_deref(),
            existing,
        )
    }

    /// What a run would do with one membership (`ferry plan`), and why.
    /// `left_out` holds the users and organizations the preview of earlier
    /// steps plans to skip or reject: their memberships will be skipped.
    pub fn preview(
        &self,
        item: &MembershipItem,
        left_out: &HashMap<(Kind, String), Reason>,
    ) -> Planned {
        let membership = &item.membership;
        let user = membership
            .public_user_data
            .as_ref()
            .map(|u| u.user_id.clone());
        let not_to_be = [
            (Kind::Organization, Some(item.org.clerk_id.clone())),
            (Kind::User, user),
        ]
        .into_iter()
        .find_map(|(kind, id)| {
            let id = id?;
            let why = left_out.get(&(kind, id.clone()))?;
            let code = match kind {
                Kind::Organization => ReasonCode::OrganizationNotMigrated,
                _ => ReasonCode::UserNotMigrated,
            };
            Some(Reason::new(
                code,
                format!("its {} will not be migrated: {why}", kind.as_str()),
            ))
        });
        let next = match not_to_be {
            Some(reason) => Next::Settled(Action::Skipped, None, Some(reason)),
            None => self.next(&item.org, membership, true),
        };
        let (action, reason) = match next {
            Next::Settled(Action::Skipped, _, reason) => (PlannedAction::Skip, reason),
            Next::Settled(Action::Rejected, _, reason) => (PlannedAction::Reject, reason),
            Next::Settled(_, _, reason) => (PlannedAction::Unchanged, reason),
            Next::Unchanged { .. } => (PlannedAction::Unchanged, None),
            Next::Create { .. } => (PlannedAction::Create, None),
            Next::Update { was, slug, .. } => (
                PlannedAction::Update,
                Some(Reason::new(
                    ReasonCode::SourceChanged,
                    format!("role {was} in WorkOS, {slug} from Clerk"),
                )),
            ),
            Next::Pending(reason) => (PlannedAction::Create, Some(reason)),
        };
        Planned {
            clerk_id: membership.id.clone(),
            email: identifier_email(membership),
            action,
            reason,
            notes: Vec::new(),
            enrolls_totp: false,
        }
    }

    /// The seals, loaded on the first call (a write: the users step has
    /// ended by then); `None` when the step does not seal.
    fn seals(&self) -> Option<&MembershipSeals> {
        let cell = self.seals.as_ref()?;
        cell.get_or_init(|| {
            let journal = self.journal.lock().expect("journal lock");
            MembershipSeals::load(&journal, &self.roles, &self.ctx, self.script)
                .inspect_err(|error| {
                    tracing::warn!("cannot read the sealed memberships, deciding all: {error}");
                })
                .ok()
        })
        .as_ref()
    }

    pub async fn write(&self, item: MembershipItem) -> Vec<Recorded> {
        let MembershipItem { org, membership } = item;
        let seals = self.seals();
        let seal = seals
            .and_then(|seals| seals.seal(&org.clerk_id, org.target_id.as_deref(), &membership));
        let clerk_user = membership
            .public_user_data
            .as_ref()
            .map(|u| u.user_id.as_str());
        // A sealed membership in a quiet organization keeps its vouch on
        // WorkOS's events; any other is decided against a listing.
        let by_events = org.vouched_by_events(clerk_user);
        let listed = match by_events {
            true => None,
            false => Some(org.existing(self.workos).await.map(|_| ())),
        };
        if let (Some(seals), Some(seal), None | Some(Ok(()))) = (seals, seal, &listed)
            && let Some(settled) = settled(seals, &org, &membership, seal, by_events)
        {
            return vec![settled];
        }
        let recorded =
            |action, target_id, reason: Option<Reason>, sealed: Option<SealedAs>| Recorded {
                outcome: Outcome {
                    kind: Kind::Membership,
                    source_id: membership.id.clone(),
                    target_id,
                    action,
                    attempts: 1,
                    reason,
                    fingerprint: None,
                },
                email: identifier_email(&membership),
                advances: true,
                password_reset: None,
                settled: false,
                signs_in: None,
                hasher: None,
                seal: seal
                    .zip(sealed)
                    .map(|(seal, state)| Sealed { seal, state }.stored()),
            };
        // Decided against WorkOS's listing of the organization, made now
        // in a quiet organization.
        let listed = match listed {
            Some(listed) => listed,
            None => org.existing(self.workos).await.map(|_| ()),
        };
        if let Err(reason) = listed {
            return vec![recorded(Action::Failed, None, Some(reason), None)];
        }
        let (user_target, result) = match self.next(&org, &membership, false) {
            Next::Settled(action, target, reason) => {
                // A skip comes from the membership, its user's seal and the
                // mapping alone (a reject may be the hook's error: decided again).
                let sealed = (action == Action::Skipped).then_some(SealedAs::Skipped);
                return vec![recorded(action, target, reason, sealed)];
            }
            Next::Unchanged { id, user, slug } => {
                let sealed = SealedAs::Member {
                    vouch: vouch(&id, &user, &slug),
                };
                return vec![recorded(Action::Unchanged, Some(id), None, Some(sealed))];
            }
            Next::Pending(reason) => {
                return vec![recorded(Action::Skipped, None, Some(reason), None)];
            }
            Next::Update { id, user, slug, .. } => (
                user,
                self.workos
                    .update_membership(&id, &slug)
                    .await
                    .map(|m| (Action::Updated, m.id, slug))
                    .map_err(|e| e.reason()),
            ),
            Next::Create { user, org, slug } => {
                let created = self.create(&user, &org, &slug).await;
                (user, created.map(|(action, id)| (action, id, slug)))
            }
        };
        vec![match result {
            Ok((action, id, slug)) => {
                let sealed = SealedAs::Member {
                    vouch: vouch(&id, &user_target, &slug),
                };
                if let Some(mut existing) = org.existing_now() {
                    existing.insert(user_target, (id.clone(), slug));
                }
                recorded(action, Some(id), None, Some(sealed))
            }
            Err(reason) => recorded(Action::Failed, None, Some(reason), None),
        }]
    }

    async fn create(
        &self,
        user_id: &str,
        organization_id: &str,
        slug: &str,
    ) -> Result<(Action, String), Reason> {
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
                    .ok_or_else(|| {
                        Reason::new(ReasonCode::ConflictUnresolved, error.reason().detail)
                    })
            }
            Err(error) => Err(error.reason()),
        }
    }
}

/// A membership sealed by an earlier run whose seal still holds: counted
/// unchanged when WorkOS lists it as the seal vouches, or its events show
/// its organization untouched (`by_events`), or skipped again (the journal
/// keeps its reason); `None` to take the full path.
fn settled(
    seals: &MembershipSeals,
    org: &OrgContext,
    membership: &OrganizationMembership,
    seal: Seal,
    by_events: bool,
) -> Option<Recorded> {
    let sealed = seals.matching(&membership.id, seal)?;
    let action = match sealed.state {
        SealedAs::Member { vouch } => {
            (by_events || org.vouches_for(vouch)).then_some(Action::Unchanged)?
        }
        SealedAs::Skipped => Action::Skipped,
    };
    Some(Recorded::settled(
        Kind::Membership,
        &membership.id,
        action,
        true,
    ))
}
