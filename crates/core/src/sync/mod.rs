//! `ferry sync`: after a completed run, applies what changed in Clerk since.
//!
//! A sync is a run of the plan's writing steps (users, organizations,
//! roles, memberships, mfa_report) through the same engine, journal,
//! preflight and hooks, followed by a removal pass. The steps read Clerk's
//! listings in full and write only what changed: a user whose record and
//! mapping are unchanged carries a seal and costs no hook call and no
//! request (`steps::users::seal`); a membership likewise costs no journal
//! read and no hook call while its seal holds and WorkOS's listing shows it
//! as ferry left it (`steps::memberships::seal`); organizations and roles
//! are compared with what WorkOS and the journal hold. New users without a
//! digest go on the reset list, as in a run; a newer export given to the
//! plan supplies the digests of users it knows.
//!
//! What the listings no longer hold is found by diffing them against the
//! journal ([`Seen`], kept by the steps): only for a kind whose listing was read to its end
//! in this sync (a listing cut short proves no deletion). Memberships
//! removed in Clerk are deleted in WorkOS when ferry created them; users
//! and organizations deleted in Clerk follow `sync.on_deleted` (`report`,
//! the default, lists them; `delete` removes what ferry created, never
//! what it adopted). Deletions go through [`crate::undo::delete`] and are
//! journaled, so an interrupted sync resumes exactly: the next one finds
//! what is already done in the journal and WorkOS.
//!
//! Clerk's `updated_at` alone cannot find a deletion, nor a digest that
//! only a newer export carries, so a sync lists everything and relies on
//! the seals to make the unchanged nearly free. Each kind's watermark (the
//! time its last complete sync started) is kept in the journal and moved
//! only once that kind's changes and removals are committed.

pub mod decide;

use std::collections::HashSet;

use crate::clerk::client::ClerkClient;
use crate::journal::{Journal, Kind};
use crate::plan::StepKind;
use crate::plan::schema::OnDeleted;
use crate::steps::retire::Verdict;
use crate::steps::seen::Seen;
use crate::undo::UndoTally;
use crate::undo::delete::{Asking, Deleter};

/// The kinds a sync diffs, in the order a preview shows them.
pub const DIFFED: [Kind; 4] = [
    Kind::Membership,
    Kind::Connection,
    Kind::Organization,
    Kind::User,
];

/// The order the removal pass goes in: a connection before its
/// organization; memberships last, once the users and organizations they
/// belong to are gone, so those WorkOS took with them cost a read, not a
/// write (see [`Asking::LookFirst`]).
const REMOVAL_ORDER: [Kind; 4] = [
    Kind::Connection,
    Kind::Organization,
    Kind::User,
    Kind::Membership,
];

/// The journal bookmark holding a kind's watermark.
pub fn watermark_key(kind: Kind) -> String {
    format!("sync-watermark:{}", kind.as_str())
}

/// The verdict on every object of `kind` the journal holds as migrated
/// and `seen` does not: (Clerk id, WorkOS id, verdict).
fn verdicts(
    journal: &Journal,
    kind: Kind,
    seen: &Seen,
    on_deleted: OnDeleted,
) -> crate::error::Result<Vec<(String, String, Verdict)>> {
    let created: HashSet<String> = journal
        .created_by(kind, None)?
        .into_iter()
        .map(|(source, _)| source)
        .collect();
    Ok(journal
        .id_map(kind)?
        .into_iter()
        .filter(|(source, _)| !seen.saw(kind, source))
        .map(|(source, target)| {
            let verdict = decide::gone(kind, created.contains(&source), on_deleted);
            (source, target, verdict)
        })
        .collect())
}

/// What a sync's removal pass would do with one kind (`ferry plan --sync`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct GonePreview {
    pub kind: Kind,
    /// Gone from Clerk and to be deleted in WorkOS.
    pub delete: u64,
    /// Gone from Clerk and to stay in WorkOS (listed), with the first reason.
    pub keep: u64,
    pub reason: Option<String>,
}

/// Lists Clerk's users, organizations and memberships (the kinds in
/// `listed`) and says what a sync would do with what the journal holds
/// and Clerk no longer has. Reads only; writes nothing.
pub async fn preview(
    clerk: &ClerkClient,
    journal: &Journal,
    on_deleted: OnDeleted,
    listed: &[Kind],
) -> crate::error::Result<Vec<GonePreview>> {
    let seen = Seen::default();
    let source =
        |e| crate::steps::error::StepError::from(crate::source::read::SourceError::from(e));
    if listed.contains(&Kind::User) {
        let mut pages = clerk.users();
        while let Some(page) = pages.next_page().await.map_err(source)? {
            for user in page {
                seen.add(Kind::User, &user.id);
            }
        }
    }
    if listed.contains(&Kind::Organization) {
        for org in clerk.all_organizations().await.map_err(source)? {
            seen.add(Kind::Organization, &org.id);
        }
    }
    if listed.contains(&Kind::Connection) {
        for connection in clerk.all_enterprise_connections().await.map_err(source)? {
            seen.add(Kind::Connection, &connection.id);
        }
    }
    if listed.contains(&Kind::Membership) {
        for membership in clerk.instance_memberships().await.map_err(source)? {
            seen.add(Kind::Membership, &membership.id);
        }
    }
    let mut previews = Vec::new();
    for kind in DIFFED.into_iter().filter(|k| listed.contains(k)) {
        let mut preview = GonePreview {
            kind,
            delete: 0,
            keep: 0,
            reason: None,
        };
        for (_, _, verdict) in verdicts(journal, kind, &seen, on_deleted)? {
            match verdict {
                Verdict::Delete => preview.delete += 1,
                Verdict::Keep(reason) => {
                    preview.keep += 1;
                    preview.reason.get_or_insert(reason.detail);
                }
                Verdict::Gone => {}
            }
        }
        previews.push(preview);
    }
    Ok(previews)
}

