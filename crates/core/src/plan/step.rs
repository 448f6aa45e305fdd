//! The plan's steps as the rest of ferry sees them: a [`StepKind`] that
//! names a step and knows what it reads and waits for, and a resolved
//! [`Step`] that carries the step's settings with every default applied.
//!
//! The plan file's raw options ([`super::schema`]) are read here once, when
//! the plan loads; nothing else turns an `Option` into a default. What a
//! hook sees as `ctx.options`, and what a user's seal covers, are these
//! settings: the ones in force.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::script::Hook;

use super::schema::{
    AcsPolicy, CanaryLogin, ConflictPolicy, DomainState, EmailVerifiedPolicy, InclusionPolicy,
    MetadataKind, OrganizationsOptions, OverLimitPolicy, PasswordImportOptions, PasswordPolicy,
    PasswordsOption, Sample, StepSpec, TotpPolicy, UsersOptions,
};

/// Which step: the one place a step's name is spelled, and the rules that
/// follow from what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Assess,
    Users,
    Organizations,
    Connections,
    Roles,
    Memberships,
    Invitations,
    MfaReport,
    Verify,
}

impl StepKind {
    /// Every step, in the reference plan's order.
    pub const ALL: [StepKind; 9] = [
        Self::Assess,
        Self::Users,
        Self::Organizations,
        Self::Connections,
        Self::Roles,
        Self::Memberships,
        Self::Invitations,
        Self::MfaReport,
        Self::Verify,
    ];

