//! Rendering the engine's events for people or programs.
//!
//! - [`progress`]: a bar per step on a terminal, or a plain line every few
//!   seconds when stderr is not one (CI logs, nohup);
//! - [`summary`]: the lines each step leaves on stdout when it ends;
//! - [`json`]: every event as one JSON line, for `--json`.
//!
//! [`for_run`] picks the observer a command gets.

pub mod json;
pub mod progress;
pub mod summary;

use ferry_core::observe::{Event, Observer};

/// The observer of a run: JSON lines, or progress plus summaries.
pub fn for_run(json: bool) -> Box<dyn Observer> {
    if json {
        Box::new(json::JsonLines)
    } else {
        Box::new(People::new())
    }
}

/// Progress on stderr, a summary of each step on stdout.
pub struct People {
    progress: progress::Progress,
    summary: summary::Summaries,
}

impl People {
    pub fn new() -> Self {
        Self {
            progress: progress::Progress::on_stderr(),
            summary: summary::Summaries::stdout(),
        }
    }
}

impl Observer for People {
    fn event(&self, event: &Event<'_>) {
        self.progress.event(event);
        self.progress.suspend(|| self.summary.event(event));
    }
}
