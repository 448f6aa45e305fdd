//! The SSO handoff: one row per thing a customer's IT admin must do after
//! the cutover, a pure function of what Clerk says and what the step did,
//! so the same on every run until something changes; the file is written
//! whole at the end of the step (`<name>-sso-handoff.csv`, mode 0600).
//! Beside it, the flag on an SSO user WorkOS would not link (the MFA
//! report lists those users among its sign-in flags).
//!
//! WorkOS's connection object, as the official SDK models it, returns
//! neither the ACS URL nor the SP entity id it generates, so with
//! `acs: workos` the handoff says where the IdP admin finds them (the
//! Admin Portal's SSO setup, `ferry portal-link`), never a guessed value.

use std::path::Path;

use crate::mapping::connection::ConnectionView;
use crate::support::reason::{Reason, ReasonCode};
use ferry_wire::clerk::sso::ScimDirectory;

/// One thing an IT admin must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffRow {
    /// The Clerk organization's slug (or id), empty when it has none.
    pub organization: String,
    pub workos_organization: String,
    /// The Clerk connection or directory id.
    pub connection: String,
    pub name: String,
    /// `saml`, `oidc` or `scim`.
    pub kind: &'static str,
    pub code: ReasonCode,
    /// What to do, in words.
    pub action: String,
    /// The Admin Portal intent that does it, when one does.
    pub intent: Option<&'static str>,
    /// The values the admin needs.
    pub values: String,
}

/// What became of a connection, for its handoff rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate<'a> {
    /// In WorkOS (created now or before), in this organization.
    InWorkos {
        connection_id: &'a str,
        workos_organization: &'a str,
        /// The SP side is WorkOS's own (`acs: workos`).
        sp_changes: bool,
    },
    /// Not created, and why.
    NotCreated(&'a Reason),
}

/// The rows for one connection. `now_ms` decides whether its certificate expired.
pub fn connection_rows(
    view: &ConnectionView,
    fate: &Fate<'_>,
    plan_file: &str,
    now_ms: i64,
) -> Vec<HandoffRow> {
    let organization = view.organization_label();
    let row =
        |workos_organization: &str, code, action: String, intent, values: String| HandoffRow {
            organization: organization.clone(),
            workos_organization: workos_organization.to_owned(),
            connection: view.id.clone(),
            name: view.name.clone(),
            kind: if view.protocol == "oidc" {
                "oidc"
            } else {
                "saml"
            },
            code,
            action,
            intent,
            values,
        };
    let portal = |workos_organization: &str, intent: &str| {
        format!("ferry portal-link {plan_file} {workos_organization} --intent {intent}")
    };
    let mut rows = Vec::new();
    match fate {
        Fate::InWorkos {
            connection_id,
            workos_organization,
            sp_changes,
        } => {
            if *sp_changes && view.protocol != "oidc" {
                rows.push(row(
                    workos_organization,
                    ReasonCode::IdpSettingsChange,
                    "in the IdP, replace the service provider's ACS URL and SP entity id with WorkOS's".into(),
                    Some("sso"),
                    format!(
                        "WorkOS connection {connection_id}; its ACS URL and SP entity id are on the Admin Portal's SSO page ({}); the old ones: ACS URL {}, SP entity id {}",
                        portal(workos_organization, "sso"),
                        view.acs_url.as_deref().unwrap_or("(none)"),
                        view.sp_entity_id.as_deref().unwrap_or("(none)"),
                    ),
                ));
            }
            if let Some(expired) = view.idp_certificate_expires_at.filter(|at| *at < now_ms) {
                rows.push(row(
                    workos_organization,
                    ReasonCode::CertificateExpired,
                    "upload a new IdP signing certificate: the one Clerk had has expired".into(),
                    Some("certificate_renewal"),
                    format!(
                        "expired {}; {}",
                        chrono::DateTime::from_timestamp_millis(expired)
                            .map(|at| at.format("%Y-%m-%d").to_string())
                            .unwrap_or_else(|| expired.to_string()),
                        portal(workos_organization, "certificate_renewal")
                    ),
                ));
            }
        }
        Fate::NotCreated(reason) => {
            let (action, intent, values) = match reason.code {
                ReasonCode::OidcSecretMissing => (
                    "give the OIDC client secret in the plan's connections.secrets and run again, or set the connection up in the Admin Portal",
                    Some("sso"),
                    format!(
                        "client id {}; discovery URL {}",
                        view.client_id.as_deref().unwrap_or("(none)"),
                        view.discovery_url.as_deref().unwrap_or("(none)")
                    ),
                ),
                ReasonCode::ConnectionIncomplete => (
                    "set the connection up in the Admin Portal: Clerk lacks the IdP values WorkOS needs",
                    Some("sso"),
                    String::new(),
                ),
                ReasonCode::ConnectionWithoutOrganization => (
                    "assign it to an organization in Clerk and run again, or set it up in WorkOS by hand",
                    None,
                    format!("domains {}", view.domains.join(" ")),
                ),
                ReasonCode::ConnectionInactive => (
                    "nothing, unless it is still wanted: it was inactive in Clerk",
                    None,
                    String::new(),
                ),
                ReasonCode::OrganizationNotMigrated => (
                    "migrate its organization, then run again",
                    None,
                    String::new(),
                ),
                _ => (
                    "review why it was not created, then run again",
                    None,
                    String::new(),
                ),
            };
            rows.push(row("", reason.code, action.into(), intent, {
                let why = reason.detail.clone();
                if values.is_empty() {
                    why
                } else {
                    format!("{values}; {why}")
                }
            }));
        }
    }
    rows
}

