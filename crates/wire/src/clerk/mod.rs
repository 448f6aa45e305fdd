//! Clerk, the source: the Backend API's object types and the Dashboard
//! exports (CSV, and the older support-ticket JSON).

pub mod export;
pub mod invitation;
pub mod legacy;
pub mod model;
pub mod sso;
