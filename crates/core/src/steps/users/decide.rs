//! The users step's decision, as a pure function: what the journal says
//! ferry did × what WorkOS listed at the journal's id (with `--reconcile`) ×
//! what WorkOS holds (when asked) × whether the source changed × the
//! conflict policy → one [`Decision`]. No request, no journal access, no
//! script call happens here; [`super::step`] gathers the facts, asks this
//! module, then applies (or previews) the answer. The table of cases is the
//! unit tests below.

use crate::support::reason::{Reason, ReasonCode};
use ferry_wire::secret::Secret;
use ferry_wire::workos::model::{UpdateUser, User};

use crate::journal::{Action, RecordState};
use crate::mapping::metadata;
use crate::mapping::user::Payload;
use crate::plan::ConflictPolicy;
use crate::report::outcome::PlannedAction;
use crate::target::reconcile::Standing;

/// What WorkOS holds for this user, as far as ferry has asked.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Not asked (the cheap path: try the create, look only on a conflict).
    NotAsked,
    /// No user has this external_id or email.
    Absent,
    /// A user with this user's external_id: ferry made it (an earlier
    /// attempt whose answer was lost, or an earlier run).
    Ours(&'a User),
    /// A user with this email and not this external_id: someone else's.
    Taken(&'a User),
}

/// How a conflict with someone else's user is settled.
#[derive(Debug, Clone)]
pub enum OnConflict {
    /// The plan's `on_conflict` policy (no hook).
    Policy(ConflictPolicy),
    /// What the `on_conflict` hook decided.
    Hook(ConflictChoice),
    /// The hook failed or returned something unusable.
    HookRefused(Reason),
}

pub use crate::mapping::user::ConflictChoice;

/// Everything the decision depends on.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The journal's record of this user, if any.
    pub journal: Option<&'a RecordState>,
    /// What WorkOS listed at the journal's id (`Believed` without `--reconcile`).
    pub listed: Standing<'a, User>,
    /// The fingerprint of the fields this run would write.
    pub fingerprint: &'a str,
    pub payload: &'a Payload,
    pub target: Target<'a>,
    /// WorkOS refused a create as a conflict (so "absent" is a contradiction).
    pub conflicted: bool,
    pub on_conflict: OnConflict,
}

/// What to do with one user.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Ferry wrote it and the source did not change: no request at all.
    Unchanged {
        target_id: String,
    },
    /// Ferry wrote it and the source did not change, but WorkOS's copy was
    /// changed outside ferry: reported and left alone (`on_conflict: update`
    /// overwrites it instead).
    Drifted {
        target_id: String,
        fields: Vec<&'static str>,
    },
    /// Ferry wrote it and the source changed: update the profile.
    Update {
        target_id: String,
    },
    /// Not known to be anywhere: create it.
    Create,
    /// Ours already, as it should be.
    Adopt {
        target_id: String,
    },
    /// Ours already, but its profile differs: update it and count it adopted.
    AdoptAndUpdate {
        target_id: String,
    },
    /// Someone else's user with this email, taken over as the policy or hook says.
    TakeOver {
        target_id: String,
        payload: Payload,
    },
    Skip {
        reason: Reason,
    },
    Fail {
        reason: Reason,
    },
    Reject {
        reason: Reason,
    },
}

