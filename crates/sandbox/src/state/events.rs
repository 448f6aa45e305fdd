//! The environment's event log, as `GET /events` serves it: every write the
//! imitation takes (users, organizations, memberships created, updated,
//! deleted) becomes an event carrying the object as it was after the
//! change. The log keeps the newest [`RETAINED_EVENTS`] events of each
//! type; WorkOS keeps 30 days, and a million-user load must not hold a
//! million payloads here (its million `user.created` events are cut to the
//! newest 100,000, while its few `user.deleted` ones are all kept).
//! A listing that asks for events of a type from before the newest one
//! dropped is refused (400, `events_no_longer_kept`) rather than answered
//! short: a client that reads events as a record of every change must be
//! able to tell. (What WorkOS answers past its 30 days the spec does not
//! say; ferry checks that age itself.)

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::pagination::cursor_page;
use super::{
    EventLog, EventQuery, Failure, Outcome, RETAINED_EVENTS, StoredEvent, WorkosState, sequence_id,
};
use ferry_wire::workos::events::{Event, EventList, EventListMetadata};

impl EventLog {
    /// Appends `event` with `data` as its payload.
    pub(super) fn record(
        &mut self,
        event: &'static str,
        data: &impl Serialize,
        organization_id: Option<&str>,
    ) {
        self.sequence += 1;
        let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned());
        let of_type = self.events.entry(event).or_default();
        of_type.push_back(StoredEvent {
            id: sequence_id("event", self.sequence),
            event,
            organization_id: organization_id.map(str::to_owned),
            data: data.into_boxed_str(),
            created_at: Utc::now(),
        });
        while of_type.len() > RETAINED_EVENTS {
            if let Some(dropped) = of_type.pop_front() {
                self.dropped.insert(dropped.event, dropped.created_at);
            }
        }
    }

    fn render(stored: &StoredEvent) -> Event {
        Event {
            object: "event".into(),
            id: stored.id.clone(),
            event: stored.event.to_owned(),
            data: serde_json::from_str(&stored.data).unwrap_or(Value::Object(Map::new())),
            created_at: stored
                .created_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            context: Map::new(),
        }
    }
}

fn instant(field: &str, text: &str) -> Outcome<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Failure::InvalidField {
            field: field.to_owned(),
            code: "invalid_date",
        })
}

