//! Reading a plan file: parse with positions, expand `${VAR}`, check the
//! schema, then the rules that cross fields, collecting every problem.
//!
//! serde stops at the first error, so the schema check runs in a loop: each
//! error is recorded, the value it points at is cut out of the tree, and
//! deserialisation runs again, until the tree passes. Schema fields are all
//! optional, so cutting a bad value never causes a second, derived error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use marked_yaml::{LoaderOptions, Node};

use super::interpolate::{self, Problem};
use super::model::*;
use super::rules::check_rules;
use super::schema::PlanSpec;
use super::shared::{LoadOptions, at, is_file_name_part, resolve};
use super::step::StepKind;
use super::yaml::{self, PathPart, SourceFile};
use crate::support::diagnostic::{self, Code, Diagnostic, Severity};

/// Where each scalar under `node` starts: to tell which section a
/// variable was met in.
fn scalar_starts(node: &Node, out: &mut HashSet<(usize, usize)>) {
    match node {
        Node::Scalar(scalar) => {
            if let Some(start) = scalar.span().start() {
                out.insert((start.line(), start.column()));
            }
        }
        Node::Mapping(mapping) => mapping.values().for_each(|n| scalar_starts(n, out)),
        Node::Sequence(sequence) => sequence.iter().for_each(|n| scalar_starts(n, out)),
    }
}

/// A plan that loaded, with the warnings found on the way and the raw text.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub plan: Plan,
    pub warnings: Vec<Diagnostic>,
}

const MAX_SCHEMA_PASSES: usize = 64;

/// Everything learnt from reading a plan, whether or not it is valid.
#[derive(Debug)]
pub struct Inspection {
    pub path: PathBuf,
    /// The plan, when it had no errors.
    pub plan: Option<Plan>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The script the plan names, resolved, even when the plan has errors.
    pub script: Option<PathBuf>,
    missing_variables: Vec<String>,
}

