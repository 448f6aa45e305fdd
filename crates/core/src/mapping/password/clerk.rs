//! Clerk's digests, read: each hasher's layout as Clerk's documentation
//! gives it, parsed into the parts a WorkOS layout is made of, or refused
//! with the reason its shape is wrong. Nothing here is sent anywhere, and no
//! message echoes a digest.
//!
//! | Clerk hasher | Clerk's layout (salt / hash encoding) |
//! | --- | --- |
//! | `bcrypt` | `$2a$`/`$2b$`/`$2y$`, cost, 53 characters |
//! | `argon2i`, `argon2id` | PHC string of that variant |
//! | `scrypt_firebase` | `hash$salt$signer_key$salt_separator$rounds$mem_cost` (base64) |
//! | `ldap_ssha` | `{SSHA}` + base64(SHA-1 ‖ salt), the prefix optional |
//! | `pbkdf2_sha256`, `pbkdf2_sha512` | `<name>$<rounds>$<salt>$<hash>` (base64 / base64) |
//! | `pbkdf2_sha256_django` | `pbkdf2_sha256$<rounds>$<salt>$<hash>` (text / base64) |
//! | `pbkdf2_sha1` | `pbkdf2_sha1$<rounds>$<salt>$<hash>` (text / hex) |
//! | `pbkdf2_sha512_hex` | `pbkdf2_sha512$<rounds>$<salt>$<hash>` (hex / hex) |
//! | `scrypt_werkzeug` | `scrypt:<N>:<r>:<p>$<salt>$<hash>` (text / hex) |
//! | `sha256_salted` | `<hash>$<salt>`, SHA-256 of password ‖ salt (hex / text); assumed |

use argon2::password_hash::phc::PasswordHash;
use data_encoding::BASE64;

use super::reason::ResetReason;

/// The most PBKDF2 rounds ferry reads (a hostile digest must not make a
/// probe spend minutes); far above any real deployment.
pub const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;

/// PBKDF2's pseudo-random function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

/// How a Clerk PBKDF2 hasher encodes its salt and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Text,
    Base64,
    Hex,
}

