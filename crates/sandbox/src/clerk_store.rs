//! The Clerk tenant the Clerk imitation serves, held read-only in memory and
//! indexed for the queries the Backend API answers: users in creation order
//! with lookups by id and email, organizations, memberships and
//! organization invitations by organization. ferry only ever reads from
//! Clerk; the admin routes that change the tenant build a new store and swap
//! it in whole.

use std::collections::HashMap;

use super::export::ExportRow;
use super::tenant::Tenant;
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};
use ferry_wire::clerk::model::{
    Organization, OrganizationDomain, OrganizationMembership, Permission, Role, User,
};
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection, ScimDirectory};

pub struct ClerkStore {
    /// Sorted by `(created_at, id)`.
    users: Vec<User>,
    user_index: HashMap<String, usize>,
    /// Lower-cased address → users holding it.
    email_index: HashMap<String, Vec<usize>>,
    /// Sorted by `(created_at, id)`.
    organizations: Vec<Organization>,
    organization_index: HashMap<String, usize>,
    /// Sorted by `(created_at, id)`.
    memberships: Vec<OrganizationMembership>,
    memberships_by_organization: HashMap<String, Vec<usize>>,
    roles: Vec<Role>,
    permissions: Vec<Permission>,
    domains: Vec<OrganizationDomain>,
    enterprise_connections: Vec<EnterpriseConnection>,
    saml_connections: Vec<SamlConnection>,
    scim_directories: Vec<ScimDirectory>,
    /// Sorted by `(created_at, id)`, each with its `organization_id` set.
    organization_invitations: Vec<OrganizationInvitation>,
    organization_invitations_by_organization: HashMap<String, Vec<usize>>,
    /// Sorted by `(created_at, id)`.
    invitations: Vec<Invitation>,
    /// User id → what Clerk keeps but never returns: the digest and hasher,
    /// and the TOTP secret.
    credentials: HashMap<String, ExportRow>,
}

