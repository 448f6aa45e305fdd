//! Loading the plan a command names.

use ferry_core::plan::LoadOptions;
use ferry_core::project::Project;

use crate::args::PlanFile;
use crate::error::Result;

/// The plan and its script, ready to run (`${VAR}`s must be set).
pub fn for_use(plan: &PlanFile) -> Result<Project> {
    Ok(Project::open(&plan.plan, LoadOptions::for_use())?)
}

/// The plan and its script, for commands that need neither secrets nor exports.
pub fn for_reading(plan: &PlanFile) -> Result<Project> {
    Ok(Project::open(&plan.plan, LoadOptions::for_validation())?)
}
