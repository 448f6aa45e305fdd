//! The plan's script tests (`ferry test`): call a hook with an input and
//! compare what it returns with what the test expects, producing a readable
//! diff on mismatch. It joins the plan (the tests) and the script (the hooks),
//! so it belongs to neither.

use crate::mapping::connection::{ConnectionView, MappedConnection, map_connection};
use crate::plan::ConnectionSettings;
use crate::support::reason::Reason;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::mapping::invitation::InvitationView;
use crate::mapping::membership::{self, MembershipView};
use crate::mapping::organization::{MappedOrg, OrgView, map_organization};
use crate::mapping::role::{RoleMapper, RoleSlug, RoleView};
use crate::mapping::user::{
    ConflictChoice, Mapped, Payload, UserSettings, conflict_choice, profile,
};
use crate::plan::OrganizationSettings;
use crate::plan::Project;
use crate::plan::{Expectation, ScriptTest};
use crate::script::{Hook, HookAnswer, Script, ScriptError};
use crate::source::view::UserView;

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

/// What a run would use around a hook: the plan's settings for each step
/// and its role map, so a test sees the input and the result a run would.
pub struct Runtime<'a> {
    script: &'a Script,
    users: UserSettings,
    organizations: OrganizationSettings,
    connections: ConnectionSettings,
    roles: RoleMapper<'a>,
}

impl<'a> Runtime<'a> {
    pub fn new(project: &'a Project, script: &'a Script) -> Self {
        Self {
            script,
            users: project.plan.users().cloned().unwrap_or_default(),
            organizations: project.plan.organizations().cloned().unwrap_or_default(),
            connections: project.plan.connections().cloned().unwrap_or_default(),
            roles: crate::mapping::role::RoleMapper::of(project, true),
        }
    }
}

/// What a hook, or the runtime after it, came to.
#[derive(Debug)]
enum Observed {
    Value(Value),
    Skip(Option<String>),
    Reject(String),
    Failed(String),
}

impl From<Result<HookAnswer, ScriptError>> for Observed {
    fn from(result: Result<HookAnswer, ScriptError>) -> Self {
        match result {
            Ok(HookAnswer::Value(value)) => Self::Value(value),
            Ok(HookAnswer::Skip(reason)) => Self::Skip(reason),
            Err(error @ ScriptError::Rejected { .. }) => Self::Reject(error.to_string()),
            Err(error) => Self::Failed(error.to_string()),
        }
    }
}

impl From<Result<RoleSlug, Reason>> for Observed {
    fn from(result: Result<RoleSlug, Reason>) -> Self {
        match result {
            Ok(RoleSlug::Slug(slug)) => Self::Value(Value::String(slug)),
            Ok(RoleSlug::LeftOut(reason)) => Self::Skip(Some(reason.detail)),
            Err(reason) => Self::Reject(reason.detail),
        }
    }
}

/// The test's input as the hook receives it in a run: read into the
/// record type the runtime passes (a field left out takes its empty value,
/// `default_slug` the plan's), so a typo in a field name fails the test.
enum Input {
    User(UserView),
    Organization(OrgView),
    Connection(ConnectionView),
    Membership(MembershipView),
    Invitation(InvitationView),
    Role(RoleView),
    Conflict { existing: Value, desired: Payload },
}

impl Input {
    fn read(test: &ScriptTest, runtime: &Runtime<'_>) -> Result<Self, String> {
        let input = &test.input;
        Ok(match test.hook {
            Hook::MapUser => Self::User(typed(input, "a user")?),
            Hook::MapOrganization => Self::Organization(typed(input, "an organization")?),
            Hook::MapConnection => Self::Connection(typed(input, "a connection")?),
            Hook::MapMembership => {
                let mut view: MembershipView = typed(input, "a membership")?;
                if input.get("default_slug").is_none() {
                    view.default_slug =
                        match runtime.roles.slug(&view.role, view.role_name.as_deref()) {
                            Ok(RoleSlug::Slug(slug)) => slug,
                            _ => runtime.roles.default_slug(&view.role),
                        };
                }
                Self::Membership(view)
            }
            Hook::MapInvitation => {
                let mut view: InvitationView = typed(input, "an invitation")?;
                if input.get("default_slug").is_none()
                    && let Some(role) = &view.role
                {
                    view.default_slug = match runtime.roles.slug(role, view.role_name.as_deref()) {
                        Ok(RoleSlug::Slug(slug)) => slug,
                        _ => runtime.roles.default_slug(role),
                    };
                }
                Self::Invitation(view)
            }
            Hook::MapRole => {
                let mut view: RoleView = typed(input, "a role")?;
                if input.get("default_slug").is_none() {
                    view.default_slug = runtime.roles.default_slug(&view.key);
                }
                Self::Role(view)
            }
            Hook::OnConflict => match (input.get("existing"), input.get("desired")) {
                (Some(existing), Some(desired)) => Self::Conflict {
                    existing: existing.clone(),
                    desired: typed(desired, "a desired payload")?,
                },
                _ => {
                    return Err(
                        "on_conflict tests need `input: { existing: {…}, desired: {…} }`".into(),
                    );
                }
            },
        })
    }

