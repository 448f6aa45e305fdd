//! Compiling a script into a [`Script`] and calling its hooks.

use std::cell::Cell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope};
use serde_json::Value;

use super::convert::{from_dynamic, to_dynamic};
use super::error::ScriptError;
use super::hook::Hook;
use crate::support::diagnostic::{self, Diagnostic, Location};

/// What keeps a hook from running away. The defaults allow far more than any
/// mapping needs and stop an endless loop in well under a second.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_operations: u64,
    pub max_duration: Duration,
    pub max_call_depth: usize,
    pub max_string_bytes: usize,
    pub max_array_items: usize,
    pub max_map_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 1_000_000,
            max_duration: Duration::from_millis(500),
            max_call_depth: 32,
            max_string_bytes: 1 << 20,
            max_array_items: 100_000,
            max_map_entries: 10_000,
        }
    }
}

/// What a hook call produced.
#[derive(Debug, Clone, PartialEq)]
pub enum HookAnswer {
    /// The hook returned a value.
    Value(Value),
    /// The hook returned `()`, or `skip(reason)` with the script's reason:
    /// skip this record.
    Skip(Option<String>),
}

/// What `skip(reason)` returns: a hook that returns it skips its record
/// and the reason is shown wherever the skip is (lists, the report).
#[derive(Debug, Clone)]
struct SkipRequest(String);

/// A compiled script, ready to call from many tasks at once.
pub struct Script {
    engine: Engine,
    ast: AST,
    /// What the top-level statements left behind (constants, lookup tables).
    globals: Scope<'static>,
    path: PathBuf,
    source: String,
    defined: HashSet<Hook>,
    limits: Limits,
    /// Identifies this script in per-thread caches.
    id: u64,
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    /// When the hook running on this thread must stop. Set around each call;
    /// read by the engine's progress callback.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("path", &self.path)
            .field("defined", &self.defined)
            .finish_non_exhaustive()
    }
}

impl Script {
    /// Reads, compiles and checks a script, then runs its top level once.
    /// Every problem found comes back as a diagnostic; warnings ride along on success.
    pub fn load(path: &Path, limits: Limits) -> Result<(Self, Vec<Diagnostic>), Vec<Diagnostic>> {
        let source = std::fs::read_to_string(path).map_err(|error| {
            vec![Diagnostic::error(format!(
                "cannot read script {}: {error}",
                path.display()
            ))]
        })?;
        Self::compile(path, source, limits)
    }

    pub fn compile(
        path: &Path,
        source: String,
        limits: Limits,
    ) -> Result<(Self, Vec<Diagnostic>), Vec<Diagnostic>> {
        let location = |pos: Position| position_location(path, &source, pos);
        let syntax_error = |error: rhai::ParseError| {
            vec![
                Diagnostic::error(format!("script syntax error: {}", error.err_type()))
                    .at_opt(location(error.position()))
                    .hint("see the hook reference in the README"),
            ]
        };

        // Pass 1, without strict variables: parse, then run the top level once
        // to learn the constants and helpers it defines.
        let loose = build_engine(limits, false);
        let ast = loose.compile(&source).map_err(syntax_error)?;
        let mut diagnostics = Vec::new();
        let mut defined = HashSet::new();
        for function in ast.iter_functions() {
            let fn_location = function_location(path, &source, function.name);
            match Hook::from_name(function.name) {
                Some(hook) if function.params.len() == hook.params().len() => {
                    defined.insert(hook);
                }
                Some(hook) => diagnostics.push(
                    Diagnostic::error(format!(
                        "hook `{}` takes {} parameter{}, this one takes {}",
                        hook.name(),
                        hook.params().len(),
                        if hook.params().len() == 1 { "" } else { "s" },
                        function.params.len()
                    ))
                    .at_opt(fn_location)
                    .hint(format!("declare it as `fn {}`", hook.signature())),
                ),
                None => {
                    if let Some(near) = diagnostic::nearest(function.name, Hook::NAMES)
                        .filter(|near| strsim::jaro_winkler(function.name, near) >= 0.9)
                    {
                        diagnostics.push(
                            Diagnostic::warning(format!(
                                "function `{}` is not a hook and ferry will not call it",
                                function.name
                            ))
                            .at_opt(fn_location)
                            .hint(format!("did you mean `{near}`?")),
                        );
                    }
                }
            }
        }
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Err(diagnostics);
        }

