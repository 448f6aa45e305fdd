//! Seals: how a rerun knows, without mapping a user again, that nothing
//! about it changed since ferry last settled it.
//!
//! A user's seal is a SHA-256 over everything its mapping reads: the Clerk
//! record as listed, its export row, the step's settings, the hook context,
//! the script's text and ferry's version. When a user is settled (written,
//! or found as written, with its TOTP factor if it has one) or skipped by
//! the mapping, the journal keeps the seal beside it, with the keys of its
//! two claims. A later run
//! that computes the same seal for the same user counts it unchanged at
//! once: no hook call, no per-user journal read, no journal write. Any
//! change (a field in Clerk, a digest in a newer export, an edited script,
//! a new ferry) gives another seal and the full path runs.
//!
//! The seal holds no secret: a digest or TOTP secret enters only the
//! SHA-256, truncated to 128 bits, from which nothing can be read back.
//! The sealed users are loaded once per step, in one range read, into a
//! sorted vector of 40 bytes a user.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::journal::{Journal, JournalError, Kind};
use crate::mapping::user::UserSettings;
use crate::script::Script;
use crate::source::SourceUser;

/// What a writing users step seals with, and what it finds sealed.
pub struct Seals {
    pub sealer: Sealer,
    pub sealed: SealedUsers,
}

/// Computes seals for one step's users.
#[derive(Clone)]
pub struct Sealer {
    /// The hash state after everything every user shares.
    seed: Sha256,
}

/// One user's seal, as computed this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seal(u128);

/// What the journal keeps of a settled user: its seal, its claims' keys,
/// and how it was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    pub seal: Seal,
    pub email_claim: u64,
    pub external_id_claim: u64,
    pub state: SealedAs,
}

/// How a sealed user was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedAs {
    /// In WorkOS as ferry wrote it, with a TOTP factor ferry settled too or without one.
    Migrated { factor: bool },
    /// Skipped by the mapping (banned, locked, no email, the hook): it
    /// claims nothing, and the journal keeps the reason.
    Skipped,
}

impl SealedAs {
    /// Every state, by its number (a [`SealedRow`]'s two bits).
    const ALL: [SealedAs; 3] = [
        SealedAs::Migrated { factor: false },
        SealedAs::Migrated { factor: true },
        SealedAs::Skipped,
    ];
    /// Each state's mark in the journal's stored form, by its number.
    const MARKS: [&'static str; 3] = ["0", "1", "s"];

    fn number(self) -> usize {
        match self {
            SealedAs::Migrated { factor: false } => 0,
            SealedAs::Migrated { factor: true } => 1,
            SealedAs::Skipped => 2,
        }
    }
}

impl Sealer {
    pub fn new(settings: &UserSettings, ctx: &Value, script: Option<&Script>) -> Self {
        let mut seed = Sha256::new();
        let mut part = |bytes: &[u8]| {
            seed.update((bytes.len() as u64).to_le_bytes());
            seed.update(bytes);
        };
        part(b"ferry users seal 1");
        part(env!("CARGO_PKG_VERSION").as_bytes());
        part(&serde_json::to_vec(settings).unwrap_or_default());
        part(ctx.to_string().as_bytes());
        part(script.map_or("", |s| s.source()).as_bytes());
        Self { seed }
    }

    /// The seal of `user` as read this run.
    pub fn seal(&self, user: &SourceUser) -> Seal {
        let mut hash = Fields(self.seed.clone());
        hash.text(&user.id);
        match &user.api {
            Some(api) => {
                hash.0.update([1]);
                // Serialized straight into the hash: nothing is allocated.
                let _ = serde_json::to_writer(&mut hash, api);
                hash.0.update([0]);
            }
            None => hash.0.update([0]),
        }
        match &user.export {
            Some(row) => {
                hash.0.update([1]);
                for field in [
                    &row.first_name,
                    &row.last_name,
                    &row.username,
                    &row.primary_email,
                    &row.primary_phone,
                    &row.password_hasher,
                ] {
                    hash.option(field.as_deref());
                }
                for list in [
                    &row.verified_emails,
                    &row.unverified_emails,
                    &row.verified_phones,
                    &row.unverified_phones,
                ] {
                    hash.0.update((list.len() as u64).to_le_bytes());
                    for item in list {
                        hash.text(item);
                    }
                }
                for secret in [&row.totp_secret, &row.password_digest] {
                    hash.option(secret.as_ref().map(|s| s.expose()));
                }
                hash.0.update([
                    u8::from(row.primary_ambiguous),
                    u8::from(row.backup_codes_enabled),
                ]);
                match &row.metadata {
                    Some(metadata) => {
                        hash.0.update([1]);
                        for value in [&metadata.public, &metadata.private, &metadata.unsafe_] {
                            let _ = serde_json::to_writer(&mut hash, value);
                            hash.0.update([0]);
                        }
                    }
                    None => hash.0.update([0]),
                }
            }
            None => hash.0.update([0]),
        }
        let digest = hash.0.finalize();
        Seal(u128::from_le_bytes(
            digest[..16].try_into().expect("16 bytes"),
        ))
    }
}

/// A hash fed length-prefixed fields, and JSON through `io::Write`.
struct Fields(Sha256);

impl Fields {
    fn text(&mut self, text: &str) {
        self.0.update((text.len() as u64).to_le_bytes());
        self.0.update(text.as_bytes());
    }

