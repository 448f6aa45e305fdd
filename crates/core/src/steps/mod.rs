//! The migration steps, one room each, and what they share: the one step
//! interface ([`stage::Stage`]) and its contexts, the loop that feeds
//! records through a step ([`pump`]) into the journal ([`recorder`]).
//!
//! A step's folder holds its pure decision (with its table of tests), its
//! apply and preview, and `stage.rs`, the glue from the step's settings and
//! the run's context to that logic. A step does not know which run it is
//! part of, how it is rendered or in which order the plan puts it: the run
//! engine (`engine`) does that, through [`stage`].

pub mod assess;
pub mod connections;
pub mod ended;
pub mod error;
pub mod invitations;
pub mod memberships;
pub mod mfa_report;
pub mod organizations;
pub mod pump;
pub mod recorder;
pub mod retire;
pub mod roles;
pub mod seal;
pub mod seen;
pub mod stage;
pub mod users;
pub mod verify;

pub use error::StepError;

use crate::plan::Step;
use stage::Stage;

/// The stage for one step of the plan.
pub fn stage(step: &Step) -> Box<dyn Stage + '_> {
    match step {
        Step::Assess => Box::new(assess::stage::Assess),
        Step::Users(settings) => Box::new(users::stage::Users(settings)),
        Step::Organizations(settings) => Box::new(organizations::stage::Organizations(settings)),
        Step::Connections(settings) => Box::new(connections::stage::Connections(settings)),
        Step::Roles(settings) => Box::new(roles::stage::Roles(settings)),
        Step::Memberships => Box::new(memberships::stage::Memberships),
        Step::Invitations(settings) => Box::new(invitations::stage::Invitations(settings)),
        Step::MfaReport(settings) => Box::new(mfa_report::stage::MfaReport(settings)),
        Step::Verify(_) => Box::new(verify::stage::Verify),
    }
}
