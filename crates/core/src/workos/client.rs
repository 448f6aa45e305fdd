//! The WorkOS API client ferry writes through.
//!
//! Every request draws from the buckets WorkOS documents: user-management
//! writes (500 / 10 s) or reads (1000 / 10 s), and the key-wide 6000 / 60 s.
//! Errors come back as [`WorkosError`], which knows WorkOS's three error
//! shapes and the codes ferry branches on (`email_not_available`,
//! `external_id_already_used`, membership conflicts).

use crate::support::reason::{Reason, ReasonCode};
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::http::client::{ClientError, segment};
use crate::http::listing::{Next, PageCheck};
use crate::http::{ApiClient, ApiError, Bucket, Request, RetryPolicy};
use crate::support::cancel::Cancel;
use ferry_wire::secret::Secret;
use ferry_wire::workos::events::{UpdateWebhookEndpoint, WebhookEndpoint};
use ferry_wire::workos::invitation::{CreateInvitation, Invitation};
use ferry_wire::workos::model::{
    AuthenticateWithPassword, AuthenticationFactor, CreateOrganization,
    CreateOrganizationMembership, CreatePermission, CreateRole, CreateUser, EnrollAuthFactor,
    EnrollAuthFactorResponse, ErrorBody, List, Organization, OrganizationMembership, Permission,
    Role, RoleList, SetRolePermissions, UpdateOrganization, UpdateUser, User,
};
use ferry_wire::workos::sso::{
    Connection, CreateConnection, GeneratePortalLink, PortalLink, SigningCertificateList,
    UpdateConnection,
};

/// A failed WorkOS call, with its parsed error body.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct WorkosError {
    pub error: ApiError,
    pub body: Option<ErrorBody>,
}

impl WorkosError {
    pub fn status(&self) -> Option<u16> {
        self.error.status()
    }

    /// Whether the error carries `code`, at the top level or in `errors[]`
    /// (WorkOS uses both for creation conflicts).
    pub fn has_code(&self, code: &str) -> bool {
        self.body
            .as_ref()
            .is_some_and(|body| body.code() == Some(code) || body.nested_codes().contains(&code))
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A short reason for journals and failure lists: the code when there
    /// is one. WorkOS's considered refusal (a 4xx) is `workos_rejected`;
    /// anything else (5xx and transport failures after every attempt, or a
    /// request not sent) is `workos_failed`.
    pub fn reason(&self) -> Reason {
        let code = self.body.as_ref().and_then(|b| {
            b.nested_codes()
                .first()
                .map(|c| c.to_string())
                .or_else(|| b.code().map(str::to_owned))
        });
        let detail = match (self.status(), code) {
            (Some(status), Some(code)) => format!("WorkOS {status} {code}"),
            _ => self.error.to_string(),
        };
        let rejected = self
            .status()
            .is_some_and(|status| (400..500).contains(&status));
        let code = match rejected {
            true => ReasonCode::WorkosRejected,
            false => ReasonCode::WorkosFailed,
        };
        Reason::new(code, detail)
    }
}

impl From<ApiError> for WorkosError {
    fn from(error: ApiError) -> Self {
        let body = error
            .body_json()
            .and_then(|json| serde_json::from_value::<ErrorBody>(json).ok());
        Self { error, body }
    }
}

pub type Result<T, E = WorkosError> = std::result::Result<T, E>;

/// The limits a plan gives, defined where the plan is (the config layer).
pub use crate::plan::endpoint::WorkosLimits;

/// The buckets for one WorkOS key.
#[derive(Debug)]
pub struct WorkosBuckets {
    pub writes: Bucket,
    pub reads: Bucket,
    pub key: Bucket,
}

impl WorkosBuckets {
    pub fn new(limits: &WorkosLimits) -> Self {
        Self {
            writes: Bucket::new(
                "workos writes",
                limits.writes_per_10s,
                Duration::from_secs(10),
            ),
            reads: Bucket::new(
                "workos reads",
                limits.reads_per_10s,
                Duration::from_secs(10),
            ),
            key: Bucket::new(
                "workos key",
                limits.requests_per_60s,
                Duration::from_secs(60),
            ),
        }
    }
}

#[derive(Debug)]
pub struct WorkosClient {
    api: ApiClient,
    buckets: WorkosBuckets,
}

enum Access {
    Read,
    Write,
}

impl WorkosClient {
    /// What this client has sent so far (requests, writes, retries, 429s).
    pub fn traffic(&self) -> crate::http::TrafficCounts {
        self.api.traffic()
    }

