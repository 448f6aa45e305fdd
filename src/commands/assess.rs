//! `ferry assess PLAN`: the pre-migration decision tree, read-only; needs only the source.

use std::path::Path;

use crate::connect;
use crate::error::{ExitStatus, Result};
use crate::output::{Painter, thousands};
use crate::plan::LoadOptions;
use crate::project::Project;
use crate::source::read::Sources;
use crate::steps::assess::{AssessStep, Assessment};

pub fn run(plan_path: &Path, json: bool) -> Result<ExitStatus> {
    let project = Project::open(plan_path, LoadOptions::for_use())?;
    let plan = &project.plan;
    let clerk = connect::clerk(plan)?;
    let sources = Sources::of(&plan.source, clerk.as_ref());
    let step = AssessStep { plan };
    let assessment = super::run::runtime()?.block_on(step.run(sources, clerk.as_ref()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&assessment).unwrap_or_default()
        );
    } else {
        print(&assessment, &Painter::stdout());
    }
    Ok(ExitStatus::Success)
}

fn print(a: &Assessment, painter: &Painter) {
    let n = |v: u64| thousands(v);
    let pairs = |map: &std::collections::BTreeMap<String, u64>| {
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
            h.hasher,
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
            format!(" (e.g. {})", a.shared_emails.examples.join(", "))
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
            p.provider,
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
        println!("    {:<24} {:>7} → {}", r.role, n(r.memberships), r.maps_to);
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
        println!("  - {line}");
    }
    println!("{} {}", painter.strong("estimated run:"), a.estimate.human);
}