    fn id(&self) -> &str {
        match self {
            Self::User(view) => &view.id,
            Self::Organization(view) => &view.id,
            Self::Connection(view) => &view.id,
            Self::Membership(view) => &view.id,
            Self::Invitation(view) => &view.id,
            Self::Role(view) => &view.key,
            Self::Conflict { desired, .. } => &desired.external_id,
        }
    }

    /// What the hook returns for this input.
    fn call(&self, script: &Script, hook: Hook, ctx: &Value) -> Observed {
        let record = match self.id() {
            "" => "the test input",
            id => id,
        };
        let result = match self {
            Self::Conflict { existing, desired } => {
                script.call(hook, record, &[existing, &desired.to_json(), ctx])
            }
            Self::User(view) => script.call(hook, record, &[&view.to_json(), ctx]),
            Self::Organization(view) => script.call(hook, record, &[&view.to_json(), ctx]),
            Self::Connection(view) => script.call(hook, record, &[&view.to_json(), ctx]),
            Self::Membership(view) => script.call(hook, record, &[&view.to_json(), ctx]),
            Self::Invitation(view) => script.call(hook, record, &[&view.to_json(), ctx]),
            Self::Role(view) => script.call(hook, record, &[&view.to_json(), ctx]),
        };
        Observed::from(result)
    }

    /// What the runtime makes of the hook's answer, as a run would.
    fn finish(&self, runtime: &Runtime<'_>, ctx: &Value) -> Observed {
        let script = Some(runtime.script);
        match self {
            Self::User(view) => match profile(view, None, &runtime.users, script, ctx) {
                Ok((payload, _)) => Observed::Value(payload.to_json()),
                Err(Mapped::Skip(reason)) => Observed::Skip(Some(reason.detail)),
                Err(Mapped::Reject(reason)) => Observed::Reject(reason.detail),
                Err(Mapped::Ready(_)) => unreachable!("a profile is never an error when ready"),
            },
            Self::Organization(view) => {
                match map_organization(
                    &view.organization(),
                    &[],
                    &runtime.organizations,
                    script,
                    ctx,
                ) {
                    MappedOrg::Ready(payload) => {
                        Observed::Value(serde_json::to_value(payload).unwrap_or_default())
                    }
                    MappedOrg::Skip(reason) => Observed::Skip(Some(reason.detail)),
                    MappedOrg::Reject(reason) => Observed::Reject(reason.detail),
                }
            }
            Self::Connection(view) => {
                match map_connection(view, &runtime.connections, script, ctx) {
                    MappedConnection::Ready { payload, .. } => {
                        Observed::Value(serde_json::to_value(payload).unwrap_or_default())
                    }
                    MappedConnection::Skip(reason) => Observed::Skip(Some(reason.detail)),
                    MappedConnection::Reject(reason) | MappedConnection::NotCreated(reason) => {
                        Observed::Reject(reason.detail)
                    }
                }
            }
            Self::Membership(view) => membership::finish(view, runtime.script, ctx).into(),
            Self::Invitation(view) => {
                crate::mapping::invitation::finish(view, runtime.script, ctx).into()
            }
            Self::Role(view) => runtime.roles.ask(runtime.script, view).into(),
            Self::Conflict { existing, desired } => {
                match conflict_choice(runtime.script, existing, desired, ctx) {
                    Ok(ConflictChoice::Update(payload)) => Observed::Value(payload.to_json()),
                    Ok(ConflictChoice::Skip) => Observed::Skip(None),
                    Ok(ConflictChoice::Fail) => Observed::Value(Value::String("fail".into())),
                    Err(reason) => Observed::Reject(reason.detail),
                }
            }
        }
    }
}

