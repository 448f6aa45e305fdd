//! `ferry watch PLAN [--since TIME] [--json]`: cohort health after the
//! switch ([`ferry_core::watch`]). On a terminal it refreshes every few
//! seconds until Ctrl-C; otherwise (or with `--json`) it prints once. Exits
//! 1 when a cohort is flagged by the documented rule.

use std::io::IsTerminal;
use std::time::Duration;

use ferry_core::engine::Engine;
use ferry_core::observe::Quiet;
use ferry_core::watch::Health;

use crate::args::WatchArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::Painter;

/// Between two looks on a terminal.
const REFRESH: Duration = Duration::from_secs(5);

pub fn run(args: &WatchArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    let engine = Engine::new(&project, &Quiet);
    let refresh = !args.json && std::io::stdout().is_terminal();
    // Only a refreshing watch takes Ctrl-C over: it ends the loop, not the process.
    let stop = refresh.then(ctrl_c);
    loop {
        let health = engine.watch(args.since)?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&health).unwrap_or_default()
            );
        } else {
            if refresh {
                // Clear the screen and go home: the new tally replaces the old.
                print!("\x1b[2J\x1b[H");
            }
            print(&health, &Painter::stdout());
        }
        let flagged = health.flagged().next().is_some();
        if stop.as_ref().is_none_or(|stop| stop.wait(REFRESH)) {
            return Ok(if flagged {
                Exit::ProblemFound
            } else {
                Exit::Success
            });
        }
    }
}

fn print(health: &Health, painter: &Painter) {
    println!(
        "password sign-ins since {}{} (WorkOS keeps events for {} days)",
        health.since,
        if health.since_moved {
            ", the oldest WorkOS still holds"
        } else {
            ""
        },
        health.retention_days
    );
    println!("rule: {}", health.rule);
    if health.cohorts.is_empty() {
        println!("no password sign-in yet");
        return;
    }
    let width = health
        .cohorts
        .iter()
        .map(|c| c.cohort.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!("{:<width$}  {:>9}  {:>6}", "cohort", "succeeded", "failed");
    for cohort in &health.cohorts {
        let flag = match cohort.flagged {
            true => format!("  {}", painter.warning("flagged")),
            false => String::new(),
        };
        println!(
            "{:<width$}  {:>9}  {:>6}{flag}",
            ferry_wire::inert::printable(&cohort.cohort),
            cohort.succeeded,
            cohort.failed
        );
    }
}

/// Ctrl-C, seen from a waiting loop.
struct Stop(std::sync::mpsc::Receiver<()>);

impl Stop {
    /// Waits `period`; true when Ctrl-C came.
    fn wait(&self, period: Duration) -> bool {
        !matches!(
            self.0.recv_timeout(period),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
        )
    }
}

fn ctrl_c() -> Stop {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            let _ = runtime.block_on(tokio::signal::ctrl_c());
        }
        let _ = tx.send(());
    });
    Stop(rx)
}
