//! Webhook endpoints: list, create (an HTTPS URL, known event types, one
//! endpoint per URL), update (`status` enabled/disabled, URL, events) and
//! delete. The imitation delivers nothing; it keeps the endpoints so that
//! a migration can find the enabled ones, pause them and enable them again.

use std::collections::BTreeMap;

use super::pagination::{ListQuery, cursor_page};
use super::{Failure, Outcome, WorkosState, now};
use ferry_wire::secret::Secret;
use ferry_wire::workos::events::{CreateWebhookEndpoint, UpdateWebhookEndpoint, WebhookEndpoint};
use ferry_wire::workos::model::List;

#[derive(Debug, Default)]
pub(super) struct Webhooks {
    endpoints: BTreeMap<String, WebhookEndpoint>,
}

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

/// Every event type a webhook endpoint may subscribe to: the `events`
/// enum of the spec's `CreateWebhookEndpointDto`.
pub const EVENT_TYPES: &[&str] = &[
    "agent.registration.created",
    "agent.registration.claim.attempt.created",
    "agent.registration.claim.completed",
    "agent.registration.credential.issued",
    "agent.registration.deleted",
    "agent.registration.refreshed",
    "agent.registration.expired",
    "agent.registration.organization.switched",
    "agent.registration.revoked",
    "authentication.email_verification_succeeded",
    "authentication.magic_auth_failed",
    "authentication.magic_auth_succeeded",
    "authentication.mfa_succeeded",
    "authentication.oauth_failed",
    "authentication.oauth_succeeded",
    "authentication.password_failed",
    "authentication.password_succeeded",
    "authentication.passkey_failed",
    "authentication.passkey_succeeded",
    "authentication.sso_failed",
    "authentication.sso_started",
    "authentication.sso_succeeded",
    "authentication.sso_timed_out",
    "radar.challenge_created",
    "authentication.radar_risk_detected",
    "authentication.reauthentication_succeeded",
    "api_key.created",
    "api_key.revoked",
    "api_key.updated",
    "connection.activated",
    "connection.deactivated",
    "connection.saml_certificate_renewal_required",
    "connection.saml_certificate_renewed",
    "connection.deleted",
    "dsync.activated",
    "dsync.deleted",
    "dsync.group.created",
    "dsync.group.deleted",
    "dsync.group.updated",
    "dsync.group.user_added",
    "dsync.group.user_removed",
    "dsync.user.created",
    "dsync.user.deleted",
    "dsync.user.updated",
    "email_verification.created",
    "group.created",
    "group.deleted",
    "group.member_added",
    "group.member_removed",
    "group.updated",
    "flag.created",
    "flag.deleted",
    "flag.updated",
    "flag.rule_updated",
    "invitation.accepted",
    "invitation.created",
    "invitation.resent",
    "invitation.revoked",
    "magic_auth.created",
    "organization.created",
    "organization.deleted",
    "organization.updated",
    "organization_domain.created",
    "organization_domain.deleted",
    "organization_domain.updated",
    "organization_domain.verified",
    "organization_domain.verification_failed",
    "password_reset.created",
    "password_reset.succeeded",
    "user.created",
    "user.updated",
    "user.deleted",
    "organization_membership.created",
    "organization_membership.deleted",
    "organization_membership.updated",
    "role.created",
    "role.deleted",
    "role.updated",
    "organization_role.created",
    "organization_role.deleted",
    "organization_role.updated",
    "permission.created",
    "permission.deleted",
    "permission.updated",
    "pipes.connected_account.connected",
    "pipes.connected_account.connection_failed",
    "pipes.connected_account.disconnected",
    "pipes.connected_account.reauthorization_needed",
    "session.created",
    "session.revoked",
    "waitlist_user.approved",
    "waitlist_user.created",
    "waitlist_user.denied",
];
