//! Where each organization's Clerk memberships come from: Clerk's
//! instance-wide listing (`GET /organization_memberships`, 500 a page
//! whatever the organizations), read once, or the organization's own
//! listing (a request or more per organization).
//!
//! The instance-wide listing is read when it costs fewer requests than one
//! listing per organization (a tenant of many small organizations); a
//! tenant of a few large ones keeps the per-organization listings. Its
//! pages are not held: each is written, as it arrives, into a private
//! temporary SQLite database (on disk, deleted when closed; SQLite keeps
//! only a page cache in memory), and the step reads it back one
//! organization at a time, so a million memberships cost no more memory
//! than the largest organization.
//!
//! It is believed only where it proves itself: the listing whole (its
//! pages agree with its `total_count`, nothing repeats), and, organization
//! by organization, as many memberships as the `members_count` Clerk gives
//! that organization. An organization it disagrees with is listed on its
//! own; a listing that is not whole is used for none. Both are said aloud.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;

use crate::clerk::client::ClerkClient;
use crate::http::ApiError;
use crate::http::listing::Incomplete;
use ferry_wire::clerk::model::{Organization, OrganizationMembership};

/// Clerk's instance-wide listing, grouped by organization, with what it
/// could not vouch for.
pub struct Grouped {
    /// The spilled listing; `None` when it is used for no organization.
    store: Option<Connection>,
    /// The organizations whose memberships the listing vouches for (their
    /// count matched), until taken.
    vouched: HashSet<String>,
    /// Why the listing was used for no organization, when it was not.
    pub unused: Option<String>,
    /// Organizations whose member count the listing did not match.
    pub disagreed: Vec<String>,
}

/// Whether the instance-wide listing is the cheaper read: its pages
/// against each organization's own (never when a count is missing).
pub fn cheaper(organizations: &[Organization], page_size: usize) -> bool {
    let pages = |members: u64| members.div_ceil(page_size as u64).max(1);
    let counts: Option<Vec<u64>> = organizations.iter().map(|o| o.members_count).collect();
    counts.is_some_and(|counts| pages(counts.iter().sum()) < counts.into_iter().map(pages).sum())
}

impl Grouped {
    /// Not read: each organization is listed on its own, nothing to say.
    pub fn not_read() -> Self {
        Self {
            unused: None,
            ..Self::unused("")
        }
    }

    /// Used for no organization, and why.
    pub fn unused(why: impl Into<String>) -> Self {
        Self {
            store: None,
            vouched: HashSet::new(),
            unused: Some(why.into()),
            disagreed: Vec::new(),
        }
    }

    /// Reads Clerk's instance-wide listing into the spill and checks it
    /// against `organizations`' member counts.
    pub async fn read(
        clerk: &ClerkClient,
        organizations: &[Organization],
    ) -> Result<Self, ApiError> {
        let mut spill = match Spill::open() {
            Ok(spill) => spill,
            Err(error) => return Ok(Self::unused(format!("no temporary store: {error}"))),
        };
        let incomplete = clerk
            .instance_memberships_to(|page| spill.take(page))
            .await?;
        tracing::info!("Clerk's instance-wide membership listing read");
        Ok(spill.finish(incomplete, organizations))
    }

    /// An organization's memberships, oldest first, when the listing
    /// vouches for them (`None`: list the organization on its own).
    pub fn take(&mut self, organization: &str) -> Option<Vec<OrganizationMembership>> {
        if !self.vouched.remove(organization) {
            return None;
        }
        let store = self.store.as_ref()?;
        let read = || -> rusqlite::Result<Vec<String>> {
            let mut select = store.prepare_cached(
                "SELECT json FROM memberships WHERE organization = ?1 ORDER BY seq",
            )?;
            let rows = select.query_map([organization], |row| row.get(0))?;
            rows.collect()
        };
        let rows = read().ok()?;
        rows.iter()
            .map(|json| serde_json::from_str(json).ok())
            .collect()
    }