/// The decision table.
pub fn decide(facts: &Facts<'_>) -> Decision {
    if let Some(RecordState {
        target_id: Some(target_id),
        action,
        fingerprint,
        ..
    }) = facts.journal
        && action.wrote_target()
        && facts.listed.trusted()
    {
        let target_id = target_id.clone();
        if fingerprint.as_deref() != Some(facts.fingerprint) {
            return Decision::Update { target_id };
        }
        let drift = match facts.listed {
            Standing::Ours(user) => profile_changes(user, facts.payload, None).fields(),
            _ => Vec::new(),
        };
        return match (&facts.on_conflict, drift.is_empty()) {
            (_, true) => Decision::Unchanged { target_id },
            (OnConflict::Policy(ConflictPolicy::Update), false) => Decision::Update { target_id },
            (_, false) => Decision::Drifted {
                target_id,
                fields: drift,
            },
        };
    }
    // No journal record, or one whose id WorkOS no longer holds for this
    // user: settled from what WorkOS holds, as if the journal had nothing.
    match facts.target {
        Target::NotAsked => Decision::Create,
        Target::Absent if facts.conflicted => Decision::Fail {
            reason: Reason::new(
                ReasonCode::ConflictUnresolved,
                "WorkOS reported a conflict, but no user has this email or external_id",
            ),
        },
        Target::Absent => Decision::Create,
        Target::Ours(user) if profile_changes(user, facts.payload, None).is_empty() => {
            Decision::Adopt {
                target_id: user.id.clone(),
            }
        }
        Target::Ours(user) => Decision::AdoptAndUpdate {
            target_id: user.id.clone(),
        },
        Target::Taken(user) => settle_conflict(user, facts.payload, &facts.on_conflict),
    }
}

fn settle_conflict(existing: &User, payload: &Payload, rule: &OnConflict) -> Decision {
    let why = format!(
        "a WorkOS user with this email already exists ({})",
        existing.id
    );
    let choice = match rule {
        OnConflict::HookRefused(reason) => {
            return Decision::Reject {
                reason: reason.clone(),
            };
        }
        OnConflict::Hook(choice) => choice.clone(),
        OnConflict::Policy(policy) => {
            if let Some(other) = existing
                .external_id
                .as_deref()
                .filter(|e| *e != payload.external_id)
            {
                // Someone else's record (another Clerk user, or another system's):
                // taking it over would merge two people. Only a hook may decide that.
                return Decision::Reject {
                    reason: Reason::new(
                        ReasonCode::ConflictLinkedElsewhere,
                        format!(
                            "{why} and is linked to external_id {other}; ferry takes over only users without one (an on_conflict hook can decide otherwise)"
                        ),
                    ),
                };
            }
            match policy {
                ConflictPolicy::Update => ConflictChoice::Update(payload.clone()),
                ConflictPolicy::Skip => ConflictChoice::Skip,
                ConflictPolicy::Fail => ConflictChoice::Fail,
            }
        }
    };
    match choice {
        ConflictChoice::Update(payload) => Decision::TakeOver {
            target_id: existing.id.clone(),
            payload,
        },
        ConflictChoice::Skip => Decision::Skip {
            reason: Reason::new(
                ReasonCode::ConflictSkipped,
                format!("{why}; on_conflict: skip"),
            ),
        },
        ConflictChoice::Fail => Decision::Fail {
            reason: Reason::new(
                ReasonCode::ConflictFailed,
                format!("{why}; on_conflict: fail"),
            ),
        },
    }
}

impl Decision {
    /// What `ferry plan` says of this decision, and why.
    pub fn planned(&self) -> (PlannedAction, Option<Reason>) {
        match self {
            Self::Unchanged { .. } => (PlannedAction::Unchanged, None),
            Self::Drifted { fields, .. } => (PlannedAction::Unchanged, Some(drift_reason(fields))),
            Self::Update { .. } => (
                PlannedAction::Update,
                Some(Reason::new(
                    ReasonCode::SourceChanged,
                    "the Clerk record changed since it was migrated",
                )),
            ),
            Self::Create => (PlannedAction::Create, None),
            Self::Adopt { target_id } | Self::AdoptAndUpdate { target_id } => (
                PlannedAction::Adopt,
                Some(Reason::new(
                    ReasonCode::AlreadyInWorkos,
                    format!("already in WorkOS as {target_id} (created by an earlier run)"),
                )),
            ),
            Self::TakeOver { target_id, .. } => (
                PlannedAction::Update,
                Some(Reason::new(
                    ReasonCode::ConflictUpdated,
                    format!(
                        "a WorkOS user with this email already exists ({target_id}); on_conflict: update"
                    ),
                )),
            ),
            Self::Skip { reason } => (PlannedAction::Skip, Some(reason.clone())),
            Self::Fail { reason } => (PlannedAction::Fail, Some(reason.clone())),
            Self::Reject { reason } => (PlannedAction::Reject, Some(reason.clone())),
        }
    }
}

