//! Which password digests WorkOS can take, and under which label.
//!
//! A mislabelled hash is worse than none: the user could never sign in and
//! nobody would know why. So every digest's shape is checked against the
//! hasher Clerk named before it is sent; anything ferry cannot vouch for is
//! not sent, and the user is created without a password and listed for a
//! reset. Messages never echo a digest.
//!
//! | Clerk hasher | WorkOS `password_hash_type` | check |
//! | --- | --- | --- |
//! | `bcrypt` | `bcrypt` | `$2a$`/`$2b$`/`$2y$`, cost 04–31, 60 characters |
//! | `argon2i`, `argon2id` | `argon2` | PHC string of that variant, v=19, m 4096–262144, t 1–5 (argon2i t ≥ 3), p 1–8 |
//! | `scrypt_firebase` | `firebase-scrypt` | six `$`-separated fields, base64 parts, rounds 1–8, memory cost 1–14; re-encoded |
//! | `ldap_ssha` | `ssha` | `{SSHA}` + base64 of a 20-byte SHA-1 and a salt |
//! | anything else | not sent | |

use crate::support::reason::ReasonCode;
use argon2::password_hash::phc::PasswordHash;
use data_encoding::BASE64;
use serde::Serialize;

use ferry_wire::secret::Secret;

/// What happens to a user's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordPlan {
    /// The export has no password for this user (social-only, passwordless).
    None,
    /// Sent with the user's creation.
    Import {
        hash_type: &'static str,
        hash: Secret,
        hasher: String,
    },
    /// Not sent: the user is created without a password and listed for a reset.
    Reset { hasher: String, reason: ResetReason },
}

/// Why a digest was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ResetReason {
    /// WorkOS has no hash type for this hasher.
    UnsupportedHasher,
    /// The digest does not have the shape its hasher promises.
    Malformed(String),
    /// The hasher's parameters are outside what WorkOS accepts.
    ParametersOutOfRange(String),
    /// A digest with no hasher named, or a hasher with no digest.
    Incomplete(String),
    /// The plan says `passwords: skip`.
    PlanSkips,
}

impl ResetReason {
    pub fn code(&self) -> ReasonCode {
        match self {
            Self::UnsupportedHasher => ReasonCode::HashUnsupported,
            Self::Malformed(_) => ReasonCode::HashMalformed,
            Self::ParametersOutOfRange(_) => ReasonCode::HashParametersOutOfRange,
            Self::Incomplete(_) => ReasonCode::HashIncomplete,
            Self::PlanSkips => ReasonCode::PasswordsSkipped,
        }
    }
}

impl std::fmt::Display for ResetReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedHasher => f.write_str("WorkOS cannot import this hasher"),
            Self::Malformed(why) => write!(f, "malformed digest: {why}"),
            Self::ParametersOutOfRange(why) => {
                write!(f, "parameters WorkOS does not accept: {why}")
            }
            Self::Incomplete(why) => f.write_str(why),
            Self::PlanSkips => f.write_str("the plan skips passwords"),
        }
    }
}

/// Hashers WorkOS can take, by Clerk's names.
pub const SUPPORTED_HASHERS: [&str; 5] = [
    "bcrypt",
    "argon2i",
    "argon2id",
    "scrypt_firebase",
    "ldap_ssha",
];

pub fn plan(hasher: Option<&str>, digest: Option<&Secret>) -> PasswordPlan {
    let hasher = hasher.map(str::trim).filter(|h| !h.is_empty());
    let digest = digest.filter(|d| !d.expose().trim().is_empty());
    let (hasher, digest) = match (hasher, digest) {
        (None, None) => return PasswordPlan::None,
        (Some(hasher), None) => {
            return PasswordPlan::Reset {
                hasher: hasher.to_owned(),
                reason: ResetReason::Incomplete("a hasher is named but the digest is empty".into()),
            };
        }
        (None, Some(_)) => {
            return PasswordPlan::Reset {
                hasher: String::new(),
                reason: ResetReason::Incomplete("a digest without a hasher".into()),
            };
        }
        (Some(hasher), Some(digest)) => (hasher, digest.expose().trim()),
    };
    let result = match hasher {
        "bcrypt" => bcrypt(digest).map(|()| ("bcrypt", digest.to_owned())),
        "argon2i" | "argon2id" => argon2(hasher, digest).map(|()| ("argon2", digest.to_owned())),
        "scrypt_firebase" => firebase_scrypt(digest).map(|hash| ("firebase-scrypt", hash)),
        "ldap_ssha" => ssha(digest).map(|hash| ("ssha", hash)),
        _ => Err(ResetReason::UnsupportedHasher),
    };
    match result {
        Ok((hash_type, hash)) => PasswordPlan::Import {
            hash_type,
            hash: Secret::new(hash),
            hasher: hasher.to_owned(),
        },
        Err(reason) => PasswordPlan::Reset {
            hasher: hasher.to_owned(),
            reason,
        },
    }
}

