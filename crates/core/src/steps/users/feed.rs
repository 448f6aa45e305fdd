//! From the source's stream to the users step: every item becomes exactly
//! one record (a user, a bad export row, a user deleted since the export),
//! written through the pump or previewed in order.

use super::step::UsersStep;
use crate::journal::{Action, Kind, Outcome};
use crate::report::outcome::{Planned, PlannedAction};
use crate::source::read::{self, Item, ReadStats, Sources};
use crate::steps::error::StepError;
use crate::steps::pump::{self, Pumped, Sink};
use crate::steps::recorder::Recorded;
use crate::support::reason::{Reason, ReasonCode};

/// Runs the users step for real.
pub async fn run(
    step: &UsersStep<'_>,
    sources: Sources<'_>,
    sink: Sink<'_>,
) -> Result<Pumped<ReadStats>, StepError> {
    pump::pump(
        sink,
        async |tx| {
            let read = read::read_users(sources, tx).await?;
            if let Some(settled_users) = step.settled_users {
                settled_users.listing_read();
            }
            Ok(read)
        },
        |item| write(step, item),
    )
    .await
}

/// Previews the users step: calls `each` with every user's planned action, in source order.
pub async fn preview(
    step: &UsersStep<'_>,
    sources: Sources<'_>,
    concurrency: usize,
    each: impl FnMut(Planned),
) -> Result<ReadStats, StepError> {
    pump::map_in_order(
        concurrency,
        async |tx| Ok(read::read_users(sources, tx).await?),
        |item| async move {
            match item {
                Item::User(user) => step.preview(&user).await,
                other => {
                    let (clerk_id, action, reason) = not_a_user(other);
                    Planned {
                        clerk_id,
                        email: None,
                        action: match action {
                            Action::Rejected => PlannedAction::Reject,
                            _ => PlannedAction::Skip,
                        },
                        reason: Some(reason),
                        notes: Vec::new(),
                        enrolls_totp: false,
                    }
                }
            }
        },
        each,
    )
    .await
}

async fn write(step: &UsersStep<'_>, item: Item) -> Vec<Recorded> {
    if let Some(seen) = step.seen {
        match &item {
            Item::User(user) => seen.add(Kind::User, &user.id),
            // Clerk may still have a user whose export row is bad.
            Item::BadRow(error) => {
                if let Some(id) = &error.id {
                    seen.add(Kind::User, id);
                }
            }
            Item::Deleted { id } => seen.confirmed_gone(id),
        }
    }
    match item {
        Item::User(user) => step.write(&user).await,
        other => {
            // A user ferry migrated and Clerk has since deleted stays as
            // the journal has it: counted, not overwritten, so undo and
            // sync still know what ferry made.
            let migrated = matches!(&other, Item::Deleted { id } if step.migrated(id));
            let (source_id, action, reason) = not_a_user(other);
            vec![Recorded {
                outcome: Outcome {
                    kind: Kind::User,
                    source_id,
                    target_id: None,
                    action,
                    attempts: 0,
                    reason: Some(reason),
                    fingerprint: None,
                },
                email: None,
                advances: true,
                password_reset: None,
                settled: migrated,
                signs_in: None,
                hasher: None,
                seal: None,
            }]
        }
    }
}

/// A stream item that is not a user to map: its id, rejected or skipped, and why.
fn not_a_user(item: Item) -> (String, Action, Reason) {
    match item {
        Item::BadRow(error) => (
            error
                .id
                .clone()
                .unwrap_or_else(|| format!("line {}", error.line)),
            Action::Rejected,
            Reason::new(ReasonCode::ExportRowInvalid, error.to_string()),
        ),
        Item::Deleted { id } => (
            id,
            Action::Skipped,
            Reason::new(
                ReasonCode::DeletedInClerk,
                "in the export but no longer in Clerk (deleted since the export?)",
            ),
        ),
        Item::User(user) => (
            user.id,
            Action::Skipped,
            Reason::new(ReasonCode::Unclassified, ""),
        ),
    }
}
