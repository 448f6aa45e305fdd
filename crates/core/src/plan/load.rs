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
use super::schema::*;
use super::schema::{PlanSpec, StepSpec, TestSpec};
use super::step::{Step, StepKind};
use super::yaml::{self, PathPart, SourceFile};
use crate::script::Hook;
use crate::support::diagnostic::{self, Code, Diagnostic, Location, Severity};

/// How strict loading is about what only a run needs.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Severity of an unset `${VAR}`: an error for commands that use the
    /// values, a warning for `validate`, which checks the plan as written.
    pub missing_variable: Severity,
    /// Severity of an export file that does not exist (yet).
    pub missing_export: Severity,
    /// Severity of an unset `${VAR}` under `target:`, for a command that
    /// reads the source only (`assess`).
    pub missing_target_variable: Severity,
}

impl LoadOptions {
    pub fn for_validation() -> Self {
        Self {
            missing_variable: Severity::Warning,
            missing_export: Severity::Warning,
            missing_target_variable: Severity::Warning,
        }
    }

    pub fn for_use() -> Self {
        Self {
            missing_variable: Severity::Error,
            missing_export: Severity::Error,
            missing_target_variable: Severity::Error,
        }
    }

    /// For a command that reads Clerk only: `target:` may name variables
    /// that are not set (no WorkOS key is needed to assess).
    pub fn for_source_only() -> Self {
        Self {
            missing_target_variable: Severity::Warning,
            ..Self::for_use()
        }
    }
}

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

