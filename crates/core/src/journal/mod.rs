//! The journal: an SQLite file (the plan's `state:`) that makes every run
//! resumable and every rerun cheap.
//!
//! It records runs (plan checksum, revision, times, outcome), the outcome of
//! every record (Clerk id → WorkOS id, action, status, attempts, last error)
//! and per-step bookmarks. An outcome is written only after the API confirmed
//! it. It never holds a password digest, a TOTP secret or an API key: records
//! carry ids, an action, and a fingerprint of the non-secret fields written.
//!
//! One run at a time: [`Journal::open_for_run`] takes an exclusive lock on a
//! `.lock` file beside the database, so a second `ferry run` on the same
//! state is refused while the first is alive, and a crashed run's lock is
//! released by the operating system.

pub mod binding;
mod error;
mod kind;
mod model;
mod open;
mod people;
mod probes;
mod records;
mod runs;
mod schema;
#[cfg(test)]
mod tests;

pub use error::{JournalError, Result};
pub use kind::{Kind, SignsIn};
pub use model::*;
pub use open::Journal;
pub use people::{Counts as PeopleCounts, List, Person};
pub use probes::{ProbeCounts, ProbeUser, RecordedVerdict};
