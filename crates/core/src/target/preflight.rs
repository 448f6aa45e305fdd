//! The preflight: what must hold before the first write of a run, and
//! what `plan` and `assess` show before they read anything else. One
//! authenticated read on each side, the export with the columns the plan's
//! options need, and limits no higher than the documented ones (a loopback
//! target, such as the sandbox, may have any). A plan with `memberships`
//! but no `roles` step also needs every role the memberships name to exist
//! in WorkOS already ([`roles`]).
//!
//! A side that cannot be reached is `Unavailable` (exit 4: run again
//! later); every other failure is `Configuration` (exit 2: fix it first).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::Serialize;

use crate::clerk::client::ClerkClient;
use crate::http::client::{ApiError, ApiErrorKind, is_loopback};
use crate::plan::Plan;
use crate::plan::schema::WebhookPolicy;
use crate::support::kind::ErrorKind;
use crate::workos::client::{WorkosClient, WorkosLimits};
use ferry_wire::clerk::export::ExportReader;

/// One preflight finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `clerk`, `workos`, `export`, `limits`, `proxy`, `roles`.
    pub check: &'static str,
    pub ok: bool,
    pub detail: String,
    #[serde(skip)]
    kind: ErrorKind,
}

impl Finding {
    fn ok(check: &'static str, detail: impl Into<String>) -> Self {
        Self {
            check,
            ok: true,
            detail: detail.into(),
            kind: ErrorKind::Configuration,
        }
    }

    fn failed(check: &'static str, kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            check,
            ok: false,
            detail: detail.into(),
            kind,
        }
    }
}

/// The preflight failed: nothing was written.
#[derive(Debug, thiserror::Error)]
#[error("preflight failed, nothing was written:\n{}", failures.iter().map(|f| format!("  {}: {}", f.check, f.detail)).collect::<Vec<_>>().join("\n"))]
pub struct PreflightError {
    pub failures: Vec<Finding>,
}

impl PreflightError {
    /// Unreachable only when nothing else is wrong: a setting to fix comes first.
    pub fn kind(&self) -> ErrorKind {
        if self
            .failures
            .iter()
            .all(|f| f.kind == ErrorKind::Unavailable)
        {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Configuration
        }
    }
}

/// What an authenticated read came to.
fn read_finding(check: &'static str, what: &str, result: Result<String, ApiError>) -> Finding {
    match result {
        Ok(detail) => Finding::ok(check, detail),
        Err(error) => match &error.kind {
            ApiErrorKind::Status {
                status: 401 | 403, ..
            } => Finding::failed(
                check,
                ErrorKind::Configuration,
                format!(
                    "{what} refused the key (HTTP {}): check the plan's key for this environment",
                    error.status().unwrap_or(0)
                ),
            ),
            ApiErrorKind::Network(_) | ApiErrorKind::Stopped(_) => Finding::failed(
                check,
                ErrorKind::Unavailable,
                format!("{what} cannot be reached: {error}"),
            ),
            _ => Finding::failed(check, ErrorKind::Configuration, format!("{what}: {error}")),
        },
    }
}

/// The environment's enabled webhook endpoints and what the run will send
/// them; under `pause`, an endpoint listing that fails stops the run (it
/// could not promise to pause them).
async fn webhooks(plan: &Plan, workos: &WorkosClient) -> Finding {
    let pause = plan.target.as_ref().map(|t| t.webhooks) == Some(WebhookPolicy::Pause);
    match crate::target::webhooks::enabled(workos).await {
        Ok(ids) if ids.is_empty() => Finding::ok("webhooks", "no endpoint enabled"),
        Ok(ids) if pause => Finding::ok(
            "webhooks",
            format!(
                "{} enabled endpoint(s), paused from the first write until the run ends",
                ids.len()
            ),
        ),
        Ok(ids) => Finding::ok(
            "webhooks",
            format!(
                "{} enabled endpoint(s) will receive this run's events ({}); `target.workos.webhooks: pause` pauses them during the run",
                ids.len(),
                crate::target::webhooks::events_emitted(plan).join(", ")
            ),
        ),
        Err(error) if pause => Finding::failed(
            "webhooks",
            ErrorKind::Unavailable,
            format!(
                "cannot list the webhook endpoints to pause them: {}",
                error.reason()
            ),
        ),
        Err(error) => Finding::ok(
            "webhooks",
            format!("could not list the webhook endpoints: {}", error.reason()),
        ),
    }
}