    /// What one plan step sent to this API.
    pub fn traffic_of(&self, step: &str) -> crate::http::TrafficCounts {
        self.api.traffic_of(step)
    }

    pub fn new(
        base: &str,
        key: Secret,
        limits: &WorkosLimits,
        retry: RetryPolicy,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            api: ApiClient::new("WorkOS", base, key, retry)?,
            buckets: WorkosBuckets::new(limits),
        })
    }

    /// Lets `cancel` end this client's waits.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.api = self.api.with_cancel(cancel);
        self
    }

    /// Makes every write wait for `gate` first.
    pub fn with_write_gate(
        mut self,
        gate: std::sync::Arc<dyn crate::http::client::WriteGate>,
    ) -> Self {
        self.api = self.api.with_write_gate(gate);
        self
    }

    pub fn buckets(&self) -> &WorkosBuckets {
        &self.buckets
    }

    /// A request through the buckets WorkOS counts it in: the read or
    /// write limit applies to `/user_management/*` only; organizations,
    /// roles and factors count against the key's limit alone, so their
    /// writes overlap with user writes instead of queueing behind them.
    fn request(&self, method: Method, path: String, access: Access) -> Request<'_> {
        let request = if path.starts_with("/user_management/") {
            Request::new(method, path).bucket(match access {
                Access::Read => &self.buckets.reads,
                Access::Write => &self.buckets.writes,
            })
        } else {
            Request::new(method, path)
        };
        request.bucket(&self.buckets.key)
    }

    async fn call<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T> {
        self.api.json(&request).await.map_err(WorkosError::from)
    }

    /// `None` for a 404, so "does it exist?" reads naturally.
    async fn find<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<Option<T>> {
        match self.call(request).await {
            Ok(found) => Ok(Some(found)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn body<T: serde::Serialize>(value: &T) -> serde_json::Value {
        serde_json::to_value(value).unwrap_or_default()
    }

    pub async fn create_user(&self, user: &CreateUser) -> Result<User> {
        let request = self
            .request(Method::POST, "/user_management/users".into(), Access::Write)
            .body(Self::body(user));
        self.call(request).await
    }

    pub async fn update_user(&self, id: &str, update: &UpdateUser) -> Result<User> {
        let request = self
            .request(
                Method::PUT,
                format!("/user_management/users/{}", segment(id)),
                Access::Write,
            )
            .body(Self::body(update));
        self.call(request).await
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        self.find(self.request(
            Method::GET,
            format!("/user_management/users/{}", segment(id)),
            Access::Read,
        ))
        .await
    }

    pub async fn user_by_external_id(&self, external_id: &str) -> Result<Option<User>> {
        let path = format!(
            "/user_management/users/external_id/{}",
            segment(external_id)
        );
        self.find(self.request(Method::GET, path, Access::Read))
            .await
    }

    pub async fn users_by_email(&self, email: &str) -> Result<Vec<User>> {
        let request = self
            .request(Method::GET, "/user_management/users".into(), Access::Read)
            .query("email", email)
            .query("limit", 100);
        let list: List<User> = self.call(request).await?;
        Ok(list.data)
    }

    /// One page of every user, oldest first; pass the previous page's `after`.
    pub async fn users_page(&self, after: Option<&str>) -> Result<List<User>> {
        let mut request = self
            .request(Method::GET, "/user_management/users".into(), Access::Read)
            .query("limit", 100)
            .query("order", "asc");
        if let Some(after) = after {
            request = request.query("after", after);
        }
        self.call(request).await
    }

    /// A page of the environment's events of `kinds` from `range_start` on, oldest first.
    pub async fn events_page(
        &self,
        kinds: &[&str],
        range_start: &str,
        after: Option<&str>,
    ) -> Result<ferry_wire::workos::events::EventList> {
        let mut request = self
            .request(Method::GET, "/events".into(), Access::Read)
            .query("events", kinds.join(","))
            .query("range_start", range_start)
            .query("limit", 100)
            .query("order", "asc");
        if let Some(after) = after {
            request = request.query("after", after);
        }
        self.call(request).await
    }

    pub async fn delete_user(&self, id: &str) -> Result<()> {
        self.delete(format!("/user_management/users/{}", segment(id)))
            .await
            .map(|_| ())
    }

    /// Deletes what `undo` takes away; `Ok(false)` when it was gone already
    /// (a 404: an earlier attempt whose answer was lost, or someone else).
    pub async fn delete_object(&self, object: Deletable<'_>) -> Result<bool> {
        let path = match object {
            Deletable::User(id) => format!("/user_management/users/{}", segment(id)),
            Deletable::Membership(id) => {
                format!("/user_management/organization_memberships/{}", segment(id))
            }
            Deletable::Organization(id) => format!("/organizations/{}", segment(id)),
            Deletable::Factor(id) => format!("/auth/factors/{}", segment(id)),
            Deletable::Connection(id) => format!("/connections/{}", segment(id)),
            Deletable::Invitation(id) => {
                return match self.revoke_invitation(id).await {
                    Ok(_) => Ok(true),
                    Err(error) if error.is_not_found() => Ok(false),
                    Err(error) => Err(error),
                };
            }
        };
        self.delete(path).await
    }

    async fn delete(&self, path: String) -> Result<bool> {
        let request = self.request(Method::DELETE, path, Access::Write);
        match self.api.send(&request).await {
            Ok(_) => Ok(true),
            Err(error) if error.status() == Some(404) => Ok(false),
            Err(error) => Err(WorkosError::from(error)),
        }
    }

    /// Enrolls a TOTP factor with an imported secret. Not idempotent: after a
    /// failure whose outcome is unknown, list the factors before trying again.
    pub async fn enroll_totp(
        &self,
        user_id: &str,
        secret: &Secret,
        issuer: Option<&str>,
        label: Option<&str>,
    ) -> Result<AuthenticationFactor> {
        let body = EnrollAuthFactor {
            kind: "totp".into(),
            totp_secret: Some(secret.clone()),
            totp_issuer: issuer.map(str::to_owned),
            totp_user: label.map(str::to_owned),
        };
        let request = self
            .request(
                Method::POST,
                format!("/user_management/users/{}/auth_factors", segment(user_id)),
                Access::Write,
            )
            .body(Self::body(&body))
            .once();
        let response: EnrollAuthFactorResponse = self.call(request).await?;
        Ok(response.authentication_factor)
    }

    pub async fn auth_factors(&self, user_id: &str) -> Result<Vec<AuthenticationFactor>> {
        let request = self.request(
            Method::GET,
            format!("/user_management/users/{}/auth_factors", segment(user_id)),
            Access::Read,
        );
        let list: List<AuthenticationFactor> = self.call(request).await?;
        Ok(list.data)
    }

    pub async fn create_organization(
        &self,
        organization: &CreateOrganization,
    ) -> Result<Organization> {
        let request = self
            .request(Method::POST, "/organizations".into(), Access::Write)
            .body(Self::body(organization));
        self.call(request).await
    }

    pub async fn update_organization(
        &self,
        id: &str,
        update: &UpdateOrganization,
    ) -> Result<Organization> {
        let request = self
            .request(
                Method::PUT,
                format!("/organizations/{}", segment(id)),
                Access::Write,
            )
            .body(Self::body(update));
        self.call(request).await
    }

    /// One organization by its WorkOS id; `None` for a 404.
    pub async fn organization(&self, id: &str) -> Result<Option<Organization>> {
        let path = format!("/organizations/{}", segment(id));
        self.find(self.request(Method::GET, path, Access::Read))
            .await
    }

    pub async fn organization_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Organization>> {
        let path = format!("/organizations/external_id/{}", segment(external_id));
        self.find(self.request(Method::GET, path, Access::Read))
            .await
    }

    pub async fn organizations_page(&self, after: Option<&str>) -> Result<List<Organization>> {
        let mut request = self
            .request(Method::GET, "/organizations".into(), Access::Read)
            .query("limit", 100)
            .query("order", "asc");
        if let Some(after) = after {
            request = request.query("after", after);
        }
        self.call(request).await
    }

    /// Creates an SSO connection. Safe to send again after an answer that
    /// was lost: WorkOS returns the connection of the same organization
    /// that already carries the external_id, so a retry makes no second one.
    pub async fn create_connection(&self, connection: &CreateConnection) -> Result<Connection> {
        let request = self
            .request(Method::POST, "/connections".into(), Access::Write)
            .body(Self::body(connection));
        self.call(request).await
    }

    pub async fn update_connection(
        &self,
        id: &str,
        update: &UpdateConnection,
    ) -> Result<Connection> {
        let request = self
            .request(
                Method::PATCH,
                format!("/connections/{}", segment(id)),
                Access::Write,
            )
            .body(Self::body(update));
        self.call(request).await
    }

    pub async fn connection(&self, id: &str) -> Result<Option<Connection>> {
        let path = format!("/connections/{}", segment(id));
        self.find(self.request(Method::GET, path, Access::Read))
            .await
    }

    /// Every connection of one organization, through the listing check.
    pub async fn connections_of(&self, organization_id: &str) -> Result<Vec<Connection>> {
        let page = |after: Option<String>| async move {
            let mut request = self
                .request(Method::GET, "/connections".into(), Access::Read)
                .query("organization_id", organization_id)
                .query("limit", 100)
                .query("order", "asc");
            if let Some(after) = after {
                request = request.query("after", after);
            }
            self.call::<List<Connection>>(request).await
        };
        every_object("/connections", page, |c: &Connection| &c.id).await
    }

    /// The IdP signing certificates WorkOS holds for a SAML connection.
    pub async fn signing_certificates(&self, id: &str) -> Result<Vec<String>> {
        let path = format!("/connections/{}/saml_idp_signing_certs", segment(id));
        let list: SigningCertificateList = self
            .call(self.request(Method::GET, path, Access::Read))
            .await?;
        Ok(list.data.into_iter().map(|c| c.value).collect())
    }

    /// A fresh Admin Portal link: a bearer credential valid for minutes,
    /// returned as a [`Secret`] for the one place that shows it.
    pub async fn portal_link(&self, organization_id: &str, intent: &str) -> Result<Secret> {
        let body = GeneratePortalLink {
            organization: organization_id.to_owned(),
            intent: intent.to_owned(),
            return_url: None,
        };
        let request = self
            .request(Method::POST, "/portal/generate_link".into(), Access::Write)
            .body(Self::body(&body));
        let link: PortalLink = self.call(request).await?;
        Ok(link.link)
    }

    /// Sends an invitation, which emails the invitee. Sent once, never
    /// repeated blindly (WorkOS does not deduplicate it): after an answer
    /// that was lost, the caller looks with [`Self::invitations_to`].
    pub async fn create_invitation(&self, invitation: &CreateInvitation) -> Result<Invitation> {
        let request = self
            .request(
                Method::POST,
                "/user_management/invitations".into(),
                Access::Write,
            )
            .body(Self::body(invitation))
            .once();
        self.call(request).await
    }

    /// `None` when WorkOS has no such invitation.
    pub async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        let path = format!("/user_management/invitations/{}", segment(id));
        self.find(self.request(Method::GET, path, Access::Read))
            .await
    }

    /// Every invitation to `email`, in one organization or (`None`) in
    /// any, through the listing check.
    pub async fn invitations_to(
        &self,
        email: &str,
        organization_id: Option<&str>,
    ) -> Result<Vec<Invitation>> {
        let page = |after: Option<String>| async move {
            let mut request = self
                .request(
                    Method::GET,
                    "/user_management/invitations".into(),
                    Access::Read,
                )
                .query("email", email)
                .query("limit", 100)
                .query("order", "asc");
            if let Some(organization_id) = organization_id {
                request = request.query("organization_id", organization_id);
            }
            if let Some(after) = after {
                request = request.query("after", after);
            }
            self.call::<List<Invitation>>(request).await
        };
        every_object("/user_management/invitations", page, |i: &Invitation| &i.id).await
    }

    /// Revokes a pending invitation (its link stops working; the email
    /// it sent cannot be taken back).
    pub async fn revoke_invitation(&self, id: &str) -> Result<Invitation> {
        let path = format!("/user_management/invitations/{}/revoke", segment(id));
        self.call(self.request(Method::POST, path, Access::Write))
            .await
    }

    pub async fn create_membership(
        &self,
        membership: &CreateOrganizationMembership,
    ) -> Result<OrganizationMembership> {
        let request = self
            .request(
                Method::POST,
                "/user_management/organization_memberships".into(),
                Access::Write,
            )
            .body(Self::body(membership));
        self.call(request).await
    }

    /// Whether WorkOS still holds this membership (`false` for a 404).
    pub async fn membership_exists(&self, id: &str) -> Result<bool> {
        let request = self.request(
            Method::GET,
            format!("/user_management/organization_memberships/{}", segment(id)),
            Access::Read,
        );
        Ok(self.find::<serde_json::Value>(request).await?.is_some())
    }

    /// Changes a membership's role.
    pub async fn update_membership(
        &self,
        id: &str,
        role_slug: &str,
    ) -> Result<OrganizationMembership> {
        let request = self
            .request(
                Method::PUT,
                format!("/user_management/organization_memberships/{}", segment(id)),
                Access::Write,
            )
            .body(serde_json::json!({ "role_slug": role_slug }));
        self.call(request).await
    }

    /// Every environment role. WorkOS's spec lists them unpaginated; a
    /// server that pages them anyway (its `list_metadata.after`) is
    /// followed to the end, through the listing check.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        let page = |after: Option<String>| async move {
            let mut request =
                self.request(Method::GET, "/authorization/roles".into(), Access::Read);
            if let Some(after) = &after {
                request = request.query("after", after);
            }
            let list: RoleList = self.call(request).await?;
            Ok(List {
                object: list.object,
                data: list.data,
                list_metadata: list.list_metadata.unwrap_or_default(),
            })
        };
        every_object("/authorization/roles", page, |r: &Role| &r.slug).await
    }

    pub async fn create_role(&self, role: &CreateRole) -> Result<Role> {
        let request = self
            .request(Method::POST, "/authorization/roles".into(), Access::Write)
            .body(Self::body(role));
        self.call(request).await
    }

    /// Name and description of an environment role.
    pub async fn update_role(
        &self,
        slug: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Role> {
        let request = self
            .request(
                Method::PATCH,
                format!("/authorization/roles/{}", segment(slug)),
                Access::Write,
            )
            .body(serde_json::json!({ "name": name, "description": description }));
        self.call(request).await
    }

    /// Replaces a role's permissions with `permissions` (slugs).
    pub async fn set_role_permissions(&self, slug: &str, permissions: &[String]) -> Result<Role> {
        let body = SetRolePermissions {
            permissions: permissions.to_vec(),
        };
        let request = self
            .request(
                Method::PUT,
                format!("/authorization/roles/{}/permissions", segment(slug)),
                Access::Write,
            )
            .body(Self::body(&body));
        self.call(request).await
    }

    /// One page of permissions; pass the previous page's `after`.
    pub async fn permissions_page(&self, after: Option<&str>) -> Result<List<Permission>> {
        let mut request = self
            .request(
                Method::GET,
                "/authorization/permissions".into(),
                Access::Read,
            )
            .query("limit", 100);
        if let Some(after) = after {
            request = request.query("after", after);
        }
        self.call(request).await
    }

    pub async fn create_permission(&self, permission: &CreatePermission) -> Result<Permission> {
        let request = self
            .request(
                Method::POST,
                "/authorization/permissions".into(),
                Access::Write,
            )
            .body(Self::body(permission));
        self.call(request).await
    }

    /// Memberships of a user or of an organization, one page; pass the previous page's `after`.
    pub async fn memberships_page(
        &self,
        filter: MembershipFilter<'_>,
        after: Option<&str>,
    ) -> Result<List<OrganizationMembership>> {
        let (key, value) = match filter {
            MembershipFilter::User(id) => ("user_id", id),
            MembershipFilter::Organization(id) => ("organization_id", id),
        };
        let mut request = self
            .request(
                Method::GET,
                "/user_management/organization_memberships".into(),
                Access::Read,
            )
            .query(key, value)
            .query("limit", 100);
        if let Some(after) = after {
            request = request.query("after", after);
        }
        self.call(request).await
    }

    /// Every membership of a user or an organization, page after page,
    /// through the listing check: a cursor that loops or never ends is an
    /// error, never an endless read.
    pub async fn all_memberships(
        &self,
        filter: MembershipFilter<'_>,
    ) -> Result<Vec<OrganizationMembership>> {
        every_object(
            "/user_management/organization_memberships",
            |after| async move { self.memberships_page(filter, after.as_deref()).await },
            |m: &OrganizationMembership| &m.id,
        )
        .await
    }
}

