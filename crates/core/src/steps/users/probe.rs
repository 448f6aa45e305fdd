//! Hash probes: the target decides how each cohort's digests are sent,
//! before the users step writes its first user.
//!
//! A cohort is every exported user of one Clerk hasher. For each cohort the
//! export holds, ferry creates a probe user on the target with a fresh
//! password hashed exactly as Clerk writes that cohort's digests and
//! converted exactly as its users' would be ([`crate::mapping::password`]),
//! signs in with it, and deletes it; conversions are tried in order until
//! one signs in. A sign-in counts when WorkOS answers 200, or a 403 it
//! raises only after the password is right (email verification, MFA,
//! organization selection). A cohort no conversion signs in is not sent:
//! its users are created without a password and listed `hash_probe_failed`.
//!
//! A control probe with a plain password decides whether the cohorts'
//! verdicts count (it runs beside them, and the cohorts beside each other,
//! so the probes cost the users step about one cohort's time): if even it
//! cannot sign in, the environment takes no password sign-in through the
//! API, no verdict is recorded, and every cohort is sent with its first
//! conversion, marked not probed (a failed control never drops a password).
//!
//! Every probe user is journaled before its create and marked removed
//! after its delete; one a crash left behind is deleted by the next
//! command ([`remove_leftovers`]), once WorkOS confirms it is the probe (its
//! external_id). Verdicts are journaled per target with the conversions
//! they tested, so a rerun probes again only a cohort whose conversions
//! changed. Each probe is a `user.created` and a `user.deleted` event on the
//! target, delivered to the app's webhooks unless the plan pauses them.

use std::collections::BTreeMap;
use std::path::Path;

use crate::journal::{Journal, ProbeUser, RecordedVerdict};
use crate::mapping::password::clerk::{self, Parsed};
use crate::mapping::password::convert::{self, CONVERSIONS_VERSION, Conversion};
use crate::mapping::password::{self, Conversions, PasswordPlan, Verdict, forge};
use crate::plan::{PasswordPolicy, UserSettings};
use crate::steps::error::StepError;
use crate::workos::client::{SignIn, WorkosClient};
use ferry_wire::clerk::export::{ExportError, ExportReader};
use ferry_wire::clerk::legacy;
use ferry_wire::secret::Secret;
use ferry_wire::workos::model::CreateUser;

/// Export lines named in a message about malformed digests, at most.
const LINES_NAMED: usize = 10;

/// One cohort as the export holds it.
pub struct Cohort {
    pub users: u64,
    /// A digest of the cohort, taken apart: its parameters make the probe's.
    sample: Parsed,
}

/// What the export's digests come to, before anything is written.
#[derive(Default)]
pub struct Scan {
    /// The cohorts WorkOS has a type for, by Clerk hasher.
    pub cohorts: BTreeMap<String, Cohort>,
    /// Digests that do not match their hasher: (export line, hasher, why).
    pub malformed: Vec<(u64, String, String)>,
    pub malformed_count: u64,
}

impl Scan {
    /// Reads every digest of the CSV export (or else the legacy JSON one).
    pub fn of_export(csv: Option<&Path>, json: Option<&Path>) -> Result<Self, ExportError> {
        let mut scan = Self::default();
        match (csv, json) {
            (Some(path), _) => {
                let mut reader = ExportReader::open(path)?;
                while let Some(cells) = reader.next_password() {
                    scan.add(cells.line, cells.hasher.as_deref(), cells.digest.as_ref());
                }
            }
            (None, Some(path)) => {
                for row in legacy::read(path)?.into_iter().flatten() {
                    scan.add(
                        row.line,
                        row.password_hasher.as_deref(),
                        row.password_digest.as_ref(),
                    );
                }
            }
            (None, None) => {}
        }
        Ok(scan)
    }

    fn add(&mut self, line: u64, hasher: Option<&str>, digest: Option<&Secret>) {
        let (Some(hasher), Some(digest)) = (
            hasher.map(str::trim).filter(|h| !h.is_empty()),
            digest.map(|d| d.expose().trim()).filter(|d| !d.is_empty()),
        ) else {
            return;
        };
        if convert::candidates(hasher).is_empty() {
            return; // WorkOS has no type for it: listed for a reset, never probed.
        }
        match clerk::parse(hasher, digest) {
            Ok(parsed) => {
                self.cohorts
                    .entry(hasher.to_owned())
                    .or_insert(Cohort {
                        users: 0,
                        sample: parsed,
                    })
                    .users += 1;
            }
            Err(reason) => {
                self.malformed_count += 1;
                if self.malformed.len() < LINES_NAMED {
                    self.malformed
                        .push((line, hasher.to_owned(), reason.to_string()));
                }
            }
        }
    }

