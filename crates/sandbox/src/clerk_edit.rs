//! Changes to a running Clerk tenant, for rehearsing a cutover window
//! against a source that moves: users, organizations and memberships
//! created, updated and deleted as Clerk would (new ids, `updated_at`
//! moving forward, memberships and invitations going with their user or
//! organization, and every membership showing the current organization and
//! user), and invitations sent, revoked and accepted. Edits of a
//! [`Tenant`], each touching only what it changes; the admin routes apply
//! them to the served store in place.
//!
//! The request bodies follow Clerk's own create and update bodies where
//! the Backend API has them (`email_address: [..]`, `password_digest`,
//! `password_hasher`), with `id` and timestamps optional so a test can pin
//! them.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::clerk_invitations::status_at;
use super::export::ExportRow;
use super::ids::{BASE62, is_id_of};
use super::tenant::{Tenant, public_user_data, tenant_from_export};
use ferry_wire::clerk::invitation::{
    Invitation, OrganizationInvitation, PublicInviterData, PublicOrganizationData,
};
use ferry_wire::clerk::model::{Organization, OrganizationMembership, User};
use ferry_wire::secret::Secret;

/// Why an edit was refused: an unknown id (404) or a bad request (422).
#[derive(Debug, Clone, PartialEq)]
pub enum EditError {
    NotFound(String),
    Invalid(String),
}

type Edited<T> = Result<T, EditError>;

/// `POST /__sandbox/clerk/users`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub id: Option<String>,
    #[serde(default)]
    pub email_address: Vec<String>,
    #[serde(default)]
    pub phone_number: Vec<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub external_id: Option<String>,
    pub password_digest: Option<Secret>,
    pub password_hasher: Option<String>,
    pub totp_secret: Option<Secret>,
    pub public_metadata: Option<Map<String, Value>>,
    pub private_metadata: Option<Map<String, Value>>,
    pub created_at: Option<i64>,
}

/// `PATCH /__sandbox/clerk/users/{id}`: omitted fields stay.
/// `email_address` replaces the primary address (verified).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    pub email_address: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub external_id: Option<String>,
    pub public_metadata: Option<Map<String, Value>>,
    pub private_metadata: Option<Map<String, Value>>,
    pub banned: Option<bool>,
    pub locked: Option<bool>,
    pub last_sign_in_at: Option<i64>,
}

/// `POST /__sandbox/clerk/organizations`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub id: Option<String>,
    pub name: String,
    pub slug: Option<String>,
    pub created_by: Option<String>,
    pub public_metadata: Option<Map<String, Value>>,
    pub private_metadata: Option<Map<String, Value>>,
}

/// `PATCH /__sandbox/clerk/organizations/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationChange {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub public_metadata: Option<Map<String, Value>>,
    pub private_metadata: Option<Map<String, Value>>,
}

/// `POST /__sandbox/clerk/memberships`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMembership {
    pub id: Option<String>,
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
}

/// `PATCH /__sandbox/clerk/memberships/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipChange {
    pub role: String,
}

/// `POST /__sandbox/clerk/organization_invitations`: an invitation sent
/// now, as Clerk's create body has it (`inviter_id` for its
/// `inviter_user_id`), with `id` and `expires_at` optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganizationInvitation {
    pub id: Option<String>,
    pub email_address: String,
    pub organization_id: String,
    pub role: String,
    pub inviter_id: Option<String>,
    /// Unix ms; Clerk's default is 30 days from now. A past one makes an
    /// invitation that is served `expired`.
    pub expires_at: Option<i64>,
    pub public_metadata: Option<Map<String, Value>>,
    pub private_metadata: Option<Map<String, Value>>,
}

/// `POST /__sandbox/clerk/invitations`: an invitation to sign up, sent now.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub id: Option<String>,
    pub email_address: String,
    /// Unix ms; Clerk's default is 30 days from now.
    pub expires_at: Option<i64>,
    pub public_metadata: Option<Map<String, Value>>,
}

/// How long Clerk keeps an invitation open unless told otherwise.
const INVITATION_DAYS_MS: i64 = 30 * 24 * 3_600_000;

