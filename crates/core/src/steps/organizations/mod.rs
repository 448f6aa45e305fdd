//! The organizations step: every Clerk organization to one WorkOS
//! organization, idempotently (external_id = the Clerk id; a conflict is
//! looked up and adopted), each recorded in the journal's id map for the
//! memberships step.
//!
//! With `--reconcile` the journal's id is believed only when WorkOS lists
//! it with this organization's external_id (see [`crate::target::reconcile`]); an
//! organization renamed outside ferry is reported and left alone.

pub mod decide;
pub mod retire;
pub mod stage;
mod verify;

use crate::support::reason::{Reason, ReasonCode};
use decide::{Decision, Written, decide};
use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::mpsc;

use super::error::StepError;
use super::recorder::Recorded;
use crate::clerk::client::ClerkClient;
use crate::http::listing::Incomplete;
use crate::journal::{Action, Journal, Kind, RecordState};
use crate::mapping::organization::{MappedOrg, OrgPayload, map_organization};
use crate::plan::OrganizationSettings;
use crate::report::outcome::{Planned, PlannedAction, planned_change};
use crate::script::Script;
use crate::target::reconcile::{Listing, Standing, standing};
use crate::workos::client::WorkosClient;
use ferry_wire::clerk::model::{Organization, OrganizationDomain};
use ferry_wire::workos::model::{
    CreateOrganization, DomainData, Organization as WorkosOrganization, UpdateOrganization,
};

pub struct OrganizationsStep<'a> {
    pub settings: OrganizationSettings,
    pub script: Option<&'a Script>,
    pub ctx: Value,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
    /// Every WorkOS organization, listed before the step (`--reconcile`).
    pub listing: Option<Listing<WorkosOrganization>>,
    /// Clerk's domains, by organization id (read once before the step).
    pub clerk_domains: HashMap<String, Vec<OrganizationDomain>>,
}

/// Clerk's organization domains, by organization (one listing for the instance).
pub async fn read_domains(
    clerk: &ClerkClient,
) -> Result<HashMap<String, Vec<OrganizationDomain>>, StepError> {
    let mut by_organization: HashMap<String, Vec<OrganizationDomain>> = HashMap::new();
    for domain in clerk
        .all_domains()
        .await
        .map_err(crate::source::read::SourceError::from)?
    {
        by_organization
            .entry(domain.organization_id.clone())
            .or_default()
            .push(domain);
    }
    Ok(by_organization)
}

/// Sends every Clerk organization, oldest first; says why, when Clerk's
/// listing did not prove complete (what it held is still sent: creating
/// them is safe, judging the others gone is not).
pub async fn read_organizations(
    clerk: &ClerkClient,
    tx: mpsc::Sender<Organization>,
) -> Result<Option<Incomplete>, StepError> {
    let listed = clerk
        .organizations_listing()
        .await
        .map_err(crate::source::read::SourceError::from)?;
    super::pump::send_all(listed.items, tx).await;
    Ok(listed.incomplete)
}

