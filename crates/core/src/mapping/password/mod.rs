//! Which password digests WorkOS can take, and under which label.
//!
//! A mislabelled hash is worse than none: the user could never sign in and
//! nobody would know why. So every digest is read against the layout of the
//! hasher Clerk named ([`clerk`]), converted to the WorkOS type and layout
//! its cohort was proven with ([`convert`], [`Conversions`]), and sent only
//! then; anything ferry cannot vouch for is not sent, and the user is
//! created without a password and listed for a reset. Messages never echo a
//! digest.
//!
//! A cohort is every user of one Clerk hasher. Before the users step
//! writes, a hash probe tries the cohort's conversions on the target
//! ([`crate::steps::users::probe`]); what it found is a [`Verdict`]. A
//! cohort never probed (probes off, or the target takes no password
//! sign-in) is sent with its first, documented-or-assumed conversion.

pub mod clerk;
pub mod convert;
pub mod forge;
mod reason;

use std::collections::BTreeMap;

pub use convert::Conversion;
use ferry_wire::secret::Secret;
pub use reason::ResetReason;

/// What happens to a user's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordPlan {
    /// The export has no password for this user (social-only, passwordless).
    None,
    /// Sent with the user's creation.
    Import {
        hash_type: &'static str,
        hash: Secret,
        /// `password_salt_position`, for `ssha256`.
        salt_position: Option<&'static str>,
        hasher: String,
    },
    /// Not sent: the user is created without a password and listed for a reset.
    Reset { hasher: String, reason: ResetReason },
}

/// What the hash probe found for one cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A probe user with this conversion signed in.
    Confirmed(Conversion),
    /// No conversion signed a probe user in: the cohort is not sent.
    Failed(String),
}

/// The verdict of each probed cohort, by Clerk hasher; cohorts without one
/// are sent with their first conversion (not probed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversions {
    verdicts: BTreeMap<String, Verdict>,
}

impl Conversions {
    pub fn with(mut self, hasher: &str, verdict: Verdict) -> Self {
        self.verdicts.insert(hasher.to_owned(), verdict);
        self
    }

    pub fn verdict(&self, hasher: &str) -> Option<&Verdict> {
        self.verdicts.get(hasher)
    }

    /// The conversion `hasher`'s digests are sent with.
    fn for_hasher(&self, hasher: &str) -> Result<Conversion, ResetReason> {
        match self.verdicts.get(hasher) {
            Some(Verdict::Confirmed(conversion)) => Ok(*conversion),
            Some(Verdict::Failed(why)) => Err(ResetReason::ProbeFailed(why.clone())),
            None => convert::candidates(hasher)
                .first()
                .copied()
                .ok_or(ResetReason::UnsupportedHasher),
        }
    }
}

/// Hashers WorkOS can take, by Clerk's names.
pub const SUPPORTED_HASHERS: [&str; 12] = [
    "bcrypt",
    "argon2i",
    "argon2id",
    "scrypt_firebase",
    "ldap_ssha",
    "pbkdf2_sha1",
    "pbkdf2_sha256",
    "pbkdf2_sha256_django",
    "pbkdf2_sha512",
    "pbkdf2_sha512_hex",
    "scrypt_werkzeug",
    "sha256_salted",
];

