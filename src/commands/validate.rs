//! `ferry validate PLAN`: every problem in the plan and its script, at once.

use std::io::Write;
use std::path::Path;

use ferry_core::error::Error;
use ferry_core::plan::Project;
use ferry_core::plan::{LoadOptions, PlanError};
use ferry_core::support::diagnostic::Diagnostic;

use crate::args::ValidateArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::Painter;

pub fn run(args: &ValidateArgs) -> Result<Exit> {
    let (plan_path, json): (&Path, bool) = (&args.plan.plan, args.json);
    let diagnostics = match Project::open(plan_path, LoadOptions::for_validation()) {
        Ok(project) => project.warnings,
        Err(error @ (PlanError::Invalid { .. } | PlanError::MissingVariables { .. })) => {
            error.diagnostics().to_vec()
        }
        Err(other) => return Err(Error::from(other).into()),
    };
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let valid = errors == 0;

    let mut stdout = std::io::stdout().lock();
    if json {
        let body = serde_json::json!({
            "plan": plan_path,
            "valid": valid,
            "errors": errors,
            "warnings": warnings,
            "diagnostics": diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
        });
        let _ = writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    } else {
        let painter = Painter::stdout();
        for diagnostic in &diagnostics {
            let _ = write!(stdout, "{}", painter.diagnostic(diagnostic));
        }
        let summary = match (errors, warnings) {
            (0, 0) => painter.success("valid"),
            (0, w) => format!("{} ({w} warning{})", painter.success("valid"), plural(w)),
            (e, w) => format!(
                "{}: {e} error{}, {w} warning{}",
                painter.error("invalid"),
                plural(e),
                plural(w)
            ),
        };
        let _ = writeln!(stdout, "{}: {summary}", plan_path.display());
    }
    Ok(if valid {
        Exit::Success
    } else {
        Exit::ProblemFound
    })
}

fn diagnostic_json(diagnostic: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "severity": diagnostic.severity,
        "file": diagnostic.location.as_ref().map(|l| l.file.display().to_string()),
        "line": diagnostic.location.as_ref().map(|l| l.line),
        "column": diagnostic.location.as_ref().map(|l| l.column),
        "message": diagnostic.message,
        "hint": diagnostic.hint,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
