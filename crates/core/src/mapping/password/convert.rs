//! The WorkOS side of a digest: for each Clerk hasher, the conversions
//! ferry can send (a `password_hash_type` and a string layout), in the
//! order a probe tries them, and the rendering of a parsed digest in each.
//!
//! WorkOS's documents give the layout of some types only; the others are
//! candidates a hash probe confirms against the real target before any
//! user's digest is sent ([`crate::steps::users::probe`]). A conversion's
//! id names it in the journal; [`CONVERSIONS_VERSION`] changes whenever a
//! rendering changes, so a recorded probe result is not trusted for a
//! conversion that is no longer the one it tested.

use data_encoding::{BASE64, BASE64_NOPAD};

use super::clerk::{Parsed, Prf};
use super::reason::ResetReason;

/// Bumped whenever a rendering below changes: results recorded by probes of
/// an earlier rendering are probed again.
pub const CONVERSIONS_VERSION: u32 = 1;

/// A WorkOS `password_hash_type` and the string layout ferry writes for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversion {
    pub hash_type: &'static str,
    pub layout: Layout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The digest as Clerk holds it (bcrypt, argon2 PHC).
    Verbatim,
    /// `$firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…`.
    FirebasePhc,
    /// `{SSHA}` + base64(SHA-1 ‖ salt).
    Ssha,
    /// `$pbkdf2-<prf>$i=<rounds>$<salt>$<hash>`, unpadded base64 (PHC).
    Pbkdf2Phc,
    /// `$pbkdf2-<prf>$<rounds>$<salt>$<hash>`, passlib's adapted base64.
    Pbkdf2Passlib,
    /// `pbkdf2_<prf>$<rounds>$<salt>$<hash>`, Django's: salt as text, hash base64.
    Pbkdf2Django,
    /// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, unpadded base64 (PHC).
    ScryptPhc,
    /// `{SSHA256}` + base64(SHA-256 ‖ salt), the salt after the password.
    Ssha256Suffix,
}

const fn conversion(hash_type: &'static str, layout: Layout) -> Conversion {
    Conversion { hash_type, layout }
}

const BCRYPT: [Conversion; 1] = [conversion("bcrypt", Layout::Verbatim)];
const ARGON2: [Conversion; 1] = [conversion("argon2", Layout::Verbatim)];
const FIREBASE: [Conversion; 1] = [conversion("firebase-scrypt", Layout::FirebasePhc)];
const SSHA: [Conversion; 1] = [conversion("ssha", Layout::Ssha)];
const PBKDF2: [Conversion; 3] = [
    conversion("pbkdf2", Layout::Pbkdf2Phc),
    conversion("pbkdf2", Layout::Pbkdf2Passlib),
    conversion("pbkdf2", Layout::Pbkdf2Django),
];
const SCRYPT: [Conversion; 1] = [conversion("scrypt", Layout::ScryptPhc)];
const SSHA256: [Conversion; 1] = [conversion("ssha256", Layout::Ssha256Suffix)];

/// The conversions of `hasher`, most likely first; empty when WorkOS has no type for it.
pub fn candidates(hasher: &str) -> &'static [Conversion] {
    match hasher {
        "bcrypt" => &BCRYPT,
        "argon2i" | "argon2id" => &ARGON2,
        "scrypt_firebase" => &FIREBASE,
        "ldap_ssha" => &SSHA,
        "pbkdf2_sha256"
        | "pbkdf2_sha256_django"
        | "pbkdf2_sha1"
        | "pbkdf2_sha512"
        | "pbkdf2_sha512_hex" => &PBKDF2,
        "scrypt_werkzeug" => &SCRYPT,
        "sha256_salted" => &SSHA256,
        _ => &[],
    }
}

/// A digest as WorkOS is sent it.
pub struct Rendered {
    pub hash: String,
    pub salt_position: Option<&'static str>,
}

impl Conversion {
    /// The conversion by its id (`pbkdf2/phc`), as the journal records it.
    pub fn by_id(hasher: &str, id: &str) -> Option<Self> {
        candidates(hasher).iter().copied().find(|c| c.id() == id)
    }

