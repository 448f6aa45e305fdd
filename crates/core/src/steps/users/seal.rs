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

use serde_json::Value;

use crate::journal::{Journal, JournalError, Kind};
use crate::mapping::user::UserSettings;
use crate::script::Script;
use crate::source::SourceUser;
use crate::steps::seal::{Fields, SealTable, Stored};

pub use crate::steps::seal::Seal;

/// What a writing users step seals with, and what it finds sealed.
pub struct Seals {
    pub sealer: Sealer,
    pub sealed: SealedUsers,
}

/// Computes seals for one step's users.
#[derive(Clone)]
pub struct Sealer {
    /// The hash after everything every user shares.
    seed: Fields,
}

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
        let seed = Fields::seeded(
            "ferry users seal 2",
            &[
                &serde_json::to_vec(settings).unwrap_or_default(),
                ctx.to_string().as_bytes(),
                script.map_or("", |s| s.source()).as_bytes(),
            ],
        );
        Self { seed }
    }

    /// The seal of `user` as read this run.
    pub fn seal(&self, user: &SourceUser) -> Seal {
        let mut hash = self.seed.clone();
        hash.text(&user.id);
        match &user.api {
            Some(api) => {
                hash.mark(1);
                hash.json(api);
            }
            None => hash.mark(0),
        }
        match &user.export {
            Some(row) => {
                hash.mark(1);
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
                    hash.length(list.len());
                    for item in list {
                        hash.text(item);
                    }
                }
                for secret in [&row.totp_secret, &row.password_digest] {
                    hash.option(secret.as_ref().map(|s| s.expose()));
                }
                hash.mark(u8::from(row.primary_ambiguous));
                hash.mark(u8::from(row.backup_codes_enabled));
                match &row.metadata {
                    Some(metadata) => {
                        hash.mark(1);
                        for value in [&metadata.public, &metadata.private, &metadata.unsafe_] {
                            hash.json(value);
                        }
                    }
                    None => hash.mark(0),
                }
            }
            None => hash.mark(0),
        }
        hash.seal()
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

/// The users the journal holds sealed, by a hash of their Clerk id: 40
/// bytes a user (its seal, state and the keys of its two claims).
#[derive(Default)]
pub struct SealedUsers {
    table: SealTable<2>,
}

impl Sealed {
    fn to_row(self) -> Stored<2> {
        Stored {
            seal: self.seal,
            state: self.state.number() as u8,
            kept: [self.email_claim, self.external_id_claim],
        }
    }

    fn of_row(row: Stored<2>) -> Self {
        let [email_claim, external_id_claim] = row.kept;
        Self {
            seal: row.seal,
            email_claim,
            external_id_claim,
            // Only `to_row` made the row, so the state is one of ALL's.
            state: SealedAs::ALL[usize::from(row.state).min(SealedAs::ALL.len() - 1)],
        }
    }
}

impl SealedUsers {
    /// Every sealed user of the journal.
    pub fn load(journal: &Journal) -> Result<Self, JournalError> {
        let table = SealTable::load(journal, Kind::User, |stored| {
            Sealed::parse(stored).map(Sealed::to_row)
        })?;
        Ok(Self { table })
    }

    /// What the journal sealed for `clerk_id`, if it matches `seal`.
    pub fn matching(&self, clerk_id: &str, seal: Seal) -> Option<Sealed> {
        self.table.matching(clerk_id, seal).map(Sealed::of_row)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

/// The sealed users' seals and states alone, 24 bytes a user (where
/// [`SealedUsers`] takes 40): what a membership's seal depends on.
#[derive(Default)]
pub struct UserSeals {
    table: SealTable<0>,
}

impl UserSeals {
    pub fn load(journal: &Journal) -> Result<Self, JournalError> {
        let table = SealTable::load(journal, Kind::User, |stored| {
            let row = Sealed::parse(stored)?.to_row();
            Some(Stored {
                seal: row.seal,
                state: row.state,
                kept: [],
            })
        })?;
        Ok(Self { table })
    }

    /// The user's seal and state as one number, `None` when the journal
    /// holds no seal for it (not migrated as sealed, or changed since).
    pub fn get(&self, clerk_id: &str) -> Option<u128> {
        self.table
            .get(clerk_id)
            .map(|stored| stored.seal.0 | (u128::from(stored.state) << 126))
    }
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
        Sealer::new(&UserSettings::default(), &ctx, None)
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
    fn a_sealed_user_keeps_its_state_and_claims() {
        let seal = Seal(u128::MAX >> 3);
        for (n, state) in SealedAs::ALL.into_iter().enumerate() {
            let sealed = Sealed {
                seal,
                email_claim: n as u64,
                external_id_claim: u64::MAX - n as u64,
                state,
            };
            assert_eq!(Sealed::of_row(sealed.to_row()), sealed);
        }
    }
}
