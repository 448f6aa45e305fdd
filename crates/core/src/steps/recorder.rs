//! Where outcomes go: one task owns the journal's write connection and
//! commits outcomes in batches (a commit per record would cap a run at the
//! disk's sync rate), appends failures to the run's failures file as they
//! happen (and skipped users and password resets), keeps the counts, and
//! tells the observer each outcome once it is recorded.
//!
//! An outcome reaches the recorder only after the API confirmed it. A crash
//! loses at most the last unflushed batch; a rerun finds those records in
//! WorkOS through their external_id and adopts them.

use crate::support::reason::Reason;
use ferry_wire::inert::CsvWriter;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::journal::{Action, Entry, Journal, JournalError, Kind, Outcome, SignsIn};
use crate::observe::{Event, Observer};
use crate::report::model::ListFile;
use crate::report::outcome::Tally;

const BATCH: usize = 200;
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// An outcome, plus what the run's lists and the report need to know.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub outcome: Outcome,
    /// For the lists; not stored in the journal.
    pub email: Option<String>,
    /// Counts toward progress (one per source record, not per sub-record).
    pub advances: bool,
    /// A password that was not imported: why (the user needs a reset).
    pub password_reset: Option<Reason>,
    /// Already in the journal exactly so (a sealed user, see
    /// `steps::users::seal`): counted and reported, not written.
    pub settled: bool,
    /// The seal to keep with a user record.
    pub seal: Option<String>,
    /// How a migrated user signs in (its password imported, to reset, none).
    pub signs_in: Option<SignsIn>,
    /// The Clerk hasher of the password this write imported or kept back.
    pub hasher: Option<String>,
}

impl Recorded {
    /// A record's outcome after one attempt, to write: no email, reset,
    /// seal or sign-in (the users step adds its own).
    pub fn attempted(
        kind: Kind,
        source_id: &str,
        action: Action,
        target_id: Option<String>,
        reason: Option<Reason>,
        fingerprint: Option<String>,
        advances: bool,
    ) -> Self {
        Self {
            outcome: Outcome {
                kind,
                source_id: source_id.to_owned(),
                target_id,
                action,
                attempts: 1,
                reason,
                fingerprint,
            },
            settled: false,
            ..Self::settled(kind, source_id, action, advances)
        }
    }

    /// A record its seal settled: counted and reported as `action`, not
    /// written (the journal holds it so already) and news to no list.
    pub fn settled(kind: Kind, source_id: &str, action: Action, advances: bool) -> Self {
        Self {
            outcome: Outcome {
                kind,
                source_id: source_id.to_owned(),
                target_id: None,
                action,
                attempts: 0,
                reason: None,
                fingerprint: None,
            },
            email: None,
            advances,
            password_reset: None,
            settled: true,
            signs_in: None,
            hasher: None,
            seal: None,
        }
    }
}

/// The CSV lists a run leaves for people: failures, skipped users, password
/// resets, and objects found changed in WorkOS outside ferry (`--reconcile`).
pub struct RunLists {
    pub failures: CsvLog,
    pub skipped: CsvLog,
    pub password_resets: CsvLog,
    pub changed_outside: CsvLog,
}

impl RunLists {
    /// Lists named `<prefix>-failures.csv` and so on, in `dir`.
    pub fn new(dir: &Path, prefix: &str) -> Self {
        let file = |name: &str| CsvLog::new(dir.join(format!("{prefix}-{name}.csv")));
        Self {
            failures: file("failures"),
            skipped: file("skipped"),
            password_resets: file("password-resets"),
            changed_outside: file("changed-outside-ferry"),
        }
    }

    /// The lists that have rows, for the report.
    pub fn files(&self) -> Vec<ListFile> {
        [
            ("failures", &self.failures),
            ("skipped", &self.skipped),
            ("password resets needed", &self.password_resets),
            ("changed in WorkOS outside ferry", &self.changed_outside),
        ]
        .into_iter()
        .filter(|(_, list)| list.rows() > 0)
        .map(|(label, list)| ListFile {
            label: label.to_owned(),
            path: list.path().display().to_string(),
            rows: list.rows(),
        })
        .collect()
    }