/// The row for one SCIM directory: WorkOS has no API to create a directory,
/// so each is set up again by its IT admin in the Admin Portal.
pub fn directory_row(
    directory: &ScimDirectory,
    organization: &str,
    workos_organization: Option<&str>,
    plan_file: &str,
) -> HandoffRow {
    let how = match workos_organization {
        Some(id) => format!("ferry portal-link {plan_file} {id} --intent dsync"),
        None => "its organization was not migrated: migrate it first".to_owned(),
    };
    HandoffRow {
        organization: organization.to_owned(),
        workos_organization: workos_organization.unwrap_or_default().to_owned(),
        connection: directory.id.clone(),
        name: directory.name.clone(),
        kind: "scim",
        code: ReasonCode::DirectoryHandoff,
        action: "set up directory sync in the Admin Portal and point the IdP's SCIM provisioning at WorkOS".into(),
        intent: Some("dsync"),
        values: format!(
            "provider {}; Clerk's SCIM endpoint {} stops at cutover; {how}",
            directory.provider.as_deref().unwrap_or("(unknown)"),
            directory.endpoint_url.as_deref().unwrap_or("(none)"),
        ),
    }
}

/// The flag on one SSO user: whether WorkOS would link their sign-in
/// through `connection` to the migrated user. WorkOS refuses a profile
/// whose email domain is not one of the organization's (verified)
/// domains, so a user outside the connection's domains is flagged.
pub fn sso_user_flag(email: &str, view: &ConnectionView, created: bool) -> Reason {
    let domain = email.rsplit_once('@').map(|(_, d)| d.to_lowercase());
    let claimed = domain
        .as_deref()
        .is_some_and(|d| view.domains.iter().any(|c| c.eq_ignore_ascii_case(d)));
    if !created {
        Reason::new(
            ReasonCode::SsoConnectionNotCreated,
            format!(
                "signs in through {}, which was not created in WorkOS",
                view.id
            ),
        )
    } else if !claimed {
        Reason::new(
            ReasonCode::SsoDomainNotClaimed,
            format!(
                "signs in through {} with {}, a domain it does not claim ({}): WorkOS would refuse the sign-in",
                view.id,
                domain.as_deref().unwrap_or("(no domain)"),
                view.domains.join(", ")
            ),
        )
    } else {
        Reason::new(
            ReasonCode::SsoUser,
            format!("signs in through {}; links by email", view.id),
        )
    }
}