/// A digest taken apart. Holds secret material: it has no `Debug`.
pub enum Parsed {
    /// Sent as it is (bcrypt, argon2).
    Verbatim(String),
    FirebaseScrypt {
        hash: String,
        salt: String,
        signer_key: String,
        separator: String,
        rounds: u32,
        memory_cost: u32,
    },
    /// SHA-1 ‖ salt.
    Ssha(Vec<u8>),
    Pbkdf2 {
        prf: Prf,
        rounds: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Scrypt {
        log_n: u32,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// SHA-256 of password ‖ salt.
    SaltedSha256 { hash: Vec<u8>, salt: Vec<u8> },
}

/// The PBKDF2 hashers: the name the digest starts with, the function, and
/// how salt and hash are encoded.
pub fn pbkdf2_variant(hasher: &str) -> Option<(&'static str, Prf, Encoding, Encoding)> {
    Some(match hasher {
        "pbkdf2_sha256" => (
            "pbkdf2_sha256",
            Prf::Sha256,
            Encoding::Base64,
            Encoding::Base64,
        ),
        "pbkdf2_sha256_django" => (
            "pbkdf2_sha256",
            Prf::Sha256,
            Encoding::Text,
            Encoding::Base64,
        ),
        "pbkdf2_sha1" => ("pbkdf2_sha1", Prf::Sha1, Encoding::Text, Encoding::Hex),
        "pbkdf2_sha512" => (
            "pbkdf2_sha512",
            Prf::Sha512,
            Encoding::Base64,
            Encoding::Base64,
        ),
        "pbkdf2_sha512_hex" => ("pbkdf2_sha512", Prf::Sha512, Encoding::Hex, Encoding::Hex),
        _ => return None,
    })
}

fn malformed<T>(why: impl Into<String>) -> Result<T, ResetReason> {
    Err(ResetReason::Malformed(why.into()))
}

/// Reads `digest` as `hasher` writes it. `Unsupported` for a hasher WorkOS
/// has no type for.
pub fn parse(hasher: &str, digest: &str) -> Result<Parsed, ResetReason> {
    if let Some(variant) = pbkdf2_variant(hasher) {
        return pbkdf2(hasher, variant, digest);
    }
    match hasher {
        "bcrypt" => bcrypt(digest).map(|()| Parsed::Verbatim(digest.to_owned())),
        "argon2i" | "argon2id" => {
            argon2(hasher, digest).map(|()| Parsed::Verbatim(digest.to_owned()))
        }
        "scrypt_firebase" => firebase_scrypt(digest),
        "ldap_ssha" => ssha(digest),
        "scrypt_werkzeug" => werkzeug(digest),
        "sha256_salted" => salted_sha256(digest),
        _ => Err(ResetReason::UnsupportedHasher),
    }
}

fn bcrypt(digest: &str) -> Result<(), ResetReason> {
    if !["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| digest.starts_with(p))
    {
        return malformed("a bcrypt digest starts with $2a$, $2b$ or $2y$");
    }
    if digest.len() != 60 {
        return malformed(format!(
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
        return malformed(format!("labelled {hasher} but the digest is {algorithm}"));
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return malformed("no salt or no hash part");
    }
    let param = |name: &str| parsed.params.get_decimal(name);
    let (m, t, p) = match (param("m"), param("t"), param("p")) {
        (Some(m), Some(t), Some(p)) => (m, t, p),
        _ => return malformed("missing m, t or p"),
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

fn firebase_scrypt(digest: &str) -> Result<Parsed, ResetReason> {
    let parts: Vec<&str> = digest.split('$').collect();
    let [hash, salt, signer_key, separator, rounds, memory_cost] = parts[..] else {
        return malformed(format!(
            "scrypt_firebase digests have 6 `$`-separated fields, this one {}",
            parts.len()
        ));
    };
    for (name, part) in [
        ("hash", hash),
        ("salt", salt),
        ("signer key", signer_key),
        ("salt separator", separator),
    ] {
        if part.is_empty() || BASE64.decode(part.as_bytes()).is_err() {
            return malformed(format!("the {name} is not base64"));
        }
    }
    let number = |text: &str| text.parse::<u32>().ok();
    match (number(rounds), number(memory_cost)) {
        (Some(rounds @ 1..=8), Some(memory_cost @ 1..=14)) => Ok(Parsed::FirebaseScrypt {
            hash: hash.to_owned(),
            salt: salt.to_owned(),
            signer_key: signer_key.to_owned(),
            separator: separator.to_owned(),
            rounds,
            memory_cost,
        }),
        (Some(r), Some(m)) => Err(ResetReason::ParametersOutOfRange(format!(
            "rounds {r}, memory cost {m}; Firebase uses rounds 1-8, memory cost 1-14"
        ))),
        _ => malformed("rounds and memory cost must be whole numbers"),
    }
}

fn ssha(digest: &str) -> Result<Parsed, ResetReason> {
    let body = digest.strip_prefix("{SSHA}").unwrap_or(digest);
    match BASE64.decode(body.as_bytes()) {
        Ok(bytes) if bytes.len() > 20 => Ok(Parsed::Ssha(bytes)),
        Ok(_) => malformed("an SSHA digest holds 20 bytes of SHA-1 and a salt"),
        Err(_) => malformed("an SSHA digest is base64"),
    }
}

fn decode(encoding: Encoding, text: &str, what: &str) -> Result<Vec<u8>, ResetReason> {
    let decoded = match encoding {
        Encoding::Text => Some(text.as_bytes().to_vec()),
        Encoding::Base64 => BASE64.decode(text.as_bytes()).ok(),
        Encoding::Hex => hex::decode(text).ok(),
    };
    match decoded {
        Some(bytes) if !bytes.is_empty() => Ok(bytes),
        Some(_) => malformed(format!("the {what} is empty")),
        None => malformed(format!(
            "the {what} is not {}",
            match encoding {
                Encoding::Base64 => "base64",
                _ => "hex",
            }
        )),
    }
}

fn pbkdf2(
    hasher: &str,
    (name, prf, salt_encoding, hash_encoding): (&str, Prf, Encoding, Encoding),
    digest: &str,
) -> Result<Parsed, ResetReason> {
    let parts: Vec<&str> = digest.split('$').collect();
    let [label, rounds, salt, hash] = parts[..] else {
        return malformed(format!(
            "{hasher} digests have 4 `$`-separated fields ({name}$rounds$salt$hash), this one {}",
            parts.len()
        ));
    };
    if label != name {
        return malformed(format!("a {hasher} digest starts with {name}$"));
    }
    let rounds = match rounds.parse::<u32>() {
        Ok(rounds @ 1..=MAX_PBKDF2_ROUNDS) => rounds,
        Ok(rounds) => {
            return Err(ResetReason::ParametersOutOfRange(format!(
                "{rounds} rounds; ferry reads 1-{MAX_PBKDF2_ROUNDS}"
            )));
        }
        Err(_) => return malformed("the rounds are not a whole number"),
    };
    let salt = decode(salt_encoding, salt, "salt")?;
    let hash = decode(hash_encoding, hash, "hash")?;
    if hash.len() != prf.output_len() {
        return malformed(format!(
            "a PBKDF2-{} hash has {} bytes, this one {}",
            prf.name().to_uppercase(),
            prf.output_len(),
            hash.len()
        ));
    }
    Ok(Parsed::Pbkdf2 {
        prf,
        rounds,
        salt,
        hash,
    })
}

fn werkzeug(digest: &str) -> Result<Parsed, ResetReason> {
    let parts: Vec<&str> = digest.split('$').collect();
    let [method, salt, hash] = parts[..] else {
        return malformed("scrypt_werkzeug digests are scrypt:N:r:p$salt$hash");
    };
    let params: Vec<&str> = method.split(':').collect();
    let ["scrypt", n, r, p] = params[..] else {
        return malformed("scrypt_werkzeug digests start with scrypt:N:r:p");
    };
    let number = |text: &str| text.parse::<u64>().ok();
    let (Some(n), Some(r), Some(p)) = (number(n), number(r), number(p)) else {
        return malformed("N, r and p are whole numbers");
    };
    if n < 2 || !n.is_power_of_two() || !(1..=64).contains(&r) || !(1..=16).contains(&p) {
        return Err(ResetReason::ParametersOutOfRange(format!(
            "N={n} r={r} p={p}; N is a power of two, r 1-64, p 1-16"
        )));
    }
    Ok(Parsed::Scrypt {
        log_n: n.trailing_zeros(),
        r: r as u32,
        p: p as u32,
        salt: decode(Encoding::Text, salt, "salt")?,
        hash: decode(Encoding::Hex, hash, "hash")?,
    })
}

fn salted_sha256(digest: &str) -> Result<Parsed, ResetReason> {
    let Some((hash, salt)) = digest.split_once('$') else {
        return malformed("sha256_salted digests are hash$salt");
    };
    let hash = decode(Encoding::Hex, hash, "hash")?;
    if hash.len() != 32 {
        return malformed("a SHA-256 hash has 32 bytes");
    }
    Ok(Parsed::SaltedSha256 {
        hash,
        salt: decode(Encoding::Text, salt, "salt")?,
    })
}
