//! The organizations step: every Clerk organization to one WorkOS
//! organization, idempotently (external_id = the Clerk id; a conflict is
//! looked up and adopted), each recorded in the journal's id map for the
//! memberships step.

use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::mpsc;

use super::error::StepError;
use super::recorder::Recorded;
use crate::clerk::client::ClerkClient;
use crate::journal::{Action, Journal, Kind, Outcome};
use crate::mapping::organization::{MappedOrg, OrgPayload, map_organization};
use crate::plan::DomainState;
use crate::plan::schema::OrganizationsOptions;
use crate::script::Script;
use crate::workos::client::WorkosClient;
use ferry_wire::clerk::model::Organization;
use ferry_wire::workos::model::{CreateOrganization, DomainData, UpdateOrganization};

pub struct OrganizationsStep<'a> {
    pub options: OrganizationsOptions,
    pub script: Option<&'a Script>,
    pub ctx: Value,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
}

/// Sends every Clerk organization, oldest first.
pub async fn read_organizations(
    clerk: &ClerkClient,
    tx: mpsc::Sender<Organization>,
) -> Result<u64, StepError> {
    let organizations = clerk
        .all_organizations()
        .await
        .map_err(crate::source::read::SourceError::from)?;
    let count = organizations.len() as u64;
    for organization in organizations {
        if tx.send(organization).await.is_err() {
            break;
        }
    }
    Ok(count)
}

impl OrganizationsStep<'_> {
    fn domain_data(&self, payload: &OrgPayload) -> Option<Vec<DomainData>> {
        let state = match self.options.domain_state.unwrap_or(DomainState::Verified) {
            DomainState::Verified => "verified",
            DomainState::Pending => "pending",
        };
        (!payload.domains.is_empty()).then(|| {
            payload
                .domains
                .iter()
                .map(|domain| DomainData {
                    domain: domain.clone(),
                    state: state.into(),
                })
                .collect()
        })
    }

    pub async fn write(&self, org: &Organization) -> Vec<Recorded> {
        let outcome = |action, target_id, reason: Option<String>, fingerprint| Recorded {
            outcome: Outcome {
                kind: Kind::Organization,
                source_id: org.id.clone(),
                target_id,
                action,
                attempts: 1,
                reason,
                fingerprint,
            },
            email: None,
            advances: true,
            password_reset: None,
        };
        let payload = match map_organization(org, &self.options, self.script, &self.ctx) {
            MappedOrg::Ready(payload) => payload,
            MappedOrg::Skip(reason) => {
                return vec![outcome(Action::Skipped, None, Some(reason), None)];
            }
            MappedOrg::Reject(reason) => {
                return vec![outcome(Action::Rejected, None, Some(reason), None)];
            }
        };
        let fingerprint = payload.fingerprint();
        let previous = self
            .journal
            .lock()
            .expect("journal lock")
            .record(Kind::Organization, &org.id)
            .ok()
            .flatten()
            .filter(|p| p.action.wrote_target());
        let result = match previous {
            Some(p) if p.fingerprint.as_deref() == Some(fingerprint.as_str()) => {
                Ok((Action::Unchanged, p.target_id))
            }
            Some(p) => match p.target_id {
                Some(id) => self
                    .update(&id, &payload)
                    .await
                    .map(|id| (Action::Updated, Some(id))),
                None => self.create(&payload).await,
            },
            None => self.create(&payload).await,
        };
        vec![match result {
            Ok((action, target)) => outcome(action, target, None, Some(fingerprint)),
            Err(reason) => outcome(Action::Failed, None, Some(reason), None),
        }]
    }

    async fn create(&self, payload: &OrgPayload) -> Result<(Action, Option<String>), String> {
        let body = CreateOrganization {
            name: payload.name.clone(),
            domain_data: self.domain_data(payload),
            external_id: Some(payload.external_id.clone()),
            metadata: crate::mapping::metadata::to_body(&payload.metadata),
        };
        match self.workos.create_organization(&body).await {
            Ok(created) => Ok((Action::Created, Some(created.id))),
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
                        format!(
                            "{}, but no organization has that external_id",
                            error.reason()
                        )
                    })?;
                let unchanged =
                    existing.name == payload.name && existing.metadata == payload.metadata;
                if unchanged {
                    Ok((Action::Adopted, Some(existing.id)))
                } else {
                    self.update(&existing.id, payload)
                        .await
                        .map(|id| (Action::Adopted, Some(id)))
                }
            }
            Err(error) => Err(error.reason()),
        }
    }

    async fn update(&self, id: &str, payload: &OrgPayload) -> Result<String, String> {
        let body = UpdateOrganization {
            name: Some(payload.name.clone()),
            domain_data: self.domain_data(payload),
            external_id: Some(payload.external_id.clone()),
            metadata: crate::mapping::metadata::to_body(&payload.metadata),
        };
        self.workos
            .update_organization(id, &body)
            .await
            .map(|org| org.id)
            .map_err(|e| e.reason())
    }
}
