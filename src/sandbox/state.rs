//! The WorkOS environment the imitation keeps in memory: users (with their
//! password digests), organizations, memberships, TOTP factors, challenges
//! and pending authentications, and the rules WorkOS enforces on them
//! (uniqueness of email and external_id, metadata limits, digest shapes,
//! membership existence and duplicates). HTTP lives in `workos_api`; this
//! module answers in domain terms ([`Failure`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::hashes::{self, HashKind};
use super::totp;
use crate::secret::Secret;
use crate::workos::model::{
    AuthenticationChallenge, AuthenticationFactor, CreateOrganization,
    CreateOrganizationMembership, CreateUser, DomainData, EnrollAuthFactor, List, ListMetadata,
    Metadata, Organization, OrganizationDomain, OrganizationMembership, SlimRole, TotpDetails,
    UpdateOrganization, UpdateUser, User,
};

/// Why WorkOS refuses: each maps to one documented status and body shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 404 `{message}`.
    NotFound(String),
    /// 409 `{code, message}`.
    Conflict { code: &'static str, message: String },
    /// 400 `{code: "user_creation_error", message, errors: [{code, message}]}`.
    UserCreation { code: &'static str, message: String },
    /// 400 `{code, message}`.
    BadRequest { code: &'static str, message: String },
    /// 422 `{code: "invalid_request_parameters", message}`.
    InvalidRequest(String),
}

type Outcome<T> = Result<T, Failure>;

/// A user and what only the server knows about it.
#[derive(Debug, Clone)]
struct StoredUser {
    user: User,
    password: Option<(HashKind, Secret)>,
}

#[derive(Debug, Clone)]
struct StoredFactor {
    factor: AuthenticationFactor,
    secret: Secret,
}

#[derive(Debug, Clone)]
struct StoredChallenge {
    challenge: AuthenticationChallenge,
    verified: bool,
}

/// An authentication waiting for MFA or an organization choice.
#[derive(Debug, Clone)]
pub struct PendingAuthentication {
    pub user_id: String,
    pub mfa_passed: bool,
}

/// A list request: WorkOS cursors are object ids, `order` is `asc`/`desc`/`normal`.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: usize,
    pub before: Option<String>,
    pub after: Option<String>,
    pub descending: bool,
}

/// What the admin route dumps: the whole environment, without digests or secrets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkosDump {
    pub users: Vec<DumpedUser>,
    pub organizations: Vec<Organization>,
    pub memberships: Vec<OrganizationMembership>,
    pub auth_factors: Vec<AuthenticationFactor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpedUser {
    #[serde(flatten)]
    pub user: User,
    /// The `password_hash_type` the password was stored with (`bcrypt` for plaintext).
    pub password_hash_type: Option<String>,
}

#[derive(Default)]
pub struct WorkosState {
    sequence: u64,
    users: BTreeMap<String, StoredUser>,
    users_by_email: HashMap<String, String>,
    users_by_external_id: HashMap<String, String>,
    organizations: BTreeMap<String, Organization>,
    organizations_by_external_id: HashMap<String, String>,
    memberships: BTreeMap<String, OrganizationMembership>,
    factors: BTreeMap<String, StoredFactor>,
    challenges: HashMap<String, StoredChallenge>,
    pending: HashMap<String, PendingAuthentication>,
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl WorkosState {
    /// `prefix_01…`: 24 Crockford digits of a sequence number, so ids sort in
    /// creation order (cursors compare ids) and look like WorkOS's ULIDs.
    fn next_id(&mut self, prefix: &str) -> String {
        self.sequence += 1;
        let mut digits = [b'0'; 24];
        let mut value = self.sequence;
        for slot in digits.iter_mut().rev() {
            *slot = CROCKFORD[(value % 32) as usize];
            value /= 32;
        }
        format!("{prefix}_01{}", String::from_utf8_lossy(&digits))
    }

    /// A random token for pending authentications and secrets.
    fn token(&mut self) -> String {
        let bytes: [u8; 20] = rand::random();
        data_encoding::BASE32_NOPAD.encode(&bytes)
    }

    // ---- users ----------------------------------------------------------

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
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.users_by_email.insert(email.to_lowercase(), id.clone());
        if let Some(external_id) = request.external_id {
            self.users_by_external_id.insert(external_id, id.clone());
        }
        self.users.insert(
            id,
            StoredUser {
                user: user.clone(),
                password,
            },
        );
        Ok(user)
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
        let members: Option<Vec<&str>> = organization_id.map(|organization_id| {
            self.memberships
                .values()
                .filter(|m| m.organization_id == organization_id)
                .map(|m| m.user_id.as_str())
                .collect()
        });
        let email = email.map(str::to_lowercase);
        let users = self.users.values().filter_map(|stored| {
            let user = &stored.user;
            let email_matches = email
                .as_ref()
                .is_none_or(|e| user.email.to_lowercase() == *e);
            let member = members
                .as_ref()
                .is_none_or(|ids| ids.contains(&user.id.as_str()));
            (email_matches && member).then(|| (user.id.clone(), user.clone()))
        });
        cursor_page(users.collect(), query)
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
        let metadata = apply_metadata(user.metadata.clone(), request.metadata)?;
        let any_password = request.password.is_some()
            || request.password_hash.is_some()
            || request.password_hash_type.is_some();
        let new_password = if any_password {
            Some(password(
                request.password.as_ref(),
                request.password_hash.as_ref(),
                request.password_hash_type.as_deref(),
            )?)
        } else {
            None
        };
        if let Some(email) = &new_email {
            let owner = self.users_by_email.get(&email.to_lowercase());
            if owner.is_some_and(|owner| owner != id) {
                return Err(email_not_available());
            }
        }
        if let Some(external_id) = &request.external_id {
            let owner = self.users_by_external_id.get(external_id);
            if owner.is_some_and(|owner| owner != id) {
                return Err(external_id_already_used_by_user());
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
        if let Some(verified) = request.email_verified {
            user.email_verified = verified;
        }
        user.metadata = metadata;
        user.updated_at = now();
        let password = new_password.unwrap_or(current.password);
        self.users.insert(
            id.to_owned(),
            StoredUser {
                user: user.clone(),
                password,
            },
        );
        self.refresh_embedded_user(&user);
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
        self.memberships.retain(|_, m| m.user_id != id);
        self.factors
            .retain(|_, f| f.factor.user_id.as_deref() != Some(id));
        Ok(())
    }

    fn refresh_embedded_user(&mut self, user: &User) {
        for membership in self.memberships.values_mut() {
            if membership.user_id == user.id {
                membership.user = Some(user.clone());
            }
        }
    }

    // ---- organizations --------------------------------------------------

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
        self.organizations.insert(id, organization.clone());
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
        cursor_page(
            organizations.map(|o| (o.id.clone(), o.clone())).collect(),
            query,
        )
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
        for membership in self.memberships.values_mut() {
            if membership.organization_id == id {
                membership.organization_name = Some(organization.name.clone());
            }
        }
        Ok(organization)
    }

    pub fn delete_organization(&mut self, id: &str) -> Outcome<()> {
        let Some(organization) = self.organizations.remove(id) else {
            return Err(organization_not_found(id));
        };
        if let Some(external_id) = &organization.external_id {
            self.organizations_by_external_id.remove(external_id);
        }
        self.memberships.retain(|_, m| m.organization_id != id);
        Ok(())
    }

    // ---- memberships ----------------------------------------------------

    pub fn create_membership(
        &mut self,
        request: CreateOrganizationMembership,
    ) -> Outcome<OrganizationMembership> {
        let user = self.user(&request.user_id)?;
        let organization = self.organization(&request.organization_id)?;
        if self
            .memberships
            .values()
            .any(|m| m.user_id == user.id && m.organization_id == organization.id)
        {
            return Err(Failure::Conflict {
                code: "organization_membership_already_exists",
                message: format!(
                    "User '{}' is already a member of organization '{}'.",
                    user.id, organization.id
                ),
            });
        }
        let role = SlimRole {
            slug: request.role_slug.unwrap_or_else(|| "member".into()),
        };
        let id = self.next_id("om");
        let timestamp = now();
        let membership = OrganizationMembership {
            object: "organization_membership".into(),
            id: id.clone(),
            user_id: user.id.clone(),
            organization_id: organization.id.clone(),
            organization_name: Some(organization.name.clone()),
            status: "active".into(),
            directory_managed: false,
            role: role.clone(),
            roles: vec![role],
            custom_attributes: BTreeMap::new(),
            user: Some(user),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.memberships.insert(id, membership.clone());
        Ok(membership)
    }

    pub fn membership(&self, id: &str) -> Outcome<OrganizationMembership> {
        self.memberships
            .get(id)
            .cloned()
            .ok_or_else(|| Failure::NotFound(format!("Organization membership not found: '{id}'.")))
    }

    pub fn list_memberships(
        &self,
        query: &ListQuery,
        user_id: Option<&str>,
        organization_id: Option<&str>,
        statuses: &[String],
    ) -> List<OrganizationMembership> {
        let memberships = self.memberships.values().filter(|m| {
            user_id.is_none_or(|id| m.user_id == id)
                && organization_id.is_none_or(|id| m.organization_id == id)
                && (statuses.is_empty() || statuses.contains(&m.status))
        });
        cursor_page(
            memberships.map(|m| (m.id.clone(), m.clone())).collect(),
            query,
        )
    }

    pub fn delete_membership(&mut self, id: &str) -> Outcome<()> {
        self.memberships
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| Failure::NotFound(format!("Organization membership not found: '{id}'.")))
    }

    // ---- MFA --------------------------------------------------------------

    pub fn enroll_factor(
        &mut self,
        user_id: &str,
        request: EnrollAuthFactor,
    ) -> Outcome<(AuthenticationFactor, AuthenticationChallenge)> {
        let user = self.user(user_id)?;
        if request.kind != "totp" {
            return Err(Failure::InvalidRequest(format!(
                "type must be 'totp', not '{}'",
                request.kind
            )));
        }
        let secret = match request.totp_secret {
            Some(secret) => {
                totp::validate_secret(secret.expose())
                    .map_err(|error| Failure::InvalidRequest(error.to_string()))?;
                secret
            }
            None => Secret::new(self.token()),
        };
        let id = self.next_id("auth_factor");
        let timestamp = now();
        let issuer = request.totp_issuer.unwrap_or_else(|| "WorkOS".into());
        let account = request.totp_user.unwrap_or_else(|| user.email.clone());
        let uri = format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}",
            secret.expose()
        );
        let factor = AuthenticationFactor {
            object: "authentication_factor".into(),
            id: id.clone(),
            kind: "totp".into(),
            user_id: Some(user.id.clone()),
            totp: Some(TotpDetails {
                issuer,
                user: account,
                secret: None,
                qr_code: None,
                uri: None,
            }),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.factors.insert(
            id.clone(),
            StoredFactor {
                factor: factor.clone(),
                secret: secret.clone(),
            },
        );
        let challenge = self.challenge(&id)?;
        // Only the enrollment answer reveals the secret, as WorkOS does.
        let mut revealed = factor;
        if let Some(details) = revealed.totp.as_mut() {
            details.secret = Some(secret);
            details.qr_code = Some("data:image/png;base64,".into());
            details.uri = Some(Secret::new(uri));
        }
        Ok((revealed, challenge))
    }

    pub fn factors_of(
        &self,
        user_id: &str,
        query: &ListQuery,
    ) -> Outcome<List<AuthenticationFactor>> {
        self.user(user_id)?;
        let factors = self
            .factors
            .values()
            .filter(|f| f.factor.user_id.as_deref() == Some(user_id))
            .map(|f| (f.factor.id.clone(), f.factor.clone()));
        Ok(cursor_page(factors.collect(), query))
    }

    pub fn factor(&self, id: &str) -> Outcome<AuthenticationFactor> {
        self.factors
            .get(id)
            .map(|f| f.factor.clone())
            .ok_or_else(|| Failure::NotFound(format!("Authentication Factor not found: '{id}'.")))
    }

    pub fn challenge(&mut self, factor_id: &str) -> Outcome<AuthenticationChallenge> {
        self.factor(factor_id)?;
        let id = self.next_id("auth_challenge");
        let timestamp = now();
        let challenge = AuthenticationChallenge {
            object: "authentication_challenge".into(),
            id: id.clone(),
            expires_at: None,
            authentication_factor_id: factor_id.to_owned(),
            created_at: timestamp.clone(),
            updated_at: timestamp,
        };
        self.challenges.insert(
            id,
            StoredChallenge {
                challenge: challenge.clone(),
                verified: false,
            },
        );
        Ok(challenge)
    }

    /// Checks a TOTP code against the challenge's factor; a challenge passes once.
    pub fn verify_challenge(
        &mut self,
        challenge_id: &str,
        code: &str,
    ) -> Outcome<(AuthenticationChallenge, bool)> {
        let Some(stored) = self.challenges.get(challenge_id).cloned() else {
            return Err(Failure::NotFound(format!(
                "Authentication Challenge not found: '{challenge_id}'."
            )));
        };
        if stored.verified {
            return Err(Failure::BadRequest {
                code: "authentication_challenge_previously_verified",
                message: "The authentication challenge has already been verified.".into(),
            });
        }
        let Some(factor) = self.factors.get(&stored.challenge.authentication_factor_id) else {
            return Err(Failure::NotFound("Authentication Factor not found.".into()));
        };
        let valid = totp::verify_at(factor.secret.expose(), code, totp::now_seconds());
        if valid && let Some(entry) = self.challenges.get_mut(challenge_id) {
            entry.verified = true;
        }
        Ok((stored.challenge, valid))
    }

    /// The user a challenge belongs to.
    pub fn challenge_user(&self, challenge_id: &str) -> Option<String> {
        let stored = self.challenges.get(challenge_id)?;
        let factor = self
            .factors
            .get(&stored.challenge.authentication_factor_id)?;
        factor.factor.user_id.clone()
    }

    // ---- authentication -------------------------------------------------

    /// The user with this email if `password` matches their digest.
    pub fn check_password(&self, email: &str, password: &str) -> Option<User> {
        let id = self.users_by_email.get(&email.to_lowercase())?;
        let stored = self.users.get(id)?;
        let (kind, digest) = stored.password.as_ref()?;
        hashes::verify(*kind, digest.expose(), password).then(|| stored.user.clone())
    }

    pub fn active_organizations_of(&self, user_id: &str) -> Vec<(String, String)> {
        self.memberships
            .values()
            .filter(|m| m.user_id == user_id && m.status == "active")
            .map(|m| {
                (
                    m.organization_id.clone(),
                    m.organization_name.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    pub fn totp_factors_of(&self, user_id: &str) -> Vec<AuthenticationFactor> {
        self.factors
            .values()
            .filter(|f| f.factor.user_id.as_deref() == Some(user_id))
            .map(|f| f.factor.clone())
            .collect()
    }

    pub fn start_pending(&mut self, user_id: &str, mfa_passed: bool) -> String {
        let token = self.token();
        self.pending.insert(
            token.clone(),
            PendingAuthentication {
                user_id: user_id.to_owned(),
                mfa_passed,
            },
        );
        token
    }

    /// Puts back a pending authentication after a failed attempt.
    pub fn restore_pending(&mut self, token: &str, pending: PendingAuthentication) {
        self.pending.insert(token.to_owned(), pending);
    }

    pub fn take_pending(&mut self, token: &str) -> Option<PendingAuthentication> {
        self.pending.remove(token)
    }

    pub fn record_sign_in(&mut self, user_id: &str) -> Outcome<User> {
        let Some(stored) = self.users.get_mut(user_id) else {
            return Err(user_not_found(user_id));
        };
        stored.user.last_sign_in_at = Some(now());
        Ok(stored.user.clone())
    }

    // ---- introspection --------------------------------------------------

    pub fn dump(&self) -> WorkosDump {
        WorkosDump {
            users: self
                .users
                .values()
                .map(|stored| DumpedUser {
                    user: stored.user.clone(),
                    password_hash_type: stored
                        .password
                        .as_ref()
                        .map(|(kind, _)| kind.label().to_owned()),
                })
                .collect(),
            organizations: self.organizations.values().cloned().collect(),
            memberships: self.memberships.values().cloned().collect(),
            auth_factors: self.factors.values().map(|f| f.factor.clone()).collect(),
        }
    }
}

// ---- rules ----------------------------------------------------------------

fn user_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("User not found: '{id}'."))
}

fn organization_not_found(id: &str) -> Failure {
    Failure::NotFound(format!("Organization not found: '{id}'."))
}

fn email_not_available() -> Failure {
    Failure::UserCreation {
        code: "email_not_available",
        message: "This email is not available.".into(),
    }
}

fn external_id_already_used_by_user() -> Failure {
    Failure::UserCreation {
        code: "external_id_already_used",
        message: "This external_id is already in use by another user.".into(),
    }
}

fn validate_email(email: &str) -> Outcome<String> {
    let email = email.trim();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email.to_owned())
    } else {
        Err(Failure::InvalidRequest("email must be an email".into()))
    }
}

fn validate_external_id(external_id: &str) -> Outcome<()> {
    if external_id.is_empty() || external_id.len() > 128 || !external_id.is_ascii() {
        return Err(Failure::InvalidRequest(
            "external_id must be 1 to 128 ASCII characters".into(),
        ));
    }
    Ok(())
}

const METADATA_MAX_KEYS: usize = 50;
const METADATA_MAX_KEY_CHARS: usize = 40;
const METADATA_MAX_VALUE_CHARS: usize = 600;

/// Merges `changes` into `current`: strings set, `null` removes. Values must
/// be strings; the limits are WorkOS's.
fn apply_metadata(
    mut current: Metadata,
    changes: Option<BTreeMap<String, Value>>,
) -> Outcome<Metadata> {
    let Some(changes) = changes else {
        return Ok(current);
    };
    for (key, value) in changes {
        match value {
            Value::Null => {
                current.remove(&key);
            }
            Value::String(text) => {
                if key.chars().count() > METADATA_MAX_KEY_CHARS
                    || text.chars().count() > METADATA_MAX_VALUE_CHARS
                {
                    return Err(invalid_metadata());
                }
                current.insert(key, text);
            }
            _ => {
                return Err(Failure::InvalidRequest(format!(
                    "metadata.{key} must be a string"
                )));
            }
        }
    }
    if current.len() > METADATA_MAX_KEYS {
        return Err(invalid_metadata());
    }
    Ok(current)
}

fn invalid_metadata() -> Failure {
    Failure::BadRequest {
        code: "invalid_metadata",
        message: format!(
            "Metadata allows at most {METADATA_MAX_KEYS} keys of up to {METADATA_MAX_KEY_CHARS} characters with string values of up to {METADATA_MAX_VALUE_CHARS} characters."
        ),
    }
}

/// The stored password from either a plaintext or an imported digest.
fn password(
    plaintext: Option<&Secret>,
    digest: Option<&Secret>,
    kind: Option<&str>,
) -> Outcome<Option<(HashKind, Secret)>> {
    match (plaintext, digest, kind) {
        (Some(_), Some(_), _) => Err(Failure::BadRequest {
            code: "password_and_password_hash_provided",
            message: "Provide either password or password_hash, not both.".into(),
        }),
        (Some(_), None, Some(_)) => Err(Failure::BadRequest {
            code: "password_and_password_hash_type_provided",
            message: "password_hash_type only goes with password_hash.".into(),
        }),
        (Some(plaintext), None, None) => {
            if plaintext.expose().is_empty() {
                return Err(Failure::InvalidRequest("password must not be empty".into()));
            }
            let digest = hashes::hash_plaintext(plaintext.expose())
                .ok_or_else(|| Failure::InvalidRequest("password cannot be hashed".into()))?;
            Ok(Some((HashKind::Bcrypt, Secret::new(digest))))
        }
        (None, Some(digest), Some(label)) => {
            let kind = HashKind::parse(label).ok_or_else(|| {
                Failure::InvalidRequest(format!(
                    "password_hash_type must be one of bcrypt, firebase-scrypt, ssha, ssha256, scrypt, pbkdf2, argon2, not '{label}'"
                ))
            })?;
            if !hashes::is_well_formed(kind, digest.expose()) {
                return Err(Failure::BadRequest {
                    code: "invalid_password_hash",
                    message: format!("The password hash is not a valid {} hash.", kind.label()),
                });
            }
            Ok(Some((kind, digest.clone())))
        }
        (None, Some(_), None) => Err(Failure::InvalidRequest(
            "password_hash_type is required with password_hash".into(),
        )),
        (None, None, Some(_)) => Err(Failure::InvalidRequest(
            "password_hash is required with password_hash_type".into(),
        )),
        (None, None, None) => Ok(None),
    }
}

/// WorkOS cursor pagination over `items` in creation (= id) order. `after`
/// moves away from the start of the listing order, `before` towards it; a
/// cursor need not exist any more (ids are compared, not looked up).
fn cursor_page<T>(mut items: Vec<(String, T)>, query: &ListQuery) -> List<T> {
    if query.descending {
        items.reverse();
    }
    // `comes_after(a, b)`: a is later than b in listing order.
    let comes_after = |a: &str, b: &str| if query.descending { a < b } else { a > b };
    let limit = query.limit.max(1);
    let (window, has_before, has_after) = if let Some(after) = &query.after {
        let start = items
            .iter()
            .position(|(id, _)| comes_after(id, after))
            .unwrap_or(items.len());
        let end = (start + limit).min(items.len());
        let has_after = end < items.len();
        (
            items.drain(start..end).collect::<Vec<_>>(),
            start > 0,
            has_after,
        )
    } else if let Some(before) = &query.before {
        let end = items
            .iter()
            .position(|(id, _)| !comes_after(before, id))
            .unwrap_or(items.len());
        let start = end.saturating_sub(limit);
        let has_after = end < items.len();
        (
            items.drain(start..end).collect::<Vec<_>>(),
            start > 0,
            has_after,
        )
    } else {
        let end = limit.min(items.len());
        let has_after = end < items.len();
        (items.drain(..end).collect::<Vec<_>>(), false, has_after)
    };
    let before = if has_before {
        window.first().map(|(id, _)| id.clone())
    } else {
        None
    };
    let after = if has_after {
        window.last().map(|(id, _)| id.clone())
    } else {
        None
    };
    List {
        object: "list".into(),
        data: window.into_iter().map(|(_, item)| item).collect(),
        list_metadata: ListMetadata { before, after },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<(String, usize)> {
        (1..=n).map(|i| (format!("id_{i:03}"), i)).collect()
    }

    fn query(
        limit: usize,
        before: Option<&str>,
        after: Option<&str>,
        descending: bool,
    ) -> ListQuery {
        ListQuery {
            limit,
            before: before.map(Into::into),
            after: after.map(Into::into),
            descending,
        }
    }

    #[test]
    fn following_after_visits_everything_once() {
        for descending in [false, true] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = cursor_page(ids(7), &query(3, None, cursor.as_deref(), descending));
                seen.extend(page.data);
                match page.list_metadata.after {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            let mut expected: Vec<usize> = (1..=7).collect();
            if descending {
                expected.reverse();
            }
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn exact_multiples_end_with_a_null_cursor() {
        let first = cursor_page(ids(4), &query(2, None, None, false));
        assert_eq!(first.data, [1, 2]);
        assert_eq!(first.list_metadata.after.as_deref(), Some("id_002"));
        let second = cursor_page(ids(4), &query(2, None, Some("id_002"), false));
        assert_eq!(second.data, [3, 4]);
        assert_eq!(second.list_metadata.after, None);
        assert_eq!(second.list_metadata.before.as_deref(), Some("id_003"));
        let back = cursor_page(ids(4), &query(2, Some("id_003"), None, false));
        assert_eq!(back.data, [1, 2]);
        assert_eq!(back.list_metadata.before, None);
    }

    #[test]
    fn a_cursor_past_the_end_gives_an_empty_page() {
        let page = cursor_page(ids(3), &query(10, None, Some("id_999"), false));
        assert!(page.data.is_empty());
        assert_eq!(page.list_metadata.after, None);
    }

    #[test]
    fn metadata_limits() {
        let long_value = BTreeMap::from([("k".to_owned(), Value::String("x".repeat(601)))]);
        assert_eq!(
            apply_metadata(Metadata::new(), Some(long_value)),
            Err(invalid_metadata())
        );
        let many: BTreeMap<String, Value> = (0..51)
            .map(|i| (format!("k{i}"), Value::String("v".into())))
            .collect();
        assert_eq!(
            apply_metadata(Metadata::new(), Some(many)),
            Err(invalid_metadata())
        );
        let number = BTreeMap::from([("k".to_owned(), Value::from(1))]);
        assert!(matches!(
            apply_metadata(Metadata::new(), Some(number)),
            Err(Failure::InvalidRequest(_))
        ));
    }
}