    fn add(&mut self, item: &Recorded) {
        let outcome = &item.outcome;
        let email = item.email.as_deref();
        let id = &outcome.source_id;
        let written = match (outcome.action, &outcome.reason) {
            (Action::Failed, Some(reason)) => self.failures.append(id, email, reason),
            (Action::Rejected, Some(reason)) => {
                let rejected = reason.clone().within("rejected");
                self.failures.append(id, email, &rejected)
            }
            (Action::Skipped, Some(reason)) => self.skipped.append(id, email, reason),
            // An unchanged record with a reason was found changed in WorkOS.
            (Action::Unchanged, Some(reason)) => self.changed_outside.append(id, email, reason),
            _ => Ok(()),
        };
        let reset = match &item.password_reset {
            Some(why) => self.password_resets.append(&outcome.source_id, email, why),
            None => Ok(()),
        };
        if let Err(error) = written.and(reset) {
            tracing::error!("cannot write a run list: {error}");
        }
    }
}

/// Appends `clerk_id,email,code,reason` rows, creating the file (mode 0600) on the first row.
pub struct CsvLog {
    path: PathBuf,
    writer: Option<CsvWriter<File>>,
    rows: u64,
}

impl CsvLog {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            writer: None,
            rows: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn written(&self) -> bool {
        self.writer.is_some()
    }

    /// Rows written so far by this run.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn append(
        &mut self,
        clerk_id: &str,
        email: Option<&str>,
        reason: &Reason,
    ) -> std::io::Result<()> {
        if self.writer.is_none() {
            let file = ferry_wire::files::append(&self.path)?;
            let empty = file.metadata()?.len() == 0;
            let mut writer = CsvWriter::new(file);
            if empty {
                writer.row(["clerk_id", "email", "code", "reason"])?;
            }
            self.writer = Some(writer);
        }
        let writer = self.writer.as_mut().expect("opened above");
        writer.row([
            clerk_id,
            email.unwrap_or(""),
            reason.code.as_str(),
            &reason.detail,
        ])?;
        self.rows += 1;
        writer.flush()
    }
}

/// What the recorder writes to, for one step.
pub struct Recording<'a> {
    /// The step's name, for the observer.
    pub step: crate::plan::StepKind,
    /// The journal's write connection, lent for the step.
    pub journal: &'a mut Journal,
    pub run_id: i64,
    pub lists: RunLists,
    pub observer: &'a dyn Observer,
}

/// Runs until every sender is dropped; returns the tally and the lists.
pub async fn record(
    target: Recording<'_>,
    mut rx: mpsc::Receiver<Recorded>,
) -> Result<(Tally, RunLists), JournalError> {
    let Recording {
        step,
        journal,
        run_id,
        mut lists,
        observer,
    } = target;
    let mut tally = Tally::default();
    let mut batch: Vec<Entry> = Vec::with_capacity(BATCH);
    let mut ticker = tokio::time::interval(FLUSH_EVERY);
    loop {
        tokio::select! {
            item = rx.recv() => {
                let Some(mut item) = item else { break };
                if let Some(reason) = &mut item.outcome.reason {
                    reason.detail = ferry_wire::redact::redact(&reason.detail).into_owned();
                }
                tally.add(item.outcome.kind, item.outcome.action);
                tracing::debug!(
                    "{step}: {} {} {}{}",
                    item.outcome.kind.as_str(),
                    item.outcome.source_id,
                    item.outcome.action.as_str(),
                    item.outcome
                        .reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                );
                observer.event(&Event::Record {
                    step,
                    outcome: &item.outcome,
                    advances: item.advances,
                });
                // A settled record is news to no list: the journal's lists
                // (`people`) already name it, with its reason.
                if item.settled {
                    continue;
                }
                lists.add(&item);
                batch.push(Entry {
                    outcome: item.outcome,
                    email: item.email,
                    password_reset: item.password_reset,
                    seal: item.seal,
                    signs_in: item.signs_in,
                    hasher: item.hasher,
                });
                if batch.len() >= BATCH {
                    journal.record_all(run_id, &batch)?;
                    batch.clear();
                }
            }
            _ = ticker.tick() => {
                if !batch.is_empty() {
                    journal.record_all(run_id, &batch)?;
                    batch.clear();
                }
            }
        }
    }
    if !batch.is_empty() {
        journal.record_all(run_id, &batch)?;
    }
    Ok((tally, lists))
}
