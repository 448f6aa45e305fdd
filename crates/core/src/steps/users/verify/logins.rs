//! The `logins` check: the plan's canary logins sign in with their passwords.

use crate::plan::CanaryLogin;
use crate::report::verification::Check;
use crate::steps::verify::context::{VerifyStep, check, skipped};

impl VerifyStep<'_> {
    pub(crate) async fn check_logins(&self, logins: &[CanaryLogin]) -> Check {
        const TITLE: &str = "Password sign-in works for the canary logins";
        if logins.is_empty() {
            return skipped(
                "logins",
                TITLE,
                "the plan names no canary logins (verify: { logins: [...] })",
            );
        }
        let client_id = self
            .plan
            .target
            .as_ref()
            .and_then(|t| t.client_id.clone())
            .unwrap_or_default();
        let mut failures = Vec::new();
        let mut evidence = Vec::new();
        for login in logins {
            match self
                .workos
                .authenticate(&client_id, &self.api_key, &login.email, &login.password)
                .await
            {
                Ok(outcome) => evidence.push(format!("{}: {outcome}", login.email)),
                Err(reason) => failures.push(format!("{}: {reason}", login.email)),
            }
        }
        check("logins", TITLE, failures, evidence)
    }
}
