//! Organizations: create with domains, read by id or external_id, list with
//! search, update, delete (memberships, connections and invitations go with
//! them).

use super::pagination::{ListQuery, cursor_page, map_page};
use super::rules::{apply_metadata, organization_not_found, validate_external_id};
use super::{Failure, Outcome, WorkosState, now};
use ferry_wire::workos::model::{
    CreateOrganization, DomainData, List, Metadata, Organization, OrganizationDomain,
    UpdateOrganization,
};

impl WorkosState {
    pub fn create_organization(&mut self, request: CreateOrganization) -> Outcome<Organization> {
        if request.name.trim().is_empty() {
            return Err(Failure::InvalidRequest("name must not be empty".into()));
        }
        if let Some(external_id) = &request.external_id {
            validate_external_id(external_id)?;
            if self.organizations_by_external_id.contains_key(external_id) {
                return Err(Failure::BadRequest {
                    code: "external_id_already_used",
                    message: format!(
                        "An organization with external_id '{external_id}' already exists."
                    ),
                });
            }
        }
        let metadata = apply_metadata(Metadata::new(), request.metadata)?;
        let id = self.next_id("org");
        let timestamp = now();
        let domains = self.domains(&id, request.domain_data.unwrap_or_default(), &timestamp);
        let organization = Organization {
            object: "organization".into(),
            id: id.clone(),
            name: request.name,
            domains,
            metadata,
            external_id: request.external_id.clone(),
            allow_profiles_outside_organization: false,
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        if let Some(external_id) = request.external_id {
            self.organizations_by_external_id
                .insert(external_id, id.clone());
        }
        self.organizations.insert(id.clone(), organization.clone());
        self.events
            .record("organization.created", &organization, Some(&id));
        Ok(organization)
    }

    fn domains(
        &mut self,
        organization_id: &str,
        data: Vec<DomainData>,
        timestamp: &str,
    ) -> Vec<OrganizationDomain> {
        data.into_iter()
            .map(|domain| OrganizationDomain {
                object: "organization_domain".into(),
                id: self.next_id("org_domain"),
                organization_id: organization_id.to_owned(),
                domain: domain.domain,
                state: Some(domain.state),
                verification_strategy: Some("manual".into()),
                created_at: timestamp.to_owned(),
                updated_at: timestamp.to_owned(),
            })
            .collect()
    }

    pub fn organization(&self, id: &str) -> Outcome<Organization> {
        self.organizations
            .get(id)
            .cloned()
            .ok_or_else(|| organization_not_found(id))
    }

    pub fn organization_by_external_id(&self, external_id: &str) -> Outcome<Organization> {
        self.organizations_by_external_id
            .get(external_id)
            .and_then(|id| self.organizations.get(id))
            .cloned()
            .ok_or_else(|| organization_not_found(external_id))
    }

    pub fn list_organizations(
        &self,
        query: &ListQuery,
        search: Option<&str>,
        domains: &[String],
    ) -> List<Organization> {
        let search = search.map(str::to_lowercase);
        let organizations = self.organizations.values().filter(|organization| {
            search
                .as_ref()
                .is_none_or(|s| organization.name.to_lowercase().contains(s))
                && (domains.is_empty()
                    || organization
                        .domains
                        .iter()
                        .any(|d| domains.contains(&d.domain)))
        });
        let page = cursor_page(organizations.map(|o| (o.id.as_str(), o)).collect(), query);
        map_page(page, Organization::clone)
    }

    pub fn update_organization(
        &mut self,
        id: &str,
        request: UpdateOrganization,
    ) -> Outcome<Organization> {
        let Some(mut organization) = self.organizations.get(id).cloned() else {
            return Err(organization_not_found(id));
        };
        if let Some(external_id) = &request.external_id {
            validate_external_id(external_id)?;
            let owner = self.organizations_by_external_id.get(external_id);
            if owner.is_some_and(|owner| owner != id) {
                return Err(Failure::BadRequest {
                    code: "external_id_already_used",
                    message: format!(
                        "An organization with external_id '{external_id}' already exists."
                    ),
                });
            }
        }
        organization.metadata = apply_metadata(organization.metadata, request.metadata)?;
        if let Some(name) = request.name {
            organization.name = name;
        }
        if let Some(external_id) = request.external_id {
            if let Some(old) = &organization.external_id {
                self.organizations_by_external_id.remove(old);
            }
            self.organizations_by_external_id
                .insert(external_id.clone(), id.to_owned());
            organization.external_id = Some(external_id);
        }
        let timestamp = now();
        if let Some(domain_data) = request.domain_data {
            organization.domains = self.domains(id, domain_data, &timestamp);
        }
        organization.updated_at = timestamp;
        self.organizations
            .insert(id.to_owned(), organization.clone());
        self.events
            .record("organization.updated", &organization, Some(id));
        Ok(organization)
    }

    pub fn delete_organization(&mut self, id: &str) -> Outcome<()> {
        let Some(organization) = self.organizations.remove(id) else {
            return Err(organization_not_found(id));
        };
        if let Some(external_id) = &organization.external_id {
            self.organizations_by_external_id.remove(external_id);
        }
        self.remove_memberships_of(None, Some(id));
        self.remove_connections_of(id);
        self.remove_invitations_of(id);
        self.events
            .record("organization.deleted", &organization, Some(id));
        Ok(())
    }
}
