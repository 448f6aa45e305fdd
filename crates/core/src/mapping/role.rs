//! A Clerk role key to a WorkOS role slug, the same for the `roles` step
//! that makes the role and for every membership that names it: the plan's
//! `roles:` map (in the memberships step's options), else the default rule
//! (`org:<key>` → `<key>`), then the `map_role` hook, which sees that slug
//! as `default_slug` and has the last word (a string, or `()` to leave the
//! role out). The hook is asked once per role key.

use crate::plan::{Project, StepKind};
use crate::support::reason::{Reason, ReasonCode};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::script::{Hook, HookAnswer, Script};

/// A Clerk role as the `map_role` hook sees it. A script test's `input:`
/// is read into it: `default_slug`, left out, is the one the plan gives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoleView {
    /// Clerk's role key: `org:admin`, `org:member` or a custom `org:<key>`.
    pub key: String,
    /// Clerk's name of the role, when known.
    pub name: Option<String>,
    /// The slug before this hook: the plan's `roles:` map, else `org:<key>` → `<key>`.
    pub default_slug: String,
}

impl RoleView {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The WorkOS role a Clerk role maps to, or why it is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSlug {
    Slug(String),
    /// A hook skipped it; the reason says which and why.
    LeftOut(Reason),
}

impl RoleSlug {
    pub fn slug(self) -> Option<String> {
        match self {
            Self::Slug(slug) => Some(slug),
            Self::LeftOut(_) => None,
        }
    }
}

/// Resolves role slugs, asking the hook at most once per key.
pub struct RoleMapper<'a> {
    map: BTreeMap<String, String>,
    script: Option<&'a Script>,
    /// The `roles` step's hook context.
    ctx: Value,
    asked: Mutex<HashMap<String, Result<RoleSlug, Reason>>>,
}

impl<'a> RoleMapper<'a> {
    /// Role keys to slugs as the project's plan and script map them, the
    /// same for the roles and memberships steps.
    pub fn of(project: &'a Project, dry_run: bool) -> Self {
        Self::new(
            project.plan.roles.clone(),
            project.script.as_ref(),
            project.hook_context(StepKind::Roles, dry_run),
        )
    }

    pub fn new(map: BTreeMap<String, String>, script: Option<&'a Script>, ctx: Value) -> Self {
        Self {
            map,
            script: script.filter(|s| s.defines(Hook::MapRole)),
            ctx,
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// What the mapping reads besides the role and the script: the plan's
    /// map and the hook context, for a seal over the mapping.
    pub fn fingerprint(&self) -> String {
        serde_json::json!({ "map": self.map, "ctx": self.ctx }).to_string()
    }

    /// The slug before any hook.
    pub fn default_slug(&self, key: &str) -> String {
        if let Some(slug) = self.map.get(key) {
            return slug.clone();
        }
        key.strip_prefix("org:").unwrap_or(key).to_owned()
    }

    /// The WorkOS slug for a Clerk role (`name` when known), or why the
    /// hook leaves it out, or why the hook's answer cannot be used.
    pub fn slug(&self, key: &str, name: Option<&str>) -> Result<RoleSlug, Reason> {
        let default = self.default_slug(key);
        let Some(script) = self.script else {
            return Ok(RoleSlug::Slug(default));
        };
        if let Some(known) = self.asked.lock().expect("roles lock").get(key) {
            return known.clone();
        }
        let view = RoleView {
            key: key.to_owned(),
            name: name.map(str::to_owned),
            default_slug: default,
        };
        let answer = self.ask(script, &view);
        self.asked
            .lock()
            .expect("roles lock")
            .insert(key.to_owned(), answer.clone());
        answer
    }

    /// The `map_role` hook's answer for `view` (what a run and `ferry
    /// test`'s `expect_payload` share).
    pub fn ask(&self, script: &Script, view: &RoleView) -> Result<RoleSlug, Reason> {
        match script.call(Hook::MapRole, &view.key, &[&view.to_json(), &self.ctx]) {
            Ok(HookAnswer::Skip(reason)) => Ok(RoleSlug::LeftOut(Hook::MapRole.skipped(reason))),
            Ok(HookAnswer::Value(Value::String(slug))) if !slug.trim().is_empty() => {
                Ok(RoleSlug::Slug(slug))
            }
            Ok(HookAnswer::Value(other)) => Err(Reason::new(
                ReasonCode::HookInvalidResult,
                format!("map_role must return a role slug or (), it returned {other}"),
            )),
            Err(error) => Err(error.reason()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_map_then_the_default_rule() {
        let map: BTreeMap<String, String> = [("org:admin".to_owned(), "owner".to_owned())].into();
        let mapper = RoleMapper::new(map, None, serde_json::json!({}));
        let slug = |name: &str| Ok(RoleSlug::Slug(name.into()));
        assert_eq!(mapper.slug("org:admin", None), slug("owner"));
        assert_eq!(mapper.slug("org:member", None), slug("member"));
        assert_eq!(mapper.slug("org:billing", None), slug("billing"));
        assert_eq!(mapper.default_slug("custom"), "custom");
    }
}
