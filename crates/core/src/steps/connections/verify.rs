//! The `connections` and `sso_users` checks.
//!
//! - connections: every connection the journal says ferry wrote exists in
//!   WorkOS, in the organization ferry made for its Clerk organization,
//!   with its protocol, and (manual SAML) with the IdP certificate Clerk has.
//! - sso_users: every SSO user whose connection is in WorkOS would link:
//!   a WorkOS user has their email and is the migrated user, and the
//!   email's domain is a verified domain of the connection's organization
//!   (WorkOS refuses a profile from any other domain). Users whose domain
//!   the connection does not claim are flagged already (the SSO users'
//!   list), and counted here, not failed.

use std::collections::{BTreeMap, HashMap};

use super::ClerkSso;
use crate::journal::Kind;
use crate::plan::StepKind;
use crate::report::verification::Check;
use crate::steps::error::StepError;
use crate::steps::verify::context::{Seen, VerifyStep, check, skipped};
use ferry_wire::workos::model::User;

/// Clerk connection id → (WorkOS connection id, WorkOS organization id),
/// for the connections found in place.
pub(crate) type InPlace = BTreeMap<String, (String, String)>;

impl VerifyStep<'_> {
    pub(crate) async fn check_connections(
        &self,
    ) -> Result<(Check, Option<(ClerkSso, InPlace)>), StepError> {
        const TITLE: &str = "SSO connections are in place";
        let Some(clerk) = self.clerk.filter(|_| self.plan.has(StepKind::Connections)) else {
            return Ok((
                skipped("connections", TITLE, "the plan has no connections step"),
                None,
            ));
        };
        let sso = ClerkSso::read(clerk).await?;
        let written = self.journal_ids(Kind::Connection)?;
        let organizations = self.journal_ids(Kind::Organization)?;
        let mut failures = Vec::new();
        let mut in_place = InPlace::new();
        for connection in &sso.connections {
            let Some(target) = written.get(&connection.id) else {
                continue;
            };
            let expected = connection
                .organization_id
                .as_ref()
                .and_then(|o| organizations.get(o));
            let Some(found) = self.workos.connection(target).await? else {
                failures.push(format!(
                    "{}: WorkOS connection {target} is gone",
                    connection.id
                ));
                continue;
            };
            if found.organization_id.as_ref() != expected {
                failures.push(format!(
                    "{}: WorkOS connection {target} is in organization {}, not {}",
                    connection.id,
                    found.organization_id.as_deref().unwrap_or("(none)"),
                    expected.map(String::as_str).unwrap_or("(not migrated)")
                ));
                continue;
            }
            let view = sso.view(connection);
            let protocol = if view.protocol == "oidc" {
                "OIDC"
            } else {
                "SAML"
            };
            if !found.connection_type.to_uppercase().ends_with(protocol) {
                failures.push(format!(
                    "{}: WorkOS connection {target} is {}, not {protocol}",
                    connection.id, found.connection_type
                ));
                continue;
            }
            if protocol == "SAML"
                && view.idp_metadata_url.is_none()
                && let Some(certificate) = &view.idp_certificate
            {
                let held = self.workos.signing_certificates(target).await?;
                if !held.iter().any(|c| c.trim() == certificate.trim()) {
                    failures.push(format!(
                        "{}: WorkOS connection {target} does not hold the IdP certificate Clerk has",
                        connection.id
                    ));
                    continue;
                }
            }
            in_place.insert(
                connection.id.clone(),
                (target.clone(), expected.cloned().unwrap_or_default()),
            );
        }
        let excluded: u64 = self.excluded(Kind::Connection)?.values().sum();
        let evidence = vec![format!(
            "Clerk: {} enterprise connections; written by ferry: {}; in place: {}; not created (handed off): {excluded}",
            sso.connections.len(),
            written.len(),
            in_place.len()
        )];
        Ok((
            check("connections", TITLE, failures, evidence),
            Some((sso, in_place)),
        ))
    }

    pub(crate) async fn check_sso_users(
        &self,
        seen: &Seen,
        workos_users: &HashMap<String, User>,
        connections: Option<(ClerkSso, InPlace)>,
    ) -> Result<Check, StepError> {
        const TITLE: &str = "SSO users would link";
        let Some((sso, in_place)) = connections else {
            return Ok(skipped(
                "sso_users",
                TITLE,
                "the plan has no connections step",
            ));
        };
        let by_email: HashMap<String, &User> = workos_users
            .values()
            .map(|u| (u.email.to_lowercase(), u))
            .collect();
        let mut verified_domains: HashMap<String, Vec<String>> = HashMap::new();
        let (mut linking, mut flagged, mut not_created) = (0u64, 0u64, 0u64);
        let mut failures = Vec::new();
        for (clerk_id, email, named) in &seen.sso {
            let Some(connection) = sso.connection_named(named) else {
                continue;
            };
            let Some((_, organization)) = in_place.get(&connection.id) else {
                not_created += 1;
                continue;
            };
            let domain = email
                .rsplit_once('@')
                .map(|(_, d)| d.to_lowercase())
                .unwrap_or_default();
            if !connection
                .domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&domain))
            {
                flagged += 1;
                continue;
            }
            if !verified_domains.contains_key(organization) {
                let domains = self
                    .workos
                    .organization(organization)
                    .await?
                    .map(|o| {
                        o.domains
                            .into_iter()
                            .filter(|d| d.state.as_deref() == Some("verified"))
                            .map(|d| d.domain.to_lowercase())
                            .collect()
                    })
                    .unwrap_or_default();
                verified_domains.insert(organization.clone(), domains);
            }
            let user = by_email.get(&email.to_lowercase());
            if user.and_then(|u| u.external_id.as_deref()) != Some(clerk_id.as_str()) {
                failures.push(format!(
                    "{clerk_id}: no migrated WorkOS user has {email}: an SSO sign-in would make a new one"
                ));
            } else if !verified_domains[organization].contains(&domain) {
                failures.push(format!(
                    "{clerk_id}: {domain} is not a verified domain of WorkOS organization {organization}: WorkOS would refuse the sign-in"
                ));
            } else {
                linking += 1;
            }
        }
        let evidence = vec![format!(
            "SSO users: {}; would link: {linking}; flagged (domain not the connection's): {flagged}; connection not in WorkOS: {not_created}",
            seen.sso.len()
        )];
        Ok(check("sso_users", TITLE, failures, evidence))
    }
}