    /// What a person should know about where the memberships came from.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(why) = &self.unused {
            notes.push(format!(
                "Clerk's instance-wide memberships listing was not used ({why}): memberships are listed organization by organization"
            ));
        }
        if !self.disagreed.is_empty() {
            let first: Vec<&str> = self.disagreed.iter().take(5).map(String::as_str).collect();
            notes.push(format!(
                "Clerk's instance-wide memberships listing disagreed with the member count of {} organizations ({}{}): those are listed on their own",
                self.disagreed.len(),
                first.join(", "),
                if self.disagreed.len() > first.len() { ", …" } else { "" }
            ));
        }
        notes
    }
}

/// The listing as it arrives, in a private temporary database.
struct Spill {
    store: Connection,
    seq: u64,
    held: HashMap<String, u64>,
    /// The first write that failed: the listing is then used for none.
    failed: Option<String>,
}

impl Spill {
    fn open() -> rusqlite::Result<Self> {
        // An empty name: SQLite's private temporary database, on disk,
        // deleted when the connection closes.
        let store = Connection::open("")?;
        store.execute_batch(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA cache_size = -8192;
             CREATE TABLE memberships (organization TEXT NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL);",
        )?;
        Ok(Self {
            store,
            seq: 0,
            held: HashMap::new(),
            failed: None,
        })
    }

    fn take(&mut self, page: Vec<OrganizationMembership>) {
        if self.failed.is_some() {
            return;
        }
        let mut write = || -> Result<(), String> {
            let transaction = self.store.transaction().map_err(|e| e.to_string())?;
            {
                let mut insert = transaction
                    .prepare_cached(
                        "INSERT INTO memberships (organization, seq, json) VALUES (?1, ?2, ?3)",
                    )
                    .map_err(|e| e.to_string())?;
                for membership in &page {
                    self.seq += 1;
                    let json = serde_json::to_string(membership).map_err(|e| e.to_string())?;
                    insert
                        .execute(rusqlite::params![
                            membership.organization.id,
                            self.seq as i64,
                            json
                        ])
                        .map_err(|e| e.to_string())?;
                    *self
                        .held
                        .entry(membership.organization.id.clone())
                        .or_default() += 1;
                }
            }
            transaction.commit().map_err(|e| e.to_string())
        };
        if let Err(why) = write() {
            self.failed = Some(why);
        }
    }

    /// Keeps each organization of `organizations` whose `members_count`
    /// the listing matches; memberships of an organization not among them
    /// (made during the read) are left to the next run, as an
    /// organization's own listing would leave them.
    fn finish(self, incomplete: Option<Incomplete>, organizations: &[Organization]) -> Grouped {
        if let Some(why) = incomplete {
            return Grouped::unused(format!("it did not prove complete: {why}"));
        }
        if let Some(why) = self.failed {
            return Grouped::unused(format!("its temporary store failed: {why}"));
        }
        if let Err(error) = self
            .store
            .execute_batch("CREATE INDEX by_organization ON memberships (organization, seq);")
        {
            return Grouped::unused(format!("its temporary store failed: {error}"));
        }
        let (vouched, disagreed): (Vec<&Organization>, Vec<&Organization>) =
            organizations.iter().partition(|organization| {
                let count = self.held.get(&organization.id).copied().unwrap_or(0);
                organization.members_count == Some(count)
            });
        Grouped {
            store: Some(self.store),
            vouched: vouched.into_iter().map(|o| o.id.clone()).collect(),
            unused: None,
            disagreed: disagreed.into_iter().map(|o| o.id.clone()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organization(id: &str, members_count: Option<u64>) -> Organization {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "slug": id, "members_count": members_count,
            "created_at": 0, "updated_at": 0
        }))
        .unwrap()
    }

    fn membership(id: &str, organization: &str) -> OrganizationMembership {
        serde_json::from_value(serde_json::json!({
            "id": id, "role": "org:member",
            "organization": { "id": organization, "name": organization, "slug": organization, "created_at": 0, "updated_at": 0 },
            "created_at": 0, "updated_at": 0
        }))
        .unwrap()
    }

    fn ids(members: Option<Vec<OrganizationMembership>>) -> Option<Vec<String>> {
        members.map(|m| m.into_iter().map(|m| m.id).collect())
    }

