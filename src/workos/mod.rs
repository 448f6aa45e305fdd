//! WorkOS, the target: the API's object types (shared by the client and the
//! sandbox's imitation) and the client ferry writes through.

pub mod client;
pub mod model;

pub use client::{MembershipFilter, WorkosClient, WorkosError};
