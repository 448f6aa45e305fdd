//! The one step interface: a [`Stage`] is a plan step the engine can run
//! (writing, with a journal) or preview (writing nothing), given a context
//! that holds what every step shares. Each implementation is the glue from
//! the plan's options to the step's logic in [`crate::steps`].

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use crate::clerk::client::ClerkClient;
use crate::commands::project::Project;
use crate::error::{MissingSetting, Result};
use crate::journal::{Journal, Kind};
use crate::observe::Observer;
use crate::plan::StepKind;
use crate::report::outcome::StepOutcome;
use crate::source::read::Sources;
use crate::source::shared_users::SharedUsers;
use crate::steps::ended::Ended;
use crate::steps::seen::Seen;
use crate::support::cancel::Cancel;
use crate::workos::client::WorkosClient;

/// What every step of one run shares.
pub struct RunContext<'r> {
    pub project: &'r Project,
    pub workos: &'r WorkosClient,
    pub clerk: Option<&'r ClerkClient>,
    /// The journal's write connection, lent to each step in turn.
    pub journal: &'r mut Journal,
    /// A read connection for look-ups while the write connection is busy.
    pub reader: &'r Mutex<Journal>,
    pub run_id: i64,
    /// `--reconcile`: list WorkOS and check the journal against it.
    pub reconcile: bool,
    pub cancel: &'r Cancel,
    pub observer: &'r dyn Observer,
    /// The run's one reading of Clerk's user listing, for every step that reads users.
    pub shared_users: Option<&'r SharedUsers>,
    /// Which steps have ended, for a step that waits for one partway through.
    pub ended: Option<&'r Ended>,
    /// In a sync: the Clerk ids each step's listing holds, for the removal pass.
    pub seen: Option<&'r Seen>,
}

impl RunContext<'_> {
    /// In a sync, says `kind`'s listing was read to its end when the step
    /// finished with nothing cut short and no listing of it `incomplete`;
    /// an incomplete listing is said aloud, run or sync, and kept as why
    /// the kind is not diffed.
    pub fn listed_all(
        &self,
        step: StepKind,
        kind: Kind,
        outcome: &StepOutcome,
        incomplete: Option<String>,
    ) {
        if let Some(why) = &incomplete {
            self.observer.event(&crate::observe::Event::Warning {
                step: Some(step),
                message: &format!("{why}; nothing is judged gone from it"),
            });
        }
        let short = matches!(
            outcome,
            StepOutcome::Records {
                short_read: Some(_),
                ..
            }
        );
        let Some(seen) = self.seen else { return };
        match incomplete {
            Some(why) => seen.incomplete(kind, why),
            None if !short && !self.cancel.is_cancelled() => seen.complete(kind),
            None => {}
        }
    }
}

/// What a preview shares: no write connection, and WorkOS only when online.
pub struct PreviewContext<'r> {
    pub project: &'r Project,
    /// `None` offline: decide from the export and the journal alone.
    pub workos: Option<&'r WorkosClient>,
    pub clerk: Option<&'r ClerkClient>,
    pub reader: &'r Mutex<Journal>,
    pub observer: &'r dyn Observer,
    /// Users and organizations an earlier step's preview plans to skip or
    /// reject, with why: a later step's preview (memberships) treats them
    /// as the run would, where the journal does not know them yet.
    pub left_out: &'r Mutex<HashMap<(Kind, String), crate::support::reason::Reason>>,
}

/// A plan step, as the engine sees it.
pub trait Stage {
    /// Which step this is.
    fn kind(&self) -> StepKind;

    /// The step's name in the plan.
    fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Runs the step for real.
    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, Result<StepOutcome>>;

    /// Previews the step; steps without a preview say so.
    fn preview<'s>(
        &'s self,
        _cx: &'s PreviewContext<'_>,
    ) -> LocalBoxFuture<'s, Result<StepOutcome>> {
        Box::pin(async { Ok(StepOutcome::NotPreviewed) })
    }
}

impl<'r> RunContext<'r> {
    pub fn sources(&self) -> Sources<'r> {
        Sources {
            shared: self.shared_users,
            ..Sources::of(&self.project.plan.source, self.clerk)
        }
    }

    /// The Clerk client, which some steps cannot do without.
    pub fn clerk_for(&self, step: StepKind) -> Result<&'r ClerkClient> {
        Ok(self
            .clerk
            .ok_or(MissingSetting::ClerkKeyForStep { step: step.name() })?)
    }
}
