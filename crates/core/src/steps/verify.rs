//! The `verify` step: the checklist that proves a migration, each check with
//! pass or fail and its evidence.
//!
//! 1. users: every user the journal says was migrated exists in WorkOS; the
//!    counts match Clerk's minus the listed exclusions; a sample (or all)
//!    matches field by field (email, names, email_verified, external_id).
//! 2. logins: the plan's canary logins sign in with their passwords (a 200,
//!    or an MFA or organization-selection continuation, which proves the
//!    password too).
//! 3. organizations: the counts match.
//! 4. memberships: the sampled users' memberships and roles match Clerk's.
//! 5. emails: no two WorkOS users share an email, and every social-only
//!    user's provider email is its WorkOS email (what auto-linking needs).
//! 6. totp: every migrated TOTP factor exists.
//!
//! Read-only, apart from the canary sign-ins, which keep to WorkOS's
//! authenticate limit.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;

use super::error::StepError;
use crate::clerk::client::ClerkClient;
use crate::journal::{Action, Journal, Kind};
use crate::mapping::membership::map_role;
use crate::mapping::user::{Mapped, UserSettings, map_user};
use crate::plan::{CanaryLogin, Plan, Sample};
use crate::report::verification::{Check, Status, Verification};
use crate::script::Script;
use crate::source::SourceUser;
use crate::source::read::{self, Item, Sources};
use crate::workos::client::{MembershipFilter, WorkosClient};
use ferry_wire::workos::model::User;

/// How many failing examples a check names.
const EXAMPLES: usize = 5;

/// Reads in flight at once (the WorkOS client's buckets still pace them).
const PARALLEL_READS: usize = 32;

pub struct VerifyStep<'a> {
    pub plan: &'a Plan,
    pub script: Option<&'a Script>,
    pub users_ctx: Value,
    pub memberships_ctx: Value,
    pub workos: &'a WorkosClient,
    pub clerk: Option<&'a ClerkClient>,
    pub journal: &'a Mutex<Journal>,
    pub api_key: ferry_wire::secret::Secret,
}

/// What verify keeps of every source user.
struct Seen {
    sampled: HashMap<String, SourceUser>,
    /// Social-only users: Clerk id → (provider emails, Clerk primary email).
    social_only: HashMap<String, (Vec<String>, Option<String>)>,
    source_users: u64,
}

fn check(
    id: &'static str,
    title: &'static str,
    failures: Vec<String>,
    mut evidence: Vec<String>,
) -> Check {
    let status = if failures.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    let count = failures.len();
    evidence.extend(failures.into_iter().take(EXAMPLES));
    if count > EXAMPLES {
        evidence.push(format!("… and {} more", count - EXAMPLES));
    }
    Check {
        id: id.to_owned(),
        title: title.to_owned(),
        status,
        evidence,
    }
}

fn skipped(id: &'static str, title: &'static str, why: &str) -> Check {
    Check {
        id: id.to_owned(),
        title: title.to_owned(),
        status: Status::Skipped,
        evidence: vec![why.to_owned()],
    }
}

