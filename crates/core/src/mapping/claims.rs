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
//! New claims go to a small hash map; when it fills, they are sorted and
//! merged into one sorted vector in place. A hash map of every claim would
//! cost twice as much (its table is up to half empty) and, while it grows,
//! three times as much.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
    /// The latest claims: key → claimant (an index into `starts`), at most
    /// [`RECENT_CLAIMS`]. The key is hashed as it is (it is a digest already).
    recent: HashMap<Key, u32, BuildHasherDefault<KeyHasher>>,
    /// Every earlier claim, sorted by key. Twelve bytes an entry: the key
    /// is held as two halves so the entry needs no 8-byte alignment.
    settled: Vec<(Key, u32)>,
    /// Where in `settled` the keys of each top-16-bit prefix start (and, at
    /// `prefix + 1`, end): a look-up searches some thirty entries, not
    /// millions. Keys are digests, so the prefixes share them evenly.
    prefix_starts: Vec<u32>,
}

/// How many claims the hash map holds before they join the sorted vector:
/// enough that merging costs little, few enough that the map stays small.
const RECENT_CLAIMS: usize = 1 << 16;

/// The sorted vector's index has one entry per top-16-bit key prefix.
const PREFIX_BITS: u32 = 16;
const PREFIXES: usize = 1 << PREFIX_BITS;
const PREFIX_SHIFT: u32 = 64 - PREFIX_BITS;

/// A claim's 64-bit key, in halves (12-byte entries).
type Key = crate::support::packed::U64;

/// Passes a [`Key`] through: its bits are a SHA-256's, uniform already.
#[derive(Default)]
struct KeyHasher(u64);

/// The Clerk id of the record that claimed an email or external_id first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedBy(pub String);

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
    pub fn claim(&mut self, what: Claim<'_>, clerk_id: &str) -> Result<(), ClaimedBy> {
        self.claim_key(Self::key(what), clerk_id)
    }

    /// Claims the key [`Claims::key`] gave; `Err` holds the id that claimed it first.
    pub fn claim_key(&mut self, key: u64, clerk_id: &str) -> Result<(), ClaimedBy> {
        if let Some(owner) = self.owner(Key::from(key)) {
            let owner = self.id(owner);
            return if owner == clerk_id {
                Ok(())
            } else {
                Err(ClaimedBy(owner.to_owned()))
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
        self.recent.insert(Key::from(key), claimant);
        if self.recent.len() >= RECENT_CLAIMS {
            self.settle();
        }
        Ok(())
    }

    /// Who claimed `key`, if anyone did.
    fn owner(&self, key: Key) -> Option<u32> {
        if let Some(&owner) = self.recent.get(&key) {
            return Some(owner);
        }
        let prefix = (key.get() >> PREFIX_SHIFT) as usize;
        let (start, end) = match self.prefix_starts.get(prefix..=prefix + 1) {
            Some(&[start, end]) => (start as usize, end as usize),
            _ => return None,
        };
        let bucket = &self.settled[start..end];
        bucket
            .binary_search_by_key(&key.get(), |(k, _)| k.get())
            .ok()
            .map(|at| bucket[at].1)
    }

    /// Moves the recent claims into the sorted vector, merging from the
    /// back in place, so no second copy of the vector is ever made.
    fn settle(&mut self) {
        let mut batch: Vec<(Key, u32)> = self.recent.drain().collect();
        batch.sort_unstable_by_key(|(k, _)| k.get());
        let old = self.settled.len();
        self.settled.resize(old + batch.len(), (Key::default(), 0));
        let (mut i, mut j) = (old, batch.len());
        for at in (0..self.settled.len()).rev() {
            // Keys are unique across both (a key is claimed once), so ties never occur.
            let take_old = j == 0 || (i > 0 && self.settled[i - 1].0.get() > batch[j - 1].0.get());
            if take_old {
                i -= 1;
                self.settled[at] = self.settled[i];
            } else {
                j -= 1;
                self.settled[at] = batch[j];
            }
            if j == 0 {
                break;
            }
        }
        self.index_prefixes();
    }

    /// Rebuilds [`Claims::prefix_starts`] from the sorted vector.
    fn index_prefixes(&mut self) {
        let mut starts = std::mem::take(&mut self.prefix_starts);
        starts.clear();
        starts.resize(PREFIXES + 1, 0);
        for (key, _) in &self.settled {
            starts[(key.get() >> PREFIX_SHIFT) as usize + 1] += 1;
        }
        for prefix in 0..PREFIXES {
            starts[prefix + 1] += starts[prefix];
        }
        self.prefix_starts = starts;
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
            Err(ClaimedBy("user_1".into()))
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
            Err(ClaimedBy("user_1".into()))
        );
        assert_eq!(claims.claim(Claim::Email("same"), "user_2"), Ok(()));
    }

    #[test]
    fn claims_hold_after_joining_the_sorted_vector() {
        let mut claims = Claims::default();
        let users = RECENT_CLAIMS * 2 + 10;
        for n in 0..users {
            let id = format!("user_{n}");
            assert_eq!(claims.claim(Claim::ExternalId(&id), &id), Ok(()));
        }
        assert!(claims.settled.len() >= RECENT_CLAIMS * 2);
        assert!(
            claims
                .settled
                .windows(2)
                .all(|w| w[0].0.get() < w[1].0.get())
        );
        for n in [0, 1, RECENT_CLAIMS - 1, RECENT_CLAIMS, users - 1] {
            let id = format!("user_{n}");
            assert_eq!(claims.claim(Claim::ExternalId(&id), &id), Ok(()));
            assert_eq!(
                claims.claim(Claim::ExternalId(&id), "other"),
                Err(ClaimedBy(id))
            );
        }
        assert_eq!(claims.claim(Claim::ExternalId("new"), "new"), Ok(()));
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
            Err(ClaimedBy("user_1".into()))
        );
        assert_eq!(
            claims.claim(Claim::Email("A@example.com"), "user_3"),
            Err(ClaimedBy("user_1".into()))
        );
    }
}
