//! Clerk metadata (any JSON) flattened into WorkOS metadata (a flat map of
//! strings with limits): at most 50 keys, keys of at most 40 characters,
//! values of at most 600. Strings stay as they are, numbers and booleans
//! become their text, objects and arrays their JSON, nulls are left out.
//! What does not fit is dropped and reported, or rejects the user, as the
//! plan's `over_limit` says.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub const MAX_KEYS: usize = 50;
pub const MAX_KEY_CHARS: usize = 40;
pub const MAX_VALUE_CHARS: usize = 600;

/// Flattened metadata and whatever did not fit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Flattened {
    pub values: BTreeMap<String, String>,
    pub dropped: Vec<Dropped>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub key: String,
    pub reason: String,
}

/// Flattens `sources` in order; on a key present in two, the first wins.
pub fn flatten<'a>(
    sources: impl IntoIterator<Item = &'a serde_json::Map<String, Value>>,
) -> Flattened {
    let mut out = Flattened::default();
    for map in sources {
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Bool(_) | Value::Number(_) => value.to_string(),
                Value::Array(_) | Value::Object(_) => value.to_string(),
            };
            if out.values.contains_key(key) {
                out.drop(key, "the same key is in another metadata object");
            } else if key.chars().count() > MAX_KEY_CHARS {
                out.drop(key, &format!("key longer than {MAX_KEY_CHARS} characters"));
            } else if text.chars().count() > MAX_VALUE_CHARS {
                out.drop(
                    key,
                    &format!("value longer than {MAX_VALUE_CHARS} characters"),
                );
            } else if out.values.len() >= MAX_KEYS {
                out.drop(key, &format!("more than {MAX_KEYS} keys"));
            } else {
                out.values.insert(key.clone(), text);
            }
        }
    }
    out
}

impl Flattened {
    fn drop(&mut self, key: &str, reason: &str) {
        self.dropped.push(Dropped {
            key: key.to_owned(),
            reason: reason.to_owned(),
        });
    }
}

/// Metadata a hook returned: a map whose values are strings (numbers and
/// booleans become their text; nulls drop out).
pub fn from_hook(map: &serde_json::Map<String, Value>) -> Result<BTreeMap<String, String>, Reason> {
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Bool(_) | Value::Number(_) => Ok((k.clone(), v.to_string())),
            _ => Err(Reason::new(
                ReasonCode::HookInvalidResult,
                format!("metadata `{k}` is not text; WorkOS metadata values are strings"),
            )),
        })
        .collect()
}

/// Metadata as a WorkOS request body takes it, or `None` when empty.
pub fn to_body(values: &BTreeMap<String, String>) -> Option<BTreeMap<String, Value>> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect()
    })
}

/// What an update must send to turn WorkOS's metadata `current` into
/// `desired`, or `None` when they are the same. WorkOS merges metadata
/// and deletes a key only on `null`, so every key `current` has and
/// `desired` has not is sent as `null`: a key removed in Clerk goes, and
/// an emptied map is cleared.
pub fn changes(
    current: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, Value>> {
    let mut body: BTreeMap<String, Value> = desired
        .iter()
        .filter(|(key, value)| current.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), Value::String(value.clone())))
        .collect();
    body.extend(
        current
            .keys()
            .filter(|key| !desired.contains_key(*key))
            .map(|key| (key.clone(), Value::Null)),
    );
    (!body.is_empty()).then_some(body)
}

/// Checks metadata a hook returned, which must already be within the limits.
pub fn check(values: &BTreeMap<String, String>) -> Result<(), Reason> {
    let over = |detail: String| Err(Reason::new(ReasonCode::MetadataOverLimit, detail));
    if values.len() > MAX_KEYS {
        return over(format!(
            "metadata has {} keys; WorkOS allows {MAX_KEYS}",
            values.len()
        ));
    }
    for (key, value) in values {
        if key.chars().count() > MAX_KEY_CHARS {
            return over(format!(
                "metadata key `{key}` is longer than {MAX_KEY_CHARS} characters"
            ));
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return over(format!(
                "metadata `{key}` is longer than {MAX_VALUE_CHARS} characters"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_to_strings_and_reports_what_does_not_fit() {
        let long_key = "k".repeat(41);
        let public = json!({"plan": "pro", "seats": 3, "beta": true, "tags": ["a"], "gone": null, long_key.clone(): "x"});
        let private = json!({"plan": "other", "big": "y".repeat(601)});
        let object = |value: Value| match value {
            Value::Object(map) => map,
            _ => unreachable!("a map"),
        };
        let (public, private) = (object(public), object(private));
        let flat = flatten([&public, &private]);
        assert_eq!(flat.values["plan"], "pro");
        assert_eq!(flat.values["seats"], "3");
        assert_eq!(flat.values["beta"], "true");
        assert_eq!(flat.values["tags"], "[\"a\"]");
        assert!(!flat.values.contains_key("gone"));
        let dropped: Vec<_> = flat.dropped.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(dropped, [long_key.as_str(), "big", "plan"]);
    }

    #[test]
    fn an_update_removes_with_null_what_clerk_no_longer_has() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let cases = [
            (map(&[("a", "1")]), map(&[("a", "1")]), None),
            (map(&[]), map(&[]), None),
            (
                map(&[("a", "1"), ("b", "2")]),
                map(&[("a", "1"), ("c", "3")]),
                Some(json!({"b": null, "c": "3"})),
            ),
            (
                map(&[("a", "1")]),
                map(&[("a", "2")]),
                Some(json!({"a": "2"})),
            ),
            (
                map(&[("a", "1"), ("b", "2")]),
                map(&[]),
                Some(json!({"a": null, "b": null})),
            ),
        ];
        for (current, desired, expected) in cases {
            let body = changes(&current, &desired).map(|b| serde_json::to_value(b).unwrap());
            assert_eq!(body, expected, "{current:?} → {desired:?}");
        }
    }

    #[test]
    fn stops_at_fifty_keys() {
        let many: serde_json::Map<_, _> = (0..60).map(|i| (format!("k{i:02}"), json!(i))).collect();
        let flat = flatten([&many]);
        assert_eq!(flat.values.len(), 50);
        assert_eq!(flat.dropped.len(), 10);
        assert!(check(&flat.values).is_ok());
    }
}
