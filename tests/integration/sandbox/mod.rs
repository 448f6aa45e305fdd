//! The sandbox over real loopback HTTP: contract tests for every Clerk and
//! WorkOS route (status, body shape, error codes, pagination edges), rate
//! limits, fault injection, introspection, and the `ferry sandbox` command.

mod authenticate;
mod clerk_admin;
mod clerk_contract;
mod clerk_filters;
pub(crate) mod cli;
mod conformance;
mod events_contract;
mod faults;
mod limits;
mod roles_contract;
pub mod spec;
mod workos_contract;

use ferry_sandbox::{
    GeneratedTenant, GeneratorOptions, RateLimits, Sandbox, SandboxOptions, generate,
};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;

/// A running sandbox and a client that knows its keys. Every answer it
/// gets is held to the official OpenAPI specs when it is dropped
/// ([`spec::judge`]).
pub struct Harness {
    pub sandbox: Sandbox,
    pub http: Client,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut problems: Vec<String> = self
            .sandbox
            .take_captured()
            .iter()
            .filter_map(spec::judge)
            .collect();
        problems.sort();
        problems.dedup();
        assert!(
            problems.is_empty(),
            "answers the specs do not describe:\n{}",
            problems.join("\n")
        );
    }
}

impl Harness {
    pub async fn start(options: SandboxOptions) -> Self {
        let sandbox = Sandbox::start(options.with_capture())
            .await
            .expect("the sandbox starts");
        Self {
            sandbox,
            http: Client::new(),
        }
    }

    /// A sandbox with no rate limits serving a small generated tenant.
    pub async fn generated(users: usize, organizations: usize) -> (Self, GeneratedTenant) {
        let generated = generate::generate(GeneratorOptions {
            users,
            organizations,
            seed: 7,
        });
        let options = SandboxOptions::default()
            .with_generated(&generated)
            .with_limits(RateLimits::disabled());
        (Self::start(options).await, generated)
    }

    pub async fn unlimited() -> Self {
        Self::start(SandboxOptions::default().with_limits(RateLimits::disabled())).await
    }

    pub fn clerk(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sandbox.clerk_url()))
            .bearer_auth(&self.sandbox.keys().clerk_secret_key)
    }

    pub fn workos(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sandbox.workos_url()))
            .bearer_auth(&self.sandbox.keys().workos_api_key)
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sandbox.admin_url()))
    }

    /// POST a JSON body to WorkOS; (status, body).
    pub async fn workos_post(&self, path: &str, body: Value) -> (u16, Value) {
        read(self.workos(Method::POST, path).json(&body).send().await).await
    }

    pub async fn workos_get(&self, path: &str) -> (u16, Value) {
        read(self.workos(Method::GET, path).send().await).await
    }

    pub async fn clerk_get(&self, path: &str) -> (u16, Value) {
        read(self.clerk(Method::GET, path).send().await).await
    }

    /// Creates a WorkOS user and returns its id.
    pub async fn create_user(&self, body: Value) -> String {
        let (status, user) = self.workos_post("/user_management/users", body).await;
        assert_eq!(status, 201, "{user}");
        user["id"].as_str().expect("an id").to_owned()
    }
}

/// Status and JSON body (Null for an empty body).
pub async fn read(response: reqwest::Result<Response>) -> (u16, Value) {
    let response = response.expect("the sandbox answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got {text}"))
    };
    (status, body)
}

/// Asserts `object` has every one of `fields` (present, possibly null).
pub fn assert_fields(object: &Value, fields: &[&str]) {
    for field in fields {
        assert!(
            object.get(field).is_some(),
            "missing required field `{field}` in {object}"
        );
    }
}
