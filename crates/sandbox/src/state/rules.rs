//! The rules WorkOS enforces on what it is sent: email and external_id
//! shapes, metadata limits, the password/digest combinations and digest
//! shapes, and the failures that name each refusal.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Failure, Outcome, StoredPassword};
use crate::hashes::{self, HashKind};
use ferry_wire::secret::Secret;
use ferry_wire::workos::model::Metadata;

pub(super) fn user_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("User not found: '{id}'."))
}

pub(super) fn organization_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("Organization not found: '{id}'."))
}

pub(super) fn email_not_available() -> Failure {
    Failure::UserCreation {
        code: "email_not_available",
        message: "This email is not available.".into(),
    }
}

pub(super) fn external_id_already_used_by_user() -> Failure {
    Failure::UserCreation {
        code: "external_id_already_used",
        message: "This external_id is already in use by another user.".into(),
    }
}

/// An update's collision: the spec's `PUT /user_management/users/{id}` 400
/// has the code at the top level (`{code, message}`), unlike a create's
/// `user_creation_error` with `errors[]`.
pub(super) fn on_update(failure: Failure) -> Failure {
    match failure {
        Failure::UserCreation { code, message } => Failure::BadRequest { code, message },
        other => other,
    }
}

/// A BCP 47 language tag (`en`, `en-US`, `pt-BR`, `zh-Hant-TW`); anything
/// else is the spec's 400 `invalid_locale`.
pub(super) fn validate_locale(locale: &str) -> Outcome<()> {
    let mut parts = locale.split('-');
    let language = parts.next().unwrap_or("");
    let valid = (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if valid {
        Ok(())
    } else {
        Err(Failure::BadRequest {
            code: "invalid_locale",
            message: format!("'{locale}' is not a valid locale."),
        })
    }
}

pub(super) fn validate_email(email: &str) -> Outcome<String> {
    let email = email.trim();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        // As the official SDK documents it: trimmed and lowercased before it is stored.
        Ok(email.to_lowercase())
    } else {
        Err(Failure::InvalidRequest("email must be an email".into()))
    }
}

pub(super) fn validate_external_id(external_id: &str) -> Outcome<()> {
    if external_id.is_empty() || external_id.len() > 128 || !external_id.is_ascii() {
        return Err(Failure::InvalidRequest(
            "external_id must be 1 to 128 ASCII characters".into(),
        ));
    }
    Ok(())
}

pub(super) const METADATA_MAX_KEYS: usize = 50;
pub(super) const METADATA_MAX_KEY_CHARS: usize = 40;
pub(super) const METADATA_MAX_VALUE_CHARS: usize = 600;

/// Merges `changes` into `current`: strings set, `null` removes. Values must
/// be strings; the limits are WorkOS's.
pub(super) fn apply_metadata(
    mut current: Metadata,
    changes: Option<BTreeMap<String, Value>>,
) -> Outcome<Metadata> {
    let Some(changes) = changes else {
        return Ok(current);
    };
    for (key, value) in changes {
        match value {
            Value::Null => {
                current.remove(&key);
            }
            Value::String(text) => {
                if key.chars().count() > METADATA_MAX_KEY_CHARS
                    || text.chars().count() > METADATA_MAX_VALUE_CHARS
                {
                    return Err(invalid_metadata());
                }
                current.insert(key, text);
            }
            _ => {
                return Err(Failure::InvalidRequest(format!(
                    "metadata.{key} must be a string"
                )));
            }
        }
    }
    if current.len() > METADATA_MAX_KEYS {
        return Err(invalid_metadata());
    }
    Ok(current)
}

pub(super) fn invalid_metadata() -> Failure {
    Failure::BadRequest {
        code: "invalid_metadata",
        message: format!(
            "Metadata allows at most {METADATA_MAX_KEYS} keys of up to {METADATA_MAX_KEY_CHARS} characters with string values of up to {METADATA_MAX_VALUE_CHARS} characters."
        ),
    }
}

/// The stored password from either a plaintext or an imported digest.
/// `salt_position` goes only with an `ssha256` digest, as `prefix` or `suffix`.
pub(super) fn password(
    plaintext: Option<&Secret>,
    digest: Option<&Secret>,
    kind: Option<&str>,
    salt_position: Option<&str>,
    refused: &std::collections::BTreeSet<HashKind>,
) -> Outcome<Option<StoredPassword>> {
    if let Some(position) = salt_position {
        if digest.is_none() {
            return Err(Failure::BadRequest {
                code: "password_salt_position_requires_password_hash",
                message: "password_salt_position only goes with password_hash.".into(),
            });
        }
        if position != "prefix" && position != "suffix" {
            return Err(Failure::InvalidRequest(
                "password_salt_position must be prefix or suffix".into(),
            ));
        }
        if kind != Some("ssha256") {
            return Err(Failure::InvalidRequest(
                "password_salt_position is only supported with password_hash_type ssha256".into(),
            ));
        }
    }
    match (plaintext, digest, kind) {
        (Some(_), Some(_), _) => Err(Failure::BadRequest {
            code: "password_and_password_hash_provided",
            message: "Provide either password or password_hash, not both.".into(),
        }),
        (Some(_), None, Some(_)) => Err(Failure::BadRequest {
            code: "password_and_password_hash_type_provided",
            message: "password_hash_type only goes with password_hash.".into(),
        }),
        (Some(plaintext), None, None) => {
            if plaintext.expose().is_empty() {
                return Err(Failure::InvalidRequest("password must not be empty".into()));
            }
            let digest = hashes::hash_plaintext(plaintext.expose())
                .ok_or_else(|| Failure::InvalidRequest("password cannot be hashed".into()))?;
            Ok(Some(StoredPassword {
                kind: HashKind::Bcrypt,
                digest: Secret::new(digest),
                position: None,
            }))
        }
        (None, Some(digest), Some(label)) => {
            let kind = HashKind::parse(label).ok_or_else(|| {
                Failure::InvalidRequest(format!(
                    "password_hash_type must be one of bcrypt, firebase-scrypt, ssha, ssha256, scrypt, pbkdf2, argon2, not '{label}'"
                ))
            })?;
            if refused.contains(&kind) || !hashes::is_well_formed(kind, digest.expose()) {
                return Err(Failure::BadRequest {
                    code: "invalid_password_hash",
                    message: format!("The password hash is not a valid {} hash.", kind.label()),
                });
            }
            Ok(Some(StoredPassword {
                kind,
                digest: digest.clone(),
                position: salt_position.and_then(hashes::SaltPosition::parse),
            }))
        }
        (None, Some(_), None) => Err(Failure::InvalidRequest(
            "password_hash_type is required with password_hash".into(),
        )),
        (None, None, Some(_)) => Err(Failure::InvalidRequest(
            "password_hash is required with password_hash_type".into(),
        )),
        (None, None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_limits() {
        let long_value = BTreeMap::from([("k".to_owned(), Value::String("x".repeat(601)))]);
        assert_eq!(
            apply_metadata(Metadata::new(), Some(long_value)),
            Err(invalid_metadata())
        );
        let many: BTreeMap<String, Value> = (0..51)
            .map(|i| (format!("k{i}"), Value::String("v".into())))
            .collect();
        assert_eq!(
            apply_metadata(Metadata::new(), Some(many)),
            Err(invalid_metadata())
        );
        let number = BTreeMap::from([("k".to_owned(), Value::from(1))]);
        assert!(matches!(
            apply_metadata(Metadata::new(), Some(number)),
            Err(Failure::InvalidRequest(_))
        ));
    }
}
