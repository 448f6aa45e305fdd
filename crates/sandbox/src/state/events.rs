//! The environment's event log, as `GET /events` serves it: every write the
//! imitation takes (users, organizations, memberships created, updated,
//! deleted) becomes an event carrying the object as it was after the
//! change. The log keeps the newest [`RETAINED_EVENTS`] events; WorkOS keeps 30
//! days, and a million-user load must not hold a million payloads here.

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
        self.events.push_back(StoredEvent {
            id: sequence_id("event", self.sequence),
            event,
            organization_id: organization_id.map(str::to_owned),
            data: data.into_boxed_str(),
            created_at: Utc::now(),
        });
        while self.events.len() > RETAINED_EVENTS {
            self.events.pop_front();
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
        let selected: Vec<(&str, &StoredEvent)> = self
            .events
            .events
            .iter()
            .filter(|e| query.events.iter().any(|kind| kind == e.event))
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
}
