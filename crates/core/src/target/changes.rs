//! What changed in WorkOS since ferry last looked, from WorkOS's own record
//! of changes (`GET /events`), so a sync lists again only the organizations
//! whose memberships someone touched, not every organization.
//!
//! A sealed membership (`steps::memberships::seal`) carries a vouch: WorkOS
//! held it, with that user and role, when ferry last listed its
//! organization or wrote it. Only a change can break a vouch, and WorkOS
//! records every change as an event. So the journal keeps a cursor per
//! target (a journal is bound to one target): the instant, on the ferry
//! host's clock less [`MARGIN`], at which the memberships step last began
//! a pass that listed or accounted for every organization. The next pass
//! reads the events since then, of the kinds that can break a vouch
//! ([`KINDS`]: a membership updated or deleted, an organization deleted, a
//! user deleted), and lists again every organization they name; the rest
//! keep their vouch without a request.
//!
//! Creations are not read: a membership made in WorkOS cannot break the
//! vouch of another (WorkOS holds one membership per user and
//! organization, so one made where ferry's was must follow its deletion,
//! which is read), and ferry's own first run makes hundreds of thousands.
//!
//! The events are WorkOS's record, so the target stays the truth; where
//! they cannot be trusted to be whole, every organization is listed, and
//! the run says why ([`Unusable`]): no cursor yet (the first pass on this
//! journal), a cursor older than WorkOS keeps events ([`USABLE_DAYS`]), an
//! answer ferry cannot read, more events than listing everything would
//! cost ([`MAX_PAGES`]), or `--reconcile`.
//!
//! Assumed, and said in the README: the ferry host's clock is within
//! [`MARGIN`] of WorkOS's (events carry WorkOS's time).

use std::collections::HashSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::journal::{Journal, JournalError};
use crate::workos::client::WorkosClient;
use ferry_wire::workos::events::Event;

/// How long WorkOS keeps events.
pub const RETENTION_DAYS: i64 = 30;

/// The journal bookmark holding the cursor.
pub const BOOKMARK: &str = "workos-events:memberships";

pub const MEMBERSHIP_UPDATED: &str = "organization_membership.updated";
pub const MEMBERSHIP_DELETED: &str = "organization_membership.deleted";
pub const ORGANIZATION_DELETED: &str = "organization.deleted";
pub const USER_DELETED: &str = "user.deleted";

/// The kinds of event that can break a membership's vouch.
pub const KINDS: [&str; 4] = [
    MEMBERSHIP_UPDATED,
    MEMBERSHIP_DELETED,
    ORGANIZATION_DELETED,
    USER_DELETED,
];

/// How far before its pass a cursor is set: room for the two clocks to
/// differ and for an event committed a little after its time.
pub const MARGIN: Duration = Duration::minutes(5);

/// A cursor older than this many days is not read: WorkOS keeps events
/// for [`RETENTION_DAYS`], and a day's room keeps the read inside them.
pub const USABLE_DAYS: i64 = RETENTION_DAYS - 1;

/// The most event pages one pass reads (100 events a page): past that,
/// listing every organization is the cheaper way to know.
pub const MAX_PAGES: usize = 1_000;

/// What the events since the cursor name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// WorkOS organizations with a membership updated or deleted, or
    /// themselves deleted: listed again.
    pub organizations: HashSet<String>,
    /// WorkOS users deleted: their memberships are looked at again,
    /// whichever organization they are in.
    pub users_deleted: HashSet<String>,
    /// How many events were read.
    pub events: u64,
}

/// Why the events cannot stand in for listings this pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// The journal has no cursor: the first pass on it.
    NoCursor,
    /// The cursor is older than WorkOS keeps events.
    Stale { since: String },
    /// The events route answered what ferry cannot read or trust.
    Unreadable { why: String },
    /// More than [`MAX_PAGES`] pages of events.
    TooMany { read: u64 },
    /// `--reconcile` asks WorkOS about every membership.
    Reconcile,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoCursor => write!(f, "no event cursor yet on this journal"),
            Self::Stale { since } => write!(
                f,
                "the event cursor ({since}) is older than the {USABLE_DAYS} days WorkOS's events are read for"
            ),
            Self::Unreadable { why } => write!(f, "WorkOS's events could not be read: {why}"),
            Self::TooMany { read } => write!(
                f,
                "more than {read} events since the cursor: listing is cheaper"
            ),
            Self::Reconcile => write!(f, "--reconcile lists everything"),
        }
    }
}

/// The organizations and users `events` name; an event of [`KINDS`]
/// without the id it must carry is an answer ferry cannot trust.
pub fn changes_from(events: &[Event]) -> Result<Changes, String> {
    let mut changes = Changes::default();
    for event in events {
        let field = |name: &str| {
            event
                .data
                .get(name)
                .and_then(serde_json::Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("event {} ({}) carries no {name}", event.id, event.event))
        };
        match event.event.as_str() {
            MEMBERSHIP_UPDATED | MEMBERSHIP_DELETED => {
                changes.organizations.insert(field("organization_id")?);
            }
            ORGANIZATION_DELETED => {
                changes.organizations.insert(field("id")?);
            }
            USER_DELETED => {
                changes.users_deleted.insert(field("id")?);
            }
            other => {
                return Err(format!(
                    "event {} is of a kind not asked for ({other})",
                    event.id
                ));
            }
        }
        changes.events += 1;
    }
    Ok(changes)
}

