//! The connections step as the engine runs and previews it.

use std::sync::Mutex;

use futures_util::future::LocalBoxFuture;

use super::handoff::{self, HandoffRow};
use super::{ClerkSso, ConnectionsStep};
use crate::journal::{Action, Journal, Kind};
use crate::plan::{ConnectionSettings, StepKind};
use crate::report::outcome::{Section, StepOutcome};
use crate::report::sso::SsoSummary;
use crate::steps::error::StepError;
use crate::steps::stage::{
    PreviewContext, PreviewTally, RunContext, Stage, StageResult, write_records,
};

pub struct Connections<'p>(pub &'p ConnectionSettings);

/// The plan file's name (never its folder: the handoff goes to people).
fn plan_file(plan: &crate::plan::Plan) -> String {
    plan.path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "PLAN".to_owned())
}

impl Stage for Connections<'_> {
    fn kind(&self) -> StepKind {
        StepKind::Connections
    }

    fn run<'s>(&'s self, cx: &'s mut RunContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let clerk = cx.clerk_for(StepKind::Connections)?;
            let sso = ClerkSso::read(clerk).await?;
            let plan = &cx.project.plan;
            let step = ConnectionsStep {
                settings: self.0,
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Connections, false),
                workos: cx.workos,
                journal: cx.reader,
                clerk: &sso,
                reconcile: cx.reconcile,
                since: cx.journal.working_since(),
                plan_file: plan_file(plan),
                handoff: Mutex::new(Vec::new()),
            };
            let seen = cx.seen;
            let connections = sso.connections.clone();
            let (mut outcome, ()) = write_records(
                cx,
                StepKind::Connections,
                Kind::Connection,
                async |tx| {
                    crate::steps::pump::send_all(connections, tx).await;
                    Ok(())
                },
                |connection| {
                    let step = &step;
                    if let Some(seen) = seen {
                        seen.add(Kind::Connection, &connection.id);
                    }
                    async move { step.write(&connection).await }
                },
            )
            .await?;
            let why = sso
                .incomplete
                .as_ref()
                .map(|why| format!("Clerk's enterprise connections listing: {why}"));
            cx.listed_all(StepKind::Connections, Kind::Connection, &outcome, why);

            let mut directories = Vec::new();
            for directory in &sso.directories {
                // A directory belongs to the organization of its connection.
                let owner = directory
                    .enterprise_connection_id
                    .as_deref()
                    .and_then(|id| sso.connection_named(id))
                    .map(|connection| sso.view(connection));
                let workos = owner
                    .as_ref()
                    .and_then(|view| view.organization_id.as_deref())
                    .and_then(|id| step.workos_organization(id));
                directories.push(handoff::directory_row(
                    directory,
                    &owner
                        .map(|view| view.organization_label())
                        .unwrap_or_default(),
                    workos.as_deref(),
                    &step.plan_file,
                ));
            }
            let mut rows = step.handoff.into_inner().expect("handoff lock");
            rows.sort_by(|a, b| {
                (&a.organization, &a.connection).cmp(&(&b.organization, &b.connection))
            });
            rows.extend(directories);
            let dir = &plan.report.dir;
            ferry_wire::files::create_dir(dir).map_err(|e| StepError::write(dir, e))?;
            let handoff_csv = dir.join(format!("{}-sso-handoff.csv", plan.name));
            handoff::write_handoff(&handoff_csv, &rows)
                .map_err(|e| StepError::write(&handoff_csv, e))?;
            let summary = summarize(&sso, cx.reader, &rows, &handoff_csv);
            if let StepOutcome::Records { section, .. } = &mut outcome {
                *section = Some(Box::new(Section::Sso(summary)));
            }
            Ok(outcome)
        })
    }

    fn preview<'s>(&'s self, cx: &'s PreviewContext<'_>) -> LocalBoxFuture<'s, StageResult> {
        Box::pin(async move {
            let (Some(workos), Some(clerk)) = (cx.workos, cx.clerk) else {
                return Ok(StepOutcome::NotPreviewed);
            };
            let sso = ClerkSso::read(clerk).await?;
            let step = ConnectionsStep {
                settings: self.0,
                script: cx.project.script.as_ref(),
                ctx: cx.project.hook_context(StepKind::Connections, true),
                workos,
                journal: cx.reader,
                clerk: &sso,
                reconcile: false,
                since: None,
                plan_file: plan_file(&cx.project.plan),
                handoff: Mutex::new(Vec::new()),
            };
            let mut tally = PreviewTally::new(cx, StepKind::Connections).of(Kind::Connection);
            tally.total(sso.connections.len() as u64);
            for connection in &sso.connections {
                tally.planned(&step.preview(connection));
            }
            Ok(tally.outcome())
        })
    }
}

fn summarize(
    sso: &ClerkSso,
    journal: &Mutex<Journal>,
    rows: &[HandoffRow],
    handoff_csv: &std::path::Path,
) -> SsoSummary {
    let mut summary = SsoSummary {
        connections: sso.connections.len() as u64,
        directories: sso.directories.len() as u64,
        handoff_csv: handoff_csv.display().to_string(),
        ..SsoSummary::default()
    };
    let journal = journal.lock().expect("journal lock");
    for connection in &sso.connections {
        match journal
            .record(Kind::Connection, &connection.id)
            .ok()
            .flatten()
        {
            Some(record) if record.action.wrote_target() => summary.in_workos += 1,
            Some(record) if record.action != Action::Deleted => {
                let code = record
                    .reason
                    .map(|r| r.code.as_str().to_owned())
                    .unwrap_or_else(|| record.action.as_str().to_owned());
                *summary.not_created.entry(code).or_default() += 1;
            }
            _ => {}
        }
    }
    for row in rows {
        *summary
            .handoff
            .entry(row.code.as_str().to_owned())
            .or_default() += 1;
    }
    summary
}
