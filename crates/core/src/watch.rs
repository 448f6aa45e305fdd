//! `ferry watch`: cohort health after the switch. WorkOS records every
//! password sign-in as an `authentication.password_succeeded` or
//! `authentication.password_failed` event; grouped by the cohort the
//! journal recorded for each user (the Clerk hasher, and whether its
//! digest was imported or the user must reset), they show within minutes a
//! whole cohort that cannot sign in, such as a hash layout the target took
//! but reads differently. The hash probes' own sign-ins are left out (the
//! journal knows every probe user's id).
//!
//! The rule that flags a cohort ([`flagged`]): at least
//! [`FLAG_MIN_ATTEMPTS`] attempts, and more than half of them failed. The
//! grouping is a pure function ([`tally`]) tested apart from the network.
//! WorkOS keeps events for [`RETENTION_DAYS`] days: an earlier `since` is
//! moved up to that and said so.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::Serialize;

use crate::workos::client::{Result, WorkosClient};

pub use crate::target::changes::RETENTION_DAYS;
/// A cohort is judged only from this many attempts on.
pub const FLAG_MIN_ATTEMPTS: u64 = 10;
/// The most events one look reads (100 a page): a bound on time and memory.
pub const MAX_EVENTS: usize = 1_000_000;

pub const SUCCEEDED: &str = "authentication.password_succeeded";
pub const FAILED: &str = "authentication.password_failed";

/// One password sign-in attempt, as WorkOS recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `None` when the email matched no user.
    pub user_id: Option<String>,
    pub succeeded: bool,
}

/// How a migrated user's password was carried, as the journal has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCohort {
    /// The Clerk hasher; empty when none was known.
    pub hasher: String,
    /// `password` (imported), `reset`, or `none`.
    pub signs_in: String,
}

/// Successes and failures of one cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CohortHealth {
    /// `pbkdf2_sha256 imported`, `md5 reset`, `not migrated by ferry`, …
    pub cohort: String,
    pub succeeded: u64,
    pub failed: u64,
    pub flagged: bool,
}

/// What `ferry watch` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Events from this instant on.
    pub since: String,
    /// Said when the asked-for `since` was older than WorkOS keeps.
    pub since_moved: bool,
    pub retention_days: i64,
    pub rule: String,
    pub cohorts: Vec<CohortHealth>,
}

impl Health {
    pub fn flagged(&self) -> impl Iterator<Item = &CohortHealth> {
        self.cohorts.iter().filter(|cohort| cohort.flagged)
    }
}

/// The documented rule: at least [`FLAG_MIN_ATTEMPTS`] attempts, more than half failed.
pub fn flagged(succeeded: u64, failed: u64) -> bool {
    succeeded + failed >= FLAG_MIN_ATTEMPTS && failed * 2 > succeeded + failed
}

fn label(cohort: Option<&UserCohort>) -> String {
    match cohort {
        None => "not migrated by ferry".to_owned(),
        Some(cohort) => {
            let how = match cohort.signs_in.as_str() {
                "password" => "imported",
                "reset" => "reset",
                _ => return "no password at migration".to_owned(),
            };
            match cohort.hasher.is_empty() {
                true => format!("no digest, {how}"),
                false => format!("{} {how}", cohort.hasher),
            }
        }
    }
}

/// Groups `attempts` by the cohort of each user, most attempts first.
pub fn tally(attempts: &[Attempt], cohorts: &HashMap<String, UserCohort>) -> Vec<CohortHealth> {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for attempt in attempts {
        let cohort = attempt.user_id.as_ref().and_then(|id| cohorts.get(id));
        let entry = counts.entry(label(cohort)).or_default();
        match attempt.succeeded {
            true => entry.0 += 1,
            false => entry.1 += 1,
        }
    }
    let mut health: Vec<CohortHealth> = counts
        .into_iter()
        .map(|(cohort, (succeeded, failed))| CohortHealth {
            cohort,
            succeeded,
            failed,
            flagged: flagged(succeeded, failed),
        })
        .collect();
    health.sort_by(|a, b| {
        (b.succeeded + b.failed)
            .cmp(&(a.succeeded + a.failed))
            .then_with(|| a.cohort.cmp(&b.cohort))
    });
    health
}