    /// The step's name in a plan file, a report and the journal.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Assess => "assess",
            Self::Users => "users",
            Self::Organizations => "organizations",
            Self::Connections => "connections",
            Self::Roles => "roles",
            Self::Memberships => "memberships",
            Self::Invitations => "invitations",
            Self::MfaReport => "mfa_report",
            Self::Verify => "verify",
        }
    }

    /// The step of this name, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// Every step's name, in order (for hints).
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Self::name)
    }

    /// Whether the step reads Clerk's users (so a run with two such steps
    /// reads the listing once and shares it).
    pub const fn reads_users(self) -> bool {
        matches!(
            self,
            Self::Assess | Self::Users | Self::MfaReport | Self::Verify
        )
    }

    /// Whether the step writes to WorkOS, and so runs again in a sync.
    pub const fn writes(self) -> bool {
        matches!(
            self,
            Self::Users
                | Self::Organizations
                | Self::Connections
                | Self::Roles
                | Self::Memberships
                | Self::Invitations
        )
    }

    /// Whether a sync runs the step: every step that writes, and the MFA
    /// lists that follow the users (assess and verify are their own commands).
    pub const fn runs_in_sync(self) -> bool {
        !matches!(self, Self::Assess | Self::Verify)
    }

    /// Whether the step needs `target.workos`.
    pub const fn needs_target(self) -> bool {
        !matches!(self, Self::Assess)
    }

    /// The steps whose journal records this step reads, and so waits for
    /// when they come earlier in the plan.
    ///
    /// - `memberships` reads the organizations and roles the journal holds
    ///   (and the users, which it waits for inside, before its first write);
    /// - `connections` reads the organizations the journal holds;
    /// - `invitations` reads the organizations, roles and users (inviters)
    ///   the journal holds, and the memberships WorkOS holds (it never
    ///   invites a member);
    /// - `mfa_report` reads the users and TOTP factors, and the connections
    ///   (an SSO user is flagged when theirs was not created);
    /// - `verify` checks everything before it, except memberships and
    ///   invitations, which it waits for inside, before checking them;
    /// - `assess`, `users`, `organizations` and `roles` read only the source
    ///   and their own records.
    pub fn waits_for(self, earlier: StepKind) -> bool {
        let reads: &[StepKind] = match self {
            Self::Memberships => &[Self::Organizations, Self::Roles],
            Self::Connections => &[Self::Organizations],
            Self::Invitations => &[
                Self::Users,
                Self::Organizations,
                Self::Roles,
                Self::Memberships,
            ],
            Self::MfaReport => &[Self::Users, Self::Connections],
            Self::Verify => return !matches!(earlier, Self::Memberships | Self::Invitations),
            _ => &[],
        };
        earlier == self || reads.contains(&earlier)
    }

    /// The step whose settings `hook` sees in `ctx.options`.
    pub const fn of_hook(hook: Hook) -> Self {
        match hook {
            Hook::MapUser | Hook::OnConflict => Self::Users,
            Hook::MapOrganization => Self::Organizations,
            Hook::MapConnection => Self::Connections,
            Hook::MapMembership => Self::Memberships,
            Hook::MapInvitation => Self::Invitations,
            Hook::MapRole => Self::Roles,
        }
    }

    /// The steps that must come before this one when the plan has them.
    pub const fn must_follow(self) -> &'static [StepKind] {
        match self {
            Self::Memberships => &[Self::Users, Self::Organizations, Self::Roles],
            Self::Connections => &[Self::Organizations],
            Self::Invitations => &[Self::Organizations, Self::Memberships],
            _ => &[],
        }
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One step of a loaded plan, with its settings in force.
#[derive(Debug, Clone)]
pub enum Step {
    Assess,
    Users(UserSettings),
    Organizations(OrganizationSettings),
    Connections(ConnectionSettings),
    Roles(RoleSettings),
    /// The role map the memberships read sits at plan level ([`super::Plan::roles`]).
    Memberships,
    Invitations(InvitationSettings),
    MfaReport(MfaReportSettings),
    Verify(VerifySettings),
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Self::Assess => StepKind::Assess,
            Self::Users(_) => StepKind::Users,
            Self::Organizations(_) => StepKind::Organizations,
            Self::Connections(_) => StepKind::Connections,
            Self::Roles(_) => StepKind::Roles,
            Self::Memberships => StepKind::Memberships,
            Self::Invitations(_) => StepKind::Invitations,
            Self::MfaReport(_) => StepKind::MfaReport,
            Self::Verify(_) => StepKind::Verify,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The settings in force, as JSON: a hook's `ctx.options`. Canary
    /// passwords serialize as `***` (a `Secret` never serializes itself).
    pub fn settings_json(&self, roles: &BTreeMap<String, String>) -> serde_json::Value {
        let value = match self {
            Self::Assess => Ok(serde_json::json!({})),
            Self::Users(s) => serde_json::to_value(s),
            Self::Organizations(s) => serde_json::to_value(s),
            Self::Connections(s) => serde_json::to_value(s),
            Self::Roles(s) => serde_json::to_value(s),
            Self::Memberships => Ok(serde_json::json!({ "roles": roles })),
            Self::Invitations(s) => serde_json::to_value(s),
            Self::MfaReport(s) => serde_json::to_value(s),
            Self::Verify(s) => serde_json::to_value(s),
        };
        value.unwrap_or_default()
    }

    /// The step as the plan file gave it, with every default applied and
    /// its paths resolved against `dir`.
    pub fn resolve(spec: &StepSpec, dir: &Path) -> Self {
        match spec {
            StepSpec::Assess(_) => Self::Assess,
            StepSpec::Users(options) => Self::Users(UserSettings::resolve(options)),
            StepSpec::Organizations(options) => {
                Self::Organizations(OrganizationSettings::resolve(options))
            }
            StepSpec::Connections(options) => Self::Connections(ConnectionSettings {
                acs: options.acs.unwrap_or_default(),
                secrets: options.secrets.clone().unwrap_or_default(),
            }),
            StepSpec::Roles(options) => Self::Roles(RoleSettings {
                permissions: options.permissions.unwrap_or(true),
            }),
            StepSpec::Memberships(_) => Self::Memberships,
            StepSpec::Invitations(options) => Self::Invitations(InvitationSettings {
                send: options.send.unwrap_or(false),
            }),
            StepSpec::MfaReport(options) => Self::MfaReport(MfaReportSettings {
                notice_template: options.notice_template.as_ref().map(|p| dir.join(p)),
                out_dir: options.out_dir.as_ref().map(|p| dir.join(p)),
            }),
            StepSpec::Verify(options) => Self::Verify(VerifySettings {
                sample: options.sample.unwrap_or(Sample::Count(100)),
                logins: options.logins.clone().unwrap_or_default(),
            }),
        }
    }
}

