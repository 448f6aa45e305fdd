//! The users step: every Clerk user to one WorkOS user, exactly once.
//!
//! - [`decide`]: the pure decision (journal × target × source change × policy);
//! - [`step`]: gathers the facts for one user and applies or previews the decision;
//! - [`feed`]: turns the source's stream (users, bad rows, deleted users)
//!   into records, for a run or a preview.

pub mod decide;
pub mod feed;
pub mod step;

pub use step::{Mode, UsersStep};
