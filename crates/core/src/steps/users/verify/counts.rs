//! The `users` check: every migrated user exists, counts match Clerk, and the sample matches field by field.

use std::collections::{BTreeMap, HashMap};

use crate::journal::Kind;
use crate::mapping::user::{Mapped, map_user};
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::verify::context::{Seen, VerifyStep, check, id_key};
use ferry_wire::workos::model::User;

impl VerifyStep<'_> {
    pub(crate) fn check_users(
        &self,
        migrated: &BTreeMap<String, String>,
        seen: &Seen,
        workos: &HashMap<String, User>,
        clerk_count: Option<u64>,
    ) -> Result<Check, StepError> {
        let mut failures = Vec::new();
        for (clerk_id, target) in migrated {
            match workos.get(target) {
                None => failures.push(format!("{clerk_id}: WorkOS user {target} is missing")),
                Some(user) if user.external_id.as_deref() != Some(clerk_id.as_str()) => failures
                    .push(format!(
                        "{clerk_id}: WorkOS user {target} has external_id {}",
                        user.external_id
                            .as_deref()
                            .map_or("(none)".to_owned(), |e| format!("`{e}`"))
                    )),
                Some(_) => {}
            }
        }
        // Every Clerk user the source has now is migrated or excluded with a
        // reason; users that exist only in an old export (deleted from
        // Clerk since) and users that signed up after it are counted right.
        let excluded = self.excluded_in(Kind::User, &seen.ids)?;
        let excluded_total: u64 = excluded.values().sum();
        let migrated_now = migrated
            .keys()
            .filter(|id| seen.ids.contains(&id_key(id)))
            .count() as u64;
        let gone = migrated.len() as u64 - migrated_now;
        let present = migrated
            .values()
            .filter(|t| workos.contains_key(*t))
            .count() as u64;
        // The larger of what the source listing held and what Clerk counts
        // now: users a listing lost are still Clerk's.
        let source_users = seen.source_users.max(clerk_count.unwrap_or(0));
        let unaccounted = source_users.saturating_sub(migrated_now + excluded_total);
        if unaccounted > 0 {
            failures.push(format!(
                "Clerk has {source_users} users: {migrated_now} migrated and {excluded_total} excluded leave {unaccounted} neither migrated nor excluded; `ferry run` migrates them"
            ));
        }
        let settings = self.plan.users().cloned().unwrap_or_default();
        let mut compared = 0;
        for (clerk_id, user) in &seen.sampled {
            let Some(actual) = migrated.get(clerk_id).and_then(|t| workos.get(t)) else {
                continue;
            };
            let Mapped::Ready(desired) = map_user(
                user,
                &settings,
                // The sample compares profile fields; how a password is sent is not among them.
                &Default::default(),
                self.script,
                &self.users_ctx,
            ) else {
                failures.push(format!(
                    "{clerk_id}: migrated, but the plan now maps it to a skip or reject"
                ));
                continue;
            };
            compared += 1;
            let p = &desired.payload;
            let same = |a: Option<&str>, b: Option<&str>| a.unwrap_or("") == b.unwrap_or("");
            let mut differ = Vec::new();
            if !actual.email.eq_ignore_ascii_case(&p.email) {
                differ.push(format!("email {} ≠ {}", actual.email, p.email));
            }
            if !same(actual.first_name.as_deref(), p.first_name.as_deref()) {
                differ.push("first_name".to_owned());
            }
            if !same(actual.last_name.as_deref(), p.last_name.as_deref()) {
                differ.push("last_name".to_owned());
            }
            if actual.email_verified != p.email_verified {
                differ.push(format!(
                    "email_verified {} ≠ {}",
                    actual.email_verified, p.email_verified
                ));
            }
            if actual.external_id.as_deref() != Some(p.external_id.as_str()) {
                differ.push("external_id".to_owned());
            }
            if actual.metadata != p.metadata {
                let keys: std::collections::BTreeSet<&String> = actual
                    .metadata
                    .keys()
                    .chain(p.metadata.keys())
                    .filter(|key| actual.metadata.get(*key) != p.metadata.get(*key))
                    .collect();
                let keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
                differ.push(format!(
                    "metadata ({})",
                    ferry_wire::inert::printable(&keys.join(", "))
                ));
            }
            if !differ.is_empty() {
                failures.push(format!("{clerk_id}: {}", differ.join(", ")));
            }
        }
        let parts: Vec<String> = excluded.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let mut evidence = vec![
            format!(
                "Clerk: {} users; excluded: {} ({}); migrated: {}; found in WorkOS: {present}",
                source_users,
                excluded_total,
                if parts.is_empty() {
                    "none".to_owned()
                } else {
                    parts.join(", ")
                },
                migrated_now
            ),
            format!(
                "{compared} sampled users compared field by field (email, names, email_verified, external_id, metadata)"
            ),
        ];
        if gone > 0 {
            evidence.push(format!(
                "{gone} migrated users are no longer in Clerk (deleted in Clerk after they were migrated: not a migration fault)"
            ));
        }
        Ok(check(
            "users",
            "Every migrated user exists in WorkOS, counts match, a sample matches field by field",
            failures,
            evidence,
        ))
    }
}
