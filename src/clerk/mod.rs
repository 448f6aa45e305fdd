//! Clerk, the source: the Backend API's object types that the Clerk client
//! and the sandbox's Clerk imitation share.

pub mod model;
