//! Password digests: a pool of passwords hashed once per run (bcrypt at
//! cost 4, argon2id at 4 MiB / 1 pass, the least WorkOS accepts) that many users share, and
//! shape-correct but unverifiable digests for the legacy hashers.

use argon2::password_hash::PasswordHasher;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::planted::{BCRYPT_COST, PASSWORD_POOL};
use super::vocabulary::random_id;

/// Digests hashed once per run and shared.
pub(super) struct PasswordPool {
    pub(super) passwords: Vec<String>,
    pub(super) bcrypt: Vec<String>,
    pub(super) argon2id: Vec<String>,
}

impl PasswordPool {
    pub(super) fn new(rng: &mut ChaCha8Rng) -> Self {
        let passwords: Vec<String> = (0..PASSWORD_POOL)
            .map(|_| format!("Sandbox-{}!", random_id(rng, 12)))
            .collect();
        let bcrypt = passwords
            .iter()
            .map(|password| {
                let salt: [u8; 16] = rng.random();
                bcrypt::hash_with_salt(password, BCRYPT_COST, salt)
                    .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
                    .unwrap_or_default()
            })
            .collect();
        let argon2id = passwords
            .iter()
            .map(|password| {
                let salt: [u8; 16] = rng.random();
                argon2::Params::new(4096, 1, 1, None)
                    .ok()
                    .map(|params| {
                        argon2::Argon2::new(
                            argon2::Algorithm::Argon2id,
                            argon2::Version::V0x13,
                            params,
                        )
                    })
                    .and_then(|hasher| {
                        hasher
                            .hash_password_with_salt(password.as_bytes(), &salt)
                            .ok()
                    })
                    .map(|hash| hash.to_string())
                    .unwrap_or_default()
            })
            .collect();
        Self {
            passwords,
            bcrypt,
            argon2id,
        }
    }
}

pub(super) fn hex_digest(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

pub(super) fn base64(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    data_encoding::BASE64.encode(&raw)
}

/// Clerk's scrypt_firebase: `hash$salt$signer_key$salt_separator$rounds$mem_cost`.
pub(super) fn scrypt_firebase_digest(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}${}${}$Bw==$8$14",
        base64(rng, 64),
        base64(rng, 12),
        base64(rng, 64)
    )
}

/// `pbkdf2_sha256$iterations$salt$hash`, Django's layout.
pub(super) fn pbkdf2_digest(rng: &mut ChaCha8Rng) -> String {
    format!(
        "pbkdf2_sha256$600000${}${}",
        random_id(rng, 22),
        base64(rng, 32)
    )
}
