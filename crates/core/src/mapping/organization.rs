//! A Clerk organization to a WorkOS organization: the built-in mapping
//! (name; external_id = the Clerk id; public metadata flattened, with the
//! slug kept as `clerk_slug`; domains from the plan's `domains:` map for
//! that organization, else Clerk's own domains: `verified` when Clerk's DNS
//! ownership proof succeeded, otherwise `pending`; an affiliation verified
//! only by an email code does not prove ownership), then the
//! `map_organization` hook.

use crate::support::reason::{Reason, ReasonCode};
use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::metadata;
use crate::plan::DomainState;
use crate::plan::OrganizationSettings;
use crate::script::{Hook, HookAnswer, Script};
use ferry_wire::clerk::model::{Metadata, Organization, OrganizationDomain};

/// A Clerk organization as the `map_organization` hook sees it: Clerk's
/// own fields. A script test's `input:` is read into it, so a field the
/// test leaves out takes its empty value and an unknown one is a typo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OrgView {
    /// `organization`.
    pub object: String,
    /// Clerk's id (`org_…`); the WorkOS `external_id` unless a hook changes it.
    pub id: String,
    pub name: String,
    /// Kept as the `clerk_slug` metadata key.
    pub slug: String,
    pub image_url: Option<String>,
    pub has_image: bool,
    pub members_count: Option<u64>,
    pub max_allowed_memberships: u64,
    pub admin_delete_enabled: bool,
    pub public_metadata: Metadata,
    pub private_metadata: Metadata,
    pub created_by: Option<String>,
    /// Milliseconds since 1970.
    pub created_at: i64,
    pub updated_at: i64,
}

impl OrgView {
    /// Every field of Clerk's organization, listed so that a field added
    /// to the model must be added here too.
    pub fn of(org: &Organization) -> Self {
        let Organization {
            object,
            id,
            name,
            slug,
            image_url,
            has_image,
            members_count,
            max_allowed_memberships,
            admin_delete_enabled,
            public_metadata,
            private_metadata,
            created_by,
            created_at,
            updated_at,
        } = org.clone();
        Self {
            object,
            id,
            name,
            slug,
            image_url,
            has_image,
            members_count,
            max_allowed_memberships,
            admin_delete_enabled,
            public_metadata,
            private_metadata,
            created_by,
            created_at,
            updated_at,
        }
    }

    /// The organization this view shows (what a script test maps). Every
    /// field of the view is one of Clerk's, so the conversion cannot fail.
    pub fn organization(&self) -> Organization {
        serde_json::from_value(self.to_json()).expect("every view field is an organization's")
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// What ferry writes for an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OrgPayload {
    pub name: String,
    pub external_id: String,
    pub metadata: BTreeMap<String, String>,
    pub domains: Vec<String>,
    /// Those of `domains` to send as `pending` (the rest are `verified`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub pending: BTreeSet<String>,
}

impl OrgPayload {
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(json.as_bytes()))
    }
}

#[derive(Debug, Clone)]
pub enum MappedOrg {
    Ready(OrgPayload),
    Skip(Reason),
    Reject(Reason),
}

pub fn map_organization(
    org: &Organization,
    clerk_domains: &[OrganizationDomain],
    settings: &OrganizationSettings,
    script: Option<&Script>,
    ctx: &Value,
) -> MappedOrg {
    let flat = metadata::flatten([&org.public_metadata]);
    let mut values = flat.values;
    if !org.slug.is_empty() && values.len() < metadata::MAX_KEYS {
        values
            .entry("clerk_slug".into())
            .or_insert_with(|| org.slug.clone());
    }
    // Domains the plan names take the plan's `domain_state` (default verified).
    let plan_pending = settings.domain_state == DomainState::Pending;
    let (domains, pending) = match settings
        .domains
        .get(&org.id)
        .or_else(|| settings.domains.get(&org.slug))
    {
        Some(named) => {
            let pending = named.iter().filter(|_| plan_pending).cloned().collect();
            (named.clone(), pending)
        }
        None => (
            clerk_domains.iter().map(|d| d.name.clone()).collect(),
            clerk_domains
                .iter()
                .filter(|d| !d.ownership_verified())
                .map(|d| d.name.clone())
                .collect(),
        ),
    };
    let mut payload = OrgPayload {
        name: org.name.clone(),
        external_id: org.id.clone(),
        metadata: values,
        domains,
        pending,
    };
    if let Some(script) = script.filter(|s| s.defines(Hook::MapOrganization)) {
        let view = OrgView::of(org).to_json();
        match script.call(Hook::MapOrganization, &org.id, &[&view, ctx]) {
            Ok(HookAnswer::Skip(reason)) => {
                return MappedOrg::Skip(Hook::MapOrganization.skipped(reason));
            }
            Ok(HookAnswer::Value(Value::Object(changes))) => {
                if let Err(reason) = apply(&mut payload, &changes, &view) {
                    return MappedOrg::Reject(reason);
                }
            }
            Ok(HookAnswer::Value(other)) => {
                return MappedOrg::Reject(Reason::new(
                    ReasonCode::HookInvalidResult,
                    format!("map_organization must return a map or (), it returned {other}"),
                ));
            }
            Err(error) => return MappedOrg::Reject(error.reason()),
        }
    }
    if payload.name.trim().is_empty() {
        return MappedOrg::Reject(Reason::new(
            ReasonCode::NameInvalid,
            "the organization has no name",
        ));
    }
    // A domain the hook added takes the plan's state; one it removed is no longer pending.
    if plan_pending {
        payload.pending.extend(payload.domains.iter().cloned());
    }
    let listed: BTreeSet<String> = payload.domains.iter().cloned().collect();
    payload.pending.retain(|d| listed.contains(d));
    if let Err(reason) = super::rules::check_external_id(&payload.external_id)
        .and(metadata::check(&payload.metadata))
    {
        return MappedOrg::Reject(reason);
    }
    MappedOrg::Ready(payload)
}

fn apply(
    payload: &mut OrgPayload,
    changes: &serde_json::Map<String, Value>,
    view: &Value,
) -> Result<(), Reason> {
    let invalid = |detail: String| Reason::new(ReasonCode::HookInvalidResult, detail);
    for (key, value) in changes {
        match (key.as_str(), value) {
            ("name", Value::String(name)) => payload.name = name.clone(),
            ("external_id", Value::String(id)) => payload.external_id = id.clone(),
            ("metadata", Value::Object(map)) => {
                payload.metadata = metadata::from_hook(map)?;
            }
            ("domains", Value::Array(items)) => {
                payload.domains = items
                    .iter()
                    .map(|d| {
                        d.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| invalid("domains must be strings".to_owned()))
                    })
                    .collect::<Result<_, _>>()?;
            }
            ("name" | "external_id" | "metadata" | "domains", other) => {
                return Err(invalid(format!(
                    "map_organization returned `{key}` of the wrong type: {other}"
                )));
            }
            (other, _) if view.get(other).is_some() => {}
            (other, _) => {
                return Err(invalid(format!(
                    "map_organization returned unknown field `{other}` (fields: name, external_id, metadata, domains)"
                )));
            }
        }
    }
    Ok(())
}
