//! The Clerk tenant the Clerk imitation serves, held in memory and indexed
//! for the queries the Backend API answers: users in creation order with
//! lookups by id and email, organizations, memberships and organization
//! invitations by organization. ferry only ever reads from Clerk; the admin
//! routes change the tenant in place ([`ClerkStore::edit`]) and the
//! indexes are rebuilt at the first read after a change, so a run of edits
//! on a million-user tenant costs one rebuild, not one per edit.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::OnceLock;

use super::export::ExportRow;
use super::tenant::Tenant;
use ferry_wire::clerk::invitation::{Invitation, OrganizationInvitation};
use ferry_wire::clerk::model::{
    Organization, OrganizationDomain, OrganizationMembership, Permission, Role, User,
};
use ferry_wire::clerk::sso::{EnterpriseConnection, SamlConnection, ScimDirectory};
use ferry_wire::secret::Secret;

#[derive(Clone)]
pub struct ClerkStore {
    /// Every list sorted by `(created_at, id)`, invitations each with its
    /// `organization_id` set.
    tenant: Tenant,
    /// Built at the first read after a change.
    indexes: OnceLock<Indexes>,
    /// User id → what Clerk keeps but never returns, for the users that
    /// have any.
    credentials: HashMap<String, Credentials>,
}

/// A user's secrets as Clerk keeps them but never returns (what the
/// `verify_*` routes check): the digest with its hasher, and the TOTP
/// secret. Only these are kept of an export row: at a million users the
/// rest of the rows is half a gigabyte the sandbox has no use for.
#[derive(Clone)]
pub struct Credentials {
    /// The digest and the Clerk hasher that made it.
    pub password: Option<(Secret, Box<str>)>,
    pub totp_secret: Option<Secret>,
}

impl Credentials {
    /// The row's user id and secrets; `None` for a row with neither.
    fn of(row: ExportRow) -> Option<(String, Self)> {
        let password = row
            .password_digest
            .zip(row.password_hasher)
            .map(|(digest, hasher)| (digest, hasher.into_boxed_str()));
        if password.is_none() && row.totp_secret.is_none() {
            return None;
        }
        let credentials = Self {
            password,
            totp_secret: row.totp_secret,
        };
        Some((row.id, credentials))
    }
}

/// Positions in the tenant's lists.
#[derive(Clone, Default)]
struct Indexes {
    /// Users by id.
    user_index: HashedPositions,
    /// Users by each lower-cased address they hold.
    email_index: HashedPositions,
    organization_index: HashMap<String, usize>,
    memberships_by_organization: HashMap<String, Vec<usize>>,
    organization_invitations_by_organization: HashMap<String, Vec<usize>>,
}

