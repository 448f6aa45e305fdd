//! The connections step: every Clerk enterprise connection (SAML and OIDC)
//! to one WorkOS SSO connection in the organization ferry made for its
//! Clerk organization, keyed by `external_id` = the Clerk connection id.
//!
//! WorkOS's create returns the connection of the same organization that
//! already carries the external_id, so a create is safe to repeat: a lost
//! answer, a killed run or a journal that lost its row all end with one
//! connection. Whether that connection is ferry's (undo deletes it) or was
//! there before ferry worked on this target (adopted, undo keeps it) is
//! told by when WorkOS says it was made.
//!
//! What cannot be created (inactive, no organization, an organization not
//! migrated, SAML without the IdP's values, OIDC without a client secret)
//! is journaled as skipped with its reason and handed off; so are SCIM
//! directories, which WorkOS's API cannot create ([`handoff`]). The step
//! also lists the SSO users (users with an enterprise account) and flags
//! those WorkOS would not link.

pub mod decide;
pub mod handoff;
pub mod retire;
pub mod stage;
mod verify;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::StepError;
use super::recorder::Recorded;
use crate::clerk::client::ClerkClient;
use crate::http::listing::Incomplete;
use crate::journal::{Action, Journal, Kind, RecordState};
use crate::mapping::connection::{
    ConnectionPayload, ConnectionSource, ConnectionView, MappedConnection, Protocol, map_connection,
};
use crate::plan::{AcsPolicy, ConnectionSettings};
use crate::report::outcome::{Planned, PlannedAction, planned_change};
use crate::script::Script;
use crate::support::reason::{Reason, ReasonCode};
use crate::workos::client::WorkosClient;
use decide::{Decision, Found, Written, decide};
use ferry_wire::clerk::model::Organization;
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection, ScimDirectory};
use ferry_wire::secret::Secret;
use ferry_wire::workos::sso::{
    AttributeMaps, Connection, CreateConnection, OidcOptions, SamlOptions, StandardAttributes,
    UpdateConnection,
};
use handoff::{Fate, HandoffRow};

/// What Clerk says of enterprise sign-in, read once before the step.
#[derive(Debug, Default)]
pub struct ClerkSso {
    pub connections: Vec<EnterpriseConnection>,
    /// Why the connections listing did not prove complete, when it did not.
    pub incomplete: Option<Incomplete>,
    /// The legacy SAML connections (their certificates), by id.
    pub saml: HashMap<String, SamlConnection>,
    pub directories: Vec<ScimDirectory>,
    /// Clerk organizations by id (their slugs key the plan's secrets).
    pub organizations: HashMap<String, Organization>,
}

impl ClerkSso {
    /// Reads the connections, the SAML details behind each, the SCIM
    /// directories and the organizations.
    pub async fn read(clerk: &ClerkClient) -> Result<Self, StepError> {
        let source = |e| StepError::from(crate::source::read::SourceError::from(e));
        let listed = clerk
            .enterprise_connections_listing()
            .await
            .map_err(source)?;
        let mut saml = HashMap::new();
        for connection in &listed.items {
            if let Some(id) = connection.saml_connection.as_ref().map(|s| s.id.clone())
                && let Some(details) = clerk.saml_connection(&id).await.map_err(source)?
            {
                saml.insert(id, details);
            }
        }
        let organizations = clerk
            .all_organizations()
            .await
            .map_err(source)?
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        Ok(Self {
            connections: listed.items,
            incomplete: listed.incomplete,
            saml,
            directories: clerk.all_scim_directories().await.map_err(source)?,
            organizations,
        })
    }

    /// The view of one connection (what the hook and the handoff see).
    pub fn view(&self, connection: &EnterpriseConnection) -> ConnectionView {
        let saml = connection
            .saml_connection
            .as_ref()
            .and_then(|s| self.saml.get(&s.id));
        let organization_slug = connection
            .organization_id
            .as_ref()
            .and_then(|id| self.organizations.get(id))
            .map(|o| o.slug.as_str());
        ConnectionView::of(&ConnectionSource {
            connection,
            saml,
            organization_slug,
        })
    }

    /// The enterprise connection an SSO account names: by its id, or by
    /// the id of the SAML connection behind it (older `saml_accounts`).
    pub fn connection_named(&self, id: &str) -> Option<&EnterpriseConnection> {
        self.connections
            .iter()
            .find(|c| c.id == id || c.saml_connection.as_ref().is_some_and(|s| s.id == id))
    }
}

pub struct ConnectionsStep<'a> {
    pub settings: &'a ConnectionSettings,
    pub script: Option<&'a Script>,
    pub ctx: Value,
    pub workos: &'a WorkosClient,
    pub journal: &'a Mutex<Journal>,
    pub clerk: &'a ClerkSso,
    /// Look at each written connection in WorkOS before believing the
    /// journal (one about to be updated is always looked at).
    pub reconcile: bool,
    /// When ferry began working on this target (the journal's first run):
    /// a connection WorkOS made earlier was not ferry's.
    pub since: Option<DateTime<Utc>>,
    /// The plan file's name, for the `ferry portal-link` commands the
    /// handoff names.
    pub plan_file: String,
    /// The handoff rows of the connections written so far.
    pub handoff: Mutex<Vec<HandoffRow>>,
}

