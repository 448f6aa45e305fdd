//! `ferry demo`: the whole story in one command. Starts the sandbox in
//! process with a generated Clerk tenant, writes its Dashboard CSV export and
//! the reference plan and script into a demo folder, points the plan at the
//! sandbox, and runs it end to end (assess, users, organizations,
//! memberships, mfa_report, verify), ending with the path of the HTML report.

use std::path::Path;

use ferry_core::engine::{RunOptions, runtime};
use ferry_core::plan::LoadOptions;
use ferry_core::plan::Project;
use ferry_sandbox::export::write_csv;
use ferry_sandbox::{
    GeneratedTenant, GeneratorOptions, RateLimits, Sandbox, SandboxOptions, generate,
};
use ferry_wire::secret::Secret;

use crate::args::DemoArgs;
use crate::error::{CliRefusal, Error, Result};
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
    let canaries = canaries(&generated);
    let keys = sandbox.keys().clone();
    let env = DemoEnv::new(&keys, &canaries);
    let plan_path = dir.join("plans/clerk-to-workos.yaml");
    let env_path = dir.join(ENV_FILE);
    let plan = demo_plan(
        &info.clerk_api_url,
        &info.workos_url,
        settings.limits_scale,
        &canaries,
    );
    for (path, text) in [
        (&plan_path, plan.as_str()),
        (&dir.join("scripts/clerk-to-workos.rhai"), REFERENCE_SCRIPT),
        (&env_path, env.file().as_str()),
    ] {
        ferry_wire::files::write(path, text.as_bytes()).map_err(|e| Error::io("write", path, e))?;
    }
    println!("  plan            {}", plan_path.display());
    println!("  Clerk export    {}", export.display());

    // The plan on disk is the plan that runs: nothing is changed in memory.
    let lookup = |name: &str| env.get(name).or_else(|| std::env::var(name).ok());
    let project = Project::open_with_env(&plan_path, LoadOptions::for_use(), &lookup)?;
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
    println!(
        "{} the plan runs again against the same sandbox (its keys and canary passwords are in {}):\n  \
         ferry sandbox --users {} --orgs {} --seed {} --clerk-port {} --workos-port {} --limits-scale {}\n  \
         cd {} && set -a && . ./{ENV_FILE} && set +a && FERRY_ENV=again ferry run plans/clerk-to-workos.yaml",
        painter.strong("again:"),
        env_path.display(),
        settings.users,
        settings.orgs,
        settings.seed,
        port(&info.clerk_api_url),
        port(&info.workos_url),
        settings.limits_scale,
        dir.display(),
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
            return Err(CliRefusal::NotADemoFolder {
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

/// The file beside the plan holding what its `${VAR}`s name: the sandbox's
/// keys (fake ones) and the canaries' passwords. 0600, like every file ferry writes.
const ENV_FILE: &str = "sandbox.env";

/// The port of a loopback URL the sandbox gave.
fn port(url: &str) -> u16 {
    url.trim_end_matches("/v1")
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .unwrap_or_default()
}

/// Replaces the one line of the reference plan that `from` names.
fn edit(plan: String, from: &str, to: &str) -> String {
    assert_eq!(
        plan.matches(from).count(),
        1,
        "the reference plan has one {from:?}"
    );
    plan.replacen(from, to, 1)
}

/// The reference plan aimed at the sandbox: its URLs, the export, the
/// limits scaled like the sandbox's, and canary sign-ins in `verify`
/// whose passwords come from the environment (`FERRY_DEMO_CANARY_N`).
fn demo_plan(clerk: &str, workos: &str, scale: f64, canaries: &[(String, Secret)]) -> String {
    let scaled = |n: u32| ((f64::from(n) * scale) as u32).max(1);
    let limits = ferry_core::workos::client::WorkosLimits::default();
    let mut plan = REFERENCE_PLAN.replacen(
        "# ferry reference plan: Clerk -> WorkOS with the defaults a team starts from.",
        "# ferry reference plan, as `ferry demo` ran it against its sandbox.",
        1,
    );
    plan = edit(
        plan,
        "    # api_url: https://api.clerk.com/v1\n",
        &format!("    api_url: {clerk}\n"),
    );
    plan = edit(
        plan,
        "    # export_csv: ../exports/clerk-users.csv\n",
        &format!(
            "    export_csv: ../exports/clerk-users.csv\n    limits: {{ requests_per_10s: {} }}\n",
            scaled(100)
        ),
    );
    plan = edit(
        plan,
        "    # api_url: https://api.workos.com\n",
        &format!("    api_url: {workos}\n"),
    );
    plan = edit(
        plan,
        "    limits: { writes_per_10s: 500, reads_per_10s: 1000 }\n",
        &format!(
            "    limits: {{ writes_per_10s: {}, reads_per_10s: {}, requests_per_60s: {} }}\n",
            scaled(limits.writes_per_10s),
            scaled(limits.reads_per_10s),
            scaled(limits.requests_per_60s)
        ),
    );
    if !canaries.is_empty() {
        let logins: String = canaries
            .iter()
            .enumerate()
            .map(|(i, (email, _))| {
                let email = serde_json::to_string(email).expect("a string");
                format!(
                    "        - {{ email: {email}, password: \"${{{}}}\" }}\n",
                    canary_var(i)
                )
            })
            .collect();
        plan = edit(
            plan,
            "      sample: 100             # users compared field by field (or `all`)\n",
            &format!(
                "      sample: 100             # users compared field by field (or `all`)\n      logins:\n{logins}"
            ),
        );
    }
    plan
}

fn canary_var(index: usize) -> String {
    format!("FERRY_DEMO_CANARY_{}", index + 1)
}

/// What the demo plan's `${VAR}`s stand for.
struct DemoEnv(Vec<(String, String)>);

impl DemoEnv {
    fn new(keys: &ferry_sandbox::SandboxKeys, canaries: &[(String, Secret)]) -> Self {
        let mut vars = vec![
            ("CLERK_SECRET_KEY".to_owned(), keys.clerk_secret_key.clone()),
            ("WORKOS_API_KEY".to_owned(), keys.workos_api_key.clone()),
            ("WORKOS_CLIENT_ID".to_owned(), keys.workos_client_id.clone()),
            // The reference plan names its journal after the environment.
            ("FERRY_ENV".to_owned(), "sandbox".to_owned()),
        ];
        for (i, (_, password)) in canaries.iter().enumerate() {
            ferry_wire::redact::hold_forever(password);
            vars.push((canary_var(i), password.expose().to_owned()));
        }
        Self(vars)
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    /// As a shell reads it (`set -a; . ./sandbox.env`): each value single-quoted.
    fn file(&self) -> String {
        let mut text = String::from(
            "# What plans/clerk-to-workos.yaml reads from the environment, for\n\
             # `ferry demo`'s sandbox only (fake keys, generated passwords).\n",
        );
        for (key, value) in &self.0 {
            text.push_str(&format!("{key}='{}'\n", value.replace('\'', "'\\''")));
        }
        text
    }
}

/// Two generated users whose passwords are known, to sign in during `verify`.
fn canaries(generated: &GeneratedTenant) -> Vec<(String, Secret)> {
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
    ["bcrypt", "argon2id"]
        .into_iter()
        .filter_map(eligible)
        .map(|p| (p.email.clone(), Secret::new(p.password.expose())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_plan_is_the_reference_plan_aimed_at_the_sandbox() {
        let canaries = vec![("a@example.com".to_owned(), Secret::new("pw"))];
        let plan = demo_plan(
            "http://127.0.0.1:1/v1",
            "http://127.0.0.1:2",
            10.0,
            &canaries,
        );
        for line in [
            "    api_url: http://127.0.0.1:1/v1\n",
            "    api_url: http://127.0.0.1:2\n",
            "    export_csv: ../exports/clerk-users.csv\n    limits: { requests_per_10s: 1000 }\n",
            "    limits: { writes_per_10s: 5000, reads_per_10s: 10000, requests_per_60s: 60000 }\n",
            "        - { email: \"a@example.com\", password: \"${FERRY_DEMO_CANARY_1}\" }\n",
        ] {
            assert!(plan.contains(line), "{line}\n{plan}");
        }
        assert!(!plan.contains("pw\""), "no password in the plan");
    }
}
