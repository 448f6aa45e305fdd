//! The terminal rendering: what a person sees at a terminal once a run
//! ends. Lines printed while progress bars are live go through the bars'
//! own suspend, so the scrollback holds each line once and no copy of a bar.

use crate::common::*;

/// A progress bar's line, as `Progress` draws one (`users [>…] 39/3000`,
/// `memberships ⠤ 0 0/s 55s`): a rate in records a second.
fn is_a_bar(line: &str) -> bool {
    line.split_whitespace().any(|word| word.ends_with("/s"))
}

#[test]
fn a_demo_on_a_terminal_leaves_each_line_once_and_no_bar() {
    let scratch = Scratch::new();
    let (code, screen) = scratch.ferry_on_terminal(
        &[
            "demo",
            "--users",
            "1500",
            "--orgs",
            "30",
            "--dir",
            "demo",
            "--limits-scale",
            "3",
        ],
        400,
        160,
    );
    assert_eq!(code, 0, "{screen}");
    let bars: Vec<&str> = screen.lines().filter(|line| is_a_bar(line)).collect();
    assert!(
        bars.is_empty(),
        "bars left on the screen: {bars:#?}\n{screen}"
    );
    for step in [
        "organizations:",
        "roles:",
        "users:",
        "memberships:",
        "verify: passed",
    ] {
        let lines = screen.lines().filter(|line| line.starts_with(step)).count();
        assert_eq!(lines, 1, "`{step}` is printed {lines} times:\n{screen}");
    }
}
