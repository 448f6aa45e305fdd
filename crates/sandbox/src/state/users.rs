//! Users: create (with a password or an imported digest), read by id or
//! external_id, list with filters and cursors, update, delete.

use super::pagination::{ListQuery, cursor_page, map_page};
use super::rules::{
    apply_metadata, email_not_available, external_id_already_used_by_user, on_update, password,
    user_not_found, validate_email, validate_external_id, validate_locale,
};
use super::{Failure, Outcome, StoredUser, WorkosState, now};
use ferry_wire::workos::model::{CreateUser, List, Metadata, UpdateUser, User};

impl WorkosState {
    pub fn create_user(&mut self, request: CreateUser) -> Outcome<User> {
        let email = validate_email(&request.email)?;
        if let Some(external_id) = &request.external_id {
            validate_external_id(external_id)?;
        }
        let metadata = apply_metadata(Metadata::new(), request.metadata)?;
        let password = password(
            request.password.as_ref(),
            request.password_hash.as_ref(),
            request.password_hash_type.as_deref(),
            request.password_salt_position.as_deref(),
            &self.refused_hash_types,
        )?;
        if self.users_by_email.contains_key(&email.to_lowercase()) {
            return Err(email_not_available());
        }
        if let Some(external_id) = &request.external_id
            && self.users_by_external_id.contains_key(external_id)
        {
            return Err(external_id_already_used_by_user());
        }
        let id = self.next_id("user");
        let timestamp = now();
        let user = User {
            object: "user".into(),
            id: id.clone(),
            email: email.clone(),
            email_verified: request.email_verified.unwrap_or(false),
            first_name: request.first_name,
            last_name: request.last_name,
            profile_picture_url: None,
            last_sign_in_at: None,
            external_id: request.external_id.clone(),
            metadata,
            locale: None,
            name: request.name,
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.users_by_email.insert(email.to_lowercase(), id.clone());
        if let Some(external_id) = request.external_id {
            self.users_by_external_id.insert(external_id, id.clone());
        }
        self.users.insert(
            id,
            Box::new(StoredUser {
                user: user.clone(),
                password,
            }),
        );
        self.events.record("user.created", &user, None);
        Ok(user)
    }

    /// The user with the smallest id: the oldest (ids grow).
    pub fn oldest_user(&self) -> Option<User> {
        self.users.values().next().map(|stored| stored.user.clone())
    }

    pub fn user(&self, id: &str) -> Outcome<User> {
        self.users
            .get(id)
            .map(|stored| stored.user.clone())
            .ok_or_else(|| user_not_found(id))
    }

    pub fn user_by_external_id(&self, external_id: &str) -> Outcome<User> {
        self.users_by_external_id
            .get(external_id)
            .and_then(|id| self.users.get(id))
            .map(|stored| stored.user.clone())
            .ok_or_else(|| Failure::NotFound(format!("User not found: '{external_id}'.")))
    }

    pub fn list_users(
        &self,
        query: &ListQuery,
        email: Option<&str>,
        organization_id: Option<&str>,
    ) -> List<User> {
        // An email names at most one user: use the index, not a scan.
        if let Some(email) = email {
            let found = self
                .users_by_email
                .get(&email.to_lowercase())
                .and_then(|id| self.users.get(id))
                .filter(|stored| {
                    organization_id.is_none_or(|organization_id| {
                        self.member_ids(organization_id).contains(&stored.user.id)
                    })
                })
                .map(|stored| (stored.user.id.as_str(), &stored.user));
            return map_page(cursor_page(found.into_iter().collect(), query), User::clone);
        }
        let users: Vec<(&str, &User)> = match organization_id {
            Some(organization_id) => {
                let mut ids = self.member_ids(organization_id);
                ids.sort();
                ids.dedup();
                ids.iter()
                    .filter_map(|id| self.users.get(id))
                    .map(|stored| (stored.user.id.as_str(), &stored.user))
                    .collect()
            }
            None => self
                .users
                .values()
                .map(|stored| (stored.user.id.as_str(), &stored.user))
                .collect(),
        };
        map_page(cursor_page(users, query), User::clone)
    }

    pub fn update_user(&mut self, id: &str, request: UpdateUser) -> Outcome<User> {
        let Some(current) = self.users.get(id).cloned() else {
            return Err(user_not_found(id));
        };
        let mut user = current.user.clone();
        let new_email = match &request.email {
            Some(email) => Some(validate_email(email)?),
            None => None,
        };
        if let Some(external_id) = &request.external_id {
            validate_external_id(external_id)?;
        }
        if let Some(locale) = &request.locale {
            validate_locale(locale)?;
        }
        let metadata = apply_metadata(user.metadata.clone(), request.metadata)?;
        let any_password = request.password.is_some()
            || request.password_hash.is_some()
            || request.password_hash_type.is_some()
            || request.password_salt_position.is_some();
        let new_password = if any_password {
            Some(password(
                request.password.as_ref(),
                request.password_hash.as_ref(),
                request.password_hash_type.as_deref(),
                request.password_salt_position.as_deref(),
                &self.refused_hash_types,
            )?)
        } else {
            None
        };
        if let Some(email) = &new_email {
            let owner = self.users_by_email.get(&email.to_lowercase());
            if owner.is_some_and(|owner| owner != id) {
                return Err(on_update(email_not_available()));
            }
        }
        if let Some(external_id) = &request.external_id {
            let owner = self.users_by_external_id.get(external_id);
            if owner.is_some_and(|owner| owner != id) {
                return Err(on_update(external_id_already_used_by_user()));
            }
        }
        if let Some(email) = new_email {
            self.users_by_email.remove(&user.email.to_lowercase());
            self.users_by_email
                .insert(email.to_lowercase(), id.to_owned());
            user.email = email;
        }
        if let Some(external_id) = request.external_id {
            if let Some(old) = &user.external_id {
                self.users_by_external_id.remove(old);
            }
            self.users_by_external_id
                .insert(external_id.clone(), id.to_owned());
            user.external_id = Some(external_id);
        }
        if let Some(first_name) = request.first_name {
            user.first_name = Some(first_name);
        }
        if let Some(last_name) = request.last_name {
            user.last_name = Some(last_name);
        }
        if let Some(name) = request.name {
            user.name = Some(name);
        }
        if let Some(locale) = request.locale {
            user.locale = Some(locale);
        }
        if let Some(verified) = request.email_verified {
            user.email_verified = verified;
        }
        user.metadata = metadata;
        user.updated_at = now();
        let password = new_password.unwrap_or(current.password);
        self.users.insert(
            id.to_owned(),
            Box::new(StoredUser {
                user: user.clone(),
                password,
            }),
        );
        self.events.record("user.updated", &user, None);
        Ok(user)
    }

    pub fn delete_user(&mut self, id: &str) -> Outcome<()> {
        let Some(stored) = self.users.remove(id) else {
            return Err(user_not_found(id));
        };
        self.users_by_email
            .remove(&stored.user.email.to_lowercase());
        if let Some(external_id) = &stored.user.external_id {
            self.users_by_external_id.remove(external_id);
        }
        self.remove_memberships_of(Some(id), None);
        self.factors
            .retain(|_, f| f.factor.user_id.as_deref() != Some(id));
        self.events.record("user.deleted", &stored.user, None);
        Ok(())
    }
}

impl WorkosState {
    /// Sets a user's email with no uniqueness check (see `Sandbox::force_user_email`).
    pub fn force_email(&mut self, id: &str, email: &str) -> bool {
        match self.users.get_mut(id) {
            Some(stored) => {
                stored.user.email = email.to_owned();
                true
            }
            None => false,
        }
    }
}
