//! `ferry undo`: takes away, in reverse order, what the journal says ferry
//! created in WorkOS (in one run, or in all of them), so a rehearsal
//! environment is reset with one command.
//!
//! Only objects ferry *created* are candidates ([`Journal::created_by`]):
//! never one it adopted or only updated, which existed before it. Order:
//! memberships, TOTP factors, organizations, roles, users. By default a
//! user who has signed in since ferry made it is kept, and so is what
//! belongs to them (memberships, factors) and any organization that still
//! has members once ferry's memberships are gone; a pre-existing user ferry
//! adopted is never deleted, and keeps what ferry gave them once they
//! have signed in, and its TOTP factor always (a factor follows its user:
//! one undo deletes goes with its user, or a later run enrolls it again).
//! The journal's ids are beliefs: a user or organization that WorkOS now
//! gives another external_id than the Clerk id ferry wrote (re-linked
//! outside ferry, or a journal edited to name someone else) is kept.
//! Invitations ferry sent are revoked first (their emails cannot be taken
//! back; their links stop working), unless accepted since.
//! Roles stay: WorkOS's API cannot delete an environment role, and their
//! permissions stay with them. Every journaled object undo does not delete
//! is listed with why, those ferry adopted included.
//!
//! Each deletion is journaled as `deleted` once WorkOS confirmed it (a 404
//! counts: it is gone), in batches, so an interrupted undo resumes where it
//! stopped and a later `ferry run` makes the objects again. Requests keep
//! to the WorkOS client's rate limits.

pub mod delete;

pub use delete::{Kept, UndoTally};

use crate::support::reason::{Reason, ReasonCode};
use std::collections::HashSet;

use crate::journal::{Journal, Kind};
use crate::steps::retire::{self, Verdict};
use crate::target::reconcile;
use crate::workos::client::MembershipFilter;
use ferry_wire::workos::model::OrganizationMembership;

/// Which objects to take away (`ferry undo`'s flags parse straight into it).
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct UndoOptions {
    /// Only what this run created.
    #[cfg_attr(feature = "clap", arg(long, conflicts_with = "all"))]
    pub run: Option<i64>,
    /// What every run created (the default when `--run` is not given).
    #[cfg_attr(feature = "clap", arg(long))]
    pub all: bool,
    /// Delete users who signed in since ferry made them, too.
    #[cfg_attr(feature = "clap", arg(long))]
    pub include_signed_in: bool,
}

pub struct Undo<'a> {
    /// Where deletions go, and the journal they are recorded in.
    pub deleter: delete::Deleter<'a>,
    pub options: UndoOptions,
}