    /// One line naming the export lines of the digests never sent, if any.
    pub fn malformed_message(&self, export: &str) -> Option<String> {
        let (line, hasher, why) = self.malformed.first()?;
        if self.malformed_count == 1 {
            return Some(format!(
                "{export} line {line}: the {hasher} digest is never sent ({why}); the user is created without a password and listed for a reset"
            ));
        }
        let lines: Vec<String> = self
            .malformed
            .iter()
            .map(|(line, ..)| line.to_string())
            .collect();
        let more = self.malformed_count - self.malformed.len() as u64;
        Some(format!(
            "{export}: {} digests are never sent (lines {}{}; line {line}: the {hasher} digest, {why}); those users are created without a password and listed for a reset",
            self.malformed_count,
            lines.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
        ))
    }
}

/// The conversions a cohort's probe tries, with their version: a recorded
/// verdict holds only while this is what it tested.
pub fn conversions_key(hasher: &str) -> String {
    let ids: Vec<&str> = convert::candidates(hasher)
        .iter()
        .map(Conversion::id)
        .collect();
    format!("v{CONVERSIONS_VERSION}:{}", ids.join(","))
}

/// The recorded verdicts that still hold, as conversions.
pub fn recorded(journal: &Journal) -> Result<(Conversions, Vec<String>), StepError> {
    let mut conversions = Conversions::default();
    let mut settled = Vec::new();
    for verdict in journal.probe_verdicts()? {
        if verdict.conversions != conversions_key(&verdict.hasher) {
            continue;
        }
        let found = match (verdict.verdict.as_str(), verdict.conversion.as_deref()) {
            ("confirmed", Some(id)) => {
                Conversion::by_id(&verdict.hasher, id).map(Verdict::Confirmed)
            }
            ("failed", _) => Some(Verdict::Failed(verdict.detail.clone())),
            _ => None,
        };
        if let Some(found) = found {
            conversions = conversions.with(&verdict.hasher, found);
            settled.push(verdict.hasher);
        }
    }
    Ok((conversions, settled))
}

/// What the probes came to for this run.
pub struct Settled {
    pub conversions: Conversions,
    /// What a person should know: probes made, verdicts, what was not probed.
    pub notes: Vec<String>,
    /// Of the notes, those that say a cohort is not sent or not probed.
    pub warnings: Vec<String>,
}

/// The probe users' address and the target's sign-in credentials.
pub struct Prober<'a> {
    pub workos: &'a WorkosClient,
    pub journal: &'a Journal,
    pub run_id: i64,
    pub client_id: &'a str,
    pub api_key: &'a Secret,
    /// `local@domain`: probes are `local+ferry-<token>@domain`.
    pub address: &'a str,
}

/// What one probe user came to.
enum Probed {
    SignedIn,
    /// Refused at its create (the digest) or at its sign-in: why.
    Refused(String),
}

