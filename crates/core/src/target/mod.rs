//! The target side of a run, beside the steps that write to it: the
//! preflight that reads both APIs before anything is written, the webhook
//! endpoints paused around a run's writes, the reconcile listings that
//! check the journal against what WorkOS holds, and WorkOS's record of
//! changes that spares a sync those listings where nothing changed.

pub mod changes;
pub mod preflight;
pub mod reconcile;
pub mod webhooks;
