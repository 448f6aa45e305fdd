//! Rendering the report: JSON as is, Markdown and one self-contained HTML
//! page through handlebars templates (embedded, replaceable from the plan's
//! `report.templates` folder), each written with mode 0600.

use std::path::{Path, PathBuf};

use super::model::Report;
use crate::plan::ReportFormat;
use handlebars::Handlebars;

const HTML: &str = include_str!("templates/report.html.hbs");
const MARKDOWN: &str = include_str!("templates/report.md.hbs");

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
        // Markdown is often rendered as HTML: values from outside (a role
        // key, a name) keep their `<`, `>` and `&` as entities, and no
        // control character, so they show as text and never run.
        handlebars.register_escape_fn(ferry_wire::inert::markdown);
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

/// Writes `text` to `path` whole, with mode 0600 (reports name people).
pub fn write_private(path: &Path, text: &str) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text = ferry_wire::redact::redact(text);
    ferry_wire::files::write(path, text.as_bytes()).map_err(error)
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