impl Undo<'_> {
    pub async fn run(&mut self) -> crate::error::Result<UndoTally> {
        let mut tally = UndoTally::default();
        let scope = self.options.run;
        let created = |journal: &Journal, kind| journal.created_by(kind, scope);
        let users = created(self.deleter.journal, Kind::User)?;

        // Who signed in since: one listing of WorkOS's users, not a read each.
        let known = users.iter().map(|(_, target)| target.as_str());
        let listing = reconcile::list_users(self.deleter.workos, known)
            .await
            .map_err(crate::steps::error::StepError::from)?;
        let user_verdicts: Vec<_> = users
            .into_iter()
            .map(|(clerk_id, target)| {
                let verdict = crate::steps::users::retire::undo(
                    listing.get(&target),
                    &clerk_id,
                    self.options.include_signed_in,
                );
                (clerk_id, target, verdict)
            })
            .collect();
        // The users undo takes away (or finds gone): a factor goes only with one of them.
        let leaving: HashSet<String> = user_verdicts
            .iter()
            .filter(|(_, _, verdict)| matches!(verdict, Verdict::Delete | Verdict::Gone))
            .map(|(clerk_id, _, _)| clerk_id.clone())
            .collect();
        // Whoever signed in keeps what ferry gave them, whether ferry made
        // the user or adopted a pre-existing one: their memberships (found
        // through each organization the journal knows) and TOTP factors.
        let signed_in = |workos_id: &str| {
            !self.options.include_signed_in
                && listing
                    .get(workos_id)
                    .is_some_and(|user| user.last_sign_in_at.is_some())
        };
        let mut kept_memberships = HashSet::new();
        for (_, organization) in self.deleter.journal.id_map(Kind::Organization)? {
            kept_memberships.extend(
                self.members(&organization)
                    .await?
                    .into_iter()
                    .filter(|m| signed_in(&m.user_id))
                    .map(|m| m.id),
            );
        }

        // Invitations go first: an email cannot be taken back, but a
        // pending invitation's link stops working once it is revoked.
        // The journal's id is believed only for an invitation WorkOS made
        // since ferry began working on this target.
        let since = self.deleter.journal.working_since();
        let mut invitations = Vec::new();
        for (source, target) in created(self.deleter.journal, Kind::Invitation)? {
            use crate::steps::invitations::retire;
            let held = self
                .deleter
                .workos
                .invitation(&target)
                .await
                .map_err(crate::steps::error::StepError::from)?;
            let verdict = retire::revoke(held.as_ref().map(|held| retire::Held {
                state: &held.state,
                ferrys: retire::made_since(&held.created_at, since),
            }));
            invitations.push((source, target, verdict));
        }
        self.deleter
            .apply(Kind::Invitation, invitations, &mut tally)
            .await?;

        let memberships = belonging(
            created(self.deleter.journal, Kind::Membership)?,
            |_, target| kept_memberships.contains(target),
            crate::steps::memberships::retire::undo,
        );
        self.deleter
            .apply(Kind::Membership, memberships, &mut tally)
            .await?;
        // A TOTP factor's record is keyed by its user's Clerk id. A factor
        // goes with a user undo takes away, whether ferry made it or found
        // it (an enrollment whose answer was lost): its record must not
        // outlive the user it was on.
        let mut factors = created(self.deleter.journal, Kind::TotpFactor)?;
        factors.extend(
            self.deleter
                .journal
                .adopted_by(Kind::TotpFactor, None)?
                .into_iter()
                .filter(|(source, _)| leaving.contains(source)),
        );
        let factors = belonging(
            factors,
            |source, _| !leaving.contains(source),
            crate::steps::users::retire::undo_factor,
        );
        self.deleter
            .apply(Kind::TotpFactor, factors, &mut tally)
            .await?;

        // Connections go before their organizations (deleting an
        // organization would take them, unjournaled).
        let mut connections = Vec::new();
        for (source, target) in created(self.deleter.journal, Kind::Connection)? {
            let there = self
                .deleter
                .workos
                .connection(&target)
                .await
                .map_err(crate::steps::error::StepError::from)?
                .is_some();
            connections.push((
                source,
                target,
                crate::steps::connections::retire::undo(there),
            ));
        }
        self.deleter
            .apply(Kind::Connection, connections, &mut tally)
            .await?;

        let mut organizations = Vec::new();
        for (source, target) in created(self.deleter.journal, Kind::Organization)? {
            let verdict = match self
                .deleter
                .workos
                .organization(&target)
                .await
                .map_err(crate::steps::error::StepError::from)?
            {
                None => Verdict::Gone,
                Some(now) if now.external_id.as_deref() != Some(source.as_str()) => Verdict::Keep(
                    retire::not_ours("organization", &target, now.external_id.as_deref()),
                ),
                Some(_) => {
                    crate::steps::organizations::retire::undo(self.members(&target).await?.len())
                }
            };
            organizations.push((source, target, verdict));
        }
        self.deleter
            .apply(Kind::Organization, organizations, &mut tally)
            .await?;

        for (source, target) in created(self.deleter.journal, Kind::Role)? {
            if let Verdict::Keep(reason) = crate::steps::roles::retire::undo() {
                tally.kept.push(Kept {
                    kind: Kind::Role,
                    source_id: source,
                    target_id: target,
                    reason,
                });
            }
        }

        self.deleter
            .apply(Kind::User, user_verdicts, &mut tally)
            .await?;

        // What undo never deletes is listed too: permissions (they stay
        // with the roles that use them), and every object ferry adopted.
        for (source, target) in created(self.deleter.journal, Kind::Permission)? {
            tally.kept.push(Kept {
                kind: Kind::Permission,
                source_id: source,
                target_id: target,
                reason: Reason::new(
                    ReasonCode::NotDeletable,
                    "roles stay (WorkOS's API cannot delete an environment role), and so do the permissions they use",
                ),
            });
        }
        for kind in Kind::ALL {
            for (source, target) in self.deleter.journal.adopted_by(kind, scope)? {
                if let Verdict::Keep(reason) = retire::adopted(kind.as_str()) {
                    tally.kept.push(Kept {
                        kind,
                        source_id: source,
                        target_id: target,
                        reason,
                    });
                }
            }
        }
        Ok(tally)
    }

    /// An organization's memberships as WorkOS has them (none when it is gone).
    async fn members(
        &self,
        organization: &str,
    ) -> crate::error::Result<Vec<OrganizationMembership>> {
        match self
            .deleter
            .workos
            .all_memberships(MembershipFilter::Organization(organization))
            .await
        {
            Ok(members) => Ok(members),
            Err(error) if error.status() == Some(404) => Ok(Vec::new()),
            Err(error) => Err(crate::steps::error::StepError::from(error).into()),
        }
    }
}

/// Verdicts on objects that belong to a user, by their step's rule
/// (`verdict`, given whether the user is kept).
fn belonging(
    created: Vec<(String, String)>,
    kept: impl Fn(&str, &str) -> bool,
    verdict: impl Fn(bool) -> Verdict,
) -> Vec<(String, String, Verdict)> {
    created
        .into_iter()
        .map(|(source, target)| {
            let verdict = verdict(kept(&source, &target));
            (source, target, verdict)
        })
        .collect()
}
