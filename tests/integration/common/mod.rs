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
