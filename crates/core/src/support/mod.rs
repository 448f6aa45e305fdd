//! Support: small vocabularies every layer may use and none of them owns.
//! Error kinds and exit classes, the plan's checksum, diagnostics with
//! positions, the cancel flag and its stop reasons, and a packed sorted
//! table for large id sets. Nothing here imports another ferry module
//! above it.

pub mod cancel;
pub mod checksum;
pub mod diagnostic;
pub mod kind;
pub mod packed;
pub mod reason;