        let mut top_level = Scope::new();
        let ran = with_deadline(limits.max_duration, || {
            loose.run_ast_with_scope(&mut top_level, &ast)
        });
        if let Err(error) = ran {
            let (message, pos) = describe(&error);
            diagnostics.push(
                Diagnostic::error(format!("the script's top level failed: {message}"))
                    .at_opt(location(pos))
                    .hint("top-level statements run once when the script loads; keep them to constants and helpers"),
            );
            return Err(diagnostics);
        }
        // Hooks read what the top level left through the scope of each call.
        // Shared values make the per-call copy of that scope cheap.
        let mut globals = Scope::new();
        for (name, constant, value) in top_level.iter_raw() {
            let value = value.clone().into_shared();
            if constant {
                globals.push_constant_dynamic(name.to_string(), value);
            } else {
                globals.push_dynamic(name.to_string(), value);
            }
        }

        // Pass 2, strict: every variable a hook uses must exist, the
        // top-level names included. Only the function definitions are kept.
        let mut engine = build_engine(limits, true);
        engine.set_optimization_level(rhai::OptimizationLevel::Full);
        let mut ast = engine
            .compile_with_scope(&globals, &source)
            .map_err(syntax_error)?
            .clone_functions_only();
        ast.set_source(path.display().to_string());

        Ok((
            Self {
                engine,
                ast,
                globals,
                path: path.to_path_buf(),
                source,
                defined,
                limits,
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            },
            diagnostics,
        ))
    }

    /// The script's text as read (what a change to it is noticed by).
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn defines(&self, hook: Hook) -> bool {
        self.defined.contains(&hook)
    }

    /// Calls `hook` for the record `record_id` with JSON arguments.
    pub fn call(
        &self,
        hook: Hook,
        record_id: &str,
        args: &[&Value],
    ) -> Result<HookAnswer, ScriptError> {
        if !self.defines(hook) {
            return Err(ScriptError::Undefined { hook });
        }
        let args: Vec<Dynamic> = args.iter().map(|a| to_dynamic(a)).collect();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result = with_deadline(self.limits.max_duration, || {
            self.with_scope(|scope| {
                self.engine.call_fn_with_options::<Dynamic>(
                    options,
                    scope,
                    &self.ast,
                    hook.name(),
                    args,
                )
            })
        });
        match result {
            Ok(value) if value.is_unit() => Ok(HookAnswer::Skip(None)),
            Ok(value) if value.is::<SkipRequest>() => {
                let SkipRequest(reason) = value.cast::<SkipRequest>();
                Ok(HookAnswer::Skip(
                    (!reason.trim().is_empty()).then_some(reason),
                ))
            }
            Ok(value) => {
                from_dynamic(&value)
                    .map(HookAnswer::Value)
                    .map_err(|what| ScriptError::BadResult {
                        hook,
                        record: record_id.to_owned(),
                        message: what,
                    })
            }
            Err(error) => Err(self.error(hook, record_id, &error)),
        }
    }

    /// Runs `f` with this thread's copy of the top-level scope. Calls rewind
    /// the scope, so the copy is made once per thread, not once per call.
    fn with_scope<T>(&self, f: impl FnOnce(&mut Scope<'static>) -> T) -> T {
        thread_local! {
            static SCOPE: std::cell::RefCell<(u64, Scope<'static>)> =
                std::cell::RefCell::new((0, Scope::new()));
        }
        SCOPE.with(|cell| {
            let mut cached = cell.borrow_mut();
            if cached.0 != self.id {
                *cached = (self.id, self.globals.clone());
            }
            f(&mut cached.1)
        })
    }

    fn error(&self, hook: Hook, record: &str, error: &EvalAltResult) -> ScriptError {
        let inner = error.unwrap_inner();
        let (message, pos) = describe(error);
        // Limits (operations, time, depth) stop the engine without a position:
        // point at the hook's declaration then.
        let location = position_location(&self.path, &self.source, pos)
            .or_else(|| function_location(&self.path, &self.source, hook.name()));
        match inner {
            EvalAltResult::ErrorRuntime(..) => ScriptError::Rejected {
                hook,
                record: record.to_owned(),
                message,
                location,
            },
            _ => ScriptError::Failed {
                hook,
                record: record.to_owned(),
                message,
                location,
            },
        }
    }
}

fn with_deadline<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    DEADLINE.with(|d| d.set(Some(Instant::now() + limit)));
    let result = f();
    DEADLINE.with(|d| d.set(None));
    result
}

