//! The run engine as a library, without the binary: a plan run through
//! `ferry_core::engine::Engine` against the in-process sandbox, with an
//! observer that records every event, so the order and content of what the
//! engine reports are asserted directly.

use std::sync::Mutex;

use ferry_core::engine::{Engine, RunOptions};
use ferry_core::journal::{Action, Kind, RunStatus};
use ferry_core::observe::{Event, Observer};
use ferry_core::plan::LoadOptions;
use ferry_core::plan::Project;
use ferry_core::report::outcome::StepOutcome;
use serde_json::json;

use crate::common::plan::Step;
use crate::users::{World, WorldOptions};

/// What the recorder keeps of one event.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    RunStarted {
        preview: bool,
    },
    StepStarted(String),
    Total(String, u64),
    Record {
        kind: Kind,
        action: Action,
        advances: bool,
    },
    Planned,
    StepFinished(String),
    Read(String, u64),
    Other,
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Seen>>);

impl Observer for Recorder {
    fn event(&self, event: &Event<'_>) {
        let seen = match event {
            Event::RunStarted { preview, .. } => Seen::RunStarted { preview: *preview },
            Event::StepStarted { step } => Seen::StepStarted(step.to_string()),
            Event::Total { step, total } => Seen::Total(step.to_string(), *total),
            Event::Record {
                outcome, advances, ..
            } => Seen::Record {
                kind: outcome.kind,
                action: outcome.action,
                advances: *advances,
            },
            Event::Planned { .. } => Seen::Planned,
            Event::StepFinished { step, .. } => Seen::StepFinished(step.to_string()),
            Event::Read { step, users } => Seen::Read(step.to_string(), *users),
            Event::Warning { .. }
            | Event::Stopping
            | Event::PreflightStarted
            | Event::Preflight { .. } => Seen::Other,
        };
        self.0.lock().unwrap().push(seen);
    }
}

impl Recorder {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn world() -> World {
    World::new(WorldOptions {
        users: 120,
        organizations: 4,
        more_steps: vec![
            Step::bare("organizations"),
            Step::bare("roles"),
            Step::bare("memberships"),
            Step::with("verify", json!({ "sample": "all" })),
        ],
        ..WorldOptions::default()
    })
}

fn project(world: &World) -> Project {
    let keys = world.sandbox.keys().clone();
    let lookup = move |name: &str| match name {
        "CLERK_SECRET_KEY" => Some(keys.clerk_secret_key.clone()),
        "WORKOS_API_KEY" => Some(keys.workos_api_key.clone()),
        "WORKOS_CLIENT_ID" => Some(keys.workos_client_id.clone()),
        _ => None,
    };
    Project::open_with_env(
        &world.scratch.path().join("plan.yaml"),
        LoadOptions::for_use(),
        &lookup,
    )
    .expect("the plan loads")
}

#[test]
fn assess_tells_how_far_its_read_has_come() {
    let world = World::new(WorldOptions {
        users: 1200,
        organizations: 4,
        ..WorldOptions::default()
    });
    let project = project(&world);
    let recorder = Recorder::default();
    let assessment = Engine::new(&project, &recorder)
        .assess()
        .expect("assess finishes");
    assert_eq!(assessment.users, 1200);
    let events: Vec<Seen> = recorder
        .take()
        .into_iter()
        .filter(|e| *e != Seen::Other)
        .collect();
    assert_eq!(
        events,
        [
            Seen::StepStarted("assess".into()),
            Seen::Total("assess".into(), 1200),
            Seen::Read("assess".into(), 500),
            Seen::Read("assess".into(), 1000),
            Seen::StepFinished("assess".into()),
        ]
    );
}

#[test]
fn the_engine_overlaps_independent_steps_and_reports_every_record() {
    let world = world();
    let project = project(&world);
    let recorder = Recorder::default();
    let summary = Engine::new(&project, &recorder)
        .run(RunOptions::default())
        .expect("the run finishes");
    assert_eq!(summary.status, RunStatus::Finished);
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.verified, Some(true));
    assert_eq!(summary.written.len(), 3, "html, md and json by default");