/// `prefix_2` and 26 random base-62 characters, as Clerk's ids look.
fn fresh_id(prefix: &str) -> String {
    let tail: String = (0..26)
        .map(|_| BASE62[rand::random_range(0..BASE62.len())] as char)
        .collect();
    format!("{prefix}_2{tail}")
}

/// Now in Clerk's milliseconds, and never at or before `after`.
fn moment_after(after: i64) -> i64 {
    chrono::Utc::now().timestamp_millis().max(after + 1)
}

fn check_id(id: &str, prefix: &str) -> Edited<()> {
    is_id_of(id, prefix).then_some(()).ok_or_else(|| {
        EditError::Invalid(format!("id must look like {prefix}_<letters and digits>"))
    })
}

fn check_address(address: &str) -> Edited<()> {
    let valid = address
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if valid && !address.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(EditError::Invalid("email_address is not an address".into()))
    }
}

/// What a new invitation is checked against in one already there.
struct Existing<'a> {
    id: &'a str,
    created_at: i64,
    status: &'a str,
    expires_at: Option<i64>,
    /// To the new one's address (and organization, for an organization's).
    same_invitee: bool,
}

/// Checks a new invitation's id is free and that no invitation to the
/// same invitee is pending (Clerk allows one at a time); returns the
/// newest `created_at`, which the new one must come after.
fn check_new_invitation<'a>(id: &str, existing: impl Iterator<Item = Existing<'a>>) -> Edited<i64> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut newest = 0;
    for invitation in existing {
        newest = newest.max(invitation.created_at);
        if invitation.id == id {
            return Err(EditError::Invalid(format!(
                "invitation {id} exists already"
            )));
        }
        if invitation.same_invitee
            && status_at(invitation.status, invitation.expires_at, now) == "pending"
        {
            return Err(EditError::Invalid(
                "this address has a pending invitation already".into(),
            ));
        }
    }
    Ok(newest)
}

/// Refuses an invitation that is not pending now, as Clerk refuses to
/// revoke (or let anyone accept) one that is not.
fn check_pending(status: &str, expires_at: Option<i64>, what: &str) -> Edited<()> {
    let now = chrono::Utc::now().timestamp_millis();
    match status_at(status, expires_at, now) {
        "pending" => Ok(()),
        other => Err(EditError::Invalid(format!(
            "only a pending invitation can be {what}; this one is {other}"
        ))),
    }
}