fn build_engine(limits: Limits, strict_variables: bool) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_depth)
        .set_max_expr_depths(64, 32)
        .set_max_string_size(limits.max_string_bytes)
        .set_max_array_size(limits.max_array_items)
        .set_max_map_size(limits.max_map_entries)
        .set_strict_variables(strict_variables)
        .set_fail_on_invalid_map_property(true)
        .disable_symbol("eval");
    engine.on_print(|text| tracing::info!(target: "ferry::script", "{text}"));
    engine.on_debug(|text, source, pos| {
        tracing::debug!(target: "ferry::script", "{}:{}: {text}", source.unwrap_or("script"), pos)
    });
    forbid_slow_and_huge(&mut engine, limits.max_string_bytes);
    engine
        .register_type_with_name::<SkipRequest>("Skip")
        .register_fn("skip", || SkipRequest(String::new()))
        .register_fn("skip", |reason: rhai::ImmutableString| {
            SkipRequest(reason.to_string())
        });
    engine.on_progress(|operations| {
        // One operation can be a large native call (a long `pad`), so the
        // clock is read every 64; that costs well under a microsecond a call.
        if operations.is_multiple_of(64)
            && DEADLINE
                .with(|d| d.get())
                .is_some_and(|deadline| Instant::now() > deadline)
        {
            return Some(Dynamic::from("time limit"));
        }
        None
    });
    engine
}

/// Replaces the built-in functions a hook could use to escape its limits:
/// `sleep`, which blocks the thread between two operations so the time
/// limit never fires, and `replace`, whose result is allocated before the
/// size limit is checked (a few nested calls ask for gigabytes).
fn forbid_slow_and_huge(engine: &mut Engine, max_string_bytes: usize) {
    // System errors, not runtime ones: a runtime error is what `throw` makes,
    // and a hook that breaks a limit has failed, not rejected its record.
    fn no_sleep() -> Result<(), Box<EvalAltResult>> {
        Err(EvalAltResult::ErrorSystem(
            "sleep() is not allowed in a hook".into(),
            "hooks must not wait".into(),
        )
        .into())
    }
    engine.register_fn("sleep", |_: rhai::INT| no_sleep());
    engine.register_fn("sleep", |_: rhai::FLOAT| no_sleep());
    let too_large = move |size: usize| -> Result<(), Box<EvalAltResult>> {
        if size > max_string_bytes {
            Err(EvalAltResult::ErrorSystem(
                format!("replace() would make a string of {size} bytes"),
                format!("over the hook's limit of {max_string_bytes}").into(),
            )
            .into())
        } else {
            Ok(())
        }
    };
    engine.register_fn(
        "replace",
        move |text: &mut rhai::ImmutableString,
              find: &str,
              with: &str|
              -> Result<(), Box<EvalAltResult>> {
            if !find.is_empty() {
                let count = text.matches(find).count();
                too_large(text.len() - count * find.len() + count * with.len())?;
                *text = text.replace(find, with).into();
            }
            Ok(())
        },
    );
    engine.register_fn(
        "replace",
        move |text: &mut rhai::ImmutableString,
              find: char,
              with: &str|
              -> Result<(), Box<EvalAltResult>> {
            let count = text.matches(find).count();
            too_large(text.len() - count * find.len_utf8() + count * with.len())?;
            *text = text.replace(find, with).into();
            Ok(())
        },
    );
}

/// A message without Rhai's own position suffix, and the innermost position.
fn describe(error: &EvalAltResult) -> (String, Position) {
    let inner = error.unwrap_inner();
    let pos = inner.position();
    let message = match inner {
        EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
        EvalAltResult::ErrorTerminated(..) => {
            "the hook ran past its time limit (an endless loop?)".to_owned()
        }
        EvalAltResult::ErrorTooManyOperations(..) => {
            "the hook ran past its operations limit (an endless loop?)".to_owned()
        }
        EvalAltResult::ErrorStackOverflow(..) => "the hook recursed too deeply".to_owned(),
        other => {
            let text = other.to_string();
            match text.rfind(" (line ") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        }
    };
    (message, pos)
}

fn position_location(path: &Path, source: &str, pos: Position) -> Option<Location> {
    let line = pos.line()?;
    Some(Location::in_source(
        path,
        source,
        line,
        pos.position().unwrap_or(1),
    ))
}

/// Where `fn name` is declared; Rhai's function metadata carries no position.
fn function_location(path: &Path, source: &str, name: &str) -> Option<Location> {
    source.lines().enumerate().find_map(|(index, line)| {
        let column = line.find(&format!("fn {name}"))?;
        let after = line[column + 3 + name.len()..].trim_start();
        after
            .starts_with('(')
            .then(|| Location::in_source(path, source, index + 1, column + 1))
    })
}
