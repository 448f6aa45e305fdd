//! WorkOS, the target: the API's request and response types.

pub mod events;
pub mod invitation;
pub mod model;
pub mod sso;