/// `input` read as the record type `T` (`what` names it in the error).
fn typed<T: DeserializeOwned>(input: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(input.clone())
        .map_err(|error| format!("the test's input is not {what}: {error}"))
}

/// Runs one test. `ctx` is the context the hook receives (the plan's, merged
/// with the test's own `ctx:`).
pub fn run(runtime: &Runtime<'_>, test: &ScriptTest, ctx: &Value) -> TestReport {
    let input = match Input::read(test, runtime) {
        Ok(input) => input,
        Err(failure) => return report(test, Some(failure), None),
    };
    if !runtime.script.defines(test.hook) {
        let failure = ScriptError::Undefined { hook: test.hook }.to_string();
        return report(test, Some(failure), None);
    }
    if let Some(expect) = &test.expect {
        let observed = input.call(runtime.script, test.hook, ctx);
        if let (Some(failure), diff) = judge(test.hook, Subject::Hook, expect, observed) {
            return report(test, Some(failure), diff);
        }
    }
    if let Some(expect) = &test.expect_payload {
        let observed = input.finish(runtime, ctx);
        if let (Some(failure), diff) = judge(test.hook, Subject::Runtime, expect, observed) {
            return report(test, Some(format!("expect_payload: {failure}")), diff);
        }
    }
    report(test, None, None)
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

/// Whose answer is judged: the hook's own, or the runtime's after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Hook,
    Runtime,
}

fn judge(
    hook: Hook,
    subject: Subject,
    expect: &Expectation,
    observed: Observed,
) -> (Option<String>, Option<String>) {
    // `on_conflict` may say "skip" as a string; the runtime reads it as a skip.
    let skip_string = |v: &Value| {
        subject == Subject::Hook && hook == Hook::OnConflict && v.as_str() == Some("skip")
    };
    let (returned, result) = match subject {
        Subject::Hook => ("the hook returned", "expect"),
        Subject::Runtime => ("ferry would send", "expect_payload"),
    };
    match (expect, observed) {
        (Expectation::Reject, Observed::Reject(_)) => (None, None),
        (Expectation::Skip, Observed::Skip(_)) => (None, None),
        (Expectation::Skip, Observed::Value(v)) if skip_string(&v) => (None, None),
        (Expectation::Partial(expected), Observed::Value(actual)) => {
            if partial_match(expected, &actual) {
                (None, None)
            } else {
                let shown = project(expected, &actual);
                (
                    Some(format!("the result differs from `{result}`")),
                    Some(diff(expected, &shown)),
                )
            }
        }
        (Expectation::Equals(expected), Observed::Value(actual)) => {
            if *expected == actual {
                (None, None)
            } else {
                (
                    Some(format!("the result differs from `{result}`")),
                    Some(diff(expected, &actual)),
                )
            }
        }
        (expected, Observed::Skip(reason)) => {
            let skipped = match (subject, reason) {
                (Subject::Hook, None) => "the hook returned () (skip)".to_owned(),
                (Subject::Hook, Some(reason)) => format!("the hook skipped: {reason}"),
                (Subject::Runtime, Some(reason)) => format!("the record is skipped: {reason}"),
                (Subject::Runtime, None) => "the record is skipped".to_owned(),
            };
            (
                Some(format!("expected {}, {skipped}", describe(expected))),
                None,
            )
        }
        (expected, Observed::Value(actual)) => (
            Some(format!(
                "expected {}, {returned} a value",
                describe(expected)
            )),
            Some(diff(&Value::String(describe(expected)), &actual)),
        ),
        (expected, Observed::Reject(reason) | Observed::Failed(reason)) => (
            Some(format!("expected {}, but {reason}", describe(expected))),
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
pub fn run_all(project: &Project, filter: Option<&str>) -> Vec<TestReport> {
    let tests = project
        .plan
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)));
    let runtime = project
        .script
        .as_ref()
        .map(|script| Runtime::new(project, script));
    tests
        .map(|test| {
            let Some(runtime) = &runtime else {
                return report(test, Some("the plan names no script".into()), None);
            };
            let mut ctx = project.hook_context(crate::plan::StepKind::of_hook(test.hook), true);
            if let (Some(Value::Object(extra)), Some(base)) = (&test.ctx, ctx.as_object_mut()) {
                base.extend(extra.clone());
            }
            run(runtime, test, &ctx)
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