fn bcrypt(digest: &str) -> Result<(), ResetReason> {
    let malformed = |why: &str| Err(ResetReason::Malformed(why.to_owned()));
    if !["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| digest.starts_with(p))
    {
        return malformed("a bcrypt digest starts with $2a$, $2b$ or $2y$");
    }
    if digest.len() != 60 {
        return malformed(&format!(
            "a bcrypt digest has 60 characters, this one {}",
            digest.len()
        ));
    }
    let cost = &digest[4..6];
    if digest.as_bytes()[6] != b'$' || !cost.bytes().all(|b| b.is_ascii_digit()) {
        return malformed("no two-digit cost after the version");
    }
    if !(4..=31).contains(&cost.parse::<u32>().unwrap_or(0)) {
        return malformed("the cost is outside 04-31");
    }
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'/';
    if !digest.as_bytes()[7..].iter().all(|b| alphabet(*b)) {
        return malformed("characters outside bcrypt's base64 alphabet");
    }
    Ok(())
}

fn argon2(hasher: &str, digest: &str) -> Result<(), ResetReason> {
    let parsed = PasswordHash::new(digest).map_err(|_| {
        ResetReason::Malformed(
            "not an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)".into(),
        )
    })?;
    let algorithm = parsed.algorithm.as_str();
    if algorithm != hasher {
        return Err(ResetReason::Malformed(format!(
            "labelled {hasher} but the digest is {algorithm}"
        )));
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(ResetReason::Malformed("no salt or no hash part".into()));
    }
    let param = |name: &str| parsed.params.get_decimal(name);
    let (m, t, p) = match (param("m"), param("t"), param("p")) {
        (Some(m), Some(t), Some(p)) => (m, t, p),
        _ => return Err(ResetReason::Malformed("missing m, t or p".into())),
    };
    let version = parsed.version.unwrap_or(0);
    let min_t = if algorithm == "argon2i" { 3 } else { 1 };
    if version != 19
        || !(4096..=262_144).contains(&m)
        || !(min_t..=5).contains(&t)
        || !(1..=8).contains(&p)
    {
        return Err(ResetReason::ParametersOutOfRange(format!(
            "v={version} m={m} t={t} p={p}; WorkOS takes v=19, m 4096-262144, t {min_t}-5, p 1-8"
        )));
    }
    Ok(())
}

/// Clerk: `hash$salt$signer_key$salt_separator$rounds$mem_cost` (base64 parts).
/// WorkOS: `$firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…`.
fn firebase_scrypt(digest: &str) -> Result<String, ResetReason> {
    let parts: Vec<&str> = digest.split('$').collect();
    let [hash, salt, signer_key, separator, rounds, mem_cost] = parts[..] else {
        return Err(ResetReason::Malformed(format!(
            "scrypt_firebase digests have 6 `$`-separated fields, this one {}",
            parts.len()
        )));
    };
    for (name, part) in [
        ("hash", hash),
        ("salt", salt),
        ("signer key", signer_key),
        ("salt separator", separator),
    ] {
        if part.is_empty() || BASE64.decode(part.as_bytes()).is_err() {
            return Err(ResetReason::Malformed(format!("the {name} is not base64")));
        }
    }
    let number = |text: &str| text.parse::<u32>().ok();
    match (number(rounds), number(mem_cost)) {
        (Some(r @ 1..=8), Some(m @ 1..=14)) => Ok(format!(
            "$firebase-scrypt$hash={hash}$salt={salt}$sk={signer_key}$ss={separator}$r={r}$m={m}"
        )),
        (Some(r), Some(m)) => Err(ResetReason::ParametersOutOfRange(format!(
            "rounds {r}, memory cost {m}; Firebase uses rounds 1-8, memory cost 1-14"
        ))),
        _ => Err(ResetReason::Malformed(
            "rounds and memory cost must be whole numbers".into(),
        )),
    }
}

/// `{SSHA}` + base64(SHA-1 digest (20 bytes) + salt). The prefix is added when Clerk left it off.
fn ssha(digest: &str) -> Result<String, ResetReason> {
    let body = digest.strip_prefix("{SSHA}").unwrap_or(digest);
    match BASE64.decode(body.as_bytes()) {
        Ok(bytes) if bytes.len() > 20 => Ok(format!("{{SSHA}}{body}")),
        Ok(_) => Err(ResetReason::Malformed(
            "an SSHA digest holds 20 bytes of SHA-1 and a salt".into(),
        )),
        Err(_) => Err(ResetReason::Malformed("an SSHA digest is base64".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCRYPT: &str = "$2b$10$DDNCiNnr6htYntAuoz/yVOwXojdZbahUxkEbxnfFejjBX.31Oi.2O";

    fn run(hasher: &str, digest: &str) -> PasswordPlan {
        plan(Some(hasher), Some(&Secret::new(digest)))
    }

    fn reason(plan: PasswordPlan) -> ResetReason {
        match plan {
            PasswordPlan::Reset { reason, .. } => reason,
            other => panic!("expected a reset, got {other:?}"),
        }
    }

    #[test]
    fn bcrypt_passes_only_when_well_formed() {
        assert!(matches!(
            run("bcrypt", BCRYPT),
            PasswordPlan::Import {
                hash_type: "bcrypt",
                ..
            }
        ));
        assert!(matches!(
            reason(run("bcrypt", &BCRYPT[..59])),
            ResetReason::Malformed(_)
        ));
        assert!(matches!(
            reason(run("bcrypt", &BCRYPT.replace("$2b$", "$2x$"))),
            ResetReason::Malformed(_)
        ));
        assert!(matches!(
            reason(run("bcrypt", &BCRYPT.replace("$10$", "$99$"))),
            ResetReason::Malformed(_)
        ));
    }

    #[test]
    fn a_mislabelled_hash_is_never_sent() {
        let argon = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        assert!(matches!(
            run("argon2id", argon),
            PasswordPlan::Import {
                hash_type: "argon2",
                ..
            }
        ));
        assert_eq!(
            reason(run("argon2i", argon)),
            ResetReason::Malformed("labelled argon2i but the digest is argon2id".into())
        );
        assert!(matches!(
            reason(run("bcrypt", argon)),
            ResetReason::Malformed(_)
        ));
        assert!(matches!(
            reason(run("argon2id", BCRYPT)),
            ResetReason::Malformed(_)
        ));
    }

    #[test]
    fn argon2_parameters_must_be_in_workos_range() {
        let weak =
            "$argon2id$v=19$m=64,t=4,p=8$Z2liZXJyaXNo$iGXEpMBTDYQ8G/71tF0qGjxRHEmR3gpGULcE93zUJVU";
        assert!(matches!(
            reason(run("argon2id", weak)),
            ResetReason::ParametersOutOfRange(_)
        ));
    }

    #[test]
    fn firebase_scrypt_is_re_encoded() {
        let digest = "bGxhbWFz$c2FsdA==$c2lnbmVy$Bw==$8$14";
        match run("scrypt_firebase", digest) {
            PasswordPlan::Import {
                hash_type, hash, ..
            } => {
                assert_eq!(hash_type, "firebase-scrypt");
                assert_eq!(
                    hash.expose(),
                    "$firebase-scrypt$hash=bGxhbWFz$salt=c2FsdA==$sk=c2lnbmVy$ss=Bw==$r=8$m=14"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            reason(run("scrypt_firebase", "bGxhbWFz$c2FsdA==$8$14")),
            ResetReason::Malformed(_)
        ));
    }

    #[test]
    fn unsupported_and_incomplete_are_reset_and_never_echo_the_digest() {
        for hasher in ["md5", "pbkdf2_sha256", "phpass", "awscognito"] {
            let plan = run(hasher, "5f4dcc3b5aa765d61d8327deb882cf99");
            assert_eq!(reason(plan.clone()), ResetReason::UnsupportedHasher);
            assert!(!format!("{plan:?}").contains("5f4dcc3b"));
        }
        assert!(matches!(
            reason(plan(Some("bcrypt"), None)),
            ResetReason::Incomplete(_)
        ));
        assert!(matches!(
            reason(plan(None, Some(&Secret::new(BCRYPT)))),
            ResetReason::Incomplete(_)
        ));
        assert_eq!(plan(None, None), PasswordPlan::None);
    }

    #[test]
    fn ssha_gets_its_prefix() {
        let body = BASE64.encode(&[7u8; 28]);
        match run("ldap_ssha", &body) {
            PasswordPlan::Import { hash, .. } => {
                assert_eq!(hash.expose(), format!("{{SSHA}}{body}"))
            }
            other => panic!("{other:?}"),
        }
    }
}
