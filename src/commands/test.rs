//! `ferry test PLAN`: the script unit tests declared in the plan.

use std::io::Write;
use std::path::Path;

use crate::error::{ExitStatus, Result};
use crate::output::Painter;
use crate::plan::LoadOptions;
use crate::project::Project;
use crate::script::testing::{self, TestReport};

pub fn run(plan_path: &Path, json: bool, filter: Option<&str>) -> Result<ExitStatus> {
    // Tests exercise the script only: secrets and exports need not be present.
    let project = Project::open(plan_path, LoadOptions::for_validation())?;
    let tests: Vec<_> = project
        .plan
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .collect();

    let reports: Vec<TestReport> = match &project.script {
        None => tests
            .iter()
            .map(|test| TestReport {
                name: test.name.clone(),
                hook: test.hook,
                location: test.location.to_string(),
                passed: false,
                failure: Some("the plan names no script".into()),
                diff: None,
            })
            .collect(),
        Some(script) => tests
            .iter()
            .map(|test| {
                let mut ctx = project.hook_context(test.hook.step(), true);
                if let (Some(serde_json::Value::Object(extra)), Some(base)) =
                    (&test.ctx, ctx.as_object_mut())
                {
                    base.extend(extra.clone());
                }
                testing::run(script, test, &ctx)
            })
            .collect(),
    };
    let failed = reports.iter().filter(|r| !r.passed).count();
    let passed = reports.len() - failed;

    let mut stdout = std::io::stdout().lock();
    if json {
        let body = serde_json::json!({ "plan": plan_path, "passed": passed, "failed": failed, "tests": reports });
        let _ = writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    } else {
        let painter = Painter::stdout();
        let _ = writeln!(
            stdout,
            "running {} test{} from {}",
            reports.len(),
            if reports.len() == 1 { "" } else { "s" },
            plan_path.display()
        );
        for report in &reports {
            let mark = if report.passed {
                painter.success("pass")
            } else {
                painter.error("FAIL")
            };
            let _ = writeln!(
                stdout,
                "  {mark} {} {}",
                report.name,
                painter.dim(&format!("({})", report.hook))
            );
            if let Some(failure) = &report.failure {
                let _ = writeln!(stdout, "       {failure}");
                let _ = writeln!(
                    stdout,
                    "       {}",
                    painter.dim(&format!("test at {}", report.location))
                );
            }
            if let Some(diff) = &report.diff {
                for line in diff.lines() {
                    let styled = if line.starts_with('+') && !line.starts_with("+++") {
                        painter.added(line)
                    } else if line.starts_with('-') && !line.starts_with("---") {
                        painter.removed(line)
                    } else {
                        line.to_owned()
                    };
                    let _ = writeln!(stdout, "       {styled}");
                }
            }
        }
        let summary = if failed == 0 {
            painter.success("ok")
        } else {
            painter.error("FAILED")
        };
        let _ = writeln!(
            stdout,
            "test result: {summary}. {passed} passed, {failed} failed"
        );
    }
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::ProblemFound
    })
}
