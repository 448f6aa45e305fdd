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
//! hash per key and the ids in one buffer), so offline planning of a large
//! export stays within its memory budget.

use std::collections::HashMap;

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
    /// Where the last claimant's id sits: a user claims an email and then
    /// an external_id, and the second claim reuses the first one's id.
    last: Option<(u32, u32)>,
    /// Hash of the claimed key → where its claimant's id sits in `ids`.
    owners: HashMap<u64, (u32, u32)>,
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
        if let Some(&(start, len)) = self.owners.get(&key) {
            let owner = &self.ids[start as usize..start as usize + len as usize];
            return if owner == clerk_id {
                Ok(())
            } else {
                Err(owner.to_owned())
            };
        }
        let place = match self.last {
            Some((start, len)) if &self.ids[start as usize..(start + len) as usize] == clerk_id => {
                (start, len)
            }
            _ => {
                let start = self.ids.len() as u32;
                self.ids.push_str(clerk_id);
                (start, clerk_id.len() as u32)
            }
        };
        self.last = Some(place);
        self.owners.insert(key, place);
        Ok(())
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
