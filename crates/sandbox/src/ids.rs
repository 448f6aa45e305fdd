//! Ids as both imitations hand them out and take them back: `prefix_` and
//! letters and digits. A request's id that is not one (a cursor, an id a
//! test pins) is refused rather than compared or stored.

/// The digits of Clerk's ids.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `prefix_` followed by up to 64 ASCII letters and digits.
pub fn is_id_of(value: &str, prefix: &str) -> bool {
    value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|rest| {
            !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_prefix_and_letters_and_digits() {
        assert!(is_id_of("user_01ABC", "user"));
        assert!(!is_id_of("org_01ABC", "user"));
        assert!(!is_id_of("garbage", "user"));
        assert!(!is_id_of("user_", "user"));
        assert!(!is_id_of("user_01/../x", "user"));
    }
}
