//! WorkOS's rules for a user payload, checked before a request is spent on
//! it: a valid email, an ASCII `external_id` of at most 128 characters,
//! metadata within limits.

use email_address::EmailAddress;

use crate::support::reason::{Reason, ReasonCode};

pub const MAX_EXTERNAL_ID: usize = 128;

/// WorkOS documents no limit on names; anything longer than this is not a
/// name but broken data, and is not sent.
pub const MAX_NAME_CHARS: usize = 1000;

/// Characters that render as nothing or reorder text: an address holding one
/// looks like another address and must not be sent as is.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

pub fn check_email(email: &str) -> Result<(), Reason> {
    let invalid = |detail: String| Err(Reason::new(ReasonCode::EmailInvalid, detail));
    if email.trim() != email {
        return invalid(format!("email `{email}` has leading or trailing spaces"));
    }
    if email.chars().any(char::is_control) {
        return invalid("email contains control characters".to_owned());
    }
    if let Some(c) = email.chars().find(|c| invisible(*c)) {
        return invalid(format!(
            "email contains an invisible Unicode character (U+{:04X})",
            c as u32
        ));
    }
    if EmailAddress::is_valid(email) && email.contains('.') {
        Ok(())
    } else {
        invalid(format!("`{email}` is not a valid email address"))
    }
}

pub fn check_external_id(id: &str) -> Result<(), Reason> {
    let invalid = |detail: String| Err(Reason::new(ReasonCode::ExternalIdInvalid, detail));
    if id.is_empty() {
        return invalid("external_id is empty".into());
    }
    if !id.is_ascii() {
        return invalid(format!("external_id `{id}` is not ASCII"));
    }
    if id.len() > MAX_EXTERNAL_ID {
        return invalid(format!(
            "external_id is {} characters; WorkOS allows {MAX_EXTERNAL_ID}",
            id.len()
        ));
    }
    Ok(())
}

/// A first or last name of a sane length.
pub fn check_name(field: &str, value: Option<&str>) -> Result<(), Reason> {
    let length = value.map_or(0, |v| v.chars().count());
    if length > MAX_NAME_CHARS {
        return Err(Reason::new(
            ReasonCode::NameInvalid,
            format!("{field} is {length} characters (more than {MAX_NAME_CHARS} is not a name)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(check_email("ada@example.com").is_ok());
        assert!(check_email("ada+tag@sub.example.co.uk").is_ok());
        assert!(check_email(" ada@example.com").is_err());
        assert!(check_email("ada example@example.com").is_err());
        assert!(check_email("ada@").is_err());
        assert!(check_email("no-at-sign").is_err());
        assert_eq!(
            check_email("ada\u{202e}@example.com").unwrap_err(),
            Reason::new(
                ReasonCode::EmailInvalid,
                "email contains an invisible Unicode character (U+202E)"
            )
        );
    }

    #[test]
    fn external_ids() {
        assert!(check_external_id("user_2abc").is_ok());
        assert!(check_external_id(&"x".repeat(129)).is_err());
        assert!(check_external_id("usér").is_err());
    }
}
