//! One WorkOS user per email: the first Clerk user (in source order) to claim
//! an address keeps it; a later one with the same address, in any case, is
//! rejected before a request is spent, instead of colliding in WorkOS and
//! being mistaken for a pre-existing user to take over.
//!
//! Compact on purpose: a million claims cost tens of megabytes (a 64-bit
//! hash per address and the ids in one buffer), so offline planning of a
//! large export stays within its memory budget.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

#[derive(Debug, Default)]
pub struct EmailClaims {
    /// Every claimant's Clerk id, end to end.
    ids: String,
    /// Hash of the lower-cased address → where its claimant's id sits in `ids`.
    owners: HashMap<u64, (u32, u16)>,
}

impl EmailClaims {
    /// Claims `email` for `clerk_id`; `Err` holds the id that claimed it first.
    pub fn claim(&mut self, email: &str, clerk_id: &str) -> Result<(), String> {
        let key = BuildHasherDefault::<DefaultHasher>::default().hash_one(email.to_lowercase());
        if let Some(&(start, len)) = self.owners.get(&key) {
            let owner = &self.ids[start as usize..start as usize + len as usize];
            return if owner == clerk_id {
                Ok(())
            } else {
                Err(owner.to_owned())
            };
        }
        let start = self.ids.len() as u32;
        self.ids.push_str(clerk_id);
        self.owners.insert(key, (start, clerk_id.len() as u16));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_claimant_keeps_the_address_whatever_its_case() {
        let mut claims = EmailClaims::default();
        assert_eq!(claims.claim("Ada@Example.com", "user_1"), Ok(()));
        assert_eq!(claims.claim("ada@example.com", "user_1"), Ok(()));
        assert_eq!(
            claims.claim("ADA@EXAMPLE.COM", "user_2"),
            Err("user_1".into())
        );
        assert_eq!(claims.claim("bo@example.com", "user_2"), Ok(()));
    }
}