/// Why a connection is not sent: not created (journaled as skipped and
/// handed off), or rejected by the hook.
enum NotSent {
    Skipped(Reason),
    Rejected(Reason),
}

/// A connection ready to send, and what it needs beside its payload.
struct Ready {
    payload: ConnectionPayload,
    secret: Option<Secret>,
    acs: AcsPolicy,
    organization_id: String,
}

impl ConnectionsStep<'_> {
    /// The journal's record of a connection, when ferry wrote it.
    fn written(&self, clerk_id: &str) -> Option<RecordState> {
        let journal = self.journal.lock().expect("journal lock");
        journal.written(Kind::Connection, clerk_id)
    }

    /// The WorkOS organization ferry made for a Clerk organization.
    pub fn workos_organization(&self, clerk_id: &str) -> Option<String> {
        let journal = self.journal.lock().expect("journal lock");
        journal.written_id(Kind::Organization, clerk_id)
    }

    /// The connection mapped and placed, or why it is not created.
    fn prepare(&self, view: &ConnectionView) -> Result<Ready, NotSent> {
        let (payload, secret, acs) =
            match map_connection(view, self.settings, self.script, &self.ctx) {
                MappedConnection::Ready {
                    payload,
                    secret,
                    acs,
                } => (*payload, secret, acs),
                MappedConnection::NotCreated(reason) | MappedConnection::Skip(reason) => {
                    return Err(NotSent::Skipped(reason));
                }
                MappedConnection::Reject(reason) => return Err(NotSent::Rejected(reason)),
            };
        let clerk_organization = view.organization_id.clone().unwrap_or_default();
        let Some(organization_id) = self.workos_organization(&clerk_organization) else {
            return Err(NotSent::Skipped(Reason::new(
                ReasonCode::OrganizationNotMigrated,
                format!(
                    "its organization {clerk_organization} was not migrated (skipped, rejected, failed, or not in the plan)"
                ),
            )));
        };
        Ok(Ready {
            payload,
            secret,
            acs,
            organization_id,
        })
    }

    /// What a run would do with one connection (`ferry plan`), and why.
    pub fn preview(&self, connection: &EnterpriseConnection) -> Planned {
        let planned = |action, reason: Option<Reason>| Planned {
            clerk_id: connection.id.clone(),
            email: None,
            action,
            reason,
            notes: Vec::new(),
            enrolls_totp: false,
        };
        let ready = match self.prepare(&self.clerk.view(connection)) {
            Ok(ready) => ready,
            Err(NotSent::Skipped(reason)) => return planned(PlannedAction::Skip, Some(reason)),
            Err(NotSent::Rejected(reason)) => return planned(PlannedAction::Reject, Some(reason)),
        };
        let fingerprint = ready.payload.fingerprint();
        match planned_change(self.written(&connection.id).as_ref(), &fingerprint) {
            Some((action, reason)) => planned(action, reason),
            None => planned(PlannedAction::Create, None),
        }
    }

    pub async fn write(&self, connection: &EnterpriseConnection) -> Vec<Recorded> {
        let view = self.clerk.view(connection);
        let record = |action, target_id, reason, fingerprint| {
            Recorded::attempted(
                Kind::Connection,
                &connection.id,
                action,
                target_id,
                reason,
                fingerprint,
                true,
            )
        };
        let ready = match self.prepare(&view) {
            Ok(ready) => ready,
            Err(NotSent::Skipped(reason)) => {
                self.hand_off(&view, &Fate::NotCreated(&reason));
                return vec![record(Action::Skipped, None, Some(reason), None)];
            }
            Err(NotSent::Rejected(reason)) => {
                self.hand_off(&view, &Fate::NotCreated(&reason));
                return vec![record(Action::Rejected, None, Some(reason), None)];
            }
        };
        let fingerprint = ready.payload.fingerprint();
        let written = self.written(&connection.id).and_then(|r| {
            Some(Written {
                target_id: r.target_id?,
                fingerprint: r.fingerprint,
            })
        });
        // The journal's connection is looked at before anything is sent to
        // it (an update), and every time under --reconcile: its id is only
        // believed while WorkOS shows it in this organization.
        let look = |w: &Written| self.reconcile || w.fingerprint.as_deref() != Some(&fingerprint);
        let found = match written.as_ref().filter(|w| look(w)) {
            Some(written) => match self.workos.connection(&written.target_id).await {
                Ok(Some(now)) if now.organization_id.as_deref() == Some(&ready.organization_id) => {
                    Found::InPlace
                }
                Ok(_) => Found::Elsewhere,
                Err(error) => {
                    return vec![record(Action::Failed, None, Some(error.reason()), None)];
                }
            },
            None => Found::NotAsked,
        };
        let result = match decide(written.as_ref(), found, &fingerprint) {
            Decision::Unchanged { target_id } => Ok((Action::Unchanged, target_id, None)),
            Decision::Update { target_id } => self
                .update(&target_id, &ready.payload)
                .await
                .map(|id| (Action::Updated, id, None)),
            Decision::Create => self.create(&ready).await.map(|(action, id)| {
                let note = (found == Found::Elsewhere).then(|| {
                    Reason::new(
                        ReasonCode::TargetGone,
                        "the journal's WorkOS connection was gone or in another organization",
                    )
                });
                (action, id, note)
            }),
        };
        match result {
            Ok((action, target_id, note)) => {
                self.hand_off(
                    &view,
                    &Fate::InWorkos {
                        connection_id: &target_id,
                        workos_organization: &ready.organization_id,
                        sp_changes: ready.acs == AcsPolicy::Workos,
                    },
                );
                vec![record(action, Some(target_id), note, Some(fingerprint))]
            }
            Err(reason) => {
                self.hand_off(&view, &Fate::NotCreated(&reason));
                vec![record(Action::Failed, None, Some(reason), None)]
            }
        }
    }

    fn hand_off(&self, view: &ConnectionView, fate: &Fate<'_>) {
        let rows =
            handoff::connection_rows(view, fate, &self.plan_file, Utc::now().timestamp_millis());
        self.handoff.lock().expect("handoff lock").extend(rows);
    }

    /// Creates the connection, or is answered with the one of this
    /// organization that already carries its external_id. An answer in
    /// another organization is not believed.
    async fn create(&self, ready: &Ready) -> Result<(Action, String), Reason> {
        let body = create_body(ready);
        let answer = self
            .workos
            .create_connection(&body)
            .await
            .map_err(|e| e.reason())?;
        if answer.organization_id.as_deref() != Some(&ready.organization_id) {
            return Err(Reason::new(
                ReasonCode::AmbiguousCreateAnswer,
                format!(
                    "WorkOS answered the create with connection {} of organization {}, not {}",
                    answer.id,
                    answer.organization_id.as_deref().unwrap_or("(none)"),
                    ready.organization_id
                ),
            ));
        }
        Ok((self.whose(&answer), answer.id))
    }

    /// Created, when WorkOS made it since ferry began working on this
    /// target; adopted (undo keeps it), when it was there before.
    fn whose(&self, answer: &Connection) -> Action {
        let made =
            DateTime::parse_from_rfc3339(&answer.created_at).map(|at| at.with_timezone(&Utc));
        match (made, self.since) {
            (Ok(made), Some(since)) if made < since => Action::Adopted,
            (Ok(_), _) => Action::Created,
            (Err(_), _) => Action::Adopted,
        }
    }

    async fn update(&self, id: &str, payload: &ConnectionPayload) -> Result<String, Reason> {
        let body = UpdateConnection {
            name: Some(payload.name.clone()),
            attribute_maps: attribute_maps(payload),
            saml_options: match &payload.protocol {
                Protocol::Saml(saml) => Some(saml_options(saml)),
                Protocol::Oidc { .. } => None,
            },
        };
        self.workos
            .update_connection(id, &body)
            .await
            .map(|c| c.id)
            .map_err(|e| e.reason())
    }
}

