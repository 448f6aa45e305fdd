//! Deleting what ferry made, for `undo` and for `sync` (objects gone from
//! Clerk): verdicts carried out a batch at a time, at most `concurrency`
//! requests in flight under the WorkOS client's limits, each batch
//! journaled as `deleted` once WorkOS answered it (a 404 counts: it is
//! gone), so an interrupted pass resumes where it stopped.

use crate::support::reason::{Reason, ReasonCode};
use futures_util::StreamExt;
use serde::Serialize;

use crate::journal::{Action, Entry, Journal, Kind, Outcome};
use crate::steps::retire::Verdict;
use crate::support::cancel::Cancel;
use crate::workos::client::{Deletable, WorkosClient, WorkosError};

/// An object left in place, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub kind: Kind,
    pub source_id: String,
    pub target_id: String,
    pub reason: Reason,
}

/// What an undo came to, per kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UndoTally {
    pub deleted: Vec<(Kind, u64)>,
    /// Already gone from WorkOS (recorded as deleted, without a request).
    pub gone: u64,
    pub kept: Vec<Kept>,
    pub failed: Vec<(Kind, String, String)>,
}

impl UndoTally {
    /// What was deleted, per kind, in words ("12 user, 3 membership"), or
    /// "nothing".
    pub fn deleted_words(&self) -> String {
        if self.deleted.is_empty() {
            return "nothing".to_owned();
        }
        self.deleted
            .iter()
            .map(|(kind, n)| format!("{n} {}", kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(crate) fn deleted(&mut self, kind: Kind) {
        match self.deleted.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.deleted.push((kind, 1)),
        }
    }
}

/// Deletes in batches of this many, journaling each batch.
const BATCH: usize = 100;

pub struct Deleter<'a> {
    pub workos: &'a WorkosClient,
    pub journal: &'a mut Journal,
    pub run_id: i64,
    pub concurrency: usize,
    pub cancel: &'a Cancel,
    /// The command deleting, for the journal's reason ("undo", "sync").
    pub by: &'static str,
}

impl Deleter<'_> {
    /// Carries out the verdicts on one kind, a batch at a time, journaling
    /// each batch once WorkOS answered it.
    pub async fn apply(
        &mut self,
        kind: Kind,
        verdicts: Vec<(String, String, Verdict)>,
        tally: &mut UndoTally,
    ) -> crate::error::Result<()> {
        self.apply_as(kind, verdicts, tally, Asking::Delete).await
    }

    /// [`Deleter::apply`], asking first, where `asking` says so, whether
    /// each membership is still there: one this pass may already have
    /// taken with its user or organization costs a read, not a write.
    pub async fn apply_as(
        &mut self,
        kind: Kind,
        verdicts: Vec<(String, String, Verdict)>,
        tally: &mut UndoTally,
        asking: Asking,
    ) -> crate::error::Result<()> {
        let mut verdicts = verdicts.into_iter().peekable();
        while verdicts.peek().is_some() && !self.cancel.is_cancelled() {
            let batch: Vec<_> = verdicts.by_ref().take(BATCH).collect();
            let workos = self.workos;
            let by = self.by;
            let results: Vec<(String, String, Result<Verdict, WorkosError>)> =
                futures_util::stream::iter(batch)
                    .map(|(source, target, verdict)| async move {
                        let result = match (verdict, deletable(kind, &target)) {
                            (Verdict::Delete, Some(object)) => {
                                match still_there(workos, object, asking).await {
                                    Ok(true) => workos.delete_object(object).await.map(|deleted| {
                                        match deleted {
                                            true => Verdict::Delete,
                                            false => Verdict::Gone,
                                        }
                                    }),
                                    Ok(false) => Ok(Verdict::Gone),
                                    Err(error) => Err(error),
                                }
                            }
                            (Verdict::Delete, None) => Ok(crate::steps::retire::keep(
                                ReasonCode::NotDeletable,
                                format!("{by} cannot delete a {}", kind.as_str()),
                            )),
                            (other, _) => Ok(other),
                        };
                        (source, target, result)
                    })
                    .buffer_unordered(self.concurrency.max(1))
                    .collect()
                    .await;
            let mut entries = Vec::new();
            for (source, target, result) in results {
                let reason = match result {
                    Ok(Verdict::Delete) => {
                        tally.deleted(kind);
                        Reason::new(
                            ReasonCode::Deleted,
                            format!("deleted by {by} (run {})", self.run_id),
                        )
                    }
                    Ok(Verdict::Gone) => {
                        tally.gone += 1;
                        Reason::new(
                            ReasonCode::TargetGone,
                            format!(
                                "already gone from WorkOS when {by} ran (run {})",
                                self.run_id
                            ),
                        )
                    }
                    Ok(Verdict::Keep(reason)) => {
                        tally.kept.push(Kept {
                            kind,
                            source_id: source,
                            target_id: target,
                            reason,
                        });
                        continue;
                    }
                    Err(error) => {
                        tally.failed.push((kind, target, error.reason().detail));
                        continue;
                    }
                };
                entries.push(Entry::from(Outcome {
                    kind,
                    source_id: source,
                    target_id: None,
                    action: Action::Deleted,
                    attempts: 1,
                    reason: Some(reason),
                    fingerprint: None,
                }));
            }
            self.journal.record_all(self.run_id, &entries)?;
        }
        Ok(())
    }
}

/// Whether a deletion first asks if its object is still there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// Deletes at once (a 404 still counts as gone).
    Delete,
    /// Reads a membership first, and deletes it only if WorkOS still holds
    /// it: after users or organizations were deleted, WorkOS may have
    /// taken their memberships with them. The spec does not say whether it
    /// does; the read lets the target answer, and costs a read, not a
    /// write, which the cutover window is short of.
    LookFirst,
}

/// Whether `object` is still in WorkOS, as far as `asking` wants to know.
async fn still_there(
    workos: &WorkosClient,
    object: Deletable<'_>,
    asking: Asking,
) -> Result<bool, WorkosError> {
    match (asking, object) {
        (Asking::LookFirst, Deletable::Membership(id)) => workos.membership_exists(id).await,
        _ => Ok(true),
    }
}

/// The WorkOS object a record of `kind` names; `None` for kinds that cannot be deleted.
fn deletable(kind: Kind, id: &str) -> Option<Deletable<'_>> {
    match kind {
        Kind::User => Some(Deletable::User(id)),
        Kind::Membership => Some(Deletable::Membership(id)),
        Kind::TotpFactor => Some(Deletable::Factor(id)),
        Kind::Organization => Some(Deletable::Organization(id)),
        Kind::Connection => Some(Deletable::Connection(id)),
        Kind::Invitation => Some(Deletable::Invitation(id)),
        Kind::Role | Kind::Permission => None,
    }
}
