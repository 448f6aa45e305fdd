//! The users step: every Clerk user to one WorkOS user, exactly once.
//!
//! Per user: journal lookup → mapping and `map_user` → one of
//! - unchanged: the journal says ferry wrote it and its fingerprint matches
//!   (no request at all);
//! - update: ferry wrote it before and the source changed (profile fields
//!   only, never the password unless the plan says `overwrite_passwords`);
//! - create: one write with the hash and `email_verified`; a conflict is
//!   resolved by looking the user up: found by external_id, it is ours (an
//!   earlier attempt whose answer was lost) and is adopted; found by email, it
//!   is someone else's and `on_conflict` decides.
//!
//! Then, for users with an exported TOTP secret, the factor is enrolled
//! (checked first whenever it might exist already, since enrollment is not
//! idempotent). Outcomes go to the recorder only after WorkOS confirmed them.
//!
//! The same code previews (`ferry plan`): it decides without writing, asking
//! WorkOS only read questions, or nothing at all when offline.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use super::recorder::Recorded;
use crate::journal::{Action, Journal, Kind, Outcome, RecordState};
use crate::mapping::claims::EmailClaims;
use crate::mapping::metadata;
use crate::mapping::password::PasswordPlan;
use crate::mapping::user::{DesiredUser, Mapped, Payload, UserSettings, map_user};
use crate::plan::ConflictPolicy;
use crate::script::{Hook, Outcome as HookOutcome, Script};
use crate::secret::Secret;
use crate::source::SourceUser;
use crate::workos::WorkosClient;
use crate::workos::model::{CreateUser, UpdateUser, User};

/// How the step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Writes to WorkOS.
    Write,
    /// Decides what a run would do; asks WorkOS read questions only.
    Preview,
    /// Decides from the journal and the mapping alone, without any request.
    Offline,
}

/// The step's fixed inputs, shared by every worker.
pub struct UsersStep<'a> {
    pub settings: UserSettings,
    pub script: Option<&'a Script>,
    /// The hook context (`ctx`) for this step.
    pub ctx: Value,
    pub workos: Option<&'a WorkosClient>,
    /// A read connection; writes go through the recorder.
    pub journal: &'a Mutex<Journal>,
    pub mode: Mode,
    /// Which Clerk user each email went to in this run.
    pub claims: Mutex<EmailClaims>,
}

/// What `ferry plan` reports for one user.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub clerk_id: String,
    pub email: Option<String>,
    pub action: PlannedAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlannedAction {
    Create,
    Update,
    Adopt,
    Unchanged,
    Skip,
    Reject,
    Fail,
}

impl PlannedAction {
    pub const ALL: [PlannedAction; 7] = [
        Self::Create,
        Self::Update,
        Self::Adopt,
        Self::Unchanged,
        Self::Skip,
        Self::Reject,
        Self::Fail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Adopt => "adopt",
            Self::Unchanged => "unchanged",
            Self::Skip => "skip",
            Self::Reject => "reject",
            Self::Fail => "fail",
        }
    }
}

/// The decision for one user, before (or instead of) writing.
enum Decision {
    Unchanged { target_id: String },
    Update { target_id: String },
    Create,
}

/// What a write (or a preview of it) came to.
struct Done {
    action: Action,
    target_id: Option<String>,
    attempts: u32,
    reason: Option<String>,
}

impl Done {
    fn ok(action: Action, target_id: String) -> Self {
        Self {
            action,
            target_id: Some(target_id),
            attempts: 1,
            reason: None,
        }
    }

    fn not(action: Action, reason: impl Into<String>) -> Self {
        Self {
            action,
            target_id: None,
            attempts: 1,
            reason: Some(reason.into()),
        }
    }

    fn failed(error: &crate::workos::WorkosError) -> Self {
        Self {
            action: Action::Failed,
            target_id: None,
            attempts: error.error.attempts,
            reason: Some(error.reason()),
        }
    }
}

