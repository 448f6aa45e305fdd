//! The environment's webhook endpoints during a run.
//!
//! Every object a run makes emits a WorkOS event, and each enabled webhook
//! endpoint delivers it to the app: a bulk load can flood an app with
//! hundreds of thousands of `user.created` deliveries. The plan's
//! `target.workos.webhooks` decides:
//! - `warn` (default): the preflight lists the enabled endpoints and the
//!   events the run will emit, and changes nothing;
//! - `pause`: just before the first write (a [`PauseBeforeFirstWrite`]
//!   gate on the run's WorkOS client, so a run that writes nothing pauses
//!   nothing), ferry records in the journal which endpoints are enabled,
//!   then disables them; when the run ends (also after Ctrl-C or a
//!   failure) it enables exactly those again. After a crash, the next
//!   command that opens the journal does it ([`resume_leftover`]), since
//!   the record outlives the process.
//!
//! The record is written before the first endpoint is disabled, so no crash
//! can leave an endpoint disabled that nothing remembers.

use crate::journal::Journal;
use crate::plan::Plan;
use crate::plan::StepKind;
use crate::plan::schema::WebhookPolicy;
use crate::workos::client::{WorkosClient, WorkosError};

/// The journal bookmark that holds the endpoints a run disabled (their ids, JSON).
const PAUSED: &str = "webhooks-paused";

/// Why webhooks could not be paused or enabled again.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook endpoints: {0}")]
    Workos(Box<WorkosError>),
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
}

impl From<WorkosError> for WebhookError {
    fn from(error: WorkosError) -> Self {
        Self::Workos(Box::new(error))
    }
}

impl WebhookError {
    pub fn kind(&self) -> crate::support::kind::ErrorKind {
        match self {
            Self::Workos(_) => crate::support::kind::ErrorKind::Unavailable,
            Self::Journal(error) => error.kind(),
        }
    }
}

/// The events a run of `plan` emits (WorkOS's names), for the preflight.
pub fn events_emitted(plan: &Plan) -> Vec<&'static str> {
    let mut events = Vec::new();
    if plan.has(StepKind::Users) {
        events.extend([
            "user.created",
            "user.updated",
            "authentication_factor.created",
        ]);
    }
    if plan.has(StepKind::Organizations) {
        events.extend(["organization.created", "organization.updated"]);
    }
    if plan.has(StepKind::Roles) {
        events.extend(["role.created", "role.updated"]);
    }
    if plan.has(StepKind::Memberships) {
        events.extend([
            "organization_membership.created",
            "organization_membership.updated",
        ]);
    }
    events
}

/// The ids of the enabled endpoints (what `warn` lists and `pause` disables).
pub async fn enabled(workos: &WorkosClient) -> Result<Vec<String>, WorkosError> {
    Ok(workos
        .webhook_endpoints()
        .await?
        .into_iter()
        .filter(|endpoint| endpoint.is_enabled())
        .map(|endpoint| endpoint.id)
        .collect())
}

/// The plan's webhook policy.
fn policy(plan: &Plan) -> WebhookPolicy {
    plan.target.as_ref().map(|t| t.webhooks).unwrap_or_default()
}

/// With `pause`: records the enabled endpoints, then disables them. Returns
/// the ids disabled (empty under `warn`).
pub async fn pause(
    plan: &Plan,
    journal: &Journal,
    workos: &WorkosClient,
) -> Result<Vec<String>, WebhookError> {
    pause_recording(policy(plan), workos, |ids| {
        journal.set_bookmark(PAUSED, ids)
    })
    .await
}

/// [`pause`], with `record` keeping the ids in the journal before the
/// first endpoint is disabled.
async fn pause_recording(
    policy: WebhookPolicy,
    workos: &WorkosClient,
    record: impl FnOnce(&str) -> Result<(), crate::journal::JournalError>,
) -> Result<Vec<String>, WebhookError> {
    if policy != WebhookPolicy::Pause {
        return Ok(Vec::new());
    }
    let ids = enabled(workos).await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    record(&serde_json::to_string(&ids).unwrap_or_default())?;
    for id in &ids {
        workos.set_webhook_enabled(id, false).await?;
    }
    tracing::info!("paused {} webhook endpoints for the run", ids.len());
    Ok(ids)
}

/// Enables again the endpoints the journal says a run disabled, and forgets
/// them: at the end of the run that paused them, or on the next command
/// after that run crashed. Returns the ids enabled. An endpoint deleted
/// meanwhile is simply gone.
pub async fn resume_leftover(
    journal: &Journal,
    workos: &WorkosClient,
) -> Result<Vec<String>, WebhookError> {
    let Some(stored) = journal.bookmark(PAUSED)? else {
        return Ok(Vec::new());
    };
    // A record that does not parse names nothing ferry could enable.
    let ids: Vec<String> = serde_json::from_str(&stored).unwrap_or_default();
    for id in &ids {
        workos.set_webhook_enabled(id, true).await?;
    }
    journal.clear_bookmark(PAUSED)?;
    if !ids.is_empty() {
        tracing::info!("enabled {} webhook endpoints again", ids.len());
    }
    Ok(ids)
}

/// The gate a run's WorkOS client waits at before its first write: under
/// `pause`, the endpoints are paused there, once. A pause that fails stops
/// the run before anything is written (the run could not keep its promise
/// to pause them).
pub struct PauseBeforeFirstWrite {
    policy: WebhookPolicy,
    /// A connection of the run's journal, for the record of what was paused.
    journal: std::sync::Mutex<Journal>,
    /// A client of its own for the endpoint calls (which are writes too,
    /// and must not wait at this gate).
    workos: WorkosClient,
    cancel: crate::support::cancel::Cancel,
    paused: tokio::sync::OnceCell<Result<(), String>>,
}

impl PauseBeforeFirstWrite {
    pub fn new(
        plan: &Plan,
        journal: Journal,
        workos: WorkosClient,
        cancel: crate::support::cancel::Cancel,
    ) -> Self {
        Self {
            policy: policy(plan),
            journal: std::sync::Mutex::new(journal),
            workos,
            cancel,
            paused: tokio::sync::OnceCell::new(),
        }
    }
}

impl crate::http::client::WriteGate for PauseBeforeFirstWrite {
    fn open(&self) -> futures_util::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.paused
                .get_or_init(|| async {
                    let paused = pause_recording(self.policy, &self.workos, |ids| {
                        self.journal
                            .lock()
                            .expect("journal lock")
                            .set_bookmark(PAUSED, ids)
                    })
                    .await;
                    paused.map(drop).map_err(|error| {
                        let message = format!(
                            "the webhook endpoints could not be paused before the first write ({error}); nothing was written"
                        );
                        self.cancel.stop(crate::support::cancel::Stop::Unavailable {
                            message: message.clone(),
                        });
                        message
                    })
                })
                .await
                .clone()
        })
    }
}