/// Why a user changed outside ferry was left alone.
pub fn drift_reason(fields: &[&str]) -> Reason {
    Reason::new(
        ReasonCode::ChangedOutsideFerry,
        format!(
            "changed in WorkOS outside ferry ({}); left alone (on_conflict: update would overwrite it)",
            fields.join(", ")
        ),
    )
}

/// The fields of an update that differ from `current`.
pub struct Changes(pub UpdateUser);

impl Changes {
    /// The names of the fields that differ.
    pub fn fields(&self) -> Vec<&'static str> {
        let u = &self.0;
        [
            ("email", u.email.is_some()),
            ("first_name", u.first_name.is_some()),
            ("last_name", u.last_name.is_some()),
            ("email_verified", u.email_verified.is_some()),
            ("external_id", u.external_id.is_some()),
            ("metadata", u.metadata.is_some()),
            ("password", u.password_hash.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }

    pub fn is_empty(&self) -> bool {
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

/// What must change on `current` for it to hold `payload` (and the password, when given).
pub fn profile_changes(
    current: &User,
    payload: &Payload,
    password: Option<(&str, &Secret, Option<&str>)>,
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
    // WorkOS merges metadata: removed keys go as `null`.
    update.metadata = metadata::changes(&current.metadata, &payload.metadata);
    if let Some((hash_type, hash, salt_position)) = password {
        update.password_hash = Some(hash.clone());
        update.password_hash_type = Some(hash_type.to_owned());
        update.password_salt_position = salt_position.map(str::to_owned);
    }
    Changes(update)
}

/// An update that turned out to change nothing is not an update.
pub fn settle_update(action: Action, changed: bool) -> Action {
    if !changed && action == Action::Updated {
        Action::Unchanged
    } else {
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Payload {
        Payload {
            email: "ada@example.com".into(),
            first_name: Some("Ada".into()),
            last_name: None,
            email_verified: true,
            external_id: "user_1".into(),
            metadata: Default::default(),
        }
    }

    fn workos_user(id: &str, email: &str, external_id: Option<&str>, first: &str) -> User {
        User {
            object: "user".into(),
            id: id.into(),
            email: email.into(),
            email_verified: true,
            first_name: Some(first.into()),
            last_name: None,
            profile_picture_url: None,
            last_sign_in_at: None,
            external_id: external_id.map(str::to_owned),
            metadata: Default::default(),
            locale: None,
            name: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn record(action: Action, target: Option<&str>, fingerprint: &str) -> RecordState {
        RecordState {
            target_id: target.map(str::to_owned),
            action,
            attempts: 1,
            reason: None,
            fingerprint: Some(fingerprint.into()),
            run_id: 1,
        }
    }

    /// One row of the table: the facts, and the decision they must give.
    struct Case {
        name: &'static str,
        journal: Option<RecordState>,
        fingerprint: &'static str,
        target: Option<User>,
        /// With `target`: is it ours (by external_id) or someone else's (by email)?
        ours: bool,
        asked: bool,
        conflicted: bool,
        on_conflict: OnConflict,
        /// With `--reconcile`: what WorkOS listed at the journal's id
        /// (`Some(None)`: nothing there).
        listed: Option<Option<User>>,
        expect: Decision,
    }

    impl Case {
        fn new(name: &'static str, expect: Decision) -> Self {
            Self {
                name,
                journal: None,
                fingerprint: "f1",
                target: None,
                ours: false,
                asked: false,
                conflicted: false,
                on_conflict: OnConflict::Policy(ConflictPolicy::Update),
                listed: None,
                expect,
            }
        }
    }

    #[test]
    fn the_decision_table() {
        let ours_same = workos_user("wos_1", "ada@example.com", Some("user_1"), "Ada");
        let ours_renamed = workos_user("wos_1", "ada@example.com", Some("user_1"), "Augusta");
        let unlinked = workos_user("wos_9", "ada@example.com", None, "Ada");
        let linked_elsewhere = workos_user("wos_9", "ada@example.com", Some("other_7"), "Ada");
        let mut taken_over = payload();
        taken_over.first_name = Some("Hooked".into());
        let cases = vec![
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                ..Case::new(
                    "journal wrote it, source unchanged",
                    Decision::Unchanged {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Adopted, Some("wos_1"), "f0")),
                ..Case::new(
                    "journal wrote it, source changed",
                    Decision::Update {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Failed, None, "f1")),
                ..Case::new("journal says it failed: try again", Decision::Create)
            },
            Case {
                journal: Some(record(Action::Skipped, None, "f1")),
                ..Case::new("journal says it was skipped: look again", Decision::Create)
            },
            Case::new("nothing known, not asked: create", Decision::Create),
            Case {
                asked: true,
                ..Case::new("asked, absent: create", Decision::Create)
            },
            Case {
                asked: true,
                conflicted: true,
                ..Case::new(
                    "a conflict, yet absent",
                    Decision::Fail {
                        reason: Reason::new(
                            ReasonCode::ConflictUnresolved,
                            "WorkOS reported a conflict, but no user has this email or external_id",
                        ),
                    },
                )
            },
            Case {
                target: Some(ours_same.clone()),
                ours: true,
                conflicted: true,
                ..Case::new(
                    "ours, as it should be",
                    Decision::Adopt {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                target: Some(ours_renamed.clone()),
                ours: true,
                ..Case::new(
                    "ours, profile differs",
                    Decision::AdoptAndUpdate {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                target: Some(unlinked.clone()),
                ..Case::new(
                    "someone's, unlinked, policy update",
                    Decision::TakeOver {
                        target_id: "wos_9".into(),
                        payload: payload(),
                    },
                )
            },
            Case {
                target: Some(unlinked.clone()),
                on_conflict: OnConflict::Policy(ConflictPolicy::Skip),
                ..Case::new(
                    "someone's, policy skip",
                    Decision::Skip {
                        reason: Reason::new(
                            ReasonCode::ConflictSkipped,
                            "a WorkOS user with this email already exists (wos_9); on_conflict: skip",
                        ),
                    },
                )
            },
            Case {
                target: Some(unlinked.clone()),
                on_conflict: OnConflict::Policy(ConflictPolicy::Fail),
                ..Case::new(
                    "someone's, policy fail",
                    Decision::Fail {
                        reason: Reason::new(
                            ReasonCode::ConflictFailed,
                            "a WorkOS user with this email already exists (wos_9); on_conflict: fail",
                        ),
                    },
                )
            },
            Case {
                target: Some(linked_elsewhere.clone()),
                ..Case::new(
                    "someone's, linked to another external_id: never merged by policy",
                    Decision::Reject {
                        reason: Reason::new(
                            ReasonCode::ConflictLinkedElsewhere,
                            "a WorkOS user with this email already exists (wos_9) and is linked to external_id other_7; ferry takes over only users without one (an on_conflict hook can decide otherwise)",
                        ),
                    },
                )
            },
            Case {
                target: Some(linked_elsewhere.clone()),
                on_conflict: OnConflict::Hook(ConflictChoice::Update(taken_over.clone())),
                ..Case::new(
                    "someone's, linked elsewhere, a hook takes it over",
                    Decision::TakeOver {
                        target_id: "wos_9".into(),
                        payload: taken_over.clone(),
                    },
                )
            },
            Case {
                target: Some(unlinked),
                on_conflict: OnConflict::HookRefused(Reason::new(
                    ReasonCode::HookInvalidResult,
                    "on_conflict returned 3",
                )),
                ..Case::new(
                    "someone's, the hook failed",
                    Decision::Reject {
                        reason: Reason::new(
                            ReasonCode::HookInvalidResult,
                            "on_conflict returned 3",
                        ),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                target: Some(linked_elsewhere.clone()),
                ..Case::new(
                    "the journal wins over a target that was not needed",
                    Decision::Unchanged {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                listed: Some(Some(ours_same.clone())),
                asked: true,
                ..Case::new(
                    "reconcile: listed as ours, as written",
                    Decision::Unchanged {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                listed: Some(Some(ours_renamed.clone())),
                on_conflict: OnConflict::Policy(ConflictPolicy::Skip),
                asked: true,
                ..Case::new(
                    "reconcile: renamed outside ferry, left alone",
                    Decision::Drifted {
                        target_id: "wos_1".into(),
                        fields: vec!["first_name"],
                    },
                )
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                listed: Some(Some(ours_renamed.clone())),
                asked: true,
                ..Case::new(
                    "reconcile: renamed outside ferry, on_conflict update overwrites",
                    Decision::Update {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                listed: Some(None),
                asked: true,
                ..Case::new("reconcile: gone from WorkOS, made again", Decision::Create)
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_1"), "f1")),
                listed: Some(None),
                target: Some(ours_same.clone()),
                ours: true,
                ..Case::new(
                    "reconcile: gone at the journal's id, found by external_id",
                    Decision::Adopt {
                        target_id: "wos_1".into(),
                    },
                )
            },
            Case {
                journal: Some(record(Action::Created, Some("wos_9"), "f1")),
                listed: Some(Some(linked_elsewhere.clone())),
                asked: true,
                ..Case::new(
                    "reconcile: the journal's id is someone else's now: never written to",
                    Decision::Create,
                )
            },
        ];
        for case in &cases {
            let payload = payload();
            let target = match (&case.target, case.ours) {
                (Some(user), true) => Target::Ours(user),
                (Some(user), false) => Target::Taken(user),
                (None, _) if case.asked || case.conflicted => Target::Absent,
                (None, _) => Target::NotAsked,
            };
            let listed = match &case.listed {
                None => Standing::Believed,
                Some(None) => Standing::Gone,
                Some(Some(user)) if user.external_id.as_deref() == Some("user_1") => {
                    Standing::Ours(user)
                }
                Some(Some(user)) => Standing::Someone(user),
            };
            let facts = Facts {
                journal: case.journal.as_ref(),
                listed,
                fingerprint: case.fingerprint,
                payload: &payload,
                target,
                conflicted: case.conflicted,
                on_conflict: case.on_conflict.clone(),
            };
            assert_eq!(decide(&facts), case.expect, "case: {}", case.name);
        }
    }

    #[test]
    fn previews_say_what_a_run_would_do() {
        let adopt = Decision::Adopt {
            target_id: "wos_1".into(),
        };
        assert_eq!(adopt.planned().0, PlannedAction::Adopt);
        let take_over = Decision::TakeOver {
            target_id: "wos_9".into(),
            payload: payload(),
        };
        assert_eq!(
            take_over.planned(),
            (
                PlannedAction::Update,
                Some(Reason::new(
                    ReasonCode::ConflictUpdated,
                    "a WorkOS user with this email already exists (wos_9); on_conflict: update"
                ))
            )
        );
        assert_eq!(Decision::Create.planned(), (PlannedAction::Create, None));
    }

    #[test]
    fn profile_changes_never_unverify_and_compare_names_loosely() {
        let mut current = workos_user("wos_1", "ADA@example.com", Some("user_1"), "Ada");
        current.email_verified = true;
        let mut wanted = payload();
        wanted.email_verified = false;
        assert!(profile_changes(&current, &wanted, None).is_empty());
        current.first_name = None;
        wanted.first_name = Some(String::new());
        assert!(profile_changes(&current, &wanted, None).is_empty());
        wanted.last_name = Some("Lovelace".into());
        let changes = profile_changes(&current, &wanted, None);
        assert_eq!(changes.0.last_name.as_deref(), Some("Lovelace"));
        assert!(changes.0.email.is_none());
    }

    #[test]
    fn an_update_that_changed_nothing_is_unchanged() {
        assert_eq!(settle_update(Action::Updated, false), Action::Unchanged);
        assert_eq!(settle_update(Action::Updated, true), Action::Updated);
        assert_eq!(settle_update(Action::Adopted, false), Action::Adopted);
    }
}
