//! The users step against the in-process sandbox: the real `ferry` binary
//! migrating a generated tenant over loopback HTTP into a real journal.

mod changing_source;
mod connections;
mod crash;
mod faults;
mod invitations;
mod migrate;
mod organizations;
mod passwords;
mod reconcile;
mod report;
mod roles;
mod runs;
mod sync;
mod sync_events;
mod trust;
mod undo;
mod webhooks;

use std::collections::HashMap;

use ferry_sandbox::export::write_csv;
use ferry_sandbox::{
    FaultConfig, GeneratedTenant, GeneratorOptions, RateLimits, RequestCounts, Sandbox,
    SandboxOptions, WorkosDump, generate,
};

use serde_json::{Value, json};

use crate::common::plan::{PlanFile, Step};
use crate::common::{Run, Scratch};

/// Every step after `users`, verifying every user.
pub fn full_steps() -> Vec<Step> {
    vec![
        Step::bare("organizations"),
        Step::bare("roles"),
        Step::bare("memberships"),
        Step::bare("mfa_report"),
        Step::with("verify", json!({ "sample": "all" })),
    ]
}

/// A sandbox serving a generated tenant, its CSV export on disk, and a plan pointing at both.
pub struct World {
    pub runtime: tokio::runtime::Runtime,
    pub sandbox: Sandbox,
    pub generated: GeneratedTenant,
    pub scratch: Scratch,
    /// The plan in `plan.yaml`; change it and call [`World::write_plan`].
    pub plan: PlanFile,
}

/// How to build a [`World`].
pub struct WorldOptions {
    pub users: usize,
    pub organizations: usize,
    pub seed: u64,
    pub faults: FaultConfig,
    /// The `users:` step's options (a JSON object).
    pub users_options: Value,
    /// `writes_per_10s` in the plan (the sandbox enforces no limit).
    pub writes_per_10s: u32,
    /// Steps after `users`.
    pub more_steps: Vec<Step>,
    /// The plan's script, when it has one.
    pub script: Option<&'static str>,
    /// Changes the generated tenant (and its export) before the sandbox serves it.
    pub tweak: fn(&mut GeneratedTenant),
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self {
            users: 300,
            organizations: 5,
            seed: 11,
            faults: FaultConfig::default(),
            users_options: json!({}),
            writes_per_10s: 100_000,
            more_steps: Vec::new(),
            script: None,
            tweak: |_| {},
        }
    }
}

impl WorldOptions {
    /// A world whose runs write `concurrency` requests at a time, each
    /// answered after `latency_ms`: slow enough that a kill or a signal
    /// lands mid-run. (A rate limit no longer slows a run evenly: ferry
    /// sends a window's worth at once.)
    pub fn paced(concurrency: u32, latency_ms: u64) -> Self {
        Self {
            faults: FaultConfig {
                latency_ms,
                ..FaultConfig::default()
            },
            users_options: json!({ "concurrency": concurrency }),
            ..Self::default()
        }
    }
}

