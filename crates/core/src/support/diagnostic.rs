//! Problems found in the user's files, with where they are and what to do.
//!
//! Plan validation and script compilation both report [`Diagnostic`]s rather
//! than failing on the first problem, so that `ferry validate` can show every
//! mistake at once. Each carries a `file:line:col` location when one is known,
//! the line of source it points at, and a one-line hint.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The most characters of a message a diagnostic keeps: values from the
/// plan are echoed in messages, and a 64 MB value must not become 64 MB of
/// error output.
pub const MAX_MESSAGE: usize = 1_000;

/// The most characters of the source line a diagnostic shows.
pub const MAX_LINE_SHOWN: usize = 200;

/// `text`, cut to `max` characters with a note of how many more there were.
fn bounded(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}… ({} more characters)", total - max)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A 1-based position in a file, with the text of that line for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    #[serde(skip)]
    pub line_text: Option<String>,
}

impl Location {
    /// A location in `file` whose text is `source`; the line's text is kept for display.
    pub fn in_source(file: &Path, source: &str, line: usize, column: usize) -> Self {
        let line_text = source
            .lines()
            .nth(line.saturating_sub(1))
            .map(|text| bounded(text, MAX_LINE_SHOWN));
        Self {
            file: file.to_path_buf(),
            line,
            column: column.max(1),
            line_text,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// What kind of problem a diagnostic reports, for code that must tell them
/// apart (never by the message's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Any problem with no code of its own.
    #[default]
    General,
    /// A `${VAR}` whose variable is not set.
    MissingVariable,
    /// The YAML itself does not parse.
    Syntax,
    /// A key the schema does not know.
    UnknownKey,
    /// The script does not compile, or breaks a hook's contract.
    Script,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    /// Where in the plan's tree the problem is (`source.clerk`), when known.
    #[serde(skip)]
    pub place: Option<String>,
    pub location: Option<Location>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error; a message longer than [`MAX_MESSAGE`] characters (one
    /// that echoes a huge value from the plan) is cut, saying how much.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code: Code::General,
            place: None,
            location: None,
            message: bounded(&message.into(), MAX_MESSAGE),
            hint: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn at_opt(mut self, location: Option<Location>) -> Self {
        self.location = location.or(self.location);
        self
    }

    /// Says where in the plan's tree the problem is.
    pub fn place(mut self, place: impl Into<String>) -> Self {
        self.place = Some(place.into());
        self
    }

    pub fn code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(bounded(&hint.into(), MAX_MESSAGE));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Sorts diagnostics by file and position so output reads top to bottom.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        key(a).cmp(&key(b)).then(a.severity.cmp(&b.severity))
    });
}

/// The closest of `candidates` to `word`, if any is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_only() {
        let keys = ["secret_key", "export_csv", "api_url"];
        assert_eq!(nearest("secret_kye", keys), Some("secret_key"));
        assert_eq!(nearest("export_cvs", keys), Some("export_csv"));
        assert_eq!(nearest("zzz", keys), None);
    }
}