    fn option(&mut self, text: Option<&str>) {
        match text {
            Some(text) => {
                self.0.update([1]);
                self.text(text);
            }
            None => self.0.update([0]),
        }
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

impl Sealed {
    /// The form the journal stores: `1:<seal>:<email claim>:<external_id
    /// claim>:<state>`, in hex; the state is `0` (migrated), `1` (migrated
    /// with a factor) or `s` (skipped).
    pub fn stored(&self) -> String {
        let state = SealedAs::MARKS[self.state.number()];
        format!(
            "1:{:032x}:{:016x}:{:016x}:{state}",
            self.seal.0, self.email_claim, self.external_id_claim,
        )
    }

    /// Reads [`Sealed::stored`]'s form back; anything else is no seal.
    pub fn parse(stored: &str) -> Option<Self> {
        let mut parts = stored.split(':');
        if parts.next() != Some("1") {
            return None;
        }
        let seal = u128::from_str_radix(parts.next()?, 16).ok()?;
        let email_claim = u64::from_str_radix(parts.next()?, 16).ok()?;
        let external_id_claim = u64::from_str_radix(parts.next()?, 16).ok()?;
        let mark = parts.next()?;
        let state = SealedAs::ALL[SealedAs::MARKS.iter().position(|m| *m == mark)?];
        parts.next().is_none().then_some(Self {
            seal: Seal(seal),
            email_claim,
            external_id_claim,
            state,
        })
    }
}

/// The users the journal holds sealed, by a hash of their Clerk id.
#[derive(Default)]
pub struct SealedUsers {
    /// Sorted by the id's hash; one entry per user.
    rows: Vec<SealedRow>,
}

/// One sealed user in 40 bytes (a [`Sealed`] with its key would take 64:
/// the `u128` seal aligns the tuple to 16). The state takes the seal's top
/// two bits, so 126 of the seal's 128 bits are compared: a changed user
/// still has one chance in 2^126 of passing for unchanged.
#[derive(Debug, Clone, Copy)]
struct SealedRow {
    key: u64,
    /// The seal's high half, its top two bits replaced by the state.
    seal_high: u64,
    seal_low: u64,
    email_claim: u64,
    external_id_claim: u64,
}

/// The seal bits a [`SealedRow`] keeps.
const SEAL_BITS: u128 = u128::MAX >> 2;

impl SealedRow {
    fn new(key: u64, sealed: Sealed) -> Self {
        let state = sealed.state.number() as u128;
        let packed = (sealed.seal.0 & SEAL_BITS) | (state << 126);
        Self {
            key,
            seal_high: (packed >> 64) as u64,
            seal_low: packed as u64,
            email_claim: sealed.email_claim,
            external_id_claim: sealed.external_id_claim,
        }
    }

    fn sealed(&self) -> Sealed {
        let packed = (u128::from(self.seal_high) << 64) | u128::from(self.seal_low);
        // Only `new` makes rows, so the two bits are a state's number.
        let state = SealedAs::ALL[(packed >> 126) as usize];
        Sealed {
            seal: Seal(packed & SEAL_BITS),
            email_claim: self.email_claim,
            external_id_claim: self.external_id_claim,
            state,
        }
    }
}

impl SealedUsers {
    /// Every sealed user of the journal.
    pub fn load(journal: &Journal) -> Result<Self, JournalError> {
        let mut rows = Vec::new();
        journal.each_seal(Kind::User, |source_id, stored| {
            if let Some(sealed) = Sealed::parse(stored) {
                rows.push(SealedRow::new(id_key(source_id), sealed));
            }
        })?;
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
        Ok(Self { rows })
    }

    /// What the journal sealed for `clerk_id`, if it matches `seal`.
    pub fn matching(&self, clerk_id: &str, seal: Seal) -> Option<Sealed> {
        let key = id_key(clerk_id);
        let at = self.rows.binary_search_by_key(&key, |row| row.key).ok()?;
        let sealed = self.rows[at].sealed();
        (sealed.seal.0 == seal.0 & SEAL_BITS).then_some(Sealed { seal, ..sealed })
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
    use crate::mapping::user::UserSettings;
    use ferry_wire::clerk::export::ExportUser;
    use ferry_wire::secret::Secret;

    fn user(id: &str, digest: Option<&str>) -> SourceUser {
        SourceUser {
            id: id.into(),
            api: None,
            export: Some(ExportUser {
                id: id.into(),
                primary_email: Some(format!("{id}@example.test")),
                password_digest: digest.map(Secret::new),
                ..ExportUser::default()
            }),
        }
    }

    fn sealer(ctx: Value) -> Sealer {
        Sealer::new(&UserSettings::from_options(&Default::default()), &ctx, None)
    }

    #[test]
    fn the_same_record_under_the_same_mapping_has_the_same_seal() {
        let sealer = sealer(Value::Null);
        assert_eq!(
            sealer.seal(&user("user_1", Some("$2a$10$x"))),
            sealer.seal(&user("user_1", Some("$2a$10$x")))
        );
    }

    #[test]
    fn any_change_to_the_record_or_the_mapping_breaks_the_seal() {
        let plain = sealer(Value::Null);
        let sealed = plain.seal(&user("user_1", Some("$2a$10$x")));
        // A digest supplied (or changed) by a newer export.
        assert_ne!(sealed, plain.seal(&user("user_1", Some("$2a$10$y"))));
        assert_ne!(sealed, plain.seal(&user("user_1", None)));
        // Another user with the same fields.
        assert_ne!(sealed, plain.seal(&user("user_2", Some("$2a$10$x"))));
        // Another hook context (another plan revision, step options).
        let other = sealer(serde_json::json!({"revision": 2}));
        assert_ne!(sealed, other.seal(&user("user_1", Some("$2a$10$x"))));
    }

    #[test]
    fn the_stored_form_reads_back_and_holds_no_secret() {
        let sealed = Sealed {
            seal: sealer(Value::Null).seal(&user("user_1", Some("$2a$10$secretdigest"))),
            email_claim: 7,
            external_id_claim: u64::MAX,
            state: SealedAs::Migrated { factor: true },
        };
        let stored = sealed.stored();
        assert_eq!(Sealed::parse(&stored), Some(sealed));
        let skipped = Sealed {
            state: SealedAs::Skipped,
            ..sealed
        };
        assert_eq!(Sealed::parse(&skipped.stored()), Some(skipped));
        assert!(!stored.contains("secretdigest"));
        for bad in [
            "",
            "2:00:00:00:1",
            "1:zz:0:0:1",
            "1:0:0:0:2",
            "1:0:0:0:S",
            "1:0:0:0:1:extra",
        ] {
            assert_eq!(Sealed::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_sealed_user_keeps_its_state_and_claims_in_forty_bytes() {
        assert_eq!(std::mem::size_of::<SealedRow>(), 40);
        let seal = Seal(u128::MAX - 5);
        let mut rows = Vec::new();
        for (n, state) in SealedAs::ALL.into_iter().enumerate() {
            let sealed = Sealed {
                seal,
                email_claim: n as u64,
                external_id_claim: u64::MAX - n as u64,
                state,
            };
            rows.push(SealedRow::new(id_key(&format!("user_{n}")), sealed));
        }
        rows.sort_unstable_by_key(|row| row.key);
        let users = SealedUsers { rows };
        for (n, state) in SealedAs::ALL.into_iter().enumerate() {
            let id = format!("user_{n}");
            let found = users.matching(&id, seal).expect("its seal matches");
            assert_eq!(found.seal, seal);
            assert_eq!(found.state, state);
            assert_eq!(found.email_claim, n as u64);
            assert_eq!(found.external_id_claim, u64::MAX - n as u64);
            assert_eq!(
                users.matching(&id, Seal(seal.0 ^ 1)),
                None,
                "a changed seal"
            );
        }
        assert_eq!(users.matching("user_9", seal), None);
    }
}
