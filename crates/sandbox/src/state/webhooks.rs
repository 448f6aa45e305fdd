//! Webhook endpoints: list, create (an HTTPS URL, known event types, one
//! endpoint per URL), update (`status` enabled/disabled, URL, events) and
//! delete. The imitation delivers nothing; it keeps the endpoints so that
//! a migration can find the enabled ones, pause them and enable them again.

use super::event_types::EVENT_TYPES;
use super::pagination::{ListQuery, cursor_page};
use super::{Failure, Outcome, WorkosState, now};
use ferry_wire::secret::Secret;
use ferry_wire::workos::events::{CreateWebhookEndpoint, UpdateWebhookEndpoint, WebhookEndpoint};
use ferry_wire::workos::model::List;

fn not_found(id: &str) -> Failure {
    Failure::CodedNotFound {
        code: "entity_not_found",
        message: format!("Webhook endpoint not found: '{id}'."),
    }
}

fn check_url(url: &str) -> Outcome<()> {
    let parsed = url::Url::parse(url).ok();
    if parsed.is_some_and(|u| u.scheme() == "https" && u.host_str().is_some()) {
        Ok(())
    } else {
        Err(Failure::Unprocessable {
            code: "invalid_url",
            message: "endpoint_url must be an HTTPS URL.".into(),
        })
    }
}

fn check_events(events: &[String]) -> Outcome<()> {
    let unknown: Vec<&String> = events
        .iter()
        .filter(|e| !EVENT_TYPES.contains(&e.as_str()))
        .collect();
    if events.is_empty() || !unknown.is_empty() {
        return Err(Failure::Validation {
            message: "Validation failed.".into(),
            errors: if unknown.is_empty() {
                vec![("required", "events needs at least one event type.".into())]
            } else {
                unknown
                    .iter()
                    .map(|e| ("unknown_event_type", format!("Unknown event type '{e}'.")))
                    .collect()
            },
        });
    }
    Ok(())
}

impl WorkosState {
    fn duplicate_endpoint(&self, url: &str, except: Option<&str>) -> Outcome<()> {
        let taken = self
            .webhooks
            .endpoints
            .values()
            .any(|e| e.endpoint_url == url && Some(e.id.as_str()) != except);
        if taken {
            return Err(Failure::Conflict {
                code: "duplicate_endpoint",
                message: "A webhook endpoint with this URL already exists.".into(),
            });
        }
        Ok(())
    }

    pub fn create_webhook_endpoint(
        &mut self,
        request: CreateWebhookEndpoint,
    ) -> Outcome<WebhookEndpoint> {
        check_url(&request.endpoint_url)?;
        check_events(&request.events)?;
        self.duplicate_endpoint(&request.endpoint_url, None)?;
        let id = self.next_id("we");
        let secret = Secret::new(format!("whsec_{}", self.token()));
        let timestamp = now();
        let endpoint = WebhookEndpoint {
            object: "webhook_endpoint".into(),
            id: id.clone(),
            endpoint_url: request.endpoint_url,
            secret,
            status: "enabled".into(),
            events: request.events,
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.webhooks.endpoints.insert(id, endpoint.clone());
        Ok(endpoint)
    }

    pub fn list_webhook_endpoints(&self, query: &ListQuery) -> List<WebhookEndpoint> {
        let endpoints = self
            .webhooks
            .endpoints
            .values()
            .map(|e| (e.id.as_str(), e))
            .collect();
        let page = cursor_page(endpoints, query);
        List {
            object: page.object,
            data: page.data.into_iter().cloned().collect(),
            list_metadata: page.list_metadata,
        }
    }

    pub fn update_webhook_endpoint(
        &mut self,
        id: &str,
        request: UpdateWebhookEndpoint,
    ) -> Outcome<WebhookEndpoint> {
        if !self.webhooks.endpoints.contains_key(id) {
            return Err(not_found(id));
        }
        if let Some(url) = &request.endpoint_url {
            check_url(url)?;
            self.duplicate_endpoint(url, Some(id))?;
        }
        if let Some(events) = &request.events {
            check_events(events)?;
        }
        if let Some(status) = &request.status
            && status != "enabled"
            && status != "disabled"
        {
            return Err(Failure::Validation {
                message: "Validation failed.".into(),
                errors: vec![(
                    "invalid_enum_value",
                    "status must be enabled or disabled.".into(),
                )],
            });
        }
        let endpoint = self
            .webhooks
            .endpoints
            .get_mut(id)
            .ok_or_else(|| not_found(id))?;
        if let Some(url) = request.endpoint_url {
            endpoint.endpoint_url = url;
        }
        if let Some(events) = request.events {
            endpoint.events = events;
        }
        if let Some(status) = request.status {
            endpoint.status = status;
        }
        endpoint.updated_at = now();
        Ok(endpoint.clone())
    }

    pub fn delete_webhook_endpoint(&mut self, id: &str) -> Outcome<()> {
        self.webhooks
            .endpoints
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| not_found(id))
    }
}