/// Whether `text` may be part of a file name: up to 64 letters, digits,
/// `.`, `_` and `-`, starting with a letter or digit (so never `..`, a
/// separator, or a hidden name).
fn is_file_name_part(text: &str) -> bool {
    text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A path from the plan, relative to the plan file's folder, with `.` and `..` folded.
fn resolve(plan_path: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        plan_path.parent().unwrap_or(Path::new("")).join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
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

fn at(place: Option<&str>) -> String {
    place.map(|p| format!("`{p}`: ")).unwrap_or_default()
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

/// The checks serde cannot make: required keys, versions, cross-field
/// rules, files. Each plan section has its own check; [`check_steps`] and
/// [`check_tests`] take the steps and the script tests.
fn check_rules(
    file: &SourceFile,
    root: &Node,
    spec: PlanSpec,
    options: LoadOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Plan> {
    let errors_before = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut rules = Rules {
        file,
        root,
        options,
        diagnostics,
    };
    rules.version(spec.ferry);
    let name = rules.name(spec.name.as_deref());
    let has_export = spec
        .source
        .as_ref()
        .and_then(|s| s.clerk.as_ref())
        .is_some_and(|c| c.export_csv.is_some() || c.export_json.is_some());
    let source = rules.source(spec.source.and_then(|s| s.clerk));
    let target = rules.target(spec.target.and_then(|t| t.workos));
    let steps = spec.steps.unwrap_or_default();
    let given = Given {
        target: target.is_some(),
        export: has_export,
    };
    check_steps(file, root, &steps, given, rules.diagnostics);
    let script = rules.script(spec.script.as_deref());
    let tests = check_tests(
        file,
        root,
        spec.tests.unwrap_or_default(),
        script.is_some(),
        rules.diagnostics,
    );
    let report = rules.report(spec.report.unwrap_or_default());
    let state = rules.state(spec.state, &name);
    let on_deleted = spec.sync.and_then(|s| s.on_deleted).unwrap_or_default();
    let users = steps.iter().find_map(|step| match step {
        StepSpec::Users(options) => Some(options),
        _ => None,
    });
    let pacing = Pacing::resolve(
        users.and_then(|o| o.max_attempts),
        users.and_then(|o| o.max_wait_secs),
        users.and_then(|o| o.concurrency),
        target.as_ref().map(|t| &t.limits),
    );
    let roles = steps
        .iter()
        .find_map(|step| match step {
            StepSpec::Memberships(options) => options.roles.clone(),
            _ => None,
        })
        .unwrap_or_default();
    let dir = file.path.parent().unwrap_or(Path::new("."));
    let steps = steps.iter().map(|spec| Step::resolve(spec, dir)).collect();

    let errors_after = diagnostics.iter().filter(|d| d.is_error()).count();
    if errors_after > errors_before {
        return None;
    }
    let script_bytes = script.as_ref().and_then(|s| std::fs::read(s).ok());
    Some(Plan {
        path: file.path.to_path_buf(),
        name,
        revision: spec.revision.unwrap_or(1),
        source: source?,
        target,
        checksum: Checksum::compute(file.text.as_bytes(), script_bytes.as_deref()),
        script,
        state,
        steps,
        roles,
        pacing,
        report,
        tests,
        on_deleted,
    })
}

/// What the section checks share: the file, its tree, and where problems go.
struct Rules<'r, 'f> {
    file: &'r SourceFile<'f>,
    root: &'r Node,
    options: LoadOptions,
    diagnostics: &'r mut Vec<Diagnostic>,
}

impl Rules<'_, '_> {
    /// Where the value at `path` is.
    fn value_at(&self, path: &[PathPart]) -> Option<Location> {
        yaml::get(self.root, path).and_then(|n| self.file.span_location(n.span()))
    }

    /// Where the key `key` of the map at `parent` is.
    fn key_at(&self, parent: &[PathPart], key: &str) -> Option<Location> {
        yaml::get(self.root, parent)
            .and_then(|n| yaml::key_span(n, key))
            .and_then(|s| self.file.span_location(s))
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        resolve(self.file.path, path)
    }

    /// `ferry:`: present, and a version this ferry reads.
    fn version(&mut self, ferry: Option<u32>) {
        match ferry {
            None => self.diagnostics.push(
                Diagnostic::error("missing `ferry:`, the plan-file version")
                    .at(self.file.start())
                    .hint(format!("start the plan with `ferry: {SUPPORTED_VERSION}`")),
            ),
            Some(SUPPORTED_VERSION) => {}
            Some(other) => self.diagnostics.push(
                Diagnostic::error(format!("unknown plan version {other}"))
                    .at_opt(self.value_at(&[PathPart::Key("ferry")]))
                    .hint(format!("this ferry reads plan version {SUPPORTED_VERSION}; upgrade ferry or write `ferry: {SUPPORTED_VERSION}`")),
            ),
        }
    }

    /// `name:`: present, and safe as part of a file name (it names the
    /// default journal, the reports and the lists).
    fn name(&mut self, name: Option<&str>) -> String {
        let name = name.unwrap_or_default().to_owned();
        let safe = is_file_name_part(&name);
        if name.trim().is_empty() {
            self.diagnostics.push(
                Diagnostic::error("missing `name:`").at(self.file.start()).hint(
                    "name the migration, e.g. `name: acme-cutover`; reports and the journal use it",
                ),
            );
        } else if !safe {
            self.diagnostics.push(
                Diagnostic::error(format!(
                    "`name: {}` cannot name files",
                    name.escape_debug()
                ))
                .at_opt(self.key_at(&[], "name"))
                .hint("use up to 64 letters, digits, `.`, `_` and `-`, starting with a letter or digit (e.g. `acme-cutover`)"),
            );
        }
        name
    }

    /// `source.clerk`: present, with a key or an export; its URL and export files.
    fn source(&mut self, clerk: Option<ClerkSpec>) -> Option<ClerkSource> {
        match clerk {
            None => {
                self.diagnostics.push(
                    Diagnostic::error("missing `source.clerk`")
                        .at_opt(self.key_at(&[], "source").or_else(|| Some(self.file.start())))
                        .hint("give `source: { clerk: { secret_key: ${CLERK_SECRET_KEY} } }` and/or `export_csv:`"),
                );
                None
            }
            Some(clerk) => {
                let clerk_path = [PathPart::Key("source"), PathPart::Key("clerk")];
                let had_unknown_key = self.diagnostics.iter().any(|d| {
                    d.code == Code::UnknownKey && d.place.as_deref() == Some("source.clerk")
                });
                if clerk.secret_key.is_none()
                    && clerk.export_csv.is_none()
                    && clerk.export_json.is_none()
                    && !had_unknown_key
                {
                    self.diagnostics.push(
                        Diagnostic::error("`source.clerk` needs `secret_key`, `export_csv` or `export_json`")
                            .at_opt(self.key_at(&[PathPart::Key("source")], "clerk"))
                            .hint("the API gives users, organizations and memberships; the CSV export adds password digests and TOTP secrets"),
                    );
                }
                let api_url = clerk
                    .api_url
                    .clone()
                    .unwrap_or_else(|| DEFAULT_CLERK_API_URL.into());
                let at = self.value_at(&[clerk_path[0], clerk_path[1], PathPart::Key("api_url")]);
                check_url(&api_url, at, self.diagnostics);
                for (key, export) in [
                    ("export_csv", &clerk.export_csv),
                    ("export_json", &clerk.export_json),
                ] {
                    if let Some(export) = export
                        && !self.resolve(export).is_file()
                    {
                        self.diagnostics.push(Diagnostic {
                            severity: self.options.missing_export,
                            ..Diagnostic::error(format!(
                                "export file {} does not exist",
                                self.resolve(export).display()
                            ))
                            .at_opt(self.value_at(&[
                                clerk_path[0],
                                clerk_path[1],
                                PathPart::Key(key),
                            ]))
                            .hint("paths are relative to the plan file's folder")
                        });
                    }
                }
                Some(ClerkSource {
                    secret_key: clerk.secret_key,
                    api_url,
                    export_csv: clerk.export_csv.as_deref().map(|p| self.resolve(p)),
                    export_json: clerk.export_json.as_deref().map(|p| self.resolve(p)),
                    requests_per_10s: clerk.limits.and_then(|l| l.requests_per_10s),
                })
            }
        }
    }

    /// `target.workos`: its URL and limits, with the documented defaults.
    fn target(&mut self, workos: Option<WorkosSpec>) -> Option<WorkosTarget> {
        workos.map(|workos| {
            let api_url = workos
                .api_url
                .clone()
                .unwrap_or_else(|| DEFAULT_WORKOS_API_URL.into());
            let at = self.value_at(&[
                PathPart::Key("target"),
                PathPart::Key("workos"),
                PathPart::Key("api_url"),
            ]);
            check_url(&api_url, at, self.diagnostics);
            let defaults = WorkosLimits::default();
            let limits = workos.limits.unwrap_or_default();
            let limits = WorkosLimits {
                writes_per_10s: limits.writes_per_10s.unwrap_or(defaults.writes_per_10s),
                reads_per_10s: limits.reads_per_10s.unwrap_or(defaults.reads_per_10s),
                requests_per_60s: limits.requests_per_60s.unwrap_or(defaults.requests_per_60s),
                authenticate_per_60s: limits
                    .authenticate_per_60s
                    .unwrap_or(defaults.authenticate_per_60s),
            };
            for (key, value) in [
                ("writes_per_10s", limits.writes_per_10s),
                ("reads_per_10s", limits.reads_per_10s),
                ("requests_per_60s", limits.requests_per_60s),
                ("authenticate_per_60s", limits.authenticate_per_60s),
            ] {
                if value == 0 {
                    self.diagnostics.push(
                        Diagnostic::error(format!("`{key}` must be at least 1"))
                            .at_opt(self.value_at(&[
                                PathPart::Key("target"),
                                PathPart::Key("workos"),
                                PathPart::Key("limits"),
                                PathPart::Key(key),
                            ]))
                            .hint("a limit of 0 would never send a request"),
                    );
                }
            }
            WorkosTarget {
                api_key: workos.api_key,
                client_id: workos.client_id,
                api_url,
                limits,
                oauth_providers: workos
                    .oauth_providers
                    .unwrap_or_else(|| vec!["google".into(), "microsoft".into()]),
                webhooks: workos.webhooks.unwrap_or_default(),
            }
        })
    }

    /// `script:`: the file exists.
    fn script(&mut self, script: Option<&Path>) -> Option<PathBuf> {
        let script = script.map(|p| self.resolve(p));
        if let Some(script) = &script
            && !script.is_file()
        {
            self.diagnostics.push(
                Diagnostic::error(format!("script {} does not exist", script.display()))
                    .at_opt(self.value_at(&[PathPart::Key("script")]))
                    .hint("paths are relative to the plan file's folder; `ferry init` writes a starter script"),
            );
        }
        script
    }

    /// `report:`: its folder, formats and templates.
    fn report(&mut self, report: ReportSpec) -> ReportSettings {
        let report = ReportSettings {
            dir: self.resolve(report.dir.as_deref().unwrap_or(Path::new("reports"))),
            formats: report
                .formats
                .unwrap_or_else(|| vec![ReportFormat::Html, ReportFormat::Md, ReportFormat::Json]),
            templates: report.templates.as_deref().map(|p| self.resolve(p)),
        };
        if let Some(templates) = &report.templates
            && !templates.is_dir()
        {
            self.diagnostics.push(
                Diagnostic::error(format!(
                    "report templates folder {} does not exist",
                    templates.display()
                ))
                .at_opt(self.value_at(&[PathPart::Key("report"), PathPart::Key("templates")])),
            );
        }
        report
    }

    /// `state:`, or `.ferry/<name>.db` beside the plan.
    fn state(&self, state: Option<PathBuf>, name: &str) -> PathBuf {
        self.resolve(&state.unwrap_or_else(|| {
            PathBuf::from(format!(
                ".ferry/{}.db",
                if name.is_empty() { "ferry" } else { &name }
            ))
        }))
    }
}

/// `https://` anywhere; `http://` only to this machine.
fn check_url(url: &str, location: Option<Location>, diagnostics: &mut Vec<Diagnostic>) {
    match reqwest::Url::parse(url) {
        Err(error) => diagnostics.push(
            Diagnostic::error(format!("`{url}` is not a URL: {error}"))
                .at_opt(location.clone())
                .hint("write a full URL such as https://api.workos.com"),
        ),
        // A user name or password in the URL would travel into the journal's
        // binding, the report and every error: refused, and never echoed.
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => diagnostics
            .push(
                Diagnostic::error(format!(
                    "the URL for {} holds a user name or password",
                    parsed.host_str().unwrap_or("this API")
                ))
                .at_opt(location.clone())
                .hint("remove `user:password@`: ferry authenticates with the API key, taken from the environment"),
            ),
        Ok(parsed) => match parsed.scheme() {
            "https" => {}
            "http" if super::endpoint::is_loopback(&parsed) => {}
            "http" => diagnostics.push(
                Diagnostic::error(format!("`{url}` is plain http to another machine"))
                    .at_opt(location.clone())
                    .hint("use https; plain http is allowed only to loopback (a local sandbox)"),
            ),
            other => diagnostics.push(
                Diagnostic::error(format!("`{url}`: unsupported scheme `{other}`"))
                    .at_opt(location.clone())
                    .hint("use https"),
            ),
        },
    }
}

/// What the plan's other sections give its steps.
#[derive(Debug, Clone, Copy)]
struct Given {
    target: bool,
    /// A Dashboard export (CSV or JSON): the only source of digests.
    export: bool,
}

fn check_steps(
    file: &SourceFile,
    root: &Node,
    steps: &[StepSpec],
    given: Given,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let has_target = given.target;
    // A plan with errors gets them first, not advice about its choices
    // (a `passwords:` value that did not parse is one of them).
    let invalid_already = diagnostics.iter().any(Diagnostic::is_error);
    let step_location = |index: usize| {
        yaml::get(root, &[PathPart::Key("steps"), PathPart::Index(index)])
            .and_then(|n| file.span_location(n.span()))
    };
    if steps.is_empty() {
        diagnostics.push(
            Diagnostic::error("the plan has no steps")
                .at_opt(
                    yaml::key_span(root, "steps")
                        .and_then(|s| file.span_location(s))
                        .or_else(|| Some(file.start())),
                )
                .hint(format!(
                    "list steps under `steps:`, from: {}",
                    StepKind::names().collect::<Vec<_>>().join(", ")
                )),
        );
        return;
    }
    let mut seen = HashSet::new();
    for (index, step) in steps.iter().enumerate() {
        if !seen.insert(step.kind()) {
            diagnostics.push(
                Diagnostic::error(format!("step `{}` is listed twice", step.name()))
                    .at_opt(step_location(index))
                    .hint("each step runs once per plan; merge the two entries' options"),
            );
        }
        if step.kind().needs_target() && !has_target {
            diagnostics.push(
                Diagnostic::error(format!("step `{}` needs `target.workos`", step.name()))
                    .at_opt(step_location(index))
                    .hint("add `target: { workos: { api_key: ${WORKOS_API_KEY}, client_id: ${WORKOS_CLIENT_ID} } }`"),
            );
        }
        if let StepSpec::Users(options) = step
            && !given.export
            && !invalid_already
            && options.passwords.unwrap_or(PasswordPolicy::Import) == PasswordPolicy::Import
        {
            diagnostics.push(
                Diagnostic::warning(
                    "`passwords: import` (the default) with no export: no password can be carried",
                )
                .at_opt(step_location(index))
                .hint("Clerk's API never returns digests; set `source.clerk.export_csv:` to the Dashboard CSV export, or say `passwords: skip` to create every user without one (they are listed for a reset)"),
            );
        }
        if let StepSpec::Memberships(options) = step {
            if !steps.iter().any(|s| s.kind() == StepKind::Roles) {
                diagnostics.push(
                    Diagnostic::warning("`memberships` without a `roles` step")
                        .at_opt(step_location(index))
                        .hint("every role the memberships use must then exist in WorkOS already (the preflight checks, and names the missing ones); add `- roles` before `memberships` to create them"),
                );
            }
            for &needed in step.kind().must_follow() {
                let position = steps.iter().position(|s| s.kind() == needed);
                if position.is_some_and(|p| p > index) {
                    diagnostics.push(
                        Diagnostic::error(format!("`memberships` runs before `{needed}`"))
                            .at_opt(step_location(index))
                            .hint(format!("memberships need the ids that `{needed}` records; list `{needed}` first")),
                    );
                }
            }
            let roles = yaml::get(
                root,
                &[
                    PathPart::Key("steps"),
                    PathPart::Index(index),
                    PathPart::Key("memberships"),
                    PathPart::Key("roles"),
                ],
            );
            // Each finding points at its role's own key in `roles:`.
            let role_location = |role: &str| {
                roles
                    .and_then(|roles| yaml::key_span(roles, role))
                    .and_then(|span| file.span_location(span))
                    .or_else(|| step_location(index))
            };
            for (clerk_role, slug) in options.roles.iter().flatten() {
                let value = roles
                    .and_then(|roles| roles.as_mapping()?.get_node(clerk_role.as_str()))
                    .and_then(Node::as_scalar);
                // YAML read `3` or `true` as text; the plan meant a number.
                let not_text = value.is_some_and(|v| {
                    v.may_coerce() && (v.as_bool().is_some() || v.as_str().parse::<f64>().is_ok())
                });
                if not_text {
                    diagnostics.push(
                        Diagnostic::error(format!(
                            "role `{clerk_role}` maps to `{slug}`, which is not a role slug"
                        ))
                        .at_opt(value.and_then(|v| file.span_location(v.span())))
                        .hint("a Clerk role maps to a WorkOS role slug, e.g. `\"org:member\": member`; quote it if the slug really is a number"),
                    );
                } else if slug.trim().is_empty() {
                    diagnostics.push(
                        Diagnostic::error(format!("role `{clerk_role}` maps to an empty slug"))
                            .at_opt(role_location(clerk_role))
                            .hint("map each Clerk role to a WorkOS role slug, e.g. `\"org:admin\": admin`"),
                    );
                }
                if !clerk_role.starts_with("org:") {
                    diagnostics.push(
                        Diagnostic::warning(format!(
                            "role `{clerk_role}` does not start with `org:`; Clerk role keys do"
                        ))
                        .at_opt(role_location(clerk_role))
                        .hint(format!("did you mean `org:{clerk_role}`?")),
                    );
                }
            }
        }
    }
    if !seen.contains(&StepKind::Verify) {
        diagnostics.push(
            Diagnostic::warning("the plan has no `verify` step")
                .at_opt(yaml::key_span(root, "steps").and_then(|s| file.span_location(s)))
                .hint("add `- verify` so every run proves its result"),
        );
    }
}

fn check_tests(
    file: &SourceFile,
    root: &Node,
    specs: Vec<TestSpec>,
    has_script: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ScriptTest> {
    let mut tests = Vec::new();
    if !specs.is_empty() && !has_script {
        diagnostics.push(
            Diagnostic::error("the plan has `tests:` but no `script:`")
                .at_opt(yaml::key_span(root, "tests").and_then(|s| file.span_location(s)))
                .hint("name the script the tests exercise with `script: scripts/….rhai`"),
        );
    }
    for (index, spec) in specs.into_iter().enumerate() {
        let item = [PathPart::Key("tests"), PathPart::Index(index)];
        let Some(node) = yaml::get(root, &item) else {
            continue;
        };
        let location = file
            .span_location(node.span())
            .unwrap_or_else(|| file.start());
        let field = |key: &str| yaml::get(node, &[PathPart::Key(key)]);
        let name = spec.name.unwrap_or_else(|| format!("test {}", index + 1));
        let mut ok = true;
        let hook = match spec.hook.as_deref() {
            None => {
                diagnostics.push(
                    Diagnostic::error(format!("test `{name}` has no `hook:`"))
                        .at(location.clone())
                        .hint(format!("one of: {}", Hook::NAMES.join(", "))),
                );
                None
            }
            Some(text) => match Hook::from_name(text) {
                Some(hook) => Some(hook),
                None => {
                    let hint = match diagnostic::nearest(text, Hook::NAMES.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("one of: {}", Hook::NAMES.join(", ")),
                    };
                    diagnostics.push(
                        Diagnostic::error(format!("test `{name}`: unknown hook `{text}`"))
                            .at_opt(field("hook").and_then(|n| file.span_location(n.span())))
                            .hint(hint),
                    );
                    None
                }
            },
        };
        let input = field("input").map(yaml::to_json);
        if input.is_none() {
            ok = false;
            diagnostics.push(
                Diagnostic::error(format!("test `{name}` has no `input:`"))
                    .at(location.clone())
                    .hint("give the record the hook receives, e.g. `input: { id: user_1, email: a@b.com }`"),
            );
        }
        let expect = field("expect").map(expectation);
        let expect_payload = field("expect_payload").map(expectation);
        if expect.is_none() && expect_payload.is_none() {
            ok = false;
            diagnostics.push(
                Diagnostic::error(format!("test `{name}` has no `expect:` nor `expect_payload:`"))
                    .at(location.clone())
                    .hint("`expect:` checks what the hook returns, `expect_payload:` what ferry would send; each takes a partial map, a string, `skip` or `reject`"),
            );
        }
        if let (Some(hook), Some(input), true) = (hook, input, ok) {
            tests.push(ScriptTest {
                name,
                hook,
                input,
                ctx: field("ctx").map(yaml::to_json),
                expect,
                expect_payload,
                location,
            });
        }
    }
    tests
}

fn expectation(node: &Node) -> Expectation {
    match (node, yaml::to_json(node)) {
        (Node::Scalar(s), _) if s.may_coerce() && s.as_str() == "skip" => Expectation::Skip,
        (Node::Scalar(s), _) if s.may_coerce() && s.as_str() == "reject" => Expectation::Reject,
        (Node::Mapping(_), value) => Expectation::Partial(value),
        (_, value) => Expectation::Equals(value),
    }
}
