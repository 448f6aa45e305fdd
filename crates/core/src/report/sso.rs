//! The report's Enterprise SSO section: what became of Clerk's enterprise
//! connections, what each customer's IT admin is handed, and the SSO users
//! with whether WorkOS would link their sign-in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SsoSummary {
    /// Enterprise connections Clerk has (active or not).
    pub connections: u64,
    /// Of them, in WorkOS after this run (created now or before).
    pub in_workos: u64,
    /// Not created, by reason code.
    pub not_created: BTreeMap<String, u64>,
    /// SCIM directories, each handed off (WorkOS cannot create one by API).
    pub directories: u64,
    /// Handoff rows, by reason code.
    pub handoff: BTreeMap<String, u64>,
    pub handoff_csv: String,
    /// Users who sign in through an enterprise connection.
    pub sso_users: u64,
    /// SSO users by flag (`sso_user` links; the others would not).
    pub sso_flags: BTreeMap<String, u64>,
    pub sso_users_csv: String,
    /// Set when the users came from an export only: it says nothing of SSO accounts.
    pub users_unknown: bool,
}
