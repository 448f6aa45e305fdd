//! The older support-ticket JSON export: an array of users whose
//! `email_addresses` is one `|`-joined string (or, in some files, an array),
//! with no marker for the primary address. Read into the same
//! [`ExportUser`] as the CSV; a user with several addresses and no
//! `primary_email_address` is flagged so the pipeline asks Clerk's API.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::export::{ExportError, ExportMetadata, ExportUser, RecordError};
use crate::secret::Secret;

#[derive(Deserialize)]
struct LegacyUser {
    id: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    primary_email_address: Option<String>,
    #[serde(default)]
    email_addresses: Option<Strings>,
    #[serde(default)]
    primary_phone_number: Option<String>,
    #[serde(default)]
    phone_numbers: Option<Strings>,
    #[serde(default)]
    password_digest: Option<String>,
    #[serde(default)]
    password_hasher: Option<String>,
    #[serde(default)]
    totp_secret: Option<String>,
    #[serde(default)]
    backup_codes_enabled: Option<bool>,
    #[serde(default)]
    public_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    private_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    unsafe_metadata: Option<Map<String, Value>>,
}

/// A list written either as an array or as one `|`-joined string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Strings {
    List(Vec<String>),
    Joined(String),
}

impl Strings {
    fn into_vec(self) -> Vec<String> {
        let parts: Vec<String> = match self {
            Self::List(list) => list,
            Self::Joined(joined) => joined.split('|').map(str::to_owned).collect(),
        };
        parts
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Reads every user; a malformed entry is an error for that entry only.
pub fn read(path: &Path) -> Result<Vec<Result<ExportUser, RecordError>>, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let entries: Vec<Value> =
        serde_json::from_reader(BufReader::new(file)).map_err(|e| ExportError::Header {
            path: path.to_path_buf(),
            reason: format!("not a JSON array of users: {e}"),
        })?;
    Ok(parse(path, entries))
}

/// The users of an export already parsed as JSON; `path` names it in errors.
pub fn parse(path: &Path, entries: Vec<Value>) -> Vec<Result<ExportUser, RecordError>> {
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| convert(path, index, entry))
        .collect()
}

fn convert(path: &Path, index: usize, entry: Value) -> Result<ExportUser, RecordError> {
    let hint_id = entry
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| id.len() <= super::export::MAX_ID_BYTES)
        .map(str::to_owned);
    let error = |reason: String| RecordError {
        path: path.to_path_buf(),
        line: index as u64 + 1,
        id: hint_id.clone(),
        reason,
    };
    let legacy: LegacyUser =
        serde_json::from_value(entry).map_err(|e| error(format!("entry {}: {e}", index + 1)))?;
    let id = legacy
        .id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| error(format!("entry {} has no id", index + 1)))?;
    if id.len() > super::export::MAX_ID_BYTES {
        return Err(error(format!(
            "entry {}: the user id is {} bytes long; Clerk's ids are a few dozen",
            index + 1,
            id.len()
        )));
    }
    let emails = legacy
        .email_addresses
        .map(Strings::into_vec)
        .unwrap_or_default();
    let primary = legacy
        .primary_email_address
        .filter(|p| !p.trim().is_empty());
    let primary_ambiguous = primary.is_none() && emails.len() > 1;
    let primary = primary.or_else(|| (emails.len() == 1).then(|| emails[0].clone()));
    let secret = |s: Option<String>| s.filter(|s| !s.is_empty()).map(Secret::new);
    Ok(ExportUser {
        id,
        first_name: legacy.first_name,
        last_name: legacy.last_name,
        username: legacy.username,
        primary_email: primary,
        verified_emails: emails,
        unverified_emails: Vec::new(),
        primary_phone: legacy.primary_phone_number,
        verified_phones: legacy
            .phone_numbers
            .map(Strings::into_vec)
            .unwrap_or_default(),
        unverified_phones: Vec::new(),
        totp_secret: secret(legacy.totp_secret),
        password_digest: secret(legacy.password_digest),
        password_hasher: legacy.password_hasher.filter(|h| !h.is_empty()),
        primary_ambiguous,
        backup_codes_enabled: legacy.backup_codes_enabled.unwrap_or(false),
        metadata: Some(ExportMetadata {
            public: legacy.public_metadata.unwrap_or_default(),
            private: legacy.private_metadata.unwrap_or_default(),
            unsafe_: legacy.unsafe_metadata.unwrap_or_default(),
        }),
        line: index as u64 + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_strings_arrays_and_ambiguous_primaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.json");
        std::fs::write(
            &path,
            r#"[
              {"id": "user_1", "email_addresses": "a@x.io|b@x.io", "password_digest": "$2b$10$x", "password_hasher": "bcrypt"},
              {"id": "user_2", "primary_email_address": "c@x.io", "email_addresses": ["d@x.io"], "public_metadata": {"plan": "pro"}},
              {"id": "user_3", "email_addresses": "only@x.io"},
              {"first_name": "no id"}
            ]"#,
        )
        .unwrap();
        let users = read(&path).unwrap();
        let first = users[0].as_ref().unwrap();
        assert!(first.primary_ambiguous);
        assert_eq!(first.primary_email, None);
        assert_eq!(first.verified_emails, ["a@x.io", "b@x.io"]);
        let second = users[1].as_ref().unwrap();
        assert_eq!(second.primary_email.as_deref(), Some("c@x.io"));
        assert_eq!(second.metadata.as_ref().unwrap().public["plan"], "pro");
        assert_eq!(
            users[2].as_ref().unwrap().primary_email.as_deref(),
            Some("only@x.io")
        );
        assert!(users[3].as_ref().unwrap_err().reason.contains("has no id"));
    }
}
