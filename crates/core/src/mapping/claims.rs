//! One WorkOS user per email and per external_id: the first Clerk user (in
//! source order) to claim an address or an external_id keeps it; a later
//! one is rejected before a request is spent, instead of colliding in
//! WorkOS and being mistaken for a pre-existing user to take over (which
//! would merge two people).
//!
//! Emails are compared by their identity ([`email_identity`]): Unicode NFC,
//! the domain in ASCII (punycode), lower case, as WorkOS compares them; the
//! address sent stays as the source wrote it.
//!
//! Compact on purpose: a million claims cost tens of megabytes (a 64-bit
//! hash per key in a 12-byte entry, and the ids in one buffer), so a run
//! or an offline plan of a million users stays within its memory budget.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use sha2::{Digest, Sha256};

/// What a claim is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim<'a> {
    Email(&'a str),
    ExternalId(&'a str),
}

#[derive(Debug, Default)]
pub struct Claims {
    /// Every claimant's Clerk id, end to end, once each.
    ids: String,
    /// Where each claimant's id starts in `ids` (the next one's start, or
    /// the end of `ids`, is where it ends).
    starts: Vec<u32>,
    /// A claimed key → its claimant (an index into `starts`). Twelve bytes
    /// an entry: the key is held as two halves so the entry needs no
    /// 8-byte alignment, and it is hashed as it is (it is a digest already).
    owners: HashMap<Key, u32, BuildHasherDefault<KeyHasher>>,
}

/// A claim's 64-bit key, in halves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key([u32; 2]);

impl From<u64> for Key {
    fn from(key: u64) -> Self {
        Self([key as u32, (key >> 32) as u32])
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.0[0]) | (u64::from(self.0[1]) << 32));
    }
}

/// Passes a [`Key`] through: its bits are a SHA-256's, uniform already.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `Key` is hashed here, through `write_u64`; anything else still hashes.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

impl Claims {
    /// The 64-bit key a claim is held under. Stable across runs and
    /// versions (the first 8 bytes of a SHA-256), so a journal can keep the
    /// keys of a user it need not map again ([`Claims::claim_key`]).
    pub fn key(what: Claim<'_>) -> u64 {
        let mut hash = Sha256::new();
        match what {
            Claim::Email(email) => {
                hash.update(b"email\0");
                hash.update(email_identity(email).as_bytes());
            }
            Claim::ExternalId(id) => {
                hash.update(b"external_id\0");
                hash.update(id.as_bytes());
            }
        }
        let digest = hash.finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    /// Claims `what` for `clerk_id`; `Err` holds the id that claimed it first.
    pub fn claim(&mut self, what: Claim<'_>, clerk_id: &str) -> Result<(), String> {
        self.claim_key(Self::key(what), clerk_id)
    }

    /// Claims the key [`Claims::key`] gave; `Err` holds the id that claimed it first.
    pub fn claim_key(&mut self, key: u64, clerk_id: &str) -> Result<(), String> {
        if let Some(&owner) = self.owners.get(&Key::from(key)) {
            let owner = self.id(owner);
            return if owner == clerk_id {
                Ok(())
            } else {
                Err(owner.to_owned())
            };
        }
        // A user claims an email and then an external_id: the second claim
        // reuses the first one's id.
        let last = self.starts.len().checked_sub(1);
        let claimant = match last {
            Some(last) if self.id(last as u32) == clerk_id => last as u32,
            _ => {
                self.starts.push(self.ids.len() as u32);
                self.ids.push_str(clerk_id);
                (self.starts.len() - 1) as u32
            }
        };
        self.owners.insert(Key::from(key), claimant);
        Ok(())
    }

    /// The Clerk id of claimant `index`.
    fn id(&self, index: u32) -> &str {
        let index = index as usize;
        let start = self.starts[index] as usize;
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.ids.len(), |&next| next as usize);
        &self.ids[start..end]
    }
}

/// The form two addresses share when WorkOS would take them for one: NFC,
/// the domain as ASCII (an IDN in punycode), all in lower case.
pub fn email_identity(email: &str) -> String {
    let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(email);
    let (local, domain) = match nfc.rsplit_once('@') {
        Some((local, domain)) => (local, domain),
        None => (nfc.as_ref(), ""),
    };
    let domain = idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_owned());
    format!("{}@{}", local.to_lowercase(), domain.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_claimant_keeps_the_address_whatever_its_case() {
        let mut claims = Claims::default();
        let email = Claim::Email;
        assert_eq!(claims.claim(email("Ada@Example.com"), "user_1"), Ok(()));
        assert_eq!(claims.claim(email("ada@example.com"), "user_1"), Ok(()));
        assert_eq!(
            claims.claim(email("ADA@EXAMPLE.COM"), "user_2"),
            Err("user_1".into())
        );
        assert_eq!(claims.claim(email("bo@example.com"), "user_2"), Ok(()));
    }

    #[test]
    fn look_alike_addresses_are_one_identity() {
        // "é" composed (NFC) and decomposed (NFD).
        assert_eq!(
            email_identity("ren\u{e9}@example.com"),
            email_identity("rene\u{301}@example.com")
        );
        // An IDN domain as Unicode and as punycode.
        assert_eq!(
            email_identity("a@b\u{fc}cher.example"),
            email_identity("a@xn--bcher-kva.example")
        );
        assert_eq!(
            email_identity("A@B\u{dc}CHER.example"),
            "a@xn--bcher-kva.example"
        );
    }

    #[test]
    fn external_ids_are_claimed_apart_from_emails() {
        let mut claims = Claims::default();
        assert_eq!(claims.claim(Claim::ExternalId("same"), "user_1"), Ok(()));
        assert_eq!(
            claims.claim(Claim::ExternalId("same"), "user_2"),
            Err("user_1".into())
        );
        assert_eq!(claims.claim(Claim::Email("same"), "user_2"), Ok(()));
    }

    #[test]
    fn a_user_s_two_claims_keep_its_id_once() {
        let mut claims = Claims::default();
        assert_eq!(
            claims.claim(Claim::Email("a@example.com"), "user_1"),
            Ok(())
        );
        assert_eq!(claims.claim(Claim::ExternalId("user_1"), "user_1"), Ok(()));
        assert_eq!(
            claims.claim(Claim::Email("b@example.com"), "user_22"),
            Ok(())
        );
        assert_eq!(claims.ids, "user_1user_22");
        // Both claims still name their owner.
        assert_eq!(
            claims.claim(Claim::ExternalId("user_1"), "user_3"),
            Err("user_1".into())
        );
        assert_eq!(
            claims.claim(Claim::Email("A@example.com"), "user_3"),
            Err("user_1".into())
        );
    }
}
