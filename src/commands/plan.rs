//! `ferry plan PLAN`: what `ferry run` would do with each record of every
//! writing step (users, organizations, roles, memberships), without
//! writing anything: counts per action, each action's reasons counted, the
//! first few records of each, and with `--out` every user's planned action
//! as JSON. The engine's preview asks WorkOS read questions only;
//! `--offline` asks nothing and reads the export alone.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ferry_core::engine::Engine;
use ferry_core::error::Refusal;
use ferry_core::observe::{Event, Observer};
use ferry_core::plan::StepKind;
use ferry_core::report::outcome::{Planned, PlannedAction, StepOutcome};
use ferry_core::support::reason::ReasonCode;

use crate::args::PlanArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::output::{self, Painter};
use crate::render::progress::Progress;

const SHOWN_PER_ACTION: usize = 5;
/// What an offline plan cannot know.
const OFFLINE_NOTE: &str = "offline, the export does not say who is banned or locked in Clerk: \
     they are planned like anyone else, and `ferry run`, which reads Clerk, skips them as the plan says";

/// How many planned actions share a reason's code, by (step, action,
/// code). Codes are few, so every one is counted apart; the details (which
/// name ids) are shown in the examples only.
type Reasons = BTreeMap<(StepKind, PlannedAction, ReasonCode), u64>;

/// The reason codes of one step and action, most common first.
fn reasons_of(reasons: &Reasons, step: StepKind, action: PlannedAction) -> Vec<(ReasonCode, u64)> {
    let mut of: Vec<(ReasonCode, u64)> = reasons
        .iter()
        .filter(|((s, a, _), _)| *s == step && *a == action)
        .map(|((_, _, code), n)| (*code, *n))
        .collect();
    of.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    of
}

/// Collects what the preview plans: the first few of each action, and
/// every one into `--out` as it comes.
struct Collect {
    /// By step and action.
    shown: Mutex<BTreeMap<(StepKind, PlannedAction), Vec<Planned>>>,
    /// How many of each step and action share a reason.
    reasons: Mutex<Reasons>,
    out: Mutex<Option<JsonOut>>,
    /// Users whose TOTP factor the run would enroll.
    factors: AtomicU64,
    /// What a step's preview says a person should know (the hash probes a run would make).
    notes: Mutex<Vec<(StepKind, String)>>,
    progress: Progress,
}

impl Observer for Collect {
    fn event(&self, event: &Event<'_>) {
        self.progress.event(event);
        if let Event::Warning {
            step: Some(step),
            message,
        } = event
        {
            self.notes
                .lock()
                .expect("notes lock")
                .push((*step, (*message).to_owned()));
        }
        if let Event::Planned { step, planned } = event {
            if planned.enrolls_totp {
                self.factors.fetch_add(1, Ordering::Relaxed);
            }
            if *step == StepKind::Users
                && let Some(out) = self.out.lock().expect("out lock").as_mut()
            {
                out.push(planned);
            }
            if let Some(reason) = &planned.reason {
                let mut reasons = self.reasons.lock().expect("reasons lock");
                *reasons
                    .entry((*step, planned.action, reason.code))
                    .or_default() += 1;
            }
            let mut shown = self.shown.lock().expect("shown lock");
            let examples = shown.entry((*step, planned.action)).or_default();
            if examples.len() < shown_of(*step, planned.action) {
                examples.push((*planned).clone());
            }
        }
    }
}

