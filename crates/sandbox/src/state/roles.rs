//! Roles and permissions, as WorkOS keeps them: environment roles (`admin`
//! and `member` exist in every environment), organization roles, and
//! permissions that roles grant. A membership may name only a role that
//! exists for its organization: WorkOS answers 422 `invalid_role`
//! otherwise, which is what a rehearsal must show before production does.

use super::pagination::{ListQuery, cursor_page, map_page};
use super::{Failure, Outcome, WorkosState, now};
use ferry_wire::workos::model::{CreatePermission, CreateRole, List, Permission, Role, RoleList};

/// The roles every environment starts with.
const DEFAULT_ROLES: [(&str, &str); 2] = [("admin", "Admin"), ("member", "Member")];

/// Slugs: lowercase letters, digits, `-`, `_`, `:`, `.` and `*`, at most 48.
fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 48
        && slug.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | ':' | '.' | '*')
        })
}

impl WorkosState {
    /// `admin` and `member`, made the first time roles are asked about.
    fn seed_roles(&mut self) {
        if self.roles.seeded {
            return;
        }
        self.roles.seeded = true;
        for (slug, name) in DEFAULT_ROLES {
            let role = self.new_role(slug, name, None, "EnvironmentRole");
            self.roles.environment.insert(slug.to_owned(), role);
        }
    }

    fn new_role(
        &mut self,
        slug: &str,
        name: &str,
        description: Option<String>,
        kind: &str,
    ) -> Role {
        let timestamp = now();
        Role {
            object: "role".into(),
            id: self.next_id("role"),
            slug: slug.to_owned(),
            name: name.to_owned(),
            description,
            kind: kind.to_owned(),
            resource_type_slug: "organization".into(),
            permissions: Some(Vec::new()),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        }
    }

    /// A new role from a create request: its body checked, its slug free.
    fn make_role(&mut self, request: CreateRole, taken: bool, kind: &str) -> Outcome<Role> {
        Self::check_role_body(&request.slug, &request.name)?;
        if taken {
            return Err(Failure::Conflict {
                code: "role_slug_conflict",
                message: format!("A role with slug '{}' already exists.", request.slug),
            });
        }
        Ok(self.new_role(&request.slug, &request.name, request.description, kind))
    }

    fn check_role_body(slug: &str, name: &str) -> Outcome<()> {
        if !valid_slug(slug) {
            return Err(Failure::BadRequest {
                code: "bad_request",
                message: format!(
                    "Role slug '{slug}' must be at most 48 lowercase letters, digits, '-', '_', ':', '.' or '*'."
                ),
            });
        }
        if name.trim().is_empty() || name.len() > 48 {
            return Err(Failure::BadRequest {
                code: "bad_request",
                message: "Role name must be 1 to 48 characters.".into(),
            });
        }
        Ok(())
    }

    pub fn list_roles(&mut self) -> RoleList {
        self.seed_roles();
        RoleList {
            object: "list".into(),
            data: self.roles.environment.values().cloned().collect(),
            list_metadata: None,
        }
    }

    pub fn create_role(&mut self, request: CreateRole) -> Outcome<Role> {
        self.seed_roles();
        let taken = self.roles.environment.contains_key(&request.slug);
        let role = self.make_role(request.clone(), taken, "EnvironmentRole")?;
        self.roles
            .environment
            .insert(request.slug.clone(), role.clone());
        Ok(role)
    }

    pub fn role(&mut self, slug: &str) -> Outcome<Role> {
        self.seed_roles();
        self.roles
            .environment
            .get(slug)
            .cloned()
            .ok_or_else(|| role_not_found(slug))
    }

    /// `PATCH /authorization/roles/{slug}`: name and description.
    pub fn update_role(
        &mut self,
        slug: &str,
        name: Option<String>,
        description: Option<Option<String>>,
    ) -> Outcome<Role> {
        self.seed_roles();
        let role = self
            .roles
            .environment
            .get_mut(slug)
            .ok_or_else(|| role_not_found(slug))?;
        if let Some(name) = name {
            role.name = name;
        }
        if let Some(description) = description {
            role.description = description;
        }
        role.updated_at = now();
        Ok(role.clone())
    }

    /// `PUT /authorization/roles/{slug}/permissions`: the whole set, each one existing.
    pub fn set_role_permissions(&mut self, slug: &str, permissions: Vec<String>) -> Outcome<Role> {
        self.seed_roles();
        if let Some(unknown) = permissions
            .iter()
            .find(|p| !self.roles.permissions.contains_key(*p))
        {
            return Err(Failure::NotFound(format!(
                "Permission not found: '{unknown}'."
            )));
        }
        let role = self
            .roles
            .environment
            .get_mut(slug)
            .ok_or_else(|| role_not_found(slug))?;
        let mut permissions = permissions;
        permissions.sort();
        permissions.dedup();
        role.permissions = Some(permissions);
        role.updated_at = now();
        Ok(role.clone())
    }

