//! The `user` map hooks receive, as a type: the runtime builds it from a
//! [`SourceUser`], a script test reads it from the test's `input:` (every
//! field the runtime adds is there, missing ones take their empty value,
//! and an unknown one is a typo), and `ferry hooks` prints its shape from
//! the same definition. It says which hasher a password uses and whether a
//! TOTP secret was exported, but never carries the digest or the secret.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SourceUser;

/// A Clerk user as a hook sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UserView {
    /// Clerk's id (`user_…`); the WorkOS `external_id` unless a hook changes it.
    pub id: String,
    /// The primary email address; `()` when the user has none.
    pub email: Option<String>,
    /// Whether Clerk verified the primary email address.
    pub email_verified: bool,
    /// Every email address, the primary one included.
    pub emails: Vec<EmailView>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// Phone numbers a user signs in with (not those kept for a second factor).
    pub phone_numbers: Vec<String>,
    pub public_metadata: Map<String, Value>,
    pub private_metadata: Map<String, Value>,
    pub unsafe_metadata: Map<String, Value>,
    /// The hasher of the exported password digest (`bcrypt`, `argon2id`, …); never the digest.
    pub password_hasher: Option<String>,
    /// Whether the user has a password in Clerk or in the export.
    pub has_password: bool,
    /// Whether the user has an authenticator app (TOTP) second factor.
    pub totp: bool,
    /// Whether the export holds that factor's secret (the secret itself is never shown).
    pub totp_exported: bool,
    /// Whether the user has an SMS second factor (WorkOS cannot take it).
    pub sms_second_factor: bool,
    /// Whether the user has backup codes (WorkOS cannot take them).
    pub backup_codes: bool,
    /// Social sign-in accounts.
    pub oauth: Vec<OAuthView>,
    pub banned: bool,
    pub locked: bool,
    /// Clerk's own `external_id` of the user, if any.
    pub external_id: Option<String>,
    /// Milliseconds since 1970, from Clerk's API (`()` when only the export is known).
    pub created_at: Option<i64>,
    /// Milliseconds since 1970; `()` when the user never signed in.
    pub last_sign_in_at: Option<i64>,
}

/// One of a user's email addresses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EmailView {
    pub email: String,
    pub verified: bool,
}

/// A social sign-in account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthView {
    /// Without Clerk's `oauth_` prefix: `google`, `microsoft`, `github`, …
    pub provider: String,
    pub email: String,
}

impl UserView {
    pub fn of(user: &SourceUser) -> Self {
        let primary = user.primary().ok();
        let [public_metadata, private_metadata, unsafe_metadata] = user.metadata();
        Self {
            id: user.id.clone(),
            email: primary.as_ref().map(|p| p.address.clone()),
            email_verified: primary.as_ref().is_some_and(|p| p.verified),
            emails: user
                .emails()
                .into_iter()
                .map(|(email, verified)| EmailView { email, verified })
                .collect(),
            first_name: user.first_name().map(str::to_owned),
            last_name: user.last_name().map(str::to_owned),
            username: user.username().map(str::to_owned),
            phone_numbers: user.phone_numbers(),
            public_metadata,
            private_metadata,
            unsafe_metadata,
            password_hasher: user.password_hasher().map(str::to_owned),
            has_password: user.password_enabled() || user.password_digest().is_some(),
            totp: user.totp_enabled(),
            totp_exported: user.totp_secret().is_some(),
            sms_second_factor: user.sms_second_factor(),
            backup_codes: user.backup_codes(),
            oauth: user
                .oauth_accounts()
                .into_iter()
                .map(|a| OAuthView {
                    provider: a.provider,
                    email: a.email,
                })
                .collect(),
            banned: user.banned(),
            locked: user.locked(),
            external_id: user.api.as_ref().and_then(|a| a.external_id.clone()),
            created_at: user.api.as_ref().map(|a| a.created_at),
            last_sign_in_at: user.api.as_ref().and_then(|a| a.last_sign_in_at),
        }
    }

    /// Public, private and unsafe metadata, in that order.
    pub fn metadata(&self) -> [&Map<String, Value>; 3] {
        [
            &self.public_metadata,
            &self.private_metadata,
            &self.unsafe_metadata,
        ]
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}
