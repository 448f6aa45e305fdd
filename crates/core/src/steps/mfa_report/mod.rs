//! The `mfa_report` step: who must do something after cutover, and why.
//!
//! MFA: SMS second factors cannot move (WorkOS has none); a TOTP secret that
//! was not exported, or not imported, must be enrolled again; backup codes
//! never carry over. Each user who must act gets a notice rendered from a
//! handlebars template (the plan's `notice_template` or the built-in one),
//! and one CSV lists everyone to notify. Users whose TOTP factor moved have
//! nothing to do and get no notice.
//!
//! Sign-in: a social-only user whose provider is not configured in WorkOS
//! cannot sign in after cutover; a social account whose email differs from
//! the user's primary address, or a primary that is not verified, keeps
//! WorkOS from linking the account by email (it would make a second user).
//! Those users are listed with the reason.
//!
//! Enterprise SSO: a user who signs in through a Clerk enterprise
//! connection is flagged when WorkOS would not link that sign-in to them
//! (their email's domain is none of the connection's, or the connection
//! was not created); the flag names the connection.
//!
//! Both lists cover the users the users step migrated: the others cannot
//! sign in to WorkOS at all and are on that step's skipped list.

pub mod stage;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use handlebars::Handlebars;
use tokio::sync::mpsc;

use super::error::StepError;
use crate::journal::{Journal, Kind};
use crate::report::mfa::{MfaFinding, MfaSummary, SignInFlag};
use crate::source::SourceUser;
use crate::source::read::{self, Item, Sources};
use crate::steps::connections::ClerkSso;
use crate::steps::connections::handoff::sso_user_flag;
use crate::support::reason::ReasonCode;

const BUILT_IN_NOTICE: &str = include_str!("../../report/templates/mfa-notice.hbs");

pub struct MfaReportStep<'a> {
    pub plan_name: String,
    pub template: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub report_dir: PathBuf,
    pub enabled_providers: Vec<String>,
    pub journal: &'a Mutex<Journal>,
    /// Clerk's enterprise connections, when the plan moves them: SSO users
    /// WorkOS would not link are flagged against them.
    pub sso: Option<ClerkSso>,
}

