//! The Rhai script that customises mapping and conflict decisions.
//!
//! A [`Script`] is compiled once per run: one engine, one AST, the script's
//! top-level statements evaluated once and their constants kept. Hooks are
//! then called per record from any tokio task. The engine is sandboxed (no
//! `eval`, no file, network or process access, limits on operations, time,
//! call depth and sizes) so a script bug costs one record, never the run.

mod convert;
mod engine;
mod error;
mod hook;

pub use engine::{HookAnswer, Limits, Script};
pub use error::ScriptError;
pub use hook::Hook;
