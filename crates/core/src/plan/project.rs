//! A plan together with its compiled script: what every command that reads a
//! plan starts from. Plan and script problems are gathered into one list so
//! `ferry validate` shows them all at once.

use std::path::Path;

use super::load::inspect;
use super::model::{Plan, PlanError};
use super::shared::LoadOptions;
use super::step::StepKind;
use crate::script::{Limits, Script};
use crate::support::diagnostic::Diagnostic;

#[derive(Debug)]
pub struct Project {
    pub plan: Plan,
    pub script: Option<Script>,
    pub warnings: Vec<Diagnostic>,
}

impl Project {
    /// Loads the plan at `path` and compiles its script, with `${VAR}` from the process environment.
    pub fn open(path: &Path, options: LoadOptions) -> Result<Self, PlanError> {
        Self::open_with_env(path, options, &|name| std::env::var(name).ok())
    }

    pub fn open_with_env(
        path: &Path,
        options: LoadOptions,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, PlanError> {
        let mut inspection = inspect(path, lookup, options)?;
        let script = match inspection.script.clone() {
            Some(script_path) if script_path.is_file() => {
                match Script::load(&script_path, Limits::default()) {
                    Ok((script, warnings)) => {
                        inspection.add(warnings);
                        Some(script)
                    }
                    Err(problems) => {
                        inspection.add(problems);
                        None
                    }
                }
            }
            _ => None,
        };
        let loaded = inspection.finish()?;
        // From here on, no text ferry prints or stores can carry them.
        for secret in loaded.plan.secrets() {
            ferry_wire::redact::hold_forever(secret);
        }
        Ok(Self {
            plan: loaded.plan,
            script,
            warnings: loaded.warnings,
        })
    }

    /// The `ctx` a hook of `step` receives during a run of this plan.
    pub fn hook_context(&self, step: StepKind, dry_run: bool) -> serde_json::Value {
        let context = HookContext {
            plan: self.plan.name.clone(),
            revision: self.plan.revision,
            dry_run,
            step: step.name().to_owned(),
            options: self
                .plan
                .step(step)
                .map(|s| s.settings_json(&self.plan.roles))
                .unwrap_or_else(|| serde_json::json!({})),
        };
        serde_json::to_value(context).unwrap_or_default()
    }
}

/// The `ctx` every hook receives: which plan and step call it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct HookContext {
    /// The plan's `name:`.
    pub plan: String,
    /// The plan's `revision:`.
    pub revision: u32,
    /// True under `ferry plan` and `ferry test`: nothing will be written.
    pub dry_run: bool,
    /// The step whose hook this is: `users`, `organizations`, `roles` or `memberships`.
    pub step: String,
    /// That step's settings in force: its options in the plan, every default applied.
    pub options: serde_json::Value,
}
