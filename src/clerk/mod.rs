//! Clerk, the source: the Backend API's object types (shared by the Clerk
//! client and the sandbox's imitation) and the Dashboard exports.

pub mod client;
pub mod export;
pub mod legacy;
pub mod model;
