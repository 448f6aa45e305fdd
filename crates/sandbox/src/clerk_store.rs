//! The Clerk tenant the Clerk imitation serves, held in memory and indexed
//! for the queries the Backend API answers: users in creation order with
//! lookups by id and email, organizations, memberships and organization
//! invitations by organization. ferry only ever reads from Clerk; the admin
//! routes change the tenant in place ([`ClerkStore::edit`]) and the
//! indexes are rebuilt at the first read after a change, so a run of edits
//! on a million-user tenant costs one rebuild, not one per edit.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::export::ExportRow;
use super::tenant::Tenant;
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};
use ferry_wire::clerk::model::{
    Organization, OrganizationDomain, OrganizationMembership, Permission, Role, User,
};
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection, ScimDirectory};

#[derive(Clone)]
pub struct ClerkStore {
    /// Every list sorted by `(created_at, id)`, invitations each with its
    /// `organization_id` set.
    tenant: Tenant,
    /// Built at the first read after a change.
    indexes: OnceLock<Indexes>,
    /// User id → what Clerk keeps but never returns: the digest and hasher,
    /// and the TOTP secret.
    credentials: HashMap<String, ExportRow>,
}

/// Positions in the tenant's lists.
#[derive(Clone, Default)]
struct Indexes {
    user_index: HashMap<String, usize>,
    /// Lower-cased address → users holding it.
    email_index: HashMap<String, Vec<usize>>,
    organization_index: HashMap<String, usize>,
    memberships_by_organization: HashMap<String, Vec<usize>>,
    organization_invitations_by_organization: HashMap<String, Vec<usize>>,
}

/// Puts `tenant` in the order and shape the store serves: every list by
/// `(created_at, id)` (cheap when only a few were appended), each
/// invitation with its `organization_id`, and roles and permissions
/// derived from the memberships when the tenant names none.
fn normalize(tenant: &mut Tenant) {
    fn by_creation<T>(list: &mut [T], key: impl Fn(&T) -> (i64, &str)) {
        list.sort_by(|a, b| key(a).cmp(&key(b)));
    }
    by_creation(&mut tenant.users, |u| (u.created_at, &u.id));
    by_creation(&mut tenant.organizations, |o| (o.created_at, &o.id));
    by_creation(&mut tenant.memberships, |m| (m.created_at, &m.id));
    by_creation(&mut tenant.enterprise_connections, |c| {
        (c.created_at, &c.id)
    });
    by_creation(&mut tenant.scim_directories, |d| (d.created_at, &d.id));
    by_creation(&mut tenant.organization_invitations, |i| {
        (i.created_at, &i.id)
    });
    by_creation(&mut tenant.invitations, |i| (i.created_at, &i.id));
    // An older answer names the organization only inside
    // `public_organization_data`; the spec requires `organization_id`.
    for invitation in &mut tenant.organization_invitations {
        if invitation.organization_id.is_none() {
            invitation.organization_id = invitation.organization().map(str::to_owned);
        }
    }
    if tenant.roles.is_empty() {
        tenant.roles = roles_of(&tenant.memberships);
    }
    if tenant.permissions.is_empty() {
        let mut all: Vec<Permission> = tenant
            .roles
            .iter()
            .flat_map(|r| r.permissions.clone())
            .collect();
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all.dedup_by(|a, b| a.key == b.key);
        tenant.permissions = all;
    }
}

impl Indexes {
    fn of(tenant: &Tenant) -> Self {
        let positions = |ids: &mut dyn Iterator<Item = &String>| -> HashMap<String, usize> {
            ids.enumerate()
                .map(|(index, id)| (id.clone(), index))
                .collect()
        };
        let mut email_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, user) in tenant.users.iter().enumerate() {
            for email in &user.email_addresses {
                email_index
                    .entry(email.email_address.to_lowercase())
                    .or_default()
                    .push(index);
            }
        }
        let mut memberships_by_organization: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, membership) in tenant.memberships.iter().enumerate() {
            memberships_by_organization
                .entry(membership.organization.id.clone())
                .or_default()
                .push(index);
        }
        let mut organization_invitations_by_organization: HashMap<String, Vec<usize>> =
            HashMap::new();
        for (index, invitation) in tenant.organization_invitations.iter().enumerate() {
            if let Some(organization) = invitation.organization() {
                organization_invitations_by_organization
                    .entry(organization.to_owned())
                    .or_default()
                    .push(index);
            }
        }
        Self {
            user_index: positions(&mut tenant.users.iter().map(|u| &u.id)),
            email_index,
            organization_index: positions(&mut tenant.organizations.iter().map(|o| &o.id)),
            memberships_by_organization,
            organization_invitations_by_organization,
        }
    }
}