    let events: Vec<Seen> = recorder
        .take()
        .into_iter()
        .filter(|e| *e != Seen::Other)
        .collect();
    assert_eq!(events[0], Seen::RunStarted { preview: false });
    // users, organizations and roles start together: organizations and
    // roles are outside the user-management write limit, so they overlap
    // with users (though one of them may end before the other starts: a
    // step whose answers are all in by its first poll ends within it).
    // memberships starts once organizations and roles have ended and
    // writes once users has; verify starts after all three, beside
    // memberships, and ends after it (it checks memberships once that
    // step has ended).
    let steps: Vec<&Seen> = events
        .iter()
        .filter(|e| matches!(e, Seen::StepStarted(_) | Seen::StepFinished(_)))
        .collect();
    let at = |seen: Seen| {
        steps
            .iter()
            .position(|e| **e == seen)
            .unwrap_or_else(|| panic!("{seen:?} in {steps:?}"))
    };
    let started = |step: &str| at(Seen::StepStarted(step.into()));
    let finished = |step: &str| at(Seen::StepFinished(step.into()));
    assert_eq!(steps.len(), 10, "{steps:?}");
    assert_eq!(started("users"), 0, "{steps:?}");
    for step in ["organizations", "roles"] {
        assert!(
            started(step) < finished("users"),
            "{step} overlaps users: {steps:?}"
        );
    }
    for step in ["users", "organizations", "roles"] {
        assert!(finished(step) < started("verify"), "{steps:?}");
    }
    for step in ["organizations", "roles"] {
        assert!(finished(step) < started("memberships"), "{steps:?}");
    }
    assert!(finished("memberships") < finished("verify"), "{steps:?}");
    let users_done = events
        .iter()
        .position(|e| *e == Seen::StepFinished("users".into()))
        .unwrap();
    let first_membership = events
        .iter()
        .position(|e| {
            matches!(
                e,
                Seen::Record {
                    kind: Kind::Membership,
                    ..
                }
            )
        })
        .expect("memberships were recorded");
    assert!(
        users_done < first_membership,
        "no membership before every user"
    );
    assert_eq!(steps.last(), Some(&&Seen::StepFinished("verify".into())));

    // Every Clerk user is one record that moves progress; TOTP factors ride along.
    let users = world.generated.tenant.users.len() as u64;
    assert!(events.contains(&Seen::Total("users".into(), users)));
    let advancing_users = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Seen::Record {
                    kind: Kind::User,
                    advances: true,
                    ..
                }
            )
        })
        .count() as u64;
    assert_eq!(advancing_users, users);
    let created = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Seen::Record {
                    kind: Kind::User,
                    action: Action::Created,
                    ..
                }
            )
        })
        .count();
    assert_eq!(created, world.expected().len());
    assert_eq!(world.dump().users.len(), created);
    assert!(events.iter().any(|e| matches!(
        e,
        Seen::Record {
            kind: Kind::TotpFactor,
            advances: false,
            ..
        }
    )));

    // users and verify read Clerk's users once between them (one page of 120).
    let counts = world.counts();
    assert_eq!(counts.route_total("GET /v1/users"), 1, "{counts:#?}");

    // The report holds what the steps came to.
    assert_eq!(summary.report.steps.len(), 5);
    assert!(summary.report.verification.as_ref().unwrap().passed);

    // A second run through the same engine changes nothing.
    world.sandbox.reset_request_counts();
    let again = Engine::new(&project, &recorder)
        .run(RunOptions::default())
        .unwrap();
    assert_eq!(again.status, RunStatus::Finished);
    assert_eq!(world.counts().workos_writes, 0);
    assert!(recorder.take().iter().all(|e| !matches!(
        e,
        Seen::Record {
            kind: Kind::User,
            action: Action::Created | Action::Updated,
            ..
        }
    )));
}

#[test]
fn a_preview_plans_every_user_and_writes_nothing() {
    let world = world();
    let project = project(&world);
    let recorder = Recorder::default();
    let preview = Engine::new(&project, &recorder)
        .preview(false, false)
        .expect("the preview finishes");
    assert_eq!(world.counts().workos_writes, 0);
    let events: Vec<Seen> = recorder
        .take()
        .into_iter()
        .filter(|e| *e != Seen::Other)
        .collect();
    assert_eq!(events[0], Seen::RunStarted { preview: true });
    let planned = events.iter().filter(|e| **e == Seen::Planned).count();
    // One plan per user, and one per Clerk organization, role and
    // membership (every writing step previews).
    let tenant = &world.generated.tenant;
    let users_planned = tenant.users.len();
    assert_eq!(
        planned,
        users_planned + tenant.organizations.len() + tenant.roles.len() + tenant.memberships.len()
    );
    // What `ferry run` says before it writes: every user, none settled.
    let estimate = Engine::new(&project, &recorder).estimate().unwrap();
    assert_eq!(estimate.clerk_users, Some(users_planned as u64));
    assert_eq!(estimate.users_to_write(), Some(users_planned as u64));
    Engine::new(&project, &recorder)
        .run(RunOptions::default())
        .unwrap();
    let settled = Engine::new(&project, &recorder).estimate().unwrap();
    assert_eq!(settled.settled_users, users_planned as u64);
    assert_eq!(settled.users_to_write(), Some(0));
    let (name, users) = &preview.steps[0];
    assert_eq!(name.name(), "users");
    let StepOutcome::Previewed { counts, .. } = users else {
        panic!("the users step previews: {users:?}");
    };
    assert_eq!(counts.values().sum::<u64>() as usize, users_planned);
    // Every writing step previews; verify, which writes nothing, says so.
    for (name, outcome) in &preview.steps {
        let previewed = matches!(outcome, StepOutcome::Previewed { .. });
        assert_eq!(previewed, name.name() != "verify", "{name}: {outcome:?}");
    }
}