/// Whether a cursor set at `since` can be read at `now`.
pub fn usable(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Unusable> {
    let since = since.ok_or(Unusable::NoCursor)?;
    match since < now - Duration::days(USABLE_DAYS) {
        true => Err(Unusable::Stale {
            since: since.to_rfc3339_opts(SecondsFormat::Secs, true),
        }),
        false => Ok(since),
    }
}

/// The cursor the journal holds; one it cannot read counts as none.
pub fn cursor(journal: &Journal) -> Result<Option<DateTime<Utc>>, JournalError> {
    Ok(journal
        .bookmark(BOOKMARK)?
        .and_then(|stored| DateTime::parse_from_rfc3339(&stored).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// Moves the cursor to `since` (a pass that accounted for every organization).
pub fn set_cursor(journal: &Journal, since: DateTime<Utc>) -> Result<(), JournalError> {
    journal.set_bookmark(
        BOOKMARK,
        &since.to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

/// Reads the events of [`KINDS`] since `since`, oldest first, up to
/// [`MAX_PAGES`] pages; a cursor WorkOS hands out twice is an answer
/// ferry cannot trust (it would loop).
pub async fn read(workos: &WorkosClient, since: DateTime<Utc>) -> Result<Changes, Unusable> {
    let start = since.to_rfc3339_opts(SecondsFormat::Millis, true);
    let unreadable = |why: String| Unusable::Unreadable { why };
    let mut after: Option<String> = None;
    let mut cursors = HashSet::new();
    let mut changes = Changes::default();
    for _ in 0..MAX_PAGES {
        let page = workos
            .events_page(&KINDS, &start, after.as_deref())
            .await
            .map_err(|error| unreadable(error.reason().detail))?;
        let more = changes_from(&page.data).map_err(unreadable)?;
        changes.organizations.extend(more.organizations);
        changes.users_deleted.extend(more.users_deleted);
        changes.events += more.events;
        match page.list_metadata.after {
            None => return Ok(changes),
            Some(_) if page.data.is_empty() => {
                return Err(unreadable("an empty page led on to another".into()));
            }
            Some(next) if !cursors.insert(next.clone()) => {
                return Err(unreadable(format!(
                    "the cursor {next} was handed out twice"
                )));
            }
            Some(next) => after = Some(next),
        }
    }
    Err(Unusable::TooMany {
        read: changes.events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, data: serde_json::Value) -> Event {
        Event {
            object: "event".into(),
            id: format!("event_{kind}"),
            event: kind.into(),
            data,
            created_at: "2026-12-07T00:00:00.000Z".into(),
            context: Default::default(),
        }
    }

    #[test]
    fn the_events_name_what_to_list_again() {
        let set = |ids: &[&str]| {
            ids.iter()
                .map(|id| (*id).to_owned())
                .collect::<HashSet<_>>()
        };
        #[rustfmt::skip]
        type Named = Result<(HashSet<String>, HashSet<String>), &'static str>;
        let table: Vec<(&str, Vec<Event>, Named)> = vec![
            ("nothing happened", vec![], Ok((set(&[]), set(&[])))),
            (
                "a role changed and a membership deleted, in two organizations",
                vec![
                    event(
                        MEMBERSHIP_UPDATED,
                        json!({"id": "om_1", "organization_id": "org_a", "user_id": "user_1"}),
                    ),
                    event(
                        MEMBERSHIP_DELETED,
                        json!({"id": "om_2", "organization_id": "org_b", "user_id": "user_2"}),
                    ),
                    event(
                        MEMBERSHIP_DELETED,
                        json!({"id": "om_3", "organization_id": "org_b", "user_id": "user_3"}),
                    ),
                ],
                Ok((set(&["org_a", "org_b"]), set(&[]))),
            ),
            (
                "an organization and a user deleted",
                vec![
                    event(ORGANIZATION_DELETED, json!({"id": "org_c", "name": "C"})),
                    event(
                        USER_DELETED,
                        json!({"id": "user_9", "email": "a@example.com"}),
                    ),
                ],
                Ok((set(&["org_c"]), set(&["user_9"]))),
            ),
            (
                "a membership event without its organization cannot be trusted",
                vec![event(MEMBERSHIP_DELETED, json!({"id": "om_2"}))],
                Err(
                    "event event_organization_membership.deleted (organization_membership.deleted) carries no organization_id",
                ),
            ),
            (
                "an empty id is none",
                vec![event(USER_DELETED, json!({"id": ""}))],
                Err("event event_user.deleted (user.deleted) carries no id"),
            ),
            (
                "a kind not asked for is an answer not to trust",
                vec![event("user.created", json!({"id": "user_1"}))],
                Err("event event_user.created is of a kind not asked for (user.created)"),
            ),
        ];
        for (case, events, expected) in table {
            let got = changes_from(&events).map(|c| (c.organizations, c.users_deleted));
            assert_eq!(got, expected.map_err(str::to_owned), "{case}");
        }
    }

    #[test]
    fn a_cursor_is_read_only_inside_what_workos_keeps() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let day = Duration::days(1);
        assert_eq!(usable(None, now), Err(Unusable::NoCursor));
        assert_eq!(usable(Some(now - day), now), Ok(now - day));
        assert_eq!(
            usable(Some(now - day * 28), now),
            Ok(now - day * 28),
            "28 days: inside"
        );
        assert_eq!(
            usable(Some(now - day * 30), now),
            Err(Unusable::Stale {
                since: "2026-11-07T12:00:00Z".into()
            })
        );
        assert_eq!(
            Unusable::Stale {
                since: "2026-11-07T12:00:00Z".into()
            }
            .to_string(),
            "the event cursor (2026-11-07T12:00:00Z) is older than the 29 days WorkOS's events are read for"
        );
    }
}