impl StepSpec {
    pub fn kind(&self) -> StepKind {
        match self {
            Self::Assess(_) => StepKind::Assess,
            Self::Users(_) => StepKind::Users,
            Self::Organizations(_) => StepKind::Organizations,
            Self::Connections(_) => StepKind::Connections,
            Self::Roles(_) => StepKind::Roles,
            Self::Memberships(_) => StepKind::Memberships,
            Self::Invitations(_) => StepKind::Invitations,
            Self::MfaReport(_) => StepKind::MfaReport,
            Self::Verify(_) => StepKind::Verify,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// The `users` step's settings. Every field decides a user's payload, so a
/// user's seal covers exactly these (how hard the run tries and how many
/// requests it keeps in flight are the plan's [`super::Pacing`]).
#[derive(Debug, Clone, Serialize)]
pub struct UserSettings {
    pub passwords: PasswordPolicy,
    pub totp: TotpPolicy,
    pub email_verified: EmailVerifiedPolicy,
    pub on_conflict: ConflictPolicy,
    pub overwrite_passwords: bool,
    pub banned: InclusionPolicy,
    pub locked: InclusionPolicy,
    pub metadata: Vec<MetadataKind>,
    pub over_limit: OverLimitPolicy,
    /// Whether each hash cohort is probed on the target before the first
    /// user is written. Not in a seal: it decides no payload by itself.
    #[serde(skip)]
    pub probe: bool,
    /// What probe users' addresses are made from (`local+<token>@domain`).
    #[serde(skip)]
    pub probe_address: String,
}

/// The address probe users' addresses are made from, unless the plan says.
pub const DEFAULT_PROBE_ADDRESS: &str = "ferry-probe@example.com";

impl Default for UserSettings {
    fn default() -> Self {
        Self::resolve(&UsersOptions::default())
    }
}

impl UserSettings {
    fn resolve(options: &UsersOptions) -> Self {
        let metadata = options.metadata.clone().unwrap_or_default();
        Self {
            passwords: options
                .passwords
                .as_ref()
                .map_or(PasswordPolicy::Import, PasswordsOption::policy),
            totp: options.totp.unwrap_or(TotpPolicy::Import),
            email_verified: options
                .email_verified
                .unwrap_or(EmailVerifiedPolicy::FromClerk),
            on_conflict: options.on_conflict.unwrap_or(ConflictPolicy::Update),
            overwrite_passwords: options.overwrite_passwords.unwrap_or(false),
            banned: options.banned.unwrap_or(InclusionPolicy::Skip),
            locked: options.locked.unwrap_or(InclusionPolicy::Skip),
            metadata: metadata
                .include
                .unwrap_or_else(|| vec![MetadataKind::Public]),
            over_limit: metadata.over_limit.unwrap_or(OverLimitPolicy::Truncate),
            probe: !matches!(
                &options.passwords,
                Some(PasswordsOption::Import(PasswordImportOptions {
                    probe: Some(false),
                    ..
                }))
            ),
            probe_address: match &options.passwords {
                Some(PasswordsOption::Import(PasswordImportOptions {
                    probe_address: Some(address),
                    ..
                })) => address.clone(),
                _ => DEFAULT_PROBE_ADDRESS.to_owned(),
            },
        }
    }

    /// The CSV export's columns these settings need, each with the option
    /// that needs it: without them every password or TOTP factor would be
    /// dropped in silence.
    pub fn required_columns(&self) -> &'static [(&'static str, &'static str)] {
        match (self.passwords, self.totp) {
            (PasswordPolicy::Import, TotpPolicy::Import) => &[
                ("password_digest", "passwords: import"),
                ("password_hasher", "passwords: import"),
                ("totp_secret", "totp: import"),
            ],
            (PasswordPolicy::Import, _) => &[
                ("password_digest", "passwords: import"),
                ("password_hasher", "passwords: import"),
            ],
            (_, TotpPolicy::Import) => &[("totp_secret", "totp: import")],
            _ => &[],
        }
    }
}

/// The `organizations` step's settings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OrganizationSettings {
    /// Clerk organization id or slug → the domains the plan names for it.
    pub domains: BTreeMap<String, Vec<String>>,
    /// The state of the domains the plan names (Clerk's own keep theirs).
    pub domain_state: DomainState,
}

impl OrganizationSettings {
    fn resolve(options: &OrganizationsOptions) -> Self {
        Self {
            domains: options.domains.clone().unwrap_or_default(),
            domain_state: options.domain_state.unwrap_or(DomainState::Verified),
        }
    }
}

/// The `connections` step's settings. Client secrets serialize as `***`
/// (a hook's `ctx.options` never sees them).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectionSettings {
    pub acs: AcsPolicy,
    /// Clerk connection id or organization slug → OIDC client secret.
    pub secrets: BTreeMap<String, ferry_wire::secret::Secret>,
}

