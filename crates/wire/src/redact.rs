//! The one redaction layer: every secret value of the run is registered here
//! (the API keys and canary passwords for the whole process, a record's
//! digest and TOTP secret while the record is in flight), and [`redact`]
//! masks every registered value wherever it appears in a text, whatever
//! echoed it: an HTML error page, a proxy, a log line. Every text that leaves
//! the process or is stored (error bodies, reasons, reports, logs, output)
//! passes through it.
//!
//! A value is also masked in the forms an echo may spell it: JSON-escaped
//! and percent-encoded.

use std::borrow::Cow;
use std::sync::RwLock;

use crate::secret::Secret;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Shorter values are not masked: they would mask ordinary text everywhere.
const MIN_LEN: usize = 4;

/// Registered values (and their echoed spellings), with how many holders each has.
static KNOWN: RwLock<Vec<(String, usize)>> = RwLock::new(Vec::new());

/// Keeps a secret registered until dropped.
#[must_use = "the secret is masked only while the guard lives"]
pub struct Held(Vec<String>);

impl Drop for Held {
    fn drop(&mut self) {
        let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
        for value in &self.0 {
            if let Some(at) = known.iter().position(|(v, _)| v == value) {
                known[at].1 -= 1;
                if known[at].1 == 0 {
                    known.swap_remove(at);
                }
            }
        }
    }
}

/// Masks `secret` in every text from now until the guard is dropped.
pub fn hold(secret: &Secret) -> Held {
    hold_str(secret.expose())
}

fn hold_str(value: &str) -> Held {
    let spellings = spellings(value);
    let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    for spelling in &spellings {
        match known.iter_mut().find(|(v, _)| v == spelling) {
            Some((_, holders)) => *holders += 1,
            None => known.push((spelling.clone(), 1)),
        }
    }
    // Longest first, so a value that contains another is masked whole.
    known.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    Held(spellings)
}

/// Masks `secret` for the rest of the process (API keys, canary passwords).
pub fn hold_forever(secret: &Secret) {
    std::mem::forget(hold(secret));
}

/// The value, and how a JSON body or a URL would spell it.
fn spellings(value: &str) -> Vec<String> {
    if value.len() < MIN_LEN {
        return Vec::new();
    }
    let mut out = vec![value.to_owned()];
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let percent: String = value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    for spelling in [json, percent.clone(), percent.to_lowercase()] {
        if !out.contains(&spelling) {
            out.push(spelling);
        }
    }
    out
}

/// The most characters of an outside value (an id, a cell) a message repeats.
const ECHO_CHARS: usize = 80;

/// An outside value as a message may repeat it: whole when short, else its
/// start and its size, so a 200 MB cell never reaches a log or a list.
pub fn bounded(text: &str) -> Cow<'_, str> {
    if text.chars().count() <= ECHO_CHARS {
        return Cow::Borrowed(text);
    }
    let start: String = text.chars().take(ECHO_CHARS / 2).collect();
    Cow::Owned(format!("{start}… ({} bytes)", text.len()))
}

/// `text` with every registered secret masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for (value, _) in known.iter() {
        if out.contains(value.as_str()) {
            out = Cow::Owned(out.replace(value.as_str(), MASK));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_secrets_are_masked_in_every_spelling_until_released() {
        let secret = Secret::new("s3cr3t+/value\"x");
        let text = format!(
            "raw {} json {} url {}",
            "s3cr3t+/value\"x", "s3cr3t+/value\\\"x", "s3cr3t%2B%2Fvalue%22x"
        );
        {
            let _held = hold(&secret);
            let masked = redact(&text);
            assert!(!masked.contains("s3cr3t"), "{masked}");
            assert_eq!(masked.matches(MASK).count(), 3);
        }
        assert_eq!(redact(&text), text, "released when the guard drops");
    }

    #[test]
    fn two_holders_keep_a_value_until_both_let_go() {
        let secret = Secret::new("shared-digest-value");
        let first = hold(&secret);
        let second = hold(&secret);
        drop(first);
        assert_eq!(redact("shared-digest-value"), MASK);
        drop(second);
        assert_eq!(redact("shared-digest-value"), "shared-digest-value");
    }

    #[test]
    fn long_values_are_echoed_by_their_start_and_size() {
        assert_eq!(bounded("user_1"), "user_1");
        let huge = "x".repeat(200_000_000 / 1000);
        let echoed = bounded(&huge);
        assert!(
            echoed.len() < 100 && echoed.ends_with("(200000 bytes)"),
            "{echoed}"
        );
    }

    #[test]
    fn tiny_values_are_not_masked_everywhere() {
        let _held = hold(&Secret::new("ab"));
        assert_eq!(redact("a table"), "a table");
    }
}
