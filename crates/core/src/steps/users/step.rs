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
//! With `--reconcile` the step first lists every WorkOS user
//! ([`crate::target::reconcile`]): the journal's ids are judged against the listing
//! (gone: made again; someone else's now: never written to; changed
//! outside ferry: reported), and who holds an external_id or email is
//! answered from the listing instead of one read per user.
//!
//! The same code previews (`ferry plan`): it decides without writing, asking
//! WorkOS only read questions, or nothing at all when offline. Write and
//! preview share one sequence (map → claim → gather facts → [`decide`]);
//! only what they do with the decision differs.

use std::sync::Mutex;

use serde_json::Value;

use super::decide::{
    Decision, Facts, OnConflict, Target, decide, drift_reason, profile_changes, settle_update,
};
use super::seal::{Seal, Sealed, SealedAs, Seals};
use super::settled::SettledUsers;
use crate::journal::{Action, Journal, Kind, Outcome, RecordState, SignsIn};
use crate::mapping::claims::{Claim, ClaimedBy, Claims, email_identity};
use crate::mapping::metadata;
use crate::mapping::password::{Conversions, PasswordPlan};
use crate::mapping::user::{DesiredUser, Mapped, Payload, UserSettings, map_user};
use crate::report::outcome::{Planned, PlannedAction};
use crate::script::{Hook, Script};
use crate::source::SourceUser;
use crate::steps::recorder::Recorded;
use crate::steps::seen::Seen;
use crate::support::reason::{Reason, ReasonCode};
use crate::target::reconcile::{Listing, Standing, standing};
use crate::workos::client::{WorkosClient, WorkosError};
use ferry_wire::redact;
use ferry_wire::secret::Secret;
use ferry_wire::workos::model::{CreateUser, User};

/// How the step runs. Writing and previewing need WorkOS, so they carry its client.
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    /// Writes to WorkOS.
    Write(&'a WorkosClient),
    /// Decides what a run would do; asks WorkOS read questions only.
    Preview(&'a WorkosClient),
    /// Decides from the journal and the mapping alone, without any request.
    Offline,
}

/// The step's fixed inputs, shared by every worker.
pub struct UsersStep<'a> {
    pub settings: UserSettings,
    /// How each hash cohort is sent: what the probes found ([`super::probe`]).
    pub conversions: Conversions,
    /// Attempts at a create whose answer was lost (the plan's pacing).
    pub max_attempts: u32,
    pub script: Option<&'a Script>,
    /// The hook context (`ctx`) for this step.
    pub ctx: Value,
    /// A read connection; writes go through the recorder.
    pub journal: &'a Mutex<Journal>,
    pub mode: Mode<'a>,
    /// Which Clerk user each email and external_id went to in this run.
    pub claims: Mutex<Claims>,
    /// Every WorkOS user, listed before the step (`--reconcile`); `None`
    /// believes the journal.
    pub listing: Option<Listing<User>>,
    /// When writing: seals to keep, and the users earlier runs sealed
    /// (none with a listing, which is asked instead).
    pub seals: Option<Seals>,
    /// In a sync: where the ids of the users listed go (see `crate::sync`).
    pub seen: Option<&'a Seen>,
    /// When writing: where the users settled from their seals are told.
    pub settled_users: Option<&'a SettledUsers>,
}

/// What a write (or a preview of it) came to.
struct Done {
    action: Action,
    target_id: Option<String>,
    attempts: u32,
    reason: Option<Reason>,
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

    fn not(action: Action, reason: Reason) -> Self {
        Self {
            action,
            target_id: None,
            attempts: 1,
            reason: Some(reason),
        }
    }

    fn failed(error: &WorkosError) -> Self {
        Self {
            action: Action::Failed,
            target_id: None,
            attempts: error.error.attempts,
            reason: Some(error.reason()),
        }
    }
}

/// What the shared first half of write and preview came to.
enum Prepared {
    /// Settled before any request: skipped, rejected, or a claim lost.
    Settled(PlannedAction, Action, Reason),
    Ready {
        desired: Box<DesiredUser>,
        fingerprint: String,
        journal: Option<RecordState>,
    },
}

