//! Imported password digests as WorkOS takes them: the `password_hash_type`
//! labels, the one layout the sandbox accepts for each (a malformed or
//! mislabelled digest is refused with `invalid_password_hash`, as WorkOS
//! does), and verification of every layout it accepts, so a sign-in with the
//! right password succeeds and a wrong one fails with `invalid_credentials`.
//!
//! Which layout each type takes is documented for some types and assumed for
//! others (`docs/sandbox.md` says which): the sandbox is an imitation, and
//! ferry's hash probes let the real target decide at run time. Hostile
//! parameters are bounded before any work is done: an scrypt digest may not
//! ask for more than [`MAX_SCRYPT_BYTES`] of memory, a PBKDF2 one for more
//! than [`MAX_PBKDF2_ITERATIONS`] rounds.

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use data_encoding::{BASE64, BASE64_NOPAD, Encoding};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// The most memory an scrypt digest may make a verification spend.
pub const MAX_SCRYPT_BYTES: u64 = 256 << 20;
/// The most PBKDF2 rounds a digest may ask for.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// A WorkOS `password_hash_type`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum HashKind {
    Bcrypt,
    FirebaseScrypt,
    Ssha,
    Ssha256,
    Scrypt,
    Pbkdf2,
    Argon2,
}

impl HashKind {
    pub const ALL: [HashKind; 7] = [
        Self::Bcrypt,
        Self::FirebaseScrypt,
        Self::Ssha,
        Self::Ssha256,
        Self::Scrypt,
        Self::Pbkdf2,
        Self::Argon2,
    ];

    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.label() == label)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Bcrypt => "bcrypt",
            Self::FirebaseScrypt => "firebase-scrypt",
            Self::Ssha => "ssha",
            Self::Ssha256 => "ssha256",
            Self::Scrypt => "scrypt",
            Self::Pbkdf2 => "pbkdf2",
            Self::Argon2 => "argon2",
        }
    }
}

/// Where an `ssha256` digest's salt went: `hash(salt + password)` or `hash(password + salt)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaltPosition {
    Prefix,
    Suffix,
}

impl SaltPosition {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "prefix" => Some(Self::Prefix),
            "suffix" => Some(Self::Suffix),
            _ => None,
        }
    }
}

/// Whether `digest` has the shape its label promises. Never echoes the digest.
pub fn is_well_formed(kind: HashKind, digest: &str) -> bool {
    match kind {
        HashKind::Bcrypt => is_bcrypt(digest),
        HashKind::Argon2 => PasswordHash::new(digest)
            .is_ok_and(|hash| hash.algorithm.as_str().starts_with("argon2") && hash.hash.is_some()),
        HashKind::FirebaseScrypt => FirebaseScrypt::parse(digest).is_some(),
        HashKind::Scrypt => Scrypt::parse(digest).is_some(),
        HashKind::Pbkdf2 => Pbkdf2::parse(digest).is_some(),
        HashKind::Ssha => ldap_parts(digest, "{SSHA}", 20).is_some(),
        HashKind::Ssha256 => ldap_parts(digest, "{SSHA256}", 32).is_some(),
    }
}

/// Whether `password` matches `digest` (an `ssha256` digest's salt goes
/// where `position` says; suffix when unsaid).
pub fn verify(
    kind: HashKind,
    digest: &str,
    password: &str,
    position: Option<SaltPosition>,
) -> bool {
    let password = password.as_bytes();
    match kind {
        HashKind::Bcrypt => bcrypt::verify(password, digest).unwrap_or(false),
        HashKind::Argon2 => PasswordHash::new(digest).is_ok_and(|hash| {
            argon2::Argon2::default()
                .verify_password(password, &hash)
                .is_ok()
        }),
        HashKind::Pbkdf2 => Pbkdf2::parse(digest).is_some_and(|hash| hash.verify(password)),
        HashKind::Scrypt => Scrypt::parse(digest).is_some_and(|hash| hash.verify(password)),
        HashKind::FirebaseScrypt => {
            FirebaseScrypt::parse(digest).is_some_and(|hash| hash.verify(password))
        }
        HashKind::Ssha => ldap_parts(digest, "{SSHA}", 20).is_some_and(|(hash, salt)| {
            Sha1::new()
                .chain_update(password)
                .chain_update(salt)
                .finalize()
                .as_slice()
                == hash
        }),
        HashKind::Ssha256 => ldap_parts(digest, "{SSHA256}", 32).is_some_and(|(hash, salt)| {
            let computed = match position.unwrap_or(SaltPosition::Suffix) {
                SaltPosition::Prefix => Sha256::new().chain_update(salt).chain_update(password),
                SaltPosition::Suffix => Sha256::new().chain_update(password).chain_update(salt),
            };
            computed.finalize().as_slice() == hash
        }),
    }
}

