//! Progress while steps work (several at once when steps overlap). On a
//! terminal: an indicatif bar per step with the count, a whole-number
//! rate, the elapsed time and the ETA (a spinner with a count until the
//! total is known).
//! Otherwise: one plain line per running step every few seconds, printed
//! by a clock of its own, so a CI log or a nohup file shows a long step
//! moving even while no record ends (a slow listing, a long wait).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_core::observe::{Event, Observer};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::output::thousands;

/// How often the plain form prints a line.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    /// The steps under way: several at once when steps overlap.
    steps: Arc<Mutex<Vec<State>>>,
    bars: Option<MultiProgress>,
    /// Ends the plain form's clock.
    stop: Arc<AtomicBool>,
}

struct State {
    bar: Option<ProgressBar>,
    step: String,
    done: u64,
    total: Option<u64>,
    started: Instant,
    /// When the plain form last printed this step (its start, at first).
    last_line: Instant,
}

impl Progress {
    pub fn on_stderr() -> Self {
        let terminal = std::io::stderr().is_terminal();
        let progress = Self {
            steps: Arc::new(Mutex::new(Vec::new())),
            bars: terminal.then(MultiProgress::new),
            stop: Arc::new(AtomicBool::new(false)),
        };
        if !terminal {
            let (steps, stop) = (progress.steps.clone(), progress.stop.clone());
            // A plain clock: whatever the engine is waiting on, a line
            // comes every PLAIN_EVERY while a step runs.
            let _ = std::thread::Builder::new()
                .name("ferry-progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        let mut steps = steps.lock().unwrap_or_else(|p| p.into_inner());
                        for state in steps.iter_mut() {
                            state.plain_line();
                        }
                    }
                });
        }
        progress
    }

    /// Runs `print` with the bars taken off the screen and drawn again
    /// after it, so what it prints (to stdout or stderr) is left once in
    /// the scrollback, never with a copy of the bars.
    pub fn suspend<T>(&self, print: impl FnOnce() -> T) -> T {
        match &self.bars {
            Some(bars) => bars.suspend(print),
            None => print(),
        }
    }

    /// A step under way from now, with its spinner on a terminal.
    fn start(&self, step: &str) -> State {
        let now = Instant::now();
        State {
            bar: self.bar(step),
            step: step.to_owned(),
            done: 0,
            total: None,
            started: now,
            last_line: now,
        }
    }

    fn bar(&self, step: &str) -> Option<ProgressBar> {
        let bars = self.bars.as_ref()?;
        let bar = bars.add(ProgressBar::new_spinner());
        let template = format!("{step:>14} {{spinner}} {{pos}} {{rate}} {{elapsed}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(with_rate(style));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How often the plain clock looks at the steps.
const TICK: Duration = Duration::from_millis(250);

/// `{rate}`: records a second as a whole number (indicatif's own
/// `{per_sec}` prints four decimals).
fn with_rate(style: ProgressStyle) -> ProgressStyle {
    style.with_key(
        "rate",
        |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = write!(out, "{}/s", thousands(state.per_sec().round() as u64));
        },
    )
}

fn bar_with_total(bar: &ProgressBar, step: &str, total: u64) {
    bar.set_length(total);
    let template =
        format!("{step:>14} [{{bar:32}}] {{pos}}/{{len}} {{rate}} {{elapsed}} ETA {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(with_rate(style).progress_chars("=> "));
    }
}

impl State {
    /// The plain form's line for this step, once every [`PLAIN_EVERY`].
    fn plain_line(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_line) < PLAIN_EVERY {
            return;
        }
        self.last_line = now;
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
        let _ = if self.done == 0 && self.total.is_none() {
            // Nothing counted yet (reading, or waiting on an earlier step).
            writeln!(err, "{}: working, {elapsed:.0} s", self.step)
        } else {
            writeln!(
                err,
                "{}: {}{of}, {rate:.0}/s, {elapsed:.0} s",
                self.step,
                thousands(self.done)
            )
        };
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event<'_>) {
        let mut steps = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let find = |steps: &mut Vec<State>, step: &str| steps.iter().position(|s| s.step == step);
        match event {
            Event::StepStarted { step } => steps.push(self.start(step.name())),
            Event::Total { step, total } => {
                if let Some(at) = find(&mut steps, step.name()) {
                    let state = &mut steps[at];
                    state.total = Some(*total);
                    if let Some(bar) = &state.bar {
                        bar_with_total(bar, step.name(), *total);
                    }
                }
            }
            Event::Record {
                step,
                advances: true,
                ..
            }
            | Event::Planned { step, .. } => {
                if let Some(at) = find(&mut steps, step.name()) {
                    let state = &mut steps[at];
                    state.done += 1;
                    if let Some(bar) = &state.bar {
                        bar.inc(1);
                    }
                }
            }
            Event::Record {
                advances: false, ..
            } => {}
            Event::Read { step, users } => {
                if let Some(at) = find(&mut steps, step.name()) {
                    let state = &mut steps[at];
                    state.done = *users;
                    if let Some(bar) = &state.bar {
                        bar.set_position(*users);
                    }
                }
            }
            Event::StepFinished { step, .. } => {
                if let Some(at) = find(&mut steps, step.name()) {
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
            // The preflight shows as a step of its own while it reads.
            Event::PreflightStarted => steps.push(self.start("preflight")),
            Event::Preflight { .. } => {
                if let Some(at) = find(&mut steps, "preflight")
                    && let Some(bar) = steps.remove(at).bar
                {
                    bar.finish_and_clear();
                }
            }
            Event::RunStarted { .. } | Event::Warning { .. } => {}
        }
    }
}
