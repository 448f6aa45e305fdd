//! The migration steps' logic, one module each, and the loop that feeds
//! records through a step ([`pump`]) into the journal ([`recorder`]).
//!
//! A step here decides and acts on records; it does not know which run it
//! is part of, how it is rendered or in which order the plan puts it: the
//! run engine (`engine`) does that through its one step interface.

pub mod assess;
pub mod ended;
pub mod error;
pub mod memberships;
pub mod mfa_report;
pub mod organizations;
pub mod pump;
pub mod recorder;
pub mod roles;
pub mod seal;
pub mod seen;
pub mod users;
pub mod verify;

pub use error::StepError;