impl OrganizationsStep<'_> {
    fn domain_data(&self, payload: &OrgPayload) -> Option<Vec<DomainData>> {
        (!payload.domains.is_empty()).then(|| {
            payload
                .domains
                .iter()
                .map(|domain| DomainData {
                    domain: domain.clone(),
                    state: if payload.pending.contains(domain) {
                        "pending"
                    } else {
                        "verified"
                    }
                    .into(),
                })
                .collect()
        })
    }

    /// What a run would do with one organization (`ferry plan`), and why:
    /// the mapping's skip or rejection, else the journal's fingerprint of
    /// what was written against the payload, else WorkOS's listing by
    /// external_id (adopted) or nothing (created).
    pub fn preview(&self, org: &Organization) -> Planned {
        let planned = |action, reason: Option<Reason>| Planned {
            clerk_id: org.id.clone(),
            email: None,
            action,
            reason,
            notes: Vec::new(),
            enrolls_totp: false,
        };
        let payload = match self.mapped(org) {
            MappedOrg::Ready(payload) => payload,
            MappedOrg::Skip(reason) => return planned(PlannedAction::Skip, Some(reason)),
            MappedOrg::Reject(reason) => return planned(PlannedAction::Reject, Some(reason)),
        };
        if let Some((action, reason)) =
            planned_change(self.written(&org.id).as_ref(), &payload.fingerprint())
        {
            return planned(action, reason);
        }
        let listed = self
            .listing
            .as_ref()
            .is_some_and(|l| l.by_external_id(&payload.external_id).is_some());
        if listed {
            planned(
                PlannedAction::Adopt,
                Some(Reason::new(
                    ReasonCode::AlreadyInWorkos,
                    "WorkOS already has an organization with its external_id",
                )),
            )
        } else {
            planned(PlannedAction::Create, None)
        }
    }

    /// The journal's record of the organization, when ferry wrote it.
    fn written(&self, clerk_id: &str) -> Option<RecordState> {
        let journal = self.journal.lock().expect("journal lock");
        journal.written(Kind::Organization, clerk_id)
    }

    /// The organization mapped, with its Clerk domains.
    fn mapped(&self, org: &Organization) -> MappedOrg {
        let domains = self
            .clerk_domains
            .get(&org.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        map_organization(org, domains, &self.settings, self.script, &self.ctx)
    }

    pub async fn write(&self, org: &Organization) -> Vec<Recorded> {
        let outcome = |action, target_id, reason: Option<Reason>, fingerprint| {
            Recorded::attempted(
                Kind::Organization,
                &org.id,
                action,
                target_id,
                reason,
                fingerprint,
                true,
            )
        };
        let payload = match self.mapped(org) {
            MappedOrg::Ready(payload) => payload,
            MappedOrg::Skip(reason) => {
                return vec![outcome(Action::Skipped, None, Some(reason), None)];
            }
            MappedOrg::Reject(reason) => {
                return vec![outcome(Action::Rejected, None, Some(reason), None)];
            }
        };
        let fingerprint = payload.fingerprint();
        let written = self.written(&org.id).and_then(|p| {
            Some(Written {
                target_id: p.target_id?,
                fingerprint: p.fingerprint,
            })
        });
        let standing = written
            .as_ref()
            .map(|w| standing(self.listing.as_ref(), &w.target_id, &payload.external_id));
        let stale = written
            .as_ref()
            .zip(standing.as_ref())
            .and_then(|(w, standing)| standing.why_stale("organization", &w.target_id));
        let by_external_id = self
            .listing
            .as_ref()
            .and_then(|l| l.by_external_id(&payload.external_id));
        let decision = decide(
            written.as_ref(),
            standing,
            &fingerprint,
            &payload.name,
            by_external_id,
        );
        let result = match decision {
            Decision::Update {
                target_id,
                standing,
            } => self.update_checked(&target_id, &payload, &standing).await,
            Decision::Unchanged { target_id, renamed } => Ok((
                Action::Unchanged,
                Some(target_id),
                renamed.then(|| {
                    Reason::new(
                        ReasonCode::ChangedOutsideFerry,
                        "renamed in WorkOS outside ferry; left alone (the Clerk name is unchanged)",
                    )
                }),
            )),
            Decision::Adopt(existing) => self
                .adopt(existing, &payload)
                .await
                .map(|(action, id)| (action, id, stale)),
            Decision::Create => self
                .create(&payload)
                .await
                .map(|(action, id)| (action, id, stale)),
        };
        vec![match result {
            Ok((action, target, note)) => outcome(action, target, note, Some(fingerprint)),
            Err(reason) => outcome(Action::Failed, None, Some(reason), None),
        }]
    }

    async fn create(&self, payload: &OrgPayload) -> Result<(Action, Option<String>), Reason> {
        let body = CreateOrganization {
            name: payload.name.clone(),
            domain_data: self.domain_data(payload),
            external_id: Some(payload.external_id.clone()),
            metadata: crate::mapping::metadata::to_body(&payload.metadata),
        };
        match self.workos.create_organization(&body).await {
            Ok(created) if created.external_id.as_deref() == Some(&payload.external_id) => {
                Ok((Action::Created, Some(created.id)))
            }
            Ok(other) => {
                // An answer naming another organization is not believed: look.
                match self
                    .workos
                    .organization_by_external_id(&payload.external_id)
                    .await
                    .map_err(|e| e.reason())?
                {
                    Some(ours) if ours.external_id.as_deref() == Some(&payload.external_id) => {
                        Ok((Action::Created, Some(ours.id)))
                    }
                    _ => Err(Reason::new(
                        ReasonCode::AmbiguousCreateAnswer,
                        format!(
                            "ambiguous_create_answer: WorkOS answered the create with organization {}, not this one, and no organization carries its external_id",
                            other.id
                        ),
                    )),
                }
            }
            Err(error)
                if error.has_code("external_id_already_used") || error.status() == Some(409) =>
            {
                // Created by an earlier attempt whose answer was lost, or an earlier run.
                let existing = self
                    .workos
                    .organization_by_external_id(&payload.external_id)
                    .await
                    .map_err(|e| e.reason())?
                    .ok_or_else(|| {
                        Reason::new(
                            ReasonCode::ConflictUnresolved,
                            format!(
                                "{}, but no organization has that external_id",
                                error.reason()
                            ),
                        )
                    })?;
                self.adopt(&existing, payload).await
            }
            Err(error) => Err(error.reason()),
        }
    }

    /// Takes over the organization that already carries this external_id,
    /// bringing its name and metadata up to date.
    async fn adopt(
        &self,
        existing: &WorkosOrganization,
        payload: &OrgPayload,
    ) -> Result<(Action, Option<String>), Reason> {
        let mut domains: Vec<&str> = existing.domains.iter().map(|d| d.domain.as_str()).collect();
        domains.sort_unstable();
        let mut wanted: Vec<&str> = payload.domains.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        if existing.name == payload.name
            && existing.metadata == payload.metadata
            && domains == wanted
        {
            Ok((Action::Adopted, Some(existing.id.clone())))
        } else {
            self.update(existing, payload)
                .await
                .map(|id| (Action::Adopted, Some(id)))
        }
    }

    /// Updates the organization the journal names, once WorkOS confirms it
    /// still carries this organization's external_id (a listing already
    /// did, under `--reconcile`; otherwise it is read first). One that now
    /// carries another is left alone, and this organization is settled as
    /// `--reconcile` settles it: the one with its external_id is adopted,
    /// or a new one created.
    async fn update_checked(
        &self,
        id: &str,
        payload: &OrgPayload,
        standing: &Standing<'_, WorkosOrganization>,
    ) -> Result<(Action, Option<String>, Option<Reason>), Reason> {
        let current = match standing {
            Standing::Ours(listed) => Some((*listed).clone()),
            _ => self.workos.organization(id).await.map_err(|e| e.reason())?,
        };
        match current {
            Some(current) if current.external_id.as_deref() == Some(&payload.external_id) => self
                .update(&current, payload)
                .await
                .map(|id| (Action::Updated, Some(id), None)),
            current => {
                let note = match &current {
                    Some(other) => crate::target::reconcile::relinked(
                        "organization",
                        id,
                        other.external_id.as_deref(),
                    ),
                    None => Reason::new(
                        ReasonCode::TargetGone,
                        format!("the journal's WorkOS organization {id} is gone"),
                    ),
                };
                let settled = match self
                    .workos
                    .organization_by_external_id(&payload.external_id)
                    .await
                    .map_err(|e| e.reason())?
                {
                    Some(existing) => self.adopt(&existing, payload).await?,
                    None => self.create(payload).await?,
                };
                Ok((settled.0, settled.1, Some(note)))
            }
        }
    }

    /// Updates `current` to the payload; metadata keys it has and the
    /// payload has not are sent as `null`, since WorkOS merges metadata.
    async fn update(
        &self,
        current: &WorkosOrganization,
        payload: &OrgPayload,
    ) -> Result<String, Reason> {
        let body = UpdateOrganization {
            name: Some(payload.name.clone()),
            domain_data: self.domain_data(payload),
            external_id: Some(payload.external_id.clone()),
            metadata: crate::mapping::metadata::changes(&current.metadata, &payload.metadata),
        };
        self.workos
            .update_organization(&current.id, &body)
            .await
            .map(|org| org.id)
            .map_err(|e| e.reason())
    }
}
