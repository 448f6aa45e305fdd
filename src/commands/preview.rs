//! `ferry plan PLAN`: what `ferry run` would do for each user, without
//! writing anything: counts per action, the first few of each with reasons,
//! and with `--out` every user's planned action as JSON. Asks WorkOS read
//! questions only; `--offline` asks nothing and reads the export alone.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::connect;
use crate::error::{Error, ExitStatus, Result};
use crate::journal::Journal;
use crate::mapping::user::UserSettings;
use crate::output::{self, Painter};
use crate::plan::{LoadOptions, Step};
use crate::project::Project;
use crate::source::read::Sources;
use crate::steps;
use crate::steps::users::{Mode, Planned, PlannedAction, UsersStep};

const SHOWN_PER_ACTION: usize = 5;

pub struct PreviewSettings<'a> {
    pub plan: &'a Path,
    pub out: Option<PathBuf>,
    pub offline: bool,
}

pub fn run(settings: PreviewSettings<'_>) -> Result<ExitStatus> {
    let project = Project::open(settings.plan, LoadOptions::for_use())?;
    let plan = &project.plan;
    let Some(Step::Users(options)) = plan.step("users") else {
        return Err(Error::Usage(format!(
            "{} has no `users` step to plan",
            plan.path.display()
        )));
    };
    let (workos, clerk) = if settings.offline {
        if plan.source.export_csv.is_none() && plan.source.export_json.is_none() {
            return Err(Error::Usage("--offline reads the export alone: the plan needs source.clerk.export_csv or export_json".into()));
        }
        (None, None)
    } else {
        (Some(connect::workos(plan)?), connect::clerk(plan)?)
    };
    let journal = if plan.state.exists() {
        Journal::open_to_read(&plan.state)?
    } else {
        Journal::empty()?
    };
    let journal = std::sync::Mutex::new(journal);
    let step = UsersStep {
        settings: UserSettings::from_options(options),
        script: project.script.as_ref(),
        ctx: project.hook_context("users", true),
        workos: workos.as_ref(),
        journal: &journal,
        mode: if settings.offline {
            Mode::Offline
        } else {
            Mode::Preview
        },
        claims: Default::default(),
    };
    let sources = Sources::of(&plan.source, clerk.as_ref());

    let mut out = settings.out.as_deref().map(JsonOut::create).transpose()?;
    let mut counts: BTreeMap<PlannedAction, u64> = BTreeMap::new();
    let mut shown: BTreeMap<PlannedAction, Vec<Planned>> = BTreeMap::new();
    let progress = output::progress_bar(None, "planning");
    let runtime = super::run::runtime()?;
    let stats = runtime.block_on(steps::preview_users(
        &step,
        sources,
        connect::concurrency(plan),
        |planned| {
            progress.inc(1);
            *counts.entry(planned.action).or_default() += 1;
            if let Some(out) = out.as_mut() {
                out.push(&planned);
            }
            let examples = shown.entry(planned.action).or_default();
            if examples.len() < SHOWN_PER_ACTION {
                examples.push(planned);
            }
        },
    ))?;
    progress.finish_and_clear();

    let painter = Painter::stdout();
    let mut stdout = std::io::stdout().lock();
    let total: u64 = counts.values().sum();
    let _ = writeln!(
        stdout,
        "{} {} users{}",
        painter.strong("plan:"),
        output::thousands(total),
        if settings.offline {
            " (offline: from the export and the journal only)"
        } else {
            ""
        }
    );
    for action in PlannedAction::ALL {
        let count = counts.get(&action).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        let _ = writeln!(
            stdout,
            "  {:<10} {}",
            action.as_str(),
            output::thousands(count)
        );
        for example in shown.get(&action).into_iter().flatten() {
            let email = example.email.as_deref().unwrap_or("-");
            let reason = example
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let _ = writeln!(
                stdout,
                "    {} {}{}",
                example.clerk_id,
                painter.dim(email),
                reason
            );
        }
    }
    if let Some(missing) = stats.short_read() {
        let _ = writeln!(
            stdout,
            "{}: Clerk counted {missing} more users than its listing returned",
            painter.warning("warning")
        );
    }
    if let Some(out) = out {
        let path = out.finish(&counts)?;
        let _ = writeln!(stdout, "saved: {}", path.display());
    }
    Ok(ExitStatus::Success)
}

/// `{"users":[…],"summary":{…}}`, written as it goes so a million users
/// never sit in memory. It is written beside its final name and renamed
/// only when complete, so a failed plan leaves no half-written file.
struct JsonOut {
    path: PathBuf,
    partial: PathBuf,
    writer: Option<BufWriter<File>>,
    first: bool,
    error: Option<std::io::Error>,
}

impl JsonOut {
    fn create(path: &Path) -> Result<Self> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial).map_err(|e| Error::io("create", &partial, e))?;
        let mut writer = BufWriter::new(file);
        writer
            .write_all(b"{\"users\":[\n")
            .map_err(|e| Error::io("write", &partial, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            partial,
            writer: Some(writer),
            first: true,
            error: None,
        })
    }

    fn push(&mut self, planned: &Planned) {
        let (Some(writer), None) = (self.writer.as_mut(), &self.error) else {
            return;
        };
        let separator: &[u8] = if self.first { b"" } else { b",\n" };
        self.first = false;
        let result = writer.write_all(separator).and_then(|()| {
            serde_json::to_writer(&mut *writer, planned).map_err(std::io::Error::other)
        });
        self.error = result.err();
    }

    fn finish(mut self, counts: &BTreeMap<PlannedAction, u64>) -> Result<PathBuf> {
        if let Some(error) = self.error.take() {
            return Err(Error::io("write", &self.partial, error));
        }
        let summary: BTreeMap<&str, u64> = counts.iter().map(|(a, n)| (a.as_str(), *n)).collect();
        let tail = format!(
            "\n],\"summary\":{}}}\n",
            serde_json::to_string(&summary).unwrap_or_default()
        );
        let mut writer = self.writer.take().expect("open until finished");
        writer
            .write_all(tail.as_bytes())
            .and_then(|()| writer.flush())
            .map_err(|e| Error::io("write", &self.partial, e))?;
        drop(writer);
        std::fs::rename(&self.partial, &self.path)
            .map_err(|e| Error::io("write", &self.path, e))?;
        Ok(self.path.clone())
    }
}

impl Drop for JsonOut {
    fn drop(&mut self) {
        // Not finished: leave nothing half-written behind.
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