    /// Environment roles and the organization's own.
    pub fn organization_roles(&mut self, organization_id: &str) -> Outcome<RoleList> {
        self.seed_roles();
        self.organization(organization_id)?;
        let mut data: Vec<Role> = self.roles.environment.values().cloned().collect();
        data.extend(
            self.roles
                .organization
                .get(organization_id)
                .into_iter()
                .flat_map(|roles| roles.values().cloned()),
        );
        Ok(RoleList {
            object: "list".into(),
            data,
            list_metadata: None,
        })
    }

    pub fn create_organization_role(
        &mut self,
        organization_id: &str,
        request: CreateRole,
    ) -> Outcome<Role> {
        self.seed_roles();
        self.organization(organization_id)?;
        // The spec: an organization role's slug begins with `org-` and holds
        // lowercase letters, digits, `-` and `_`.
        let shaped = request.slug.starts_with("org-")
            && request
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
        if !shaped {
            return Err(Failure::BadRequest {
                code: "bad_request",
                message: format!(
                    "Organization role slug '{}' must begin with 'org-' and contain only lowercase letters, numbers, hyphens and underscores.",
                    request.slug
                ),
            });
        }
        let taken = self
            .roles
            .organization
            .get(organization_id)
            .is_some_and(|r| r.contains_key(&request.slug));
        if taken {
            return Err(Failure::Conflict {
                code: "organization_role_slug_conflict",
                message: format!("A role with slug '{}' already exists.", request.slug),
            });
        }
        let role = self.make_role(request.clone(), false, "OrganizationRole")?;
        self.roles
            .organization
            .entry(organization_id.to_owned())
            .or_default()
            .insert(request.slug.clone(), role.clone());
        Ok(role)
    }

    /// Refuses a role the organization cannot give (422 `invalid_role`;
    /// an invitation's spec answers the same refusal with 400).
    pub(super) fn check_membership_role(
        &mut self,
        organization_id: &str,
        slug: &str,
    ) -> Outcome<()> {
        self.seed_roles();
        let known = self.roles.environment.contains_key(slug)
            || self
                .roles
                .organization
                .get(organization_id)
                .is_some_and(|r| r.contains_key(slug));
        if known {
            Ok(())
        } else {
            Err(Failure::Unprocessable {
                code: "invalid_role",
                message: format!("Role '{slug}' is not a valid role."),
            })
        }
    }

    pub fn create_permission(&mut self, request: CreatePermission) -> Outcome<Permission> {
        if !valid_slug(&request.slug) {
            return Err(Failure::BadRequest {
                code: "bad_request",
                message: format!(
                    "Permission slug '{}' must be at most 48 lowercase letters, digits, '-', '_', ':', '.' or '*'.",
                    request.slug
                ),
            });
        }
        if self.roles.permissions.contains_key(&request.slug) {
            return Err(Failure::Conflict {
                code: "permission_slug_conflict",
                message: format!("A permission with slug '{}' already exists.", request.slug),
            });
        }
        let timestamp = now();
        let permission = Permission {
            object: "permission".into(),
            id: self.next_id("perm"),
            slug: request.slug.clone(),
            name: request.name,
            description: request.description,
            system: false,
            resource_type_slug: "organization".into(),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.roles
            .permissions
            .insert(request.slug, permission.clone());
        Ok(permission)
    }

    pub fn list_permissions(&self, query: &ListQuery) -> List<Permission> {
        // Cursors compare ids: page in id (creation) order, not slug order.
        let mut items: Vec<(&str, &Permission)> = self
            .roles
            .permissions
            .values()
            .map(|p| (p.id.as_str(), p))
            .collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        map_page(cursor_page(items, query), Permission::clone)
    }

    pub(super) fn all_permissions(&self) -> Vec<Permission> {
        self.roles.permissions.values().cloned().collect()
    }

    /// Every role, for the admin dump.
    pub(super) fn all_roles(&self) -> Vec<Role> {
        let mut roles: Vec<Role> = self.roles.environment.values().cloned().collect();
        roles.extend(
            self.roles
                .organization
                .values()
                .flat_map(|r| r.values().cloned()),
        );
        roles
    }
}

fn role_not_found(slug: &str) -> Failure {
    Failure::NotFound(format!("Role not found: '{slug}'."))
}
