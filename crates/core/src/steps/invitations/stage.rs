//! The invitations step as the engine runs and previews it.

use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use super::list::{self, ListOutcome, ListRow};
use super::{ClerkInvitations, InvitationsStep};
use crate::journal::{Action, Kind};
use crate::mapping::invitation::Status;
use crate::mapping::role::RoleMapper;
use crate::observe::Event;
use crate::plan::{InvitationSettings, Project, StepKind};
use crate::report::invitations::InvitationSummary;
use crate::report::outcome::{PlannedAction, Section, StepOutcome};
use crate::steps::error::StepError;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, write_records,
};

pub struct Invitations<'p>(pub &'p InvitationSettings);

impl<'p> Invitations<'p> {
    fn step<'a>(
        &'a self,
        project: &'a Project,
        workos: &'a crate::workos::client::WorkosClient,
        journal: &'a Mutex<crate::journal::Journal>,
        clerk: &'a ClerkInvitations,
        dry_run: bool,
    ) -> InvitationsStep<'a> {
        let since = journal.lock().expect("journal lock").working_since();
        InvitationsStep {
            settings: self.0,
            roles: RoleMapper::of(project, dry_run),
            script: project.script.as_ref(),
            ctx: project.hook_context(StepKind::Invitations, dry_run),
            workos,
            journal,
            clerk,
            workos_roles: Default::default(),
            unmigrated_roles: Default::default(),
            coming_roles: Default::default(),
            clerk_members: Default::default(),
            since,
            sent_for: Default::default(),
            now_ms: chrono::Utc::now().timestamp_millis(),
            rows: Mutex::new(Vec::new()),
        }
    }
}

/// `<name>-invitations.csv` in the report folder.
fn list_path(project: &Project) -> std::path::PathBuf {
    let plan = &project.plan;
    plan.report
        .dir
        .join(format!("{}-invitations.csv", plan.name))
}

impl Stage for Invitations<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Invitations
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Invitations)?;
            let now_ms = chrono::Utc::now().timestamp_millis();
            let invitations = ClerkInvitations::read(clerk, now_ms).await?;
            if let Some(why) = &invitations.incomplete {
                cx.observer.event(&Event::Warning {
                    step: Some(StepKind::Invitations),
                    message: &format!(
                        "{why}; invitations it did not return are neither listed nor sent"
                    ),
                });
            }
            let project = cx.project;
            let step = self.step(project, cx.workos, cx.reader, &invitations, false);
            let items = invitations.invitations.clone();
            let (mut outcome, ()) = write_records(
                cx,
                StepKind::Invitations,
                Kind::Invitation,
                async |tx| {
                    crate::steps::pump::send_all(items, tx).await;
                    Ok(())
                },
                |invitation| {
                    let step = &step;
                    async move { step.write(&invitation).await }
                },
            )
            .await?;
            let mut rows = step.rows.into_inner().expect("rows lock");
            rows.sort_by(|a, b| {
                (&a.organization, &a.email, &a.invitation).cmp(&(
                    &b.organization,
                    &b.email,
                    &b.invitation,
                ))
            });
            let dir = &project.plan.report.dir;
            ferry_wire::files::create_dir(dir).map_err(|e| StepError::write(dir, e))?;
            let path = list_path(project);
            list::write_list(&path, &rows).map_err(|e| StepError::write(&path, e))?;
            let summary = summarize(self.0.send, &invitations, &rows, &outcome, &path);
            if let StepOutcome::Records { section, notes, .. } = &mut outcome {
                notes.push(said(&summary));
                *section = Some(Box::new(Section::Invitations(summary)));
            }
            Ok(outcome)
        })
    }

    fn preview<'s>(&'s self, cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let now_ms = chrono::Utc::now().timestamp_millis();
            let invitations = ClerkInvitations::read(clerk, now_ms).await?;
            let mut step = self.step(cx.project, workos, cx.reader, &invitations, true);
            // Roles the roles step has still to make are not in WorkOS yet.
            if cx.project.plan.has(StepKind::Roles) {
                let clerk_roles = clerk
                    .all_roles()
                    .await
                    .map_err(crate::source::read::SourceError::from)?;
                step.coming_roles = clerk_roles
                    .iter()
                    .filter_map(|role| step.roles.slug(&role.key, Some(&role.name)).ok())
                    .filter_map(|slug| slug.slug())
                    .collect();
            }
            let mut tally = PreviewTally::new(cx, StepKind::Invitations);
            let mut emails = 0u64;
            let pending = invitations
                .by_status()
                .get(&Status::Pending)
                .copied()
                .unwrap_or(0);
            tally.total(pending);
            for invitation in &invitations.invitations {
                let left_out = cx.left_out.lock().expect("left_out lock").clone();
                if let Some(planned) = step.preview(invitation, &left_out, clerk).await {
                    emails += u64::from(planned.action == PlannedAction::Create);
                    tally.planned(&planned);
                }
            }
            let message = match self.0.send {
                true => format!(
                    "a run emails {emails} invitees (WorkOS sends each one invitation; nobody twice), listed above as `create`"
                ),
                false => format!(
                    "`send` is off: a run lists the {pending} pending invitations in {} and emails nobody",
                    list_path(cx.project).display()
                ),
            };
            cx.observer.event(&Event::Warning {
                step: Some(StepKind::Invitations),
                message: &message,
            });
            Ok(tally.outcome())
        })
    }
}

/// What the step came to, for the report.
fn summarize(
    send: bool,
    invitations: &ClerkInvitations,
    rows: &[ListRow],
    outcome: &StepOutcome,
    path: &std::path::Path,
) -> InvitationSummary {
    let by_status = invitations.by_status();
    let mut summary = InvitationSummary {
        send,
        pending: by_status.get(&Status::Pending).copied().unwrap_or(0),
        list_csv: path.display().to_string(),
        ..InvitationSummary::default()
    };
    for status in [Status::Accepted, Status::Revoked, Status::Expired] {
        if let Some(&n) = by_status.get(&status).filter(|n| **n > 0) {
            summary.not_pending.insert(status.as_str().to_owned(), n);
        }
    }
    for row in rows {
        match row.outcome {
            ListOutcome::Listed => summary.listed += 1,
            ListOutcome::Sent => summary.sent += 1,
            ListOutcome::SentBefore => summary.sent_before += 1,
            other => {
                let code = row
                    .code
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_else(|| other.as_str().to_owned());
                *summary.not_sent.entry(code).or_default() += 1;
            }
        }
    }
    if let Some(tally) = outcome.counts() {
        summary.revoked = tally.get(Kind::Invitation, Action::Deleted);
    }
    summary
}

/// The summary in one sentence, for the run's output.
fn said(summary: &InvitationSummary) -> String {
    let not_sent: u64 = summary.not_sent.values().sum();
    match summary.send {
        true => format!(
            "{} invitation emails sent by this run; {} sent before; {not_sent} not sent; {} revoked (revoked in Clerk); list: {}",
            summary.sent, summary.sent_before, summary.revoked, summary.list_csv
        ),
        false => format!(
            "{} pending invitations listed in {}; nobody was emailed (`send: true` re-issues them from WorkOS)",
            summary.pending, summary.list_csv
        ),
    }
}
