//! A probe's digest: a fresh password hashed exactly as Clerk writes the
//! cohort's digests, with the cohort's own parameters (bounded, so a
//! hostile export cannot make a probe spend minutes or gigabytes). The
//! probe then sends it through the same conversion as every user of the
//! cohort, so a probe that signs in proves that conversion on the target.

use data_encoding::BASE64;
use rand::RngExt;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::clerk::{self, Encoding, Parsed, Prf};
use ferry_wire::secret::Secret;

/// The most PBKDF2 rounds a probe spends (the digest keeps the cohort's
/// own count up to this).
const PROBE_MAX_PBKDF2_ROUNDS: u32 = 1_000_000;
/// The most memory an scrypt probe spends.
const PROBE_MAX_SCRYPT_BYTES: u64 = 64 << 20;

/// `len` random characters of `alphabet`.
pub fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// Letters and digits: a text salt, a probe's token.
pub const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A random password a probe signs in with (no look-alike characters).
pub fn probe_password() -> Secret {
    let body = random_text(
        24,
        b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
    );
    Secret::new(format!("Fp-{body}!9"))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    rand::rng().random()
}

fn text_salt() -> String {
    random_text(16, ALPHANUMERIC)
}

fn encode(encoding: Encoding, bytes: &[u8]) -> String {
    match encoding {
        Encoding::Text => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Base64 => BASE64.encode(bytes),
        Encoding::Hex => hex::encode(bytes),
    }
}

/// `password` as `hasher` would have stored it, with the parameters of
/// `sample` (a digest of the cohort); `None` for a hasher ferry cannot make.
pub fn digest(hasher: &str, sample: &Parsed, password: &Secret) -> Option<Secret> {
    let password = password.expose().as_bytes();
    let text = match (hasher, sample) {
        ("bcrypt", Parsed::Verbatim(sample)) => {
            let cost = sample.get(4..6)?.parse::<u32>().ok()?.clamp(4, 12);
            let version = match sample.get(..4)? {
                "$2a$" => bcrypt::Version::TwoA,
                "$2y$" => bcrypt::Version::TwoY,
                _ => bcrypt::Version::TwoB,
            };
            bcrypt::hash_with_salt(password, cost, random_bytes::<16>())
                .ok()?
                .format_for_version(version)
        }
        ("argon2i" | "argon2id", Parsed::Verbatim(sample)) => argon2(hasher, sample, password)?,
        (
            "scrypt_firebase",
            Parsed::FirebaseScrypt {
                rounds,
                memory_cost,
                ..
            },
        ) => firebase(password, *rounds, *memory_cost)?,
        ("ldap_ssha", Parsed::Ssha(_)) => {
            let salt = random_bytes::<8>();
            let hash = Sha1::new()
                .chain_update(password)
                .chain_update(salt)
                .finalize();
            format!(
                "{{SSHA}}{}",
                BASE64.encode(&[hash.as_slice(), &salt].concat())
            )
        }
        (_, Parsed::Pbkdf2 { prf, rounds, .. }) => {
            let (name, prf_expected, salt_encoding, hash_encoding) = clerk::pbkdf2_variant(hasher)?;
            if prf_expected != *prf {
                return None;
            }
            let rounds = (*rounds).min(PROBE_MAX_PBKDF2_ROUNDS);
            // Text salt bytes whatever the encoding: every layout, Django's
            // too, can carry the probe's digest.
            let salt = text_salt().into_bytes();
            let mut hash = vec![0u8; prf.output_len()];
            match prf {
                Prf::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, &salt, rounds, &mut hash),
                Prf::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, &salt, rounds, &mut hash),
                Prf::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, &salt, rounds, &mut hash),
            }
            format!(
                "{name}${rounds}${}${}",
                encode(salt_encoding, &salt),
                encode(hash_encoding, &hash)
            )
        }
        ("scrypt_werkzeug", Parsed::Scrypt { log_n, r, p, .. }) => {
            let params = bounded_scrypt(*log_n, *r, *p)?;
            let salt = text_salt();
            let mut hash = [0u8; 64];
            scrypt::scrypt(password, salt.as_bytes(), &params, &mut hash).ok()?;
            format!(
                "scrypt:{}:{}:{}${salt}${}",
                1u64 << params.log_n(),
                params.r(),
                params.p(),
                hex::encode(hash)
            )
        }
        ("sha256_salted", Parsed::SaltedSha256 { .. }) => {
            let salt = text_salt();
            let hash = Sha256::new()
                .chain_update(password)
                .chain_update(&salt)
                .finalize();
            format!("{}${salt}", hex::encode(hash))
        }
        _ => return None,
    };
    Some(Secret::new(text))
}

/// scrypt parameters no larger than [`PROBE_MAX_SCRYPT_BYTES`]: N is
/// lowered until they fit (the layout, not the cost, is what a probe tests).
fn bounded_scrypt(log_n: u32, r: u32, p: u32) -> Option<scrypt::Params> {
    let mut log_n = log_n.clamp(1, 20);
    while log_n > 1 && 128 * u64::from(r) * (1u64 << log_n) > PROBE_MAX_SCRYPT_BYTES {
        log_n -= 1;
    }
    scrypt::Params::new(log_n as u8, r.clamp(1, 64), p.clamp(1, 16)).ok()
}

fn argon2(hasher: &str, sample: &str, password: &[u8]) -> Option<String> {
    use argon2::password_hash::PasswordHasher;
    use argon2::password_hash::phc::PasswordHash;
    let parsed = PasswordHash::new(sample).ok()?;
    let param = |name: &str| parsed.params.get_decimal(name);
    let params = argon2::Params::new(param("m")?, param("t")?, param("p")?, None).ok()?;
    let algorithm = match hasher {
        "argon2i" => argon2::Algorithm::Argon2i,
        _ => argon2::Algorithm::Argon2id,
    };
    argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password_with_salt(password, &random_bytes::<16>())
        .ok()
        .map(|hash| hash.to_string())
}

/// Firebase's scrypt with a fresh project key: the signer key encrypted
/// with AES-256-CTR under the scrypt key of the password and salt + separator.
fn firebase(password: &[u8], rounds: u32, memory_cost: u32) -> Option<String> {
    use ctr::cipher::{KeyIvInit, StreamCipher};
    let params = bounded_scrypt(memory_cost, rounds, 1)?;
    let (salt, separator, signer_key) = (random_bytes::<12>(), [0x07u8], random_bytes::<32>());
    let mut derived = [0u8; 64];
    scrypt::scrypt(
        password,
        &[&salt[..], &separator].concat(),
        &params,
        &mut derived,
    )
    .ok()?;
    let mut hash = signer_key.to_vec();
    ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16])
        .ok()?
        .apply_keystream(&mut hash);
    Some(format!(
        "{}${}${}${}${}${}",
        BASE64.encode(&hash),
        BASE64.encode(&salt),
        BASE64.encode(&signer_key),
        BASE64.encode(&separator),
        params.r(),
        params.log_n()
    ))
}
