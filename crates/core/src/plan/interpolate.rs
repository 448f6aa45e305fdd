//! `${VAR}` in plan values, filled from the environment and nothing else.
//!
//! Secrets belong in the environment so that plans can live in git. A
//! reference to a variable that is not set is reported with its position;
//! `$${` writes a literal `${`.

use marked_yaml::{Node, types::MarkedScalarNode};

/// A `${NAME}` whose variable is not set, or a malformed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub problem: Problem,
    pub marker: Option<marked_yaml::Marker>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing(String),
    Malformed(String),
}

/// Replaces every `${NAME}` in scalar values of `node` (keys are left alone).
pub fn interpolate(node: &mut Node, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<Unresolved> {
    let mut unresolved = Vec::new();
    walk(node, lookup, &mut unresolved);
    unresolved
}

fn walk(node: &mut Node, lookup: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Unresolved>) {
    match node {
        Node::Scalar(scalar) => {
            if !scalar.as_str().contains('$') {
                return;
            }
            let marker = scalar.span().start().copied();
            match expand(scalar.as_str(), lookup) {
                Ok(text) => {
                    let may_coerce = scalar.may_coerce();
                    let mut replaced = MarkedScalarNode::new(*scalar.span(), text);
                    replaced.set_coerce(may_coerce);
                    *scalar = replaced;
                }
                Err(problems) => out.extend(
                    problems
                        .into_iter()
                        .map(|problem| Unresolved { problem, marker }),
                ),
            }
        }
        Node::Sequence(items) => items.iter_mut().for_each(|item| walk(item, lookup, out)),
        Node::Mapping(map) => map.values_mut().for_each(|value| walk(value, lookup, out)),
    }
}

/// Expands one string. On failure returns every problem in it.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Vec<Problem>> {
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                problems.push(Problem::Malformed(format!(
                    "`${{` without a closing `}}` in `{text}`"
                )));
                break;
            };
            let name = &body[..end];
            if !is_variable_name(name) {
                problems.push(Problem::Malformed(format!(
                    "`${{{name}}}` is not a variable name (letters, digits and `_`, not starting with a digit)"
                )));
            } else {
                match lookup(name) {
                    Some(value) => out.push_str(&value),
                    None => problems.push(Problem::Missing(name.to_owned())),
                }
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "sk_test_1".to_owned())
    }

    #[test]
    fn expands_escapes_and_reports() {
        assert_eq!(expand("a ${KEY} b", &env).unwrap(), "a sk_test_1 b");
        assert_eq!(expand("$${KEY} $5", &env).unwrap(), "${KEY} $5");
        assert_eq!(
            expand("${NOPE}-${KEY}", &env).unwrap_err(),
            vec![Problem::Missing("NOPE".into())]
        );
        assert!(matches!(
            expand("${1X}", &env).unwrap_err()[0],
            Problem::Malformed(_)
        ));
        assert!(matches!(
            expand("${KEY", &env).unwrap_err()[0],
            Problem::Malformed(_)
        ));
    }
}