fn slug_of(name: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

impl Tenant {
    fn user_mut(&mut self, id: &str) -> Edited<&mut User> {
        self.users
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or_else(|| EditError::NotFound(format!("no user {id}")))
    }

    fn organization_mut(&mut self, id: &str) -> Edited<&mut Organization> {
        self.organizations
            .iter_mut()
            .find(|o| o.id == id)
            .ok_or_else(|| EditError::NotFound(format!("no organization {id}")))
    }

    fn membership_mut(&mut self, id: &str) -> Edited<&mut OrganizationMembership> {
        self.memberships
            .iter_mut()
            .find(|m| m.id == id)
            .ok_or_else(|| EditError::NotFound(format!("no membership {id}")))
    }

    /// The memberships of `user` show the user as it is now.
    fn refresh_memberships_of_user(&mut self, user: &User) {
        let shown = public_user_data(user);
        for membership in &mut self.memberships {
            if membership
                .public_user_data
                .as_ref()
                .is_some_and(|d| d.user_id == user.id)
            {
                membership.public_user_data = Some(shown.clone());
            }
        }
    }

    /// The memberships of `organization` show it as it is now.
    fn refresh_memberships_of_organization(&mut self, organization: &Organization) {
        for membership in &mut self.memberships {
            if membership.organization.id == organization.id {
                membership.organization = organization.clone();
            }
        }
    }

    /// A new user, and the export row holding its digest and TOTP secret.
    pub fn add_user(&mut self, request: NewUser) -> Edited<(User, ExportRow)> {
        let id = request.id.unwrap_or_else(|| fresh_id("user"));
        check_id(&id, "user")?;
        if self.users.iter().any(|u| u.id == id) {
            return Err(EditError::Invalid(format!("user {id} exists already")));
        }
        if request.email_address.is_empty()
            && request.phone_number.is_empty()
            && request.username.is_none()
        {
            return Err(EditError::Invalid(
                "a user needs an email_address, a phone_number or a username".into(),
            ));
        }
        let primary = request.email_address.first().cloned().unwrap_or_default();
        if request.password_digest.is_some() != request.password_hasher.is_some() {
            return Err(EditError::Invalid(
                "password_digest and password_hasher go together".into(),
            ));
        }
        let row = ExportRow {
            id: id.clone(),
            first_name: request.first_name.unwrap_or_default(),
            last_name: request.last_name.unwrap_or_default(),
            username: request.username.unwrap_or_default(),
            primary_email_address: primary,
            primary_phone_number: request.phone_number.first().cloned().unwrap_or_default(),
            verified_email_addresses: request.email_address.iter().skip(1).cloned().collect(),
            unverified_email_addresses: Vec::new(),
            verified_phone_numbers: request.phone_number.iter().skip(1).cloned().collect(),
            unverified_phone_numbers: Vec::new(),
            totp_secret: request.totp_secret,
            password_digest: request.password_digest,
            password_hasher: request.password_hasher,
        };
        let mut user = tenant_from_export(std::slice::from_ref(&row))
            .users
            .pop()
            .ok_or_else(|| EditError::Invalid("the user could not be built".into()))?;
        let newest = self.users.iter().map(|u| u.created_at).max().unwrap_or(0);
        let at = request.created_at.unwrap_or_else(|| moment_after(newest));
        user.created_at = at;
        user.updated_at = at;
        for email in &mut user.email_addresses {
            email.created_at = at;
            email.updated_at = at;
        }
        user.external_id = request.external_id;
        user.password_enabled = row.password_digest.is_some();
        user.totp_enabled = row.totp_secret.is_some();
        user.two_factor_enabled = user.totp_enabled;
        user.public_metadata = request.public_metadata.unwrap_or_default();
        user.private_metadata = Some(request.private_metadata.unwrap_or_default());
        self.users.push(user.clone());
        Ok((user, row))
    }

    pub fn change_user(&mut self, id: &str, change: UserChange) -> Edited<User> {
        let user = self.user_mut(id)?;
        if let Some(address) = change.email_address {
            if !address.contains('@') {
                return Err(EditError::Invalid("email_address is not an address".into()));
            }
            match user.primary_email_address_id.clone().and_then(|primary| {
                user.email_addresses
                    .iter_mut()
                    .find(|e| e.id.as_deref() == Some(&primary))
            }) {
                Some(email) => email.email_address = address,
                None => {
                    return Err(EditError::Invalid(
                        "this user has no primary email address to change".into(),
                    ));
                }
            }
        }
        if let Some(value) = change.username {
            user.username = Some(value);
        }
        if let Some(value) = change.first_name {
            user.first_name = Some(value);
        }
        if let Some(value) = change.last_name {
            user.last_name = Some(value);
        }
        if let Some(value) = change.external_id {
            user.external_id = Some(value);
        }
        if let Some(value) = change.public_metadata {
            user.public_metadata = value;
        }
        if let Some(value) = change.private_metadata {
            user.private_metadata = Some(value);
        }
        if let Some(value) = change.banned {
            user.banned = value;
        }
        if let Some(value) = change.locked {
            user.locked = value;
        }
        if let Some(value) = change.last_sign_in_at {
            user.last_sign_in_at = Some(value);
        }
        user.updated_at = moment_after(user.updated_at);
        let user = user.clone();
        self.refresh_memberships_of_user(&user);
        Ok(user)
    }

    /// Deletes a user and the user's memberships.
    pub fn remove_user(&mut self, id: &str) -> Edited<()> {
        self.user_mut(id)?;
        self.users.retain(|u| u.id != id);
        self.memberships.retain(|m| {
            m.public_user_data
                .as_ref()
                .is_none_or(|data| data.user_id != id)
        });
        Ok(())
    }

    pub fn add_organization(&mut self, request: NewOrganization) -> Edited<Organization> {
        let id = request.id.unwrap_or_else(|| fresh_id("org"));
        check_id(&id, "org")?;
        if request.name.trim().is_empty() {
            return Err(EditError::Invalid("name must not be empty".into()));
        }
        let slug = request.slug.unwrap_or_else(|| slug_of(&request.name));
        if self
            .organizations
            .iter()
            .any(|o| o.id == id || o.slug == slug)
        {
            return Err(EditError::Invalid(format!(
                "an organization with id {id} or slug {slug} exists already"
            )));
        }
        let newest = self
            .organizations
            .iter()
            .map(|o| o.created_at)
            .max()
            .unwrap_or(0);
        let at = moment_after(newest);
        let organization = Organization {
            object: "organization".into(),
            id,
            name: request.name,
            slug,
            image_url: None,
            has_image: false,
            members_count: None,
            max_allowed_memberships: 0,
            admin_delete_enabled: true,
            public_metadata: request.public_metadata.unwrap_or_default(),
            private_metadata: request.private_metadata.unwrap_or_default(),
            created_by: request.created_by,
            created_at: at,
            updated_at: at,
        };
        self.organizations.push(organization.clone());
        Ok(organization)
    }

    pub fn change_organization(
        &mut self,
        id: &str,
        change: OrganizationChange,
    ) -> Edited<Organization> {
        if let Some(slug) = &change.slug
            && self
                .organizations
                .iter()
                .any(|o| o.slug == *slug && o.id != id)
        {
            return Err(EditError::Invalid(format!("slug {slug} is taken")));
        }
        let organization = self.organization_mut(id)?;
        if let Some(name) = change.name {
            if name.trim().is_empty() {
                return Err(EditError::Invalid("name must not be empty".into()));
            }
            organization.name = name;
        }
        if let Some(slug) = change.slug {
            organization.slug = slug;
        }
        if let Some(value) = change.public_metadata {
            organization.public_metadata = value;
        }
        if let Some(value) = change.private_metadata {
            organization.private_metadata = value;
        }
        organization.updated_at = moment_after(organization.updated_at);
        let organization = organization.clone();
        self.refresh_memberships_of_organization(&organization);
        Ok(organization)
    }

    /// Deletes an organization, its memberships, domains and invitations.
    pub fn remove_organization(&mut self, id: &str) -> Edited<()> {
        self.organization_mut(id)?;
        self.organizations.retain(|o| o.id != id);
        self.memberships.retain(|m| m.organization.id != id);
        self.domains.retain(|d| d.organization_id != id);
        self.organization_invitations
            .retain(|i| i.organization() != Some(id));
        Ok(())
    }

    pub fn add_membership(&mut self, request: NewMembership) -> Edited<OrganizationMembership> {
        let id = request.id.unwrap_or_else(|| fresh_id("orgmem"));
        check_id(&id, "orgmem")?;
        let organization = self
            .organizations
            .iter()
            .find(|o| o.id == request.organization_id)
            .cloned()
            .ok_or_else(|| {
                EditError::NotFound(format!("no organization {}", request.organization_id))
            })?;
        let user = self
            .users
            .iter()
            .find(|u| u.id == request.user_id)
            .ok_or_else(|| EditError::NotFound(format!("no user {}", request.user_id)))?;
        let taken = self.memberships.iter().any(|m| {
            m.id == id
                || (m.organization.id == organization.id
                    && m.public_user_data
                        .as_ref()
                        .is_some_and(|d| d.user_id == user.id))
        });
        if taken {
            return Err(EditError::Invalid(
                "this user is a member of this organization already".into(),
            ));
        }
        if !request.role.starts_with("org:") {
            return Err(EditError::Invalid("role must start with org:".into()));
        }
        let newest = self
            .memberships
            .iter()
            .map(|m| m.created_at)
            .max()
            .unwrap_or(0);
        let at = moment_after(newest);
        let role = self.roles.iter().find(|r| r.key == request.role);
        let membership = OrganizationMembership {
            id,
            object: "organization_membership".into(),
            role_name: role.map(|r| r.name.clone()),
            permissions: role
                .map(|r| r.permissions.iter().map(|p| p.key.clone()).collect())
                .unwrap_or_default(),
            role: request.role,
            public_metadata: Map::new(),
            private_metadata: Map::new(),
            organization,
            public_user_data: Some(public_user_data(user)),
            created_at: at,
            updated_at: at,
        };
        self.memberships.push(membership.clone());
        Ok(membership)
    }

    pub fn change_membership(
        &mut self,
        id: &str,
        change: MembershipChange,
    ) -> Edited<OrganizationMembership> {
        if !change.role.starts_with("org:") {
            return Err(EditError::Invalid("role must start with org:".into()));
        }
        let role = self.roles.iter().find(|r| r.key == change.role).cloned();
        let membership = self.membership_mut(id)?;
        membership.role_name = role.as_ref().map(|r| r.name.clone());
        membership.permissions = role
            .map(|r| r.permissions.iter().map(|p| p.key.clone()).collect())
            .unwrap_or_default();
        membership.role = change.role;
        membership.updated_at = moment_after(membership.updated_at);
        Ok(membership.clone())
    }

    pub fn remove_membership(&mut self, id: &str) -> Edited<()> {
        self.membership_mut(id)?;
        self.memberships.retain(|m| m.id != id);
        Ok(())
    }

    /// An invitation to an organization, pending: one per address and
    /// organization at a time, as Clerk allows; the inviter, when named,
    /// must be a user of the tenant.
    pub fn add_organization_invitation(
        &mut self,
        request: NewOrganizationInvitation,
    ) -> Edited<OrganizationInvitation> {
        let id = request.id.unwrap_or_else(|| fresh_id("orginv"));
        check_id(&id, "orginv")?;
        check_address(&request.email_address)?;
        if !request.role.starts_with("org:") {
            return Err(EditError::Invalid("role must start with org:".into()));
        }
        let organization = self
            .organizations
            .iter()
            .find(|o| o.id == request.organization_id)
            .ok_or_else(|| {
                EditError::NotFound(format!("no organization {}", request.organization_id))
            })?;
        let inviter = match &request.inviter_id {
            Some(inviter_id) => Some(
                self.users
                    .iter()
                    .find(|u| &u.id == inviter_id)
                    .ok_or_else(|| EditError::NotFound(format!("no user {inviter_id}")))?,
            ),
            None => None,
        };
        let newest = check_new_invitation(
            &id,
            self.organization_invitations.iter().map(|i| Existing {
                id: &i.id,
                created_at: i.created_at,
                status: &i.status,
                expires_at: i.expires_at,
                same_invitee: i.organization() == Some(organization.id.as_str())
                    && i.email_address.eq_ignore_ascii_case(&request.email_address),
            }),
        )?;
        let at = moment_after(newest);
        let inviter_data = inviter.map(|user| {
            let data = public_user_data(user);
            PublicInviterData {
                user_id: data.user_id,
                first_name: data.first_name,
                last_name: data.last_name,
                identifier: data.identifier,
            }
        });
        let invitation = OrganizationInvitation {
            object: "organization_invitation".into(),
            id,
            email_address: request.email_address,
            role_name: self
                .roles
                .iter()
                .find(|r| r.key == request.role)
                .map(|r| r.name.clone()),
            role: request.role,
            organization_id: Some(organization.id.clone()),
            public_organization_data: Some(PublicOrganizationData {
                id: organization.id.clone(),
                name: Some(organization.name.clone()),
                slug: Some(organization.slug.clone()),
            }),
            inviter_id: request.inviter_id,
            public_inviter_data: inviter_data,
            status: "pending".into(),
            public_metadata: request.public_metadata.unwrap_or_default(),
            private_metadata: request.private_metadata.unwrap_or_default(),
            expires_at: Some(request.expires_at.unwrap_or(at + INVITATION_DAYS_MS)),
            created_at: at,
            updated_at: at,
        };
        self.organization_invitations.push(invitation.clone());
        Ok(invitation)
    }

    /// A pending organization invitation becomes `revoked` or `accepted`
    /// (accepting makes no membership: add one to rehearse that too).
    pub fn settle_organization_invitation(
        &mut self,
        id: &str,
        status: &str,
    ) -> Edited<OrganizationInvitation> {
        let invitation = self
            .organization_invitations
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| EditError::NotFound(format!("no organization invitation {id}")))?;
        check_pending(&invitation.status, invitation.expires_at, status)?;
        invitation.status = status.to_owned();
        invitation.updated_at = moment_after(invitation.updated_at);
        Ok(invitation.clone())
    }

    /// An invitation to sign up, pending: one per address at a time.
    pub fn add_invitation(&mut self, request: NewInvitation) -> Edited<Invitation> {
        let id = request.id.unwrap_or_else(|| fresh_id("inv"));
        check_id(&id, "inv")?;
        check_address(&request.email_address)?;
        let newest = check_new_invitation(
            &id,
            self.invitations.iter().map(|i| Existing {
                id: &i.id,
                created_at: i.created_at,
                status: &i.status,
                expires_at: i.expires_at,
                same_invitee: i.email_address.eq_ignore_ascii_case(&request.email_address),
            }),
        )?;
        let at = moment_after(newest);
        let invitation = Invitation {
            object: "invitation".into(),
            id,
            email_address: request.email_address,
            public_metadata: request.public_metadata.unwrap_or_default(),
            revoked: false,
            status: "pending".into(),
            expires_at: Some(request.expires_at.unwrap_or(at + INVITATION_DAYS_MS)),
            created_at: at,
            updated_at: at,
        };
        self.invitations.push(invitation.clone());
        Ok(invitation)
    }

    /// A pending invitation to sign up becomes `revoked`.
    pub fn revoke_invitation(&mut self, id: &str) -> Edited<Invitation> {
        let invitation = self
            .invitations
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| EditError::NotFound(format!("no invitation {id}")))?;
        check_pending(&invitation.status, invitation.expires_at, "revoked")?;
        invitation.status = "revoked".into();
        invitation.revoked = true;
        invitation.updated_at = moment_after(invitation.updated_at);
        Ok(invitation.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        let mut tenant = Tenant::default();
        tenant
            .add_user(NewUser {
                id: Some("user_2a".into()),
                email_address: vec!["a@example.com".into()],
                first_name: Some("Ada".into()),
                ..NewUser::default()
            })
            .unwrap();
        tenant
            .add_organization(NewOrganization {
                id: Some("org_2a".into()),
                name: "Acme Works".into(),
                ..NewOrganization::default()
            })
            .unwrap();
        tenant
            .add_membership(NewMembership {
                id: Some("orgmem_2a".into()),
                organization_id: "org_2a".into(),
                user_id: "user_2a".into(),
                role: "org:member".into(),
            })
            .unwrap();
        tenant
    }

    #[test]
    fn a_change_moves_updated_at_and_shows_in_memberships() {
        let mut tenant = tenant();
        let before = tenant.users[0].updated_at;
        let user = tenant
            .change_user(
                "user_2a",
                UserChange {
                    first_name: Some("Augusta".into()),
                    email_address: Some("augusta@example.com".into()),
                    ..UserChange::default()
                },
            )
            .unwrap();
        assert!(user.updated_at > before);
        assert_eq!(
            user.primary_email().unwrap().email_address,
            "augusta@example.com"
        );
        let data = tenant.memberships[0].public_user_data.as_ref().unwrap();
        assert_eq!(data.first_name.as_deref(), Some("Augusta"));
        tenant
            .change_organization(
                "org_2a",
                OrganizationChange {
                    name: Some("Acme Renamed".into()),
                    ..OrganizationChange::default()
                },
            )
            .unwrap();
        assert_eq!(tenant.memberships[0].organization.name, "Acme Renamed");
        assert_eq!(tenant.organizations[0].slug, "acme-works", "the slug stays");
    }

    #[test]
    fn deleting_takes_the_memberships_along_and_unknown_ids_are_404() {
        let mut tenant = tenant();
        tenant.remove_user("user_2a").unwrap();
        assert!(tenant.memberships.is_empty());
        assert!(matches!(
            tenant.remove_user("user_2a"),
            Err(EditError::NotFound(_))
        ));
        let mut tenant = self::tenant();
        tenant.remove_organization("org_2a").unwrap();
        assert!(tenant.memberships.is_empty());
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        let mut tenant = tenant();
        let twice = tenant.add_membership(NewMembership {
            organization_id: "org_2a".into(),
            user_id: "user_2a".into(),
            role: "org:admin".into(),
            ..NewMembership::default()
        });
        assert!(matches!(twice, Err(EditError::Invalid(_))));
        let hostile = tenant.add_user(NewUser {
            id: Some("user_../../etc".into()),
            email_address: vec!["x@example.com".into()],
            ..NewUser::default()
        });
        assert!(matches!(hostile, Err(EditError::Invalid(_))));
        let nobody = tenant.add_user(NewUser::default());
        assert!(matches!(nobody, Err(EditError::Invalid(_))));
    }
}