/// `since`, moved up to WorkOS's retention when older; and whether it moved.
pub fn within_retention(since: DateTime<Utc>, now: DateTime<Utc>) -> (DateTime<Utc>, bool) {
    let oldest = now - Duration::days(RETENTION_DAYS);
    match since < oldest {
        true => (oldest, true),
        false => (since, false),
    }
}

/// Reads the password sign-in events since `since` (at most [`MAX_EVENTS`]).
pub async fn attempts(workos: &WorkosClient, since: DateTime<Utc>) -> Result<Vec<Attempt>> {
    let start = since.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut after = None;
    let mut attempts = Vec::new();
    let mut cursors = std::collections::HashSet::new();
    loop {
        let page = workos
            .events_page(&[SUCCEEDED, FAILED], &start, after.as_deref())
            .await?;
        for event in page.data {
            let succeeded = match event.event.as_str() {
                SUCCEEDED => true,
                FAILED => false,
                _ => continue,
            };
            let user_id = event
                .data
                .get("user_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            attempts.push(Attempt { user_id, succeeded });
        }
        // A cursor handed out twice would loop for ever: stop there.
        match page.list_metadata.after {
            Some(next) if attempts.len() < MAX_EVENTS && cursors.insert(next.clone()) => {
                after = Some(next)
            }
            _ => return Ok(attempts),
        }
    }
}

/// The rule as `ferry watch` states it.
pub fn rule() -> String {
    format!(
        "a cohort is flagged when at least {FLAG_MIN_ATTEMPTS} attempts were made and more than half failed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(user: Option<&str>, succeeded: bool) -> Attempt {
        Attempt {
            user_id: user.map(str::to_owned),
            succeeded,
        }
    }

    #[test]
    fn attempts_group_by_the_journal_s_cohort_and_the_rule_flags_only_a_failing_one() {
        let cohorts: HashMap<String, UserCohort> = [
            ("u_b", "bcrypt", "password"),
            ("u_p", "pbkdf2_sha256", "password"),
            ("u_m", "md5", "reset"),
            ("u_s", "", "none"),
        ]
        .into_iter()
        .map(|(id, hasher, signs_in)| {
            (
                id.to_owned(),
                UserCohort {
                    hasher: hasher.to_owned(),
                    signs_in: signs_in.to_owned(),
                },
            )
        })
        .collect();
        let mut attempts = Vec::new();
        attempts.extend((0..12).map(|i| attempt(Some("u_b"), i != 0)));
        attempts.extend((0..11).map(|i| attempt(Some("u_p"), i < 5)));
        attempts.extend((0..9).map(|_| attempt(Some("u_m"), false)));
        attempts.extend([attempt(None, false), attempt(Some("u_new"), true)]);
        attempts.push(attempt(Some("u_s"), true));
        let health = |cohort: &str, succeeded, failed, flagged| CohortHealth {
            cohort: cohort.to_owned(),
            succeeded,
            failed,
            flagged,
        };
        assert_eq!(
            tally(&attempts, &cohorts),
            vec![
                health("bcrypt imported", 11, 1, false),
                health("pbkdf2_sha256 imported", 5, 6, true),
                health("md5 reset", 0, 9, false),
                health("not migrated by ferry", 1, 1, false),
                health("no password at migration", 1, 0, false),
            ]
        );
    }

    #[test]
    fn the_rule_at_its_edges() {
        for (succeeded, failed, expected) in [
            (0, 9, false),
            (0, 10, true),
            (5, 5, false),
            (4, 6, true),
            (100, 99, false),
        ] {
            assert_eq!(flagged(succeeded, failed), expected, "{succeeded}/{failed}");
        }
    }

    #[test]
    fn since_is_kept_within_retention() {
        let now = Utc::now();
        let recent = now - Duration::days(2);
        assert_eq!(within_retention(recent, now), (recent, false));
        let old = now - Duration::days(45);
        assert_eq!(
            within_retention(old, now),
            (now - Duration::days(RETENTION_DAYS), true)
        );
    }
}
