//! TOTP as WorkOS uses it (RFC 6238: SHA-1, 6 digits, 30 s step, Base32
//! secrets), so that an imported Clerk secret can be checked to yield codes the
//! sandbox accepts. The arithmetic is `totp-rs`'s; this module only fixes the
//! parameters and normalises the secret's spelling.

use totp_rs::{Builder, Secret as TotpSecret, Totp};

/// Why a secret cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TotpError {
    /// Deliberately says nothing about the secret itself.
    #[error("the TOTP secret is not valid Base32 of at least 80 bits")]
    InvalidSecret,
}

/// The authenticator-app parameters WorkOS documents.
const STEP_SECONDS: u64 = 30;
/// Shortest secret accepted: 80 bits (RFC 4226 §4 minimum is 128, but older
/// authenticator apps issued 80-bit secrets and Clerk imports keep them).
const MIN_SECRET_BYTES: usize = 10;

fn totp(secret_base32: &str) -> Result<Totp, TotpError> {
    // Apps print secrets in groups, lower case, sometimes padded.
    let normalised: String = secret_base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let secret = TotpSecret::try_from_base32(&normalised).map_err(|_| TotpError::InvalidSecret)?;
    if secret.as_bytes().len() < MIN_SECRET_BYTES {
        return Err(TotpError::InvalidSecret);
    }
    Ok(Builder::new()
        .with_secret(secret)
        .with_digits(6)
        .with_step_duration(STEP_SECONDS)
        .with_skew(1)
        .build_noncompliant())
}

/// Checks that `secret_base32` is usable, without keeping it.
pub fn validate_secret(secret_base32: &str) -> Result<(), TotpError> {
    totp(secret_base32).map(|_| ())
}

/// The code an authenticator app shows at `unix_seconds`.
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Result<String, TotpError> {
    Ok(totp(secret_base32)?.generate(unix_seconds).to_string())
}

/// Whether `code` is valid at `unix_seconds`, one step of clock skew either way.
pub fn verify_at(secret_base32: &str, code: &str, unix_seconds: u64) -> bool {
    totp(secret_base32).is_ok_and(|totp| totp.check(code.trim(), unix_seconds).is_some())
}

/// Seconds since the Unix epoch, now.
pub fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 secret "12345678901234567890", truncated to 6 digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn matches_the_rfc_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1111111109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 2000000000).unwrap(), "279037");
    }

    #[test]
    fn accepts_one_step_of_skew_and_no_more() {
        let code = code_at(RFC_SECRET, 1_000_000).unwrap();
        assert!(verify_at(RFC_SECRET, &code, 1_000_000 + 30));
        assert!(!verify_at(RFC_SECRET, &code, 1_000_000 + 120));
    }

    #[test]
    fn tolerates_lower_case_and_groups_but_not_garbage() {
        let grouped = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq";
        assert_eq!(code_at(grouped, 59).unwrap(), "287082");
        assert_eq!(
            validate_secret("not base32!"),
            Err(TotpError::InvalidSecret)
        );
        assert_eq!(validate_secret("GEZDG"), Err(TotpError::InvalidSecret));
    }
}
