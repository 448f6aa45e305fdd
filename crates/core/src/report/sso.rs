//! The report's Enterprise SSO section: what became of Clerk's enterprise
//! connections and what each customer's IT admin is handed. The SSO users
//! WorkOS would not link are sign-in flags of the MFA report.

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
}
