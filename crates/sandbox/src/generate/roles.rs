//! The tenant's role and permission definitions, and its organizations'
//! domains. Fixed rather than drawn from the generator's random stream, so
//! adding them changed no user or membership of an existing seed.
//!
//! Roles: Clerk's `org:admin` and `org:member` with system permissions,
//! the two custom roles memberships use (`org:billing_manager`,
//! `org:viewer`) with permissions of the instance's own, and one custom
//! role no membership uses (`org:auditor`). Domains: every third
//! organization has a verified domain (every sixth a second, unverified
//! one), the next has an unverified one, the third none.

use ferry_wire::clerk::model::{
    DomainVerification, Organization, OrganizationDomain, Permission, Role,
};

use super::planted::EPOCH_MS;

/// `(key, name, system?)`.
const PERMISSIONS: &[(&str, &str, bool)] = &[
    ("org:sys_memberships:manage", "Manage members", true),
    ("org:sys_memberships:read", "Read members", true),
    ("org:sys_profile:manage", "Manage organization", true),
    ("org:sys_domains:manage", "Manage domains", true),
    ("org:invoices:read", "Read invoices", false),
    ("org:invoices:manage", "Manage invoices", false),
    ("org:reports:read", "Read reports", false),
    ("org:reports:export", "Export reports", false),
];

/// `(key, name, description, permission keys)`.
const ROLES: &[(&str, &str, Option<&str>, &[&str])] = &[
    (
        "org:admin",
        "Admin",
        Some("Manages the organization"),
        &[
            "org:sys_memberships:manage",
            "org:sys_memberships:read",
            "org:sys_profile:manage",
            "org:sys_domains:manage",
        ],
    ),
    ("org:member", "Member", None, &["org:sys_memberships:read"]),
    (
        "org:billing_manager",
        "Billing manager",
        Some("Pays the bills"),
        &[
            "org:sys_memberships:read",
            "org:invoices:read",
            "org:invoices:manage",
        ],
    ),
    (
        "org:viewer",
        "Viewer",
        Some("Reads reports"),
        &["org:reports:read"],
    ),
    (
        "org:auditor",
        "Auditor",
        Some("Audits; no member has this role"),
        &["org:reports:read", "org:reports:export"],
    ),
];

fn permission(index: usize, (key, name, system): (&str, &str, bool)) -> Permission {
    Permission {
        object: "permission".into(),
        id: format!("perm_2{index:026}"),
        name: name.to_owned(),
        key: key.to_owned(),
        description: format!("{name} in the organization"),
        kind: if system { "system" } else { "user" }.to_owned(),
        created_at: EPOCH_MS,
        updated_at: EPOCH_MS,
    }
}

/// The role and permission definitions.
pub(super) fn generate_roles() -> (Vec<Role>, Vec<Permission>) {
    let permissions: Vec<Permission> = PERMISSIONS
        .iter()
        .enumerate()
        .map(|(index, p)| permission(index, *p))
        .collect();
    let roles = ROLES
        .iter()
        .enumerate()
        .map(|(index, (key, name, description, keys))| Role {
            object: "role".into(),
            id: format!("role_2{index:026}"),
            name: (*name).to_owned(),
            key: (*key).to_owned(),
            description: description.map(str::to_owned),
            is_creator_eligible: *key == "org:admin",
            permissions: permissions
                .iter()
                .filter(|p| keys.contains(&p.key.as_str()))
                .cloned()
                .collect(),
            created_at: EPOCH_MS,
            updated_at: EPOCH_MS,
        })
        .collect();
    (roles, permissions)
}

fn domain(
    organization: &Organization,
    index: usize,
    name: String,
    verified: bool,
) -> OrganizationDomain {
    let verification = DomainVerification {
        status: if verified { "verified" } else { "unverified" }.to_owned(),
        strategy: "email_code".into(),
        attempts: Some(if verified { 1 } else { 0 }),
        expire_at: None,
        verified_at: verified.then_some(organization.created_at + 60_000),
    };
    OrganizationDomain {
        object: "organization_domain".into(),
        id: format!("orgdmn_2{index:025}"),
        organization_id: organization.id.clone(),
        name,
        enrollment_mode: if verified {
            "automatic_invitation"
        } else {
            "manual_invitation"
        }
        .to_owned(),
        affiliation_email_address: None,
        affiliation_verification: Some(verification.clone()),
        ownership_verification: verified.then_some(verification.clone()),
        verification: Some(verification),
        total_pending_invitations: 0,
        total_pending_suggestions: 0,
        created_at: organization.created_at,
        updated_at: organization.created_at,
    }
}

/// Domains in several states (see the module's opening).
pub(super) fn generate_domains(organizations: &[Organization]) -> Vec<OrganizationDomain> {
    let mut domains = Vec::new();
    for (index, organization) in organizations.iter().enumerate() {
        let base = format!("{}.example", organization.slug);
        match index % 3 {
            0 => {
                domains.push(domain(organization, domains.len(), base.clone(), true));
                if index % 6 == 0 {
                    let name = format!("eu.{base}");
                    domains.push(domain(organization, domains.len(), name, false));
                }
            }
            1 => domains.push(domain(organization, domains.len(), base, false)),
            _ => {}
        }
    }
    domains
}
