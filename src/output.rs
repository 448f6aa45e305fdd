//! Human output: colour that honours `NO_COLOR`, `--color` and non-terminals,
//! the rendering of [`Diagnostic`]s in the compiler style people know
//! (`error: file:line:col: message`, the offending line, a caret, a hint),
//! numbers for people, and the log subscriber.

use std::fmt::Write as _;

use owo_colors::{OwoColorize, Stream};

use ferry_core::support::diagnostic::{Diagnostic, Severity};

use crate::args::ColorChoice;

/// Applies the choice process-wide; `Auto` leaves detection to owo-colors.
pub fn apply_color_choice(choice: ColorChoice) {
    match choice {
        ColorChoice::Auto => owo_colors::unset_override(),
        ColorChoice::Always => owo_colors::set_override(true),
        ColorChoice::Never => owo_colors::set_override(false),
    }
}

/// Styles for one output stream.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    stream: Stream,
}

impl Painter {
    pub fn stdout() -> Self {
        Self {
            stream: Stream::Stdout,
        }
    }

    pub fn stderr() -> Self {
        Self {
            stream: Stream::Stderr,
        }
    }

    pub fn error(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.red().bold().to_string())
            .to_string()
    }

    pub fn warning(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.yellow().bold().to_string())
            .to_string()
    }

    pub fn success(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.green().bold().to_string())
            .to_string()
    }

    pub fn strong(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.bold().to_string())
            .to_string()
    }

    pub fn dim(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.dimmed().to_string())
            .to_string()
    }

    pub fn added(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.green().to_string())
            .to_string()
    }

    pub fn removed(&self, text: &str) -> String {
        text.if_supports_color(self.stream, |t| t.red().to_string())
            .to_string()
    }

    /// One diagnostic as several lines, ending in a newline.
    pub fn diagnostic(&self, diagnostic: &Diagnostic) -> String {
        let mut out = String::new();
        let label = match diagnostic.severity {
            Severity::Error => self.error("error"),
            Severity::Warning => self.warning("warning"),
        };
        let _ = write!(out, "{label}: ");
        if let Some(location) = &diagnostic.location {
            let _ = write!(out, "{}: ", self.strong(&location.to_string()));
        }
        let _ = writeln!(out, "{}", diagnostic.message);
        if let Some(location) = &diagnostic.location
            && let Some(text) = &location.line_text
        {
            let number = location.line.to_string();
            let gutter = " ".repeat(number.len());
            let caret_pad: String = text
                .chars()
                .take(location.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, " {} {} {text}", self.dim(&number), self.dim("|"));
            let _ = writeln!(
                out,
                " {gutter} {} {caret_pad}{}",
                self.dim("|"),
                self.error("^")
            );
        }
        if let Some(hint) = &diagnostic.hint {
            let _ = writeln!(out, "  {}: {hint}", self.strong("hint"));
        }
        out
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Stderr for logs, with every registered secret masked in each line.
struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(ferry_wire::redact::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// ferry's own log targets (a directive for `ferry` alone would match
/// them all by prefix; naming each keeps dependencies out).
const OURS: [&str; 4] = ["ferry", "ferry_core", "ferry_wire", "ferry_sandbox"];

/// The filter for `-v`s: warnings and the script's `print` lines by
/// default; `-v` ferry's info lines (steps, requests summarised,
/// decisions), `-vv` ferry's debug lines (every request); dependencies
/// (hyper, handlebars, …) only from `-vvv`.
fn default_filter(verbosity: u8) -> String {
    let ours = |level: &str| {
        OURS.iter()
            .map(|target| format!("{target}={level}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    match verbosity {
        0 => "warn,ferry::script=info".to_owned(),
        1 => format!("warn,{}", ours("info")),
        2 => format!("warn,{}", ours("debug")),
        3 => format!("debug,{}", ours("trace")),
        _ => "trace".to_owned(),
    }
}

/// Logs go to stderr, filtered by [`default_filter`] or by `FERRY_LOG` (a
/// full `tracing` filter), with colour only on a terminal that wants it.
pub fn init_logging(verbosity: u8, color: ColorChoice) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("FERRY_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbosity)));
    let ansi = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactingStderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_v_shows_more_of_ferry_before_any_dependency() {
        assert_eq!(super::default_filter(0), "warn,ferry::script=info");
        assert!(super::default_filter(1).starts_with("warn,ferry=info,ferry_core=info"));
        assert!(super::default_filter(2).starts_with("warn,ferry=debug"));
        assert!(super::default_filter(3).starts_with("debug,ferry=trace"));
    }
}
