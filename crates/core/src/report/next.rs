//! What to do after a run, in order, from what the report already says:
//! resume what did not finish, retry what failed, act on the lists for
//! people, prove the result, then carry on through the cutover. A pure
//! function of the report, so every format says the same.

use super::model::Report;

/// The next steps after `report`'s run; `command` is how it was run (`run` or `sync`).
pub fn next_steps(report: &Report, command: &str) -> Vec<String> {
    let plan = &report.plan.path;
    let mut steps = Vec::new();
    let interrupted = report.run.status == "interrupted";
    if interrupted {
        let not_run = if report.not_run.is_empty() {
            String::new()
        } else {
            format!(" ({} did not finish)", report.not_run.join(", "))
        };
        steps.push(format!(
            "Resume: `ferry {command} {plan}` carries on where this run stopped{not_run}; \
             nothing done is done twice."
        ));
    }
    let list = |label: &str| report.people.iter().find(|l| l.label == label);
    if let Some(failures) = list("failures").filter(|l| l.total > 0) {
        steps.push(format!(
            "{} records failed or were rejected: read the reasons in {}; \
             `ferry run {plan}` tries the failed ones again.",
            failures.total, failures.path
        ));
    }
    if let Some(resets) = list("password resets needed").filter(|l| l.total > 0) {
        steps.push(format!(
            "Send a password-reset email to the {} people in {} after the switch: \
             WorkOS has no password for them.",
            resets.total, resets.path
        ));
    }
    if let Some(mfa) = report.mfa.as_ref().filter(|m| m.users_to_notify > 0) {
        steps.push(format!(
            "Send the {} MFA notices in {} (who gets which is in {}).",
            mfa.users_to_notify,
            mfa.notices_dir.display(),
            mfa.notify_csv.display()
        ));
    }
    if let Some(skipped) = list("skipped").filter(|l| l.total > 0) {
        steps.push(format!(
            "Review the {} skipped users in {}: they are not in WorkOS.",
            skipped.total, skipped.path
        ));
    }
    match &report.verification {
        Some(verification) if !verification.passed => steps.push(format!(
            "Verification failed: fix what the failed checks name, then `ferry verify {plan}`."
        )),
        Some(_) => {}
        None if !interrupted => steps.push(format!(
            "Prove the result: `ferry verify {plan}` checks WorkOS against Clerk."
        )),
        None => {}
    }
    if !interrupted {
        steps.push(format!(
            "Through the cutover window: `ferry sync {plan}` as often as needed; freeze \
             sign-ups, run a last `ferry sync` and `ferry verify`, then switch the application \
             (docs/cutover.md)."
        ));
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{PeopleList, PlanInfo, RunInfo};

    fn report(status: &str) -> Report {
        Report {
            ferry_version: "0".into(),
            generated_at: String::new(),
            plan: PlanInfo {
                name: "p".into(),
                revision: 1,
                checksum: String::new(),
                path: "/team/plans/p.yaml".into(),
            },
            run: RunInfo {
                id: 2,
                started_at: String::new(),
                finished_at: None,
                status: status.into(),
                outcome: String::new(),
            },
            assessment: None,
            steps: Vec::new(),
            mfa: None,
            sso: None,
            invitations: None,
            verification: None,
            people: vec![PeopleList {
                label: "password resets needed".into(),
                path: "/team/reports/p-password-resets.csv".into(),
                total: 3,
                change: 3,
            }],
            endpoints: Vec::new(),
            accounting: None,
            not_run: vec!["memberships".into(), "verify".into()],
            next_steps: Vec::new(),
        }
    }

    #[test]
    fn an_interrupted_run_says_how_to_resume_and_what_did_not_run() {
        let steps = next_steps(&report("interrupted"), "run");
        assert!(
            steps[0].starts_with(
                "Resume: `ferry run /team/plans/p.yaml` carries on where this run stopped (memberships, verify did not finish)"
            ),
            "{steps:?}"
        );
        assert!(steps[1].contains("3 people in /team/reports/p-password-resets.csv"));
        assert!(!steps.iter().any(|s| s.contains("ferry sync")), "{steps:?}");
    }

    #[test]
    fn a_finished_run_points_at_verify_and_the_cutover() {
        let steps = next_steps(&report("finished"), "run");
        assert!(
            steps
                .iter()
                .any(|s| s.contains("`ferry verify /team/plans/p.yaml`"))
        );
        assert!(
            steps
                .last()
                .unwrap()
                .contains("`ferry sync /team/plans/p.yaml`")
        );
    }
}
