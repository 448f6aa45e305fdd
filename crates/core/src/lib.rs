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

// Layer by layer, bottom up (tests/integration/architecture.rs holds
// the table and fails on an arrow that points up).
pub mod support;

pub mod plan;
pub mod script;

pub mod http;
pub mod journal;

pub mod clerk;
pub mod workos;

pub mod mapping;
pub mod report;
pub mod source;

pub mod target;

pub mod observe;
pub mod steps;

pub mod commands;
pub mod error;
pub mod sync;
pub mod undo;
pub mod watch;

pub mod engine;
