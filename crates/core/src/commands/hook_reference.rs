//! What `ferry hooks` prints: each hook's signature, what it may return,
//! and the exact shape of every argument, generated from the types the
//! runtime builds those arguments from (their JSON Schema, doc comments
//! included), so the reference cannot drift from what a script receives.
//! It joins the script (the hooks) with the mapping and the source (the
//! argument types), so it belongs to neither.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::mapping::membership::MembershipView;
use crate::mapping::organization::OrgView;
use crate::mapping::role::RoleView;
use crate::mapping::user::Payload;
use crate::plan::HookContext;
use crate::script::Hook;
use crate::source::view::UserView;
use ferry_wire::workos::model::User as WorkosUser;

/// One hook, documented.
#[derive(Debug, Clone, Serialize)]
pub struct HookDoc {
    pub name: &'static str,
    pub signature: String,
    /// The step that calls it.
    pub step: &'static str,
    pub returns: &'static str,
    pub params: Vec<Param>,
}

/// One of a hook's arguments: its name and JSON Schema.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub name: &'static str,
    pub schema: Value,
}

/// Every hook, in the order a run calls them.
pub fn reference() -> Vec<HookDoc> {
    Hook::ALL
        .into_iter()
        .map(|hook| HookDoc {
            name: hook.name(),
            signature: hook.signature(),
            step: crate::plan::StepKind::of_hook(hook).name(),
            returns: returns(hook),
            params: hook
                .params()
                .iter()
                .zip(schemas(hook))
                .map(|(&name, schema)| Param { name, schema })
                .collect(),
        })
        .collect()
}

/// The schema of each parameter, in [`Hook::params`] order.
fn schemas(hook: Hook) -> Vec<Value> {
    fn of<T: JsonSchema>() -> Value {
        schemars::schema_for!(T).to_value()
    }
    let ctx = of::<HookContext>();
    match hook {
        Hook::MapUser => vec![of::<UserView>(), ctx],
        Hook::OnConflict => vec![of::<WorkosUser>(), of::<Payload>(), ctx],
        Hook::MapOrganization => vec![of::<OrgView>(), ctx],
        Hook::MapConnection => vec![of::<crate::mapping::connection::ConnectionView>(), ctx],
        Hook::MapMembership => vec![of::<MembershipView>(), ctx],
        Hook::MapInvitation => vec![of::<crate::mapping::invitation::InvitationView>(), ctx],
        Hook::MapRole => vec![of::<RoleView>(), ctx],
    }
}

fn returns(hook: Hook) -> &'static str {
    match hook {
        Hook::MapUser => {
            "a map of the WorkOS fields to change (email, first_name, last_name, email_verified, external_id, metadata); () or skip(\"why\") skips the user; throw \"why\" rejects it"
        }
        Hook::OnConflict => {
            "\"update\" (take the existing user over), \"skip\", \"fail\", or a map of fields to change before taking it over; throw \"why\" rejects the user"
        }
        Hook::MapOrganization => {
            "a map of the WorkOS fields to change (name, external_id, metadata, domains); () or skip(\"why\") skips the organization; throw \"why\" rejects it"
        }
        Hook::MapConnection => {
            "a map of what to change (name, acs: \"workos\" or \"keep\", idp_metadata_url, idp_entity_id, idp_sso_url, idp_certificate, discovery_url, client_id); () or skip(\"why\") skips the connection; throw \"why\" rejects it"
        }
        Hook::MapMembership => {
            "the WorkOS role slug (a string); () or skip(\"why\") leaves the membership out; throw \"why\" rejects it"
        }
        Hook::MapInvitation => {
            "the WorkOS role slug (a string; any string for an application invitation, which has none); () or skip(\"why\") leaves the invitation out, so nobody is emailed; throw \"why\" rejects it"
        }
        Hook::MapRole => {
            "the WorkOS role slug (a string); () or skip(\"why\") leaves the role and its memberships out; throw \"why\" rejects it"
        }
    }
}

/// The reference as text: a block per hook, an indented line per field
/// (fields in alphabetical order), and `ctx`, the same for every hook, once
/// at the end.
pub fn render(docs: &[HookDoc]) -> String {
    let mut out = String::from(
        "Hooks a script may define, each optional. A map's fields are in alphabetical order;\n\
         `()` is Rhai's empty value (JSON null).\n\n",
    );
    let mut ctx = None;
    for doc in docs {
        out.push_str(&format!("fn {}\n", doc.signature));
        out.push_str(&format!("  called by: the {} step\n", doc.step));
        out.push_str(&format!("  returns: {}\n", doc.returns));
        for param in &doc.params {
            if param.name == "ctx" {
                out.push_str("  ctx: map  # the same for every hook: see `ctx` below\n");
                ctx.get_or_insert(&param.schema);
                continue;
            }
            param_block(param.name, &param.schema, 1, &mut out);
        }
        out.push('\n');
    }
    if let Some(schema) = ctx {
        param_block("ctx", schema, 0, &mut out);
    }
    out
}

