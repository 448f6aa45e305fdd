//! `--json`: every engine event as one line of JSON on stdout, so a script
//! can follow a run as it happens. The last line a run prints is its
//! `summary` event (written by the command, which knows the exit code).

use std::io::Write;

use ferry_core::observe::{Event, Observer};
use serde::Serialize;

/// Writes each event as a line (stdout's lock keeps lines whole).
pub struct JsonLines;

/// Writes one value as a line of JSON on stdout.
pub fn line(value: &impl Serialize) {
    let Ok(text) = serde_json::to_string(value) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(ferry_wire::redact::redact(&text).as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

impl Observer for JsonLines {
    fn event(&self, event: &Event<'_>) {
        line(event);
    }
}
