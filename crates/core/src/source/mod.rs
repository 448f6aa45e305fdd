//! A Clerk user as ferry sees it: the API's record and the export's record,
//! joined on the Clerk id. Either may be missing; together they give
//! everything (the API: verification, social accounts, MFA flags, metadata;
//! the export: password digests and TOTP secrets).
//!
//! [`view::UserView`] is the `user` map hooks receive, built from it.

mod export_index;
pub mod read;
pub mod shared_users;
pub mod view;

use crate::support::reason::{Reason, ReasonCode};
use serde_json::{Map, Value};

use ferry_wire::clerk::export::ExportUser;
use ferry_wire::clerk::model::User;
use ferry_wire::secret::Secret;

#[derive(Debug, Clone)]
pub struct SourceUser {
    pub id: String,
    pub api: Option<User>,
    pub export: Option<ExportUser>,
}

/// The primary email and how ferry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primary {
    pub address: String,
    pub verified: bool,
}

/// Why a user has no usable primary email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoEmail {
    /// Signs in with a phone number only.
    PhoneOnly,
    /// Signs in with a username only.
    UsernameOnly,
    /// Neither email, phone nor username (e.g. social or web3 only without an email).
    NoIdentifier,
    /// The legacy export lists several addresses and nothing says which is primary.
    PrimaryUnknown(usize),
}

impl NoEmail {
    /// Why the user is skipped, as a reason.
    pub fn reason(&self) -> Reason {
        let code = match self {
            Self::PrimaryUnknown(_) => ReasonCode::PrimaryEmailUnknown,
            _ => ReasonCode::NoEmail,
        };
        Reason::new(code, self.to_string())
    }
}

impl std::fmt::Display for NoEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PhoneOnly => f.write_str("no email address (phone-only user)"),
            Self::UsernameOnly => f.write_str("no email address (username-only user)"),
            Self::NoIdentifier => f.write_str("no email address"),
            Self::PrimaryUnknown(n) => write!(
                f,
                "primary email unknown: the legacy export lists {n} addresses; give source.clerk.secret_key so ferry can ask Clerk"
            ),
        }
    }
}

/// A social sign-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthAccount {
    /// Without Clerk's `oauth_` prefix: `google`, `microsoft`, `github`, …
    pub provider: String,
    pub email: String,
}

impl SourceUser {
    pub fn primary(&self) -> Result<Primary, NoEmail> {
        if let Some(api) = &self.api {
            if let Some(email) = api.primary_email() {
                return Ok(Primary {
                    address: email.email_address.clone(),
                    verified: email.is_verified(),
                });
            }
            return Err(self.no_email_reason());
        }
        if let Some(export) = &self.export {
            if export.primary_ambiguous {
                return Err(NoEmail::PrimaryUnknown(export.verified_emails.len()));
            }
            if let Some(first) = export.emails().into_iter().next()
                && export.primary_email.is_some()
            {
                return Ok(Primary {
                    address: first.address,
                    verified: first.verified,
                });
            }
        }
        Err(self.no_email_reason())
    }

    fn no_email_reason(&self) -> NoEmail {
        // A number reserved for a second factor is not a way to sign in.
        let signs_in_by_phone = match (&self.api, &self.export) {
            (Some(api), _) => api
                .phone_numbers
                .iter()
                .any(|p| !p.reserved_for_second_factor),
            (None, Some(export)) => export.primary_phone.is_some(),
            (None, None) => false,
        };
        if signs_in_by_phone {
            NoEmail::PhoneOnly
        } else if self.username().is_some() {
            NoEmail::UsernameOnly
        } else {
            NoEmail::NoIdentifier
        }
    }