impl WorkosClient {
    /// The environment's webhook endpoints, through the listing check.
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        let page = |after: Option<String>| async move {
            let mut request = self
                .request(Method::GET, "/webhook_endpoints".into(), Access::Read)
                .query("limit", 100);
            if let Some(after) = &after {
                request = request.query("after", after);
            }
            self.call::<List<WebhookEndpoint>>(request).await
        };
        every_object("/webhook_endpoints", page, |e: &WebhookEndpoint| &e.id).await
    }

    /// Enables or disables one webhook endpoint; `Ok(false)` when it is
    /// gone. A 404 alone does not say so (a proxy or a wrong route answers
    /// 404 too): the endpoint listing is asked, and an endpoint still
    /// listed makes the 404 an error.
    pub async fn set_webhook_enabled(&self, id: &str, enabled: bool) -> Result<bool> {
        let body = UpdateWebhookEndpoint {
            status: Some(if enabled { "enabled" } else { "disabled" }.into()),
            ..UpdateWebhookEndpoint::default()
        };
        let request = self
            .request(
                Method::PATCH,
                format!("/webhook_endpoints/{}", segment(id)),
                Access::Write,
            )
            .body(Self::body(&body));
        match self.call::<WebhookEndpoint>(request).await {
            Ok(_) => Ok(true),
            Err(error) if error.status() == Some(404) => {
                let listed = self.webhook_endpoints().await?;
                if listed.iter().any(|endpoint| endpoint.id == id) {
                    Err(error)
                } else {
                    Ok(false)
                }
            }
            Err(error) => Err(error),
        }
    }
}

