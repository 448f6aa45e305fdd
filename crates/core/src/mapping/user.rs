//! The per-user pipeline up to the point of writing: built-in mapping, then
//! the `map_user` hook, then WorkOS's rules. The result says what to send,
//! or why the user is skipped or rejected, before any request is spent.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::metadata::{self, Flattened};
use super::password::{self, PasswordPlan, ResetReason};
use super::rules;
pub use crate::plan::UserSettings;
use crate::plan::{
    EmailVerifiedPolicy, InclusionPolicy, MetadataKind, OverLimitPolicy, PasswordPolicy, TotpPolicy,
};
use crate::script::{Hook, HookAnswer, Script, ScriptError};
use crate::source::SourceUser;
use crate::source::view::UserView;
use ferry_wire::secret::Secret;

/// The user's metadata (public, private, unsafe) of the kinds `settings`
/// include, flattened as WorkOS takes it (and what did not fit).
pub fn metadata_of(
    settings: &UserSettings,
    [public, private, unsafe_]: [&Map<String, Value>; 3],
) -> Flattened {
    let sources = settings.metadata.iter().map(|kind| match kind {
        MetadataKind::Public => public,
        MetadataKind::Private => private,
        MetadataKind::Unsafe => unsafe_,
    });
    metadata::flatten(sources)
}

/// The WorkOS profile fields ferry writes (the password travels separately).
/// A script test's `desired:` is read into it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Payload {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_verified: bool,
    pub external_id: String,
    pub metadata: BTreeMap<String, String>,
}

impl Payload {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// SHA-256 of the fields as written: a rerun compares it to notice
    /// source changes without asking WorkOS. Holds nothing secret.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.to_json().to_string().as_bytes()))
    }
}

/// Everything to send for one user.
#[derive(Debug, Clone)]
pub struct DesiredUser {
    pub payload: Payload,
    pub password: PasswordPlan,
    pub totp_secret: Option<Secret>,
    /// Why the exported TOTP secret cannot be enrolled (it is not Base32).
    pub totp_rejected: Option<Reason>,
    /// Things a person should know (metadata dropped, password not imported).
    pub notes: Vec<String>,
}

