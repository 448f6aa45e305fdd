//! The `assess` step: what the migration will meet, before anything is
//! written. Reads only the source (Clerk's API and/or the export) and counts
//! every branch of the decision tree: how users sign in, which password
//! hashes WorkOS can take, whose primary email is unknown or unverified or
//! shared, who has no email, MFA, banned and locked users, metadata beyond
//! WorkOS's limits, OAuth providers against those configured, organizations
//! and the roles in use with how they will map. From that it says which
//! steps the plan needs, what will need a person, and how long a run will
//! take at the plan's rate limits.

pub mod stage;

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use tokio::sync::mpsc;

use super::error::StepError;
use crate::clerk::client::ClerkClient;
use crate::mapping::password::{self, PasswordPlan};
use crate::mapping::role::RoleMapper;
use crate::mapping::user::UserSettings;
use crate::observe::{Event, Observer, READ_EVERY};
use crate::plan::{InclusionPolicy, Plan};
use crate::report::assessment::{
    Assessment, Estimate, HasherRow, ProviderRow, RoleRow, human_duration,
};
use crate::source::read::{self, Item, Sources};
use crate::source::{NoEmail, SourceUser};

/// How many examples each finding keeps.
const EXAMPLES: usize = 5;

/// Counts for one pass over the users.
#[derive(Default)]
struct Tally {
    assessment: Assessment,
    hashers: BTreeMap<String, HasherRow>,
    providers: BTreeMap<String, ProviderRow>,
    /// Hash of a lower-cased primary → (users, the address once a second user has it).
    emails: HashMap<u64, (u64, Option<String>)>,
    migratable: u64,
}

pub struct AssessStep<'a> {
    pub plan: &'a Plan,
    /// Told how far the read has come, so a long assessment shows it is alive.
    pub observer: &'a dyn Observer,
}