/// A PHC string `$<id>$<k=v,…>$<salt>$<hash>`, split; salt and hash in
/// base64 without padding (padding tolerated).
struct Phc<'a> {
    id: &'a str,
    params: Vec<(&'a str, &'a str)>,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl<'a> Phc<'a> {
    fn parse(digest: &'a str) -> Option<Self> {
        let mut parts = digest.split('$');
        let (Some(""), Some(id), Some(params), Some(salt), Some(hash), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let params = params
            .split(',')
            .map(|pair| pair.split_once('='))
            .collect::<Option<Vec<_>>>()?;
        let decode = |text: &str| {
            BASE64_NOPAD
                .decode(text.trim_end_matches('=').as_bytes())
                .ok()
        };
        Some(Self {
            id,
            params,
            salt: decode(salt)?,
            hash: decode(hash).filter(|hash| !hash.is_empty())?,
        })
    }

    fn number(&self, name: &str) -> Option<u32> {
        self.params
            .iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value.parse().ok())
    }
}

/// `$pbkdf2-sha256$i=<rounds>$<salt>$<hash>` (also `-sha1`, `-sha512`).
struct Pbkdf2 {
    prf: &'static str,
    rounds: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Pbkdf2 {
    fn parse(digest: &str) -> Option<Self> {
        let phc = Phc::parse(digest)?;
        let prf = match phc.id {
            "pbkdf2-sha1" => "sha1",
            "pbkdf2-sha256" => "sha256",
            "pbkdf2-sha512" => "sha512",
            _ => return None,
        };
        let rounds = phc
            .number("i")
            .filter(|i| (1..=MAX_PBKDF2_ITERATIONS).contains(i))?;
        (phc.hash.len() <= 128).then_some(Self {
            prf,
            rounds,
            salt: phc.salt,
            hash: phc.hash,
        })
    }

    fn verify(&self, password: &[u8]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        match self.prf {
            "sha1" => pbkdf2::pbkdf2_hmac::<Sha1>(password, &self.salt, self.rounds, &mut out),
            "sha256" => pbkdf2::pbkdf2_hmac::<Sha256>(password, &self.salt, self.rounds, &mut out),
            _ => pbkdf2::pbkdf2_hmac::<Sha512>(password, &self.salt, self.rounds, &mut out),
        }
        out == self.hash
    }
}

/// `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`.
struct Scrypt {
    params: scrypt::Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// scrypt's parameters, refused when they would spend more than [`MAX_SCRYPT_BYTES`].
fn scrypt_params(log_n: u32, r: u32, p: u32) -> Option<scrypt::Params> {
    let memory = 128u64
        .checked_mul(u64::from(r))?
        .checked_mul(1u64.checked_shl(log_n)?)?
        .checked_mul(u64::from(p.max(1)))?;
    if log_n == 0 || log_n > 24 || p > 16 || memory > MAX_SCRYPT_BYTES {
        return None;
    }
    scrypt::Params::new(log_n as u8, r, p).ok()
}

impl Scrypt {
    fn parse(digest: &str) -> Option<Self> {
        let phc = Phc::parse(digest).filter(|phc| phc.id == "scrypt")?;
        let params = scrypt_params(phc.number("ln")?, phc.number("r")?, phc.number("p")?)?;
        (phc.hash.len() <= 128).then_some(Self {
            params,
            salt: phc.salt,
            hash: phc.hash,
        })
    }

    fn verify(&self, password: &[u8]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        scrypt::scrypt(password, &self.salt, &self.params, &mut out).is_ok() && out == self.hash
    }
}

/// `$firebase-scrypt$hash=…$salt=…$sk=…$ss=…$r=…$m=…` (standard base64
/// values), as WorkOS's Firebase guide shows it. Firebase's scrypt: the key
/// derived from the password and salt + separator encrypts the project's
/// signer key with AES-256-CTR; the result is the hash.
struct FirebaseScrypt {
    hash: Vec<u8>,
    salt: Vec<u8>,
    signer_key: Vec<u8>,
    separator: Vec<u8>,
    params: scrypt::Params,
}

impl FirebaseScrypt {
    fn parse(digest: &str) -> Option<Self> {
        let mut parts = digest.split('$');
        if parts.next() != Some("") || parts.next() != Some("firebase-scrypt") {
            return None;
        }
        let fields: Vec<(&str, &str)> = parts
            .map(|part| part.split_once('='))
            .collect::<Option<_>>()?;
        let field = |name: &str| {
            let mut found = fields.iter().filter(|(key, _)| *key == name);
            match (found.next(), found.next()) {
                (Some((_, value)), None) => Some(*value),
                _ => None,
            }
        };
        let bytes = |name: &str| decode_padded(&BASE64, field(name)?);
        let number = |name: &str| field(name)?.parse::<u32>().ok();
        let (rounds, memory) = (number("r")?, number("m")?);
        Some(Self {
            hash: bytes("hash").filter(|hash| !hash.is_empty() && hash.len() <= 128)?,
            salt: bytes("salt")?,
            signer_key: bytes("sk").filter(|key| key.len() <= 128)?,
            separator: bytes("ss")?,
            params: scrypt_params(memory, rounds, 1)?,
        })
    }