impl DesiredUser {
    /// What a rerun compares to notice a change: the profile fields, and
    /// whether a password can be imported (so a digest that becomes
    /// available later is noticed). Holds nothing secret.
    pub fn fingerprint(&self) -> String {
        let password = match &self.password {
            PasswordPlan::None => "none".to_owned(),
            PasswordPlan::Import { hash_type, .. } => format!("import:{hash_type}"),
            PasswordPlan::Reset { hasher, .. } => format!("reset:{hasher}"),
        };
        let text = format!("{}\n{password}", self.payload.to_json());
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[derive(Debug, Clone)]
pub enum Mapped {
    Ready(Box<DesiredUser>),
    Skip(Reason),
    Reject(Reason),
}

/// Maps one user. `conversions` say how each hash cohort is sent (what the
/// probes found); `ctx` is the hook context for the `users` step.
pub fn map_user(
    user: &SourceUser,
    settings: &UserSettings,
    conversions: &password::Conversions,
    script: Option<&Script>,
    ctx: &Value,
) -> Mapped {
    if user.banned() && settings.banned == InclusionPolicy::Skip {
        return Mapped::Skip(Reason::new(
            ReasonCode::Banned,
            "banned in Clerk (the plan skips banned users)",
        ));
    }
    if user.locked() && settings.locked == InclusionPolicy::Skip {
        return Mapped::Skip(Reason::new(
            ReasonCode::Locked,
            "locked in Clerk (the plan skips locked users)",
        ));
    }
    let view = UserView::of(user);
    let no_email = user.primary().err().map(|reason| reason.reason());
    let (payload, mut notes) = match profile(&view, no_email, settings, script, ctx) {
        Ok(profile) => profile,
        Err(refused) => return refused,
    };

    let password = match settings.passwords {
        PasswordPolicy::Skip if user.password_digest().is_some() => PasswordPlan::Reset {
            hasher: user.password_hasher().unwrap_or_default().to_owned(),
            reason: ResetReason::PlanSkips,
        },
        PasswordPolicy::Skip => PasswordPlan::None,
        PasswordPolicy::Import => {
            match password::plan(user.password_hasher(), user.password_digest(), conversions) {
                PasswordPlan::None if user.password_enabled() => PasswordPlan::Reset {
                    hasher: String::new(),
                    reason: ResetReason::Incomplete(
                        "Clerk has a password for this user but the export has no digest".into(),
                    ),
                },
                // A malformed digest is named by its export row.
                PasswordPlan::Reset {
                    hasher,
                    reason: ResetReason::Malformed(why),
                } => PasswordPlan::Reset {
                    hasher,
                    reason: ResetReason::Malformed(match user.export.as_ref() {
                        Some(row) => format!("{why} (export line {})", row.line),
                        None => why,
                    }),
                },
                plan => plan,
            }
        }
    };
    if let PasswordPlan::Reset { hasher, reason } = &password {
        let hasher = if hasher.is_empty() {
            String::new()
        } else {
            format!(" ({hasher})")
        };
        notes.push(format!(
            "password not imported{hasher}: {reason}; send a reset"
        ));
    }
    let (totp_secret, totp_rejected) = match settings.totp {
        TotpPolicy::Import => match user.totp_secret() {
            Some(secret) => match totp_secret_problem(secret) {
                None => (Some(secret.clone()), None),
                Some(problem) => (None, Some(problem)),
            },
            None => (None, None),
        },
        TotpPolicy::Skip => (None, None),
    };
    Mapped::Ready(Box::new(DesiredUser {
        payload,
        password,
        totp_secret,
        totp_rejected,
        notes,
    }))
}

/// The WorkOS profile fields of the user `view` shows: the built-in
/// mapping, then the `map_user` hook, then WorkOS's rules. `no_email` says
/// why the source has no email address, when it has none. A run sends what
/// this returns, and `ferry test` checks it with `expect_payload`; notes say
/// what a person should know (metadata dropped).
pub fn profile(
    view: &UserView,
    no_email: Option<Reason>,
    settings: &UserSettings,
    script: Option<&Script>,
    ctx: &Value,
) -> Result<(Payload, Vec<String>), Mapped> {
    let mut notes = Vec::new();
    let Flattened { values, dropped } = metadata_of(settings, view.metadata());
    if !dropped.is_empty() {
        let keys: Vec<_> = dropped
            .iter()
            .map(|d| format!("{} ({})", d.key, d.reason))
            .collect();
        if settings.over_limit == OverLimitPolicy::Reject {
            return Err(Mapped::Reject(Reason::new(
                ReasonCode::MetadataOverLimit,
                format!("metadata beyond WorkOS limits: {}", keys.join(", ")),
            )));
        }
        notes.push(format!("metadata dropped: {}", keys.join(", ")));
    }

    let mut payload = Payload {
        email: view.email.clone().unwrap_or_default(),
        first_name: view.first_name.clone(),
        last_name: view.last_name.clone(),
        email_verified: match settings.email_verified {
            EmailVerifiedPolicy::FromClerk => view.email.is_some() && view.email_verified,
            EmailVerifiedPolicy::Always => true,
            EmailVerifiedPolicy::Never => false,
        },
        external_id: view.id.clone(),
        metadata: values,
    };

    if let Some(script) = script.filter(|s| s.defines(Hook::MapUser)) {
        let json = view.to_json();
        match script.call(Hook::MapUser, &view.id, &[&json, ctx]) {
            Ok(HookAnswer::Skip(reason)) => {
                return Err(Mapped::Skip(Hook::MapUser.skipped(reason)));
            }
            Ok(HookAnswer::Value(Value::Object(changes))) => {
                if let Err(reason) = apply_changes(Hook::MapUser, &mut payload, &changes, &json) {
                    return Err(Mapped::Reject(reason));
                }
            }
            Ok(HookAnswer::Value(other)) => {
                return Err(Mapped::Reject(Reason::new(
                    ReasonCode::HookInvalidResult,
                    format!("map_user must return a map or (), it returned {other}"),
                )));
            }
            Err(error @ ScriptError::Rejected { .. }) => {
                return Err(Mapped::Reject(error.reason()));
            }
            Err(error) => return Err(Mapped::Reject(error.reason().within("script error"))),
        }
    }

    if payload.email.is_empty() {
        return Err(Mapped::Skip(match (&view.email, no_email) {
            (None, Some(reason)) => reason,
            (None, None) => Reason::new(ReasonCode::NoEmail, "no email address"),
            (Some(_), _) => Reason::new(ReasonCode::NoEmail, "map_user left the email empty"),
        }));
    }
    let checks = [
        rules::check_email(&payload.email),
        rules::check_external_id(&payload.external_id),
        rules::check_name("first_name", payload.first_name.as_deref()),
        rules::check_name("last_name", payload.last_name.as_deref()),
        metadata::check(&payload.metadata),
    ];
    if let Some(Err(reason)) = checks.into_iter().find(Result::is_err) {
        return Err(Mapped::Reject(reason));
    }
    Ok((payload, notes))
}

/// A settled conflict.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictChoice {
    /// Take the existing user over with these fields.
    Update(Payload),
    Skip,
    Fail,
}

/// The `on_conflict` hook's choice when WorkOS already holds `existing`
/// (a WorkOS user, as WorkOS lists it) under the email `desired` is for,
/// or why its answer cannot be used. A run and `ferry test`'s
/// `expect_payload` share it.
pub fn conflict_choice(
    script: &Script,
    existing: &Value,
    desired: &Payload,
    ctx: &Value,
) -> Result<ConflictChoice, Reason> {
    let desired_json = desired.to_json();
    match script.call(
        Hook::OnConflict,
        &desired.external_id,
        &[existing, &desired_json, ctx],
    ) {
        Ok(HookAnswer::Skip(_)) => Ok(ConflictChoice::Skip),
        Ok(HookAnswer::Value(Value::String(choice))) => match choice.as_str() {
            "update" => Ok(ConflictChoice::Update(desired.clone())),
            "skip" => Ok(ConflictChoice::Skip),
            "fail" => Ok(ConflictChoice::Fail),
            other => Err(Reason::new(
                ReasonCode::HookInvalidResult,
                format!(
                    "on_conflict returned \"{other}\"; expected \"update\", \"skip\", \"fail\" or a map"
                ),
            )),
        },
        Ok(HookAnswer::Value(Value::Object(fields))) => {
            let mut updated = desired.clone();
            apply_changes(Hook::OnConflict, &mut updated, &fields, &desired_json)
                .map(|()| ConflictChoice::Update(updated))
        }
        Ok(HookAnswer::Value(other)) => Err(Reason::new(
            ReasonCode::HookInvalidResult,
            format!("on_conflict returned {other}; expected a string or a map"),
        )),
        Err(error) => Err(error.reason()),
    }
}

/// Why an exported TOTP secret cannot be enrolled, if it cannot: WorkOS
/// takes RFC 4648 Base32, and anything else would be refused with a 422
/// (or, worse, enroll a factor no authenticator app produces codes for).
pub fn totp_secret_problem(secret: &Secret) -> Option<Reason> {
    let text: String = secret
        .expose()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect::<String>()
        .to_uppercase();
    match data_encoding::BASE32_NOPAD.decode(text.as_bytes()) {
        Ok(bytes) if !bytes.is_empty() => None,
        _ => Some(Reason::new(
            ReasonCode::TotpSecretInvalid,
            "the exported TOTP secret is not Base32, so no authenticator could match it; the user must set up MFA again",
        )),
    }
}

/// Applies a hook's returned fields. Keys that are not payload fields are
/// accepted only when the hook passed the input's own key back unchanged in
/// meaning (returning a modified `user` works); anything else is a typo.
pub fn apply_changes(
    hook: Hook,
    payload: &mut Payload,
    changes: &serde_json::Map<String, Value>,
    view: &Value,
) -> Result<(), Reason> {
    let invalid = |detail: String| Reason::new(ReasonCode::HookInvalidResult, detail);
    let text = |key: &str, value: &Value| -> Result<Option<String>, Reason> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            other => Err(invalid(format!(
                "{hook} returned `{key}` as {}, not a string",
                kind(other)
            ))),
        }
    };
    for (key, value) in changes {
        match key.as_str() {
            "email" => payload.email = text(key, value)?.unwrap_or_default(),
            "first_name" => payload.first_name = text(key, value)?,
            "last_name" => payload.last_name = text(key, value)?,
            "external_id" => {
                payload.external_id = text(key, value)?
                    .ok_or_else(|| invalid(format!("{hook} returned an empty external_id")))?;
            }
            "email_verified" => {
                payload.email_verified = value.as_bool().ok_or_else(|| {
                    invalid(format!(
                        "{hook} returned `email_verified` as {}, not true/false",
                        kind(value)
                    ))
                })?;
            }
            "metadata" => {
                let Value::Object(map) = value else {
                    return Err(invalid(format!(
                        "{hook} returned `metadata` as {}, not a map",
                        kind(value)
                    )));
                };
                payload.metadata = metadata::from_hook(map)?;
            }
            other if view.get(other).is_some() => {}
            other => {
                return Err(invalid(format!(
                    "{hook} returned unknown field `{other}` (WorkOS fields: email, first_name, last_name, email_verified, external_id, metadata)"
                )));
            }
        }
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "()",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a map",
    }
}
