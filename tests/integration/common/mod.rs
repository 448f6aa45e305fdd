//! A fluent builder for running the `ferry` binary in a scratch folder, the
//! expectations a test declares about a run (exit code, what stdout, stderr
//! and files hold), and a typed plan builder ([`plan`]).

pub mod plan;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// A scratch folder with files, and a way to run `ferry` in it.
pub struct Scratch {
    dir: TempDir,
}

/// What a `ferry` run printed and how it ended.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The folder it ran in, for [`Output::file_has`].
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `relative`, creating folders.
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes a built plan to `relative`.
    pub fn write_plan(&self, relative: &str, plan: &plan::PlanFile) -> PathBuf {
        self.write(relative, &plan.to_yaml())
    }

    /// Runs ferry with one pseudo-terminal as its stdin, stdout and
    /// stderr, as at a person's terminal, and gives its exit code and the
    /// text a `rows`×`cols` terminal shows once it ends (scrollback
    /// included: the screen is the whole of what was printed).
    pub fn ferry_on_terminal(&self, args: &[&str], rows: u16, cols: u16) -> (i32, String) {
        self.ferry_on_terminal_typing(args, &[], b"", (rows, cols))
    }

    /// [`Scratch::ferry_on_terminal`] with `env` set and `typed` already
    /// typed at the terminal (what a person answers a question with).
    pub fn ferry_on_terminal_typing(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        typed: &[u8],
        (rows, cols): (u16, u16),
    ) -> (i32, String) {
        use std::io::{Read, Write};
        use std::os::fd::{FromRawFd, OwnedFd};
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let (mut leader, mut follower) = (-1, -1);
        // SAFETY: openpty writes two new descriptors, owned from here on.
        let opened = unsafe {
            libc::openpty(
                &mut leader,
                &mut follower,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both are open descriptors nothing else owns.
        let (leader, follower) =
            unsafe { (OwnedFd::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) };
        let stdio = || std::process::Stdio::from(follower.try_clone().unwrap());
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ferry"))
            .args(args)
            .current_dir(self.dir.path())
            .env("TERM", "xterm-256color")
            .envs(env.iter().copied())
            .env_remove("NO_COLOR")
            .env_remove("FERRY_LOG")
            .stdin(stdio())
            .stdout(stdio())
            .stderr(stdio())
            .spawn()
            .expect("ferry runs");
        drop(follower);
        let mut screen = vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        );
        let mut terminal = std::fs::File::from(leader);
        // The terminal keeps what was typed until ferry reads it.
        terminal.write_all(typed).unwrap();
        let mut buffer = [0u8; 8192];
        // The leader reads until the last follower closes (EIO on Linux).
        while let Ok(read @ 1..) = terminal.read(&mut buffer) {
            screen.process(&buffer[..read]);
        }
        let code = child.wait().expect("ferry ends").code().unwrap_or(-1);
        (code, screen.screen().contents())
    }

    pub fn ferry(&self) -> Run {
        let mut command = Command::cargo_bin("ferry").expect("the ferry binary");
        command
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("FERRY_LOG")
            .env_remove("CLERK_SECRET_KEY")
            .env_remove("WORKOS_API_KEY")
            .env_remove("WORKOS_CLIENT_ID");
        Run {
            command,
            dir: self.dir.path().to_path_buf(),
        }
    }
}

pub struct Run {
    command: Command,
    dir: PathBuf,
}

impl Run {
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn arg_path(mut self, path: impl AsRef<Path>) -> Self {
        self.command.arg(path.as_ref());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    pub fn run(mut self) -> Output {
        let output = self.command.output().expect("ferry runs");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            dir: self.dir,
        }
    }
}

impl Output {
    fn shown(&self) -> String {
        format!(
            "\n--- exit code {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code,
            expected,
            "exit code {} (expected {expected}){}",
            self.code,
            self.shown()
        );
        self
    }

