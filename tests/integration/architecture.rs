//! The layering the workspace promises, checked on the source itself.
//!
//! `module_cycles` reads every `.rs` file of the binary and of each crate
//! under `crates/`, turns each `use crate::…`, `use super::…` and inline
//! `crate::…` path into an arrow from the file's module to the module it
//! names, and fails on any circle of arrows within a crate. A `mod x;`
//! declaration is not an arrow (a parent owns its children), but a parent
//! that *uses* its child and a child that uses its parent is a circle: the
//! shared item belongs in a module of its own. Circles between crates are
//! impossible by construction (Cargo refuses them), so the check is per crate.
//!
//! `core_layers` holds the engine crate's top-level modules to a written
//! table of layers, lowest first: a module may use its own layer and the
//! ones below, never one above (the plan never imports the clients it
//! configures, the clients never the steps). A module in no layer fails
//! the check until it is placed.
//!
//! `.ci/run` runs this test by name before the rest of the suite.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside one crate, e.g. `["steps", "users"]`; the crate root is empty.
type ModulePath = Vec<String>;

struct Crate {
    name: String,
    /// Every file's module and the text of its code (comments removed).
    files: BTreeMap<ModulePath, (PathBuf, String)>,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The crates to check: the binary's `src/` and each `crates/*/src/`.
fn crates() -> Vec<Crate> {
    let root = workspace_root();
    let mut roots = vec![("ferry".to_owned(), root.join("src"))];
    if let Ok(entries) = std::fs::read_dir(root.join("crates")) {
        let mut members: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        members.sort();
        for member in members {
            let src = member.join("src");
            if src.is_dir() {
                let name = member.file_name().unwrap().to_string_lossy().into_owned();
                roots.push((name, src));
            }
        }
    }
    roots
        .into_iter()
        .map(|(name, src)| {
            let mut files = BTreeMap::new();
            collect(&src, &src, &mut files);
            Crate { name, files }
        })
        .collect()
}

fn collect(src: &Path, dir: &Path, files: &mut BTreeMap<ModulePath, (PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a source folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(src, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            files.insert(module_of(src, &path), (path, strip_comments(&text)));
        }
    }
}

/// `src/steps/users.rs` → `steps::users`; `mod.rs`, `lib.rs` and `main.rs` name their folder.
fn module_of(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: ModulePath = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    match last.trim_end_matches(".rs") {
        "mod" => {}
        "lib" | "main" if parts.is_empty() => {}
        stem => parts.push(stem.to_owned()),
    }
    parts
}

/// Drops `//` comments and string contents well enough that paths in prose
/// or messages are not taken for imports, then the items marked
/// `#[cfg(test)]`: test modules may reach anywhere.
fn strip_comments(text: &str) -> String {
    without_test_items(&strip_prose(text))
}

/// Removes each `#[cfg(test)]` item, up to its closing brace or semicolon.
fn without_test_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

fn strip_prose(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for line in code.lines() {
        let mut in_string = false;
        let mut previous = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_string && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && previous != '\\' {
                in_string = !in_string;
                out.push(' ');
            } else if !in_string {
                out.push(c);
            }
            previous = if previous == '\\' && c == '\\' {
                ' '
            } else {
                c
            };
        }
        out.push('\n');
    }
    out
}

/// Every path the code names that starts with `crate::`, `super::`, `self::`
/// or the name of one of the module's own children (`use users::Planned`),
/// with `use` groups (`use crate::{a::B, c::{d, e}}`) expanded.
fn referenced_paths(code: &str, children: &BTreeSet<String>) -> Vec<String> {
    let mut paths = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        let word: String = bytes[i..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        let after = bytes.get(i + word.len()..i + word.len() + 2);
        let names_path = after.is_some_and(|a| a == [':', ':'])
            && (matches!(word.as_str(), "crate" | "super" | "self") || children.contains(&word));
        let preceded_by_path = i >= 2 && bytes[i - 1] == ':' && bytes[i - 2] == ':';
        if boundary && names_path && !preceded_by_path {
            let start = i;
            let mut depth = 0;
            while i < bytes.len() {
                let c = bytes[i];
                if c == '{' {
                    depth += 1;
                } else if c == '}' {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':') {
                    break;
                }
                i += 1;
            }
            let text: String = bytes[start..i]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            expand(&text, &mut paths);
        } else {
            i += 1;
        }
    }
    paths
}