/// The kinds a plan's steps list, of those a sync diffs.
pub fn listed_by(steps: &[StepKind]) -> Vec<Kind> {
    steps
        .iter()
        .filter_map(|step| match step {
            StepKind::Users => Some(Kind::User),
            StepKind::Organizations => Some(Kind::Organization),
            StepKind::Connections => Some(Kind::Connection),
            StepKind::Memberships => Some(Kind::Membership),
            _ => None,
        })
        .collect()
}

/// What the removal pass came to.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Removals {
    /// Deleted, already gone, kept with the reason, failed.
    pub tally: UndoTally,
    /// Kinds whose listing did not reach its end or prove complete:
    /// nothing of them was judged.
    pub not_diffed: Vec<NotDiffed>,
}

/// A kind the removal pass did not judge, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotDiffed {
    pub kind: Kind,
    pub why: String,
}

/// The removal pass: every object of a diffed kind the journal holds as
/// migrated and this sync's listings no longer show, judged by
/// [`decide::gone`] and carried out.
pub struct Removal<'a> {
    /// Where deletions go, and the journal they are recorded in.
    pub deleter: Deleter<'a>,
    pub clerk: &'a ClerkClient,
    pub on_deleted: OnDeleted,
    /// The kinds the plan's steps list (a plan without `memberships` diffs none).
    pub listed: Vec<Kind>,
    /// When this sync started (its kinds' next watermark).
    pub started_at: String,
}

impl Removal<'_> {
    /// The users among `verdicts` Clerk confirms are gone: a listing read
    /// while people sign up or leave can miss one, and a user is never
    /// judged gone on a listing alone. Asked for by id, a hundred to a
    /// listing, unless the listing's join already asked (the export's
    /// users it missed).
    async fn confirmed(
        &self,
        verdicts: Vec<(String, String, Verdict)>,
        seen: &Seen,
    ) -> crate::error::Result<Vec<(String, String, Verdict)>> {
        let unasked: Vec<String> = verdicts
            .iter()
            .filter(|(source, _, _)| !seen.is_confirmed_gone(source))
            .map(|(source, _, _)| source.clone())
            .collect();
        let present: HashSet<String> = self
            .clerk
            .users_by_id(&unasked)
            .await
            .map_err(crate::source::read::SourceError::from)
            .map_err(crate::steps::error::StepError::from)?
            .into_iter()
            .map(|user| user.id)
            .collect();
        Ok(verdicts
            .into_iter()
            .filter(|(source, _, _)| !present.contains(source))
            .collect())
    }

    pub async fn run(&mut self, seen: &Seen) -> crate::error::Result<Removals> {
        let mut removals = Removals::default();
        for kind in REMOVAL_ORDER {
            if !self.listed.contains(&kind) {
                continue;
            }
            if !seen.is_complete(kind) {
                removals.not_diffed.push(NotDiffed {
                    kind,
                    why: seen.why_not_complete(kind),
                });
                continue;
            }
            let mut verdicts = verdicts(self.deleter.journal, kind, seen, self.on_deleted)?;
            if kind == Kind::User {
                verdicts = self.confirmed(verdicts, seen).await?;
            }
            // A user's TOTP factor goes with the user: recorded, not requested.
            let factors: Vec<(String, String, Verdict)> = match kind {
                Kind::User => {
                    let deleted: HashSet<&str> = verdicts
                        .iter()
                        .filter(|(_, _, v)| *v == Verdict::Delete)
                        .map(|(source, _, _)| source.as_str())
                        .collect();
                    self.deleter
                        .journal
                        .id_map(Kind::TotpFactor)?
                        .into_iter()
                        .filter(|(source, _)| deleted.contains(source.as_str()))
                        .map(|(source, target)| (source, target, Verdict::Gone))
                        .collect()
                }
                _ => Vec::new(),
            };
            // Memberships whose user or organization this pass deleted may
            // be gone with it: asked first, then.
            let asking = match removals
                .tally
                .deleted
                .iter()
                .any(|(deleted, _)| matches!(deleted, Kind::User | Kind::Organization))
            {
                true => Asking::LookFirst,
                false => Asking::Delete,
            };
            self.deleter
                .apply_as(kind, verdicts, &mut removals.tally, asking)
                .await?;
            self.deleter
                .apply(Kind::TotpFactor, factors, &mut removals.tally)
                .await?;
            let failed = removals.tally.failed.iter().any(|(k, _, _)| *k == kind);
            if !self.deleter.cancel.is_cancelled() && !failed {
                self.deleter
                    .journal
                    .set_bookmark(&watermark_key(kind), &self.started_at)?;
            }
        }
        // Said in the order a preview shows the kinds.
        removals
            .not_diffed
            .sort_by_key(|not| DIFFED.iter().position(|kind| *kind == not.kind));
        Ok(removals)
    }
}