/// `name: type` at `depth`, then its fields below it.
fn param_block(name: &str, schema: &Value, depth: usize, out: &mut String) {
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let indent = "  ".repeat(depth);
    out.push_str(&format!("{indent}{name}: {}\n", type_name(schema, &defs)));
    fields(schema, &defs, depth + 1, out);
}

/// The lines of `schema`'s fields, `depth` levels in, nested maps below their key.
fn fields(schema: &Value, defs: &Map<String, Value>, depth: usize, out: &mut String) {
    let schema = resolve(schema, defs);
    let schema = match schema.get("items") {
        Some(items) => resolve(items, defs),
        None => schema,
    };
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let indent = "  ".repeat(depth);
    for (name, field) in properties {
        let about = field
            .get("description")
            .and_then(Value::as_str)
            .map(|text| {
                format!(
                    "  # {}",
                    text.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{indent}{name}: {}{about}\n",
            type_name(field, defs)
        ));
        fields(field, defs, depth + 1, out);
    }
}

/// `schema`, or the definition it refers to.
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.rsplit('/').next())
        .and_then(|name| defs.get(name))
        .unwrap_or(schema)
}

/// A type as a script sees it: `string`, `integer`, `boolean`, `map`,
/// `array of …`, `()` for JSON null, `any`; alternatives joined by `or`.
fn type_name(schema: &Value, defs: &Map<String, Value>) -> String {
    let schema = resolve(schema, defs);
    if schema.as_bool() == Some(true) || schema.as_object().is_some_and(Map::is_empty) {
        return "any".into();
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        return options
            .iter()
            .map(|option| type_name(option, defs))
            .collect::<Vec<_>>()
            .join(" or ");
    }
    let one = |name: &str| -> String {
        match name {
            "null" => "()".into(),
            "number" => "float".into(),
            "object" => match schema.get("additionalProperties") {
                Some(values) if values.get("type").is_some() => {
                    format!("map of {}", plural(&type_name(values, defs)))
                }
                _ => "map".into(),
            },
            "array" => match schema.get("items") {
                Some(items) => format!("array of {}", plural(&type_name(items, defs))),
                None => "array".into(),
            },
            other => other.into(),
        }
    };
    match schema.get("type") {
        Some(Value::String(name)) => one(name),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}

fn plural(name: &str) -> String {
    match name {
        "map" | "string" | "integer" | "boolean" | "float" => format!("{name}s"),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the runtime puts in a hook's argument is in the
    /// reference, and the reference lists no key the runtime leaves out.
    #[test]
    fn the_reference_lists_exactly_the_keys_a_hook_receives() {
        let keys =
            |value: Value| -> Vec<String> { value.as_object().unwrap().keys().cloned().collect() };
        let documented = |schema: Value| -> Vec<String> { keys(schema["properties"].clone()) };
        let docs = reference();
        let user = &docs.iter().find(|d| d.name == "map_user").unwrap().params[0];
        assert_eq!(
            documented(user.schema.clone()),
            keys(UserView::default().to_json())
        );
        let ctx = &docs.iter().find(|d| d.name == "map_role").unwrap().params[1];
        let context = HookContext {
            plan: "p".into(),
            revision: 1,
            dry_run: true,
            step: crate::plan::StepKind::Roles.name().into(),
            options: serde_json::json!({}),
        };
        assert_eq!(
            documented(ctx.schema.clone()),
            keys(serde_json::to_value(context).unwrap())
        );
    }

    #[test]
    fn the_text_names_nested_fields_and_optional_types() {
        let text = render(&reference());
        assert!(text.contains("fn map_user(user, ctx)\n"), "{text}");
        assert!(text.contains("    email: string or ()"), "{text}");
        assert!(text.contains("    emails: array of maps"), "{text}");
        assert!(text.contains("      verified: boolean"), "{text}");
        assert!(text.contains("    metadata: map of strings"), "{text}");
        assert!(text.ends_with("  step: string  # The step whose hook this is: `users`, `organizations`, `roles` or `memberships`.\n"), "{text}");
    }
}
