//! ferry's engine: everything a migration needs except the command line and
//! its rendering.
//!
//! Data flows one way: the plan (`plan`, `script`) says what to do; the source
//! (`clerk`, `source`) is read; `mapping` turns each record into what the
//! target should hold; the target client (`http`, `workos`) writes it; the
//! `journal` records what was confirmed; `steps` and the run `engine` drive
//! that loop and tell an [`engine::Observer`] what happens; `report` is the
//! model of what a run came to. Nothing here knows clap, axum or indicatif:
//! the `ferry` binary parses arguments and renders events, and the sandbox
//! is a separate crate.

pub mod cancel;
pub mod checksum;
pub mod clerk;
pub mod connect;
pub mod diagnostic;
pub mod engine;
pub mod error;
pub mod history;
pub mod hook_reference;
pub mod http;
pub mod journal;
pub mod kind;
pub mod mapping;
pub mod observe;
pub mod packed;
pub mod plan;
pub mod preflight;
pub mod project;
pub mod reconcile;
pub mod report;
pub mod script;
pub mod script_cases;
pub mod source;
pub mod steps;
pub mod sync;
pub mod undo;
pub mod webhooks;
pub mod workos;