impl VerifyStep<'_> {
    fn options(&self) -> (Sample, Vec<CanaryLogin>) {
        match self.plan.verify() {
            Some(options) => (
                options.sample.unwrap_or(Sample::Count(100)),
                options.logins.clone().unwrap_or_default(),
            ),
            _ => (Sample::Count(100), Vec::new()),
        }
    }

    fn journal_ids(&self, kind: Kind) -> Result<BTreeMap<String, String>, StepError> {
        let journal = self.journal.lock().expect("journal lock");
        let mut ids = BTreeMap::new();
        for action in [
            Action::Created,
            Action::Updated,
            Action::Adopted,
            Action::Unchanged,
        ] {
            for (source, state) in journal.records_with(kind, action)? {
                if let Some(target) = state.target_id {
                    ids.insert(source, target);
                }
            }
        }
        Ok(ids)
    }

    fn excluded(&self, kind: Kind) -> Result<BTreeMap<&'static str, u64>, StepError> {
        let journal = self.journal.lock().expect("journal lock");
        let summary = journal.summary()?;
        Ok([Action::Skipped, Action::Rejected, Action::Failed]
            .into_iter()
            .map(|a| (a.as_str(), summary.count(kind, a)))
            .filter(|(_, n)| *n > 0)
            .collect())
    }

    pub async fn run(&self, sources: Sources<'_>) -> Result<Verification, StepError> {
        let (sample, logins) = self.options();
        let migrated = self.journal_ids(Kind::User)?;
        let sampled_ids = pick_sample(&migrated, sample);
        let seen = self.read_source(sources, &sampled_ids).await?;
        let workos_users = self.all_workos_users().await?;

        let mut checks = vec![self.check_users(&migrated, &seen, &workos_users)?];
        checks.push(self.check_logins(&logins).await);
        checks.push(self.check_organizations().await?);
        checks.push(self.check_memberships(&seen, &migrated).await?);
        checks.push(self.check_emails(&workos_users, &seen, &migrated));
        checks.push(self.check_totp().await?);
        Ok(Verification {
            passed: checks.iter().all(|c| c.status != Status::Fail),
            checks,
        })
    }

    async fn read_source(
        &self,
        sources: Sources<'_>,
        sampled: &HashSet<String>,
    ) -> Result<Seen, StepError> {
        let (tx, mut rx) = mpsc::channel::<Item>(512);
        let reader = read::read_users(sources, tx);
        let mut seen = Seen {
            sampled: HashMap::new(),
            social_only: HashMap::new(),
            source_users: 0,
        };
        let collect = async {
            while let Some(item) = rx.recv().await {
                let Item::User(user) = item else { continue };
                seen.source_users += 1;
                let accounts = user.oauth_accounts();
                if !accounts.is_empty()
                    && !user.password_enabled()
                    && user.password_digest().is_none()
                {
                    let primary = user.primary().ok().map(|p| p.address);
                    let emails = accounts.into_iter().map(|a| a.email).collect();
                    seen.social_only.insert(user.id.clone(), (emails, primary));
                }
                if sampled.contains(&user.id) {
                    seen.sampled.insert(user.id.clone(), *user);
                }
            }
        };
        let (read, ()) = tokio::join!(reader, collect);
        read?;
        Ok(seen)
    }

    async fn all_workos_users(&self) -> Result<HashMap<String, User>, StepError> {
        let mut users = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .workos
                .users_page(after.as_deref())
                .await
                .map_err(StepError::Target)?;
            for user in page.data {
                users.insert(user.id.clone(), user);
            }
            match page.list_metadata.after {
                Some(next) => after = Some(next),
                None => return Ok(users),
            }
        }
    }

    fn check_users(
        &self,
        migrated: &BTreeMap<String, String>,
        seen: &Seen,
        workos: &HashMap<String, User>,
    ) -> Result<Check, StepError> {
        let mut failures = Vec::new();
        for (clerk_id, target) in migrated {
            match workos.get(target) {
                None => failures.push(format!("{clerk_id}: WorkOS user {target} is missing")),
                Some(user) if user.external_id.as_deref() != Some(clerk_id.as_str()) => failures
                    .push(format!(
                        "{clerk_id}: WorkOS user {target} has external_id {:?}",
                        user.external_id
                    )),
                Some(_) => {}
            }
        }
        let excluded = self.excluded(Kind::User)?;
        let excluded_total: u64 = excluded.values().sum();
        let expected = seen.source_users.saturating_sub(excluded_total);
        let present = migrated
            .values()
            .filter(|t| workos.contains_key(*t))
            .count() as u64;
        if expected != migrated.len() as u64 {
            failures.push(format!(
                "Clerk has {} users, {excluded_total} excluded, so {expected} should be migrated; the journal has {}",
                seen.source_users,
                migrated.len()
            ));
        }
        let settings = UserSettings::from_options(&self.plan.users().cloned().unwrap_or_default());
        let mut compared = 0;
        for (clerk_id, user) in &seen.sampled {
            let Some(actual) = migrated.get(clerk_id).and_then(|t| workos.get(t)) else {
                continue;
            };
            let Mapped::Ready(desired) = map_user(user, &settings, self.script, &self.users_ctx)
            else {
                failures.push(format!(
                    "{clerk_id}: migrated, but the plan now maps it to a skip or reject"
                ));
                continue;
            };
            compared += 1;
            let p = &desired.payload;
            let same = |a: Option<&str>, b: Option<&str>| a.unwrap_or("") == b.unwrap_or("");
            let mut differ = Vec::new();
            if !actual.email.eq_ignore_ascii_case(&p.email) {
                differ.push(format!("email {} ≠ {}", actual.email, p.email));
            }
            if !same(actual.first_name.as_deref(), p.first_name.as_deref()) {
                differ.push("first_name".to_owned());
            }
            if !same(actual.last_name.as_deref(), p.last_name.as_deref()) {
                differ.push("last_name".to_owned());
            }
            if actual.email_verified != p.email_verified {
                differ.push(format!(
                    "email_verified {} ≠ {}",
                    actual.email_verified, p.email_verified
                ));
            }
            if actual.external_id.as_deref() != Some(p.external_id.as_str()) {
                differ.push("external_id".to_owned());
            }
            if !differ.is_empty() {
                failures.push(format!("{clerk_id}: {}", differ.join(", ")));
            }
        }
        let parts: Vec<String> = excluded.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let evidence = vec![
            format!(
                "Clerk: {} users; excluded: {} ({}); migrated: {}; found in WorkOS: {present}",
                seen.source_users,
                excluded_total,
                if parts.is_empty() {
                    "none".to_owned()
                } else {
                    parts.join(", ")
                },
                migrated.len()
            ),
            format!(
                "{compared} sampled users compared field by field (email, names, email_verified, external_id)"
            ),
        ];
        Ok(check(
            "users",
            "Every migrated user exists in WorkOS, counts match, a sample matches field by field",
            failures,
            evidence,
        ))
    }

    async fn check_logins(&self, logins: &[CanaryLogin]) -> Check {
        const TITLE: &str = "Password sign-in works for the canary logins";
        if logins.is_empty() {
            return skipped(
                "logins",
                TITLE,
                "the plan names no canary logins (verify: { logins: [...] })",
            );
        }
        let client_id = self
            .plan
            .target
            .as_ref()
            .and_then(|t| t.client_id.clone())
            .unwrap_or_default();
        let mut failures = Vec::new();
        let mut evidence = Vec::new();
        for login in logins {
            match self
                .workos
                .authenticate(&client_id, &self.api_key, &login.email, &login.password)
                .await
            {
                Ok(outcome) => evidence.push(format!("{}: {outcome}", login.email)),
                Err(reason) => failures.push(format!("{}: {reason}", login.email)),
            }
        }
        check("logins", TITLE, failures, evidence)
    }

    async fn check_organizations(&self) -> Result<Check, StepError> {
        const TITLE: &str = "Organization counts match";
        let (Some(clerk), Some(_)) = (self.clerk, self.plan.has_organizations().then_some(()))
        else {
            return Ok(skipped(
                "organizations",
                TITLE,
                "the plan has no organizations step",
            ));
        };
        let clerk_ids: BTreeSet<String> = clerk
            .all_organizations()
            .await
            .map_err(crate::source::read::SourceError::from)?
            .into_iter()
            .map(|o| o.id)
            .collect();
        let mut in_workos = 0u64;
        let mut after: Option<String> = None;
        loop {
            let page = self
                .workos
                .organizations_page(after.as_deref())
                .await
                .map_err(StepError::Target)?;
            in_workos += page
                .data
                .iter()
                .filter(|o| {
                    o.external_id
                        .as_ref()
                        .is_some_and(|e| clerk_ids.contains(e))
                })
                .count() as u64;
            match page.list_metadata.after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let excluded: u64 = self.excluded(Kind::Organization)?.values().sum();
        let expected = (clerk_ids.len() as u64).saturating_sub(excluded);
        let failures = if in_workos == expected {
            Vec::new()
        } else {
            vec![format!(
                "expected {expected} organizations in WorkOS, found {in_workos}"
            )]
        };
        let evidence = vec![format!(
            "Clerk: {} organizations; excluded: {excluded}; in WorkOS with a Clerk external_id: {in_workos}",
            clerk_ids.len()
        )];
        Ok(check("organizations", TITLE, failures, evidence))
    }

    async fn check_memberships(
        &self,
        seen: &Seen,
        migrated: &BTreeMap<String, String>,
    ) -> Result<Check, StepError> {
        const TITLE: &str = "Memberships and roles of the sampled users match Clerk's";
        let (Some(clerk), Some(options)) = (self.clerk, self.plan.memberships()) else {
            return Ok(skipped(
                "memberships",
                TITLE,
                "the plan has no memberships step",
            ));
        };
        let orgs = self.journal_ids(Kind::Organization)?;
        let org_by_target: HashMap<&str, &str> =
            orgs.iter().map(|(s, t)| (t.as_str(), s.as_str())).collect();
        let (orgs, org_by_target) = (&orgs, &org_by_target);
        // Each sampled user costs a Clerk read and a WorkOS read: ask many at once.
        let compared: Vec<Result<Vec<String>, StepError>> = stream::iter(
            seen.sampled
                .keys()
                .filter_map(|id| migrated.get(id).map(|target| (id, target))),
        )
        .map(|(clerk_id, target)| async move {
            let mut expected = BTreeSet::new();
            let memberships = clerk
                .user_memberships(clerk_id)
                .await
                .map_err(crate::source::read::SourceError::from)?;
            for membership in memberships {
                if !orgs.contains_key(&membership.organization.id) {
                    continue;
                }
                if let Ok(Some(slug)) = map_role(
                    &membership,
                    options.roles.as_ref(),
                    self.script,
                    &self.memberships_ctx,
                ) {
                    expected.insert((membership.organization.id.clone(), slug));
                }
            }
            let page = self
                .workos
                .memberships_page(MembershipFilter::User(target), None)
                .await
                .map_err(StepError::Target)?;
            let actual: BTreeSet<(String, String)> = page
                .data
                .into_iter()
                .filter_map(|m| {
                    Some((
                        org_by_target.get(m.organization_id.as_str())?.to_string(),
                        m.role.slug,
                    ))
                })
                .collect();
            let mut problems = Vec::new();
            for (org, slug) in expected.difference(&actual) {
                problems.push(format!("{clerk_id}: missing in {org} as {slug}"));
            }
            for (org, slug) in actual.difference(&expected) {
                problems.push(format!("{clerk_id}: unexpected in {org} as {slug}"));
            }
            Ok(problems)
        })
        .buffer_unordered(PARALLEL_READS)
        .collect()
        .await;
        let count = compared.len();
        let mut failures = Vec::new();
        for result in compared {
            failures.extend(result?);
        }
        failures.sort();
        Ok(check(
            "memberships",
            TITLE,
            failures,
            vec![format!("{count} sampled users' memberships compared")],
        ))
    }

    fn check_emails(
        &self,
        workos: &HashMap<String, User>,
        seen: &Seen,
        migrated: &BTreeMap<String, String>,
    ) -> Check {
        let mut by_email: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for user in workos.values() {
            by_email
                .entry(user.email.to_lowercase())
                .or_default()
                .push(&user.id);
        }
        let mut failures: Vec<String> = by_email
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .map(|(email, ids)| format!("{email} is shared by {}", ids.join(", ")))
            .collect();
        let mut social_checked = 0;
        let mut known_in_clerk = 0;
        for (clerk_id, (provider_emails, clerk_primary)) in &seen.social_only {
            let Some(user) = migrated.get(clerk_id).and_then(|t| workos.get(t)) else {
                continue;
            };
            social_checked += 1;
            if provider_emails
                .iter()
                .all(|e| e.eq_ignore_ascii_case(&user.email))
            {
                continue;
            }
            let differed_in_clerk = clerk_primary
                .as_ref()
                .is_none_or(|p| provider_emails.iter().any(|e| !e.eq_ignore_ascii_case(p)));
            if differed_in_clerk {
                // Already so in Clerk: the mfa_report step lists these users.
                known_in_clerk += 1;
            } else {
                failures.push(format!(
                    "{clerk_id}: signs in only with a social account for {}, but its WorkOS email is {} (WorkOS links by email)",
                    provider_emails.join(", "),
                    user.email
                ));
            }
        }
        let evidence = vec![
            format!(
                "{} WorkOS users, {} distinct emails",
                workos.len(),
                by_email.len()
            ),
            format!(
                "{social_checked} social-only users checked for a provider email equal to their WorkOS email"
            ),
            format!(
                "{known_in_clerk} of them already had a different provider email in Clerk (listed by mfa_report; not a migration fault)"
            ),
        ];
        check(
            "emails",
            "No two users share an email; social-only users will auto-link",
            failures,
            evidence,
        )
    }

    async fn check_totp(&self) -> Result<Check, StepError> {
        const TITLE: &str = "Migrated TOTP factors exist";
        let factors = self.journal_ids(Kind::TotpFactor)?;
        if factors.is_empty() {
            return Ok(skipped("totp", TITLE, "no TOTP factor was migrated"));
        }
        let users = self.journal_ids(Kind::User)?;
        let users = &users;
        let results: Vec<Result<Option<String>, StepError>> = stream::iter(factors.iter())
            .map(|(clerk_id, factor_id)| async move {
                let Some(user) = users.get(clerk_id) else {
                    return Ok(Some(format!("{clerk_id}: a factor but no migrated user")));
                };
                let present = self
                    .workos
                    .auth_factors(user)
                    .await
                    .map_err(StepError::Target)?
                    .iter()
                    .any(|f| &f.id == factor_id && f.kind == "totp");
                Ok((!present).then(|| {
                    format!(
                        "{clerk_id}: TOTP factor {factor_id} is missing from WorkOS user {user}"
                    )
                }))
            })
            .buffer_unordered(PARALLEL_READS)
            .collect()
            .await;
        let mut failures = Vec::new();
        for result in results {
            failures.extend(result?);
        }
        failures.sort();
        let evidence = vec![format!("{} factors checked", factors.len())];
        Ok(check("totp", TITLE, failures, evidence))
    }
}

/// `N` users spread evenly over the migrated ones, or all of them.
fn pick_sample(migrated: &BTreeMap<String, String>, sample: Sample) -> HashSet<String> {
    match sample {
        Sample::All => migrated.keys().cloned().collect(),
        Sample::Count(n) => {
            let n = (n as usize).min(migrated.len());
            if n == 0 {
                return HashSet::new();
            }
            let step = migrated.len() as f64 / n as f64;
            let ids: Vec<&String> = migrated.keys().collect();
            (0..n)
                .map(|i| ids[(i as f64 * step) as usize].clone())
                .collect()
        }
    }
}