#[derive(Debug, thiserror::Error)]
pub enum MfaReportError {
    #[error("notice template {}: {message}", path.display())]
    Template { path: PathBuf, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Step(#[from] StepError),
}

impl MfaReportError {
    pub fn kind(&self) -> crate::support::kind::ErrorKind {
        match self {
            Self::Template { .. } | Self::Write { .. } => {
                crate::support::kind::ErrorKind::Configuration
            }
            Self::Step(error) => error.kind(),
        }
    }
}

/// Creates (or truncates) a file readable by its owner only.
/// How many users the report reads between two chances for the other steps.
const YIELD_EVERY: u64 = 16;

fn private_file(path: &Path) -> Result<std::fs::File, MfaReportError> {
    let error = |source| MfaReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    ferry_wire::files::create(path).map_err(error)
}

impl MfaReportStep<'_> {
    fn migrated(&self, kind: Kind, id: &str) -> bool {
        let journal = self.journal.lock().expect("journal lock");
        journal.written(kind, id).is_some()
    }

    /// The flags on a user who signs in through enterprise SSO, one per
    /// connection WorkOS would not link them through: their email's domain
    /// is none of the connection's, or the connection was not created.
    /// The second value says whether the user signs in through SSO at all.
    pub fn sso_flags(&self, user: &SourceUser) -> (Vec<SignInFlag>, bool) {
        let (Some(sso), Some(api)) = (&self.sso, &user.api) else {
            return (Vec::new(), false);
        };
        let sign_ins = api.enterprise_sign_ins();
        let primary = user.primary().ok().map(|p| p.address);
        let mut flags = Vec::new();
        for (named, account_email) in &sign_ins {
            let Some(connection) = sso.connection_named(named) else {
                continue;
            };
            let email = primary.clone().unwrap_or_else(|| account_email.clone());
            let created = self.migrated(Kind::Connection, &connection.id);
            let reason = sso_user_flag(&email, &sso.view(connection), created);
            if reason.code != ReasonCode::SsoUser {
                flags.push(SignInFlag {
                    clerk_id: user.id.clone(),
                    email: Some(email),
                    flag: reason.code.as_str(),
                    detail: reason.detail,
                });
            }
        }
        (flags, !sign_ins.is_empty())
    }

    /// The MFA findings for one user.
    pub fn findings(&self, user: &SourceUser) -> (Vec<MfaFinding>, bool) {
        let mut findings = Vec::new();
        if user.sms_second_factor() {
            findings.push(MfaFinding::Sms);
        }
        let totp_migrated = self.migrated(Kind::TotpFactor, &user.id);
        if user.totp_enabled() && user.totp_secret().is_none() {
            findings.push(MfaFinding::TotpNotExported);
        } else if user.totp_secret().is_some() && !totp_migrated {
            findings.push(MfaFinding::TotpNotImported);
        }
        if user.backup_codes() {
            findings.push(MfaFinding::BackupCodes);
        }
        (findings, totp_migrated)
    }

    /// The sign-in flags for one user.
    pub fn sign_in_flags(&self, user: &SourceUser) -> Vec<SignInFlag> {
        let accounts = user.oauth_accounts();
        if accounts.is_empty() {
            return Vec::new();
        }
        let primary = user.primary().ok();
        let email = primary.as_ref().map(|p| p.address.clone());
        let flag = |flag, detail: String| SignInFlag {
            clerk_id: user.id.clone(),
            email: email.clone(),
            flag,
            detail,
        };
        let mut flags = Vec::new();
        let social_only = !user.password_enabled() && user.password_digest().is_none();
        if social_only {
            let disabled: Vec<&str> = accounts
                .iter()
                .map(|a| a.provider.as_str())
                .filter(|p| !self.enabled_providers.iter().any(|e| e == p))
                .collect();
            if disabled.len() == accounts.len() {
                flags.push(flag(
                    "provider_not_enabled",
                    format!(
                        "signs in only with {}, which WorkOS is not configured for",
                        disabled.join(", ")
                    ),
                ));
            }
        }
        for account in &accounts {
            if let Some(primary) = &primary
                && !account.email.eq_ignore_ascii_case(&primary.address)
            {
                flags.push(flag(
                    "oauth_email_differs",
                    format!("the {} account's email is not the primary address; WorkOS links by email and would make a second user", account.provider),
                ));
            }
        }
        if primary.as_ref().is_some_and(|p| !p.verified) {
            flags.push(flag(
                "unverified_primary",
                "the primary address is not verified; WorkOS will not link a social sign-in to it"
                    .into(),
            ));
        }
        flags
    }

    /// Reads every user, writes the notices and the two lists.
    pub async fn run(&self, sources: Sources<'_>) -> Result<MfaSummary, MfaReportError> {
        let template_text = match &self.template {
            Some(path) => std::fs::read_to_string(path).map_err(|e| MfaReportError::Template {
                path: path.clone(),
                message: e.to_string(),
            })?,
            None => BUILT_IN_NOTICE.to_owned(),
        };
        let mut handlebars = Handlebars::new();
        handlebars.set_strict_mode(true);
        handlebars.register_escape_fn(handlebars::no_escape);
        handlebars
            .register_template_string("notice", &template_text)
            .map_err(|e| MfaReportError::Template {
                path: self.template.clone().unwrap_or_else(|| "built-in".into()),
                message: e.to_string(),
            })?;

        let mut summary = MfaSummary {
            notices_dir: self.out_dir.clone(),
            notify_csv: self
                .report_dir
                .join(format!("{}-mfa-notify.csv", self.plan_name)),
            sign_in_csv: self
                .report_dir
                .join(format!("{}-sign-in-flags.csv", self.plan_name)),
            ..MfaSummary::default()
        };
        let write_error = |path: &Path| {
            let path = path.to_path_buf();
            move |e: csv::Error| MfaReportError::Write {
                path: path.clone(),
                source: e.into(),
            }
        };
        let mut notify = ferry_wire::inert::CsvWriter::new(private_file(&summary.notify_csv)?);
        notify
            .row(["clerk_id", "email", "first_name", "findings", "notice"])
            .map_err(write_error(&summary.notify_csv))?;
        let mut sign_in = ferry_wire::inert::CsvWriter::new(private_file(&summary.sign_in_csv)?);
        sign_in
            .row(["clerk_id", "email", "flag", "detail"])
            .map_err(write_error(&summary.sign_in_csv))?;

        let (tx, mut rx) = mpsc::channel::<Item>(256);
        let reader = read::read_users(sources, tx);
        let consumer = async {
            let mut read = 0u64;
            while let Some(item) = rx.recv().await {
                // The steps share one thread, and this loop rarely waits
                // (the users are read back from the run's own copy): it
                // lets the others in every few users, so memberships keeps
                // writing while the notices are made.
                read += 1;
                if read.is_multiple_of(YIELD_EVERY) {
                    tokio::task::yield_now().await;
                }
                let Item::User(user) = item else { continue };
                // Only users who exist in WorkOS can be told anything; the
                // others are on the users step's skipped list.
                if !self.migrated(Kind::User, &user.id) {
                    continue;
                }
                let (sso_flags, signs_in_with_sso) = self.sso_flags(&user);
                summary.sso_users += u64::from(signs_in_with_sso);
                for flag in self.sign_in_flags(&user).into_iter().chain(sso_flags) {
                    *summary
                        .sign_in_flags
                        .entry(flag.flag.to_owned())
                        .or_default() += 1;
                    sign_in
                        .row([
                            flag.clerk_id.as_str(),
                            flag.email.as_deref().unwrap_or(""),
                            flag.flag,
                            &flag.detail,
                        ])
                        .map_err(write_error(&summary.sign_in_csv))?;
                }
                let (findings, totp_migrated) = self.findings(&user);
                summary.totp_migrated += u64::from(totp_migrated);
                if findings.is_empty() {
                    continue;
                }
                for finding in &findings {
                    match finding {
                        MfaFinding::Sms => summary.sms += 1,
                        MfaFinding::TotpNotExported => summary.totp_not_exported += 1,
                        MfaFinding::TotpNotImported => summary.totp_not_imported += 1,
                        MfaFinding::BackupCodes => summary.backup_codes += 1,
                    }
                }
                summary.users_to_notify += 1;
                let email = user.primary().ok().map(|p| p.address);
                let data = serde_json::json!({
                    "clerk_id": user.id,
                    "email": email,
                    "first_name": user.first_name(),
                    "last_name": user.last_name(),
                    "plan": self.plan_name,
                    "findings": findings.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                    "actions": findings.iter().map(|f| f.action()).collect::<std::collections::BTreeSet<_>>(),
                });
                let text =
                    handlebars
                        .render("notice", &data)
                        .map_err(|e| MfaReportError::Template {
                            path: self.template.clone().unwrap_or_else(|| "built-in".into()),
                            message: e.to_string(),
                        })?;
                // The file is named after a hash of a hostile-safe form of
                // the id; the id itself stays inside the file and in the CSV.
                let notice = self
                    .out_dir
                    .join(format!("{}.txt", ferry_wire::files::safe_name(&user.id)));
                private_file(&notice)?
                    .write_all(text.as_bytes())
                    .map_err(|source| MfaReportError::Write {
                        path: notice.clone(),
                        source,
                    })?;
                let findings_text: Vec<_> = findings.iter().map(|f| f.as_str()).collect();
                notify
                    .row([
                        user.id.as_str(),
                        email.as_deref().unwrap_or(""),
                        user.first_name().unwrap_or(""),
                        &findings_text.join(";"),
                        &notice.display().to_string(),
                    ])
                    .map_err(write_error(&summary.notify_csv))?;
            }
            Ok::<(), MfaReportError>(())
        };
        let (read, consumed) = tokio::join!(reader, consumer);
        consumed?;
        read.map_err(StepError::from)?;
        notify.flush().map_err(|source| MfaReportError::Write {
            path: summary.notify_csv.clone(),
            source,
        })?;
        sign_in.flush().map_err(|source| MfaReportError::Write {
            path: summary.sign_in_csv.clone(),
            source,
        })?;
        Ok(summary)
    }
}
