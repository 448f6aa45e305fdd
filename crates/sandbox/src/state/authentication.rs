//! What password authentication needs from the state: digest checks,
//! a user's factors and organizations, pending authentications, sign-ins.

use super::rules::user_not_found;
use super::{Outcome, PendingAuthentication, StoredUser, WorkosState, now};
use crate::hashes;
use ferry_wire::workos::model::{AuthenticationFactor, User};

impl WorkosState {
    /// The user with this email if `password` matches their digest; either
    /// way the attempt is an `authentication.password_succeeded` or
    /// `authentication.password_failed` event, shaped as the spec defines
    /// them (the failure's `user_id` is null for an unknown email).
    pub fn check_password(&mut self, email: &str, password: &str) -> Option<User> {
        let known = self
            .users_by_email
            .get(&email.to_lowercase())
            .and_then(|id| self.users.get(id));
        let signed_in = known.and_then(|stored| self.password_matches(stored, password));
        let user_id = known.map(|stored| stored.user.id.clone());
        let email = known.map_or_else(|| email.to_owned(), |stored| stored.user.email.clone());
        let (event, data) = match &signed_in {
            Some(_) => (
                "authentication.password_succeeded",
                serde_json::json!({
                    "type": "password", "status": "succeeded", "ip_address": null,
                    "user_agent": null, "user_id": user_id, "email": email,
                }),
            ),
            None => (
                "authentication.password_failed",
                serde_json::json!({
                    "type": "password", "status": "failed", "ip_address": null,
                    "user_agent": null, "user_id": user_id, "email": email,
                    "error": {"code": "invalid_credentials", "message": "Invalid credentials."},
                }),
            ),
        };
        self.events.record(event, &data, None);
        signed_in
    }

    fn password_matches(&self, stored: &StoredUser, password: &str) -> Option<User> {
        let stored_password = stored.password.as_ref()?;
        hashes::verify(
            stored_password.kind,
            stored_password.digest.expose(),
            password,
            stored_password.position,
        )
        .then(|| stored.user.clone())
    }

    pub fn totp_factors_of(&self, user_id: &str) -> Vec<AuthenticationFactor> {
        self.factors
            .values()
            .filter(|f| f.factor.user_id.as_deref() == Some(user_id))
            .map(|f| f.factor.clone())
            .collect()
    }

    pub fn start_pending(&mut self, user_id: &str, mfa_passed: bool) -> String {
        let token = self.token();
        self.pending.insert(
            token.clone(),
            PendingAuthentication {
                user_id: user_id.to_owned(),
                mfa_passed,
            },
        );
        token
    }

    /// Puts back a pending authentication after a failed attempt.
    pub fn restore_pending(&mut self, token: &str, pending: PendingAuthentication) {
        self.pending.insert(token.to_owned(), pending);
    }

    pub fn take_pending(&mut self, token: &str) -> Option<PendingAuthentication> {
        self.pending.remove(token)
    }

    pub fn record_sign_in(&mut self, user_id: &str) -> Outcome<User> {
        let Some(stored) = self.users.get_mut(user_id) else {
            return Err(user_not_found(user_id));
        };
        stored.user.last_sign_in_at = Some(now());
        Ok(stored.user.clone())
    }
}
