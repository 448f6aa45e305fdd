//! WorkOS API objects, request bodies and error bodies (User Management,
//! Organizations, MFA). Timestamps are ISO 8601 strings, as the API sends them.
//!
//! Deserialising tolerates unknown fields; nullable fields are `Option`.
//! Request types skip unset optional fields so "omitted" stays omitted (an
//! update leaves those fields unchanged).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secret::Secret;

/// WorkOS metadata: string values only (≤ 50 keys, keys ≤ 40, values ≤ 600 chars).
pub type Metadata = BTreeMap<String, String>;

/// `object: "user"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct User {
    pub object: String,
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    #[serde(default)]
    pub last_sign_in_at: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub locale: Option<String>,
    /// The full name, when one was given (`name` on create or update).
    #[serde(default)]
    pub name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /user_management/users`. Either `password` or
/// `password_hash` + `password_hash_type`, never both.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateUser {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub password: Option<Secret>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub password_hash: Option<Secret>,
    /// `bcrypt`, `firebase-scrypt`, `ssha`, `ssha256`, `scrypt`, `pbkdf2`, `argon2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash_type: Option<String>,
    /// `prefix` or `suffix` (the default): where the salt went when an
    /// `ssha256` digest was computed. Only with `password_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_salt_position: Option<String>,
}

/// `PUT /user_management/users/{id}`: omitted fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A BCP 47 tag, e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub password: Option<Secret>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub password_hash: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash_type: Option<String>,
    /// As in [`CreateUser::password_salt_position`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_salt_position: Option<String>,
}

/// `object: "organization"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub object: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub domains: Vec<OrganizationDomain>,
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub allow_profiles_outside_organization: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationDomain {
    pub object: String,
    pub id: String,
    pub organization_id: String,
    pub domain: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub verification_strategy: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /organizations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateOrganization {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_data: Option<Vec<DomainData>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
}

/// `PUT /organizations/{id}`: omitted fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UpdateOrganization {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_data: Option<Vec<DomainData>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainData {
    pub domain: String,
    /// `pending` or `verified`.
    pub state: String,
}

/// `object: "organization_membership"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationMembership {
    pub object: String,
    pub id: String,
    pub user_id: String,
    pub organization_id: String,
    #[serde(default)]
    pub organization_name: Option<String>,
    /// `active`, `inactive` or `pending`.
    pub status: String,
    #[serde(default)]
    pub directory_managed: bool,
    pub role: SlimRole,
    #[serde(default)]
    pub roles: Vec<SlimRole>,
    #[serde(default)]
    pub custom_attributes: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlimRole {
    pub slug: String,
}

/// An environment or organization role (`GET /authorization/roles`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub object: String,
    pub id: String,
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `EnvironmentRole` or `OrganizationRole`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "resource_type_organization")]
    pub resource_type_slug: String,
    /// Permission slugs; `None` when the answer did not say (never read
    /// as "no permissions").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    pub created_at: String,
    pub updated_at: String,
}

/// `{"object": "list", "data": [...]}`: roles come unpaginated in the
/// spec, but a server that pages them says so in `list_metadata`, and its
/// `after` cursor is followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleList {
    pub object: String,
    pub data: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_metadata: Option<ListMetadata>,
}

/// `POST /authorization/roles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateRole {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PUT /authorization/roles/{slug}/permissions`: the whole set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SetRolePermissions {
    pub permissions: Vec<String>,
}

/// A permission (`GET /authorization/permissions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub object: String,
    pub id: String,
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub system: bool,
    #[serde(default = "resource_type_organization")]
    pub resource_type_slug: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /authorization/permissions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreatePermission {
    pub slug: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn resource_type_organization() -> String {
    "organization".into()
}

/// `POST /user_management/organization_memberships`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CreateOrganizationMembership {
    pub user_id: String,
    pub organization_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_slug: Option<String>,
    /// Several roles at once (needs multiple roles enabled in WorkOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_slugs: Option<Vec<String>>,
}

/// `object: "authentication_factor"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationFactor {
    pub object: String,
    pub id: String,
    /// `totp`, `sms`, `generic_otp`, `webauthn`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpDetails>,
    pub created_at: String,
    pub updated_at: String,
}

/// The TOTP part of a factor. `secret`, `qr_code` and `uri` only come back
/// from enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpDetails {
    pub issuer: String,
    pub user: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub uri: Option<Secret>,
}

/// `POST /user_management/users/{id}/auth_factors`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnrollAuthFactor {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "wire::optional_secret"
    )]
    pub totp_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_user: Option<String>,
}

/// The answer to an enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollAuthFactorResponse {
    pub authentication_factor: AuthenticationFactor,
    pub authentication_challenge: AuthenticationChallenge,
}

/// `object: "authentication_challenge"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationChallenge {
    pub object: String,
    pub id: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    pub authentication_factor_id: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `POST /auth/challenges/{id}/verify`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyChallengeResponse {
    pub challenge: AuthenticationChallenge,
    pub valid: bool,
}

/// `POST /user_management/authenticate` with the password grant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuthenticateWithPassword {
    pub grant_type: String,
    pub client_id: String,
    #[serde(serialize_with = "wire::secret")]
    pub client_secret: Secret,
    pub email: String,
    #[serde(serialize_with = "wire::secret")]
    pub password: Secret,
}

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticateResponse {
    pub user: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    pub access_token: String,
    pub refresh_token: String,
    #[serde(default)]
    pub authentication_method: Option<String>,
}

/// A 403 from authenticate that asks for one more step
/// (`email_verification_required`, `mfa_challenge`, `mfa_enrollment`,
/// `organization_selection_required`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationContinuation {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_authentication_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verification_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authentication_factors: Vec<FactorReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<OrganizationChoice>,
}

