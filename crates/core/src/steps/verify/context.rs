//! What every verification check shares: the step's inputs, the source
//! read once, the journal's ids, and the shape of a check's result.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::clerk::client::ClerkClient;
use crate::journal::{Action, Journal, Kind};
use crate::plan::{CanaryLogin, Plan, Sample};
use crate::report::verification::{Check, Status};
use crate::script::Script;
use crate::source::SourceUser;
use crate::source::read::{self, Item, Sources};
use crate::steps::error::StepError;
use crate::workos::client::WorkosClient;
use ferry_wire::clerk::model::OrganizationMembership;
use ferry_wire::workos::model::User;

/// How many failing examples a check names.
pub(crate) const EXAMPLES: usize = 5;

/// Reads in flight at once (the WorkOS client's buckets still pace them).
pub(crate) const PARALLEL_READS: usize = 100;

pub struct VerifyStep<'a> {
    pub plan: &'a Plan,
    pub script: Option<&'a Script>,
    pub users_ctx: Value,
    pub memberships_ctx: Value,
    pub workos: &'a WorkosClient,
    pub clerk: Option<&'a ClerkClient>,
    pub journal: &'a Mutex<Journal>,
    pub api_key: ferry_wire::secret::Secret,
    /// Role keys to slugs, as the roles and memberships steps map them.
    pub roles: crate::mapping::role::RoleMapper<'a>,
    /// In a run, the steps that have ended: memberships are checked once
    /// the memberships step has (`None` for `ferry verify`, which runs alone).
    pub ended: Option<&'a crate::steps::ended::Ended>,
    /// Clerk's instance-wide membership listing, read once for the roles
    /// and the memberships checks (empty until the first asks).
    pub clerk_memberships: tokio::sync::OnceCell<Vec<OrganizationMembership>>,
}

/// What verify keeps of every source user.
pub(crate) struct Seen {
    pub(crate) sampled: HashMap<String, SourceUser>,
    /// Social-only users: Clerk id → (provider emails, Clerk primary email).
    pub(crate) social_only: HashMap<String, (Vec<String>, Option<String>)>,
    pub(crate) source_users: u64,
    /// Every Clerk user the source has now, as a hash of its id.
    pub(crate) ids: HashSet<u64>,
    /// SSO users: (Clerk id, email, the connection their account names).
    pub(crate) sso: Vec<(String, String, String)>,
}

/// A compact key for a Clerk id.
pub(crate) fn id_key(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

pub(crate) fn check(
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

pub(crate) fn skipped(id: &'static str, title: &'static str, why: &str) -> Check {
    Check {
        id: id.to_owned(),
        title: title.to_owned(),
        status: Status::Skipped,
        evidence: vec![why.to_owned()],
    }
}

impl VerifyStep<'_> {
    pub(crate) fn options(&self) -> (Sample, Vec<CanaryLogin>) {
        let settings = self.plan.verify().cloned().unwrap_or_default();
        (settings.sample, settings.logins)
    }

    pub(crate) fn journal_ids(&self, kind: Kind) -> Result<BTreeMap<String, String>, StepError> {
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

    pub(crate) fn excluded(&self, kind: Kind) -> Result<BTreeMap<&'static str, u64>, StepError> {
        let journal = self.journal.lock().expect("journal lock");
        let summary = journal.record_counts()?;
        Ok([Action::Skipped, Action::Rejected, Action::Failed]
            .into_iter()
            .map(|a| (a.as_str(), summary.count(kind, a)))
            .filter(|(_, n)| *n > 0)
            .collect())
    }

    /// Excluded records (skipped, rejected, failed) of users the source has now.
    pub(crate) fn excluded_in(
        &self,
        kind: Kind,
        ids: &HashSet<u64>,
    ) -> Result<BTreeMap<&'static str, u64>, StepError> {
        let journal = self.journal.lock().expect("journal lock");
        let mut counts = BTreeMap::new();
        for action in [Action::Skipped, Action::Rejected, Action::Failed] {
            let n = journal
                .records_with(kind, action)?
                .iter()
                .filter(|(id, _)| ids.contains(&id_key(id)))
                .count() as u64;
            if n > 0 {
                counts.insert(action.as_str(), n);
            }
        }
        Ok(counts)
    }

    pub(crate) async fn read_source(
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
            ids: HashSet::new(),
            sso: Vec::new(),
        };
        let collect = async {
            while let Some(item) = rx.recv().await {
                let Item::User(user) = item else { continue };
                seen.source_users += 1;
                seen.ids.insert(id_key(&user.id));
                let accounts = user.oauth_accounts();
                if !accounts.is_empty()
                    && !user.password_enabled()
                    && user.password_digest().is_none()
                {
                    let primary = user.primary().ok().map(|p| p.address);
                    let emails = accounts.into_iter().map(|a| a.email).collect();
                    seen.social_only.insert(user.id.clone(), (emails, primary));
                }
                if let Some(api) = &user.api {
                    let primary = user.primary().ok().map(|p| p.address);
                    for (connection, account_email) in api.enterprise_sign_ins() {
                        let email = primary.clone().unwrap_or(account_email);
                        seen.sso.push((user.id.clone(), email, connection));
                    }
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

    /// Clerk's instance-wide memberships, listed on first use only.
    pub(crate) async fn clerk_memberships(
        &self,
        clerk: &ClerkClient,
    ) -> Result<&[OrganizationMembership], StepError> {
        self.clerk_memberships
            .get_or_try_init(|| async {
                clerk
                    .instance_memberships()
                    .await
                    .map_err(|e| StepError::from(crate::source::read::SourceError::from(e)))
            })
            .await
            .map(Vec::as_slice)
    }

    /// Every WorkOS user, listed in segments cut at the migrated users' ids.
    pub(crate) async fn all_workos_users(
        &self,
        migrated: &BTreeMap<String, String>,
    ) -> Result<HashMap<String, User>, StepError> {
        let known = migrated.values().map(String::as_str);
        let listing = crate::target::reconcile::list_users(self.workos, known)
            .await
            .map_err(StepError::from)?;
        Ok(listing.into_by_id())
    }
}

/// `N` users spread evenly over the migrated ones, or all of them.
pub(crate) fn pick_sample(migrated: &BTreeMap<String, String>, sample: Sample) -> HashSet<String> {
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