/// Runs the checks; `workos` is `None` for commands that read the source only.
pub async fn check(
    plan: &Plan,
    clerk: Option<&ClerkClient>,
    workos: Option<&WorkosClient>,
) -> Result<Vec<Finding>, PreflightError> {
    // The reads go out at once: at 800 ms a round trip, one after another
    // they would add seconds before the first write.
    let clerk_read = async {
        match clerk {
            Some(clerk) => {
                let count = clerk
                    .user_count()
                    .await
                    .map(|n| format!("reached, {n} users"));
                vec![read_finding("clerk", "Clerk", count)]
            }
            None => Vec::new(),
        }
    };
    let workos_reads = async {
        match workos {
            Some(workos) => {
                let read = async {
                    workos
                        .users_page(None)
                        .await
                        .map(|_| "reached, the key reads users".to_owned())
                        .map_err(|e| e.error)
                };
                let (read, webhooks) = tokio::join!(read, webhooks(plan, workos));
                vec![read_finding("workos", "WorkOS", read), webhooks]
            }
            None => Vec::new(),
        }
    };
    let (clerk_findings, workos_findings) = waiting_aloud(
        clerk.is_some().then_some("Clerk (GET /users/count)"),
        workos
            .is_some()
            .then_some("WorkOS (GET /user_management/users, /webhook_endpoints)"),
        clerk_read,
        workos_reads,
    )
    .await;
    let mut findings = clerk_findings;
    findings.extend(workos_findings);
    findings.push(export(plan));
    findings.push(report_folder(plan));
    findings.extend(limits(plan));
    findings.push(proxy(plan));
    let failures: Vec<Finding> = findings.iter().filter(|f| !f.ok).cloned().collect();
    if failures.is_empty() {
        Ok(findings)
    } else {
        Err(PreflightError { failures })
    }
}

/// How often the preflight says what it still waits for.
const WAITING_NOTE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs both sides' reads at once and, every [`WAITING_NOTE_EVERY`] while
/// one has not answered, says which: a hung server is named within seconds,
/// not after every retry has timed out in silence.
async fn waiting_aloud<A, B>(
    first_name: Option<&str>,
    second_name: Option<&str>,
    first: impl std::future::Future<Output = A>,
    second: impl std::future::Future<Output = B>,
) -> (A, B) {
    let started = std::time::Instant::now();
    let (mut a, mut b) = (None, None);
    let mut first = std::pin::pin!(first);
    let mut second = std::pin::pin!(second);
    let mut ticks = tokio::time::interval_at(
        tokio::time::Instant::now() + WAITING_NOTE_EVERY,
        WAITING_NOTE_EVERY,
    );
    loop {
        tokio::select! {
            out = &mut first, if a.is_none() => a = Some(out),
            out = &mut second, if b.is_none() => b = Some(out),
            _ = ticks.tick() => {
                let waiting: Vec<&str> = [(a.is_none(), first_name), (b.is_none(), second_name)]
                    .into_iter()
                    .filter_map(|(pending, name)| pending.then_some(name).flatten())
                    .collect();
                if !waiting.is_empty() {
                    tracing::warn!(
                        "preflight: still waiting for {} after {} s (each attempt gives up after {} s; Ctrl-C stops)",
                        waiting.join(" and "),
                        started.elapsed().as_secs(),
                        crate::http::RetryPolicy::default().attempt_timeout.as_secs()
                    );
                }
            }
        }
        if a.is_some() && b.is_some() {
            break;
        }
    }
    (a.expect("first answered"), b.expect("second answered"))
}