fn saml_options(saml: &crate::mapping::connection::SamlPayload) -> SamlOptions {
    SamlOptions {
        idp_metadata_url: saml.idp_metadata_url.clone(),
        idp_entity_id: saml.idp_entity_id.clone(),
        idp_sso_url: saml.idp_sso_url.clone(),
        idp_signing_certs: (!saml.idp_signing_certs.is_empty())
            .then(|| saml.idp_signing_certs.clone()),
        acs_url: saml.acs_url.clone(),
        sp_entity_id: saml.sp_entity_id.clone(),
    }
}

/// The payload's attribute mapping as WorkOS takes it; none when Clerk had none.
fn attribute_maps(payload: &ConnectionPayload) -> Option<AttributeMaps> {
    let field = |name: &str| payload.attributes.get(name).cloned();
    (!payload.attributes.is_empty()).then(|| AttributeMaps {
        standard_attributes: Some(StandardAttributes {
            idp_id: field("idp_id"),
            email: field("email"),
            first_name: field("first_name"),
            last_name: field("last_name"),
        }),
    })
}

fn create_body(ready: &Ready) -> CreateConnection {
    let (connection_type, saml, oidc) = match &ready.payload.protocol {
        Protocol::Saml(saml) => ("GenericSAML", Some(saml_options(saml)), None),
        Protocol::Oidc {
            discovery_endpoint,
            client_id,
            pkce,
        } => (
            "GenericOIDC",
            None,
            Some(OidcOptions {
                discovery_endpoint: discovery_endpoint.clone(),
                client_id: client_id.clone(),
                client_secret: ready.secret.clone(),
                pkce: Some(*pkce),
            }),
        ),
    };
    CreateConnection {
        organization_id: ready.organization_id.clone(),
        name: Some(ready.payload.name.clone()),
        external_id: Some(ready.payload.external_id.clone()),
        connection_type: Some(connection_type.into()),
        attribute_maps: attribute_maps(&ready.payload),
        saml_options: saml,
        oidc_options: oidc,
    }
}
