//! What reading a plan and checking its rules share: how strict loading
//! is, and how a plan's names and paths are made safe and resolved.

use std::path::{Path, PathBuf};

use crate::support::diagnostic::Severity;

/// How strict loading is about what only a run needs.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Severity of an unset `${VAR}`: an error for commands that use the
    /// values, a warning for `validate`, which checks the plan as written.
    pub missing_variable: Severity,
    /// Severity of an export file that does not exist (yet).
    pub missing_export: Severity,
    /// Severity of an unset `${VAR}` under `target:`, for a command that
    /// reads the source only (`assess`).
    pub missing_target_variable: Severity,
}

impl LoadOptions {
    pub fn for_validation() -> Self {
        Self {
            missing_variable: Severity::Warning,
            missing_export: Severity::Warning,
            missing_target_variable: Severity::Warning,
        }
    }

    pub fn for_use() -> Self {
        Self {
            missing_variable: Severity::Error,
            missing_export: Severity::Error,
            missing_target_variable: Severity::Error,
        }
    }

    /// For a command that reads Clerk only: `target:` may name variables
    /// that are not set (no WorkOS key is needed to assess).
    pub fn for_source_only() -> Self {
        Self {
            missing_target_variable: Severity::Warning,
            ..Self::for_use()
        }
    }
}

/// Whether `text` may be part of a file name: up to 64 letters, digits,
/// `.`, `_` and `-`, starting with a letter or digit (so never `..`, a
/// separator, or a hidden name).
pub(super) fn is_file_name_part(text: &str) -> bool {
    text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A path from the plan, relative to the plan file's folder, with `.` and `..` folded.
pub(super) fn resolve(plan_path: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        plan_path.parent().unwrap_or(Path::new("")).join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

pub(super) fn at(place: Option<&str>) -> String {
    place.map(|p| format!("`{p}`: ")).unwrap_or_default()
}