impl<'a> UsersStep<'a> {
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

    /// Whether the journal holds this Clerk user as migrated to WorkOS.
    pub fn migrated(&self, clerk_id: &str) -> bool {
        self.lookup(Kind::User, clerk_id)
            .is_some_and(|r| r.action.wrote_target() && r.target_id.is_some())
    }

    /// Rejects a second Clerk user with an email or external_id another one
    /// already has: WorkOS holds one user per email and per external_id.
    fn claim(&self, payload: &Payload, clerk_id: &str) -> Result<(), Reason> {
        let mut claims = self.claims.lock().expect("claims lock");
        claims
            .claim(Claim::Email(&payload.email), clerk_id)
            .map_err(|ClaimedBy(owner)| {
                Reason::new(
                    ReasonCode::EmailClaimed,
                    format!(
                        "the same email as {owner}, which comes first; WorkOS allows one user per email"
                    ),
                )
            })?;
        claims
            .claim(Claim::ExternalId(&payload.external_id), clerk_id)
            .map_err(|ClaimedBy(owner)| {
                Reason::new(
                    ReasonCode::ExternalIdClaimed,
                    format!(
                        "the same external_id as {owner} (`{}`), which comes first: two people would become one WorkOS user",
                        payload.external_id
                    ),
                )
            })
    }

    /// Map, claim, and read the journal: what write and preview both start from.
    fn prepare(&self, user: &SourceUser) -> Prepared {
        let desired = match map_user(
            user,
            &self.settings,
            &self.conversions,
            self.script,
            &self.ctx,
        ) {
            Mapped::Skip(reason) => {
                return Prepared::Settled(PlannedAction::Skip, Action::Skipped, reason);
            }
            Mapped::Reject(reason) => {
                return Prepared::Settled(PlannedAction::Reject, Action::Rejected, reason);
            }
            Mapped::Ready(desired) => desired,
        };
        if let Err(reason) = self.claim(&desired.payload, &user.id) {
            return Prepared::Settled(PlannedAction::Reject, Action::Rejected, reason);
        }
        Prepared::Ready {
            fingerprint: desired.fingerprint(),
            desired,
            journal: self.lookup(Kind::User, &user.id),
        }
    }

