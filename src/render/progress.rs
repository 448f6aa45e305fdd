//! Progress while a step works. On a terminal: an indicatif bar with the
//! count, rate and ETA (a spinner with a count until the total is known).
//! Otherwise: one plain line every few seconds, so a CI log or a nohup file
//! shows a long step moving.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferry_core::observe::{Event, Observer};
use indicatif::{ProgressBar, ProgressStyle};

use crate::output::thousands;

/// How often the plain form prints a line.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    state: Mutex<State>,
    terminal: bool,
}

#[derive(Default)]
struct State {
    bar: Option<ProgressBar>,
    step: String,
    done: u64,
    total: Option<u64>,
    started: Option<Instant>,
    last_line: Option<Instant>,
}

impl Progress {
    pub fn on_stderr() -> Self {
        Self {
            state: Mutex::new(State::default()),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn bar(&self, step: &str) -> Option<ProgressBar> {
        if !self.terminal {
            return None;
        }
        let bar = ProgressBar::new_spinner();
        let template = format!("{step:>14} {{spinner}} {{pos}} {{per_sec}} {{elapsed}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }
}

fn bar_with_total(bar: &ProgressBar, step: &str, total: u64) {
    bar.set_length(total);
    let template =
        format!("{step:>14} [{{bar:32}}] {{pos}}/{{len}} {{per_sec}} {{elapsed}} ETA {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
}

impl State {
    fn plain_line(&mut self) {
        let now = Instant::now();
        let due = self
            .last_line
            .or(self.started)
            .is_some_and(|last| now.duration_since(last) >= PLAIN_EVERY);
        if !due {
            return;
        }
        self.last_line = Some(now);
        let elapsed = self
            .started
            .map_or(0.0, |s| now.duration_since(s).as_secs_f64());
        let rate = if elapsed > 0.0 {
            self.done as f64 / elapsed
        } else {
            0.0
        };
        let of = match self.total {
            Some(total) if total > 0 => format!(
                " of {} ({:.0}%)",
                thousands(total),
                100.0 * self.done as f64 / total as f64
            ),
            _ => String::new(),
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{}: {}{of}, {rate:.0}/s, {elapsed:.0} s",
            self.step,
            thousands(self.done)
        );
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event<'_>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::StepStarted { step } => {
                *state = State {
                    bar: self.bar(step),
                    step: (*step).to_owned(),
                    started: Some(Instant::now()),
                    ..State::default()
                };
            }
            Event::Total { step, total } => {
                state.total = Some(*total);
                if let Some(bar) = &state.bar {
                    bar_with_total(bar, step, *total);
                }
            }
            Event::Record { advances: true, .. } | Event::Planned { .. } => {
                state.done += 1;
                match &state.bar {
                    Some(bar) => bar.inc(1),
                    None => state.plain_line(),
                }
            }
            Event::Record {
                advances: false, ..
            } => {}
            Event::StepFinished { .. } => {
                if let Some(bar) = state.bar.take() {
                    bar.finish_and_clear();
                }
            }
            Event::Stopping => {
                let message = "stopping: finishing the requests in flight (Ctrl-C again to force)";
                match &state.bar {
                    Some(bar) => bar.println(message),
                    None => eprintln!("\n{message}"),
                }
            }
            Event::RunStarted { .. } | Event::Warning { .. } | Event::Preflight { .. } => {}
        }
    }
}
