//! `ferry test PLAN`: the script unit tests declared in the plan.

use std::io::Write;

use ferry_core::commands::script_cases::{self, TestReport};

use crate::args::TestArgs;
use crate::error::Result;
use crate::exit::Exit;
use crate::output::Painter;

pub fn run(args: &TestArgs) -> Result<Exit> {
    let plan_path = &args.plan.plan;
    // Tests exercise the script only: secrets and exports need not be present.
    let project = super::open::for_reading(&args.plan)?;
    let reports: Vec<TestReport> = script_cases::run_all(&project, args.filter.as_deref());
    let json = args.json;
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
        Exit::Success
    } else {
        Exit::ProblemFound
    })
}
