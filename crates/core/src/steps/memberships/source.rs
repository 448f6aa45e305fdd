//! Where each organization's Clerk memberships come from: Clerk's
//! instance-wide listing (`GET /organization_memberships`, 500 a page
//! whatever the organizations), read once and split by organization, or
//! the organization's own listing (one request or more per organization).
//!
//! The instance-wide listing is believed only where it proves itself: the
//! listing whole (its pages agree with its `total_count`, nothing repeats),
//! and, organization by organization, the memberships it holds as many as
//! the `members_count` Clerk gives that organization. An organization it
//! disagrees with is listed on its own; a listing that is not whole is used
//! for none. Both are said aloud.

use std::collections::HashMap;

use crate::http::listing::Listed;
use ferry_wire::clerk::model::{Organization, OrganizationMembership};

/// The instance-wide listing, split by organization, with what it could
/// not vouch for.
#[derive(Debug, Default)]
pub struct Grouped {
    by_organization: HashMap<String, Vec<OrganizationMembership>>,
    /// Why the listing was used for no organization, when it was not.
    pub unused: Option<String>,
    /// Organizations whose member count the listing did not match.
    pub disagreed: Vec<String>,
}

impl Grouped {
    /// Used for no organization, and why.
    pub fn unused(why: impl Into<String>) -> Self {
        Self {
            unused: Some(why.into()),
            ..Self::default()
        }
    }

    /// An organization's memberships, when the listing vouches for them
    /// (`None`: list the organization on its own). Each is handed out once.
    pub fn take(&mut self, organization: &str) -> Option<Vec<OrganizationMembership>> {
        self.by_organization.remove(organization)
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

/// Splits `listed` by organization, keeping each organization of
/// `organizations` whose `members_count` it matches; memberships of an
/// organization not among them (made during the read) are left to the
/// next run, as an organization's own listing would leave them.
pub fn group(organizations: &[Organization], listed: Listed<OrganizationMembership>) -> Grouped {
    if let Some(why) = listed.incomplete {
        return Grouped::unused(format!("it did not prove complete: {why}"));
    }
    let mut by_organization: HashMap<String, Vec<OrganizationMembership>> = organizations
        .iter()
        .map(|o| (o.id.clone(), Vec::new()))
        .collect();
    for membership in listed.items {
        if let Some(members) = by_organization.get_mut(&membership.organization.id) {
            members.push(membership);
        }
    }
    let mut disagreed = Vec::new();
    for organization in organizations {
        let held = by_organization.get(&organization.id).map_or(0, Vec::len) as u64;
        if organization.members_count != Some(held) {
            by_organization.remove(&organization.id);
            disagreed.push(organization.id.clone());
        }
    }
    Grouped {
        by_organization,
        unused: None,
        disagreed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::listing::Incomplete;

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
        let listing = |incomplete| Listed {
            items: vec![
                membership("m1", "org_a"),
                membership("m2", "org_b"),
                membership("m3", "org_a"),
                // Made during the read, in an organization the read did not list.
                membership("m4", "org_new"),
            ],
            incomplete,
        };
        #[rustfmt::skip]
        let table: Vec<(&str, Vec<Organization>, Option<Incomplete>, [Option<Vec<&str>>; 3], usize)> = vec![
            ("whole, every count agrees",
                vec![organization("org_a", Some(2)), organization("org_b", Some(1)), organization("org_c", Some(0))],
                None, [Some(vec!["m1", "m3"]), Some(vec!["m2"]), Some(vec![])], 0),
            ("a count that disagrees sends that organization to its own listing",
                vec![organization("org_a", Some(3)), organization("org_b", Some(1)), organization("org_c", Some(0))],
                None, [None, Some(vec!["m2"]), Some(vec![])], 1),
            ("a count Clerk did not give cannot vouch",
                vec![organization("org_a", None), organization("org_b", Some(1)), organization("org_c", Some(0))],
                None, [None, Some(vec!["m2"]), Some(vec![])], 1),
            ("a listing that is not whole is used for none",
                vec![organization("org_a", Some(2)), organization("org_b", Some(1)), organization("org_c", Some(0))],
                Some(Incomplete::ShortOfTotal { read: 4, total: 5 }), [None, None, None], 0),
        ];
        for (case, organizations, incomplete, expected, disagreed) in table {
            let mut grouped = group(&organizations, listing(incomplete.clone()));
            let got = ["org_a", "org_b", "org_c"].map(|o| ids(grouped.take(o)));
            let expected = expected.map(|e| e.map(|v| v.into_iter().map(str::to_owned).collect()));
            assert_eq!(got, expected, "{case}");
            assert_eq!(grouped.disagreed.len(), disagreed, "{case}");
            assert_eq!(grouped.unused.is_some(), incomplete.is_some(), "{case}");
            assert_eq!(grouped.take("org_new"), None, "{case}: never listed");
        }
    }

    #[test]
    fn what_went_unused_is_said() {
        let grouped = Grouped {
            disagreed: vec!["org_a".into(), "org_b".into()],
            ..Grouped::unused("it did not prove complete: page 2 repeated an object an earlier page held")
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