impl ClerkStore {
    pub fn new(tenant: Tenant) -> Self {
        let Tenant {
            mut users,
            mut organizations,
            mut memberships,
            roles,
            permissions,
            domains,
            mut enterprise_connections,
            saml_connections,
            mut scim_directories,
            mut organization_invitations,
            mut invitations,
        } = tenant;
        enterprise_connections.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        scim_directories.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        organization_invitations.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        invitations.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        // An older answer names the organization only inside
        // `public_organization_data`; the spec requires `organization_id`.
        for invitation in &mut organization_invitations {
            if invitation.organization_id.is_none() {
                invitation.organization_id = invitation.organization().map(str::to_owned);
            }
        }
        let roles = if roles.is_empty() {
            roles_of(&memberships)
        } else {
            roles
        };
        let permissions = if permissions.is_empty() {
            let mut all: Vec<Permission> =
                roles.iter().flat_map(|r| r.permissions.clone()).collect();
            all.sort_by(|a, b| a.key.cmp(&b.key));
            all.dedup_by(|a, b| a.key == b.key);
            all
        } else {
            permissions
        };
        users.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        organizations.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        memberships.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));

        let user_index = users
            .iter()
            .enumerate()
            .map(|(index, user)| (user.id.clone(), index))
            .collect();
        let mut email_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, user) in users.iter().enumerate() {
            for email in &user.email_addresses {
                email_index
                    .entry(email.email_address.to_lowercase())
                    .or_default()
                    .push(index);
            }
        }
        let organization_index = organizations
            .iter()
            .enumerate()
            .map(|(index, organization)| (organization.id.clone(), index))
            .collect();
        let mut memberships_by_organization: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, membership) in memberships.iter().enumerate() {
            memberships_by_organization
                .entry(membership.organization.id.clone())
                .or_default()
                .push(index);
        }
        let mut organization_invitations_by_organization: HashMap<String, Vec<usize>> =
            HashMap::new();
        for (index, invitation) in organization_invitations.iter().enumerate() {
            if let Some(organization) = invitation.organization() {
                organization_invitations_by_organization
                    .entry(organization.to_owned())
                    .or_default()
                    .push(index);
            }
        }
        Self {
            users,
            user_index,
            email_index,
            organizations,
            organization_index,
            memberships,
            memberships_by_organization,
            roles,
            permissions,
            domains,
            enterprise_connections,
            saml_connections,
            scim_directories,
            organization_invitations,
            organization_invitations_by_organization,
            invitations,
            credentials: HashMap::new(),
        }
    }

    /// The tenant as it stands, in the `--tenant` shapes.
    pub fn to_tenant(&self) -> Tenant {
        Tenant {
            users: self.users.clone(),
            organizations: self.organizations.clone(),
            memberships: self.memberships.clone(),
            roles: self.roles.clone(),
            permissions: self.permissions.clone(),
            domains: self.domains.clone(),
            enterprise_connections: self.enterprise_connections.clone(),
            saml_connections: self.saml_connections.clone(),
            scim_directories: self.scim_directories.clone(),
            organization_invitations: self.organization_invitations.clone(),
            invitations: self.invitations.clone(),
        }
    }

    /// A store for `tenant` that keeps this one's credentials, plus `added`.
    pub fn succeeded_by(&self, tenant: Tenant, added: Option<ExportRow>) -> Self {
        let mut store = Self::new(tenant);
        store.credentials = self.credentials.clone();
        if let Some(row) = added {
            store.credentials.insert(row.id.clone(), row);
        }
        store
    }

    /// Adds the export's digests and TOTP secrets (for `verify_password` and `verify_totp`).
    pub fn with_credentials(mut self, rows: Vec<ExportRow>) -> Self {
        self.credentials = rows.into_iter().map(|row| (row.id.clone(), row)).collect();
        self
    }

    pub fn credentials(&self, user_id: &str) -> Option<&ExportRow> {
        self.credentials.get(user_id)
    }

    /// The organization roles, in the order they were defined.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// Every organization domain, in the order they were defined.
    pub fn domains(&self) -> &[OrganizationDomain] {
        &self.domains
    }

    /// Every enterprise connection, oldest first.
    pub fn enterprise_connections(&self) -> &[EnterpriseConnection] {
        &self.enterprise_connections
    }

    /// A legacy SAML connection, by its id.
    pub fn saml_connection(&self, id: &str) -> Option<&SamlConnection> {
        self.saml_connections.iter().find(|c| c.id == id)
    }

    /// Every SCIM directory, oldest first.
    pub fn scim_directories(&self) -> &[ScimDirectory] {
        &self.scim_directories
    }

    /// Every organization invitation, oldest first.
    pub fn organization_invitations(&self) -> &[OrganizationInvitation] {
        &self.organization_invitations
    }

    /// The invitations to one organization, oldest first.
    pub fn organization_invitations_of(
        &self,
        organization_id: &str,
    ) -> Vec<&OrganizationInvitation> {
        self.organization_invitations_by_organization
            .get(organization_id)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&index| &self.organization_invitations[index])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every application invitation, oldest first.
    pub fn invitations(&self) -> &[Invitation] {
        &self.invitations
    }

    /// Every user, oldest first.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.user_index.get(id).map(|&index| &self.users[index])
    }

    /// Position of a user in creation order.
    pub fn user_position(&self, id: &str) -> Option<usize> {
        self.user_index.get(id).copied()
    }

    /// Positions (creation order) of the users holding any of `emails`.
    pub fn user_positions_by_email(&self, emails: &[String]) -> Vec<usize> {
        let mut positions: Vec<usize> = emails
            .iter()
            .filter_map(|email| self.email_index.get(&email.to_lowercase()))
            .flatten()
            .copied()
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
    }

    /// Every organization, oldest first.
    pub fn organizations(&self) -> &[Organization] {
        &self.organizations
    }

    pub fn organization(&self, id_or_slug: &str) -> Option<&Organization> {
        self.organization_index
            .get(id_or_slug)
            .map(|&index| &self.organizations[index])
            .or_else(|| {
                self.organizations
                    .iter()
                    .find(|organization| organization.slug == id_or_slug)
            })
    }

    /// Every membership, oldest first.
    pub fn memberships(&self) -> &[OrganizationMembership] {
        &self.memberships
    }

    /// The memberships of one organization, oldest first.
    pub fn memberships_of(&self, organization_id: &str) -> Vec<&OrganizationMembership> {
        self.memberships_by_organization
            .get(organization_id)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&index| &self.memberships[index])
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The roles a tenant's memberships use, for a tenant that names none:
/// each key once, with the name and permissions its first membership shows.
fn roles_of(memberships: &[OrganizationMembership]) -> Vec<Role> {
    let mut roles: Vec<Role> = Vec::new();
    for membership in memberships {
        if roles.iter().any(|r| r.key == membership.role) {
            continue;
        }
        let key = membership.role.clone();
        let permissions = membership
            .permissions
            .iter()
            .map(|permission| Permission {
                object: "permission".into(),
                id: format!("perm_{permission}"),
                name: permission.clone(),
                key: permission.clone(),
                description: String::new(),
                kind: if permission.starts_with("org:sys_") {
                    "system"
                } else {
                    "user"
                }
                .into(),
                created_at: membership.created_at,
                updated_at: membership.created_at,
            })
            .collect();
        roles.push(Role {
            object: "role".into(),
            id: format!("role_{key}"),
            name: membership.role_name.clone().unwrap_or_else(|| key.clone()),
            key,
            description: None,
            is_creator_eligible: membership.role == "org:admin",
            permissions,
            created_at: membership.created_at,
            updated_at: membership.created_at,
        });
    }
    roles
}