    /// Every email address with its verification, primary first.
    pub fn emails(&self) -> Vec<(String, bool)> {
        if let Some(api) = &self.api {
            let primary = api.primary_email_address_id.as_deref();
            let mut emails: Vec<_> = api.email_addresses.iter().collect();
            emails.sort_by_key(|e| e.id.as_deref() != primary);
            return emails
                .into_iter()
                .map(|e| (e.email_address.clone(), e.is_verified()))
                .collect();
        }
        self.export
            .as_ref()
            .map(|e| {
                e.emails()
                    .into_iter()
                    .map(|e| (e.address, e.verified))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn phone_numbers(&self) -> Vec<String> {
        if let Some(api) = &self.api {
            return api
                .phone_numbers
                .iter()
                .map(|p| p.phone_number.clone())
                .collect();
        }
        self.export
            .as_ref()
            .map(|e| {
                e.primary_phone
                    .iter()
                    .chain(&e.verified_phones)
                    .chain(&e.unverified_phones)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn pick<'a>(
        &'a self,
        api: impl Fn(&'a User) -> Option<&'a String>,
        export: impl Fn(&'a ExportUser) -> Option<&'a String>,
    ) -> Option<&'a str> {
        self.api
            .as_ref()
            .and_then(api)
            .or_else(|| self.export.as_ref().and_then(export))
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn first_name(&self) -> Option<&str> {
        self.pick(|a| a.first_name.as_ref(), |e| e.first_name.as_ref())
    }

    pub fn last_name(&self) -> Option<&str> {
        self.pick(|a| a.last_name.as_ref(), |e| e.last_name.as_ref())
    }

    pub fn username(&self) -> Option<&str> {
        self.pick(|a| a.username.as_ref(), |e| e.username.as_ref())
    }

    pub fn password_hasher(&self) -> Option<&str> {
        self.export
            .as_ref()
            .and_then(|e| e.password_hasher.as_deref())
    }

    pub fn password_digest(&self) -> Option<&Secret> {
        self.export
            .as_ref()
            .and_then(|e| e.password_digest.as_ref())
    }

    /// Clerk says the user has a password (only the API knows; the export has the digest).
    pub fn password_enabled(&self) -> bool {
        self.api
            .as_ref()
            .map_or_else(|| self.password_digest().is_some(), |a| a.password_enabled)
    }

    pub fn totp_secret(&self) -> Option<&Secret> {
        self.export.as_ref().and_then(|e| e.totp_secret.as_ref())
    }

    /// Uses an authenticator app (the API's flag, or a secret in the export).
    pub fn totp_enabled(&self) -> bool {
        self.api.as_ref().is_some_and(|a| a.totp_enabled) || self.totp_secret().is_some()
    }

    pub fn sms_second_factor(&self) -> bool {
        self.api
            .as_ref()
            .is_some_and(|a| a.sms_second_factor().is_some())
    }

    pub fn backup_codes(&self) -> bool {
        self.api.as_ref().map_or_else(
            || self.export.as_ref().is_some_and(|e| e.backup_codes_enabled),
            |a| a.backup_code_enabled,
        )
    }

    pub fn oauth_accounts(&self) -> Vec<OAuthAccount> {
        self.api
            .as_ref()
            .map(|a| {
                a.external_accounts
                    .iter()
                    .map(|x| OAuthAccount {
                        provider: x
                            .provider
                            .strip_prefix("oauth_")
                            .unwrap_or(&x.provider)
                            .to_owned(),
                        email: x.email_address.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn banned(&self) -> bool {
        self.api.as_ref().is_some_and(|a| a.banned)
    }

    pub fn locked(&self) -> bool {
        self.api.as_ref().is_some_and(|a| a.locked)
    }

    /// Public, private and unsafe metadata, from the API or the legacy export.
    pub fn metadata(&self) -> [Map<String, Value>; 3] {
        if let Some(api) = &self.api {
            return [
                api.public_metadata.clone(),
                api.private_metadata.clone().unwrap_or_default(),
                api.unsafe_metadata.clone(),
            ];
        }
        match self.export.as_ref().and_then(|e| e.metadata.as_ref()) {
            Some(m) => [m.public.clone(), m.private.clone(), m.unsafe_.clone()],
            None => Default::default(),
        }
    }
}
