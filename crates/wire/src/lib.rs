//! What ferry and its sandbox both speak: the object models of Clerk's
//! Backend API and of the WorkOS API, the readers of Clerk's Dashboard CSV and
//! older JSON exports, and [`secret::Secret`], the string that never prints.
//!
//! It exists so that the sandbox can imitate the APIs without depending on
//! ferry's engine, and the engine can talk to the APIs without depending on
//! the imitation: both depend on this crate, never on each other. It holds
//! data types and parsers only: no I/O beyond reading a given reader, no
//! HTTP, no policy.

pub mod clerk;
pub mod secret;
pub mod workos;