pub fn run(args: &PlanArgs) -> Result<Exit> {
    let project = super::open::for_use(&args.plan)?;
    let plan = &project.plan;
    if plan.users().is_none() {
        return Err(ferry_core::error::Error::from(Refusal::NoSuchStep {
            plan: plan.path.clone(),
            step: StepKind::Users.name(),
            what: "plan",
        })
        .into());
    }
    let collect = Collect {
        shown: Mutex::default(),
        reasons: Mutex::default(),
        out: Mutex::new(args.out.as_deref().map(JsonOut::create).transpose()?),
        factors: AtomicU64::new(0),
        notes: Mutex::default(),
        progress: Progress::on_stderr(),
    };
    let preview = Engine::new(&project, &collect).preview(args.offline, args.sync)?;
    let shown = collect.shown.into_inner().expect("shown lock");
    let reasons = collect.reasons.into_inner().expect("reasons lock");
    let factors = collect.factors.into_inner();
    let notes = collect.notes.into_inner().expect("notes lock");
    if args.json {
        return json_preview(args, &preview, &shown, &reasons, factors, collect.out);
    }
    let painter = Painter::stdout();
    let mut stdout = std::io::stdout().lock();
    let mut users_counts = None;
    for (step, outcome) in &preview.steps {
        let StepOutcome::Previewed { counts, short_read } = outcome else {
            let _ = writeln!(
                stdout,
                "{} {step}: {}",
                painter.strong("plan:"),
                not_previewed(*step, args.offline)
            );
            continue;
        };
        let total: u64 = counts.values().sum();
        let noun = step.name();
        let _ = writeln!(
            stdout,
            "{} {} {noun}{}",
            painter.strong("plan:"),
            output::thousands(total),
            if args.offline {
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
            for (code, n) in reasons_of(&reasons, *step, action) {
                let _ = writeln!(
                    stdout,
                    "    {:>8}  {}",
                    output::thousands(n),
                    painter.dim(code.as_str())
                );
            }
            for example in shown.get(&(*step, action)).into_iter().flatten() {
                let email = example
                    .email
                    .as_deref()
                    .map(|e| format!(" {}", painter.dim(&ferry_wire::inert::terminal(e))))
                    .unwrap_or_default();
                let reason = example
                    .reason
                    .as_ref()
                    .map(|r| format!(": {}", ferry_wire::inert::terminal(&r.detail)))
                    .unwrap_or_default();
                // Where each invitation would go (who is emailed, and into what).
                let place = match *step {
                    StepKind::Invitations if !example.notes.is_empty() => {
                        format!(
                            " {}",
                            painter.dim(&ferry_wire::inert::terminal(&example.notes.join("; ")))
                        )
                    }
                    _ => String::new(),
                };
                let _ = writeln!(
                    stdout,
                    "    {}{email}{place}{reason}",
                    ferry_wire::inert::terminal(&example.clerk_id)
                );
            }
            let listed = shown.get(&(*step, action)).map_or(0, Vec::len) as u64;
            if *step == StepKind::Invitations && action == PlannedAction::Create && count > listed {
                let _ = writeln!(
                    stdout,
                    "    … and {} more (`--json` lists {} in all)",
                    output::thousands(count - listed),
                    output::thousands(listed)
                );
            }
        }
        if let Some(missing) = short_read {
            let _ = writeln!(
                stdout,
                "{}: Clerk counted {missing} more users than its listing returned",
                painter.warning("warning")
            );
        }
        for (_, note) in notes.iter().filter(|(of, _)| of == step) {
            let _ = writeln!(
                stdout,
                "  {}: {}",
                painter.dim("note"),
                ferry_wire::inert::terminal(note)
            );
        }
        if *step == StepKind::Users {
            users_counts = Some(counts);
            if factors > 0 {
                let _ = writeln!(
                    stdout,
                    "  with them, {} TOTP factors to enroll",
                    output::thousands(factors)
                );
            }
            if args.offline {
                let _ = writeln!(stdout, "{}: {OFFLINE_NOTE}", painter.warning("note"));
            }
        }
    }
    for gone in preview.gone.iter().flatten() {
        let _ = writeln!(
            stdout,
            "{} {} {}s gone from Clerk: {} to delete in WorkOS, {} to stay and be listed{}",
            painter.strong("sync:"),
            output::thousands(gone.delete + gone.keep),
            gone.kind.as_str(),
            output::thousands(gone.delete),
            output::thousands(gone.keep),
            gone.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    let Some(counts) = users_counts else {
        return Ok(Exit::Success);
    };
    if let Some(out) = collect.out.into_inner().expect("out lock") {
        let path = out.finish(counts)?;
        let _ = writeln!(stdout, "saved: {}", path.display());
    }
    Ok(Exit::Success)
}

/// How many plans of a step's action `ferry plan` keeps to show: every
/// invitation that would email someone (up to a bound), else a few examples.
fn shown_of(step: StepKind, action: PlannedAction) -> usize {
    match (step, action) {
        (StepKind::Invitations, PlannedAction::Create) => EMAILS_SHOWN,
        _ => SHOWN_PER_ACTION,
    }
}

/// The most would-be invitation emails `ferry plan` names one by one.
const EMAILS_SHOWN: usize = 1_000;

/// Why a step has no preview: it writes nothing to WorkOS, or (offline)
/// it needs Clerk and WorkOS to be asked.
fn not_previewed(step: StepKind, offline: bool) -> &'static str {
    match step {
        step if step.writes() && offline => "not previewed offline: it needs Clerk and WorkOS",
        StepKind::MfaReport => "writes the MFA lists and notices only, nothing to WorkOS",
        _ => "reads only; writes nothing to WorkOS",
    }
}

/// `ferry plan --json`: per step the counts, the reasons and the first
/// examples of each action, and what a sync would remove.
fn json_preview(
    args: &PlanArgs,
    preview: &ferry_core::engine::PreviewSummary,
    shown: &BTreeMap<(StepKind, PlannedAction), Vec<Planned>>,
    reasons: &Reasons,
    factors: u64,
    out: Mutex<Option<JsonOut>>,
) -> Result<Exit> {
    let mut steps = Vec::new();
    let mut saved = None;
    for (step, outcome) in &preview.steps {
        let StepOutcome::Previewed { counts, short_read } = outcome else {
            steps.push(serde_json::json!({
                "step": step,
                "previewed": false,
                "why": not_previewed(*step, args.offline),
            }));
            continue;
        };
        let actions: Vec<serde_json::Value> = PlannedAction::ALL
            .into_iter()
            .filter_map(|action| {
                let count = counts.get(&action).copied().filter(|&n| n > 0)?;
                let reasons: Vec<serde_json::Value> = reasons_of(reasons, *step, action)
                    .into_iter()
                    .map(|(code, n)| serde_json::json!({ "code": code, "count": n }))
                    .collect();
                let examples = shown.get(&(*step, action));
                Some(serde_json::json!({
                    "action": action.as_str(),
                    "count": count,
                    "reasons": reasons,
                    "examples": examples,
                }))
            })
            .collect();
        let mut entry = serde_json::json!({
            "step": step,
            "previewed": true,
            "total": counts.values().sum::<u64>(),
            "actions": actions,
            "short_read": short_read,
        });
        if *step == StepKind::Users {
            entry["totp_factors_to_enroll"] = factors.into();
        }
        steps.push(entry);
        if *step == StepKind::Users
            && let Some(out) = out.lock().expect("out lock").take()
        {
            saved = Some(out.finish(counts)?.display().to_string());
        }
    }
    let notes: Vec<&str> = if args.offline {
        vec![OFFLINE_NOTE]
    } else {
        Vec::new()
    };
    let value = serde_json::json!({
        "offline": args.offline,
        "notes": notes,
        "steps": steps,
        "gone": preview.gone,
        "saved": saved,
    });
    crate::render::json::line(&value);
    Ok(Exit::Success)
}

/// `--out`: one JSON object, every user's plan then the summary, written as
/// it goes so a million users
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
        let partial = ferry_wire::files::partial_path(path);
        let file =
            ferry_wire::files::create(&partial).map_err(|e| Error::io("create", &partial, e))?;
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