impl WorkosState {
    /// `GET /events`: the events of the given types, in the query's order
    /// and window, optionally of one organization.
    pub fn list_events(&self, query: &EventQuery) -> Outcome<EventList> {
        if query.events.is_empty() {
            return Err(Failure::InvalidField {
                field: "events".into(),
                code: "required",
            });
        }
        let start = query
            .range_start
            .as_deref()
            .map(|t| instant("range_start", t))
            .transpose()?;
        let end = query
            .range_end
            .as_deref()
            .map(|t| instant("range_end", t))
            .transpose()?;
        for kind in &query.events {
            if let Some(dropped) = self.events.dropped.get(kind.as_str())
                && start.is_none_or(|start| start <= *dropped)
            {
                return Err(Failure::BadRequest {
                    code: "events_no_longer_kept",
                    message: format!(
                        "Events of type '{kind}' up to {} are no longer kept (the sandbox keeps the newest {RETAINED_EVENTS}).",
                        dropped.to_rfc3339_opts(SecondsFormat::Millis, true)
                    ),
                });
            }
        }
        let mut selected: Vec<(&str, &StoredEvent)> = query
            .events
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|kind| self.events.events.get(kind.as_str()))
            .flatten()
            .filter(|e| {
                query
                    .organization_id
                    .as_deref()
                    .is_none_or(|id| e.organization_id.as_deref() == Some(id))
            })
            .filter(|e| {
                start.is_none_or(|start| e.created_at >= start)
                    && end.is_none_or(|end| e.created_at <= end)
            })
            .map(|e| (e.id.as_str(), e))
            .collect();
        // The types' logs merged back into the order they happened in.
        selected.sort_unstable_by_key(|(id, _)| *id);
        let page = cursor_page(selected, &query.page);
        Ok(EventList {
            object: "list".into(),
            data: page.data.into_iter().map(EventLog::render).collect(),
            list_metadata: EventListMetadata {
                after: page.list_metadata.after,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ListQuery;
    use ferry_wire::workos::model::{CreateOrganization, CreateUser};

    fn query(kinds: &[&str]) -> EventQuery {
        EventQuery {
            page: ListQuery {
                limit: 100,
                descending: false,
                ..ListQuery::default()
            },
            events: kinds.iter().map(|k| (*k).to_owned()).collect(),
            ..EventQuery::default()
        }
    }

    #[test]
    fn writes_become_events_in_order() {
        let mut state = WorkosState::default();
        let user = state
            .create_user(CreateUser {
                email: "a@example.com".into(),
                ..CreateUser::default()
            })
            .unwrap();
        let org = state
            .create_organization(CreateOrganization {
                name: "Acme".into(),
                ..CreateOrganization::default()
            })
            .unwrap();
        state.delete_user(&user.id).unwrap();
        let all = state
            .list_events(&query(&[
                "user.created",
                "user.deleted",
                "organization.created",
            ]))
            .unwrap();
        let kinds: Vec<&str> = all.data.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            kinds,
            ["user.created", "organization.created", "user.deleted"]
        );
        assert_eq!(all.data[0].data["email"], "a@example.com");
        let only_users = state.list_events(&query(&["user.created"])).unwrap();
        assert_eq!(only_users.data.len(), 1);
        let mut of_org = query(&["organization.created"]);
        of_org.organization_id = Some(org.id.clone());
        assert_eq!(state.list_events(&of_org).unwrap().data.len(), 1);
        of_org.organization_id = Some("org_other".into());
        assert!(state.list_events(&of_org).unwrap().data.is_empty());
    }

    #[test]
    fn the_event_types_are_required_and_dates_checked() {
        let state = WorkosState::default();
        assert!(matches!(
            state.list_events(&query(&[])),
            Err(Failure::InvalidField {
                code: "required",
                ..
            })
        ));
        let mut bad = query(&["user.created"]);
        bad.range_start = Some("yesterday".into());
        assert!(state.list_events(&bad).is_err());
    }

    #[test]
    fn a_type_whose_events_were_dropped_is_refused_from_before_then() {
        let mut state = WorkosState::default();
        state
            .events
            .record("user.deleted", &json_id("user_old"), None);
        let dropped_at = state.events.events["user.deleted"][0].created_at;
        // Many more of another type drop none of this one.
        for n in 0..=RETAINED_EVENTS {
            state
                .events
                .record("user.created", &json_id(&n.to_string()), None);
        }
        assert_eq!(state.events.events["user.created"].len(), RETAINED_EVENTS);
        assert_eq!(state.events.events["user.deleted"].len(), 1);
        assert!(state.list_events(&query(&["user.deleted"])).is_ok());
        // As many more of its own type drop it.
        for n in 0..RETAINED_EVENTS {
            state
                .events
                .record("user.deleted", &json_id(&n.to_string()), None);
        }
        assert_eq!(state.events.events["user.deleted"].len(), RETAINED_EVENTS);
        let since = |instant: DateTime<Utc>| {
            let mut q = query(&["user.deleted", "organization.deleted"]);
            q.range_start = Some(instant.to_rfc3339_opts(SecondsFormat::Micros, true));
            q
        };
        // From before the dropped event (or from the start): refused, not short.
        for asked in [
            since(dropped_at - chrono::Duration::seconds(1)),
            query(&["user.deleted"]),
        ] {
            match state.list_events(&asked) {
                Err(Failure::BadRequest { code, message }) => {
                    assert_eq!(code, "events_no_longer_kept");
                    assert!(
                        message.starts_with("Events of type 'user.deleted' up to "),
                        "{message}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        // After it, or of a type nothing was dropped of: answered.
        let later = since(dropped_at + chrono::Duration::milliseconds(1));
        let kept = state.list_events(&later).unwrap();
        assert_eq!(kept.data[0].data, json_id("0"), "the oldest kept first");
        assert!(state.list_events(&query(&["organization.deleted"])).is_ok());
    }

    fn json_id(id: &str) -> serde_json::Value {
        serde_json::json!({ "id": id })
    }
}
