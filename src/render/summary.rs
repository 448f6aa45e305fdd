//! The lines a step leaves on stdout when it ends (`users: 3 created, …`,
//! the MFA counts, the verification checklist), and the whole assessment
//! and checklist for the commands that print nothing else.

use std::collections::BTreeMap;

use ferry_core::journal::{Action, Kind};
use ferry_core::observe::{Event, Observer};
use ferry_core::report::model::ListFile;
use ferry_core::report::outcome::{StepOutcome, Tally};
use ferry_core::report::{Assessment, MfaSummary, Status, Verification};

use crate::output::{Painter, thousands};
use ferry_wire::inert::terminal;

/// Prints each step's summary as the step ends.
pub struct Summaries {
    painter: Painter,
}

impl Summaries {
    pub fn stdout() -> Self {
        Self {
            painter: Painter::stdout(),
        }
    }
}

impl Observer for Summaries {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted {
                run_id: Some(run_id),
                plan,
                revision,
                ..
            } => println!(
                "{} run {run_id} of {plan} (revision {revision})",
                self.painter.strong("ferry")
            ),
            Event::Preflight { findings } => {
                let parts: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{}: {}", f.check, f.detail))
                    .collect();
                println!("preflight: {}", parts.join("; "));
            }
            Event::Warning { message, .. } => {
                println!("{}: {}", self.painter.warning("warning"), terminal(message))
            }
            Event::StepFinished { step, outcome, .. } => {
                step_finished(step.name(), outcome, &self.painter)
            }
            _ => {}
        }
    }
}

fn step_finished(step: &str, outcome: &StepOutcome, painter: &Painter) {
    match outcome {
        StepOutcome::Assess(a) => {
            println!(
                "assess: {} users, {} organizations, {} memberships; {}",
                a.users, a.organizations, a.memberships, a.estimate.human
            );
            for line in &a.needs_a_person {
                println!("  needs a person: {}", terminal(line));
            }
        }
        StepOutcome::Records {
            main: Kind::User,
            tally,
            lists,
            short_read,
            ..
        } => {
            users(tally, painter);
            if let Some(missing) = short_read {
                println!(
                    "{}: Clerk counted {missing} more users than its listing returned; run again to pick them up",
                    painter.warning("warning")
                );
            }
            print_lists(lists);
        }
        StepOutcome::Records {
            main,
            tally,
            lists,
            notes,
            ..
        } => {
            counts(step, tally, *main);
            print_lists(lists);
            for note in notes {
                println!("  note: {}", terminal(note));
            }
        }
        StepOutcome::MfaReport(summary) => mfa(summary),
        StepOutcome::Verify(v) => verification(v, painter),
        StepOutcome::Previewed { .. } | StepOutcome::NotPreviewed => {}
    }
}

fn users(tally: &Tally, painter: &Painter) {
    let count = |action| thousands(tally.get(Kind::User, action));
    let failed = tally.get(Kind::User, Action::Failed);
    println!(
        "users: {} created, {} updated, {} adopted, {} unchanged, {} skipped, {} rejected, {} failed",
        count(Action::Created),
        count(Action::Updated),
        count(Action::Adopted),
        count(Action::Unchanged),
        count(Action::Skipped),
        count(Action::Rejected),
        if failed > 0 {
            painter.error(&count(Action::Failed))
        } else {
            count(Action::Failed)
        },
    );
    let totp = |action| tally.get(Kind::TotpFactor, action);
    if [
        Action::Created,
        Action::Adopted,
        Action::Unchanged,
        Action::Failed,
    ]
    .iter()
    .any(|a| totp(*a) > 0)
    {
        println!(
            "totp factors: {} enrolled, {} already there, {} failed",
            totp(Action::Created),
            totp(Action::Adopted) + totp(Action::Unchanged),
            totp(Action::Failed)
        );
    }
}

fn counts(label: &str, tally: &Tally, kind: Kind) {
    let parts: Vec<String> = Action::ALL
        .into_iter()
        .map(|action| format!("{} {}", thousands(tally.get(kind, action)), action.as_str()))
        .collect();
    println!("{label}: {}", parts.join(", "));
}

fn print_lists(lists: &[ListFile]) {
    for list in lists {
        println!("  {}: {} in {}", list.label, list.rows, list.path);
    }
}

fn mfa(summary: &MfaSummary) {
    println!(
        "mfa: {} to notify ({} sms, {} totp not exported, {} totp not imported, {} backup codes); {} totp factors moved",
        summary.users_to_notify,
        summary.sms,
        summary.totp_not_exported,
        summary.totp_not_imported,
        summary.backup_codes,
        summary.totp_migrated
    );
    println!(
        "  notices in {}, list in {}",
        summary.notices_dir.display(),
        summary.notify_csv.display()
    );
    let flags: u64 = summary.sign_in_flags.values().sum();
    if flags > 0 {
        let parts: Vec<_> = summary
            .sign_in_flags
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        println!(
            "sign-in flags: {} in {}",
            parts.join(", "),
            summary.sign_in_csv.display()
        );
    }
}