    /// Asserts that stdout holds `text`.
    pub fn stdout_has(self, text: &str) -> Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}{}",
            self.shown()
        );
        self
    }

    /// Asserts that stderr holds `text`.
    pub fn stderr_has(self, text: &str) -> Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}{}",
            self.shown()
        );
        self
    }

    /// Asserts that neither stdout nor stderr holds `text`.
    pub fn output_lacks(self, text: &str) -> Self {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "the output holds {text:?}{}",
            self.shown()
        );
        self
    }

    /// Asserts the whole stdout against the golden file `name`
    /// ([`golden`]), with what changes between runs put as placeholders.
    pub fn stdout_is(self, name: &str) -> Self {
        golden(name, &scrub(&self.stdout, &self.dir));
        self
    }

    /// Asserts that the file at `relative` (to the run's folder) holds `text`.
    pub fn file_has(self, relative: &str, text: &str) -> Self {
        let path = self.dir.join(relative);
        let contents = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} cannot be read: {e}{}", path.display(), self.shown()));
        assert!(
            contents.contains(text),
            "{} lacks {text:?}:\n{contents}",
            path.display()
        );
        self
    }
}

/// Compares `actual` with `tests/golden/<name>`, whole. With
/// `FERRY_BLESS=1` the file is written instead: review the diff, then commit.
pub fn golden(name: &str, actual: &str) {
    if let Err(why) = check_golden(&repo().join("tests/golden").join(name), actual) {
        panic!("{why}");
    }
}

/// Compares `actual` with the file at `path`, whole; with `FERRY_BLESS=1`
/// the file is written instead. `Err` says how they differ.
pub fn check_golden(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("FERRY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e}; run `FERRY_BLESS=1 cargo test --test integration` to write it\n--- actual\n{actual}",
            path.display()
        )
    })?;
    if expected != actual {
        let diff = similar_lines(&expected, actual);
        return Err(format!(
            "the output is not {}; if the change is meant, run `FERRY_BLESS=1 cargo test --test integration` and review the diff\n{diff}",
            path.display()
        ));
    }
    Ok(())
}

/// A line diff: `-` expected, `+` actual.
fn similar_lines(expected: &str, actual: &str) -> String {
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    for at in 0..expected.len().max(actual.len()) {
        match (expected.get(at), actual.get(at)) {
            (Some(e), Some(a)) if e == a => out.push_str(&format!("  {e}\n")),
            (e, a) => {
                if let Some(e) = e {
                    out.push_str(&format!("- {e}\n"));
                }
                if let Some(a) = a {
                    out.push_str(&format!("+ {a}\n"));
                }
            }
        }
    }
    out
}

/// `text` with what differs from run to run made placeholders: the
/// scratch folder (`<dir>`), loopback ports (`<port>`, in URLs and
/// `--…-port` arguments), timestamps
/// (`<time>`), durations and rates (`<n> ms`, `<n> s`, `<n>/s`).
pub fn scrub(text: &str, dir: &Path) -> String {
    use std::sync::LazyLock;
    static PORT: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"(127\.0\.0\.1:|-port )\d+").unwrap());
    static TIME: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)").unwrap()
    });
    static DURATION: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\b\d+(\.\d+)?( ?(ms|s|min)\b|/s\b)").unwrap());
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let text = text.replace(&dir.display().to_string(), "<dir>");
    let text = PORT.replace_all(&text, "$1<port>");
    let text = TIME.replace_all(&text, "<time>");
    DURATION.replace_all(&text, "<n>$2").into_owned()
}

/// Asserts that ferry wrote `path` owner-only: 0600 for a file, 0700 for a folder.
pub fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mode = meta.permissions().mode() & 0o777;
    let want = if meta.is_dir() { 0o700 } else { 0o600 };
    assert_eq!(mode, want, "{} is mode {mode:o}", path.display());
}

/// The repository's own folder, for the reference plans.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