impl AssessStep<'_> {
    fn users_settings(&self) -> UserSettings {
        self.plan.users().cloned().unwrap_or_default()
    }

    fn enabled_providers(&self) -> Vec<String> {
        self.plan
            .target
            .as_ref()
            .map(|t| t.oauth_providers.clone())
            .unwrap_or_else(|| vec!["google".into(), "microsoft".into()])
    }

    fn count_user(
        &self,
        tally: &mut Tally,
        settings: &UserSettings,
        enabled: &[String],
        user: &SourceUser,
    ) {
        let a = &mut tally.assessment;
        a.users += 1;
        if user
            .api
            .as_ref()
            .is_some_and(|api| !api.enterprise_sign_ins().is_empty())
        {
            a.sso.users += 1;
        }
        let has_password = user.password_enabled() || user.password_digest().is_some();
        let accounts = user.oauth_accounts();
        let sign_in = match (has_password, !accounts.is_empty()) {
            (true, false) => "password",
            (false, true) => "social",
            (true, true) => "both",
            (false, false) => "neither",
        };
        *a.sign_in.entry(sign_in.into()).or_default() += 1;

        if let Some(hasher) = user.password_hasher().filter(|h| !h.is_empty()) {
            let row = tally
                .hashers
                .entry(hasher.to_owned())
                .or_insert_with(|| HasherRow {
                    hasher: hasher.to_owned(),
                    ..HasherRow::default()
                });
            row.users += 1;
            match password::plan(
                Some(hasher),
                user.password_digest(),
                &password::Conversions::default(),
            ) {
                PasswordPlan::Import { hash_type, .. } => {
                    row.imports_as = Some(hash_type.to_owned())
                }
                _ => row.resets += 1,
            }
        }

        let emails = user.emails();
        if emails.len() > 1 {
            a.multi_email += 1;
        }
        let primary = user.primary();
        let known_from = match (&primary, user.api.is_some()) {
            (Err(NoEmail::PrimaryUnknown(_)), _) => "unknown",
            (Err(_), _) => "none",
            (Ok(_), true) => "api",
            (Ok(_), false) => "export",
        };
        if known_from != "none" {
            *a.primary_known_from.entry(known_from.into()).or_default() += 1;
        }
        match &primary {
            Ok(primary) => {
                if !primary.verified {
                    a.unverified_primary += 1;
                }
                let lower = crate::mapping::claims::email_identity(&primary.address);
                let key = BuildHasherDefault::<DefaultHasher>::default().hash_one(&lower);
                let entry = tally.emails.entry(key).or_insert((0, None));
                entry.0 += 1;
                if entry.0 == 2 {
                    entry.1 = Some(lower);
                }
            }
            Err(reason) => {
                let kind = match reason {
                    NoEmail::PhoneOnly => "phone_only",
                    NoEmail::UsernameOnly => "username_only",
                    NoEmail::NoIdentifier => "no_identifier",
                    NoEmail::PrimaryUnknown(_) => "primary_unknown",
                };
                *a.no_email.entry(kind.into()).or_default() += 1;
            }
        }

        if user.totp_secret().is_some() {
            a.mfa.totp_exported += 1;
        } else if user.totp_enabled() {
            a.mfa.totp_not_exported += 1;
        }
        a.mfa.sms += u64::from(user.sms_second_factor());
        a.mfa.backup_codes += u64::from(user.backup_codes());
        a.banned += u64::from(user.banned());
        a.locked += u64::from(user.locked());

        if !crate::mapping::user::metadata_of(settings, user.metadata().each_ref())
            .dropped
            .is_empty()
        {
            a.metadata_over_limits += 1;
        }

        for account in &accounts {
            let row = tally
                .providers
                .entry(account.provider.clone())
                .or_insert_with(|| ProviderRow {
                    provider: account.provider.clone(),
                    enabled_in_workos: enabled.iter().any(|e| e == &account.provider),
                    ..ProviderRow::default()
                });
            row.users += 1;
            row.social_only_users += u64::from(!has_password);
        }

        let excluded = (user.banned() && settings.banned == InclusionPolicy::Skip)
            || (user.locked() && settings.locked == InclusionPolicy::Skip);
        if primary.is_ok() && !excluded {
            tally.migratable += 1;
        }
    }

    /// Reads the source and assesses it.
    pub async fn run(
        &self,
        sources: Sources<'_>,
        clerk: Option<&ClerkClient>,
    ) -> Result<Assessment, StepError> {
        let settings = self.users_settings();
        let enabled = self.enabled_providers();
        let mut tally = Tally::default();
        let (tx, mut rx) = mpsc::channel::<Item>(512);
        let reader = read::read_users(sources, tx);
        let counter = async {
            let mut users_read = 0u64;
            while let Some(item) = rx.recv().await {
                users_read += 1;
                if users_read.is_multiple_of(READ_EVERY) {
                    self.observer.event(&Event::Read {
                        step: crate::plan::StepKind::Assess,
                        users: users_read,
                    });
                }
                match item {
                    Item::User(user) => self.count_user(&mut tally, &settings, &enabled, &user),
                    Item::BadRow(_) => tally.assessment.bad_export_rows += 1,
                    Item::Deleted { .. } => {}
                }
            }
        };
        // Organizations, memberships and roles are read alongside the users.
        let listings = async {
            match clerk {
                Some(clerk) => Some(
                    tokio::try_join!(
                        clerk.all_organizations(),
                        clerk.instance_memberships(),
                        clerk.all_roles(),
                        clerk.all_enterprise_connections(),
                        clerk.all_scim_directories()
                    )
                    .map_err(crate::source::read::SourceError::from),
                ),
                None => None,
            }
        };
        let (read, (), listed) = tokio::join!(reader, counter, listings);
        let stats = read?;
        let mut a = tally.assessment;
        a.bad_export_rows = a.bad_export_rows.max(stats.bad_rows);
        a.hashers = tally.hashers.into_values().collect();
        a.oauth_providers = tally.providers.into_values().collect();
        for (count, email) in tally.emails.into_values() {
            if count > 1 {
                a.shared_emails.emails += 1;
                a.shared_emails.users += count;
                if let Some(email) = email.filter(|_| a.shared_emails.examples.len() < EXAMPLES) {
                    a.shared_emails.examples.push(email);
                }
            }
        }
        a.shared_emails.examples.sort();

        if let Some(listed) = listed {
            let (organizations, members, defined, connections, directories) = listed?;
            self.count_organizations(&mut a, &organizations, &members, &defined);
            count_connections(&mut a, &connections, directories.len() as u64);
        }
        self.conclude(&mut a, tally.migratable);
        Ok(a)
    }

    fn count_organizations(
        &self,
        a: &mut Assessment,
        organizations: &[ferry_wire::clerk::model::Organization],
        members: &[ferry_wire::clerk::model::OrganizationMembership],
        defined: &[ferry_wire::clerk::model::Role],
    ) {
        // The slug before hooks: assess reads the source only and runs no script.
        let mapper = RoleMapper::new(self.plan.roles.clone(), None, serde_json::Value::Null);
        let mut roles: BTreeMap<String, u64> = BTreeMap::new();
        a.organizations = organizations.len() as u64;
        for m in members {
            a.memberships += 1;
            *roles.entry(m.role.clone()).or_default() += 1;
        }
        // Roles Clerk defines that no membership uses: the roles step makes
        // them too, so they are listed (with 0) rather than left unseen.
        for role in defined {
            roles.entry(role.key.clone()).or_default();
        }
        a.roles = roles
            .into_iter()
            .map(|(role, memberships)| RoleRow {
                maps_to: mapper.default_slug(&role),
                role,
                memberships,
            })
            .collect();
    }

    /// Steps needed, what needs a person, and the estimate.
    fn conclude(&self, a: &mut Assessment, migratable: u64) {
        let mut steps = vec!["users".to_owned()];
        if a.organizations > 0 {
            steps.push("organizations".into());
            if !a.sso.connections.is_empty() {
                steps.push("connections".into());
            }
            // WorkOS has `admin` and `member`; any other role must be made first.
            if a.roles
                .iter()
                .any(|r| !matches!(r.maps_to.as_str(), "admin" | "member"))
            {
                steps.push("roles".into());
            }
            steps.push("memberships".into());
        }
        let unused: Vec<&str> = a
            .roles
            .iter()
            .filter(|r| r.memberships == 0)
            .map(|r| r.role.as_str())
            .collect();
        if !unused.is_empty() {
            a.needs_a_person.push(format!(
                "Clerk roles used by no membership: {} (the roles step makes them in WorkOS too; map or drop them if they are obsolete)",
                unused.join(", ")
            ));
        }
        let social_flags: u64 = a
            .oauth_providers
            .iter()
            .filter(|p| !p.enabled_in_workos)
            .map(|p| p.social_only_users)
            .sum();
        if a.mfa.sms + a.mfa.totp_not_exported + a.mfa.backup_codes + social_flags > 0 {
            steps.push("mfa_report".into());
        }
        steps.push("verify".into());
        a.steps_needed = steps;

        let resets: u64 = a.hashers.iter().map(|h| h.resets).sum();
        let no_email: u64 = a.no_email.values().sum();
        let mut person = Vec::new();
        let mut need = |count: u64, text: String| {
            if count > 0 {
                person.push(text);
            }
        };
        let oidc = a.sso.connections.get("oidc").copied().unwrap_or(0);
        need(
            oidc,
            format!(
                "{oidc} OIDC connections need their client secret in the plan's connections.secrets (Clerk never returns one), or are handed off"
            ),
        );
        let directories = a.sso.directories;
        need(
            directories,
            format!(
                "{directories} SCIM directories must be set up again by their IT admins (WorkOS has no API to create one): the SSO handoff lists them"
            ),
        );
        need(
            resets,
            format!("{resets} users have a password WorkOS cannot take: send them a reset"),
        );
        let mfa = a.mfa.sms + a.mfa.totp_not_exported;
        need(
            mfa,
            format!(
                "{mfa} users must set up two-step verification again (SMS or an unexported TOTP secret)"
            ),
        );
        need(
            a.mfa.backup_codes,
            format!(
                "{} users' backup codes will not carry over",
                a.mfa.backup_codes
            ),
        );
        need(
            social_flags,
            format!("{social_flags} users sign in only with a provider not configured in WorkOS"),
        );
        need(
            a.shared_emails.users,
            format!(
                "{} users share {} email addresses: only one of each can move as is",
                a.shared_emails.users, a.shared_emails.emails
            ),
        );
        need(
            no_email,
            format!("{no_email} users have no email address and will not be migrated"),
        );
        need(
            a.banned + a.locked,
            format!(
                "{} users are banned or locked: decide whether they move",
                a.banned + a.locked
            ),
        );
        need(
            a.metadata_over_limits,
            format!(
                "{} users have metadata beyond WorkOS's limits",
                a.metadata_over_limits
            ),
        );
        need(
            a.bad_export_rows,
            format!("{} export rows could not be read", a.bad_export_rows),
        );
        a.needs_a_person = person;

        let writes_per_10s = self
            .plan
            .target
            .as_ref()
            .map_or(500, |t| t.limits.writes_per_10s);
        let rate = f64::from(writes_per_10s) / 10.0 * 0.98;
        let estimate = Estimate {
            user_writes: migratable,
            totp_writes: a.mfa.totp_exported,
            organization_writes: a.organizations,
            membership_writes: a.memberships,
            writes_per_second: rate,
            ..Estimate::default()
        };
        let writes = estimate.user_writes
            + estimate.totp_writes
            + estimate.organization_writes
            + estimate.membership_writes;
        let seconds = writes as f64 / rate;
        a.estimate = Estimate {
            seconds,
            human: format!(
                "about {} ({writes} writes at {rate:.0} per second)",
                human_duration(seconds)
            ),
            ..estimate
        };
    }
}

/// Clerk's enterprise connections by what the connections step will do
/// with them, before any hook or secret: created (by protocol), or not.
fn count_connections(
    a: &mut Assessment,
    connections: &[ferry_wire::clerk::sso::EnterpriseConnection],
    directories: u64,
) {
    for connection in connections {
        let (map, key) = match (connection.active, &connection.organization_id) {
            (false, _) => (&mut a.sso.not_created, "inactive"),
            (true, None) => (&mut a.sso.not_created, "without_organization"),
            (true, Some(_)) if connection.is_oidc() => (&mut a.sso.connections, "oidc"),
            (true, Some(_)) => (&mut a.sso.connections, "saml"),
        };
        *map.entry(key.to_owned()).or_default() += 1;
    }
    a.sso.directories = directories;
}
