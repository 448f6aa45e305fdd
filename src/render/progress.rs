//! Progress while steps work (several at once when steps overlap). On a
//! terminal: an indicatif bar per step with the count, rate and ETA (a
//! spinner with a count until the total is known).
//! Otherwise: one plain line every few seconds, so a CI log or a nohup file
//! shows a long step moving.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferry_core::observe::{Event, Observer};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::output::thousands;

/// How often the plain form prints a line.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    /// The steps under way: several at once when steps overlap.
    steps: Mutex<Vec<State>>,
    bars: Option<MultiProgress>,
}

struct State {
    bar: Option<ProgressBar>,
    step: String,
    done: u64,
    total: Option<u64>,
    started: Instant,
    last_line: Option<Instant>,
}

impl Progress {
    pub fn on_stderr() -> Self {
        Self {
            steps: Mutex::new(Vec::new()),
            bars: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    fn bar(&self, step: &str) -> Option<ProgressBar> {
        let bars = self.bars.as_ref()?;
        let bar = bars.add(ProgressBar::new_spinner());
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
        let last = self.last_line.unwrap_or(self.started);
        if now.duration_since(last) < PLAIN_EVERY {
            return;
        }
        self.last_line = Some(now);
        let elapsed = now.duration_since(self.started).as_secs_f64();
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
        let mut steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let find = |steps: &mut Vec<State>, step: &str| steps.iter().position(|s| s.step == step);
        match event {
            Event::StepStarted { step } => {
                steps.push(State {
                    bar: self.bar(step),
                    step: (*step).to_owned(),
                    done: 0,
                    total: None,
                    started: Instant::now(),
                    last_line: None,
                });
            }
            Event::Total { step, total } => {
                if let Some(at) = find(&mut steps, step) {
                    let state = &mut steps[at];
                    state.total = Some(*total);
                    if let Some(bar) = &state.bar {
                        bar_with_total(bar, step, *total);
                    }
                }
            }
            Event::Record {
                step,
                advances: true,
                ..
            }
            | Event::Planned { step, .. } => {
                if let Some(at) = find(&mut steps, step) {
                    let state = &mut steps[at];
                    state.done += 1;
                    match &state.bar {
                        Some(bar) => bar.inc(1),
                        None => state.plain_line(),
                    }
                }
            }
            Event::Record {
                advances: false, ..
            } => {}
            Event::StepFinished { step, .. } => {
                if let Some(at) = find(&mut steps, step) {
                    let state = steps.remove(at);
                    if let Some(bar) = state.bar {
                        bar.finish_and_clear();
                    }
                }
            }
            Event::Stopping => {
                let message = "stopping: finishing the requests in flight (Ctrl-C again to force)";
                match &self.bars {
                    Some(bars) => {
                        let _ = bars.println(message);
                    }
                    None => eprintln!("\n{message}"),
                }
            }
            Event::RunStarted { .. } | Event::Warning { .. } | Event::Preflight { .. } => {}
        }
    }
}
