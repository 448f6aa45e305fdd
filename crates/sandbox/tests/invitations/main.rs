//! Invitations over real loopback HTTP: Clerk's listings served from a
//! generated tenant (filters, pages, the bare array, each `url`), the admin
//! edits that move them, and WorkOS's invitation routes with their spec's
//! refusals, the email record (`/__sandbox/emails`) a retried or dropped
//! request must not double, events, and rate limits.

mod clerk;
mod workos;

use ferry_sandbox::{
    FaultConfig, GeneratedTenant, GeneratorOptions, RateLimits, Sandbox, SandboxOptions, generate,
};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::Value;

/// A running sandbox and a client that knows its keys.
pub struct Harness {
    pub sandbox: Sandbox,
    pub http: Client,
}

impl Harness {
    pub async fn start(options: SandboxOptions) -> Self {
        Self {
            sandbox: Sandbox::start(options).await.expect("the sandbox starts"),
            http: Client::new(),
        }
    }

    /// No rate limits, serving a tenant generated now (whether an
    /// invitation is pending depends on when).
    pub async fn generated(users: usize, organizations: usize) -> (Self, GeneratedTenant) {
        let generated = generate::generate(GeneratorOptions {
            users,
            organizations,
            seed: 11,
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

    pub async fn clerk_get(&self, path: &str) -> (u16, Value) {
        read(self.clerk(Method::GET, path).send().await).await
    }

    pub async fn workos_get(&self, path: &str) -> (u16, Value) {
        read(self.workos(Method::GET, path).send().await).await
    }

    pub async fn workos_post(&self, path: &str, body: Value) -> (u16, Value) {
        read(self.workos(Method::POST, path).json(&body).send().await).await
    }

    /// An admin route (`/__sandbox/…`), with a JSON body when given.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.admin_url()));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        read(request.send().await).await
    }

    /// What `GET /__sandbox/emails` lists.
    pub async fn emails(&self) -> Vec<Value> {
        let (status, body) = self.admin(Method::GET, "emails", None).await;
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().expect("a data array").clone()
    }

    pub fn set_faults(&self, faults: FaultConfig) {
        self.sandbox.set_faults(faults).expect("valid faults");
    }
}

/// Status and JSON body (Null for an empty body).
pub async fn read(response: reqwest::Result<reqwest::Response>) -> (u16, Value) {
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