impl UsersStep<'_> {
    fn lookup(&self, kind: Kind, id: &str) -> Option<RecordState> {
        let journal = self.journal.lock().expect("journal lock");
        match journal.record(kind, id) {
            Ok(state) => state,
            Err(error) => {
                tracing::warn!("journal lookup for {id}: {error}");
                None
            }
        }
    }

    /// Rejects a second Clerk user with an email another one already has.
    fn claim(&self, email: &str, clerk_id: &str) -> Result<(), String> {
        self.claims
            .lock()
            .expect("claims lock")
            .claim(email, clerk_id)
            .map_err(|owner| {
                format!(
                    "the same email as {owner}, which comes first; WorkOS allows one user per email"
                )
            })
    }

    fn workos(&self) -> &WorkosClient {
        self.workos.expect("a WorkOS client in online modes")
    }

    /// Writes one user (and its TOTP factor); returns what to record.
    pub async fn write(&self, user: &SourceUser) -> Vec<Recorded> {
        let email = user.primary().ok().map(|p| p.address);
        let record = |kind: Kind,
                      done: Done,
                      advances: bool,
                      fingerprint: Option<String>,
                      reset: Option<String>| Recorded {
            outcome: Outcome {
                kind,
                source_id: user.id.clone(),
                target_id: done.target_id,
                action: done.action,
                attempts: done.attempts,
                reason: done.reason.map(|r| scrub(&r, user)),
                fingerprint,
            },
            email: email.clone(),
            advances,
            password_reset: reset,
        };
        let desired = match map_user(user, &self.settings, self.script, &self.ctx) {
            Mapped::Skip(reason) => {
                return vec![record(
                    Kind::User,
                    Done::not(Action::Skipped, reason),
                    true,
                    None,
                    None,
                )];
            }
            Mapped::Reject(reason) => {
                return vec![record(
                    Kind::User,
                    Done::not(Action::Rejected, reason),
                    true,
                    None,
                    None,
                )];
            }
            Mapped::Ready(desired) => desired,
        };
        if let Err(reason) = self.claim(&desired.payload.email, &user.id) {
            return vec![record(
                Kind::User,
                Done::not(Action::Rejected, reason),
                true,
                None,
                None,
            )];
        }
        let fingerprint = desired.payload.fingerprint();
        let done = match self.decide(&user.id, &fingerprint) {
            Decision::Unchanged { target_id } => Done::ok(Action::Unchanged, target_id),
            Decision::Update { target_id } => {
                self.update(&target_id, &desired, Action::Updated).await
            }
            Decision::Create => self.create(&desired).await,
        };
        let fresh = done.action == Action::Created;
        let target = done
            .target_id
            .clone()
            .filter(|_| done.action.wrote_target());
        let reset = match (&desired.password, done.action) {
            (PasswordPlan::Reset { reason, hasher }, Action::Created) => {
                Some(if hasher.is_empty() {
                    reason.to_string()
                } else {
                    format!("{hasher}: {reason}")
                })
            }
            _ => None,
        };
        let mut out = vec![record(Kind::User, done, true, Some(fingerprint), reset)];
        if let (Some(target), Some(secret)) = (target, desired.totp_secret.as_ref()) {
            let totp = self
                .ensure_totp(&user.id, &target, secret, &desired.payload.email, fresh)
                .await;
            out.push(record(Kind::TotpFactor, totp, false, None, None));
        }
        out
    }

    /// Previews one user: what a run would do, and why.
    pub async fn preview(&self, user: &SourceUser) -> Planned {
        let email = user.primary().ok().map(|p| p.address);
        let planned = |action, reason: Option<String>, notes: Vec<String>| Planned {
            clerk_id: user.id.clone(),
            email: email.clone(),
            action,
            reason,
            notes,
        };
        if self.mode == Mode::Offline
            && let Some(previous) = self.lookup(Kind::User, &user.id)
        {
            // Offline sees only the export: fields that only the API carries
            // (banned, metadata, verification) cannot be compared, so what an
            // earlier run settled stands.
            if previous.action.wrote_target() {
                return planned(PlannedAction::Unchanged, None, Vec::new());
            }
            if previous.action == Action::Skipped {
                return planned(PlannedAction::Skip, previous.reason, Vec::new());
            }
        }
        let desired = match map_user(user, &self.settings, self.script, &self.ctx) {
            Mapped::Skip(reason) => return planned(PlannedAction::Skip, Some(reason), Vec::new()),
            Mapped::Reject(reason) => {
                return planned(PlannedAction::Reject, Some(reason), Vec::new());
            }
            Mapped::Ready(desired) => desired,
        };
        if let Err(reason) = self.claim(&desired.payload.email, &user.id) {
            return planned(PlannedAction::Reject, Some(reason), Vec::new());
        }
        let notes = desired.notes.clone();
        match self.decide(&user.id, &desired.payload.fingerprint()) {
            Decision::Unchanged { .. } => planned(PlannedAction::Unchanged, None, notes),
            Decision::Update { .. } => planned(
                PlannedAction::Update,
                Some("the Clerk record changed since it was migrated".into()),
                notes,
            ),
            Decision::Create if self.mode == Mode::Offline => {
                planned(PlannedAction::Create, None, notes)
            }
            Decision::Create => {
                let (action, reason) = self.preview_create(&desired).await;
                planned(action, reason, notes)
            }
        }
    }

    fn decide(&self, clerk_id: &str, fingerprint: &str) -> Decision {
        match self.lookup(Kind::User, clerk_id) {
            Some(RecordState {
                target_id: Some(target_id),
                action,
                fingerprint: previous,
                ..
            }) if action.wrote_target() => {
                if previous.as_deref() == Some(fingerprint) {
                    Decision::Unchanged { target_id }
                } else {
                    Decision::Update { target_id }
                }
            }
            _ => Decision::Create,
        }
    }

    async fn create(&self, desired: &DesiredUser) -> Done {
        let workos = self.workos();
        let payload = &desired.payload;
        let mut body = CreateUser {
            email: payload.email.clone(),
            first_name: payload.first_name.clone(),
            last_name: payload.last_name.clone(),
            email_verified: Some(payload.email_verified),
            external_id: Some(payload.external_id.clone()),
            metadata: metadata::to_body(&payload.metadata),
            ..CreateUser::default()
        };
        if let PasswordPlan::Import {
            hash_type, hash, ..
        } = &desired.password
        {
            body.password_hash = Some(hash.clone());
            body.password_hash_type = Some((*hash_type).to_owned());
        }
        match workos.create_user(&body).await {
            Ok(user) => Done::ok(Action::Created, user.id),
            Err(error) if is_conflict(&error) => self.resolve_conflict(desired).await,
            Err(error) => Done::failed(&error),
        }
    }

    /// After a create conflict: ours (by external_id) is adopted; someone
    /// else's (by email) goes to `on_conflict`.
    async fn resolve_conflict(&self, desired: &DesiredUser) -> Done {
        let workos = self.workos();
        let payload = &desired.payload;
        match workos.user_by_external_id(&payload.external_id).await {
            Ok(Some(ours)) => {
                return if profile_changes(&ours, payload, None).is_empty() {
                    Done::ok(Action::Adopted, ours.id)
                } else {
                    self.update(&ours.id, desired, Action::Adopted).await
                };
            }
            Ok(None) => {}
            Err(error) => return Done::failed(&error),
        }
        let existing = match workos.users_by_email(&payload.email).await {
            Ok(users) => users
                .into_iter()
                .find(|u| u.email.eq_ignore_ascii_case(&payload.email)),
            Err(error) => return Done::failed(&error),
        };
        let Some(existing) = existing else {
            return Done::not(
                Action::Failed,
                "WorkOS reported a conflict, but no user has this email or external_id",
            );
        };
        match self.conflict_decision(&existing, payload) {
            Ok(ConflictChoice::Update(fields)) => {
                let target = DesiredUser {
                    payload: fields,
                    ..desired.clone()
                };
                self.update(&existing.id, &target, Action::Updated).await
            }
            Ok(ConflictChoice::Skip) => Done::not(
                Action::Skipped,
                format!(
                    "a WorkOS user with this email already exists ({}); on_conflict: skip",
                    existing.id
                ),
            ),
            Ok(ConflictChoice::Fail) => Done::not(
                Action::Failed,
                format!(
                    "a WorkOS user with this email already exists ({}); on_conflict: fail",
                    existing.id
                ),
            ),
            Err(reason) => Done::not(Action::Rejected, reason),
        }
    }

    fn conflict_decision(
        &self,
        existing: &User,
        payload: &Payload,
    ) -> Result<ConflictChoice, String> {
        let hook = self.script.filter(|s| s.defines(Hook::OnConflict));
        let Some(script) = hook else {
            if let Some(other) = existing
                .external_id
                .as_deref()
                .filter(|e| *e != payload.external_id)
            {
                // Someone else's record (another Clerk user, or another system's):
                // taking it over would merge two people. Only a hook may decide that.
                return Err(format!(
                    "a WorkOS user with this email already exists ({}) and is linked to external_id {other}; ferry takes over only users without one (an on_conflict hook can decide otherwise)",
                    existing.id
                ));
            }
            return Ok(match self.settings.on_conflict {
                ConflictPolicy::Update => ConflictChoice::Update(payload.clone()),
                ConflictPolicy::Skip => ConflictChoice::Skip,
                ConflictPolicy::Fail => ConflictChoice::Fail,
            });
        };
        let existing_json = serde_json::to_value(existing).unwrap_or_default();
        let desired_json = payload.to_json();
        match script.call(
            Hook::OnConflict,
            &payload.external_id,
            &[&existing_json, &desired_json, &self.ctx],
        ) {
            Ok(HookOutcome::Skip) => Ok(ConflictChoice::Skip),
            Ok(HookOutcome::Value(Value::String(choice))) => match choice.as_str() {
                "update" => Ok(ConflictChoice::Update(payload.clone())),
                "skip" => Ok(ConflictChoice::Skip),
                "fail" => Ok(ConflictChoice::Fail),
                other => Err(format!(
                    "on_conflict returned \"{other}\"; expected \"update\", \"skip\", \"fail\" or a map"
                )),
            },
            Ok(HookOutcome::Value(Value::Object(fields))) => {
                let mut updated = payload.clone();
                crate::mapping::user::apply_changes(&mut updated, &fields, &desired_json)
                    .map_err(|e| e.replace("map_user", "on_conflict"))?;
                Ok(ConflictChoice::Update(updated))
            }
            Ok(HookOutcome::Value(other)) => Err(format!(
                "on_conflict returned {other}; expected a string or a map"
            )),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Updates profile fields that differ; the password only when the plan says so.
    async fn update(&self, target_id: &str, desired: &DesiredUser, action: Action) -> Done {
        let workos = self.workos();
        let current = match workos.user(target_id).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                return Done::not(
                    Action::Failed,
                    format!("WorkOS user {target_id} no longer exists"),
                );
            }
            Err(error) => return Done::failed(&error),
        };
        let password = self
            .settings
            .overwrite_passwords
            .then_some(&desired.password)
            .and_then(|p| match p {
                PasswordPlan::Import {
                    hash_type, hash, ..
                } => Some((*hash_type, hash)),
                _ => None,
            });
        let update = profile_changes(&current, &desired.payload, password);
        if update.is_empty() {
            return Done::ok(
                if action == Action::Updated {
                    Action::Unchanged
                } else {
                    action
                },
                current.id,
            );
        }
        match workos.update_user(&current.id, &update.0).await {
            Ok(user) => Done::ok(action, user.id),
            Err(error) => Done::failed(&error),
        }
    }

    async fn preview_create(&self, desired: &DesiredUser) -> (PlannedAction, Option<String>) {
        let workos = self.workos();
        let payload = &desired.payload;
        match workos.user_by_external_id(&payload.external_id).await {
            Ok(Some(ours)) => {
                return (
                    PlannedAction::Adopt,
                    Some(format!(
                        "already in WorkOS as {} (created by an earlier run)",
                        ours.id
                    )),
                );
            }
            Ok(None) => {}
            Err(error) => return (PlannedAction::Fail, Some(error.reason())),
        }
        let existing = match workos.users_by_email(&payload.email).await {
            Ok(users) => users
                .into_iter()
                .find(|u| u.email.eq_ignore_ascii_case(&payload.email)),
            Err(error) => return (PlannedAction::Fail, Some(error.reason())),
        };
        let Some(existing) = existing else {
            return (PlannedAction::Create, None);
        };
        let why = format!(
            "a WorkOS user with this email already exists ({})",
            existing.id
        );
        match self.conflict_decision(&existing, payload) {
            Ok(ConflictChoice::Update(_)) => (
                PlannedAction::Update,
                Some(format!("{why}; on_conflict: update")),
            ),
            Ok(ConflictChoice::Skip) => (
                PlannedAction::Skip,
                Some(format!("{why}; on_conflict: skip")),
            ),
            Ok(ConflictChoice::Fail) => (
                PlannedAction::Fail,
                Some(format!("{why}; on_conflict: fail")),
            ),
            Err(reason) => (PlannedAction::Reject, Some(reason)),
        }
    }

    /// Enrolls the exported TOTP secret once. A factor that may already exist
    /// (the user was adopted or updated, or an attempt's answer was lost) is
    /// looked for first, since a second enrollment would add a second factor.
    async fn ensure_totp(
        &self,
        clerk_id: &str,
        target_id: &str,
        secret: &Secret,
        label: &str,
        fresh: bool,
    ) -> Done {
        if let Some(previous) = self.lookup(Kind::TotpFactor, clerk_id)
            && previous.action.wrote_target()
            && let Some(factor) = previous.target_id
        {
            return Done::ok(Action::Unchanged, factor);
        }
        let workos = self.workos();
        let existing = async || match workos.auth_factors(target_id).await {
            Ok(factors) => Ok(factors.into_iter().find(|f| f.kind == "totp").map(|f| f.id)),
            Err(error) => Err(error),
        };
        if !fresh {
            match existing().await {
                Ok(Some(id)) => return Done::ok(Action::Adopted, id),
                Ok(None) => {}
                Err(error) => return Done::failed(&error),
            }
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            match workos
                .enroll_totp(target_id, secret, None, Some(label))
                .await
            {
                Ok(factor) => {
                    return Done {
                        attempts,
                        ..Done::ok(Action::Created, factor.id)
                    };
                }
                Err(error) if attempts < self.settings.max_attempts && outcome_unknown(&error) => {
                    // The request may have reached WorkOS: look before trying again.
                    match existing().await {
                        Ok(Some(id)) => return Done::ok(Action::Adopted, id),
                        Ok(None) => continue,
                        Err(error) => return Done::failed(&error),
                    }
                }
                Err(error) => {
                    return Done {
                        attempts,
                        ..Done::failed(&error)
                    };
                }
            }
        }
    }
}

