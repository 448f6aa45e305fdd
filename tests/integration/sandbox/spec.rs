//! The official OpenAPI specs as the judge of the sandbox: every answer a
//! contract test receives is held to the response schema the spec gives its
//! route, method and status, and a status the spec does not list for that
//! route fails too. The specs are read from `../shared/api/` beside the
//! repository; without them the check is skipped, except under CI, where
//! their absence fails.
//!
//! Where the sandbox knowingly answers otherwise, [`DEVIATIONS`] says so,
//! with the reason; docs/sandbox.md shows the same list.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use ferry_sandbox::request_log::{Captured, Flavor};
use serde_json::{Map, Value};

/// `(flavor, METHOD, route, status, why)`: answers the spec does not
/// describe, kept on purpose. `*` as status matches any.
pub const DEVIATIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "workos",
        "*",
        "*",
        "429",
        "rate limits: the spec documents 429 on few routes, WorkOS answers it on every one",
    ),
    (
        "clerk",
        "*",
        "*",
        "429",
        "rate limits: Clerk answers 429 on every route, the spec lists it on few",
    ),
    (
        "workos",
        "*",
        "*",
        "405",
        "a method a route does not take: not part of any operation in the spec",
    ),
    (
        "clerk",
        "*",
        "*",
        "405",
        "a method a route does not take: not part of any operation in the spec",
    ),
    (
        "workos",
        "*",
        "*",
        "401",
        "a missing or wrong key: the spec declares bearer authentication but lists 401 on few routes",
    ),
    (
        "clerk",
        "*",
        "*",
        "401",
        "a missing or wrong key: Clerk answers 401 authentication_invalid on every route",
    ),
    (
        "clerk",
        "GET",
        "*",
        "404",
        "an unknown id or route: Clerk answers 404 resource_not_found; the spec leaves it out on some routes",
    ),
    (
        "workos",
        "POST",
        "/user_management/users/{}/auth_factors",
        "404",
        "enrolling a factor for an unknown user: the spec lists only 201 and 422; WorkOS's other user routes answer 404",
    ),
    (
        "workos",
        "POST",
        "/user_management/organization_memberships",
        "409",
        "a second membership of the same user and organization: the spec documents no answer; the sandbox keeps 409 organization_membership_already_exists (ferry treats it, and any 409, as a conflict to look up)",
    ),
    (
        "workos",
        "GET",
        "/organizations/{}/roles",
        "*",
        "the path the WorkOS Node SDK 7.x calls for an organization's roles; the spec has /authorization/organizations/{}/roles",
    ),
];

struct Spec {
    doc: Value,
    /// Path templates with every `{param}` as `{}`, to the spec's own key.
    paths: Vec<(String, String)>,
}

struct Specs {
    clerk: Spec,
    workos: Spec,
}

