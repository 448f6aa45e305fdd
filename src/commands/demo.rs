//! `ferry demo`: the whole story in one command. Starts the sandbox in
//! process with a generated Clerk tenant, writes its Dashboard CSV export and
//! the reference plan and script into a demo folder, points the plan at the
//! sandbox, and runs it end to end (assess, users, organizations,
//! memberships, mfa_report, verify), ending with the path of the HTML report.

use std::path::Path;

use ferry_core::engine::{RunOptions, runtime};
use ferry_core::plan::{CanaryLogin, LoadOptions, Sample, Step};
use ferry_core::project::Project;
use ferry_sandbox::export::write_csv;
use ferry_sandbox::{
    GeneratedTenant, GeneratorOptions, RateLimits, Sandbox, SandboxOptions, generate,
};
use ferry_wire::secret::Secret;

use crate::args::DemoArgs;
use crate::error::{Error, Refusal, Result};
use crate::exit::Exit;
use crate::output::Painter;

const REFERENCE_PLAN: &str = include_str!("../../plans/clerk-to-workos.yaml");
const REFERENCE_SCRIPT: &str = include_str!("../../scripts/clerk-to-workos.rhai");
/// Marks a folder as the demo's own, so a rerun may clear it.
const MARKER: &str = ".ferry-demo";

pub fn run(settings: &DemoArgs) -> Result<Exit> {
    let painter = Painter::stdout();
    let dir = &settings.dir;
    prepare_dir(dir)?;

    println!(
        "{} generating a Clerk tenant: {} users, {} organizations (seed {})",
        painter.strong("ferry demo:"),
        settings.users,
        settings.orgs,
        settings.seed
    );
    let generated = generate::generate(GeneratorOptions {
        users: settings.users,
        organizations: settings.orgs,
        seed: settings.seed,
    });
    let runtime = runtime()?;
    let limits = RateLimits::default().scaled(settings.limits_scale);
    let sandbox = runtime.block_on(Sandbox::start(
        SandboxOptions::default()
            .with_generated(&generated)
            .with_limits(limits),
    ))?;
    let info = sandbox.info();
    println!("  Clerk sandbox   {}", info.clerk_api_url);
    println!("  WorkOS sandbox  {}", info.workos_url);

    let export = dir.join("exports/clerk-users.csv");
    write_csv(&export, &generated.export)?;
    let plan_path = dir.join("plans/clerk-to-workos.yaml");
    for (path, text) in [
        (&plan_path, REFERENCE_PLAN),
        (&dir.join("scripts/clerk-to-workos.rhai"), REFERENCE_SCRIPT),
    ] {
        ferry_wire::files::write(path, text.as_bytes()).map_err(|e| Error::io("write", path, e))?;
    }
    println!("  reference plan  {}", plan_path.display());
    println!("  Clerk export    {}", export.display());

    let keys = sandbox.keys().clone();
    let lookup = |name: &str| match name {
        "CLERK_SECRET_KEY" => Some(keys.clerk_secret_key.clone()),
        "WORKOS_API_KEY" => Some(keys.workos_api_key.clone()),
        "WORKOS_CLIENT_ID" => Some(keys.workos_client_id.clone()),
        // The reference plan names its journal after the environment.
        "FERRY_ENV" => Some("sandbox".to_owned()),
        _ => std::env::var(name).ok(),
    };
    let mut project = Project::open_with_env(&plan_path, LoadOptions::for_use(), &lookup)?;
    point_at_sandbox(
        &mut project,
        &info.clerk_api_url,
        &info.workos_url,
        &export,
        settings.limits_scale,
    );
    add_canaries(&mut project, &generated);
    println!();

    let status = super::run::run_project(&project, &plan_path, RunOptions::default(), false)?;
    let html = project
        .plan
        .report
        .dir
        .join(format!("{}-run-1.html", project.plan.name));
    println!();
    println!(
        "{} open {} in a browser",
        painter.strong("demo report:"),
        html.display()
    );
    sandbox.shutdown();
    Ok(status)
}

/// Creates the folder, or clears one an earlier demo made; never another folder.
fn prepare_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let ours = dir.join(MARKER).is_file();
        let empty = std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !ours && !empty {
            return Err(Refusal::NotADemoFolder {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        std::fs::remove_dir_all(dir).map_err(|e| Error::io("clear", dir, e))?;
    }
    ferry_wire::files::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    ferry_wire::files::write(
        &dir.join(MARKER),
        b"made by `ferry demo`; rerunning the demo clears this folder\n",
    )
    .map_err(|e| Error::io("write", dir, e))
}

/// The reference plan as written, aimed at the sandbox: its URLs, the
/// export, limits scaled like the sandbox's, and state inside the demo folder.
fn point_at_sandbox(project: &mut Project, clerk: &str, workos: &str, export: &Path, scale: f64) {
    let plan = &mut project.plan;
    let dir = plan.dir().parent().unwrap_or(Path::new(".")).to_path_buf();
    plan.source.api_url = clerk.to_owned();
    plan.source.export_csv = Some(export.to_path_buf());
    plan.source.requests_per_10s = Some((100.0 * scale) as u32);
    if let Some(target) = plan.target.as_mut() {
        target.api_url = workos.to_owned();
        let scaled = |n: u32| (f64::from(n) * scale) as u32;
        target.limits.writes_per_10s = scaled(target.limits.writes_per_10s);
        target.limits.reads_per_10s = scaled(target.limits.reads_per_10s);
        target.limits.requests_per_60s = scaled(target.limits.requests_per_60s);
    }
    plan.state = dir.join(".ferry/clerk-to-workos.db");
    plan.report.dir = dir.join("reports");
}

/// Two generated users whose passwords are known sign in during `verify`.
fn add_canaries(project: &mut Project, generated: &GeneratedTenant) {
    let eligible = |hasher: &str| {
        generated.passwords.iter().find(|p| {
            p.password_hasher == hasher
                && generated.tenant.users.iter().any(|u| {
                    u.id == p.user_id
                        && !u.banned
                        && !u.locked
                        && u.primary_email()
                            .is_some_and(|e| e.is_verified() && e.email_address == p.email)
                })
        })
    };
    let logins: Vec<CanaryLogin> = ["bcrypt", "argon2id"]
        .into_iter()
        .filter_map(eligible)
        .map(|p| CanaryLogin {
            email: p.email.clone(),
            password: Secret::new(p.password.expose()),
        })
        .collect();
    for step in &mut project.plan.steps {
        if let Step::Verify(options) = step {
            for login in &logins {
                ferry_wire::redact::hold_forever(&login.password);
            }
            options.logins = Some(logins.clone());
            options.sample = options.sample.or(Some(Sample::Count(100)));
        }
    }
}
