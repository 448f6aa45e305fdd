//! `ferry report PLAN`: renders a run's report again from the journal.

use ferry_core::commands::history::{self, History};
use ferry_core::plan::ReportFormat;
use ferry_core::report;

use crate::args::ReportArgs;
use crate::error::Result;
use crate::exit::Exit;

pub fn run(args: &ReportArgs) -> Result<Exit> {
    let project = super::open::for_reading(&args.plan)?;
    let plan = &project.plan;
    let (id, report) = History::open(plan)?.report(args.run)?;
    let format = ReportFormat::from(args.format);
    let text = report::render(&report, format, plan.report.templates.as_deref())
        .map_err(ferry_core::error::Error::from)?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| history::report_path(plan, id, format.extension()));
    report::write_private(&path, &text).map_err(ferry_core::error::Error::from)?;
    println!("{}", path.display());
    Ok(Exit::Success)
}
