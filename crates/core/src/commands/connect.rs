//! The API clients a plan asks for, built from its settings, and the pacing
//! settings derived from it. A missing secret is a [`MissingSetting`] that
//! names the key of the plan to fill.

use crate::clerk::client::ClerkClient;
use crate::error::{MissingSetting, Result};
use crate::journal::binding::Identity;
use crate::plan::Plan;
use crate::support::cancel::Cancel;
use crate::workos::client::WorkosClient;

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
            plan.pacing.retry,
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
        WorkosClient::new(&target.api_url, key, &target.limits, plan.pacing.retry)?
            .with_cancel(cancel.clone()),
    )
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
