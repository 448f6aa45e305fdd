//! The target side of a run, beside the steps that write to it: the
//! preflight that reads both APIs before anything is written, the webhook
//! endpoints paused around a run's writes, and the reconcile listings that
//! check the journal against what WorkOS holds.

pub mod preflight;
pub mod reconcile;
pub mod webhooks;
