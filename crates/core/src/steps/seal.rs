//! What every seal shares, for the steps that keep them (users,
//! memberships): a seal is a SHA-256, truncated to 128 bits, over
//! everything a record's decision reads; the journal keeps it beside the
//! record once the record is settled, and a rerun that computes the same
//! seal counts the record unchanged without deciding it again.
//!
//! This module holds the hash ([`Fields`]: length-prefixed parts, JSON
//! written straight into it) and the table a step loads its sealed records
//! into ([`SealTable`]): one sorted vector, a record in 24 bytes plus what
//! the step keeps beside the seal, found by a hash of its Clerk id. What a
//! seal covers, and what settles a record, each step says for itself.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::journal::{Journal, JournalError, Kind};

/// One record's seal, as computed this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seal(pub u128);

/// A hash fed length-prefixed fields, and JSON through `io::Write`.
#[derive(Clone)]
pub struct Fields(Sha256);

impl Fields {
    /// A hash of the parts every record of one step shares (a tag naming
    /// the kind of seal, ferry's version, settings, the script): each
    /// record's hash starts from a clone of it.
    pub fn seeded(tag: &str, parts: &[&[u8]]) -> Self {
        let mut fields = Self(Sha256::new());
        fields.text(tag);
        fields.text(env!("CARGO_PKG_VERSION"));
        for part in parts {
            fields.bytes(part);
        }
        fields
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// A mark: which of a field's forms follows (present, absent, a state).
    pub fn mark(&mut self, mark: u8) {
        self.0.update([mark]);
    }

    pub fn option(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.mark(1);
                self.text(text);
            }
            None => self.mark(0),
        }
    }

    /// How many items follow.
    pub fn length(&mut self, length: usize) {
        self.0.update((length as u64).to_le_bytes());
    }

    pub fn number(&mut self, number: u128) {
        self.0.update(number.to_le_bytes());
    }

    /// `value` as JSON, serialized straight into the hash (nothing is
    /// allocated), then a terminator.
    pub fn json(&mut self, value: &impl Serialize) {
        let _ = serde_json::to_writer(&mut *self, value);
        self.mark(0);
    }

    pub fn seal(self) -> Seal {
        let digest = self.0.finalize();
        Seal(u128::from_le_bytes(
            digest[..16].try_into().expect("16 bytes"),
        ))
    }
}

impl std::io::Write for Fields {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sealed record as its step reads it from the journal: the seal, how
/// the record was settled (a state number below 4), and `N` numbers the
/// step keeps beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<const N: usize> {
    pub seal: Seal,
    pub state: u8,
    pub kept: [u64; N],
}

/// The sealed records of one kind, by a hash of their Clerk id.
pub struct SealTable<const N: usize> {
    /// Sorted by the id's hash; one entry per record.
    rows: Vec<Row<N>>,
}

impl<const N: usize> Default for SealTable<N> {
    fn default() -> Self {
        Self { rows: Vec::new() }
    }
}

/// One sealed record. The state takes the seal's top two bits, so 126 of
/// its 128 bits are compared: a changed record still has one chance in
/// 2^126 of passing for unchanged. (A `u128` field would align the row to
/// 16 bytes: two halves keep it at 24 bytes plus `kept`.)
#[derive(Debug, Clone, Copy)]
struct Row<const N: usize> {
    key: u64,
    /// The seal's high half, its top two bits replaced by the state.
    seal_high: u64,
    seal_low: u64,
    kept: [u64; N],
}

/// The seal bits a row keeps.
const SEAL_BITS: u128 = u128::MAX >> 2;

impl<const N: usize> Row<N> {
    fn new(key: u64, stored: Stored<N>) -> Self {
        let packed = (stored.seal.0 & SEAL_BITS) | (u128::from(stored.state & 3) << 126);
        Self {
            key,
            seal_high: (packed >> 64) as u64,
            seal_low: packed as u64,
            kept: stored.kept,
        }
    }

    fn stored(&self) -> Stored<N> {
        let packed = (u128::from(self.seal_high) << 64) | u128::from(self.seal_low);
        Stored {
            seal: Seal(packed & SEAL_BITS),
            state: (packed >> 126) as u8,
            kept: self.kept,
        }
    }
}