    pub fn id(&self) -> &'static str {
        match self.layout {
            Layout::Verbatim => match self.hash_type {
                "bcrypt" => "bcrypt/verbatim",
                _ => "argon2/phc",
            },
            Layout::FirebasePhc => "firebase-scrypt/fields",
            Layout::Ssha => "ssha/ldap",
            Layout::Pbkdf2Phc => "pbkdf2/phc",
            Layout::Pbkdf2Passlib => "pbkdf2/passlib",
            Layout::Pbkdf2Django => "pbkdf2/django",
            Layout::ScryptPhc => "scrypt/phc",
            Layout::Ssha256Suffix => "ssha256/ldap-suffix",
        }
    }

    /// `parsed` in this layout; refused when the layout cannot carry it
    /// (Django's layout holds a salt only as text without `$`).
    pub fn render(&self, parsed: &Parsed) -> Result<Rendered, ResetReason> {
        let unfit = || {
            Err(ResetReason::Malformed(format!(
                "the {} layout cannot carry this digest",
                self.id()
            )))
        };
        let hash = match (self.layout, parsed) {
            (Layout::Verbatim, Parsed::Verbatim(digest)) => digest.clone(),
            (
                Layout::FirebasePhc,
                Parsed::FirebaseScrypt {
                    hash,
                    salt,
                    signer_key,
                    separator,
                    rounds,
                    memory_cost,
                },
            ) => format!(
                "$firebase-scrypt$hash={hash}$salt={salt}$sk={signer_key}$ss={separator}$r={rounds}$m={memory_cost}"
            ),
            (Layout::Ssha, Parsed::Ssha(bytes)) => format!("{{SSHA}}{}", BASE64.encode(bytes)),
            (
                Layout::Pbkdf2Phc | Layout::Pbkdf2Passlib | Layout::Pbkdf2Django,
                Parsed::Pbkdf2 {
                    prf,
                    rounds,
                    salt,
                    hash,
                },
            ) => pbkdf2(self.layout, *prf, *rounds, salt, hash).ok_or_else(|| {
                ResetReason::Malformed(format!(
                    "the {} layout holds a salt only as text without `$`",
                    self.id()
                ))
            })?,
            (
                Layout::ScryptPhc,
                Parsed::Scrypt {
                    log_n,
                    r,
                    p,
                    salt,
                    hash,
                },
            ) => format!(
                "$scrypt$ln={log_n},r={r},p={p}${}${}",
                BASE64_NOPAD.encode(salt),
                BASE64_NOPAD.encode(hash)
            ),
            (Layout::Ssha256Suffix, Parsed::SaltedSha256 { hash, salt }) => {
                return Ok(Rendered {
                    hash: format!("{{SSHA256}}{}", BASE64.encode(&[&hash[..], salt].concat())),
                    salt_position: Some("suffix"),
                });
            }
            _ => return unfit(),
        };
        Ok(Rendered {
            hash,
            salt_position: None,
        })
    }
}

/// passlib's "adapted base64": standard base64 unpadded, `+` written `.`.
fn adapted_base64(bytes: &[u8]) -> String {
    BASE64_NOPAD.encode(bytes).replace('+', ".")
}

fn pbkdf2(layout: Layout, prf: Prf, rounds: u32, salt: &[u8], hash: &[u8]) -> Option<String> {
    let prf = prf.name();
    Some(match layout {
        Layout::Pbkdf2Phc => format!(
            "$pbkdf2-{prf}$i={rounds}${}${}",
            BASE64_NOPAD.encode(salt),
            BASE64_NOPAD.encode(hash)
        ),
        Layout::Pbkdf2Passlib => format!(
            "$pbkdf2-{prf}${rounds}${}${}",
            adapted_base64(salt),
            adapted_base64(hash)
        ),
        _ => {
            let salt = std::str::from_utf8(salt)
                .ok()
                .filter(|text| !text.contains('$') && !text.is_empty())?;
            format!("pbkdf2_{prf}${rounds}${salt}${}", BASE64.encode(hash))
        }
    })
}