/// The checklist for people: one line per check, its evidence indented.
pub fn verification(verification: &Verification, painter: &Painter) {
    let skipped = verification
        .checks
        .iter()
        .filter(|check| check.status == Status::Skipped)
        .count();
    // A skipped check proved nothing: "passed" says how many were not run.
    let skipped = match skipped {
        0 => String::new(),
        n => format!(" ({n} skipped)"),
    };
    println!(
        "verify: {}{skipped}",
        if verification.passed {
            painter.success("passed")
        } else {
            painter.error("FAILED")
        }
    );
    for check in &verification.checks {
        let mark = match check.status {
            Status::Pass => painter.success("pass"),
            Status::Fail => painter.error("FAIL"),
            Status::Skipped => painter.dim("skipped"),
        };
        println!("  {mark} {} ({})", terminal(&check.title), check.id);
        for line in &check.evidence {
            println!("       {}", painter.dim(&terminal(line)));
        }
    }
}

/// The whole assessment, for `ferry assess`.
pub fn assessment(a: &Assessment, painter: &Painter) {
    let n = thousands;
    let pairs = |map: &BTreeMap<String, u64>| {
        map.iter()
            .map(|(k, v)| format!("{k} {}", n(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("{} {} users", painter.strong("assess:"), n(a.users));
    println!("  sign-in: {}", pairs(&a.sign_in));
    println!("  password hashes:");
    for h in &a.hashers {
        let workos = h
            .imports_as
            .as_deref()
            .map_or("cannot import".to_owned(), |t| format!("imports as {t}"));
        println!(
            "    {:<16} {:>9}  {workos}{}",
            terminal(&h.hasher),
            n(h.users),
            if h.resets > 0 {
                format!(", {} resets", n(h.resets))
            } else {
                String::new()
            }
        );
    }
    println!(
        "  multi-email users: {}; primary known from: {}",
        n(a.multi_email),
        pairs(&a.primary_known_from)
    );
    println!(
        "  without an email: {}",
        if a.no_email.is_empty() {
            "none".into()
        } else {
            pairs(&a.no_email)
        }
    );
    println!(
        "  emails shared by several users: {} addresses, {} users{}",
        n(a.shared_emails.emails),
        n(a.shared_emails.users),
        if a.shared_emails.examples.is_empty() {
            String::new()
        } else {
            format!(" (e.g. {})", terminal(&a.shared_emails.examples.join(", ")))
        }
    );
    println!("  unverified primary emails: {}", n(a.unverified_primary));
    println!(
        "  mfa: totp {} exported, {} not exported; sms {}; backup codes {}",
        n(a.mfa.totp_exported),
        n(a.mfa.totp_not_exported),
        n(a.mfa.sms),
        n(a.mfa.backup_codes)
    );
    println!(
        "  banned {}, locked {}; metadata beyond WorkOS limits {}",
        n(a.banned),
        n(a.locked),
        n(a.metadata_over_limits)
    );
    for p in &a.oauth_providers {
        println!(
            "  oauth {:<10} {:>7} users ({} social-only) {}",
            terminal(&p.provider),
            n(p.users),
            n(p.social_only_users),
            if p.enabled_in_workos {
                "configured in WorkOS".to_owned()
            } else {
                painter.warning("NOT configured in WorkOS")
            }
        );
    }
    println!(
        "  organizations {}, memberships {}",
        n(a.organizations),
        n(a.memberships)
    );
    for r in &a.roles {
        println!(
            "    {:<24} {:>7} → {}",
            terminal(&r.role),
            n(r.memberships),
            terminal(&r.maps_to)
        );
    }
    let sso = &a.sso;
    if !sso.connections.is_empty() || !sso.not_created.is_empty() || sso.directories > 0 {
        let counts = |map: &std::collections::BTreeMap<String, u64>| {
            map.iter()
                .map(|(key, count)| format!("{key} {}", n(*count)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "  enterprise SSO: connections to create {}; not created {}; SCIM directories {} (handed off); SSO users {}",
            match counts(&sso.connections) {
                c if c.is_empty() => "none".to_owned(),
                c => c,
            },
            match counts(&sso.not_created) {
                c if c.is_empty() => "none".to_owned(),
                c => c,
            },
            n(sso.directories),
            n(sso.users)
        );
    }
    if a.bad_export_rows > 0 {
        println!(
            "  export rows that could not be read: {}",
            n(a.bad_export_rows)
        );
    }
    println!(
        "{} {}",
        painter.strong("steps needed:"),
        a.steps_needed.join(", ")
    );
    println!("{}", painter.strong("needs a person:"));
    for line in &a.needs_a_person {
        println!("  - {}", terminal(line));
    }
    println!("{} {}", painter.strong("estimated run:"), a.estimate.human);
}
