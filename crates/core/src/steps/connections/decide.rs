//! What to do with one connection, decided before any request: a pure
//! function of what the journal wrote, what WorkOS says of the journal's
//! connection (when it was looked at), and the payload's fingerprint,
//! tested as a table apart from the network.
//!
//! Creating is safe to repeat: WorkOS returns the connection of the same
//! organization that already carries the external_id. So whenever the
//! journal's belief does not hold (never written, gone, moved to another
//! organization), the decision is to create, and WorkOS's answer settles it.

/// What the journal knows of a connection ferry wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub target_id: String,
    pub fingerprint: Option<String>,
}

/// What WorkOS says of the journal's connection, when it was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Not asked (an unchanged connection, without `--reconcile`): the
    /// journal is believed.
    NotAsked,
    /// In the organization the connection belongs in.
    InPlace,
    /// Gone, or now in another organization.
    Elsewhere,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to send.
    Unchanged { target_id: String },
    /// Changed in Clerk since it was written: update it.
    Update { target_id: String },
    /// Create it (or be answered with the one WorkOS already holds).
    Create,
}

pub fn decide(written: Option<&Written>, found: Found, fingerprint: &str) -> Decision {
    match (written, found) {
        (None, _) | (Some(_), Found::Elsewhere) => Decision::Create,
        (Some(written), Found::NotAsked | Found::InPlace) => {
            let target_id = written.target_id.clone();
            if written.fingerprint.as_deref() == Some(fingerprint) {
                Decision::Unchanged { target_id }
            } else {
                Decision::Update { target_id }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_belief_about_a_connection() {
        let written = |fingerprint: &str| Written {
            target_id: "conn_1".into(),
            fingerprint: Some(fingerprint.into()),
        };
        let (same, changed) = (written("f1"), written("f0"));
        let unchanged = Decision::Unchanged {
            target_id: "conn_1".into(),
        };
        let update = Decision::Update {
            target_id: "conn_1".into(),
        };
        #[rustfmt::skip]
        let table: Vec<(&str, Option<&Written>, Found, Decision)> = vec![
            ("never written", None, Found::NotAsked, Decision::Create),
            ("never written, looked at", None, Found::InPlace, Decision::Create),
            ("written, believed, unchanged", Some(&same), Found::NotAsked, unchanged.clone()),
            ("written, believed, changed in Clerk", Some(&changed), Found::NotAsked, update.clone()),
            ("written, in place, unchanged", Some(&same), Found::InPlace, unchanged),
            ("written, in place, changed in Clerk", Some(&changed), Found::InPlace, update),
            ("written, gone or moved, unchanged", Some(&same), Found::Elsewhere, Decision::Create),
            ("written, gone or moved, changed", Some(&changed), Found::Elsewhere, Decision::Create),
        ];
        for (case, written, found, expected) in table {
            assert_eq!(decide(written, found, "f1"), expected, "{case}");
        }
    }
}
