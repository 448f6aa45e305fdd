//! Clerk, the source: the Backend API client ferry reads through. The
//! object types and the Dashboard export readers are `ferry_wire::clerk`.

pub mod client;
pub mod error;