    #[test]
    fn the_instance_listing_is_used_where_it_proves_itself() {
        #[rustfmt::skip]
        type Handed = [Option<Vec<&'static str>>; 3];
        type Case = (
            &'static str,
            Vec<Organization>,
            Option<Incomplete>,
            Handed,
            usize,
        );
        let table: Vec<Case> = vec![
            (
                "whole, every count agrees",
                vec![
                    organization("org_a", Some(2)),
                    organization("org_b", Some(1)),
                    organization("org_c", Some(0)),
                ],
                None,
                [Some(vec!["m1", "m3"]), Some(vec!["m2"]), Some(vec![])],
                0,
            ),
            (
                "a count that disagrees sends that organization to its own listing",
                vec![
                    organization("org_a", Some(3)),
                    organization("org_b", Some(1)),
                    organization("org_c", Some(0)),
                ],
                None,
                [None, Some(vec!["m2"]), Some(vec![])],
                1,
            ),
            (
                "a count Clerk did not give cannot vouch",
                vec![
                    organization("org_a", None),
                    organization("org_b", Some(1)),
                    organization("org_c", Some(0)),
                ],
                None,
                [None, Some(vec!["m2"]), Some(vec![])],
                1,
            ),
            (
                "a listing that is not whole is used for none",
                vec![
                    organization("org_a", Some(2)),
                    organization("org_b", Some(1)),
                    organization("org_c", Some(0)),
                ],
                Some(Incomplete::ShortOfTotal { read: 4, total: 5 }),
                [None, None, None],
                0,
            ),
        ];
        for (case, organizations, incomplete, expected, disagreed) in table {
            let mut spill = Spill::open().unwrap();
            // Two pages; m4 was made during the read, in an organization
            // the organizations listing did not hold.
            spill.take(vec![membership("m1", "org_a"), membership("m2", "org_b")]);
            spill.take(vec![membership("m3", "org_a"), membership("m4", "org_new")]);
            let mut grouped = spill.finish(incomplete.clone(), &organizations);
            let got = ["org_a", "org_b", "org_c"].map(|o| ids(grouped.take(o)));
            let expected = expected.map(|e| e.map(|v| v.into_iter().map(str::to_owned).collect()));
            assert_eq!(got, expected, "{case}");
            assert_eq!(grouped.disagreed.len(), disagreed, "{case}");
            assert_eq!(grouped.unused.is_some(), incomplete.is_some(), "{case}");
            assert_eq!(grouped.take("org_new"), None, "{case}: never listed");
            assert_eq!(grouped.take("org_a"), None, "{case}: handed out once");
        }
    }

    #[test]
    fn the_instance_listing_is_read_only_when_it_costs_fewer_requests() {
        let orgs = |counts: &[Option<u64>]| -> Vec<Organization> {
            counts
                .iter()
                .enumerate()
                .map(|(n, count)| organization(&format!("org_{n}"), *count))
                .collect()
        };
        // 10 organizations of 40: 1 page of 500 against 10 listings.
        assert!(cheaper(&orgs(&[Some(40); 10]), 500));
        // 3 organizations of 1,000: 6 pages either way.
        assert!(!cheaper(&orgs(&[Some(1000); 3]), 500));
        // 4 organizations of 100 and one of 1,000: 3 pages against 6.
        assert!(cheaper(
            &orgs(&[Some(100), Some(100), Some(100), Some(100), Some(1000)]),
            500
        ));
        // A count Clerk did not give: the organizations' own listings.
        assert!(!cheaper(&orgs(&[Some(1), None, Some(1)]), 500));
    }

    #[test]
    fn what_went_unused_is_said() {
        let grouped = Grouped {
            disagreed: vec!["org_a".into(), "org_b".into()],
            ..Grouped::unused(
                "it did not prove complete: page 2 repeated an object an earlier page held",
            )
        };
        assert_eq!(
            grouped.notes(),
            [
                "Clerk's instance-wide memberships listing was not used (it did not prove complete: page 2 repeated an object an earlier page held): memberships are listed organization by organization",
                "Clerk's instance-wide memberships listing disagreed with the member count of 2 organizations (org_a, org_b): those are listed on their own",
            ]
        );
    }
}
