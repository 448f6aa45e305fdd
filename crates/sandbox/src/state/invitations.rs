//! Invitations (`/user_management/invitations`), as the spec's
//! `UserlandUserInvitesController` has them: send (with the spec's
//! refusals, in the order below), read by id or token, list, revoke,
//! resend, accept. A pending invitation whose `expires_at` has passed is
//! `expired`. The sandbox sends no mail: every invitation made and every
//! resend appends one [`SentEmail`] instead, at the moment the real API
//! would send it, so a request whose answer is lost still leaves its record
//! and a refused one leaves none.

use chrono::{Duration, SecondsFormat, Utc};

use super::invited::{InvitationAnswer, SentEmail};
use super::pagination::{ListQuery, cursor_page, map_page};
use super::rules::{user_not_found, validate_email, validate_locale};
use super::{Failure, Outcome, StoredInvitation, WorkosState};
use ferry_wire::workos::invitation::{CreateInvitation, EXPIRES_IN_DAYS, Invitation};
use ferry_wire::workos::model::{CreateOrganizationMembership, List};

/// How long an invitation lasts unless `expires_in_days` says otherwise.
const DEFAULT_EXPIRES_IN_DAYS: u32 = 7;

/// Where an invitation's link points: the sandbox's own stand-in for an
/// application's invitation page.
const ACCEPT_URL: &str = "https://sandbox.invalid/invite?invitation_token=";

fn invitation_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("Invitation not found: '{id}'."))
}

fn refused(code: &'static str, message: &str) -> Failure {
    Failure::BadRequest {
        code,
        message: message.to_owned(),
    }
}

/// A locale shaped as the spec's list has them (`en`, `pt-BR`, `es-419`);
/// the create and resend routes list no 400 for it, so it is a 422.
fn check_locale(locale: Option<&str>) -> Outcome<()> {
    match locale.map(validate_locale) {
        Some(Err(_)) => Err(Failure::InvalidRequest(
            "locale must be a supported locale".into(),
        )),
        _ => Ok(()),
    }
}