/// What a password sign-in came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// WorkOS accepted the password: a 200 naming this user, or a 403
    /// continuation (MFA, organization selection, email verification) that
    /// only a correct password reaches. Says how.
    Accepted(String),
    /// WorkOS answered and refused (a 4xx): the status and code.
    Refused(String),
    /// No readable answer (a 2xx without the user, 5xx or transport failure
    /// after every attempt): nothing can be concluded from it.
    Unanswered(String),
}

impl WorkosClient {
    /// Signs in with a password (the password grant): `Ok` says how, when
    /// WorkOS accepted the password, `Err` why not.
    pub async fn authenticate(
        &self,
        client_id: &str,
        api_key: &Secret,
        email: &str,
        password: &Secret,
    ) -> std::result::Result<String, String> {
        match self.sign_in(client_id, api_key, email, password).await {
            SignIn::Accepted(how) => Ok(how),
            SignIn::Refused(why) | SignIn::Unanswered(why) => Err(why),
        }
    }

    /// Signs in with a password, telling a refusal from no answer.
    pub async fn sign_in(
        &self,
        client_id: &str,
        api_key: &Secret,
        email: &str,
        password: &Secret,
    ) -> SignIn {
        let body = AuthenticateWithPassword {
            grant_type: "password".into(),
            client_id: client_id.to_owned(),
            client_secret: api_key.clone(),
            email: email.to_owned(),
            password: password.clone(),
        };
        let request = Request::post("/user_management/authenticate", Self::body(&body))
            .bucket(&self.buckets.key);
        match self.api.send(&request).await {
            // A 2xx counts only with the user it signed in, by this email:
            // `{}` or someone else is no proof the password works.
            Ok((status, body)) => {
                let answered = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|json| json.get("user")?.get("email")?.as_str().map(str::to_owned));
                match answered {
                    Some(signed_in) if signed_in.eq_ignore_ascii_case(email) => {
                        SignIn::Accepted(format!("signed in ({})", status.as_u16()))
                    }
                    _ => SignIn::Unanswered(format!(
                        "{} without the user it signed in: WorkOS's answer holds no user with this email",
                        status.as_u16()
                    )),
                }
            }
            Err(error) => {
                let body = error.body_json().unwrap_or_default();
                let code = body
                    .get("code")
                    .or_else(|| body.get("error"))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                match (error.status(), code.as_str()) {
                    // WorkOS raises these only once the password is right.
                    (Some(403), code)
                        if code.starts_with("mfa_")
                            || code == "organization_selection_required"
                            || code == "email_verification_required" =>
                    {
                        SignIn::Accepted(format!("password accepted; continues with {code} (403)"))
                    }
                    (Some(status @ 400..=499), code) if status != 429 => {
                        SignIn::Refused(format!("{status} {code}").trim_end().to_owned())
                    }
                    _ => SignIn::Unanswered(error.to_string()),
                }
            }
        }
    }
}

