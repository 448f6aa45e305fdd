//! Membership seals: how a rerun knows, without looking up a membership's
//! user in the journal or mapping its role again, that nothing about it
//! changed since ferry last settled it, and that WorkOS still holds it so.
//!
//! A membership's seal is a SHA-256 over everything its decision reads:
//! the Clerk membership as listed, its organization's Clerk id and WorkOS
//! id, its user's seal as the journal holds it now (see
//! `steps::users::seal`: any change to the user, or a user no longer
//! migrated, gives the user another seal or none), the role mapping (the
//! plan's map, the hook contexts, the script's text) and ferry's version.
//! Beside the seal, the journal keeps a "vouch": a hash of the WorkOS
//! membership it stands for (its id, its user, its role slug).
//!
//! A rerun counts a sealed membership unchanged only when the seal is the
//! same and WorkOS's listing of the organization, read this run, holds a
//! membership with the same vouch: the target stays the truth, and one
//! deleted or given another role outside ferry takes the full path. A
//! membership the mapping skipped is sealed as skipped: the same inputs
//! skip it again, whatever WorkOS holds.
//!
//! A membership whose user has no seal (rejected, failed) is never sealed
//! and always takes the full path; so is every membership of a run with
//! `--reconcile`, which checks the journal against WorkOS record by record.

use serde_json::Value;

use crate::journal::{Journal, JournalError, Kind};
use crate::mapping::role::RoleMapper;
use crate::script::Script;
use crate::steps::seal::{Fields, Seal, SealTable, Stored};
use crate::steps::users::seal::UserSeals;
use ferry_wire::clerk::model::OrganizationMembership;

/// What a writing memberships step seals with, and what it finds sealed.
pub struct MembershipSeals {
    seed: Fields,
    /// The users as the journal holds them once the users step has ended.
    users: UserSeals,
    sealed: SealTable<1>,
}

/// How a sealed membership was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedAs {
    /// In WorkOS as the vouch says.
    Member { vouch: u64 },
    /// Skipped by the mapping (its role left out, its organization or user
    /// not migrated); the journal keeps the reason.
    Skipped,
}

/// What the journal keeps of a settled membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    pub seal: Seal,
    pub state: SealedAs,
}

impl Sealed {
    /// The form the journal stores: `m1:<seal>:<vouch>` (a member) or
    /// `m1:<seal>:s` (skipped), in hex.
    pub fn stored(&self) -> String {
        match self.state {
            SealedAs::Member { vouch } => format!("m1:{:032x}:{vouch:016x}", self.seal.0),
            SealedAs::Skipped => format!("m1:{:032x}:s", self.seal.0),
        }
    }

    /// Reads [`Sealed::stored`]'s form back; anything else is no seal.
    pub fn parse(stored: &str) -> Option<Self> {
        let mut parts = stored.split(':');
        if parts.next() != Some("m1") {
            return None;
        }
        let seal = Seal(u128::from_str_radix(parts.next()?, 16).ok()?);
        let state = match parts.next()? {
            "s" => SealedAs::Skipped,
            vouch => SealedAs::Member {
                vouch: u64::from_str_radix(vouch, 16).ok()?,
            },
        };
        parts.next().is_none().then_some(Self { seal, state })
    }

    fn to_row(self) -> Stored<1> {
        let (state, vouch) = match self.state {
            SealedAs::Member { vouch } => (0, vouch),
            SealedAs::Skipped => (1, 0),
        };
        Stored {
            seal: self.seal,
            state,
            kept: [vouch],
        }
    }

    fn of_row(row: Stored<1>) -> Self {
        let state = match row.state {
            0 => SealedAs::Member { vouch: row.kept[0] },
            _ => SealedAs::Skipped,
        };
        Self {
            seal: row.seal,
            state,
        }
    }
}

/// The hash a sealed member keeps of its WorkOS membership: its id, its
/// user and its role slug, as WorkOS lists them.
pub fn vouch(membership_id: &str, user_id: &str, slug: &str) -> u64 {
    let mut hash = Fields::seeded("ferry membership vouch 1", &[]);
    for part in [membership_id, user_id, slug] {
        hash.text(part);
    }
    hash.seal().0 as u64
}

impl MembershipSeals {
    /// The seals of this run, and every membership (and user) the journal
    /// holds sealed. `ctx` is the memberships step's hook context.
    pub fn load(
        journal: &Journal,
        roles: &RoleMapper<'_>,
        ctx: &Value,
        script: Option<&Script>,
    ) -> Result<Self, JournalError> {
        let seed = Fields::seeded(
            "ferry memberships seal 1",
            &[
                roles.fingerprint().as_bytes(),
                ctx.to_string().as_bytes(),
                script.map_or("", |s| s.source()).as_bytes(),
            ],
        );
        Ok(Self {
            seed,
            users: UserSeals::load(journal)?,
            sealed: SealTable::load(journal, Kind::Membership, |stored| {
                Sealed::parse(stored).map(Sealed::to_row)
            })?,
        })
    }

    /// The seal of `membership` in the organization `organization` (whose
    /// WorkOS id is `target`), or `None` when its user has no seal.
    pub fn seal(
        &self,
        organization: &str,
        target: Option<&str>,
        membership: &OrganizationMembership,
    ) -> Option<Seal> {
        let user = membership.public_user_data.as_ref()?;
        let user_seal = self.users.get(&user.user_id)?;
        let mut hash = self.seed.clone();
        hash.text(organization);
        hash.option(target);
        hash.text(&user.user_id);
        hash.number(user_seal);
        hash.json(membership);
        Some(hash.seal())
    }

    /// What the journal sealed for the membership `clerk_id`, if it matches `seal`.
    pub fn matching(&self, clerk_id: &str, seal: Seal) -> Option<Sealed> {
        self.sealed.matching(clerk_id, seal).map(Sealed::of_row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_reads_back() {
        for state in [SealedAs::Member { vouch: 7 }, SealedAs::Skipped] {
            let sealed = Sealed {
                seal: Seal(u128::MAX >> 2),
                state,
            };
            assert_eq!(Sealed::parse(&sealed.stored()), Some(sealed));
            assert_eq!(Sealed::of_row(sealed.to_row()), sealed);
        }
        for bad in [
            "",
            "1:00:00:00:1",
            "m1:zz:s",
            "m1:00",
            "m1:00:s:extra",
            "m1:00:xyz",
        ] {
            assert_eq!(Sealed::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_vouch_names_the_membership_its_user_and_its_role() {
        let base = vouch("om_1", "user_1", "member");
        assert_eq!(base, vouch("om_1", "user_1", "member"));
        assert_ne!(base, vouch("om_2", "user_1", "member"));
        assert_ne!(base, vouch("om_1", "user_2", "member"));
        assert_ne!(base, vouch("om_1", "user_1", "admin"));
    }
}