impl ClerkStore {
    pub fn new(mut tenant: Tenant) -> Self {
        normalize(&mut tenant);
        Self {
            tenant,
            indexes: OnceLock::new(),
            credentials: HashMap::new(),
        }
    }

    fn indexes(&self) -> &Indexes {
        self.indexes.get_or_init(|| Indexes::of(&self.tenant))
    }

    /// The tenant as it stands, in the `--tenant` shapes.
    pub fn to_tenant(&self) -> Tenant {
        self.tenant.clone()
    }

    /// Changes the tenant in place (no copy of it) and keeps `added`'s
    /// credentials when the edit gives a row; the indexes are rebuilt at
    /// the next read. An edit that fails must have changed nothing (the
    /// edits check before they change).
    pub fn edit<T, E>(
        &mut self,
        edit: impl FnOnce(&mut Tenant) -> Result<(T, Option<ExportRow>), E>,
    ) -> Result<T, E> {
        let edited = edit(&mut self.tenant);
        normalize(&mut self.tenant);
        self.indexes = OnceLock::new();
        let (value, added) = edited?;
        if let Some(row) = added {
            self.credentials.insert(row.id.clone(), row);
        }
        Ok(value)
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
        &self.tenant.roles
    }

    pub fn permissions(&self) -> &[Permission] {
        &self.tenant.permissions
    }

    /// Every organization domain, in the order they were defined.
    pub fn domains(&self) -> &[OrganizationDomain] {
        &self.tenant.domains
    }

    /// Every enterprise connection, oldest first.
    pub fn enterprise_connections(&self) -> &[EnterpriseConnection] {
        &self.tenant.enterprise_connections
    }

    /// A legacy SAML connection, by its id.
    pub fn saml_connection(&self, id: &str) -> Option<&SamlConnection> {
        self.tenant.saml_connections.iter().find(|c| c.id == id)
    }

    /// Every SCIM directory, oldest first.
    pub fn scim_directories(&self) -> &[ScimDirectory] {
        &self.tenant.scim_directories
    }

    /// Every organization invitation, oldest first.
    pub fn organization_invitations(&self) -> &[OrganizationInvitation] {
        &self.tenant.organization_invitations
    }

    /// The invitations to one organization, oldest first.
    pub fn organization_invitations_of(
        &self,
        organization_id: &str,
    ) -> Vec<&OrganizationInvitation> {
        self.indexes()
            .organization_invitations_by_organization
            .get(organization_id)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&index| &self.tenant.organization_invitations[index])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every application invitation, oldest first.
    pub fn invitations(&self) -> &[Invitation] {
        &self.tenant.invitations
    }

    /// Every user, oldest first.
    pub fn users(&self) -> &[User] {
        &self.tenant.users
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.indexes()
            .user_index
            .get(id)
            .map(|&index| &self.tenant.users[index])
    }

    /// Position of a user in creation order.
    pub fn user_position(&self, id: &str) -> Option<usize> {
        self.indexes().user_index.get(id).copied()
    }

    /// Positions (creation order) of the users holding any of `emails`.
    pub fn user_positions_by_email(&self, emails: &[String]) -> Vec<usize> {
        let mut positions: Vec<usize> = emails
            .iter()
            .filter_map(|email| self.indexes().email_index.get(&email.to_lowercase()))
            .flatten()
            .copied()
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
    }

    /// Every organization, oldest first.
    pub fn organizations(&self) -> &[Organization] {
        &self.tenant.organizations
    }

    pub fn organization(&self, id_or_slug: &str) -> Option<&Organization> {
        self.indexes()
            .organization_index
            .get(id_or_slug)
            .map(|&index| &self.tenant.organizations[index])
            .or_else(|| {
                self.tenant
                    .organizations
                    .iter()
                    .find(|organization| organization.slug == id_or_slug)
            })
    }

    /// Every membership, oldest first.
    pub fn memberships(&self) -> &[OrganizationMembership] {
        &self.tenant.memberships
    }

    /// The memberships of one organization, oldest first.
    pub fn memberships_of(&self, organization_id: &str) -> Vec<&OrganizationMembership> {
        self.indexes()
            .memberships_by_organization
            .get(organization_id)
            .map(|indexes| {
                indexes
                    .iter()
                    .map(|&index| &self.tenant.memberships[index])
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
