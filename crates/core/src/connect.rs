//! The API clients a plan asks for, built from its settings, and the pacing
//! settings derived from it. A missing secret is a [`MissingSetting`] that
//! names the key of the plan to fill.

use crate::cancel::Cancel;
use crate::clerk::client::ClerkClient;
use crate::error::{MissingSetting, Result};
use crate::http::RetryPolicy;
use crate::journal::binding::Identity;
use crate::plan::Plan;
use crate::workos::client::WorkosClient;

/// The retry policy for a plan: the `users` step's `max_attempts`, or the default.
pub fn retry_policy(plan: &Plan) -> RetryPolicy {
    let defaults = RetryPolicy::default();
    let users = plan.users();
    RetryPolicy {
        max_attempts: users
            .and_then(|options| options.max_attempts)
            .unwrap_or(defaults.max_attempts)
            .max(1),
        max_wait: users
            .and_then(|options| options.max_wait_secs)
            .map_or(defaults.max_wait, std::time::Duration::from_secs),
        ..defaults
    }
}

/// The Clerk client, when the plan gives a secret key; `cancel` ends its waits.
pub fn clerk(plan: &Plan, cancel: &Cancel) -> Result<Option<ClerkClient>> {
    let source = &plan.source;
    let Some(key) = source.secret_key.clone().filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(
        ClerkClient::new(
            &source.api_url,
            key,
            source.requests_per_10s,
            retry_policy(plan),
        )?
        .with_cancel(cancel.clone()),
    ))
}

/// The WorkOS client; the plan must have `target.workos.api_key`.
pub fn workos(plan: &Plan, cancel: &Cancel) -> Result<WorkosClient> {
    let missing = |key| MissingSetting::Key {
        plan: plan.path.clone(),
        key,
    };
    let target = plan.target.as_ref().ok_or(missing("target.workos"))?;
    let key = target
        .api_key
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or(missing("target.workos.api_key"))?;
    Ok(
        WorkosClient::new(&target.api_url, key, &target.limits, retry_policy(plan))?
            .with_cancel(cancel.clone()),
    )
}

/// Requests in flight for the users step: enough to keep the write bucket
/// busy at up to two seconds of latency, unless the plan says otherwise.
pub fn concurrency(plan: &Plan) -> usize {
    let configured = plan.users().and_then(|options| options.concurrency);
    let writes_per_second = plan
        .target
        .as_ref()
        .map_or(50.0, |t| f64::from(t.limits.writes_per_10s) / 10.0);
    configured
        .map(|c| c as usize)
        .unwrap_or_else(|| (writes_per_second * 2.0).ceil() as usize)
        .clamp(1, 512)
}

/// The identities a journal is bound to: the Clerk source, and the WorkOS
/// target when the plan has one.
pub fn identities(plan: &Plan) -> (Identity, Option<Identity>) {
    let source = Identity::new(
        "source",
        &plan.source.api_url,
        None,
        plan.source.secret_key.as_ref(),
    );
    let target = plan.target.as_ref().map(|target| {
        Identity::new(
            "target",
            &target.api_url,
            target.client_id.as_deref(),
            target.api_key.as_ref(),
        )
    });
    (source, target)
}