fn timestamp(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl StoredInvitation {
    /// `pending`, unless `expires` has passed: then `expired`.
    fn state(&self, now: chrono::DateTime<Utc>) -> &str {
        match self.invitation.state.as_str() {
            "pending" if self.expires <= now => "expired",
            state => state,
        }
    }

    /// The invitation as it stands at `now`.
    fn current(&self, now: chrono::DateTime<Utc>) -> Invitation {
        let mut invitation = self.invitation.clone();
        invitation.state = self.state(now).to_owned();
        invitation
    }

    fn answer(&self, now: chrono::DateTime<Utc>) -> InvitationAnswer {
        InvitationAnswer {
            invitation: self.current(now),
            token: self.token.clone(),
            accept_invitation_url: format!("{ACCEPT_URL}{}", self.token),
        }
    }
}

impl WorkosState {
    /// `POST /user_management/invitations`. Checked in this order: the
    /// email (422), `expires_in_days` (400 too short or too long), the
    /// locale (422), a `role_slug` without an organization (422), the
    /// organization (404) and the inviter (404), the role (400
    /// `invalid_role`), then the address: a member of the organization
    /// already (400 `user_already_organization_member`), or for an
    /// invitation in no organization a user already (400
    /// `user_already_exists`), or invited and still pending (400
    /// `email_already_invited_to_organization`, `email_already_invited`).
    pub fn create_invitation(&mut self, request: CreateInvitation) -> Outcome<InvitationAnswer> {
        let email = validate_email(&request.email)?;
        let days = request.expires_in_days.unwrap_or(DEFAULT_EXPIRES_IN_DAYS);
        if days < *EXPIRES_IN_DAYS.start() {
            return Err(refused(
                "expires_in_days_too_short",
                "expires_in_days must be at least 1.",
            ));
        }
        if days > *EXPIRES_IN_DAYS.end() {
            return Err(refused(
                "expires_in_days_too_long",
                "expires_in_days must be at most 30.",
            ));
        }
        check_locale(request.locale.as_deref())?;
        if request.role_slug.is_some() && request.organization_id.is_none() {
            return Err(Failure::InvalidRequest(
                "role_slug needs an organization_id".into(),
            ));
        }
        let organization_id = match &request.organization_id {
            Some(id) => Some(self.organization(id)?.id),
            None => None,
        };
        if let Some(inviter) = &request.inviter_user_id
            && !self.users.contains_key(inviter)
        {
            return Err(user_not_found(inviter));
        }
        let role_slug = match &organization_id {
            Some(organization_id) => {
                let slug = request.role_slug.unwrap_or_else(|| "member".into());
                // The same check as a membership's, answered 400 as this route's spec lists it.
                self.check_membership_role(organization_id, &slug).map_err(
                    |failure| match failure {
                        Failure::Unprocessable { code, message } => {
                            Failure::BadRequest { code, message }
                        }
                        other => other,
                    },
                )?;
                Some(slug)
            }
            None => None,
        };
        self.check_invitee(&email, organization_id.as_deref())?;

        let now = Utc::now();
        let expires = now + Duration::days(i64::from(days));
        let id = self.next_id("invitation");
        let token = self.token();
        let invitation = Invitation {
            object: "invitation".into(),
            id: id.clone(),
            email: email.clone(),
            state: "pending".into(),
            accepted_at: None,
            revoked_at: None,
            expires_at: timestamp(expires),
            organization_id,
            inviter_user_id: request.inviter_user_id,
            accepted_user_id: None,
            role_slug,
            created_at: timestamp(now),
            updated_at: timestamp(now),
        };
        let stored = StoredInvitation {
            invitation,
            token: token.clone(),
            expires,
        };
        self.invitations
            .by_email
            .entry(email)
            .or_default()
            .insert(id.clone());
        self.invitations.by_token.insert(token, id.clone());
        let answer = stored.answer(now);
        self.invitations.by_id.insert(id, stored);
        self.events.record(
            "invitation.created",
            &answer.invitation,
            answer.invitation.organization_id.as_deref(),
        );
        self.send_email("invitation", &answer.invitation);
        Ok(answer)
    }

    /// Refuses an address that is a member already, a user already (for an
    /// invitation in no organization), or invited and still pending in the
    /// same organization (or in none).
    fn check_invitee(&self, email: &str, organization_id: Option<&str>) -> Outcome<()> {
        let user_id = self.users_by_email.get(email);
        match (organization_id, user_id) {
            (Some(organization_id), Some(user_id)) => {
                if self.is_member(user_id, organization_id) {
                    return Err(refused(
                        "user_already_organization_member",
                        "The user is already a member of this organization.",
                    ));
                }
            }
            (None, Some(_)) => {
                return Err(refused(
                    "user_already_exists",
                    "A user with this email already exists.",
                ));
            }
            (_, None) => {}
        }
        let now = Utc::now();
        let pending = self
            .invitations
            .by_email
            .get(email)
            .into_iter()
            .flatten()
            .filter_map(|id| self.invitations.by_id.get(id))
            .any(|stored| {
                stored.state(now) == "pending"
                    && stored.invitation.organization_id.as_deref() == organization_id
            });
        match (pending, organization_id) {
            (false, _) => Ok(()),
            (true, Some(_)) => Err(refused(
                "email_already_invited_to_organization",
                "An invitation to this email for this organization is already pending.",
            )),
            (true, None) => Err(refused(
                "email_already_invited",
                "An invitation to this email is already pending.",
            )),
        }
    }

    /// Whether the user has a membership of the organization, whatever its status.
    fn is_member(&self, user_id: &str, organization_id: &str) -> bool {
        self.memberships_by_user
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.memberships.get(id))
            .any(|m| m.organization_id == organization_id)
    }

    /// Records the email the real API would send now.
    fn send_email(&mut self, kind: &str, invitation: &Invitation) {
        let emails = &mut self.invitations.emails;
        emails.push(SentEmail {
            sequence: emails.len() as u64 + 1,
            to: invitation.email.clone(),
            kind: kind.to_owned(),
            invitation_id: invitation.id.clone(),
            organization_id: invitation.organization_id.clone(),
            at: timestamp(Utc::now()),
        });
    }

    /// Every email sent since the state was last reset, oldest first.
    pub fn sent_emails(&self) -> Vec<SentEmail> {
        self.invitations.emails.clone()
    }

    fn stored_invitation(&self, id: &str) -> Outcome<&StoredInvitation> {
        self.invitations
            .by_id
            .get(id)
            .ok_or_else(|| invitation_not_found(id))
    }

    pub fn invitation(&self, id: &str) -> Outcome<InvitationAnswer> {
        Ok(self.stored_invitation(id)?.answer(Utc::now()))
    }

    /// `GET …/invitations/by_token/{token}`. The refusal does not repeat
    /// the token: it opens the invitation to whoever holds it.
    pub fn invitation_by_token(&self, token: &str) -> Outcome<InvitationAnswer> {
        self.invitations
            .by_token
            .get(token)
            .and_then(|id| self.invitations.by_id.get(id))
            .map(|stored| stored.answer(Utc::now()))
            .ok_or_else(|| Failure::NotFound("Invitation not found.".into()))
    }

    /// `GET /user_management/invitations`: optionally of one organization
    /// and one address (any case), in creation order.
    pub fn list_invitations(
        &self,
        query: &ListQuery,
        organization_id: Option<&str>,
        email: Option<&str>,
    ) -> List<InvitationAnswer> {
        let now = Utc::now();
        let invitations = &self.invitations;
        let selected: Vec<(&str, &StoredInvitation)> = match email {
            Some(email) => invitations
                .by_email
                .get(&email.trim().to_lowercase())
                .into_iter()
                .flatten()
                .filter_map(|id| invitations.by_id.get_key_value(id))
                .map(|(id, stored)| (id.as_str(), stored))
                .collect(),
            None => invitations
                .by_id
                .iter()
                .map(|(id, stored)| (id.as_str(), stored))
                .collect(),
        };
        let selected = selected
            .into_iter()
            .filter(|(_, stored)| {
                organization_id
                    .is_none_or(|id| stored.invitation.organization_id.as_deref() == Some(id))
            })
            .collect();
        map_page(cursor_page(selected, query), |stored| stored.answer(now))
    }

    /// `POST …/{id}/revoke`: a pending invitation becomes `revoked`;
    /// any other (accepted, revoked, expired) is the spec's 400
    /// `invite_not_pending`.
    pub fn revoke_invitation(&mut self, id: &str) -> Outcome<InvitationAnswer> {
        let now = Utc::now();
        let stored = self.pending_invitation(id, now)?;
        stored.invitation.state = "revoked".into();
        stored.invitation.revoked_at = Some(timestamp(now));
        stored.invitation.updated_at = timestamp(now);
        let answer = stored.answer(now);
        self.events.record(
            "invitation.revoked",
            &answer.invitation,
            answer.invitation.organization_id.as_deref(),
        );
        Ok(answer)
    }

    /// `POST …/{id}/resend`: a pending invitation's email again (its token
    /// and expiry stay); an expired, revoked or accepted one is refused
    /// with the spec's `invite_expired`, `invite_revoked`, `invite_accepted`.
    pub fn resend_invitation(
        &mut self,
        id: &str,
        locale: Option<&str>,
    ) -> Outcome<InvitationAnswer> {
        check_locale(locale)?;
        let now = Utc::now();
        let stored = self
            .invitations
            .by_id
            .get_mut(id)
            .ok_or_else(|| invitation_not_found(id))?;
        match stored.state(now) {
            "expired" => return Err(refused("invite_expired", "Invite has expired.")),
            "revoked" => return Err(refused("invite_revoked", "Invite has been revoked.")),
            "accepted" => {
                return Err(refused(
                    "invite_accepted",
                    "Invite has already been accepted.",
                ));
            }
            _ => {}
        }
        stored.invitation.updated_at = timestamp(now);
        let answer = stored.answer(now);
        self.events.record(
            "invitation.resent",
            &answer.invitation,
            answer.invitation.organization_id.as_deref(),
        );
        self.send_email("invitation_resend", &answer.invitation);
        Ok(answer)
    }

    /// `POST …/{id}/accept`: a pending invitation is accepted by the user
    /// with its address, who becomes a member of its organization with its
    /// role (unless a member already). With no such user the sandbox
    /// answers 400 `invalid_invite`: it has no sign-up to make one.
    pub fn accept_invitation(&mut self, id: &str) -> Outcome<InvitationAnswer> {
        let now = Utc::now();
        let stored = self.pending_invitation(id, now)?;
        let (email, organization_id, role_slug) = (
            stored.invitation.email.clone(),
            stored.invitation.organization_id.clone(),
            stored.invitation.role_slug.clone(),
        );
        let Some(user_id) = self.users_by_email.get(&email).cloned() else {
            return Err(refused(
                "invalid_invite",
                "No user has this invitation's email.",
            ));
        };
        if let Some(organization_id) = organization_id
            && !self.is_member(&user_id, &organization_id)
        {
            self.create_membership(CreateOrganizationMembership {
                user_id: user_id.clone(),
                organization_id,
                role_slug,
                role_slugs: None,
            })?;
        }
        let stored = self.pending_invitation(id, now)?;
        stored.invitation.state = "accepted".into();
        stored.invitation.accepted_at = Some(timestamp(now));
        stored.invitation.accepted_user_id = Some(user_id);
        stored.invitation.updated_at = timestamp(now);
        let answer = stored.answer(now);
        self.events.record(
            "invitation.accepted",
            &answer.invitation,
            answer.invitation.organization_id.as_deref(),
        );
        Ok(answer)
    }

    /// The invitation, if it is pending now; else 404 or 400 `invite_not_pending`.
    fn pending_invitation(
        &mut self,
        id: &str,
        now: chrono::DateTime<Utc>,
    ) -> Outcome<&mut StoredInvitation> {
        let stored = self
            .invitations
            .by_id
            .get_mut(id)
            .ok_or_else(|| invitation_not_found(id))?;
        if stored.state(now) != "pending" {
            return Err(refused("invite_not_pending", "Invite is not pending."));
        }
        Ok(stored)
    }

    /// Removes the invitations of a deleted organization (their emails stay
    /// sent).
    pub(super) fn remove_invitations_of(&mut self, organization_id: &str) {
        let invitations = &mut self.invitations;
        invitations.by_id.retain(|_, stored| {
            stored.invitation.organization_id.as_deref() != Some(organization_id)
        });
        let by_id = &invitations.by_id;
        invitations.by_token.retain(|_, id| by_id.contains_key(id));
        for ids in invitations.by_email.values_mut() {
            ids.retain(|id| by_id.contains_key(id));
        }
    }

    /// Every invitation as it stands now, without its token (the admin dump).
    pub(super) fn dumped_invitations(&self) -> Vec<Invitation> {
        let now = Utc::now();
        self.invitations
            .by_id
            .values()
            .map(|stored| stored.current(now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_wire::workos::model::CreateOrganization;

    fn invite(
        state: &mut WorkosState,
        email: &str,
        organization_id: &str,
    ) -> Outcome<InvitationAnswer> {
        state.create_invitation(CreateInvitation {
            email: email.into(),
            organization_id: Some(organization_id.into()),
            ..CreateInvitation::default()
        })
    }

    /// Ages an invitation past its expiry, as days of waiting would.
    fn lapse(state: &mut WorkosState, id: &str) {
        let stored = state.invitations.by_id.get_mut(id).unwrap();
        stored.expires = Utc::now() - Duration::seconds(1);
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_is_expired() {
        let mut state = WorkosState::default();
        let organization = state
            .create_organization(CreateOrganization {
                name: "Acme".into(),
                ..CreateOrganization::default()
            })
            .unwrap();
        let sent = invite(&mut state, "late@acme.test", &organization.id).unwrap();
        let id = sent.invitation.id.clone();
        lapse(&mut state, &id);

        assert_eq!(state.invitation(&id).unwrap().invitation.state, "expired");
        let listed = state.list_invitations(
            &ListQuery {
                limit: 10,
                ..ListQuery::default()
            },
            None,
            Some("late@acme.test"),
        );
        assert_eq!(listed.data[0].invitation.state, "expired");
        assert_eq!(state.dump().invitations[0].state, "expired");
        let code = |outcome: Outcome<InvitationAnswer>| match outcome {
            Err(Failure::BadRequest { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(state.resend_invitation(&id, None)), "invite_expired");
        assert_eq!(code(state.revoke_invitation(&id)), "invite_not_pending");
        assert_eq!(code(state.accept_invitation(&id)), "invite_not_pending");
        // An expired invitation is no longer pending: the address may be invited again.
        let again = invite(&mut state, "late@acme.test", &organization.id).unwrap();
        assert_eq!(again.invitation.state, "pending");
        let kinds: Vec<String> = state.sent_emails().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["invitation", "invitation"]);
    }
}
