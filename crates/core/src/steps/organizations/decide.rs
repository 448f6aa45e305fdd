//! What to do with one organization, decided before any request: a pure
//! function of what the journal wrote, how WorkOS's listing judges it, and
//! the payload the mapping gives, tested as a table apart from the network.

use ferry_wire::workos::model::Organization as WorkosOrganization;

use crate::target::reconcile::Standing;

/// What the journal knows of an organization ferry wrote: its WorkOS id
/// and the fingerprint of what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub target_id: String,
    pub fingerprint: Option<String>,
}

/// What to do with one organization.
#[derive(Debug, PartialEq)]
pub enum Decision<'a> {
    /// The journal's organization, and the Clerk one changed: update it,
    /// once WorkOS confirms it still carries this external_id (the
    /// listing's `standing` of it, when there is one, already did).
    Update {
        target_id: String,
        standing: Standing<'a, WorkosOrganization>,
    },
    /// The journal's organization, unchanged in Clerk. `renamed` when
    /// WorkOS's listing shows another name: changed outside ferry, and
    /// left alone.
    Unchanged { target_id: String, renamed: bool },
    /// Not the journal's (or the journal's is gone or someone else's):
    /// WorkOS lists one with this external_id, to adopt.
    Adopt(&'a WorkosOrganization),
    /// Nothing in WorkOS to take: create it.
    Create,
}

/// Decides for one organization. `standing` is the listing's judgement of
/// the journal's id (`Believed` without a listing); `by_external_id` is
/// what the listing holds under the payload's external_id.
pub fn decide<'a>(
    written: Option<&Written>,
    standing: Option<Standing<'a, WorkosOrganization>>,
    fingerprint: &str,
    name: &str,
    by_external_id: Option<&'a WorkosOrganization>,
) -> Decision<'a> {
    if let (Some(written), Some(standing)) = (written, standing)
        && standing.trusted()
    {
        let target_id = written.target_id.clone();
        if written.fingerprint.as_deref() != Some(fingerprint) {
            return Decision::Update {
                target_id,
                standing,
            };
        }
        let renamed = matches!(standing, Standing::Ours(listed) if listed.name != name);
        return Decision::Unchanged { target_id, renamed };
    }
    match by_external_id {
        Some(existing) => Decision::Adopt(existing),
        None => Decision::Create,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organization(id: &str, name: &str, external_id: Option<&str>) -> WorkosOrganization {
        serde_json::from_value(serde_json::json!({
            "object": "organization",
            "id": id,
            "name": name,
            "external_id": external_id,
            "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z",
        }))
        .expect("a WorkOS organization")
    }

    #[test]
    fn every_standing_of_an_organization() {
        let ours = organization("org_1", "Acme", Some("org_clerk"));
        let renamed = organization("org_1", "Acme Inc", Some("org_clerk"));
        let someone = organization("org_1", "Acme", Some("other"));
        let found = organization("org_2", "Acme", Some("org_clerk"));
        let written = |fingerprint: &str| Written {
            target_id: "org_1".into(),
            fingerprint: Some(fingerprint.into()),
        };
        let (same, changed) = (written("f1"), written("f0"));
        let unchanged = |renamed| Decision::Unchanged {
            target_id: "org_1".into(),
            renamed,
        };
        let update = Decision::Update {
            target_id: "org_1".into(),
            standing: Standing::Believed,
        };
        /// (case, what the journal wrote, the listing's standing, what
        /// WorkOS lists under the external_id, the decision).
        type Row<'r> = (
            &'r str,
            Option<&'r Written>,
            Option<Standing<'r, WorkosOrganization>>,
            Option<&'r WorkosOrganization>,
            Decision<'r>,
        );
        #[rustfmt::skip]
        let table: Vec<Row<'_>> = vec![
            ("never written, nothing in WorkOS", None, None, None, Decision::Create),
            ("never written, WorkOS has its external_id", None, None, Some(&found), Decision::Adopt(&found)),
            ("written, believed, unchanged", Some(&same), Some(Standing::Believed), None, unchanged(false)),
            ("written, believed, changed in Clerk", Some(&changed), Some(Standing::Believed), None, update),
            ("written, listed as ours, unchanged", Some(&same), Some(Standing::Ours(&ours)), None, unchanged(false)),
            ("written, listed as ours, renamed in WorkOS", Some(&same), Some(Standing::Ours(&renamed)), None, unchanged(true)),
            ("written, gone from WorkOS, its external_id elsewhere", Some(&same), Some(Standing::Gone), Some(&found), Decision::Adopt(&found)),
            ("written, gone from WorkOS", Some(&changed), Some(Standing::Gone), None, Decision::Create),
            ("written, now someone else's", Some(&same), Some(Standing::Someone(&someone)), None, Decision::Create),
        ];
        for (case, written, standing, by_external_id, expected) in table {
            assert_eq!(
                decide(written, standing, "f1", "Acme", by_external_id),
                expected,
                "{case}"
            );
        }
    }
}