/// `a::{b::C, d}` → `a::b::C`, `a::d`.
fn expand(text: &str, out: &mut Vec<String>) {
    let Some(open) = text.find('{') else {
        out.push(text.trim_end_matches("::").to_owned());
        return;
    };
    let prefix = &text[..open];
    let inner = &text[open + 1..text.rfind('}').unwrap_or(text.len())];
    let mut depth = 0;
    let mut part = String::new();
    for c in inner.chars().chain(std::iter::once(',')) {
        match c {
            '{' => {
                depth += 1;
                part.push(c);
            }
            '}' => {
                depth -= 1;
                part.push(c);
            }
            ',' if depth == 0 => {
                let piece = part.trim();
                if piece == "self" {
                    out.push(prefix.trim_end_matches("::").to_owned());
                } else if !piece.is_empty() {
                    expand(&format!("{prefix}{piece}"), out);
                }
                part.clear();
            }
            _ => part.push(c),
        }
    }
}

/// The module a path lands in: the longest prefix that is a known module.
fn resolve(from: &ModulePath, path: &str, modules: &BTreeSet<ModulePath>) -> Option<ModulePath> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let mut base: ModulePath = match segments.next()? {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => {
            // `super` of a file module is its parent; of `mod.rs`, the folder's parent.
            let mut parent = from.clone();
            parent.pop();
            parent
        }
        child => {
            let mut module = from.clone();
            module.push(child.to_owned());
            module
        }
    };
    // `crate::X` or `super::X` where X is an item, not a module, lands in the base.
    let mut best = base.clone();
    for segment in segments {
        if segment == "super" {
            base.pop();
            best = base.clone();
            continue;
        }
        base.push(segment.to_owned());
        if modules.contains(&base) {
            best = base.clone();
        } else {
            break;
        }
    }
    modules.contains(&best).then_some(best)
}

/// Arrows between a crate's modules: `from` uses something of `to`.
fn arrows(krate: &Crate) -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let modules: BTreeSet<ModulePath> = krate.files.keys().cloned().collect();
    let mut arrows: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for (module, (_, code)) in &krate.files {
        let targets = arrows.entry(module.clone()).or_default();
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
            .map(|m| m.last().expect("a child has a name").clone())
            .collect();
        for path in referenced_paths(code, &children) {
            if let Some(target) = resolve(module, &path, &modules)
                && &target != module
            {
                targets.insert(target);
            }
        }
    }
    arrows
}