impl<const N: usize> SealTable<N> {
    /// Every record of `kind` the journal holds sealed, each read back with
    /// `parse` (what it cannot read is not sealed).
    pub fn load(
        journal: &Journal,
        kind: Kind,
        parse: impl Fn(&str) -> Option<Stored<N>>,
    ) -> Result<Self, JournalError> {
        let mut rows = Vec::new();
        journal.each_seal(kind, |source_id, stored| {
            if let Some(stored) = parse(stored) {
                rows.push(Row::new(id_key(source_id), stored));
            }
        })?;
        Ok(Self::of(rows))
    }

    fn of(mut rows: Vec<Row<N>>) -> Self {
        rows.sort_unstable_by_key(|row| row.key);
        // Two ids with one hash: neither is trusted (both take the full path).
        let mut clashing = Vec::new();
        for pair in rows.windows(2) {
            if pair[0].key == pair[1].key {
                clashing.push(pair[0].key);
            }
        }
        rows.retain(|row| clashing.binary_search(&row.key).is_err());
        rows.shrink_to_fit();
        Self { rows }
    }

    /// What the journal sealed for `clerk_id` (its seal without the two
    /// bits the state took).
    pub fn get(&self, clerk_id: &str) -> Option<Stored<N>> {
        let key = id_key(clerk_id);
        let at = self.rows.binary_search_by_key(&key, |row| row.key).ok()?;
        Some(self.rows[at].stored())
    }

    /// What the journal sealed for `clerk_id`, if it matches `seal`
    /// (returned whole).
    pub fn matching(&self, clerk_id: &str, seal: Seal) -> Option<Stored<N>> {
        let stored = self.get(clerk_id)?;
        (stored.seal.0 == seal.0 & SEAL_BITS).then_some(Stored { seal, ..stored })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

fn id_key(clerk_id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(clerk_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_state_and_numbers_beside_the_seal() {
        assert_eq!(std::mem::size_of::<Row<2>>(), 40);
        assert_eq!(std::mem::size_of::<Row<1>>(), 32);
        let seal = Seal(u128::MAX - 5);
        let rows = (0..4u8)
            .map(|state| {
                let stored = Stored {
                    seal,
                    state,
                    kept: [u64::from(state), u64::MAX - u64::from(state)],
                };
                Row::new(id_key(&format!("id_{state}")), stored)
            })
            .collect();
        let table = SealTable::of(rows);
        assert_eq!(table.len(), 4);
        for state in 0..4u8 {
            let id = format!("id_{state}");
            let found = table.matching(&id, seal).expect("its seal matches");
            assert_eq!(found.seal, seal);
            assert_eq!(found.state, state);
            assert_eq!(found.kept, [u64::from(state), u64::MAX - u64::from(state)]);
            assert_eq!(
                table.matching(&id, Seal(seal.0 ^ 1)),
                None,
                "a changed seal"
            );
            // The two bits the state took are not compared.
            assert!(table.matching(&id, Seal(seal.0 ^ (1 << 127))).is_some());
        }
        assert_eq!(table.get("id_9"), None);
    }

    #[test]
    fn two_ids_with_one_hash_are_neither_trusted() {
        let stored = Stored {
            seal: Seal(1),
            state: 0,
            kept: [],
        };
        let table = SealTable::<0>::of(vec![
            Row::new(7, stored),
            Row::new(7, stored),
            Row::new(id_key("id_1"), stored),
        ]);
        assert_eq!(table.len(), 1);
        assert!(table.get("id_1").is_some());
    }

    #[test]
    fn each_part_is_delimited() {
        let seed = Fields::seeded("test", &[]);
        let of = |parts: &[&str]| {
            let mut fields = seed.clone();
            for part in parts {
                fields.text(part);
            }
            fields.seal()
        };
        assert_eq!(of(&["ab", "c"]), of(&["ab", "c"]));
        assert_ne!(of(&["ab", "c"]), of(&["a", "bc"]));
        let mut other = Fields::seeded("other", &[]);
        other.text("ab");
        other.text("c");
        assert_ne!(other.seal(), of(&["ab", "c"]), "another kind of seal");
    }
}