/// What to do with a user's digest, under the cohorts' `conversions`.
pub fn plan(
    hasher: Option<&str>,
    digest: Option<&Secret>,
    conversions: &Conversions,
) -> PasswordPlan {
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
    let converted = clerk::parse(hasher, digest).and_then(|parsed| {
        let conversion = conversions.for_hasher(hasher)?;
        conversion
            .render(&parsed)
            .map(|rendered| (conversion, rendered))
    });
    match converted {
        Ok((conversion, rendered)) => PasswordPlan::Import {
            hash_type: conversion.hash_type,
            hash: Secret::new(rendered.hash),
            salt_position: rendered.salt_position,
            hasher: hasher.to_owned(),
        },
        Err(reason) => PasswordPlan::Reset {
            hasher: hasher.to_owned(),
            reason,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::reason::ReasonCode;
    use data_encoding::{BASE64, BASE64_NOPAD};

    const BCRYPT: &str = "$2b$10$DDNCiNnr6htYntAuoz/yVOwXojdZbahUxkEbxnfFejjBX.31Oi.2O";

    fn run(hasher: &str, digest: &str) -> PasswordPlan {
        plan(
            Some(hasher),
            Some(&Secret::new(digest)),
            &Conversions::default(),
        )
    }

    fn reason(plan: PasswordPlan) -> ResetReason {
        match plan {
            PasswordPlan::Reset { reason, .. } => reason,
            other => panic!("expected a reset, got {other:?}"),
        }
    }

    /// What is sent: the type, the string, the salt position.
    type Sent<'a> = (&'a str, String, Option<&'a str>);

    fn sent(plan: PasswordPlan) -> (&'static str, String, Option<&'static str>) {
        match plan {
            PasswordPlan::Import {
                hash_type,
                hash,
                salt_position,
                ..
            } => (hash_type, hash.expose().to_owned(), salt_position),
            other => panic!("expected an import, got {other:?}"),
        }
    }

    #[test]
    fn each_hasher_is_sent_in_its_first_layout() {
        let salt = BASE64.encode(b"0123456789abcdef");
        let salt_phc = BASE64_NOPAD.encode(b"0123456789abcdef");
        let h32 = [7u8; 32];
        let h20 = [9u8; 20];
        let h64 = [5u8; 64];
        let ssha = BASE64.encode(&[[1u8; 20].as_slice(), b"salt"].concat());
        let cases: Vec<(&str, String, Sent)> = vec![
            ("bcrypt", BCRYPT.into(), ("bcrypt", BCRYPT.into(), None)),
            (
                "pbkdf2_sha256",
                format!("pbkdf2_sha256$600000${salt}${}", BASE64.encode(&h32)),
                (
                    "pbkdf2",
                    format!(
                        "$pbkdf2-sha256$i=600000${salt_phc}${}",
                        BASE64_NOPAD.encode(&h32)
                    ),
                    None,
                ),
            ),
            (
                "pbkdf2_sha1",
                format!("pbkdf2_sha1$1000$NaCl${}", hex::encode(h20)),
                (
                    "pbkdf2",
                    format!(
                        "$pbkdf2-sha1$i=1000${}${}",
                        BASE64_NOPAD.encode(b"NaCl"),
                        BASE64_NOPAD.encode(&h20)
                    ),
                    None,
                ),
            ),
            (
                "pbkdf2_sha512",
                format!("pbkdf2_sha512$1000${salt}${}", BASE64.encode(&h64)),
                (
                    "pbkdf2",
                    format!(
                        "$pbkdf2-sha512$i=1000${salt_phc}${}",
                        BASE64_NOPAD.encode(&h64)
                    ),
                    None,
                ),
            ),
            (
                "pbkdf2_sha512_hex",
                format!(
                    "pbkdf2_sha512$1000${}${}",
                    hex::encode(b"0123456789abcdef"),
                    hex::encode(h64)
                ),
                (
                    "pbkdf2",
                    format!(
                        "$pbkdf2-sha512$i=1000${salt_phc}${}",
                        BASE64_NOPAD.encode(&h64)
                    ),
                    None,
                ),
            ),
            (
                "scrypt_werkzeug",
                format!("scrypt:32768:8:1$NaCl${}", hex::encode(h64)),
                (
                    "scrypt",
                    format!(
                        "$scrypt$ln=15,r=8,p=1${}${}",
                        BASE64_NOPAD.encode(b"NaCl"),
                        BASE64_NOPAD.encode(&h64)
                    ),
                    None,
                ),
            ),
            (
                "sha256_salted",
                format!("{}$NaCl", hex::encode(h32)),
                (
                    "ssha256",
                    format!(
                        "{{SSHA256}}{}",
                        BASE64.encode(&[&h32[..], b"NaCl"].concat())
                    ),
                    Some("suffix"),
                ),
            ),
            (
                "ldap_ssha",
                ssha.clone(),
                ("ssha", format!("{{SSHA}}{ssha}"), None),
            ),
            (
                "scrypt_firebase",
                "bGxhbWFz$c2FsdA==$c2lnbmVy$Bw==$8$14".into(),
                (
                    "firebase-scrypt",
                    "$firebase-scrypt$hash=bGxhbWFz$salt=c2FsdA==$sk=c2lnbmVy$ss=Bw==$r=8$m=14"
                        .into(),
                    None,
                ),
            ),
        ];
        for (hasher, digest, expected) in cases {
            let (hash_type, hash, position) = sent(run(hasher, &digest));
            assert_eq!(
                (hash_type, hash.as_str(), position),
                (expected.0, expected.1.as_str(), expected.2),
                "{hasher}"
            );
        }
        // Django's salt is text: it is carried as its bytes.
        let django = format!("pbkdf2_sha256$720000$Nq1Oc7ZQk2Fm${}", BASE64.encode(&h32));
        assert_eq!(
            sent(run("pbkdf2_sha256_django", &django)).1,
            format!(
                "$pbkdf2-sha256$i=720000${}${}",
                BASE64_NOPAD.encode(b"Nq1Oc7ZQk2Fm"),
                BASE64_NOPAD.encode(&h32)
            )
        );
    }

    #[test]
    fn a_probe_verdict_decides_the_layout_or_keeps_the_digest_back() {
        let digest = format!("pbkdf2_sha256$1000$NaCl${}", BASE64.encode(&[7u8; 32]));
        let conversions = |verdict| Conversions::default().with("pbkdf2_sha256_django", verdict);
        let with = |verdict| {
            plan(
                Some("pbkdf2_sha256_django"),
                Some(&Secret::new(&digest)),
                &conversions(verdict),
            )
        };
        let passlib = Conversion::by_id("pbkdf2_sha256_django", "pbkdf2/passlib").unwrap();
        let django = Conversion::by_id("pbkdf2_sha256_django", "pbkdf2/django").unwrap();
        let adapted = BASE64_NOPAD.encode(&[7u8; 32]).replace('+', ".");
        assert_eq!(
            sent(with(Verdict::Confirmed(passlib))).1,
            format!(
                "$pbkdf2-sha256$1000${}${adapted}",
                BASE64_NOPAD.encode(b"NaCl")
            )
        );
        assert_eq!(sent(with(Verdict::Confirmed(django))).1, digest);
        assert_eq!(
            reason(with(Verdict::Failed("3 layouts refused".into()))),
            ResetReason::ProbeFailed("3 layouts refused".into())
        );
        assert_eq!(
            ResetReason::ProbeFailed(String::new()).code(),
            ReasonCode::HashProbeFailed
        );
    }

    #[test]
    fn a_digest_that_does_not_match_its_hasher_is_never_sent() {
        let h32 = BASE64.encode(&[7u8; 32]);
        let argon = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        let cases = [
            ("bcrypt", &BCRYPT[..59]),
            ("bcrypt", &BCRYPT.replace("$2b$", "$2x$")),
            ("bcrypt", &BCRYPT.replace("$10$", "$99$")),
            ("bcrypt", argon),
            ("argon2i", argon),
            ("argon2id", BCRYPT),
            ("pbkdf2_sha256", &format!("pbkdf2_sha1$1000$c2FsdA==${h32}")),
            (
                "pbkdf2_sha256",
                &format!("pbkdf2_sha256$1000$c2FsdA==${}", BASE64.encode(&[1u8; 20])),
            ),
            ("pbkdf2_sha256", "pbkdf2_sha256$1000$c2FsdA=="),
            (
                "pbkdf2_sha256",
                &format!("pbkdf2_sha256$many$c2FsdA==${h32}"),
            ),
            ("pbkdf2_sha1", &format!("pbkdf2_sha1$1000$NaCl${h32}")),
            ("scrypt_werkzeug", "pbkdf2:sha256:600000$NaCl$00"),
            ("sha256_salted", "5f4dcc3b5aa765d61d8327deb882cf99$NaCl"),
            ("scrypt_firebase", "bGxhbWFz$c2FsdA==$8$14"),
        ];
        for (hasher, digest) in cases {
            let reason = reason(run(hasher, digest));
            assert!(
                matches!(reason, ResetReason::Malformed(_)),
                "{hasher}: {reason:?}"
            );
            // The secret part (the hash, last) is never echoed.
            let tail = digest.rsplit('$').next().unwrap_or_default();
            assert!(
                tail.len() < 4 || !reason.to_string().contains(tail),
                "{hasher}"
            );
        }
        for (hasher, digest) in [
            (
                "argon2id",
                "$argon2id$v=19$m=64,t=4,p=8$Z2liZXJyaXNo$iGXEpMBTDYQ8G/71tF0qGjxRHEmR3gpGULcE93zUJVU",
            ),
            (
                "pbkdf2_sha256",
                &format!("pbkdf2_sha256$4000000000$c2FsdA==${h32}"),
            ),
            ("scrypt_werkzeug", "scrypt:1000:8:1$NaCl$00"),
        ] {
            assert!(
                matches!(
                    reason(run(hasher, digest)),
                    ResetReason::ParametersOutOfRange(_)
                ),
                "{hasher}"
            );
        }
    }

    #[test]
    fn unsupported_and_incomplete_are_reset_and_never_echo_the_digest() {
        for hasher in [
            "md5",
            "sha256",
            "phpass",
            "awscognito",
            "bcrypt_sha256_django",
        ] {
            let plan = run(hasher, "5f4dcc3b5aa765d61d8327deb882cf99");
            assert_eq!(reason(plan.clone()), ResetReason::UnsupportedHasher);
            assert!(!format!("{plan:?}").contains("5f4dcc3b"));
        }
        let none = Conversions::default();
        assert!(matches!(
            reason(plan(Some("bcrypt"), None, &none)),
            ResetReason::Incomplete(_)
        ));
        assert!(matches!(
            reason(plan(None, Some(&Secret::new(BCRYPT)), &none)),
            ResetReason::Incomplete(_)
        ));
        assert_eq!(plan(None, None, &none), PasswordPlan::None);
    }

    #[test]
    fn a_probe_digest_reads_back_as_its_cohort_and_holds_the_password() {
        use sha2::Sha256;
        let password = forge::probe_password();
        let samples = [
            ("bcrypt", BCRYPT.to_owned()),
            (
                "argon2id",
                "$argon2id$v=19$m=4096,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
                    .to_owned(),
            ),
            (
                "scrypt_firebase",
                "bGxhbWFz$c2FsdA==$c2lnbmVy$Bw==$8$4".to_owned(),
            ),
            ("ldap_ssha", BASE64.encode(&[1u8; 28])),
            (
                "pbkdf2_sha256",
                format!("pbkdf2_sha256$1000$c2FsdA==${}", BASE64.encode(&[7u8; 32])),
            ),
            (
                "pbkdf2_sha256_django",
                format!("pbkdf2_sha256$1000$NaCl${}", BASE64.encode(&[7u8; 32])),
            ),
            (
                "pbkdf2_sha1",
                format!("pbkdf2_sha1$1000$NaCl${}", hex::encode([9u8; 20])),
            ),
            (
                "pbkdf2_sha512",
                format!("pbkdf2_sha512$1000$c2FsdA==${}", BASE64.encode(&[5u8; 64])),
            ),
            (
                "pbkdf2_sha512_hex",
                format!("pbkdf2_sha512$1000$00ff${}", hex::encode([5u8; 64])),
            ),
            (
                "scrypt_werkzeug",
                format!("scrypt:16:8:1$NaCl${}", hex::encode([1u8; 64])),
            ),
            ("sha256_salted", format!("{}$NaCl", hex::encode([7u8; 32]))),
        ];
        assert_eq!(
            samples
                .iter()
                .map(|(hasher, _)| *hasher)
                .collect::<Vec<_>>()
                .len()
                + 1,
            SUPPORTED_HASHERS.len(),
            "every supported hasher but argon2i has a sample"
        );
        for (hasher, sample) in samples {
            let parsed = clerk::parse(hasher, &sample).unwrap_or_else(|r| panic!("{hasher}: {r}"));
            let forged = forge::digest(hasher, &parsed, &password).expect(hasher);
            let again = clerk::parse(hasher, forged.expose())
                .unwrap_or_else(|r| panic!("{hasher} forged: {r}"));
            if let clerk::Parsed::Pbkdf2 {
                rounds, salt, hash, ..
            } = &again
                && hasher == "pbkdf2_sha256"
            {
                let mut expected = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(
                    password.expose().as_bytes(),
                    salt,
                    *rounds,
                    &mut expected,
                );
                assert_eq!(hash.as_slice(), expected.as_slice());
            }
            assert!(!format!("{forged:?}").contains(password.expose()));
        }
    }
}
