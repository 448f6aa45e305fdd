//! Loading the plan a command names.

use ferry_core::plan::LoadOptions;
use ferry_core::plan::Project;

use crate::args::PlanFile;
use crate::error::Result;

/// The plan and its script, ready to run (`${VAR}`s must be set).
pub fn for_use(plan: &PlanFile) -> Result<Project> {
    Ok(Project::open(&plan.plan, LoadOptions::for_use())?)
}

/// The plan and its script for a command that reads Clerk only: the
/// source's `${VAR}`s must be set, the target's need not be.
pub fn for_source(plan: &PlanFile) -> Result<Project> {
    Ok(Project::open(&plan.plan, LoadOptions::for_source_only())?)
}

/// The plan and its script, for commands that need neither secrets nor exports.
pub fn for_reading(plan: &PlanFile) -> Result<Project> {
    Ok(Project::open(&plan.plan, LoadOptions::for_validation())?)
}
