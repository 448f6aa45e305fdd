//! The plan file's shape (version 1), as serde types.
//!
//! Every struct refuses unknown keys, so a typo is an error rather than a
//! silently ignored setting. Fields are optional at this level on purpose:
//! the loader removes a bad value and keeps going to report every problem in
//! one pass, and required-ness is checked afterwards with positions
//! (see `plan::load`). Defaults that matter to behaviour live in
//! [`crate::plan::Plan`], not here.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use ferry_wire::secret::Secret;

/// The plan file as written. `ferry` is the file-format version.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    pub ferry: Option<u32>,
    pub name: Option<String>,
    pub revision: Option<u32>,
    pub source: Option<SourceSpec>,
    pub target: Option<TargetSpec>,
    pub script: Option<PathBuf>,
    pub state: Option<PathBuf>,
    pub steps: Option<Vec<StepSpec>>,
    pub report: Option<ReportSpec>,
    pub tests: Option<Vec<TestSpec>>,
    pub sync: Option<SyncSpec>,
}

pub const TOP_LEVEL_KEYS: &[&str] = &[
    "ferry", "name", "revision", "source", "target", "script", "state", "steps", "report", "tests",
    "sync",
];

/// `sync:`: what `ferry sync` does with what is gone from Clerk.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSpec {
    pub on_deleted: Option<OnDeleted>,
}