/// Follows a cursor listing from `after` through the listing check
/// ([`crate::http::listing`]), each object once, until it ends, an object
/// is `past` the end wanted (that object and the rest are left out), or
/// the last object kept is the end itself (`at_end`: no page is asked for
/// only to find the next object past it). A cursor handed out twice, a
/// page that repeats an object, an empty page that offers another, or more
/// than [`crate::http::listing::MAX_PAGES`] pages make it an error naming
/// `path`, never a partial answer taken as whole. Returns the objects and
/// the pages read.
pub async fn walk_cursor<T, F, Fut>(
    path: &str,
    page: &F,
    mut after: Option<String>,
    id: fn(&T) -> &str,
    past: impl Fn(&T) -> bool,
    at_end: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, u64)>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<List<T>>>,
{
    let mut all = Vec::new();
    let mut check = PageCheck::new();
    loop {
        let list = page(after.take()).await?;
        let empty = list.data.is_empty();
        let (fresh, next) = check.page(list.data, id);
        let count = fresh.len();
        let before = all.len();
        all.extend(fresh.into_iter().take_while(|item| !past(item)));
        if next == Next::Go && (all.len() - before < count || all.last().is_some_and(&at_end)) {
            return Ok((all, check.pages())); // past the end wanted, or at it
        }
        after = match next {
            Next::Go => check.cursor(empty, list.list_metadata.after),
            Next::Stop => None,
        };
        if after.is_none() {
            let pages = check.pages();
            let all = check
                .finish(all)
                .complete()
                .map_err(|why| WorkosError::from(ApiError::incomplete("WorkOS", path, why)))?;
            return Ok((all, pages));
        }
    }
}

