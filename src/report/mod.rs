//! The run report: one model, serialised to JSON and rendered through
//! handlebars templates (embedded in the binary, replaceable from the plan's
//! `report.templates` folder) to Markdown and to one self-contained HTML
//! page. It holds counts, reasons, the assessment, the MFA table and the
//! verification checklist; never a digest, a secret or a key.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::{Deserialize, Serialize};

use crate::plan::ReportFormat;
use crate::steps::assess::Assessment;
use crate::steps::mfa_report::MfaSummary;
use crate::steps::verify::Verification;

const HTML: &str = include_str!("templates/report.html.hbs");
const MARKDOWN: &str = include_str!("templates/report.md.hbs");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub ferry_version: String,
    pub generated_at: String,
    pub plan: PlanInfo,
    pub run: RunInfo,
    pub assessment: Option<Assessment>,
    pub steps: Vec<StepReport>,
    pub mfa: Option<MfaSummary>,
    pub verification: Option<Verification>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanInfo {
    pub name: String,
    pub revision: u32,
    pub checksum: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// `finished`, `finished_with_failures`, `interrupted`.
    pub status: String,
    pub outcome: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepReport {
    pub name: String,
    pub duration: String,
    pub duration_ms: u64,
    /// `created: 12`, …, in a fixed order; zero counts left out.
    pub counts: Vec<Count>,
    /// The first failed or rejected records with their reasons.
    pub failures: Vec<Failure>,
    pub failures_total: u64,
    /// Files this step wrote for people.
    pub lists: Vec<ListFile>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Count {
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    pub id: String,
    pub action: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListFile {
    pub label: String,
    pub path: String,
    pub rows: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("report template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ReportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Md => "md",
            Self::Json => "json",
        }
    }
}

/// Renders a report; `templates` may hold `report.html.hbs` / `report.md.hbs` to use instead.
pub fn render(
    report: &Report,
    format: ReportFormat,
    templates: Option<&Path>,
) -> Result<String, ReportError> {
    let (name, built_in) = match format {
        ReportFormat::Json => {
            return Ok(serde_json::to_string_pretty(report).unwrap_or_default() + "\n");
        }
        ReportFormat::Html => ("report.html.hbs", HTML),
        ReportFormat::Md => ("report.md.hbs", MARKDOWN),
    };
    let template = match templates.map(|dir| dir.join(name)).filter(|p| p.is_file()) {
        Some(path) => std::fs::read_to_string(&path).map_err(|e| ReportError::Template {
            name: path.display().to_string(),
            message: e.to_string(),
        })?,
        None => built_in.to_owned(),
    };
    let mut handlebars = Handlebars::new();
    if format == ReportFormat::Md {
        handlebars.register_escape_fn(handlebars::no_escape);
    }
    handlebars
        .register_template_string(name, template)
        .map_err(|e| ReportError::Template {
            name: name.into(),
            message: e.to_string(),
        })?;
    handlebars
        .render(name, report)
        .map_err(|e| ReportError::Template {
            name: name.into(),
            message: e.to_string(),
        })
}

/// Writes `text` to `path` with mode 0600 (reports name people).
pub fn write_private(path: &Path, text: &str) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)
}

/// Renders and writes every format; returns the paths written.
pub fn write_all(
    report: &Report,
    dir: &Path,
    formats: &[ReportFormat],
    templates: Option<&Path>,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for format in formats {
        let path = dir.join(format!(
            "{}-run-{}.{}",
            report.plan.name,
            report.run.id,
            format.extension()
        ));
        write_private(&path, &render(report, *format, templates)?)?;
        written.push(path);
    }
    Ok(written)
}