impl Prober<'_> {
    /// Makes, signs in and deletes one probe user with `password`, sent
    /// plain or as `hash`. An answer ferry cannot read stops the probe (the
    /// journal keeps the probe user, for the next command to remove).
    async fn probe(
        &self,
        cohort: &str,
        password: &Secret,
        hash: Option<(&'static str, Secret, Option<&'static str>)>,
    ) -> Result<Probed, StepError> {
        // Lower case: it goes into an email address, which WorkOS lowercases.
        let token = forge::random_text(12, &forge::ALPHANUMERIC[..26]);
        let (local, domain) = self
            .address
            .split_once('@')
            .unwrap_or((self.address, "example.com"));
        let user = ProbeUser {
            email: format!("{local}+ferry-{token}@{domain}"),
            external_id: format!("ferry-probe-{token}"),
            cohort: cohort.to_owned(),
            target_id: None,
            token,
        };
        self.journal.probe_user_started(self.run_id, &user)?;
        let mut body = CreateUser {
            email: user.email.clone(),
            first_name: Some("ferry".into()),
            last_name: Some("hash probe".into()),
            // Verified, so no verification email is ever sent to the address.
            email_verified: Some(true),
            external_id: Some(user.external_id.clone()),
            ..CreateUser::default()
        };
        match hash {
            Some((hash_type, hash, salt_position)) => {
                body.password_hash = Some(hash);
                body.password_hash_type = Some(hash_type.to_owned());
                body.password_salt_position = salt_position.map(str::to_owned);
            }
            None => body.password = Some(password.clone()),
        }
        let made = match self.workos.create_user(&body).await {
            Ok(made) if made.external_id.as_deref() == Some(user.external_id.as_str()) => made,
            // Any other answer is looked behind first: a refusal may follow
            // an attempt whose answer was lost but which made the user.
            answer => match (
                self.workos.user_by_external_id(&user.external_id).await?,
                answer,
            ) {
                (Some(made), _) => made,
                (None, Err(error))
                    if error
                        .status()
                        .is_some_and(|s| (400..500).contains(&s) && s != 429) =>
                {
                    self.journal.probe_user_removed(&user.token)?;
                    return Ok(Probed::Refused(format!(
                        "create refused: {}",
                        error.reason().detail
                    )));
                }
                (None, _) => {
                    return Err(StepError::Unreadable(
                        "a probe user's create had no readable answer and WorkOS lists no such user",
                    ));
                }
            },
        };
        self.journal.probe_user_made(&user.token, &made.id)?;
        let signed_in = self
            .workos
            .sign_in(self.client_id, self.api_key, &user.email, password)
            .await;
        match self.workos.delete_user(&made.id).await {
            Ok(()) => self.journal.probe_user_removed(&user.token)?,
            Err(error) if error.is_not_found() => self.journal.probe_user_removed(&user.token)?,
            Err(error) => tracing::warn!(
                "probe user {} not deleted ({}); the next command removes it",
                made.id,
                error.reason().detail
            ),
        }
        match signed_in {
            SignIn::Accepted(_) => Ok(Probed::SignedIn),
            SignIn::Refused(why) => Ok(Probed::Refused(format!("sign-in refused: {why}"))),
            SignIn::Unanswered(_) => Err(StepError::Unreadable(
                "a probe's sign-in had no readable answer: the cohort cannot be judged",
            )),
        }
    }

    /// Tries `hasher`'s conversions in order until one signs a probe in.
    async fn cohort(&self, hasher: &str, cohort: &Cohort) -> Result<Verdict, StepError> {
        let mut refusals = Vec::new();
        for candidate in convert::candidates(hasher) {
            let password = forge::probe_password();
            let Some(digest) = forge::digest(hasher, &cohort.sample, &password) else {
                refusals.push(format!(
                    "{}: ferry cannot make a digest to probe it",
                    candidate.id()
                ));
                continue;
            };
            let pinned = Conversions::default().with(hasher, Verdict::Confirmed(*candidate));
            let hash = match password::plan(Some(hasher), Some(&digest), &pinned) {
                PasswordPlan::Import {
                    hash_type,
                    hash,
                    salt_position,
                    ..
                } => (hash_type, hash, salt_position),
                _ => {
                    refusals.push(format!(
                        "{}: the probe's digest does not convert",
                        candidate.id()
                    ));
                    continue;
                }
            };
            match self.probe(hasher, &password, Some(hash)).await? {
                Probed::SignedIn => return Ok(Verdict::Confirmed(*candidate)),
                Probed::Refused(why) => refusals.push(format!("{}: {why}", candidate.id())),
            }
        }
        Ok(Verdict::Failed(refusals.join("; ")))
    }
}

/// Removes the probe users a crash or a failed delete left behind, each
/// only once WorkOS shows it is the probe (its external_id). Returns how
/// many were deleted.
pub async fn remove_leftovers(journal: &Journal, workos: &WorkosClient) -> Result<u64, StepError> {
    let mut deleted = 0;
    for leftover in journal.leftover_probe_users()? {
        let found = match &leftover.target_id {
            Some(id) => workos.user(id).await?,
            None => workos.user_by_external_id(&leftover.external_id).await?,
        };
        match found {
            Some(user) if user.external_id.as_deref() == Some(leftover.external_id.as_str()) => {
                match workos.delete_user(&user.id).await {
                    Ok(()) => deleted += 1,
                    Err(error) if error.is_not_found() => {}
                    Err(error) => return Err(error.into()),
                }
            }
            // Gone, never made, or the id now someone else's: nothing of ours to delete.
            _ => {}
        }
        journal.probe_user_removed(&leftover.token)?;
    }
    Ok(deleted)
}

