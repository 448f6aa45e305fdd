//! User metadata of four shapes: empty, flat, nested, and beyond WorkOS's
//! limits (60 keys or a 1,000-character value).

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::vocabulary::{pick, random_id};

pub(super) type Metadata = Map<String, Value>;

/// Public, private and unsafe metadata of one of four shapes; whether the
/// result breaks WorkOS's limits.
pub(super) fn metadata(
    rng: &mut ChaCha8Rng,
    index: usize,
) -> (Metadata, Metadata, Metadata, &'static str, bool) {
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    match rng.random_range(0..100) {
        0..50 => (Map::new(), Map::new(), Map::new(), "empty", false),
        50..80 => (
            object(json!({ "plan": pick(rng, &["free", "pro", "enterprise"]), "locale": "en" })),
            object(json!({ "crm_id": format!("crm-{index}") })),
            Map::new(),
            "flat",
            false,
        ),
        80..95 => (
            object(json!({
                "preferences": { "theme": "dark", "beta": rng.random_bool(0.5) },
                "seats": rng.random_range(1..500),
                "tags": ["early-adopter", "newsletter"],
            })),
            object(json!({ "stripe": { "customer": format!("cus_{}", random_id(rng, 14)) } })),
            object(json!({ "onboarded": true })),
            "nested",
            false,
        ),
        _ => {
            // Beyond WorkOS's limits: 60 keys, or a 1,000-character value.
            let private = if rng.random_bool(0.5) {
                (0..60)
                    .map(|k| (format!("field_{k}"), Value::from(k)))
                    .collect()
            } else {
                object(json!({ "notes": "x".repeat(1000) }))
            };
            (Map::new(), private, Map::new(), "large", true)
        }
    }
}