/// `sync.on_deleted`: a user or organization deleted in Clerk since ferry
/// migrated it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDeleted {
    /// Leave it in WorkOS and list it (the default).
    #[default]
    Report,
    /// Delete it in WorkOS when ferry created it (never one ferry adopted).
    Delete,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub clerk: Option<ClerkSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClerkSpec {
    pub secret_key: Option<Secret>,
    pub api_url: Option<String>,
    /// The Dashboard CSV export: the only source of password digests and TOTP secrets.
    pub export_csv: Option<PathBuf>,
    /// The older support-ticket JSON export.
    pub export_json: Option<PathBuf>,
    pub limits: Option<ClerkLimitsSpec>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClerkLimitsSpec {
    pub requests_per_10s: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub workos: Option<WorkosSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkosSpec {
    pub api_key: Option<Secret>,
    pub client_id: Option<String>,
    pub api_url: Option<String>,
    pub limits: Option<WorkosLimitsSpec>,
    /// OAuth providers configured in WorkOS; users of any other provider are flagged.
    pub oauth_providers: Option<Vec<String>>,
    /// What to do with the environment's enabled webhook endpoints during a run.
    pub webhooks: Option<WebhookPolicy>,
}

/// `target.workos.webhooks`: a run emits an event for every object it
/// makes, and the environment's endpoints deliver them to the app.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookPolicy {
    /// List the enabled endpoints and the events the run will emit (assess, preflight).
    #[default]
    Warn,
    /// Disable the enabled endpoints before the first write and enable
    /// exactly those again when the run ends (or on the next command after a crash).
    Pause,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WorkosLimitsSpec {
    pub writes_per_10s: Option<u32>,
    pub reads_per_10s: Option<u32>,
    pub requests_per_60s: Option<u32>,
    pub authenticate_per_60s: Option<u32>,
}

/// One entry of `steps:`: a bare name (`- assess`) or a name with options
/// (`- users: { passwords: import }`).
#[derive(Debug, Clone)]
pub enum StepSpec {
    Assess(AssessOptions),
    Users(UsersOptions),
    Organizations(OrganizationsOptions),
    Connections(ConnectionsOptions),
    Roles(RolesOptions),
    Memberships(MembershipsOptions),
    Invitations(InvitationsOptions),
    MfaReport(MfaReportOptions),
    Verify(VerifyOptions),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AssessOptions {}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsersOptions {
    pub passwords: Option<PasswordsOption>,
    pub totp: Option<TotpPolicy>,
    pub email_verified: Option<EmailVerifiedPolicy>,
    pub on_conflict: Option<ConflictPolicy>,
    pub overwrite_passwords: Option<bool>,
    pub banned: Option<InclusionPolicy>,
    pub locked: Option<InclusionPolicy>,
    pub metadata: Option<MetadataOptions>,
    pub max_attempts: Option<u32>,
    /// The longest wait a server may ask for before the run stops (seconds).
    pub max_wait_secs: Option<u64>,
    pub concurrency: Option<u32>,
}

/// `passwords: import`, `passwords: skip`, or the import's options
/// (`passwords: { probe: false }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PasswordsOption {
    Policy(PasswordPolicy),
    Import(PasswordImportOptions),
}

/// A word is the policy, a map the import's options: each read by its own
/// type, so a misspelt word gets the policy's own "unknown value" error
/// (and its suggestion) rather than "no variant matched".
impl<'de> Deserialize<'de> for PasswordsOption {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = PasswordsOption;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`import`, `skip`, or a map such as `{ probe: false }`")
            }
            fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<Self::Value, E> {
                use serde::de::IntoDeserializer;
                PasswordPolicy::deserialize(word.into_deserializer()).map(PasswordsOption::Policy)
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<Self::Value, M::Error> {
                PasswordImportOptions::deserialize(serde::de::value::MapAccessDeserializer::new(
                    map,
                ))
                .map(PasswordsOption::Import)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

impl PasswordsOption {
    pub fn policy(&self) -> PasswordPolicy {
        match self {
            Self::Policy(policy) => *policy,
            Self::Import(_) => PasswordPolicy::Import,
        }
    }
}

/// How digests are imported: each hash cohort is probed on the target
/// first (`probe`, on by default), with probe users at addresses made from
/// `probe_address` (`ferry-probe@example.com` gives
/// `ferry-probe+<token>@example.com`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordImportOptions {
    pub probe: Option<bool>,
    pub probe_address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordPolicy {
    /// Send supported digests with their WorkOS hash type.
    Import,
    /// Create every user without a password.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TotpPolicy {
    Import,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailVerifiedPolicy {
    FromClerk,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    Update,
    Skip,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InclusionPolicy {
    Skip,
    Migrate,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataOptions {
    /// Which Clerk metadata objects feed WorkOS metadata (default: public).
    pub include: Option<Vec<MetadataKind>>,
    pub over_limit: Option<OverLimitPolicy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataKind {
    Public,
    Private,
    Unsafe,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLimitPolicy {
    /// Keep what fits, drop the rest, report the user.
    Truncate,
    /// Reject the user.
    Reject,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationsOptions {
    /// Clerk organization id or slug → domains for `domain_data`.
    pub domains: Option<BTreeMap<String, Vec<String>>>,
    pub domain_state: Option<DomainState>,
}

/// The `connections` step: Clerk's enterprise connections become WorkOS
/// SSO connections in the organizations ferry made.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsOptions {
    /// Whose service-provider side a SAML connection gets.
    pub acs: Option<AcsPolicy>,
    /// Clerk connection id or organization slug → the OIDC client secret
    /// (`${VAR}`: Clerk never returns it).
    pub secrets: Option<BTreeMap<String, Secret>>,
}

/// The `invitations` step: Clerk's pending invitations, listed, or
/// re-issued from WorkOS (which emails each invitee) with `send: true`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationsOptions {
    pub send: Option<bool>,
}

/// `connections.acs`: the ACS URL and SP entity id a SAML connection gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AcsPolicy {
    /// WorkOS's own: the handoff tells each IdP admin the new values.
    #[default]
    Workos,
    /// Clerk's `acs_url` and `sp_entity_id`: an IdP that posts to a proxy
    /// at the old URL needs no change.
    Keep,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainState {
    #[default]
    Verified,
    Pending,
}

/// The `roles` step: Clerk's organization roles become WorkOS environment
/// roles, named by the memberships step's `roles:` map or the default rule.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RolesOptions {
    /// Give created roles the Clerk roles' own permissions (`org:<p>` → `<p>`;
    /// Clerk's system permissions `org:sys_…` have no WorkOS counterpart
    /// and are left out). Default true.
    pub permissions: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipsOptions {
    /// Clerk role key → WorkOS role slug.
    pub roles: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MfaReportOptions {
    pub notice_template: Option<PathBuf>,
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyOptions {
    pub sample: Option<Sample>,
    pub logins: Option<Vec<CanaryLogin>>,
}

/// How many users `verify` compares field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    Count(u32),
    All,
}

/// Written as the plan writes it: a number, or `"all"`.
impl Serialize for Sample {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Count(count) => serializer.serialize_u32(*count),
            Self::All => serializer.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "all" {
            return Ok(Self::All);
        }
        text.parse().map(Self::Count).map_err(|_| {
            serde::de::Error::custom(format!(
                "invalid sample `{text}`: expected a whole number or `all`"
            ))
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryLogin {
    pub email: String,
    pub password: Secret,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    pub dir: Option<PathBuf>,
    pub formats: Option<Vec<ReportFormat>>,
    /// A folder whose `report.html.hbs` / `report.md.hbs` replace the built-in templates.
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Html,
    Md,
    Json,
}

/// A script unit test. `input`, `ctx` and `expect` are free-form; the loader
/// converts them from YAML with their types (see `plan::yaml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    pub name: Option<String>,
    pub hook: Option<String>,
    pub input: Option<serde::de::IgnoredAny>,
    pub ctx: Option<serde::de::IgnoredAny>,
    pub expect: Option<serde::de::IgnoredAny>,
    pub expect_payload: Option<serde::de::IgnoredAny>,
}

impl<'de> Deserialize<'de> for StepSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> serde::de::Visitor<'de> for StepVisitor {
    type Value = StepSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a step name, or a step name with its options")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<StepSpec, E> {
        let step = match name {
            "assess" => StepSpec::Assess(Default::default()),
            "users" => StepSpec::Users(Default::default()),
            "organizations" => StepSpec::Organizations(Default::default()),
            "connections" => StepSpec::Connections(Default::default()),
            "roles" => StepSpec::Roles(Default::default()),
            "memberships" => StepSpec::Memberships(Default::default()),
            "invitations" => StepSpec::Invitations(Default::default()),
            "mfa_report" => StepSpec::MfaReport(Default::default()),
            "verify" => StepSpec::Verify(Default::default()),
            other => return Err(E::custom(unknown_step(other))),
        };
        Ok(step)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<StepSpec, A::Error> {
        use serde::de::Error;
        let Some(name) = map.next_key::<String>()? else {
            return Err(A::Error::custom("a step needs a name"));
        };
        let step = match name.as_str() {
            "assess" => StepSpec::Assess(map.next_value()?),
            "users" => StepSpec::Users(map.next_value()?),
            "organizations" => StepSpec::Organizations(map.next_value()?),
            "connections" => StepSpec::Connections(map.next_value()?),
            "roles" => StepSpec::Roles(map.next_value()?),
            "memberships" => StepSpec::Memberships(map.next_value()?),
            "invitations" => StepSpec::Invitations(map.next_value()?),
            "mfa_report" => StepSpec::MfaReport(map.next_value()?),
            "verify" => StepSpec::Verify(map.next_value()?),
            other => return Err(A::Error::custom(unknown_step(other))),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(A::Error::custom(format!(
                "a step is one name with its options; `{extra}` looks like a second step: start it with its own `-`"
            )));
        }
        Ok(step)
    }
}

fn unknown_step(name: &str) -> String {
    format!("unknown step `{name}`")
}