/// The `invitations` step's settings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InvitationSettings {
    /// Re-issue each pending invitation from WorkOS, which emails the
    /// invitee; otherwise they are only listed.
    pub send: bool,
}

/// The `roles` step's settings.
#[derive(Debug, Clone, Serialize)]
pub struct RoleSettings {
    /// Created roles get the Clerk roles' own permissions.
    pub permissions: bool,
}

impl Default for RoleSettings {
    fn default() -> Self {
        Self { permissions: true }
    }
}

/// The `mfa_report` step's settings, paths resolved against the plan's folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MfaReportSettings {
    pub notice_template: Option<PathBuf>,
    /// Where the notices go; `None`: `notices/` in the report folder.
    pub out_dir: Option<PathBuf>,
}

/// The `verify` step's settings.
#[derive(Debug, Clone, Serialize)]
pub struct VerifySettings {
    /// How many users are compared field by field.
    pub sample: Sample,
    pub logins: Vec<CanaryLogin>,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            sample: Sample::Count(100),
            logins: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_step() {
        for kind in StepKind::ALL {
            assert_eq!(StepKind::parse(kind.name()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.name())
            );
        }
        assert_eq!(StepKind::parse("user"), None);
    }

    /// Which earlier step each step waits for, as a whole table.
    #[test]
    fn what_each_step_waits_for() {
        use StepKind::*;
        let table: Vec<(StepKind, Vec<StepKind>)> = StepKind::ALL
            .into_iter()
            .map(|step| {
                let waits = StepKind::ALL
                    .into_iter()
                    .filter(|&earlier| step.waits_for(earlier))
                    .collect();
                (step, waits)
            })
            .collect();
        assert_eq!(
            table,
            vec![
                (Assess, vec![Assess]),
                (Users, vec![Users]),
                (Organizations, vec![Organizations]),
                (Connections, vec![Organizations, Connections]),
                (Roles, vec![Roles]),
                (Memberships, vec![Organizations, Roles, Memberships]),
                (
                    Invitations,
                    vec![Users, Organizations, Roles, Memberships, Invitations]
                ),
                (MfaReport, vec![Users, Connections, MfaReport]),
                (
                    Verify,
                    vec![
                        Assess,
                        Users,
                        Organizations,
                        Connections,
                        Roles,
                        MfaReport,
                        Verify
                    ]
                ),
            ]
        );
    }

    #[test]
    fn defaults_are_applied_once_here() {
        let dir = Path::new("plans");
        let resolved = |spec| Step::resolve(&spec, dir);
        let Step::Users(users) = resolved(StepSpec::Users(Default::default())) else {
            panic!("users")
        };
        assert_eq!(
            serde_json::to_value(&users).unwrap(),
            serde_json::json!({
                "passwords": "import", "totp": "import", "email_verified": "from_clerk",
                "on_conflict": "update", "overwrite_passwords": false, "banned": "skip",
                "locked": "skip", "metadata": ["public"], "over_limit": "truncate",
            })
        );
        let Step::MfaReport(mfa) = resolved(StepSpec::MfaReport(
            super::super::schema::MfaReportOptions {
                notice_template: Some("notice.md".into()),
                out_dir: None,
            },
        )) else {
            panic!("mfa_report")
        };
        assert_eq!(mfa.notice_template, Some(dir.join("notice.md")));
    }
}