/// A factor named in an `mfa_challenge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorReference {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// An organization offered in `organization_selection_required`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationChoice {
    pub id: String,
    pub name: String,
}

/// A cursor list: `{"object":"list","data":[…],"list_metadata":{"before","after"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    pub object: String,
    pub data: Vec<T>,
    pub list_metadata: ListMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListMetadata {
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Error shape 1: `{code, message, errors?}` (creation errors, 422, 403 continuations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeError {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    pub code: String,
    /// Absent from some documented shapes (`{errors: [{code, field}]}`).
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Error shape: `{message?, errors: [{code, field}]}` with no top-level
/// code (the spec's validation 422s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationError {
    #[serde(default)]
    pub message: Option<String>,
    pub errors: Vec<FieldError>,
}

/// Error shape 2: `{message}` alone (most 404/409/422).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageError {
    pub message: String,
}

/// Error shape 3: `{error, error_description}` (only from authenticate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}

/// Any of the three shapes, for a client that must handle all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorBody {
    Code(CodeError),
    OAuth(OAuthError),
    Validation(ValidationError),
    Message(MessageError),
}

impl ErrorBody {
    /// The machine-readable code, when the shape has one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Code(error) => Some(&error.code),
            Self::OAuth(error) => Some(&error.error),
            Self::Validation(_) | Self::Message(_) => None,
        }
    }

    /// The codes nested in `errors[]` (e.g. `email_not_available`).
    pub fn nested_codes(&self) -> Vec<&str> {
        match self {
            Self::Code(CodeError {
                errors: Some(errors),
                ..
            })
            | Self::Validation(ValidationError { errors, .. }) => {
                errors.iter().map(|error| error.code.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Request bodies must carry secrets in plain text on the wire, while
/// [`Secret`]'s own `Serialize` masks them (for logs and reports).
pub(crate) mod wire {
    use serde::Serializer;

    use crate::secret::Secret;

    pub fn secret<S: Serializer>(value: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.expose())
    }

    pub fn optional_secret<S: Serializer>(
        value: &Option<Secret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(value.expose()),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_shapes_are_told_apart() {
        let nested: ErrorBody = serde_json::from_str(
            r#"{"code":"user_creation_error","message":"x","errors":[{"code":"email_not_available","message":"y"}]}"#,
        )
        .unwrap();
        assert_eq!(nested.code(), Some("user_creation_error"));
        assert_eq!(nested.nested_codes(), ["email_not_available"]);
        let oauth: ErrorBody =
            serde_json::from_str(r#"{"error":"invalid_grant","error_description":"d"}"#).unwrap();
        assert_eq!(oauth.code(), Some("invalid_grant"));
        let message: ErrorBody = serde_json::from_str(r#"{"message":"Not found"}"#).unwrap();
        assert_eq!(message.code(), None);
    }

    /// Bodies as the spec documents them, route by route: ferry branches on
    /// the code wherever the shape puts it.
    #[test]
    fn documented_error_bodies_yield_their_codes() {
        let cases: &[(&str, &str, Option<&str>, &[&str])] = &[
            // POST /user_management/users: the create's nested shape.
            (
                "create conflict",
                r#"{"code":"user_creation_error","message":"Could not create user.","errors":[{"code":"email_not_available","message":"This email is not available."}]}"#,
                Some("user_creation_error"),
                &["email_not_available"],
            ),
            // PUT /user_management/users/{id}: the code at the top level.
            (
                "update conflict",
                r#"{"code":"external_id_already_used","message":"This external_id is already in use."}"#,
                Some("external_id_already_used"),
                &[],
            ),
            // POST memberships: 422 invalid_role.
            (
                "invalid role",
                r#"{"code":"invalid_role","message":"Role 'x' is not a valid role."}"#,
                Some("invalid_role"),
                &[],
            ),
            // POST /authorization/roles: 409.
            (
                "role conflict",
                r#"{"code":"role_slug_conflict","message":"A role with slug 'x' already exists."}"#,
                Some("role_slug_conflict"),
                &[],
            ),
            // POST /user_management/authenticate: the OAuth shape, and its 429.
            (
                "wrong client secret",
                r#"{"error":"invalid_client","error_description":"Invalid client secret."}"#,
                Some("invalid_client"),
                &[],
            ),
            (
                "sign-in limit",
                r#"{"code":"too_many_requests","message":"The request failed due to: too_many_requests."}"#,
                Some("too_many_requests"),
                &[],
            ),
            // A validation 422 with no top-level code, and one without a message.
            (
                "validation",
                r#"{"message":"Validation failed.","errors":[{"code":"required","field":"events"}]}"#,
                None,
                &["required"],
            ),
            (
                "validation without a message",
                r#"{"errors":[{"code":"required","field":"event.action"}]}"#,
                None,
                &["required"],
            ),
            // An older shape seen from the API: a code without a message.
            (
                "bare code",
                r#"{"code":"unauthorized"}"#,
                Some("unauthorized"),
                &[],
            ),
        ];
        for (name, body, code, nested) in cases {
            let parsed: ErrorBody =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed.code(), *code, "{name}");
            assert_eq!(parsed.nested_codes(), *nested, "{name}");
        }
    }

    #[test]
    fn create_user_never_prints_a_password() {
        let request = CreateUser {
            email: "a@b.c".into(),
            password_hash: Some(Secret::new("$2b$10$abc")),
            ..CreateUser::default()
        };
        assert!(!format!("{request:?}").contains("$2b$"));
        // …but the request body carries it.
        let body = serde_json::to_value(&request).unwrap();
        assert_eq!(body["password_hash"], "$2b$10$abc");
        assert!(body.get("password").is_none());
    }
}