/// Puts `tenant` in the order and shape the store serves: every list by
/// `(created_at, id)` (cheap when only a few were appended), each
/// invitation with its `organization_id`, and roles and permissions
/// derived from the memberships when the tenant names none.
fn normalize(tenant: &mut Tenant) {
    // Checked before sorting, and sorted in place when not: an edit
    // appends the newest record, and a stable sort of a million users
    // would borrow a buffer of half of them each time. Ids make the keys
    // unique, so an unstable sort gives the same order (only a malformed
    // tenant, with one id twice, could see those two swap).
    fn by_creation<T>(list: &mut [T], key: impl Fn(&T) -> (i64, &str)) {
        if !list.is_sorted_by(|a, b| key(a) <= key(b)) {
            list.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        }
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

/// Gives back what a loaded tenant's lists hold spare: a list read from
/// JSON or built by pushing keeps room for more (a user's one email in
/// room for four), a gigabyte at a million users. Done once, at load: the
/// edits that follow touch a few records, and shrinking the outer lists
/// then would copy them whole at each new user.
fn fit(tenant: &mut Tenant) {
    tenant.users.shrink_to_fit();
    for user in &mut tenant.users {
        user.email_addresses.shrink_to_fit();
        for email in &mut user.email_addresses {
            email.linked_to.shrink_to_fit();
        }
        user.phone_numbers.shrink_to_fit();
        user.web3_wallets.shrink_to_fit();
        user.passkeys.shrink_to_fit();
        user.external_accounts.shrink_to_fit();
        user.saml_accounts.shrink_to_fit();
        user.enterprise_accounts.shrink_to_fit();
    }
    tenant.memberships.shrink_to_fit();
    for membership in &mut tenant.memberships {
        membership.permissions.shrink_to_fit();
    }
}

/// Positions by a 64-bit hash of their key, sorted by hash and position: a
/// lookup is a binary search whose candidates the caller checks against
/// the record itself (two keys may share a hash). A million users' ids
/// and addresses take 16 bytes each this way, where a map took a copy of
/// each string besides (a few hundred megabytes, rebuilt after each run
/// of edits).
#[derive(Clone, Default)]
struct HashedPositions(Vec<(u64, usize)>);

impl HashedPositions {
    fn of(keys: impl Iterator<Item = (u64, usize)>) -> Self {
        let mut positions: Vec<(u64, usize)> = keys.collect();
        positions.sort_unstable();
        Self(positions)
    }

    /// The positions whose key hashes as `key` does, in order.
    fn candidates(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        let hash = key_hash(key);
        let start = self.0.partition_point(|&(h, _)| h < hash);
        self.0[start..]
            .iter()
            .take_while(move |&&(h, _)| h == hash)
            .map(|&(_, position)| position)
    }
}

fn key_hash(key: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
}

impl Indexes {
    fn of(tenant: &Tenant) -> Self {
        let positions = |ids: &mut dyn Iterator<Item = &String>| -> HashMap<String, usize> {
            ids.enumerate()
                .map(|(index, id)| (id.clone(), index))
                .collect()
        };
        let email_index =
            HashedPositions::of(tenant.users.iter().enumerate().flat_map(|(index, user)| {
                user.email_addresses
                    .iter()
                    .map(move |email| (key_hash(&email.email_address.to_lowercase()), index))
            }));
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
            user_index: HashedPositions::of(
                tenant
                    .users
                    .iter()
                    .enumerate()
                    .map(|(index, user)| (key_hash(&user.id), index)),
            ),
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
        fit(&mut tenant);
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
        self.credentials.extend(added.and_then(Credentials::of));
        Ok(value)
    }

    /// A store for `tenant` that keeps this one's credentials, plus `added`.
    pub fn succeeded_by(&self, tenant: Tenant, added: Option<ExportRow>) -> Self {
        let mut store = Self::new(tenant);
        store.credentials = self.credentials.clone();
        store.credentials.extend(added.and_then(Credentials::of));
        store
    }

    /// Adds the export's digests and TOTP secrets (for `verify_password` and `verify_totp`).
    pub fn with_credentials(mut self, rows: Vec<ExportRow>) -> Self {
        self.credentials = rows.into_iter().filter_map(Credentials::of).collect();
        self
    }

    pub fn credentials(&self, user_id: &str) -> Option<&Credentials> {
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
        self.user_position(id)
            .map(|index| &self.tenant.users[index])
    }

    /// Position of a user in creation order.
    pub fn user_position(&self, id: &str) -> Option<usize> {
        self.indexes()
            .user_index
            .candidates(id)
            .find(|&index| self.tenant.users[index].id == id)
    }

    /// Positions (creation order) of the users holding any of `emails`.
    pub fn user_positions_by_email(&self, emails: &[String]) -> Vec<usize> {
        let holds = |index: usize, address: &str| {
            self.tenant.users[index]
                .email_addresses
                .iter()
                .any(|email| email.email_address.to_lowercase() == address)
        };
        let mut positions: Vec<usize> = emails
            .iter()
            .map(|email| email.to_lowercase())
            .flat_map(|address| {
                self.indexes()
                    .email_index
                    .candidates(&address)
                    .filter(|&index| holds(index, &address))
                    .collect::<Vec<_>>()
            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clerk_edit::NewUser;

    fn store() -> ClerkStore {
        let mut tenant = Tenant::default();
        for (id, emails) in [
            ("user_2b", vec!["Bea@Example.com"]),
            ("user_2a", vec!["ada@example.com", "ADA@example.com"]),
            ("user_2c", vec!["bea@example.com", "cy@example.com"]),
        ] {
            tenant
                .add_user(NewUser {
                    id: Some(id.into()),
                    email_address: emails.into_iter().map(str::to_owned).collect(),
                    ..NewUser::default()
                })
                .unwrap();
        }
        ClerkStore::new(tenant)
    }

    #[test]
    fn users_are_found_by_id_and_by_any_spelling_of_an_address() {
        let store = store();
        let ids: Vec<&str> = store.users().iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["user_2b", "user_2a", "user_2c"]);
        assert_eq!(store.user_position("user_2c"), Some(2));
        assert_eq!(
            store.user("user_2a").map(|u| u.id.as_str()),
            Some("user_2a")
        );
        assert_eq!(store.user_position("user_2d"), None);
        let by_email = |emails: &[&str]| {
            store.user_positions_by_email(
                &emails.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(by_email(&["BEA@example.COM"]), [0, 2]);
        assert_eq!(by_email(&["ada@example.com", "cy@example.com"]), [1, 2]);
        assert_eq!(by_email(&["nobody@example.com"]), Vec::<usize>::new());
    }

    #[test]
    fn keys_that_share_a_hash_are_all_candidates_in_order() {
        let hash = key_hash("user_2a");
        let positions = HashedPositions::of([(hash, 7), (hash ^ 1, 3), (hash, 2)].into_iter());
        assert_eq!(positions.candidates("user_2a").collect::<Vec<_>>(), [2, 7]);
        assert_eq!(positions.candidates("user_2z").count(), 0);
    }
}
