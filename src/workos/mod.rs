//! WorkOS, the target: the API's object, request and error types that the
//! WorkOS client and the sandbox's WorkOS imitation share.

pub mod model;
