//! What people open is inert: values from outside (a Clerk name, a role
//! key, an id, a server's message) made safe for where ferry puts them.
//!
//! - In a CSV list, a cell that a spreadsheet would read as a formula (it
//!   starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
//!   leading `'`, as OWASP's guidance on CSV injection says. Every list
//!   ferry writes goes through [`CsvWriter`], which does it to every cell.
//! - On a terminal, control characters (escape sequences among them)
//!   become `?`, and long values are cut ([`printable`]).
//! - In Markdown, `<`, `>` and `&` become entities, so raw HTML from
//!   outside is shown, never rendered ([`markdown`]).

use std::borrow::Cow;
use std::io::Write;

/// The most characters of one outside value ferry echoes on a terminal or
/// in an error message.
pub const MAX_ECHO: usize = 200;

/// A cell a spreadsheet will not run: formula starters get a leading `'`.
pub fn csv_cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A value safe to print on a terminal: control characters become `?`,
/// and past [`MAX_ECHO`] characters it is cut with `…`.
pub fn printable(value: &str) -> Cow<'_, str> {
    let clean = value.chars().count() <= MAX_ECHO && !value.chars().any(char::is_control);
    if clean {
        return Cow::Borrowed(value);
    }
    let mut out: String = value
        .chars()
        .take(MAX_ECHO)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().count() > MAX_ECHO {
        out.push('…');
    }
    Cow::Owned(out)
}

/// A line safe to print on a terminal, whole: control characters (escape
/// sequences among them) become `?`; nothing is cut, since ferry's own
/// long explanations go through it too.
pub fn terminal(line: &str) -> Cow<'_, str> {
    if line.chars().any(char::is_control) {
        Cow::Owned(
            line.chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(line)
    }
}

/// A value safe in Markdown that may be rendered as HTML: `&`, `<` and `>`
/// as entities, and no control characters.
pub fn markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The one CSV writer of ferry's lists: every cell through [`csv_cell`].
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> Self {
        Self {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one row, each cell made inert.
    pub fn row<I, S>(&mut self, cells: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.inner.write_record(
            cells
                .into_iter()
                .map(|cell| csv_cell(cell.as_ref()).into_owned()),
        )
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        let cases = [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("Ada", "Ada"),
            ("user_2abc", "user_2abc"),
            ("a=b", "a=b"),
            ("", ""),
        ];
        for (value, expected) in cases {
            assert_eq!(csv_cell(value), expected, "{value:?}");
        }
        let mut out = Vec::new();
        let mut writer = CsvWriter::new(&mut out);
        writer.row(["clerk_id", "first_name"]).unwrap();
        writer.row(["user_1", "=1+1"]).unwrap();
        writer.flush().unwrap();
        drop(writer);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "clerk_id,first_name\nuser_1,'=1+1\n"
        );
    }

    #[test]
    fn terminals_and_markdown_get_no_control_or_markup() {
        assert_eq!(printable("admin"), "admin");
        assert_eq!(terminal("ok"), "ok");
        assert_eq!(terminal("a\u{1b}[31mb\u{9b}c\n"), "a?[31mb?c?");
        assert_eq!(terminal(&"x".repeat(500)).len(), 500);
        assert_eq!(
            printable("\u{1b}[2J\u{1b}]0;pwned\u{7}x"),
            "?[2J?]0;pwned?x"
        );
        let long = "a".repeat(10_000);
        assert_eq!(printable(&long).chars().count(), MAX_ECHO + 1);
        assert_eq!(
            markdown("<img src=x onerror=alert(1)> & \u{1b}"),
            "&lt;img src=x onerror=alert(1)&gt; &amp; ?"
        );
    }
}
