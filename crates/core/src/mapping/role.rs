//! A Clerk role key to a WorkOS role slug, the same for the `roles` step
//! that makes the role and for every membership that names it: the plan's
//! `roles:` map (in the memberships step's options), else the default rule
//! (`org:<key>` → `<key>`), then the `map_role` hook, which sees that slug
//! as `default_slug` and has the last word (a string, or `()` to leave the
//! role out). The hook is asked once per role key.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::script::{Hook, Outcome, Script};

/// Resolves role slugs, asking the hook at most once per key.
pub struct RoleMapper<'a> {
    map: Option<BTreeMap<String, String>>,
    script: Option<&'a Script>,
    /// The `roles` step's hook context.
    ctx: Value,
    asked: Mutex<HashMap<String, Result<Option<String>, String>>>,
}

impl<'a> RoleMapper<'a> {
    pub fn new(
        map: Option<BTreeMap<String, String>>,
        script: Option<&'a Script>,
        ctx: Value,
    ) -> Self {
        Self {
            map,
            script: script.filter(|s| s.defines(Hook::MapRole)),
            ctx,
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// The slug before any hook.
    pub fn default_slug(&self, key: &str) -> String {
        if let Some(slug) = self.map.as_ref().and_then(|map| map.get(key)) {
            return slug.clone();
        }
        key.strip_prefix("org:").unwrap_or(key).to_owned()
    }

    /// The WorkOS slug for a Clerk role (`name` when known), `None` when the
    /// hook leaves it out, or why the hook's answer cannot be used.
    pub fn slug(&self, key: &str, name: Option<&str>) -> Result<Option<String>, String> {
        let default = self.default_slug(key);
        let Some(script) = self.script else {
            return Ok(Some(default));
        };
        if let Some(known) = self.asked.lock().expect("roles lock").get(key) {
            return known.clone();
        }
        let view = json!({ "key": key, "name": name, "default_slug": default });
        let answer = match script.call(Hook::MapRole, key, &[&view, &self.ctx]) {
            Ok(Outcome::Skip) => Ok(None),
            Ok(Outcome::Value(Value::String(slug))) if !slug.trim().is_empty() => Ok(Some(slug)),
            Ok(Outcome::Value(other)) => Err(format!(
                "map_role must return a role slug or (), it returned {other}"
            )),
            Err(error) => Err(error.to_string()),
        };
        self.asked
            .lock()
            .expect("roles lock")
            .insert(key.to_owned(), answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_map_then_the_default_rule() {
        let map: BTreeMap<String, String> = [("org:admin".to_owned(), "owner".to_owned())].into();
        let mapper = RoleMapper::new(Some(map), None, json!({}));
        assert_eq!(mapper.slug("org:admin", None), Ok(Some("owner".into())));
        assert_eq!(mapper.slug("org:member", None), Ok(Some("member".into())));
        assert_eq!(mapper.slug("org:billing", None), Ok(Some("billing".into())));
        assert_eq!(mapper.default_slug("custom"), "custom");
    }
}
