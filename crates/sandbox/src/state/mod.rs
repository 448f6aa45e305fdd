//! The WorkOS environment the imitation keeps in memory: users (with their
//! password digests), organizations, memberships, TOTP factors, challenges
//! and pending authentications, invitations and the emails they would have
//! sent, and the rules WorkOS enforces on them (uniqueness of email and
//! external_id, metadata limits, digest shapes, membership existence and
//! duplicates, one pending invitation per address). HTTP lives in
//! `workos_api`; this module answers in domain terms ([`Failure`]).

mod authentication;
mod connections;
mod event_types;
mod events;
mod invitations;
mod invited;
mod memberships;
mod mfa;
mod organizations;
mod pagination;
mod roles;
mod rules;
mod sso;
mod users;
mod webhooks;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::hashes::HashKind;
use ferry_wire::secret::Secret;
use ferry_wire::workos::invitation::Invitation;
use ferry_wire::workos::model::{
    AuthenticationChallenge, AuthenticationFactor, Organization, OrganizationMembership,
    Permission, Role, User,
};

pub use event_types::EVENT_TYPES;
pub use invited::{InvitationAnswer, SentEmail};
pub use pagination::ListQuery;
pub use sso::{SignIn, StoredConnection};

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
    /// 422 `{code, message}` (`invalid_role`).
    Unprocessable { code: &'static str, message: String },
    /// 404 `{code, message}` (the webhook routes' `entity_not_found`).
    CodedNotFound { code: &'static str, message: String },
    /// 422 `{message, errors: [{code, field}]}` (`GET /events`).
    InvalidField { field: String, code: &'static str },
    /// 422 `{code: "invalid_request_parameters", message, errors: [{code, message}]}`.
    Validation {
        message: String,
        errors: Vec<(&'static str, String)>,
    },
}

type Outcome<T> = Result<T, Failure>;

/// A user and what only the server knows about it.
#[derive(Debug, Clone)]
struct StoredUser {
    user: User,
    password: Option<StoredPassword>,
}

/// An imported or set password as the server keeps it.
#[derive(Debug, Clone)]
struct StoredPassword {
    kind: HashKind,
    digest: Secret,
    /// Where an `ssha256` digest's salt went.
    position: Option<crate::hashes::SaltPosition>,
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

/// What the admin route dumps: the whole environment, without digests or secrets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkosDump {
    pub users: Vec<DumpedUser>,
    pub organizations: Vec<Organization>,
    pub memberships: Vec<OrganizationMembership>,
    pub auth_factors: Vec<AuthenticationFactor>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// SSO connections with the options they were created with (no secrets).
    #[serde(default)]
    pub connections: Vec<StoredConnection>,
    /// Invitations as they stand now, without the token that accepts them.
    #[serde(default)]
    pub invitations: Vec<Invitation>,
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
    /// Hash types refused with `invalid_password_hash` whatever the digest
    /// (`--refuse-hash-type`), so tests can prove what a target that does
    /// not take a layout makes of a run.
    refused_hash_types: BTreeSet<HashKind>,
    /// Boxed, as are the memberships: a map filled in id order leaves its
    /// nodes half empty, and a node holds its values whole (a million
    /// users cost 300 MB more unboxed).
    users: BTreeMap<String, Box<StoredUser>>,
    users_by_email: HashMap<String, String>,
    users_by_external_id: HashMap<String, String>,
    organizations: BTreeMap<String, Organization>,
    organizations_by_external_id: HashMap<String, String>,
    /// Stored without the embedded `user` and `organization_name`, which
    /// are filled in when read, so updating a user touches no membership.
    memberships: BTreeMap<String, Box<OrganizationMembership>>,
    memberships_by_user: HashMap<String, BTreeSet<String>>,
    memberships_by_organization: HashMap<String, BTreeSet<String>>,
    factors: BTreeMap<String, StoredFactor>,
    challenges: HashMap<String, StoredChallenge>,
    pending: HashMap<String, PendingAuthentication>,
    roles: Roles,
    events: EventLog,
    webhooks: Webhooks,
    /// SSO connections by id, with what was sent for them.
    connections: BTreeMap<String, StoredConnection>,
    invitations: Invitations,
}

/// Invitations and the emails they sent (kept by `invitations`).
#[derive(Debug, Default)]
struct Invitations {
    by_id: BTreeMap<String, StoredInvitation>,
    /// Lower-cased address → the ids of its invitations.
    by_email: HashMap<String, BTreeSet<String>>,
    /// Token → id.
    by_token: HashMap<String, String>,
    /// Every invitation email and resend, oldest first: what tests read to
    /// prove no invitee got two.
    emails: Vec<SentEmail>,
}

/// An invitation as the server keeps it: stored `pending` until revoked or
/// accepted, and shown `expired` once `expires` has passed.
#[derive(Debug, Clone)]
struct StoredInvitation {
    invitation: Invitation,
    token: String,
    expires: chrono::DateTime<Utc>,
}

/// Roles and permissions (kept by `roles`).
#[derive(Debug, Default)]
struct Roles {
    /// Environment roles by slug.
    environment: BTreeMap<String, Role>,
    /// Organization roles: organization id → slug → role.
    organization: BTreeMap<String, BTreeMap<String, Role>>,
    permissions: BTreeMap<String, Permission>,
    /// Whether `admin` and `member` were made yet (on the first question about roles).
    seeded: bool,
}

/// How many events of each type the log keeps (oldest dropped first): the
/// sandbox's stand-in for WorkOS's 30 days, bounded for a million-user load.
pub const RETAINED_EVENTS: usize = 100_000;

/// One event, its payload kept as JSON text (a quarter of a `Value`'s size).
#[derive(Debug, Clone)]
struct StoredEvent {
    id: String,
    event: &'static str,
    organization_id: Option<String>,
    data: Box<str>,
    /// Kept as an instant: the date filters compare it on every listing.
    created_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Default)]
struct EventLog {
    sequence: u64,
    /// Per type, oldest first.
    events: HashMap<&'static str, VecDeque<StoredEvent>>,
    /// Per event type, the time of the newest event dropped: a listing of
    /// that type from before then is refused rather than answered short.
    dropped: HashMap<&'static str, chrono::DateTime<Utc>>,
}

/// What `GET /events` asks for.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub page: ListQuery,
    /// Event types; at least one.
    pub events: Vec<String>,
    pub range_start: Option<String>,
    pub range_end: Option<String>,
    pub organization_id: Option<String>,
}

/// Webhook endpoints by id (kept by `webhooks`).
#[derive(Debug, Default)]
struct Webhooks {
    endpoints: BTreeMap<String, ferry_wire::workos::events::WebhookEndpoint>,
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `prefix_01…`: 24 Crockford digits of `sequence`, so ids sort in creation
/// order (cursors compare ids) and look like WorkOS's ULIDs.
fn sequence_id(prefix: &str, sequence: u64) -> String {
    let mut digits = [b'0'; 24];
    let mut value = sequence;
    for slot in digits.iter_mut().rev() {
        *slot = CROCKFORD[(value % 32) as usize];
        value /= 32;
    }
    format!("{prefix}_01{}", String::from_utf8_lossy(&digits))
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl WorkosState {
    /// The next id for an object of kind `prefix` (see [`sequence_id`]).
    fn next_id(&mut self, prefix: &str) -> String {
        self.sequence += 1;
        sequence_id(prefix, self.sequence)
    }

    /// A random token for pending authentications and secrets.
    fn token(&mut self) -> String {
        let bytes: [u8; 20] = rand::random();
        data_encoding::BASE32_NOPAD.encode(&bytes)
    }

    /// Everything, without digests or secrets (the admin route's dump).
    /// Refuses these hash types from now on, and no other (`--refuse-hash-type`).
    pub fn refuse_hash_types(&mut self, kinds: impl IntoIterator<Item = HashKind>) {
        self.refused_hash_types = kinds.into_iter().collect();
    }

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
                        .map(|password| password.kind.label().to_owned()),
                })
                .collect(),
            organizations: self.organizations.values().cloned().collect(),
            memberships: self
                .memberships
                .values()
                .map(|m| self.render_membership(m))
                .collect(),
            auth_factors: self.factors.values().map(|f| f.factor.clone()).collect(),
            roles: self.all_roles(),
            permissions: self.all_permissions(),
            connections: self.stored_connections(),
            invitations: self.dumped_invitations(),
        }
    }
}
