//! The plan's script tests (`ferry test`): call a hook with an input and
//! compare what it returns with what the test expects, producing a readable
//! diff on mismatch. It joins the plan (the tests) and the script (the hooks),
//! so it belongs to neither.

use serde::Serialize;
use serde_json::Value;

use crate::plan::{Expectation, ScriptTest};
use crate::script::{Hook, Outcome, Script, ScriptError};

/// The result of one test.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub name: String,
    pub hook: Hook,
    pub location: String,
    pub passed: bool,
    /// What went wrong, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Expected against actual, as a unified diff of pretty JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// Runs one test. `ctx` is the context the hook receives (the plan's, merged
/// with the test's own `ctx:`).
pub fn run(script: &Script, test: &ScriptTest, ctx: &Value) -> TestReport {
    let record = test
        .input
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("the test input")
        .to_owned();
    let result = match test.hook {
        Hook::OnConflict => match (test.input.get("existing"), test.input.get("desired")) {
            (Some(existing), Some(desired)) => {
                script.call(test.hook, &record, &[existing, desired, ctx])
            }
            _ => {
                return report(
                    test,
                    Some("on_conflict tests need `input: { existing: {…}, desired: {…} }`".into()),
                    None,
                );
            }
        },
        hook => script.call(hook, &record, &[&test.input, ctx]),
    };
    let (failure, diff) = judge(test, result);
    report(test, failure, diff)
}

fn report(test: &ScriptTest, failure: Option<String>, diff: Option<String>) -> TestReport {
    TestReport {
        name: test.name.clone(),
        hook: test.hook,
        location: test.location.to_string(),
        passed: failure.is_none(),
        failure,
        diff,
    }
}

fn judge(
    test: &ScriptTest,
    result: Result<Outcome, ScriptError>,
) -> (Option<String>, Option<String>) {
    let skip_string = |v: &Value| test.hook == Hook::OnConflict && v.as_str() == Some("skip");
    match (&test.expect, result) {
        (Expectation::Reject, Err(ScriptError::Rejected { .. })) => (None, None),
        (Expectation::Skip, Ok(Outcome::Skip)) => (None, None),
        (Expectation::Skip, Ok(Outcome::Value(v))) if skip_string(&v) => (None, None),
        (Expectation::Partial(expected), Ok(Outcome::Value(actual))) => {
            if partial_match(expected, &actual) {
                (None, None)
            } else {
                let shown = project(expected, &actual);
                (
                    Some("the result differs from `expect`".into()),
                    Some(diff(expected, &shown)),
                )
            }
        }
        (Expectation::Equals(expected), Ok(Outcome::Value(actual))) => {
            if *expected == actual {
                (None, None)
            } else {
                (
                    Some("the result differs from `expect`".into()),
                    Some(diff(expected, &actual)),
                )
            }
        }
        (expected, Ok(Outcome::Skip)) => (
            Some(format!(
                "expected {}, the hook returned () (skip)",
                describe(expected)
            )),
            None,
        ),
        (expected, Ok(Outcome::Value(actual))) => (
            Some(format!(
                "expected {}, the hook returned a value",
                describe(expected)
            )),
            Some(diff(&Value::String(describe(expected)), &actual)),
        ),
        (expected, Err(error)) => (
            Some(format!("expected {}, but {error}", describe(expected))),
            None,
        ),
    }
}

fn describe(expect: &Expectation) -> String {
    match expect {
        Expectation::Partial(_) => "a map".into(),
        Expectation::Equals(v) => format!("`{v}`"),
        Expectation::Skip => "skip".into(),
        Expectation::Reject => "reject (a `throw`)".into(),
    }
}

/// Every key of `expected` is in `actual` with a matching value; maps recurse,
/// everything else compares whole.
pub fn partial_match(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => expected
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|a| partial_match(value, a))),
        _ => expected == actual,
    }
}

/// `actual` cut down to the keys `expected` names, so a diff shows only what the test checks.
fn project(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => Value::Object(
            expected
                .iter()
                .filter_map(|(key, value)| {
                    actual.get(key).map(|a| (key.clone(), project(value, a)))
                })
                .collect(),
        ),
        _ => actual.clone(),
    }
}

fn diff(expected: &Value, actual: &Value) -> String {
    let expected = serde_json::to_string_pretty(expected).unwrap_or_default() + "\n";
    let actual = serde_json::to_string_pretty(actual).unwrap_or_default() + "\n";
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

/// Runs the plan's tests (those whose name contains `filter`, when given)
/// against its script, each with the `ctx` a run would pass plus the test's own.
pub fn run_all(project: &crate::project::Project, filter: Option<&str>) -> Vec<TestReport> {
    let tests = project
        .plan
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)));
    tests
        .map(|test| {
            let Some(script) = &project.script else {
                return TestReport {
                    name: test.name.clone(),
                    hook: test.hook,
                    location: test.location.to_string(),
                    passed: false,
                    failure: Some("the plan names no script".into()),
                    diff: None,
                };
            };
            let mut ctx = project.hook_context(test.hook.step(), true);
            if let (Some(Value::Object(extra)), Some(base)) = (&test.ctx, ctx.as_object_mut()) {
                base.extend(extra.clone());
            }
            run(script, test, &ctx)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partial_match_ignores_extra_keys_but_not_wrong_values() {
        let actual = json!({"email": "a@b.c", "metadata": {"plan": "pro", "x": "1"}});
        assert!(partial_match(
            &json!({"metadata": {"plan": "pro"}}),
            &actual
        ));
        assert!(!partial_match(
            &json!({"metadata": {"plan": "free"}}),
            &actual
        ));
        assert!(!partial_match(&json!({"missing": null}), &actual));
    }
}