impl World {
    pub fn new(options: WorldOptions) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut generated = generate::generate(GeneratorOptions {
            users: options.users,
            organizations: options.organizations,
            seed: options.seed,
        });
        (options.tweak)(&mut generated);
        let sandbox = runtime
            .block_on(Sandbox::start(
                SandboxOptions::default()
                    .with_generated(&generated)
                    .with_limits(RateLimits::disabled())
                    .with_faults(options.faults),
            ))
            .expect("the sandbox starts");
        let scratch = Scratch::new();
        write_csv(&scratch.path().join("users.csv"), &generated.export).unwrap();
        let mut plan = PlanFile::new("world")
            .clerk("secret_key", "${CLERK_SECRET_KEY}")
            .clerk("api_url", sandbox.info().clerk_api_url)
            .clerk("export_csv", "users.csv")
            .clerk("limits", json!({ "requests_per_10s": 100_000 }))
            .workos("api_key", "${WORKOS_API_KEY}")
            .workos("client_id", "${WORKOS_CLIENT_ID}")
            .workos("api_url", sandbox.workos_url())
            .workos(
                "limits",
                json!({
                    "writes_per_10s": options.writes_per_10s,
                    "reads_per_10s": 200_000,
                    "requests_per_60s": 1_000_000,
                }),
            )
            .step(Step::with("users", options.users_options))
            .steps(options.more_steps)
            .report_dir("reports");
        if let Some(script) = options.script {
            plan = plan.script(script);
        }
        scratch.write_plan("plan.yaml", &plan);
        Self {
            runtime,
            sandbox,
            generated,
            scratch,
            plan,
        }
    }

    /// A migrated user whose bcrypt password is known and whose primary
    /// email is verified: one who can sign in after the migration.
    pub fn bcrypt_canary(&self) -> ferry_sandbox::generate::PasswordRow {
        let expected = self.expected();
        self.generated
            .passwords
            .iter()
            .find(|p| {
                p.password_hasher == "bcrypt"
                    && expected.get(&p.user_id).is_some_and(|u| {
                        u.primary_email()
                            .is_some_and(|e| e.is_verified() && e.email_address == p.email)
                    })
            })
            .expect("a bcrypt user who can sign in")
            .clone()
    }

    /// Waits (at most 30 s) until the sandbox has seen `requests` requests:
    /// a spawned run is then past its start, whatever the machine's load.
    pub fn wait_for_requests(&self, requests: u64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while self.sandbox.request_counts().total < requests {
            assert!(
                std::time::Instant::now() < deadline,
                "the run never reached the sandbox"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// A file of the report folder, as text (empty when it is not there).
    pub fn report(&self, name: &str) -> String {
        std::fs::read_to_string(self.scratch.path().join("reports").join(name)).unwrap_or_default()
    }

    /// Writes `self.plan` to `plan.yaml` again.
    pub fn write_plan(&self) {
        self.scratch.write_plan("plan.yaml", &self.plan);
    }

    /// `ferry` in the scratch folder with the sandbox's keys in the environment.
    pub fn ferry(&self) -> Run {
        let keys = self.sandbox.keys();
        self.scratch
            .ferry()
            .env("CLERK_SECRET_KEY", &keys.clerk_secret_key)
            .env("WORKOS_API_KEY", &keys.workos_api_key)
            .env("WORKOS_CLIENT_ID", &keys.workos_client_id)
    }

    pub fn run(&self) -> crate::common::Output {
        self.ferry().args(["run", "plan.yaml", "--yes"]).run()
    }

    /// `ferry ARGS` as a process of its own, in the scratch folder with the
    /// sandbox's keys, its output discarded unless the caller pipes it.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let keys = self.sandbox.keys();
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("ferry"));
        command
            .args(args)
            .current_dir(self.scratch.path())
            .env("CLERK_SECRET_KEY", &keys.clerk_secret_key)
            .env("WORKOS_API_KEY", &keys.workos_api_key)
            .env("WORKOS_CLIENT_ID", &keys.workos_client_id)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    }

    /// Runs the plan without `step`, then puts the step back: the bulk run
    /// is done and `step` is what the next run does.
    pub fn run_all_but(&mut self, step: &str) {
        let full = self.plan.clone();
        self.plan = full.clone().without_step(step);
        self.write_plan();
        self.run().code(0);
        self.plan = full;
        self.write_plan();
    }

    /// Starts a run with 150 ms on every answer and SIGKILLs it once
    /// `reached` holds (`what`, at most 60 s), with a write answered or
    /// still in flight.
    pub fn kill_run_once(&self, what: &str, reached: impl Fn(&World) -> bool) {
        self.sandbox
            .set_faults(FaultConfig {
                latency_ms: 150,
                ..FaultConfig::default()
            })
            .unwrap();
        let mut child = self.spawn_run();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !reached(self) {
            assert!(
                std::time::Instant::now() < deadline,
                "{what} never happened"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// `ferry run --yes` as a child process, to kill or interrupt.
    pub fn spawn_run(&self) -> std::process::Child {
        self.command(&["run", "plan.yaml", "--yes"])
            .spawn()
            .expect("ferry starts")
    }

    /// Every secret this world holds: keys, digests, TOTP secrets, passwords.
    pub fn secrets(&self) -> Vec<String> {
        let keys = self.sandbox.keys();
        let mut secrets = vec![keys.clerk_secret_key.clone(), keys.workos_api_key.clone()];
        for row in &self.generated.export {
            secrets.extend(row.password_digest.iter().map(|s| s.expose().to_owned()));
            secrets.extend(row.totp_secret.iter().map(|s| s.expose().to_owned()));
        }
        secrets.extend(
            self.generated
                .passwords
                .iter()
                .map(|p| p.password.expose().to_owned()),
        );
        secrets.sort();
        secrets.dedup();
        secrets
    }

    /// A request to the sandbox's WorkOS API with its key, as someone
    /// working in WorkOS would make it; returns the status.
    pub fn workos_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
        self.workos_json(method, path, body).0
    }

    /// [`World::workos_call`], returning the answer's body too (JSON, or null).
    pub fn workos_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.sandbox.workos_url());
        let key = self.sandbox.keys().workos_api_key.clone();
        self.runtime.block_on(async move {
            let mut request = reqwest::Client::new().request(method, url).bearer_auth(key);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the sandbox answers");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        })
    }

    /// A change to the running Clerk tenant through the sandbox's admin
    /// routes (`/__sandbox/clerk/…`); returns the status and body.
    pub fn clerk_admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}clerk/{path}", self.sandbox.admin_url());
        self.runtime.block_on(async move {
            let mut request = reqwest::Client::new().request(method, url);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("the sandbox answers");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        })
    }

    /// Writes one record into the world's journal as a run of an older
    /// plan (`plan`) would have, leaving that run unfinished unless
    /// `finished`: what an earlier binary, a crash or an edit left behind.
    pub fn journal_record(
        &self,
        plan: &str,
        kind: ferry_core::journal::Kind,
        source_id: &str,
        action: ferry_core::journal::Action,
        finished: bool,
    ) {
        use ferry_core::journal::{Entry, Journal, Outcome, RunStatus};
        let state = self.scratch.path().join(".ferry/world.db");
        let mut journal = Journal::open_for_run(&state).unwrap();
        let checksum = ferry_core::plan::Checksum::compute(plan.as_bytes(), None);
        let run = journal.begin_run("world", 1, &checksum, false).unwrap();
        let entry = Entry::from(Outcome {
            kind,
            source_id: source_id.to_owned(),
            target_id: None,
            action,
            attempts: 1,
            reason: Some(ferry_core::support::reason::Reason::new(
                ferry_core::support::reason::ReasonCode::Unclassified,
                format!("recorded by {plan}"),
            )),
            fingerprint: None,
        });
        journal.record_all(run, &[entry]).unwrap();
        if finished {
            journal.finish_run(run, RunStatus::Finished).unwrap();
        }
    }

    /// Each WorkOS user's id, with the external_id it carries ("" for none).
    pub fn external_ids(&self) -> HashMap<String, String> {
        self.dump()
            .users
            .into_iter()
            .map(|u| (u.user.id, u.user.external_id.unwrap_or_default()))
            .collect()
    }

    pub fn dump(&self) -> WorkosDump {
        self.sandbox.workos_state()
    }

    pub fn counts(&self) -> RequestCounts {
        self.sandbox.request_counts()
    }

    /// The Clerk users a run must create: an email, not banned, not locked.
    pub fn expected(&self) -> HashMap<String, &ferry_wire::clerk::model::User> {
        self.generated
            .tenant
            .users
            .iter()
            .filter(|u| u.primary_email().is_some() && !u.banned && !u.locked)
            .map(|u| (u.id.clone(), u))
            .collect()
    }

    /// Asserts WorkOS holds exactly the expected users, once each, with the right fields.
    pub fn assert_migrated_exactly_once(&self) {
        let dump = self.dump();
        let expected = self.expected();
        let mut by_external_id: HashMap<&str, usize> = HashMap::new();
        let mut by_email: HashMap<String, usize> = HashMap::new();
        for user in &dump.users {
            let external = user
                .user
                .external_id
                .as_deref()
                .expect("every migrated user has an external_id");
            *by_external_id.entry(external).or_default() += 1;
            *by_email.entry(user.user.email.to_lowercase()).or_default() += 1;
        }
        let duplicated: Vec<_> = by_external_id.iter().filter(|(_, n)| **n > 1).collect();
        assert!(duplicated.is_empty(), "duplicated users: {duplicated:?}");
        assert!(
            by_email.values().all(|n| *n == 1),
            "two WorkOS users share an email"
        );
        let lost: Vec<_> = expected
            .keys()
            .filter(|id| !by_external_id.contains_key(id.as_str()))
            .collect();
        assert!(
            lost.is_empty(),
            "{} users lost, e.g. {:?}",
            lost.len(),
            lost.iter().take(3).collect::<Vec<_>>()
        );
        assert_eq!(
            dump.users.len(),
            expected.len(),
            "WorkOS has users that should not be there"
        );

        for user in &dump.users {
            let clerk = expected[user.user.external_id.as_deref().unwrap()];
            let primary = clerk.primary_email().unwrap();
            assert_eq!(
                user.user.email, primary.email_address,
                "primary email of {}",
                clerk.id
            );
            assert_eq!(
                user.user.email_verified,
                primary.is_verified(),
                "email_verified of {}",
                clerk.id
            );
            assert_eq!(
                user.user.first_name.as_deref().filter(|s| !s.is_empty()),
                clerk.first_name.as_deref().filter(|s| !s.is_empty()),
                "first name of {}",
                clerk.id
            );
            assert_eq!(
                user.user.last_name.as_deref().filter(|s| !s.is_empty()),
                clerk.last_name.as_deref().filter(|s| !s.is_empty()),
                "last name of {}",
                clerk.id
            );
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // The sandbox's tasks live on this runtime; stop them before it goes.
        self.runtime.block_on(async {});
    }
}
