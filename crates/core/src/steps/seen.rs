//! What one sync's listings held: the Clerk ids each step saw, per kind,
//! and which kinds' listings were read to their end. The steps fill it;
//! `crate::sync` diffs the journal against it to find what Clerk no
//! longer has.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Mutex;

use crate::journal::Kind;

/// The Clerk ids the steps of one sync saw, per kind (as 64-bit hashes: a
/// collision can only keep an object, never delete one), and which kinds'
/// listings were read to their end.
#[derive(Default)]
pub struct Seen {
    ids: Mutex<HashMap<Kind, HashSet<u64>>>,
    complete: Mutex<HashSet<Kind>>,
    /// Kinds a listing of which did not prove complete, with why.
    incomplete: Mutex<HashMap<Kind, String>>,
    /// Users Clerk answered 404 for (the export's users missing from the listing).
    confirmed_gone: Mutex<HashSet<u64>>,
}

impl Seen {
    pub fn add(&self, kind: Kind, clerk_id: &str) {
        self.ids
            .lock()
            .expect("seen lock")
            .entry(kind)
            .or_default()
            .insert(key(clerk_id));
    }

    /// Says Clerk answered that this user no longer exists.
    pub fn confirmed_gone(&self, clerk_id: &str) {
        self.confirmed_gone
            .lock()
            .expect("seen lock")
            .insert(key(clerk_id));
    }

    pub fn is_confirmed_gone(&self, clerk_id: &str) -> bool {
        self.confirmed_gone
            .lock()
            .expect("seen lock")
            .contains(&key(clerk_id))
    }

    /// Says the listing of `kind` was read to its end.
    pub fn complete(&self, kind: Kind) {
        self.complete.lock().expect("seen lock").insert(kind);
    }

    /// Says a listing of `kind` did not prove complete; it stays so for
    /// this sync, whatever else completes.
    pub fn incomplete(&self, kind: Kind, why: String) {
        self.incomplete
            .lock()
            .expect("seen lock")
            .entry(kind)
            .or_insert(why);
    }

    pub fn is_complete(&self, kind: Kind) -> bool {
        self.complete.lock().expect("seen lock").contains(&kind)
            && !self
                .incomplete
                .lock()
                .expect("seen lock")
                .contains_key(&kind)
    }

    /// Why `kind` is not diffed: the listing that proved incomplete, or
    /// that its step did not read to its end.
    pub fn why_not_complete(&self, kind: Kind) -> String {
        self.incomplete
            .lock()
            .expect("seen lock")
            .get(&kind)
            .cloned()
            .unwrap_or_else(|| "its listing did not reach its end".to_owned())
    }

    pub fn saw(&self, kind: Kind, clerk_id: &str) -> bool {
        self.ids
            .lock()
            .expect("seen lock")
            .get(&kind)
            .is_some_and(|ids| ids.contains(&key(clerk_id)))
    }
}

fn key(clerk_id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(clerk_id)
}
