//! The users step: every Clerk user to one WorkOS user, exactly once.
//!
//! - [`decide`]: the pure decision (journal × target × source change × policy);
//! - [`step`]: gathers the facts for one user and applies or previews the decision;
//! - [`seal`]: what lets a rerun skip a user nothing changed for;
//! - [`settled`]: the users settled from their seals, for the memberships
//!   step to decide their memberships before users ends;
//! - [`feed`]: turns the source's stream (users, bad rows, deleted users)
//!   into records, for a run or a preview.

pub mod decide;
pub mod feed;
pub mod probe;
pub mod retire;
pub mod seal;
pub mod settled;
pub mod stage;
pub mod step;
mod verify;

pub use step::{Mode, UsersStep};
