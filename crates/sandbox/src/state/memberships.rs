//! Organization memberships: one per user and organization (409 otherwise),
//! indexed by user and by organization so that lookups stay cheap at
//! 100,000 memberships. Stored bare; the embedded `user` and the
//! `organization_name` are filled in when read, so they are always current.

use std::collections::BTreeMap;

use super::pagination::{ListQuery, cursor_page, map_page};
use super::{Failure, Outcome, WorkosState, now};
use ferry_wire::workos::model::{
    CreateOrganizationMembership, List, OrganizationMembership, SlimRole,
};

impl WorkosState {
    pub fn create_membership(
        &mut self,
        request: CreateOrganizationMembership,
    ) -> Outcome<OrganizationMembership> {
        let user = self.user(&request.user_id)?;
        let organization = self.organization(&request.organization_id)?;
        let already = self
            .memberships_by_user
            .get(&user.id)
            .into_iter()
            .flatten()
            .any(|id| {
                self.memberships
                    .get(id)
                    .is_some_and(|m| m.organization_id == organization.id)
            });
        if already {
            return Err(Failure::Conflict {
                code: "organization_membership_already_exists",
                message: format!(
                    "User '{}' is already a member of organization '{}'.",
                    user.id, organization.id
                ),
            });
        }
        let slug = match (request.role_slug, request.role_slugs) {
            (Some(_), Some(_)) => {
                return Err(Failure::InvalidRequest(
                    "Give either role_slug or role_slugs, not both.".into(),
                ));
            }
            (_, Some(slugs)) if slugs.len() > 1 => {
                return Err(Failure::Unprocessable {
                    code: "multiple_roles_not_enabled",
                    message: "Multiple roles are not enabled for this environment.".into(),
                });
            }
            (Some(slug), None) => slug,
            (None, Some(slugs)) => slugs.into_iter().next().unwrap_or_else(|| "member".into()),
            (None, None) => "member".into(),
        };
        self.check_membership_role(&organization.id, &slug)?;
        let role = SlimRole { slug };
        let id = self.next_id("om");
        let timestamp = now();
        let membership = OrganizationMembership {
            object: "organization_membership".into(),
            id: id.clone(),
            user_id: user.id.clone(),
            organization_id: organization.id.clone(),
            organization_name: None,
            status: "active".into(),
            directory_managed: false,
            role: role.clone(),
            roles: vec![role],
            custom_attributes: BTreeMap::new(),
            user: None,
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.memberships_by_user
            .entry(user.id)
            .or_default()
            .insert(id.clone());
        self.memberships_by_organization
            .entry(organization.id)
            .or_default()
            .insert(id.clone());
        let rendered = self.render_membership(&membership);
        self.events.record(
            "organization_membership.created",
            &membership,
            Some(&membership.organization_id),
        );
        self.memberships.insert(id, Box::new(membership));
        Ok(rendered)
    }

    /// `PUT …/organization_memberships/{id}`: a new role.
    pub fn update_membership(
        &mut self,
        id: &str,
        role_slug: Option<String>,
    ) -> Outcome<OrganizationMembership> {
        let organization_id = self
            .memberships
            .get(id)
            .ok_or_else(|| membership_not_found(id))?
            .organization_id
            .clone();
        if let Some(slug) = &role_slug {
            self.check_membership_role(&organization_id, slug)?;
        }
        let membership = self
            .memberships
            .get_mut(id)
            .ok_or_else(|| membership_not_found(id))?;
        if let Some(slug) = role_slug {
            membership.role = SlimRole { slug };
            membership.roles = vec![membership.role.clone()];
            membership.updated_at = now();
        }
        let membership = membership.clone();
        self.events.record(
            "organization_membership.updated",
            &membership,
            Some(&membership.organization_id),
        );
        Ok(self.render_membership(&membership))
    }

    /// `PUT …/{id}/deactivate` and `…/reactivate`: `active` ⇄ `inactive`;
    /// a pending membership can do neither (400, the spec's codes).
    pub fn set_membership_active(
        &mut self,
        id: &str,
        active: bool,
    ) -> Outcome<OrganizationMembership> {
        let membership = self
            .memberships
            .get_mut(id)
            .ok_or_else(|| membership_not_found(id))?;
        if membership.status == "pending" {
            return Err(Failure::BadRequest {
                code: if active {
                    "cannot_reactivate_pending_organization_membership"
                } else {
                    "cannot_deactivate_pending_organization_membership"
                },
                message: "A pending organization membership cannot be changed this way.".into(),
            });
        }
        membership.status = if active { "active" } else { "inactive" }.into();
        membership.updated_at = now();
        let membership = membership.clone();
        self.events.record(
            "organization_membership.updated",
            &membership,
            Some(&membership.organization_id),
        );
        Ok(self.render_membership(&membership))
    }

    pub fn membership(&self, id: &str) -> Outcome<OrganizationMembership> {
        self.memberships
            .get(id)
            .map(|m| self.render_membership(m))
            .ok_or_else(|| membership_not_found(id))
    }

    pub fn list_memberships(
        &self,
        query: &ListQuery,
        user_id: Option<&str>,
        organization_id: Option<&str>,
        statuses: &[String],
    ) -> List<OrganizationMembership> {
        // Start from the smaller index; the other filters check each candidate.
        let candidates = match (user_id, organization_id) {
            (Some(user_id), _) => self.memberships_by_user.get(user_id),
            (None, Some(organization_id)) => self.memberships_by_organization.get(organization_id),
            (None, None) => None,
        };
        let memberships = candidates
            .into_iter()
            .flatten()
            .filter_map(|id| self.memberships.get(id))
            .filter(|m| {
                organization_id.is_none_or(|id| m.organization_id == id)
                    && (statuses.is_empty() || statuses.contains(&m.status))
            })
            .map(|m| (m.id.as_str(), m));
        // Render only the page: an organization may have 50,000 members.
        map_page(cursor_page(memberships.collect(), query), |m| {
            self.render_membership(m)
        })
    }

    pub fn delete_membership(&mut self, id: &str) -> Outcome<()> {
        self.remove_membership(id)
            .map(|_| ())
            .ok_or_else(|| membership_not_found(id))
    }

    /// Ids of the users in an organization.
    pub(super) fn member_ids(&self, organization_id: &str) -> Vec<String> {
        self.memberships_by_organization
            .get(organization_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.memberships.get(id))
            .map(|m| m.user_id.clone())
            .collect()
    }

    /// Removes every membership of a user or of an organization.
    pub(super) fn remove_memberships_of(
        &mut self,
        user_id: Option<&str>,
        organization_id: Option<&str>,
    ) {
        let mut ids: Vec<String> = Vec::new();
        if let Some(user_id) = user_id {
            ids.extend(
                self.memberships_by_user
                    .get(user_id)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        if let Some(organization_id) = organization_id {
            ids.extend(
                self.memberships_by_organization
                    .get(organization_id)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        for id in ids {
            self.remove_membership(&id);
        }
    }

    fn remove_membership(&mut self, id: &str) -> Option<OrganizationMembership> {
        let membership = self.memberships.remove(id)?;
        if let Some(ids) = self.memberships_by_user.get_mut(&membership.user_id) {
            ids.remove(id);
        }
        if let Some(ids) = self
            .memberships_by_organization
            .get_mut(&membership.organization_id)
        {
            ids.remove(id);
        }
        self.events.record(
            "organization_membership.deleted",
            &membership,
            Some(&membership.organization_id),
        );
        Some(*membership)
    }

    /// The membership as the API shows it: with its user and organization name.
    pub(super) fn render_membership(
        &self,
        stored: &OrganizationMembership,
    ) -> OrganizationMembership {
        let mut membership = stored.clone();
        membership.user = self.users.get(&stored.user_id).map(|s| s.user.clone());
        membership.organization_name = self
            .organizations
            .get(&stored.organization_id)
            .map(|o| o.name.clone());
        membership
    }

    /// `(organization id, name)` of a user's active memberships.
    pub fn active_organizations_of(&self, user_id: &str) -> Vec<(String, String)> {
        self.memberships_by_user
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.memberships.get(id))
            .filter(|m| m.status == "active")
            .map(|m| {
                let name = self
                    .organizations
                    .get(&m.organization_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                (m.organization_id.clone(), name)
            })
            .collect()
    }
}

fn membership_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("Organization membership not found: '{id}'."))
}
