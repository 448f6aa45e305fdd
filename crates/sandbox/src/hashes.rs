//! Imported password digests as WorkOS takes them: the `password_hash_type`
//! labels, the shape each label requires (a malformed or mislabelled digest is
//! refused with `invalid_password_hash`, as WorkOS does), and verification of
//! the kinds the sandbox can check: bcrypt and argon2 (i/id/d). Digests of the
//! other kinds are stored and their shape checked, but never verify, so a login
//! with them fails with `invalid_credentials`.

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;

/// A WorkOS `password_hash_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    pub fn parse(label: &str) -> Option<Self> {
        Some(match label {
            "bcrypt" => Self::Bcrypt,
            "firebase-scrypt" => Self::FirebaseScrypt,
            "ssha" => Self::Ssha,
            "ssha256" => Self::Ssha256,
            "scrypt" => Self::Scrypt,
            "pbkdf2" => Self::Pbkdf2,
            "argon2" => Self::Argon2,
            _ => return None,
        })
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

/// Whether `digest` has the shape its label promises. Never echoes the digest.
pub fn is_well_formed(kind: HashKind, digest: &str) -> bool {
    match kind {
        HashKind::Bcrypt => is_bcrypt(digest),
        HashKind::Argon2 => PasswordHash::new(digest)
            .is_ok_and(|hash| hash.algorithm.as_str().starts_with("argon2") && hash.hash.is_some()),
        HashKind::FirebaseScrypt => has_phc_fields(
            digest,
            "firebase-scrypt",
            &["hash", "salt", "sk", "ss", "r", "m"],
        ),
        HashKind::Scrypt => digest.starts_with("$scrypt$") && digest.split('$').count() >= 5,
        HashKind::Pbkdf2 => {
            (digest.starts_with("$pbkdf2-sha256$")
                || digest.starts_with("$pbkdf2-sha512$")
                || digest.starts_with("$pbkdf2-sha1$")
                || digest.starts_with("$pbkdf2$"))
                && digest.split('$').count() >= 5
        }
        HashKind::Ssha => is_ldap_base64(digest, "{SSHA}", 20),
        HashKind::Ssha256 => is_ldap_base64(digest, "{SSHA256}", 32),
    }
}

/// Whether `password` matches `digest`. Kinds the sandbox cannot compute never match.
pub fn verify(kind: HashKind, digest: &str, password: &str) -> bool {
    match kind {
        HashKind::Bcrypt => bcrypt::verify(password, digest).unwrap_or(false),
        HashKind::Argon2 => PasswordHash::new(digest).is_ok_and(|hash| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        }),
        _ => false,
    }
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

/// `$<id>$k=v$k=v…` with every named field present.
fn has_phc_fields(digest: &str, id: &str, fields: &[&str]) -> bool {
    let mut parts = digest.split('$');
    if parts.next() != Some("") || parts.next() != Some(id) {
        return false;
    }
    let present: Vec<&str> = parts
        .filter_map(|part| part.split_once('=').map(|(key, _)| key))
        .collect();
    fields.iter().all(|field| present.contains(field))
}

/// `{SCHEME}base64(hash ‖ salt)`, with at least the hash's bytes.
fn is_ldap_base64(digest: &str, scheme: &str, hash_len: usize) -> bool {
    let Some(encoded) = digest.strip_prefix(scheme) else {
        return false;
    };
    data_encoding::BASE64
        .decode(encoded.as_bytes())
        .is_ok_and(|bytes| bytes.len() > hash_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_verifies_and_rejects() {
        let digest = bcrypt::hash("hunter2", 4).unwrap();
        assert!(is_well_formed(HashKind::Bcrypt, &digest));
        assert!(verify(HashKind::Bcrypt, &digest, "hunter2"));
        assert!(!verify(HashKind::Bcrypt, &digest, "hunter3"));
    }

    #[test]
    fn a_mislabelled_digest_is_malformed() {
        let digest = bcrypt::hash("hunter2", 4).unwrap();
        assert!(!is_well_formed(HashKind::Argon2, &digest));
        assert!(!is_well_formed(HashKind::Ssha, &digest));
        assert!(!is_well_formed(HashKind::Bcrypt, "$2b$10$short"));
        assert!(!is_well_formed(
            HashKind::Bcrypt,
            "5f4dcc3b5aa765d61d8327deb882cf99"
        ));
    }

    #[test]
    fn argon2_verifies() {
        use argon2::password_hash::PasswordHasher;
        let params = argon2::Params::new(64, 1, 1, None).unwrap();
        let hasher =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let digest = hasher
            .hash_password_with_salt(b"hunter2", b"saltsaltsaltsalt")
            .unwrap()
            .to_string();
        assert!(is_well_formed(HashKind::Argon2, &digest));
        assert!(verify(HashKind::Argon2, &digest, "hunter2"));
        assert!(!verify(HashKind::Argon2, &digest, "hunter3"));
        assert!(!is_well_formed(HashKind::Bcrypt, &digest));
    }

    #[test]
    fn the_other_shapes() {
        assert!(is_well_formed(
            HashKind::FirebaseScrypt,
            "$firebase-scrypt$hash=aGFzaA==$salt=c2FsdA==$sk=a2V5$ss=Bw==$r=8$m=14"
        ));
        assert!(!is_well_formed(
            HashKind::FirebaseScrypt,
            "$firebase-scrypt$hash=x"
        ));
        assert!(is_well_formed(
            HashKind::Ssha,
            "{SSHA}MTIzNDU2Nzg5MDEyMzQ1Njc4OTBzYWx0"
        ));
        assert!(!is_well_formed(HashKind::Ssha, "{SSHA}c2hvcnQ="));
        assert!(is_well_formed(
            HashKind::Pbkdf2,
            "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA"
        ));
        assert_eq!(
            HashKind::parse("firebase-scrypt"),
            Some(HashKind::FirebaseScrypt)
        );
        assert_eq!(HashKind::parse("md5"), None);
    }
}