fn dir() -> PathBuf {
    crate::common::repo().join("../shared/api")
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema's `null` type, so one
/// validator reads both specs; and `required` lists without repeats.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                normalise(child);
            }
            // The WorkOS spec repeats a name in some `required` lists
            // (`OrganizationList`), which JSON Schema forbids.
            if let Some(Value::Array(names)) = map.get_mut("required") {
                let mut seen = std::collections::HashSet::new();
                names.retain(|n| seen.insert(n.to_string()));
            }
            if map.remove("nullable") == Some(Value::Bool(true)) {
                let composed = ["allOf", "oneOf", "anyOf", "$ref"]
                    .iter()
                    .any(|k| map.contains_key(*k));
                if composed {
                    // `{type: object, nullable: true, allOf: [$ref]}`: null, or the rest.
                    let inner = Value::Object(std::mem::take(map));
                    map.insert(
                        "anyOf".into(),
                        Value::Array(vec![serde_json::json!({ "type": "null" }), inner]),
                    );
                    return;
                }
                match map.get_mut("type") {
                    Some(Value::String(kind)) => {
                        let kind = kind.clone();
                        map.insert(
                            "type".into(),
                            Value::Array(vec![kind.into(), "null".into()]),
                        );
                    }
                    Some(Value::Array(kinds)) => kinds.push("null".into()),
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert(
                            "anyOf".into(),
                            Value::Array(vec![inner, serde_json::json!({ "type": "null" })]),
                        );
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

fn template(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn load(name: &str) -> Option<Spec> {
    let text = std::fs::read_to_string(dir().join(name)).ok()?;
    let mut doc: Value = serde_yaml::from_str(&text).expect("the spec is YAML");
    normalise(&mut doc);
    let paths = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(|k| (template(k), k.clone()))
        .collect();
    Some(Spec { doc, paths })
}

fn specs() -> Option<&'static Specs> {
    static SPECS: OnceLock<Option<Specs>> = OnceLock::new();
    SPECS
        .get_or_init(|| {
            let loaded = load("clerk-bapi-openapi.yaml")
                .zip(load("workos-openapi.yaml"))
                .map(|(clerk, workos)| Specs { clerk, workos });
            if loaded.is_none() && std::env::var_os("CI").is_some() {
                panic!(
                    "the OpenAPI specs are missing from {}: CI must have them",
                    dir().display()
                );
            }
            loaded
        })
        .as_ref()
}

fn deviation(flavor: &str, method: &str, route: &str, status: &str) -> bool {
    DEVIATIONS.iter().any(|(f, m, r, s, _)| {
        *f == flavor
            && (*m == "*" || *m == method)
            && (*r == "*" || *r == route)
            && (*s == "*" || *s == status)
    })
}

/// Compiled validators, by (flavor, method, route, status).
type Cache = Mutex<HashMap<String, Option<std::sync::Arc<jsonschema::Validator>>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether the specs are here to judge (they must be, under CI).
pub fn specs_present() -> Option<()> {
    specs().map(|_| ())
}

/// `flavor METHOD route status` of an answer the specs judge (not one a
/// [`DEVIATIONS`] entry excuses); `None` without the specs.
pub fn judged_pair(answer: &Captured) -> Option<String> {
    specs()?;
    let (flavor, route) = match answer.flavor {
        Flavor::Clerk => ("clerk", answer.route.trim_start_matches("/v1").to_owned()),
        Flavor::Workos => ("workos", answer.route.clone()),
    };
    let route = template(&route);
    let status = answer.status.to_string();
    (!deviation(flavor, &answer.method, &route, &status))
        .then(|| format!("{flavor} {} {route} {status}", answer.method))
}

/// Why `answer` is not what the spec says, if it is not.
pub fn judge(answer: &Captured) -> Option<String> {
    let specs = specs()?;
    let (flavor, spec, route) = match answer.flavor {
        Flavor::Clerk => (
            "clerk",
            &specs.clerk,
            answer.route.trim_start_matches("/v1").to_owned(),
        ),
        Flavor::Workos => ("workos", &specs.workos, answer.route.clone()),
    };
    let route = template(&route);
    let status = answer.status.to_string();
    let method = answer.method.to_lowercase();
    if deviation(flavor, &answer.method, &route, &status) {
        return None;
    }
    let name = format!("{flavor} {} {route} {status}", answer.method);
    let Some(key) = spec.paths.iter().find(|(t, _)| *t == route).map(|(_, k)| k) else {
        return Some(format!("{name}: the spec has no such route"));
    };
    let Some(operation) = spec.doc["paths"][key].get(&method) else {
        return Some(format!(
            "{name}: the spec has no {} on {key}",
            answer.method
        ));
    };
    let Some(mut response) = operation["responses"]
        .get(&status)
        .or_else(|| operation["responses"].get("default"))
    else {
        return Some(format!(
            "{name}: status {status} is not in the spec for this route"
        ));
    };
    // Clerk's responses are references (`#/components/responses/User.Count`).
    while let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        match spec.doc.pointer(pointer) {
            Some(target) => response = target,
            None => {
                return Some(format!(
                    "{name}: the spec's reference {reference} leads nowhere"
                ));
            }
        }
    }
    let validator = {
        let mut cache = cache().lock().unwrap();
        cache
            .entry(name.clone())
            .or_insert_with(|| {
                let schema = response.pointer("/content/application~1json/schema")?;
                let mut document = match schema.clone() {
                    Value::Object(map) => map,
                    other => Map::from_iter([("allOf".to_owned(), Value::Array(vec![other]))]),
                };
                document.insert("components".into(), spec.doc["components"].clone());
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&Value::Object(document))
                    .unwrap_or_else(|e| panic!("{name}: the spec's schema does not compile: {e}"));
                Some(std::sync::Arc::new(validator))
            })
            .clone()
    };
    let validator = validator?;
    let body: Value = match serde_json::from_slice(&answer.body) {
        Ok(body) => body,
        Err(_) if answer.body.is_empty() => Value::Null,
        Err(error) => return Some(format!("{name}: the body is not JSON: {error}")),
    };
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| format!("{name}: {}", errors.join("; ")))
}