/// Every role the memberships need exists in WorkOS (environment roles).
/// `needed`: WorkOS slug → the Clerk roles mapped to it.
pub async fn roles(
    workos: &WorkosClient,
    needed: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Finding, PreflightError> {
    let finding = match workos.roles().await {
        Err(error) => read_finding("roles", "WorkOS", Err(error.error)),
        Ok(listed) => {
            let have: BTreeSet<&str> = listed.iter().map(|r| r.slug.as_str()).collect();
            let missing: Vec<String> = needed
                .iter()
                .filter(|(slug, _)| !have.contains(slug.as_str()))
                .map(|(slug, clerk)| {
                    let from: Vec<&str> = clerk.iter().map(String::as_str).collect();
                    format!("`{slug}` (from {})", from.join(", "))
                })
                .collect();
            if missing.is_empty() {
                Finding::ok(
                    "roles",
                    format!(
                        "the {} roles the memberships use exist in WorkOS",
                        needed.len()
                    ),
                )
            } else {
                Finding::failed(
                    "roles",
                    ErrorKind::Configuration,
                    format!(
                        "the memberships use roles WorkOS does not have: {}; add `- roles` before `memberships` to create them, create them in the WorkOS dashboard, or map them to existing roles in `memberships: {{ roles: }}`",
                        missing.join(", ")
                    ),
                )
            }
        }
    };
    if finding.ok {
        Ok(finding)
    } else {
        Err(PreflightError {
            failures: vec![finding],
        })
    }
}

/// The report folder can take files, checked before anything is written
/// to WorkOS: a run whose report cannot be written would lose the record
/// of what it did. A folder that does not exist yet must be creatable (its
/// nearest existing parent takes a file); nothing is created here.
fn report_folder(plan: &Plan) -> Finding {
    let dir = &plan.report.dir;
    let existing = dir
        .ancestors()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .find(|p| p.exists())
        .unwrap_or(dir);
    let probe = existing.join(format!(".ferry-probe-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)
        .and_then(|mut file| std::io::Write::write_all(&mut file, b"ferry"));
    let _ = std::fs::remove_file(&probe);
    match (written, existing == dir.as_path()) {
        (Ok(()), true) => Finding::ok("report", format!("{} takes files", dir.display())),
        (Ok(()), false) => Finding::ok(
            "report",
            format!("{} will be made (in {})", dir.display(), existing.display()),
        ),
        (Err(error), _) => Finding::failed(
            "report",
            ErrorKind::Configuration,
            format!(
                "the report folder {} cannot take files ({}: {error}); fix it or set `report.dir`",
                dir.display(),
                existing.display()
            ),
        ),
    }
}

/// The export is there and holds the columns the options need.
fn export(plan: &Plan) -> Finding {
    let settings = plan.users().cloned().unwrap_or_default();
    match (&plan.source.export_csv, &plan.source.export_json) {
        (Some(path), _) => match ExportReader::open_requiring(path, settings.required_columns()) {
            Ok(_) => Finding::ok(
                "export",
                format!("{} has the columns the plan needs", path.display()),
            ),
            Err(error) => Finding::failed("export", ErrorKind::Configuration, error.to_string()),
        },
        (None, Some(path)) if path.is_file() => {
            Finding::ok("export", format!("{} is there", path.display()))
        }
        (None, Some(path)) => Finding::failed(
            "export",
            ErrorKind::Configuration,
            format!("{} does not exist", path.display()),
        ),
        (None, None) => Finding::ok(
            "export",
            "none: passwords and TOTP secrets come from no export",
        ),
    }
}

/// Which proxy the https requests go through, if the environment names one
/// (plain http to loopback never uses one).
fn proxy(plan: &Plan) -> Finding {
    let https = plan
        .target
        .as_ref()
        .map(|t| t.api_url.as_str())
        .into_iter()
        .chain([plan.source.api_url.as_str()])
        .any(|url| url.starts_with("https://"));
    match crate::http::client::https_proxy().filter(|_| https) {
        Some(proxy) => Finding::ok(
            "proxy",
            format!("https goes through {proxy} (from the environment)"),
        ),
        None => Finding::ok("proxy", "none: requests go directly"),
    }
}

/// Limits above WorkOS's documented ones would meet 429s all run long.
fn limits(plan: &Plan) -> Option<Finding> {
    let target = plan.target.as_ref()?;
    if url::Url::parse(&target.api_url).is_ok_and(|u| is_loopback(&u)) {
        return Some(Finding::ok(
            "limits",
            "any limit goes against a loopback target",
        ));
    }
    let documented = WorkosLimits::default();
    let over: Vec<String> = [
        (
            "writes_per_10s",
            target.limits.writes_per_10s,
            documented.writes_per_10s,
        ),
        (
            "reads_per_10s",
            target.limits.reads_per_10s,
            documented.reads_per_10s,
        ),
        (
            "requests_per_60s",
            target.limits.requests_per_60s,
            documented.requests_per_60s,
        ),
        (
            "authenticate_per_60s",
            target.limits.authenticate_per_60s,
            documented.authenticate_per_60s,
        ),
    ]
    .into_iter()
    .filter(|(_, set, limit)| set > limit)
    .map(|(name, set, limit)| format!("{name} {set} is above WorkOS's documented {limit}"))
    .collect();
    Some(if over.is_empty() {
        Finding::ok("limits", "within WorkOS's documented limits")
    } else {
        Finding::failed(
            "limits",
            ErrorKind::Configuration,
            format!("{}; lower them in target.workos.limits", over.join(", ")),
        )
    })
}
