//! WorkOS, the target: the API's request and response types.

pub mod model;
