//! What password authentication needs from the state: digest checks,
//! a user's factors and organizations, pending authentications, sign-ins.

use super::rules::user_not_found;
use super::{Outcome, PendingAuthentication, WorkosState, now};
use crate::hashes;
use ferry_wire::workos::model::{AuthenticationFactor, User};

impl WorkosState {
    /// The user with this email if `password` matches their digest.
    pub fn check_password(&self, email: &str, password: &str) -> Option<User> {
        let id = self.users_by_email.get(&email.to_lowercase())?;
        let stored = self.users.get(id)?;
        let (kind, digest) = stored.password.as_ref()?;
        hashes::verify(*kind, digest.expose(), password).then(|| stored.user.clone())
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