    /// The facts before WorkOS is asked anything (with a listing, all of
    /// them: the listing answers what WorkOS holds).
    fn facts<'f>(
        &'f self,
        journal: Option<&'f RecordState>,
        fingerprint: &'f str,
        payload: &'f Payload,
    ) -> Facts<'f> {
        let facts = Facts {
            journal,
            listed: self.listed(journal, payload),
            fingerprint,
            payload,
            target: Target::NotAsked,
            conflicted: false,
            on_conflict: OnConflict::Policy(self.settings.on_conflict),
        };
        // A journal record the listing confirms settles the user: who else
        // holds its email is not asked (nor the on_conflict hook).
        let settled = journal.is_some_and(|r| r.action.wrote_target() && r.target_id.is_some())
            && facts.listed.trusted();
        match &self.listing {
            Some(listing) if !settled => {
                let target = match listing.by_external_id(&payload.external_id) {
                    Some(ours) => Target::Ours(ours),
                    None => listing
                        .by_email(&payload.email)
                        .map_or(Target::Absent, Target::Taken),
                };
                self.facts_with(facts, target, false)
            }
            _ => facts,
        }
    }

    /// What the listing (if any) says of the journal's id for this user.
    fn listed<'f>(
        &'f self,
        journal: Option<&RecordState>,
        payload: &Payload,
    ) -> Standing<'f, User> {
        match journal.and_then(|r| r.target_id.as_deref()) {
            Some(target_id) => standing(self.listing.as_ref(), target_id, &payload.external_id),
            None => Standing::Believed,
        }
    }

    /// Writes one user (and its TOTP factor); returns what to record.
    pub async fn write(&self, user: &SourceUser) -> Vec<Recorded> {
        let Mode::Write(workos) = self.mode else {
            unreachable!("write is called in write mode only");
        };
        let seal = self.seals.as_ref().map(|s| s.sealer.seal(user));
        // A sealed user is counted without a request or a text of its own.
        if let Some(settled) = seal.and_then(|seal| self.settled(user, seal)) {
            if let Some(settled_users) = self.settled_users {
                settled_users.add(&user.id);
            }
            return settled;
        }
        // While this user is in flight, no text (an error body that echoes
        // the request, a reason) can carry its digest or TOTP secret. (Held
        // only past the seal: holding takes a global lock and makes a few
        // spellings of each secret, for each of a million sealed users.)
        let _held: Vec<redact::Held> = [user.password_digest(), user.totp_secret()]
            .into_iter()
            .flatten()
            .map(redact::hold)
            .collect();
        let email = user.primary().ok().map(|p| p.address);
        let record = |kind: Kind,
                      done: Done,
                      advances: bool,
                      fingerprint: Option<String>,
                      reset: Option<Reason>| Recorded {
            outcome: Outcome {
                kind,
                source_id: user.id.clone(),
                target_id: done.target_id,
                action: done.action,
                attempts: done.attempts,
                reason: done.reason.map(|r| Reason {
                    detail: redact::redact(&r.detail).into_owned(),
                    ..r
                }),
                fingerprint,
            },
            email: email.clone(),
            advances,
            password_reset: reset,
            settled: false,
            signs_in: None,
            hasher: None,
            seal: None,
        };
        let (desired, fingerprint, journal) = match self.prepare(user) {
            Prepared::Settled(_, action, reason) => {
                let mut skipped = record(Kind::User, Done::not(action, reason), true, None, None);
                // A skip comes from the record and the mapping alone (a
                // reject may come from a claim: it is decided again).
                if action == Action::Skipped {
                    skipped.seal = seal.map(|seal| {
                        Sealed {
                            seal,
                            email_claim: 0,
                            external_id_claim: 0,
                            state: SealedAs::Skipped,
                        }
                        .stored()
                    });
                }
                return vec![skipped];
            }
            Prepared::Ready {
                desired,
                fingerprint,
                journal,
            } => (desired, fingerprint, journal),
        };
        let facts = self.facts(journal.as_ref(), &fingerprint, &desired.payload);
        let stale = journal
            .as_ref()
            .filter(|r| r.action.wrote_target())
            .and_then(|r| r.target_id.as_deref())
            .and_then(|id| facts.listed.why_stale("user", id));
        let mut done = match decide(&facts) {
            Decision::Create => self.create(workos, &desired, &facts).await,
            decision => self.apply(workos, decision, &desired).await,
        };
        if let Some(stale) = stale.filter(|_| done.action.wrote_target()) {
            done.reason = Some(Reason {
                detail: format!("{}; settled again", stale.detail),
                ..stale
            });
        }
        let target = done
            .target_id
            .clone()
            .filter(|_| done.action.wrote_target());
        let reset = match (&desired.password, done.action) {
            // Made by ferry (now, or by an attempt whose answer was lost).
            (PasswordPlan::Reset { reason, hasher }, Action::Created | Action::Adopted) => {
                let why = Reason::new(reason.code(), reason.to_string());
                Some(match hasher.is_empty() {
                    true => why,
                    false => why.within(hasher),
                })
            }
            _ => None,
        };
        // How the user signs in now; left out (the journal keeps what it
        // had) where this write did not touch the password.
        let made = matches!(done.action, Action::Created | Action::Adopted);
        let signs_in = match &desired.password {
            _ if !done.action.wrote_target() => None,
            PasswordPlan::Import { .. } if made || self.settings.overwrite_passwords => {
                Some(SignsIn::Password)
            }
            PasswordPlan::Reset { .. } if made => Some(SignsIn::Reset),
            PasswordPlan::None if made => Some(SignsIn::NoPassword),
            _ => None,
        };
        // The factor first, the user last: a user's seal is committed only
        // after what it vouches for (the recorder commits in order).
        let mut out = Vec::new();
        if let (Some(_), Some(reason)) = (&target, &desired.totp_rejected) {
            out.push(record(
                Kind::TotpFactor,
                Done::not(Action::Rejected, reason.clone()),
                false,
                None,
                None,
            ));
        }
        let mut factor_settled = desired.totp_secret.is_none();
        if let (Some(target), Some(secret)) = (&target, desired.totp_secret.as_ref()) {
            let totp = self
                .ensure_totp(
                    workos,
                    &user.id,
                    target,
                    secret,
                    &desired.payload.email,
                    done.action,
                )
                .await;
            factor_settled = totp.action.wrote_target();
            out.push(record(Kind::TotpFactor, totp, false, None, None));
        }
        let sealed = seal.filter(|_| {
            target.is_some()
                && done.reason.is_none()
                && factor_settled
                && desired.totp_rejected.is_none()
        });
        let mut user_record = record(Kind::User, done, true, Some(fingerprint), reset);
        user_record.hasher = signs_in.and_then(|_| match &desired.password {
            PasswordPlan::Import { hasher, .. } | PasswordPlan::Reset { hasher, .. } => {
                Some(hasher.clone()).filter(|hasher| !hasher.is_empty())
            }
            PasswordPlan::None => None,
        });
        user_record.signs_in = signs_in;
        user_record.seal = sealed.map(|seal| {
            Sealed {
                seal,
                email_claim: Claims::key(Claim::Email(&desired.payload.email)),
                external_id_claim: Claims::key(Claim::ExternalId(&desired.payload.external_id)),
                state: SealedAs::Migrated {
                    factor: desired.totp_secret.is_some(),
                },
            }
            .stored()
        });
        out.push(user_record);
        out
    }

    /// A user sealed by an earlier run whose seal still holds: counted
    /// unchanged (with its factor) after claiming what the full path would
    /// claim, or skipped again (the journal keeps its reason), or `None` to take the full path (no seal, another seal, or a
    /// claim an earlier user now holds, which the full path rejects).
    fn settled(&self, user: &SourceUser, seal: Seal) -> Option<Vec<Recorded>> {
        let sealed = self.seals.as_ref()?.sealed.matching(&user.id, seal)?;
        let factor = match sealed.state {
            SealedAs::Migrated { factor } => factor,
            SealedAs::Skipped => false,
        };
        let action = match sealed.state {
            SealedAs::Migrated { .. } => {
                let mut claims = self.claims.lock().expect("claims lock");
                claims.claim_key(sealed.email_claim, &user.id).ok()?;
                claims.claim_key(sealed.external_id_claim, &user.id).ok()?;
                Action::Unchanged
            }
            SealedAs::Skipped => Action::Skipped,
        };
        let mut out = Vec::with_capacity(2);
        if factor {
            out.push(Recorded::settled(
                Kind::TotpFactor,
                &user.id,
                Action::Unchanged,
                false,
            ));
        }
        out.push(Recorded::settled(Kind::User, &user.id, action, true));
        Some(out)
    }

    /// Previews one user: what a run would do, and why.
    pub async fn preview(&self, user: &SourceUser) -> Planned {
        let email = user.primary().ok().map(|p| p.address);
        let planned =
            |(action, reason): (PlannedAction, Option<Reason>), notes: Vec<String>| Planned {
                clerk_id: user.id.clone(),
                email: email.clone(),
                action,
                reason,
                notes,
                enrolls_totp: false,
            };
        if matches!(self.mode, Mode::Offline)
            && let Some(previous) = self.lookup(Kind::User, &user.id)
        {
            // Offline sees only the export: fields that only the API carries
            // (banned, metadata, verification) cannot be compared, so what an
            // earlier run settled stands.
            if previous.action.wrote_target() {
                return planned((PlannedAction::Unchanged, None), Vec::new());
            }
            if previous.action == Action::Skipped {
                return planned((PlannedAction::Skip, previous.reason), Vec::new());
            }
        }
        let (desired, fingerprint, journal) = match self.prepare(user) {
            Prepared::Settled(action, _, reason) => {
                return planned((action, Some(reason)), Vec::new());
            }
            Prepared::Ready {
                desired,
                fingerprint,
                journal,
            } => (desired, fingerprint, journal),
        };
        let notes = desired.notes.clone();
        let facts = self.facts(journal.as_ref(), &fingerprint, &desired.payload);
        let decision = match (decide(&facts), self.mode) {
            (Decision::Create, Mode::Preview(workos)) if self.listing.is_none() => {
                match self.find(workos, &desired.payload).await {
                    Ok(found) => {
                        let facts = self.facts_with(facts, Found::target(found.as_ref()), false);
                        decide(&facts)
                    }
                    Err(error) => Decision::Fail {
                        reason: error.reason(),
                    },
                }
            }
            (decision, _) => decision,
        };
        let mut planned = planned(decision.planned(), notes);
        // The factor goes with the user, as `ensure_totp` decides: a user
        // made afresh gets one whatever the journal says; another gets one
        // unless the journal holds it.
        planned.enrolls_totp = desired.totp_secret.is_some()
            && match planned.action {
                PlannedAction::Create => true,
                PlannedAction::Update | PlannedAction::Adopt | PlannedAction::Unchanged => self
                    .lookup(Kind::TotpFactor, &user.id)
                    .is_none_or(|factor| !factor.action.wrote_target()),
                _ => false,
            };
        planned
    }

    /// Who in WorkOS has this user's external_id, or else its email.
    async fn find(
        &self,
        workos: &WorkosClient,
        payload: &Payload,
    ) -> Result<Option<Found>, WorkosError> {
        if let Some(ours) = workos.user_by_external_id(&payload.external_id).await? {
            return Ok(Some(Found::Ours(ours)));
        }
        let existing = workos
            .users_by_email(&payload.email)
            .await?
            .into_iter()
            .find(|u| email_identity(&u.email) == email_identity(&payload.email));
        Ok(existing.map(Found::Taken))
    }

    /// `facts` with what WorkOS was found to hold; asks the `on_conflict`
    /// hook when the user is someone else's and the script defines one.
    fn facts_with<'f>(&self, facts: Facts<'f>, target: Target<'f>, conflicted: bool) -> Facts<'f> {
        let on_conflict = match target {
            Target::Taken(existing) => self.on_conflict(existing, facts.payload),
            _ => facts.on_conflict,
        };
        Facts {
            target,
            conflicted,
            on_conflict,
            ..facts
        }
    }

    /// The `on_conflict` hook's decision, or the plan's policy without one.
    fn on_conflict(&self, existing: &User, payload: &Payload) -> OnConflict {
        let Some(script) = self.script.filter(|s| s.defines(Hook::OnConflict)) else {
            return OnConflict::Policy(self.settings.on_conflict);
        };
        let existing = serde_json::to_value(existing).unwrap_or_default();
        let choice = crate::mapping::user::conflict_choice(script, &existing, payload, &self.ctx);
        match choice {
            Ok(choice) => OnConflict::Hook(choice),
            Err(reason) => OnConflict::HookRefused(reason),
        }
    }

    /// Creates the user; a conflict is looked up and decided again.
    async fn create(
        &self,
        workos: &WorkosClient,
        desired: &DesiredUser,
        facts: &Facts<'_>,
    ) -> Done {
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
            hash_type,
            hash,
            salt_position,
            ..
        } = &desired.password
        {
            body.password_hash = Some(hash.clone());
            body.password_hash_type = Some((*hash_type).to_owned());
            body.password_salt_position = salt_position.map(str::to_owned);
        }
        match workos.create_user(&body).await {
            Ok(user) if answers_for(&user, payload) => Done::ok(Action::Created, user.id),
            Ok(other) => {
                // The answer names someone else: taking its id would put
                // this person's factor and memberships on them. Look.
                match workos.user_by_external_id(&payload.external_id).await {
                    Ok(Some(ours)) if answers_for(&ours, payload) => Done {
                        reason: Some(Reason::new(
                            ReasonCode::AmbiguousCreateAnswer,
                            format!(
                                "ambiguous_create_answer: WorkOS answered the create with user {}; the user with this person's external_id is {}",
                                other.id, ours.id
                            ),
                        )),
                        ..Done::ok(Action::Created, ours.id)
                    },
                    Ok(_) => Done::not(
                        Action::Failed,
                        Reason::new(
                            ReasonCode::AmbiguousCreateAnswer,
                            format!(
                                "ambiguous_create_answer: WorkOS answered the create with user {}, not this person, and no user carries their external_id",
                                other.id
                            ),
                        ),
                    ),
                    Err(error) => Done::failed(&error),
                }
            }
            Err(error) if is_conflict(&error) => {
                let found = match self.find(workos, payload).await {
                    Ok(found) => found,
                    Err(error) => return Done::failed(&error),
                };
                let facts = self.facts_with(facts.clone(), Found::target(found.as_ref()), true);
                self.apply(workos, decide(&facts), desired).await
            }
            Err(error) => Done::failed(&error),
        }
    }

    /// Carries out a decision that needs no create.
    async fn apply(
        &self,
        workos: &WorkosClient,
        decision: Decision,
        desired: &DesiredUser,
    ) -> Done {
        match decision {
            Decision::Unchanged { target_id } => Done::ok(Action::Unchanged, target_id),
            Decision::Drifted { target_id, fields } => Done {
                reason: Some(drift_reason(&fields)),
                ..Done::ok(Action::Unchanged, target_id)
            },
            Decision::Adopt { target_id } => Done::ok(Action::Adopted, target_id),
            Decision::Update { target_id } => {
                self.update(
                    workos,
                    &target_id,
                    desired,
                    Action::Updated,
                    Believed::Journal,
                )
                .await
            }
            Decision::AdoptAndUpdate { target_id } => {
                self.update(
                    workos,
                    &target_id,
                    desired,
                    Action::Adopted,
                    Believed::Found,
                )
                .await
            }
            Decision::TakeOver { target_id, payload } => {
                let target = DesiredUser {
                    payload,
                    ..desired.clone()
                };
                self.update(
                    workos,
                    &target_id,
                    &target,
                    Action::Updated,
                    Believed::Found,
                )
                .await
            }
            Decision::Skip { reason } => Done::not(Action::Skipped, reason),
            Decision::Fail { reason } => Done::not(Action::Failed, reason),
            Decision::Reject { reason } => Done::not(Action::Rejected, reason),
            Decision::Create => Done::not(
                Action::Failed,
                Reason::new(
                    ReasonCode::ConflictUnresolved,
                    "a create was decided after a conflict; not retried",
                ),
            ),
        }
    }

    /// Updates profile fields that differ; the password only when the plan says so.
    async fn update(
        &self,
        workos: &WorkosClient,
        target_id: &str,
        desired: &DesiredUser,
        action: Action,
        believed: Believed,
    ) -> Done {
        let current = match workos.user(target_id).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                return Done::not(
                    Action::Failed,
                    Reason::new(
                        ReasonCode::TargetGone,
                        format!("WorkOS user {target_id} no longer exists"),
                    ),
                );
            }
            Err(error) => return Done::failed(&error),
        };
        // Identity before every write: the journal's id is a belief, the
        // external_id WorkOS holds is the fact. A user re-linked to someone
        // else outside ferry is never written over; ferry updates the user
        // that carries this person's external_id, if one does.
        let current = if believed == Believed::Found
            || current.external_id.as_deref() == Some(&desired.payload.external_id)
        {
            current
        } else {
            match workos
                .user_by_external_id(&desired.payload.external_id)
                .await
            {
                Ok(Some(ours)) => ours,
                Ok(None) => {
                    return Done::not(
                        Action::Failed,
                        crate::target::reconcile::relinked(
                            "user",
                            target_id,
                            current.external_id.as_deref(),
                        ),
                    );
                }
                Err(error) => return Done::failed(&error),
            }
        };
        let password = self
            .settings
            .overwrite_passwords
            .then_some(&desired.password)
            .and_then(|p| match p {
                PasswordPlan::Import {
                    hash_type,
                    hash,
                    salt_position,
                    ..
                } => Some((*hash_type, hash, *salt_position)),
                _ => None,
            });
        let update = profile_changes(&current, &desired.payload, password);
        if update.is_empty() {
            return Done::ok(settle_update(action, false), current.id);
        }
        match workos.update_user(&current.id, &update.0).await {
            Ok(user) => Done::ok(action, user.id),
            Err(error) => Done::failed(&error),
        }
    }

    /// Enrolls the exported TOTP secret once. A factor that may already exist
    /// (the user was adopted or updated, or an attempt's answer was lost) is
    /// looked for first, since a second enrollment would add a second factor.
    async fn ensure_totp(
        &self,
        workos: &WorkosClient,
        clerk_id: &str,
        target_id: &str,
        secret: &Secret,
        label: &str,
        user: Action,
    ) -> Done {
        let fresh = user == Action::Created;
        let journaled = self
            .lookup(Kind::TotpFactor, clerk_id)
            .filter(|previous| previous.action.wrote_target())
            .and_then(|previous| previous.target_id);
        // The journal's factor is believed without a look only for a user
        // the journal itself settled (unchanged or updated by its id). With
        // `--reconcile` it is believed only once WorkOS lists it; a user
        // made afresh has none yet; a user found again this run (adopted
        // after a lost answer) may be another object than the one the
        // factor was on, so WorkOS is asked.
        if let Some(factor) = &journaled
            && self.listing.is_none()
            && matches!(user, Action::Unchanged | Action::Updated)
        {
            return Done::ok(Action::Unchanged, factor.clone());
        }
        let totps = async || match workos.auth_factors(target_id).await {
            Ok(factors) => Ok(factors
                .into_iter()
                .filter(|f| f.kind == "totp")
                .map(|f| f.id)
                .collect::<Vec<_>>()),
            Err(error) => Err(error),
        };
        let existing = async || totps().await.map(|ids| ids.into_iter().next());
        if !fresh {
            match totps().await {
                Ok(ids) if journaled.as_ref().is_some_and(|j| ids.contains(j)) => {
                    return Done::ok(Action::Unchanged, journaled.unwrap_or_default());
                }
                Ok(ids) if !ids.is_empty() => return Done::ok(Action::Adopted, ids[0].clone()),
                Ok(_) => {}
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
                Err(error) if attempts < self.max_attempts && outcome_unknown(&error) => {
                    // The request may have reached WorkOS (a lost or
                    // unreadable answer): look before trying again. The
                    // user had no TOTP factor before this enrollment (a
                    // fresh user, or one listed just above), so one there
                    // now is the one ferry made: created, not adopted, and
                    // undo may take it with its user.
                    match existing().await {
                        Ok(Some(id)) => {
                            return Done {
                                attempts,
                                reason: Some(Reason::new(
                                    ReasonCode::AnswerLost,
                                    "the enrollment's answer was lost or unreadable; WorkOS lists the factor it made",
                                )),
                                ..Done::ok(Action::Created, id)
                            };
                        }
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

/// A WorkOS user found for a Clerk user.
enum Found {
    Ours(User),
    Taken(User),
}

impl Found {
    fn target(found: Option<&Self>) -> Target<'_> {
        match found {
            None => Target::Absent,
            Some(Self::Ours(user)) => Target::Ours(user),
            Some(Self::Taken(user)) => Target::Taken(user),
        }
    }
}

fn is_conflict(error: &WorkosError) -> bool {
    error.has_code("email_not_available")
        || error.has_code("external_id_already_used")
        || error.status() == Some(409)
}

/// Whether a failed request may still have been carried out by the server.
/// Whether a WorkOS user is the person `payload` describes: it carries
/// the external_id ferry sent (exactly; an email may come back normalised).
/// A create's answer is believed only then.
fn answers_for(user: &User, payload: &Payload) -> bool {
    user.external_id.as_deref() == Some(payload.external_id.as_str())
}

fn outcome_unknown(error: &WorkosError) -> bool {
    match error.status() {
        None => true,
        Some(status) => status >= 500 || status == 408,
    }
}

/// Where the id of a user to update came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Believed {
    /// The journal: a belief, checked against the user's external_id.
    Journal,
    /// Found in WorkOS by this run (by external_id or email) and chosen
    /// by the decision (adopt, take over): its external_id is what the
    /// update sets.
    Found,
}