enum ConflictChoice {
    Update(Payload),
    Skip,
    Fail,
}

/// The fields of `update` that differ from `current`, as an `UpdateUser`.
struct Changes(UpdateUser);

impl Changes {
    fn is_empty(&self) -> bool {
        let u = &self.0;
        u.email.is_none()
            && u.first_name.is_none()
            && u.last_name.is_none()
            && u.email_verified.is_none()
            && u.external_id.is_none()
            && u.metadata.is_none()
            && u.password_hash.is_none()
    }
}

fn profile_changes(
    current: &User,
    payload: &Payload,
    password: Option<(&str, &Secret)>,
) -> Changes {
    let differs = |a: &Option<String>, b: &Option<String>| {
        a.as_deref().unwrap_or("") != b.as_deref().unwrap_or("")
    };
    let mut update = UpdateUser::default();
    if !current.email.eq_ignore_ascii_case(&payload.email) {
        update.email = Some(payload.email.clone());
    }
    if differs(&current.first_name, &payload.first_name) {
        update.first_name = Some(payload.first_name.clone().unwrap_or_default());
    }
    if differs(&current.last_name, &payload.last_name) {
        update.last_name = Some(payload.last_name.clone().unwrap_or_default());
    }
    // Never un-verify: WorkOS may have verified the address since.
    if payload.email_verified && !current.email_verified {
        update.email_verified = Some(true);
    }
    if current.external_id.as_deref() != Some(payload.external_id.as_str()) {
        update.external_id = Some(payload.external_id.clone());
    }
    if current.metadata != payload.metadata {
        update.metadata = metadata::to_body(&payload.metadata);
    }
    if let Some((hash_type, hash)) = password {
        update.password_hash = Some(hash.clone());
        update.password_hash_type = Some(hash_type.to_owned());
    }
    Changes(update)
}

fn is_conflict(error: &crate::workos::WorkosError) -> bool {
    error.has_code("email_not_available")
        || error.has_code("external_id_already_used")
        || error.status() == Some(409)
}

/// Whether a failed request may still have been carried out by the server.
fn outcome_unknown(error: &crate::workos::WorkosError) -> bool {
    match error.status() {
        None => true,
        Some(status) => status >= 500 || status == 408,
    }
}

/// Removes a user's secrets from a message before it is stored or shown.
fn scrub(message: &str, user: &SourceUser) -> String {
    let mut text = message.to_owned();
    for secret in [user.password_digest(), user.totp_secret()]
        .into_iter()
        .flatten()
    {
        if !secret.is_empty() {
            text = text.replace(secret.expose(), "***");
        }
    }
    text
}
