//! TOTP factors (enrolled with an imported secret or a generated one),
//! challenges, and their verification.

use super::pagination::{ListQuery, cursor_page, map_page};
use super::{Failure, Outcome, StoredChallenge, StoredFactor, WorkosState, now};
use crate::totp;
use ferry_wire::secret::Secret;
use ferry_wire::workos::model::{
    AuthenticationChallenge, AuthenticationFactor, EnrollAuthFactor, List, TotpDetails,
};

impl WorkosState {
    pub fn enroll_factor(
        &mut self,
        user_id: &str,
        request: EnrollAuthFactor,
    ) -> Outcome<(AuthenticationFactor, AuthenticationChallenge)> {
        let user = self.user(user_id)?;
        if request.kind != "totp" {
            return Err(Failure::InvalidRequest(format!(
                "type must be 'totp', not '{}'",
                request.kind
            )));
        }
        let secret = match request.totp_secret {
            Some(secret) => {
                totp::validate_secret(secret.expose())
                    .map_err(|error| Failure::InvalidRequest(error.to_string()))?;
                secret
            }
            None => Secret::new(self.token()),
        };
        let id = self.next_id("auth_factor");
        let timestamp = now();
        let issuer = request.totp_issuer.unwrap_or_else(|| "WorkOS".into());
        let account = request.totp_user.unwrap_or_else(|| user.email.clone());
        let uri = format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}",
            secret.expose()
        );
        let factor = AuthenticationFactor {
            object: "authentication_factor".into(),
            id: id.clone(),
            kind: "totp".into(),
            user_id: Some(user.id.clone()),
            totp: Some(TotpDetails {
                issuer,
                user: account,
                secret: None,
                qr_code: None,
                uri: None,
            }),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.factors.insert(
            id.clone(),
            StoredFactor {
                factor: factor.clone(),
                secret: secret.clone(),
            },
        );
        let challenge = self.challenge(&id)?;
        // Only the enrollment answer reveals the secret, as WorkOS does.
        let mut revealed = factor;
        if let Some(details) = revealed.totp.as_mut() {
            details.secret = Some(secret);
            details.qr_code = Some("data:image/png;base64,".into());
            details.uri = Some(Secret::new(uri));
        }
        Ok((revealed, challenge))
    }

    pub fn factors_of(
        &self,
        user_id: &str,
        query: &ListQuery,
    ) -> Outcome<List<AuthenticationFactor>> {
        self.user(user_id)?;
        let factors = self
            .factors
            .values()
            .filter(|f| f.factor.user_id.as_deref() == Some(user_id))
            .map(|f| (f.factor.id.as_str(), &f.factor));
        Ok(map_page(
            cursor_page(factors.collect(), query),
            AuthenticationFactor::clone,
        ))
    }

    pub fn factor(&self, id: &str) -> Outcome<AuthenticationFactor> {
        self.factors
            .get(id)
            .map(|f| f.factor.clone())
            .ok_or_else(|| Failure::NotFound(format!("Authentication Factor not found: '{id}'.")))
    }

    /// Deletes a factor (`DELETE /auth/factors/{id}`); its challenges go with it.
    pub fn delete_factor(&mut self, id: &str) -> Outcome<()> {
        self.factor(id)?;
        self.factors.remove(id);
        self.challenges
            .retain(|_, c| c.challenge.authentication_factor_id != id);
        Ok(())
    }

    pub fn challenge(&mut self, factor_id: &str) -> Outcome<AuthenticationChallenge> {
        self.factor(factor_id)?;
        let id = self.next_id("auth_challenge");
        let timestamp = now();
        let challenge = AuthenticationChallenge {
            object: "authentication_challenge".into(),
            id: id.clone(),
            // The spec types it as a string: a TOTP challenge lasts as long as WorkOS's (10 minutes).
            expires_at: Some(
                (chrono::Utc::now() + chrono::Duration::minutes(10))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
            authentication_factor_id: factor_id.to_owned(),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.challenges.insert(
            id,
            StoredChallenge {
                challenge: challenge.clone(),
                verified: false,
            },
        );
        Ok(challenge)
    }

    /// Checks a TOTP code against the challenge's factor; a challenge passes once.
    pub fn verify_challenge(
        &mut self,
        challenge_id: &str,
        code: &str,
    ) -> Outcome<(AuthenticationChallenge, bool)> {
        let Some(stored) = self.challenges.get(challenge_id).cloned() else {
            return Err(Failure::NotFound(format!(
                "Authentication Challenge not found: '{challenge_id}'."
            )));
        };
        if stored.verified {
            return Err(Failure::BadRequest {
                code: "authentication_challenge_previously_verified",
                message: "The authentication challenge has already been verified.".into(),
            });
        }
        let Some(factor) = self.factors.get(&stored.challenge.authentication_factor_id) else {
            return Err(Failure::NotFound("Authentication Factor not found.".into()));
        };
        let valid = totp::verify_at(factor.secret.expose(), code, totp::now_seconds());
        if valid && let Some(entry) = self.challenges.get_mut(challenge_id) {
            entry.verified = true;
        }
        Ok((stored.challenge, valid))
    }

    /// The user a challenge belongs to.
    pub fn challenge_user(&self, challenge_id: &str) -> Option<String> {
        let stored = self.challenges.get(challenge_id)?;
        let factor = self
            .factors
            .get(&stored.challenge.authentication_factor_id)?;
        factor.factor.user_id.clone()
    }
}