impl Inspection {
    pub fn add(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
        diagnostic::sort(&mut self.diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The plan and its warnings, or the error that says why not.
    pub fn finish(self) -> Result<Loaded, PlanError> {
        let has_errors = self.has_errors();
        match self.plan {
            Some(plan) if !has_errors => Ok(Loaded {
                plan,
                warnings: self.diagnostics,
            }),
            _ => {
                let only_missing_variables = self
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .all(|d| d.code == Code::MissingVariable);
                if only_missing_variables && !self.missing_variables.is_empty() {
                    let mut names = self.missing_variables;
                    names.sort();
                    names.dedup();
                    Err(PlanError::MissingVariables {
                        path: self.path,
                        names,
                        diagnostics: self.diagnostics,
                    })
                } else {
                    Err(invalid(&self.path, self.diagnostics))
                }
            }
        }
    }
}

/// Reads and checks a plan; see [`inspect`] to keep going past errors.
pub fn load(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    options: LoadOptions,
) -> Result<Loaded, PlanError> {
    inspect(path, lookup, options)?.finish()
}

/// Reads and checks a plan, collecting every problem. Fails only when the file cannot be read.
pub fn inspect(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    options: LoadOptions,
) -> Result<Inspection, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // Some editors start UTF-8 files with a byte-order mark; YAML does not
    // want it (it would make `ferry` an unknown key).
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let file = SourceFile { path, text };
    let mut inspection = Inspection {
        path: path.to_path_buf(),
        plan: None,
        diagnostics: Vec::new(),
        script: None,
        missing_variables: Vec::new(),
    };
    let diagnostics = &mut inspection.diagnostics;

    let parsed = marked_yaml::parse_yaml_with_options(
        0,
        text,
        LoaderOptions::default()
            .error_on_duplicate_keys(true)
            // Quoted scalars stay strings: `"12"` is text, `12` a number.
            .prevent_coercion(true)
            .toplevel_mapping(),
    );
    let mut root = match parsed {
        Ok(root) => root,
        Err(error) => {
            diagnostics.push(load_error(&file, error));
            return Ok(inspection);
        }
    };

    // `state:` may name the environment (`.ferry/${FERRY_ENV}.db`), but a
    // variable's value never becomes more of a path than one file name.
    if let Some(state) = root.as_mapping().and_then(|m| m.get_scalar("state")) {
        let unsafe_values = std::cell::RefCell::new(Vec::new());
        let _ = interpolate::expand(state.as_str(), &|name| {
            let value = lookup(name)?;
            if !is_file_name_part(&value) {
                unsafe_values.borrow_mut().push(name.to_owned());
            }
            Some(value)
        });
        let location = state.span().start().map(|m| file.location(m));
        for name in unsafe_values.into_inner() {
            diagnostics.push(
                Diagnostic::error(format!(
                    "environment variable `{name}` cannot be part of the `state:` path"
                ))
                .at_opt(location.clone())
                .hint(format!("set {name} to a name such as `staging` or `production`: letters, digits, `.`, `_` and `-`, starting with a letter or digit")),
            );
        }
    }
    let mut in_target = HashSet::new();
    if let Some(target) = yaml::get(&root, &[PathPart::Key("target")]) {
        scalar_starts(target, &mut in_target);
    }
    for unresolved in interpolate::interpolate(&mut root, lookup) {
        let location = unresolved.marker.map(|m| file.location(&m));
        let under_target = unresolved
            .marker
            .is_some_and(|m| in_target.contains(&(m.line(), m.column())));
        let diagnostic = match unresolved.problem {
            Problem::Missing(name) => {
                let d = Diagnostic::error(format!("environment variable `{name}` is not set"))
                    .code(Code::MissingVariable)
                    .hint(format!("export {name}=… before running ferry; plans take secrets only from the environment"));
                let severity = if under_target {
                    options.missing_target_variable
                } else {
                    options.missing_variable
                };
                if severity == Severity::Error {
                    inspection.missing_variables.push(name);
                }
                Diagnostic { severity, ..d }
            }
            Problem::Malformed(message) => Diagnostic::error(message)
                .hint("write `${NAME}` for a variable, `$${` for a literal `${`"),
        };
        diagnostics.push(diagnostic.at_opt(location));
    }

    let spec = check_schema(&file, &mut root, diagnostics);
    inspection.script = spec
        .as_ref()
        .and_then(|s| s.script.as_deref())
        .map(|p| resolve(file.path, p));
    inspection.plan = spec.and_then(|spec| check_rules(&file, &root, spec, options, diagnostics));
    diagnostic::sort(diagnostics);
    Ok(inspection)
}

fn invalid(path: &Path, diagnostics: Vec<Diagnostic>) -> PlanError {
    PlanError::Invalid {
        path: path.to_path_buf(),
        diagnostics,
    }
}

fn load_error(file: &SourceFile, error: marked_yaml::LoadError) -> Diagnostic {
    use marked_yaml::LoadError::*;
    let (marker, message) = match &error {
        TopLevelMustBeMapping(m) => (
            Some(*m),
            "a plan is a YAML mapping (`key: value` lines)".to_owned(),
        ),
        TopLevelMustBeSequence(m) => (Some(*m), "expected a sequence".to_owned()),
        UnexpectedAnchor(m) => (Some(*m), "YAML anchors are not allowed in plans".to_owned()),
        MappingKeyMustBeScalar(m) => (Some(*m), "keys must be plain names".to_owned()),
        UnexpectedTag(m) => (Some(*m), "YAML tags are not allowed in plans".to_owned()),
        ScanError(m, scan) => (Some(*m), format!("YAML syntax error: {scan}")),
        DuplicateKey(inner) => (
            inner.key.span().start().copied(),
            format!("duplicate key `{}`", inner.key.as_str()),
        ),
    };
    Diagnostic::error(message)
        .at_opt(marker.map(|m| file.location(&m)))
        .hint("see the plan reference in the README")
}

/// Deserialises the schema, recording and cutting out each bad value until it passes.
fn check_schema(
    file: &SourceFile,
    root: &mut Node,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PlanSpec> {
    for _ in 0..MAX_SCHEMA_PASSES {
        let error = match marked_yaml::from_node::<PlanSpec>(root) {
            Ok(spec) => return Some(spec),
            Err(error) => error,
        };
        let marker = error.start_mark();
        diagnostics.push(schema_error(file, &error).at_opt(marker.map(|m| file.location(&m))));
        let removed = marker.is_some_and(|m| yaml::remove_at(root, &m));
        if !removed {
            return None;
        }
    }
    diagnostics.push(Diagnostic::error(
        "too many problems; fix these and validate again",
    ));
    None
}

fn schema_error(file: &SourceFile, error: &marked_yaml::FromNodeError) -> Diagnostic {
    use marked_yaml::Error;
    let _ = file;
    // Sequence indexes in the path count after earlier bad items were cut
    // out, so show the path from the innermost item on; the position is exact.
    let place = error
        .path()
        .map(|p| p.rsplit_once("].").map_or(p, |(_, rest)| rest))
        .filter(|p| !p.is_empty() && *p != ".");
    match &**error {
        Error::UnknownFieldError(field, expected, _) => {
            let parent =
                place.and_then(|p| p.rsplit_once('.').map(|(parent, _)| parent.to_owned()));
            let within = parent
                .as_ref()
                .map(|parent| format!(" in `{parent}`"))
                .unwrap_or_default();
            let hint = match diagnostic::nearest(field, expected.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("valid keys here: {}", expected.join(", ")),
            };
            let diagnostic = Diagnostic::error(format!("unknown key `{field}`{within}"))
                .code(Code::UnknownKey)
                .hint(hint);
            match parent {
                Some(parent) => diagnostic.place(parent),
                None => diagnostic,
            }
        }
        Error::NotBoolean(_) => {
            Diagnostic::error(format!("{}expected `true` or `false`", at(place)))
                .hint("write true or false")
        }
        Error::IntegerParseFailure(..) => {
            Diagnostic::error(format!("{}expected a whole number", at(place)))
                .hint("write a number such as 500")
        }
        Error::FloatParseFailure(..) => {
            Diagnostic::error(format!("{}expected a number", at(place)))
        }
        Error::Other(message, _) => other_error(place, message),
    }
}

fn other_error(place: Option<&str>, message: &str) -> Diagnostic {
    if let Some(rest) = message.strip_prefix("unknown step `") {
        let name = rest.trim_end_matches('`');
        let hint = match diagnostic::nearest(name, StepKind::names()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "steps are: {}",
                StepKind::names().collect::<Vec<_>>().join(", ")
            ),
        };
        return Diagnostic::error(format!("unknown step `{name}`")).hint(hint);
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        // serde: unknown variant `x`, expected one of `a`, `b`
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let options: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let hint = match diagnostic::nearest(value, options.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("one of: {}", options.join(", ")),
        };
        return Diagnostic::error(format!("{}unknown value `{value}`", at(place))).hint(hint);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        return Diagnostic::error(format!("{}wrong type: {rest}", at(place)))
            .hint("check the plan reference in the README for this key's type");
    }
    Diagnostic::error(format!("{}{message}", at(place)))
}
