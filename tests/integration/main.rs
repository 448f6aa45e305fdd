//! ferry's integration tests: the real `ferry` binary (assert_cmd) and the
//! real library against real components: files on disk, the in-process
//! sandbox servers over loopback HTTP, a real SQLite journal.

mod architecture;
mod common;
mod completions;
mod engine;
mod hooks;
mod init;
mod listings;
mod proof;
mod reasons;
mod sandbox;
mod script_limits;
mod sdk_rust;
mod terminal;
mod test_command;
mod users;
mod validate;
