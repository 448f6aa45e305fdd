//! What the MFA report found: who must re-enroll a factor and who may sign
//! in differently (made by [`crate::steps::mfa_report`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Why a user must act after cutover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaFinding {
    Sms,
    TotpNotExported,
    TotpNotImported,
    BackupCodes,
}

impl MfaFinding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::TotpNotExported => "totp_not_exported",
            Self::TotpNotImported => "totp_not_imported",
            Self::BackupCodes => "backup_codes",
        }
    }

    /// What the user is told.
    pub fn action(self) -> &'static str {
        match self {
            Self::Sms => {
                "Codes by text message (SMS) are no longer offered: set up an authenticator app instead."
            }
            Self::TotpNotExported | Self::TotpNotImported => {
                "Your authenticator app must be set up again: scan the new QR code."
            }
            Self::BackupCodes => {
                "Your old backup codes no longer work: create new ones after you sign in."
            }
        }
    }
}

/// Why a social user may not sign in as before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignInFlag {
    pub clerk_id: String,
    pub email: Option<String>,
    pub flag: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MfaSummary {
    pub sms: u64,
    pub totp_not_exported: u64,
    pub totp_not_imported: u64,
    pub totp_migrated: u64,
    pub backup_codes: u64,
    /// Users with at least one finding: each got a notice.
    pub users_to_notify: u64,
    pub sign_in_flags: BTreeMap<String, u64>,
    /// Users who sign in through enterprise SSO (those WorkOS would not
    /// link are among the sign-in flags).
    #[serde(default)]
    pub sso_users: u64,
    pub notices_dir: PathBuf,
    pub notify_csv: PathBuf,
    pub sign_in_csv: PathBuf,
}
