//! Request bodies as both imitations read them: parsed with the path of
//! whatever fails, and a reason that names the field, never its value
//! (serde's "invalid type: string \"hunter2\"" would put a password or a
//! digest in the answer).

use serde::de::DeserializeOwned;

/// The parsed body, or why not, safe to send back.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let reason = inner.to_string();
        let reason = reason.split(" at line").next().unwrap_or_default();
        match inner.classify() {
            serde_json::error::Category::Data
                if reason.starts_with("missing field") || reason.starts_with("unknown field") =>
            {
                reason.to_owned()
            }
            serde_json::error::Category::Data => format!("{path} has an invalid type or value"),
            _ => "the body is not valid JSON".to_owned(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    #[test]
    fn a_reason_names_the_field_never_the_value() {
        let wrong = parse::<Login>(br#"{"email": "a@b.c", "password": 12345678}"#).unwrap_err();
        assert_eq!(wrong, "password has an invalid type or value");
        let missing = parse::<Login>(br#"{"email": "a@b.c"}"#).unwrap_err();
        assert!(missing.starts_with("missing field `password`"), "{missing}");
        let extra =
            parse::<Login>(br#"{"email": "a", "password": "p", "pin": "4242"}"#).unwrap_err();
        assert!(
            extra.starts_with("unknown field `pin`") && !extra.contains("4242"),
            "{extra}"
        );
        assert_eq!(
            parse::<Login>(b"{").unwrap_err(),
            "the body is not valid JSON"
        );
    }
}