pub const HANDOFF_HEADER: [&str; 9] = [
    "organization",
    "workos_organization",
    "connection",
    "name",
    "type",
    "code",
    "action",
    "portal_intent",
    "values",
];

/// Writes the handoff whole (0600; nothing half-written is left behind).
pub fn write_handoff(path: &Path, rows: &[HandoffRow]) -> std::io::Result<()> {
    ferry_wire::files::write_with(path, |out| {
        let mut writer = ferry_wire::inert::CsvWriter::new(out);
        writer.row(HANDOFF_HEADER)?;
        for row in rows {
            writer.row([
                row.organization.as_str(),
                &row.workos_organization,
                &row.connection,
                &row.name,
                row.kind,
                row.code.as_str(),
                &row.action,
                row.intent.unwrap_or_default(),
                &ferry_wire::redact::redact(&row.values),
            ])?;
        }
        writer.flush()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> ConnectionView {
        ConnectionView {
            id: "entconn_1".into(),
            name: "Acme SSO".into(),
            provider: "saml_custom".into(),
            protocol: "saml".into(),
            active: true,
            organization_id: Some("org_1".into()),
            organization_slug: Some("acme".into()),
            domains: vec!["acme.example".into(), "eu.acme.example".into()],
            acs_url: Some("https://clerk.test/acs".into()),
            sp_entity_id: Some("https://clerk.test/sp".into()),
            idp_certificate_expires_at: Some(1_000),
            client_id: Some("client_1".into()),
            discovery_url: Some("https://login.acme.example/.well-known".into()),
            ..ConnectionView::default()
        }
    }

    #[test]
    fn what_an_it_admin_is_handed_for_each_fate() {
        let in_workos = |sp_changes| Fate::InWorkos {
            connection_id: "conn_1",
            workos_organization: "org_w",
            sp_changes,
        };
        let codes = |rows: Vec<HandoffRow>| {
            rows.into_iter()
                .map(|r| (r.code, r.intent))
                .collect::<Vec<_>>()
        };
        let missing = Reason::new(ReasonCode::OidcSecretMissing, "no secret");
        let inactive = Reason::new(ReasonCode::ConnectionInactive, "inactive");
        /// (case, the connection's fate, now in ms, the rows' codes and intents).
        type Row<'r> = (&'r str, Fate<'r>, i64, Vec<(ReasonCode, Option<&'r str>)>);
        #[rustfmt::skip]
        let table: Vec<Row<'_>> = vec![
            ("kept SP side, valid certificate", in_workos(false), 0, vec![]),
            ("WorkOS's SP side", in_workos(true), 0, vec![(ReasonCode::IdpSettingsChange, Some("sso"))]),
            ("WorkOS's SP side, expired certificate", in_workos(true), 2_000,
                vec![(ReasonCode::IdpSettingsChange, Some("sso")), (ReasonCode::CertificateExpired, Some("certificate_renewal"))]),
            ("no OIDC secret", Fate::NotCreated(&missing), 0, vec![(ReasonCode::OidcSecretMissing, Some("sso"))]),
            ("inactive", Fate::NotCreated(&inactive), 0, vec![(ReasonCode::ConnectionInactive, None)]),
        ];
        for (case, fate, now, expected) in table {
            assert_eq!(
                codes(connection_rows(&view(), &fate, "acme", now)),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn an_sso_user_links_only_from_a_claimed_domain_of_a_created_connection() {
        let view = view();
        #[rustfmt::skip]
        let table = [
            ("ada@acme.example", true, ReasonCode::SsoUser),
            ("ada@EU.acme.example", true, ReasonCode::SsoUser),
            ("ada@contractor.example", true, ReasonCode::SsoDomainNotClaimed),
            ("no-domain", true, ReasonCode::SsoDomainNotClaimed),
            ("ada@acme.example", false, ReasonCode::SsoConnectionNotCreated),
        ];
        for (email, created, code) in table {
            assert_eq!(
                sso_user_flag(email, &view, created).code,
                code,
                "{email} {created}"
            );
        }
    }
}