/// Every object of a cursor listing, from its start to its end
/// ([`walk_cursor`]).
async fn every_object<T, F, Fut>(path: &str, page: F, id: fn(&T) -> &str) -> Result<Vec<T>>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<List<T>>>,
{
    walk_cursor(path, &page, None, id, |_: &T| false, |_: &T| false)
        .await
        .map(|(all, _)| all)
}

/// An object `undo` may delete, by its WorkOS id.
#[derive(Debug, Clone, Copy)]
pub enum Deletable<'a> {
    User(&'a str),
    Membership(&'a str),
    Organization(&'a str),
    Factor(&'a str),
    Connection(&'a str),
    /// Revoked, not deleted: WorkOS keeps every invitation.
    Invitation(&'a str),
}

#[derive(Debug, Clone, Copy)]
pub enum MembershipFilter<'a> {
    User(&'a str),
    Organization(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_user_management_counts_against_its_read_and_write_limits() {
        let client = WorkosClient::new(
            "http://127.0.0.1:9",
            Secret::new("sk_test_x"),
            &WorkosLimits::default(),
            RetryPolicy::default(),
        )
        .unwrap();
        let names = |path: &str, access| {
            client
                .request(Method::POST, path.into(), access)
                .bucket_names()
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("/user_management/users", Access::Write),
            ["workos writes", "workos key"]
        );
        assert_eq!(
            names("/user_management/users", Access::Read),
            ["workos reads", "workos key"]
        );
        assert_eq!(names("/organizations", Access::Write), ["workos key"]);
        assert_eq!(names("/authorization/roles", Access::Write), ["workos key"]);
    }
}
