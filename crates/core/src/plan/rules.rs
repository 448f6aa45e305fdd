//! The checks serde cannot make, each with its position in the file:
//! required keys and versions, the source and target, the script and
//! report, the steps' cross-field rules and the script tests. Loading
//! ([`super::load`]) calls [`check_rules`] once the schema passed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use marked_yaml::Node;

use super::model::*;
use super::schema::*;
use super::schema::{PlanSpec, StepSpec, TestSpec};
use super::shared::{LoadOptions, is_file_name_part, resolve};
use super::step::{Step, StepKind};
use super::yaml::{self, PathPart, SourceFile};
use crate::script::Hook;
use crate::support::diagnostic::{self, Code, Diagnostic, Location};

/// The checks serde cannot make: required keys, versions, cross-field
/// rules, files. Each plan section has its own check; [`check_steps`] and
/// [`check_tests`] take the steps and the script tests.
pub(super) fn check_rules(
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
            && options
                .passwords
                .as_ref()
                .map_or(PasswordPolicy::Import, PasswordsOption::policy)
                == PasswordPolicy::Import
        {
            diagnostics.push(
                Diagnostic::warning(
                    "`passwords: import` (the default) with no export: no password can be carried",
                )
                .at_opt(step_location(index))
                .hint("Clerk's API never returns digests; set `source.clerk.export_csv:` to the Dashboard CSV export, or say `passwords: skip` to create every user without one (they are listed for a reset)"),
            );
        }
        if let StepSpec::Users(UsersOptions {
            passwords:
                Some(PasswordsOption::Import(PasswordImportOptions {
                    probe_address: Some(address),
                    ..
                })),
            ..
        }) = step
            && !is_probe_address(address)
        {
            diagnostics.push(
                Diagnostic::error("`passwords.probe_address` is not an address probe users can be made from")
                    .at_opt(step_location(index))
                    .hint("an ASCII `local@domain.tld` without `+` or spaces (probes are `local+ferry-<token>@domain.tld`), such as ferry-probe@example.com, a reserved domain that receives no mail"),
            );
        }
        let name = step.name();
        for &needed in step.kind().must_follow() {
            let position = steps.iter().position(|s| s.kind() == needed);
            if position.is_some_and(|p| p > index) {
                diagnostics.push(
                    Diagnostic::error(format!("`{name}` runs before `{needed}`"))
                        .at_opt(step_location(index))
                        .hint(format!(
                            "{name} needs the ids that `{needed}` records; list `{needed}` first"
                        )),
                );
            }
        }
        if step.kind() == StepKind::Connections
            && !steps.iter().any(|s| s.kind() == StepKind::MfaReport)
        {
            diagnostics.push(
                Diagnostic::warning("`connections` without an `mfa_report` step")
                    .at_opt(step_location(index))
                    .hint("the MFA report's sign-in flags list the SSO users WorkOS would not link (a domain the connection does not claim, a connection not created); add `- mfa_report` to have them"),
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

/// `local@domain.tld` in plain ASCII, without `+`: probe users' addresses
/// are made from it by adding `+ferry-<token>` to the local part.
fn is_probe_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_".contains(c);
    !local.is_empty()
        && local.len() <= 40
        && local.chars().all(allowed)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.len() <= 200
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
}
