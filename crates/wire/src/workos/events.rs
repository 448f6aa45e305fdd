//! WorkOS events and webhook endpoints: what a migration emits (every user,
//! organization and membership it writes becomes an event a webhook
//! endpoint may receive) and the endpoints that receive them, which a
//! cutover may want to pause while it loads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// `object: "event"`: one change in the environment, with the object as it
/// was after the change in `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub object: String,
    pub id: String,
    /// `user.created`, `organization_membership.deleted`, ...
    pub event: String,
    pub data: Value,
    pub created_at: String,
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// `GET /events`: a page of events; only `after` leads on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    pub object: String,
    pub data: Vec<Event>,
    pub list_metadata: EventListMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventListMetadata {
    pub after: Option<String>,
}

/// `object: "webhook_endpoint"`. `secret` signs the deliveries: it is a
/// [`Secret`], so it never reaches a log, a report or the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub object: String,
    pub id: String,
    pub endpoint_url: String,
    pub secret: Secret,
    /// `enabled` or `disabled`.
    pub status: String,
    pub events: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookEndpoint {
    pub fn is_enabled(&self) -> bool {
        self.status == "enabled"
    }
}

/// `POST /webhook_endpoints`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateWebhookEndpoint {
    pub endpoint_url: String,
    pub events: Vec<String>,
}

/// `PATCH /webhook_endpoints/{id}`: omitted fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateWebhookEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_secret_never_prints() {
        let endpoint: WebhookEndpoint = serde_json::from_value(serde_json::json!({
            "object": "webhook_endpoint", "id": "we_1", "endpoint_url": "https://a.example/h",
            "secret": "whsec_topsecret", "status": "enabled", "events": ["user.created"],
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"
        }))
        .unwrap();
        assert!(endpoint.is_enabled());
        assert!(!format!("{endpoint:?}").contains("topsecret"));
        assert!(
            !serde_json::to_string(&endpoint)
                .unwrap()
                .contains("topsecret")
        );
    }
}