/// Every circle, as the modules on it (each reported once, from its smallest member).
fn circles(arrows: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<ModulePath>> {
    // Tarjan's strongly connected components: a component of more than one module is a circle.
    struct State<'a> {
        arrows: &'a BTreeMap<ModulePath, BTreeSet<ModulePath>>,
        index: BTreeMap<&'a ModulePath, usize>,
        low: BTreeMap<&'a ModulePath, usize>,
        stack: Vec<&'a ModulePath>,
        on_stack: BTreeSet<&'a ModulePath>,
        next: usize,
        found: Vec<Vec<ModulePath>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a ModulePath) {
        state.index.insert(node, state.next);
        state.low.insert(node, state.next);
        state.next += 1;
        state.stack.push(node);
        state.on_stack.insert(node);
        let arrows = state.arrows;
        for target in arrows.get(node).into_iter().flatten() {
            let Some((target, _)) = arrows.get_key_value(target) else {
                continue;
            };
            if !state.index.contains_key(target) {
                visit(state, target);
                let low = state.low[target].min(state.low[node]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(target) {
                let low = state.index[target].min(state.low[node]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member.clone());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        arrows,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for node in arrows.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}

fn name(module: &ModulePath) -> String {
    if module.is_empty() {
        "(crate root)".into()
    } else {
        module.join("::")
    }
}

/// ferry-core's layers, lowest first, and the top-level modules in each.
const CORE_LAYERS: &[(&str, &[&str])] = &[
    ("support", &["support"]),
    ("configuration", &["script", "plan"]),
    ("journal and transport", &["journal", "http"]),
    ("API clients", &["workos", "clerk"]),
    ("data", &["source", "mapping", "report"]),
    ("target side", &["target"]),
    ("steps", &["observe", "steps"]),
    ("commands", &["commands", "error", "undo", "sync", "watch"]),
    ("engine", &["engine"]),
];

/// The arrows between top-level modules that go up the layer table, and
/// the modules the table does not place, in words.
fn layer_violations(
    arrows: &BTreeMap<ModulePath, BTreeSet<ModulePath>>,
    layers: &[(&str, &[&str])],
) -> Vec<String> {
    let layer_of = |module: &str| {
        layers
            .iter()
            .position(|(_, members)| members.contains(&module))
    };
    let mut found = BTreeSet::new();
    for (from, targets) in arrows {
        let Some(from_top) = from.first() else {
            continue; // the crate root declares the modules
        };
        let Some(from_layer) = layer_of(from_top) else {
            found.insert(format!("{from_top} is in no layer: add it to the table"));
            continue;
        };
        for to in targets {
            let Some(to_top) = to.first().filter(|to_top| *to_top != from_top) else {
                continue;
            };
            match layer_of(to_top) {
                None => {
                    found.insert(format!("{to_top} is in no layer: add it to the table"));
                }
                Some(to_layer) if to_layer > from_layer => {
                    found.insert(format!(
                        "{} ({}) uses {} ({}), a layer above it",
                        name(from),
                        layers[from_layer].0,
                        name(to),
                        layers[to_layer].0
                    ));
                }
                Some(_) => {}
            }
        }
    }
    found.into_iter().collect()
}

#[test]
fn core_layers() {
    let core = crates()
        .into_iter()
        .find(|krate| krate.name == "core")
        .expect("crates/core");
    let violations = layer_violations(&arrows(&core), CORE_LAYERS);
    assert!(
        violations.is_empty(),
        "ferry-core's layers (tests/integration/architecture.rs, CORE_LAYERS):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_layer_check_fails_on_an_upward_import() {
    let module = |s: &str| -> ModulePath { s.split("::").map(str::to_owned).collect() };
    let mut arrows = BTreeMap::new();
    // The plan reaching up for the WorkOS client's limits, as it once did.
    arrows.insert(
        module("plan::model"),
        BTreeSet::from([module("workos::client"), module("script")]),
    );
    arrows.insert(module("workos::client"), BTreeSet::from([module("plan")]));
    arrows.insert(module("newcomer"), BTreeSet::new());
    assert_eq!(
        layer_violations(&arrows, CORE_LAYERS),
        [
            "newcomer is in no layer: add it to the table",
            "plan::model (configuration) uses workos::client (API clients), a layer above it",
        ]
    );
}

#[test]
fn module_cycles() {
    let mut report = Vec::new();
    for krate in crates() {
        let arrows = arrows(&krate);
        for circle in circles(&arrows) {
            let mut lines = vec![format!(
                "{}: {}",
                krate.name,
                circle.iter().map(name).collect::<Vec<_>>().join(" <-> ")
            )];
            for from in &circle {
                for to in arrows[from].iter().filter(|to| circle.contains(to)) {
                    lines.push(format!("    {} uses {}", name(from), name(to)));
                }
            }
            report.push(lines.join("\n"));
        }
    }
    assert!(
        report.is_empty(),
        "module cycles (move what both sides need into a module of its own):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_checker_sees_use_groups_super_and_inline_paths() {
    let code = strip_comments(
        "use crate::{a::B, c::{d, e::F}};\nuse super::g;\nuse kid::L;\nfn f() { crate::h::i(); other::kid::m(); } // crate::j\nconst S: &str = \"crate::k\";",
    );
    let paths = referenced_paths(&code, &BTreeSet::from(["kid".to_owned()]));
    assert_eq!(
        paths,
        [
            "crate::a::B",
            "crate::c::d",
            "crate::c::e::F",
            "super::g",
            "kid::L",
            "crate::h::i"
        ]
    );
}

#[test]
fn test_items_are_left_out_but_not_what_follows_them() {
    let code = strip_comments(
        "#[cfg(test)]\nmod tests { use crate::a::B; fn f() { crate::c::d(); } }\nfn g() { crate::e::f(); }",
    );
    assert_eq!(referenced_paths(&code, &BTreeSet::new()), ["crate::e::f"]);
}

#[test]
fn the_checker_finds_a_circle() {
    let module = |s: &str| -> ModulePath { s.split("::").map(str::to_owned).collect() };
    let mut arrows = BTreeMap::new();
    arrows.insert(module("a"), BTreeSet::from([module("b")]));
    arrows.insert(module("b"), BTreeSet::from([module("c")]));
    arrows.insert(module("c"), BTreeSet::from([module("a")]));
    arrows.insert(module("d"), BTreeSet::from([module("a")]));
    assert_eq!(
        circles(&arrows),
        [vec![module("a"), module("b"), module("c")]]
    );
}
