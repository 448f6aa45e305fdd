//! What ferry and its sandbox both speak: the object models of Clerk's
//! Backend API and of the WorkOS API, the readers of Clerk's Dashboard CSV and
//! older JSON exports, [`secret::Secret`], the string that never prints, and
//! [`files`], the one way both write files (owner-only, whole, safely named).
//!
//! It exists so that the sandbox can imitate the APIs without depending on
//! ferry's engine, and the engine can talk to the APIs without depending on
//! the imitation: both depend on this crate, never on each other. It holds
//! data types, parsers and the file-writing rules only: no HTTP, no policy.

pub mod clerk;
pub mod files;
pub mod inert;
pub mod redact;
pub mod secret;
pub mod workos;