/// The judge can fail: answers that break the specs are named.
#[test]
fn the_judge_names_answers_the_specs_do_not_describe() {
    if specs().is_none() {
        return; // no specs here, and not CI (which fails above without them)
    }
    let answer = |flavor, method: &str, route: &str, status, body: Value| Captured {
        flavor,
        method: method.into(),
        route: route.into(),
        status,
        body: serde_json::to_vec(&body).unwrap(),
    };
    let listless = answer(
        Flavor::Workos,
        "GET",
        "/organizations",
        200,
        serde_json::json!({ "object": "list", "data": [] }),
    );
    assert!(judge(&listless).unwrap().contains("list_metadata"));
    let teapot = answer(Flavor::Workos, "GET", "/organizations", 418, Value::Null);
    assert!(judge(&teapot).unwrap().contains("418 is not in the spec"));
    let unknown = answer(Flavor::Workos, "GET", "/nowhere", 200, Value::Null);
    assert!(judge(&unknown).unwrap().contains("no such route"));
    let fine = answer(
        Flavor::Workos,
        "GET",
        "/organizations",
        200,
        serde_json::json!({ "object": "list", "data": [], "list_metadata": { "before": null, "after": null } }),
    );
    assert_eq!(judge(&fine), None);
    // Clerk's OpenAPI 3.0 `nullable` is understood; a wrong type is not.
    let count = answer(
        Flavor::Clerk,
        "GET",
        "/v1/users/count",
        200,
        serde_json::json!({ "object": "total_count", "total_count": "many" }),
    );
    assert!(judge(&count).is_some());
}

/// The sandbox's old OAuth verification (`verification_otp` on an external
/// account) is what the spec's oneOf refuses: the judge sees it.
#[tokio::test]
async fn the_judge_refuses_an_oauth_account_with_an_otp_verification() {
    if specs().is_none() {
        return;
    }
    let (harness, _) = super::Harness::generated(60, 1).await;
    let (status, body) = harness.clerk_get("/users?limit=100").await;
    assert_eq!(status, 200);
    let mut users = body.as_array().unwrap().clone();
    let social = users
        .iter_mut()
        .find(|u| !u["external_accounts"].as_array().unwrap().is_empty())
        .expect("a social user");
    let captured = |user: &Value| Captured {
        flavor: Flavor::Clerk,
        method: "GET".into(),
        route: "/v1/users/{id}".into(),
        status: 200,
        body: serde_json::to_vec(user).unwrap(),
    };
    assert_eq!(judge(&captured(social)), None, "as served, it conforms");
    social["external_accounts"][0]["verification"]["object"] = "verification_otp".into();
    assert!(judge(&captured(social)).is_some());
}

/// docs/sandbox.md's "Known differences" lists exactly [`DEVIATIONS`].
#[test]
fn the_known_differences_are_exactly_the_allowed_deviations() {
    let docs = std::fs::read_to_string(crate::common::repo().join("docs/sandbox.md")).unwrap();
    let section = docs
        .split("## Known differences from the real services")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the Known differences section");
    let mut documented: Vec<(String, String, String, String)> = section
        .lines()
        .filter(|line| line.starts_with("| workos") || line.starts_with("| clerk"))
        .map(|line| {
            let cells: Vec<String> = line
                .split('|')
                .map(|cell| cell.trim().trim_matches('`').to_owned())
                .collect();
            (
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
                cells[4].clone(),
            )
        })
        .collect();
    let mut allowed: Vec<(String, String, String, String)> = DEVIATIONS
        .iter()
        .map(|(f, m, r, s, _)| ((*f).into(), (*m).into(), (*r).into(), (*s).into()))
        .collect();
    documented.sort();
    allowed.sort();
    assert_eq!(documented, allowed);
}
