//! Password digests: a pool of passwords hashed once per run that many
//! users share, in each Clerk format the sandbox can verify once WorkOS
//! holds it (bcrypt at cost 4; argon2id at 4 MiB / 1 pass, the least WorkOS
//! accepts; `pbkdf2_sha256` at 1,000 rounds; `scrypt_firebase` with one
//! project key at memory cost 6, so tests stay fast), and shape-correct
//! random digests for md5, which WorkOS cannot take.

use argon2::password_hash::PasswordHasher;
use data_encoding::BASE64;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use sha2::Sha256;

use super::planted::{BCRYPT_COST, PASSWORD_POOL};
use super::vocabulary::random_id;

/// PBKDF2 rounds of the generated `pbkdf2_sha256` digests.
pub(super) const PBKDF2_ROUNDS: u32 = 1_000;
/// Firebase's rounds and memory cost (log2 N) of the generated project.
const FIREBASE_ROUNDS: u32 = 8;
const FIREBASE_MEMORY_COST: u8 = 6;

/// Digests hashed once per run and shared, slot by slot.
pub(super) struct PasswordPool {
    pub(super) passwords: Vec<String>,
    pub(super) bcrypt: Vec<String>,
    pub(super) argon2id: Vec<String>,
    pub(super) pbkdf2_sha256: Vec<String>,
    pub(super) scrypt_firebase: Vec<String>,
}

impl PasswordPool {
    pub(super) fn new(rng: &mut ChaCha8Rng) -> Self {
        let passwords: Vec<String> = (0..PASSWORD_POOL)
            .map(|_| format!("Sandbox-{}!", random_id(rng, 12)))
            .collect();
        // The pbkdf2 and firebase salts come from a stream of their own, so
        // the tenant a seed gives is the one it gave before they existed.
        let mut side = rng.clone();
        side.set_stream(1);
        let signer_key: [u8; 32] = side.random();
        let each = |rng: &mut ChaCha8Rng, hash: &dyn Fn(&str, [u8; 16]) -> String| {
            passwords
                .iter()
                .map(|password| hash(password, rng.random()))
                .collect::<Vec<String>>()
        };
        let bcrypt = each(rng, &|password, salt| {
            bcrypt::hash_with_salt(password, BCRYPT_COST, salt)
                .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
                .unwrap_or_default()
        });
        let argon2id = each(rng, &|password, salt| {
            argon2::Params::new(4096, 1, 1, None)
                .ok()
                .map(|params| {
                    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                })
                .and_then(|hasher| {
                    hasher
                        .hash_password_with_salt(password.as_bytes(), &salt)
                        .ok()
                })
                .map(|hash| hash.to_string())
                .unwrap_or_default()
        });
        let pbkdf2_sha256 = each(&mut side, &|password, salt| {
            let mut hash = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, PBKDF2_ROUNDS, &mut hash);
            format!(
                "pbkdf2_sha256${PBKDF2_ROUNDS}${}${}",
                BASE64.encode(&salt),
                BASE64.encode(&hash)
            )
        });
        let scrypt_firebase = each(&mut side, &|password, salt| {
            firebase(password, &salt, &signer_key)
        });
        Self {
            passwords,
            bcrypt,
            argon2id,
            pbkdf2_sha256,
            scrypt_firebase,
        }
    }
}

/// Clerk's scrypt_firebase: `hash$salt$signer_key$salt_separator$rounds$mem_cost`,
/// base64 parts; the hash is the project's signer key encrypted with
/// AES-256-CTR under the scrypt key of the password and salt + separator.
fn firebase(password: &str, salt: &[u8], signer_key: &[u8]) -> String {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    let separator = [0x07u8];
    let mut derived = [0u8; 64];
    let salted = [salt, &separator].concat();
    let params = scrypt::Params::new(FIREBASE_MEMORY_COST, FIREBASE_ROUNDS, 1);
    let mut hash = signer_key.to_vec();
    if let Ok(params) = params
        && scrypt::scrypt(password.as_bytes(), &salted, &params, &mut derived).is_ok()
        && let Ok(mut cipher) =
            ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16])
    {
        cipher.apply_keystream(&mut hash);
    }
    format!(
        "{}${}${}${}${FIREBASE_ROUNDS}${FIREBASE_MEMORY_COST}",
        BASE64.encode(&hash),
        BASE64.encode(salt),
        BASE64.encode(signer_key),
        BASE64.encode(&separator)
    )
}

pub(super) fn hex_digest(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

/// The random draws a user of `hasher` took when its digest was random
/// content (pbkdf2_sha256, scrypt_firebase), discarded: the users after it
/// stay the ones the same seed gave before those digests became real.
pub(super) fn keep_the_seed_s_tenant(rng: &mut ChaCha8Rng, hasher: &str) {
    let draws = match hasher {
        "scrypt_firebase" => 64 + 12 + 64,
        "pbkdf2_sha256" => {
            random_id(rng, 22);
            32
        }
        _ => 0,
    };
    for _ in 0..draws {
        let _: u8 = rng.random();
    }
}