/// Decides each cohort's conversion for a run: the recorded verdicts that
/// still hold, then probes for the rest (unless the plan turns them off).
pub async fn settle(
    settings: &UserSettings,
    scan: &Scan,
    prober: Result<Prober<'_>, &str>,
) -> Result<Settled, StepError> {
    let mut settled = Settled {
        conversions: Conversions::default(),
        notes: Vec::new(),
        warnings: Vec::new(),
    };
    if settings.passwords == PasswordPolicy::Skip || scan.cohorts.is_empty() {
        return Ok(settled);
    }
    let prober = match prober {
        Ok(prober) => prober,
        Err(why) => {
            settled.warnings.push(format!(
                "hash probes not made ({why}): {} sent with their documented or assumed layouts, not probed",
                cohort_names(scan.cohorts.keys())
            ));
            return Ok(settled);
        }
    };
    let (mut conversions, known) = recorded(prober.journal)?;
    let to_probe: Vec<(&String, &Cohort)> = scan
        .cohorts
        .iter()
        .filter(|(hasher, _)| !known.contains(hasher))
        .collect();
    if to_probe.is_empty() {
        settled.notes.push(format!(
            "hash probes: every cohort ({}) was probed on this target before",
            cohort_names(scan.cohorts.keys())
        ));
        settled.conversions = conversions;
        return Ok(settled);
    }
    // The control and the cohorts are independent: probed at once (each
    // cohort tries its layouts in order), so the probes cost the users step
    // about one cohort's time. The cohorts' verdicts count only once the
    // control signed in.
    let control = forge::probe_password();
    let (control, verdicts) = futures_util::future::join(
        prober.probe("control", &control, None),
        futures_util::future::join_all(
            to_probe
                .iter()
                .map(|(hasher, cohort)| prober.cohort(hasher, cohort)),
        ),
    )
    .await;
    if let Probed::Refused(why) = control? {
        settled.warnings.push(format!(
            "hash probes: the control probe (a plain password) could not sign in ({why}): this environment does not take password sign-ins through the API, so {} are sent with their documented or assumed layouts, not probed",
            cohort_names(to_probe.iter().map(|(hasher, _)| *hasher))
        ));
        settled.conversions = conversions;
        return Ok(settled);
    }
    for ((hasher, cohort), verdict) in to_probe.into_iter().zip(verdicts) {
        let verdict = verdict?;
        let (word, conversion, detail) = match &verdict {
            Verdict::Confirmed(conversion) => (
                "confirmed",
                Some(conversion.id().to_owned()),
                format!("{} as {} signed in", hasher, conversion.id()),
            ),
            Verdict::Failed(why) => ("failed", None, why.clone()),
        };
        prober.journal.record_verdict(
            prober.run_id,
            &RecordedVerdict {
                hasher: hasher.clone(),
                conversions: conversions_key(hasher),
                verdict: word.to_owned(),
                conversion,
                detail: detail.clone(),
            },
        )?;
        match &verdict {
            Verdict::Confirmed(conversion) => settled.notes.push(format!(
                "hash probe: {hasher} ({}) confirmed as {}",
                users(cohort.users),
                conversion.id()
            )),
            Verdict::Failed(why) => settled.warnings.push(format!(
                "hash probe: {hasher} ({}) failed on this target ({why}): those users are created without a password and listed hash_probe_failed",
                users(cohort.users)
            )),
        }
        conversions = conversions.with(hasher, verdict);
    }
    let counts = prober.journal.probe_counts()?;
    settled.notes.push(format!(
        "hash probes: {} probe users made and {} deleted on this target so far",
        counts.made, counts.removed
    ));
    settled.conversions = conversions;
    Ok(settled)
}

/// What `ferry plan` says of the probes a run would make.
pub fn preview(settings: &UserSettings, scan: &Scan, journal: Option<&Journal>) -> Vec<String> {
    if settings.passwords == PasswordPolicy::Skip || scan.cohorts.is_empty() {
        return Vec::new();
    }
    if !settings.probe {
        return vec![format!(
            "hash probes off: {} would be sent with their documented or assumed layouts, not probed",
            cohort_names(scan.cohorts.keys())
        )];
    }
    let known = journal
        .and_then(|journal| recorded(journal).ok())
        .map(|(_, known)| known)
        .unwrap_or_default();
    let mut lines = Vec::new();
    let to_probe: Vec<String> = scan
        .cohorts
        .iter()
        .filter(|(hasher, _)| !known.contains(hasher))
        .map(|(hasher, cohort)| {
            let layouts: Vec<&str> = convert::candidates(hasher)
                .iter()
                .map(Conversion::id)
                .collect();
            format!(
                "{hasher} ({}; tries {})",
                users(cohort.users),
                layouts.join(", ")
            )
        })
        .collect();
    if to_probe.is_empty() {
        lines.push("hash probes: none; every cohort was probed on this target before".into());
    } else {
        lines.push(format!(
            "hash probes: a control probe, then {}; each probe creates a user at {} (+ferry-<token>), signs in and deletes it: a user.created and a user.deleted event each",
            to_probe.join(", "),
            settings.probe_address
        ));
    }
    lines
}

fn users(count: u64) -> String {
    match count {
        1 => "1 user".to_owned(),
        _ => format!("{count} users"),
    }
}

fn cohort_names<'a>(hashers: impl Iterator<Item = &'a String>) -> String {
    hashers.map(String::as_str).collect::<Vec<_>>().join(", ")
}