    fn verify(&self, password: &[u8]) -> bool {
        use ctr::cipher::{KeyIvInit, StreamCipher};
        let mut salt = self.salt.clone();
        salt.extend_from_slice(&self.separator);
        let mut derived = [0u8; 64];
        if scrypt::scrypt(password, &salt, &self.params, &mut derived).is_err() {
            return false;
        }
        let Ok(mut cipher) =
            ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16])
        else {
            return false;
        };
        let mut encrypted = self.signer_key.clone();
        cipher.apply_keystream(&mut encrypted);
        encrypted == self.hash
    }
}

fn decode_padded(encoding: &Encoding, text: &str) -> Option<Vec<u8>> {
    encoding.decode(text.as_bytes()).ok()
}

/// Hashes a plaintext password sent to create/update a user. Cost 4: the
/// sandbox is not protecting anyone, and tests create many users.
pub fn hash_plaintext(password: &str) -> Option<String> {
    bcrypt::hash(password, 4).ok()
}

/// `$2a$`/`$2b$`/`$2x$`/`$2y$`, a two-digit cost, 22 salt + 31 hash characters.
fn is_bcrypt(digest: &str) -> bool {
    let bytes = digest.as_bytes();
    bytes.len() == 60
        && digest.starts_with("$2")
        && matches!(bytes[2], b'a' | b'b' | b'x' | b'y')
        && bytes[3] == b'$'
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
        && bytes[7..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/')
}

/// `{SCHEME}base64(hash ‖ salt)` with a salt: the hash and the salt.
fn ldap_parts(digest: &str, scheme: &str, hash_len: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    let bytes = decode_padded(&BASE64, digest.strip_prefix(scheme)?)?;
    (bytes.len() > hash_len).then(|| {
        let (hash, salt) = bytes.split_at(hash_len);
        (hash.to_vec(), salt.to_vec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "hunter2";

    fn b64(bytes: &[u8]) -> String {
        BASE64_NOPAD.encode(bytes)
    }

    /// One digest of `PASSWORD` in every layout the sandbox accepts, made
    /// here from the algorithms' definitions.
    fn digests() -> Vec<(HashKind, Option<SaltPosition>, String)> {
        let salt = b"saltsaltsaltsalt";
        let mut pbkdf2_out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(PASSWORD.as_bytes(), salt, 1000, &mut pbkdf2_out);
        let mut pbkdf2_sha1 = [0u8; 20];
        pbkdf2::pbkdf2_hmac::<Sha1>(PASSWORD.as_bytes(), salt, 1000, &mut pbkdf2_sha1);
        let mut scrypt_out = [0u8; 32];
        let params = scrypt::Params::new(4, 8, 1).unwrap();
        scrypt::scrypt(PASSWORD.as_bytes(), salt, &params, &mut scrypt_out).unwrap();
        let ldap = |position, hash: &[u8]| {
            let mut bytes = hash.to_vec();
            bytes.extend_from_slice(salt);
            let scheme = if hash.len() == 20 {
                "{SSHA}"
            } else {
                "{SSHA256}"
            };
            (position, format!("{scheme}{}", BASE64.encode(&bytes)))
        };
        let sha1 = Sha1::new()
            .chain_update(PASSWORD)
            .chain_update(salt)
            .finalize();
        let prefixed = Sha256::new()
            .chain_update(salt)
            .chain_update(PASSWORD)
            .finalize();
        let suffixed = Sha256::new()
            .chain_update(PASSWORD)
            .chain_update(salt)
            .finalize();
        let argon2 = {
            use argon2::password_hash::PasswordHasher;
            let params = argon2::Params::new(64, 1, 1, None).unwrap();
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_with_salt(PASSWORD.as_bytes(), salt)
                .unwrap()
                .to_string()
        };
        let (ssha_position, ssha) = ldap(None, &sha1);
        let (prefix, prefixed) = ldap(Some(SaltPosition::Prefix), &prefixed);
        let (suffix, suffixed) = ldap(Some(SaltPosition::Suffix), &suffixed);
        vec![
            (HashKind::Bcrypt, None, bcrypt::hash(PASSWORD, 4).unwrap()),
            (HashKind::Argon2, None, argon2),
            (
                HashKind::Pbkdf2,
                None,
                format!("$pbkdf2-sha256$i=1000${}${}", b64(salt), b64(&pbkdf2_out)),
            ),
            (
                HashKind::Pbkdf2,
                None,
                format!("$pbkdf2-sha1$i=1000${}${}", b64(salt), b64(&pbkdf2_sha1)),
            ),
            (
                HashKind::Scrypt,
                None,
                format!("$scrypt$ln=4,r=8,p=1${}${}", b64(salt), b64(&scrypt_out)),
            ),
            (HashKind::FirebaseScrypt, None, firebase_digest()),
            (HashKind::Ssha, ssha_position, ssha),
            (HashKind::Ssha256, prefix, prefixed),
            (HashKind::Ssha256, suffix, suffixed),
        ]
    }

    /// Firebase's own algorithm, written out once more from its definition.
    fn firebase_digest() -> String {
        use ctr::cipher::{KeyIvInit, StreamCipher};
        let (salt, separator, signer_key) = (b"salt-bytes", [7u8], [9u8; 64]);
        let mut derived = [0u8; 64];
        let salted = [&salt[..], &separator].concat();
        scrypt::scrypt(
            PASSWORD.as_bytes(),
            &salted,
            &scrypt::Params::new(4, 8, 1).unwrap(),
            &mut derived,
        )
        .unwrap();
        let mut hash = signer_key.to_vec();
        ctr::Ctr128BE::<aes::Aes256>::new_from_slices(&derived[..32], &[0u8; 16])
            .unwrap()
            .apply_keystream(&mut hash);
        format!(
            "$firebase-scrypt$hash={}$salt={}$sk={}$ss={}$r=8$m=4",
            BASE64.encode(&hash),
            BASE64.encode(salt),
            BASE64.encode(&signer_key),
            BASE64.encode(&separator)
        )
    }

    #[test]
    fn every_accepted_layout_verifies_the_right_password_only() {
        for (kind, position, digest) in digests() {
            assert!(is_well_formed(kind, &digest), "{kind:?} well formed");
            assert!(verify(kind, &digest, PASSWORD, position), "{kind:?} right");
            assert!(
                !verify(kind, &digest, "hunter3", position),
                "{kind:?} wrong"
            );
            for other in HashKind::ALL.into_iter().filter(|other| *other != kind) {
                assert!(
                    !verify(other, &digest, PASSWORD, position),
                    "{kind:?} as {other:?}"
                );
            }
        }
    }

    #[test]
    fn a_salt_in_the_wrong_place_does_not_verify() {
        let (_, _, prefixed) = digests().remove(7);
        assert!(verify(
            HashKind::Ssha256,
            &prefixed,
            PASSWORD,
            Some(SaltPosition::Prefix)
        ));
        assert!(!verify(
            HashKind::Ssha256,
            &prefixed,
            PASSWORD,
            Some(SaltPosition::Suffix)
        ));
    }

    #[test]
    fn other_layouts_and_hostile_parameters_are_malformed() {
        for (kind, digest) in [
            (HashKind::Bcrypt, "$2b$10$short"),
            (HashKind::Bcrypt, "5f4dcc3b5aa765d61d8327deb882cf99"),
            // Django's and passlib's PBKDF2 layouts are not the PHC one.
            (HashKind::Pbkdf2, "pbkdf2_sha256$1000$salt$aGFzaA=="),
            (HashKind::Pbkdf2, "$pbkdf2-sha256$1000$c2FsdA$aGFzaA"),
            (
                HashKind::Pbkdf2,
                "$pbkdf2-sha256$i=99999999999$c2FsdA$aGFzaA",
            ),
            (HashKind::Pbkdf2, "$pbkdf2-md5$i=1000$c2FsdA$aGFzaA"),
            (HashKind::Scrypt, "$scrypt$ln=30,r=8,p=1$c2FsdA$aGFzaA"),
            (HashKind::Scrypt, "$scrypt$ln=15,r=8$c2FsdA$aGFzaA"),
            (HashKind::FirebaseScrypt, "$firebase-scrypt$hash=x"),
            (
                HashKind::FirebaseScrypt,
                "$firebase-scrypt$hash=aGFzaA==$salt=c2FsdA==$sk=a2V5$ss=Bw==$r=8$m=40",
            ),
            (HashKind::Ssha, "{SSHA}c2hvcnQ="),
            (HashKind::Ssha256, "{SSHA}MTIzNDU2Nzg5MDEyMzQ1Njc4OTBzYWx0"),
        ] {
            assert!(!is_well_formed(kind, digest), "{kind:?} {digest}");
        }
        assert_eq!(
            HashKind::parse("firebase-scrypt"),
            Some(HashKind::FirebaseScrypt)
        );
        assert_eq!(HashKind::parse("md5"), None);
    }
}
