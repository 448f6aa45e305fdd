//! Helpers over the position-carrying YAML tree (`marked_yaml::Node`): turn
//! markers into [`Location`]s, find and cut out the node an error points at,
//! and convert free-form parts (script test inputs) to JSON with YAML's types.

use std::path::Path;

use marked_yaml::{Marker, Node, Span};

use crate::support::diagnostic::Location;

/// The file a tree came from, to turn markers into locations.
pub struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl SourceFile<'_> {
    pub fn location(&self, marker: &Marker) -> Location {
        Location::in_source(self.path, self.text, marker.line(), marker.column())
    }

    pub fn span_location(&self, span: &Span) -> Option<Location> {
        span.start().map(|m| self.location(m))
    }

    /// Where the whole document starts: for problems with no better place.
    pub fn start(&self) -> Location {
        Location::in_source(self.path, self.text, 1, 1)
    }
}

/// Removes the mapping entry or sequence item whose key or value starts at
/// `marker`. Returns whether something was removed, so the caller knows the
/// next attempt will not hit the same error.
pub fn remove_at(node: &mut Node, marker: &Marker) -> bool {
    let same = |span: &Span| {
        span.start()
            .is_some_and(|m| m.character() == marker.character())
    };
    match node {
        Node::Mapping(map) => {
            let hit = map
                .iter()
                .find(|(key, value)| same(key.span()) || same(value.span()))
                .map(|(key, _)| key.clone());
            if let Some(key) = hit {
                map.remove(&key);
                return true;
            }
            map.values_mut().any(|child| remove_at(child, marker))
        }
        Node::Sequence(items) => {
            if let Some(index) = items.iter().position(|item| same(item.span())) {
                items.remove(index);
                return true;
            }
            items.iter_mut().any(|child| remove_at(child, marker))
        }
        Node::Scalar(_) => false,
    }
}

/// The key node of `name` in a mapping, for pointing at a key rather than its value.
pub fn key_span<'n>(node: &'n Node, name: &str) -> Option<&'n Span> {
    node.as_mapping()?
        .iter()
        .find(|(key, _)| key.as_str() == name)
        .map(|(key, _)| key.span())
}

/// Follows a path of mapping keys and sequence indexes.
pub fn get<'n>(node: &'n Node, path: &[PathPart]) -> Option<&'n Node> {
    path.iter().try_fold(node, |node, part| match part {
        PathPart::Key(key) => node.as_mapping()?.get_node(key),
        PathPart::Index(index) => node.as_sequence()?.get_node(*index),
    })
}

#[derive(Debug, Clone, Copy)]
pub enum PathPart<'a> {
    Key(&'a str),
    Index(usize),
}

/// JSON for a free-form YAML value. Unquoted scalars get YAML 1.2 core types
/// (`true`, `null`, `12`, `1.5`); quoted ones stay strings.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Scalar(scalar) => {
            let text = scalar.as_str();
            if !scalar.may_coerce() {
                return Value::String(text.to_owned());
            }
            match text {
                "" | "~" | "null" | "Null" | "NULL" => Value::Null,
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                _ => {
                    if let Ok(int) = text.parse::<i64>() {
                        Value::from(int)
                    } else if let Some(float) = text
                        .parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .and_then(serde_json::Number::from_f64)
                    {
                        Value::Number(float)
                    } else {
                        Value::String(text.to_owned())
                    }
                }
            }
        }
        Node::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Node::Mapping(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.as_str().to_owned(), to_json(value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_types_unquoted_scalars_only() {
        let options = marked_yaml::LoaderOptions::default().prevent_coercion(true);
        let node = marked_yaml::parse_yaml_with_options(
            0,
            "a: true\nb: '12'\nc: 12\nd: ~\ne: [x, 1.5]\n",
            options,
        )
        .unwrap();
        assert_eq!(
            to_json(&node),
            serde_json::json!({"a": true, "b": "12", "c": 12, "d": null, "e": ["x", 1.5]})
        );
    }

    #[test]
    fn remove_at_cuts_the_entry_an_error_points_at() {
        let mut node = marked_yaml::parse_yaml(0, "a:\n  b: 1\n  c: 2\n").unwrap();
        let marker = *key_span(get(&node, &[PathPart::Key("a")]).unwrap(), "c")
            .unwrap()
            .start()
            .unwrap();
        assert!(remove_at(&mut node, &marker));
        assert_eq!(to_json(&node), serde_json::json!({"a": {"b": 1}}));
    }
}
