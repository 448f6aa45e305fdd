//! Why a record was skipped, rejected or failed, why a user needs a
//! password reset, or what a person should know about a record that went
//! through: a stable snake_case [`ReasonCode`] that lists, reports and
//! `ferry plan` group and count by, and the detail a person reads (which
//! may name ids and values, so it is never grouped on).
//!
//! The codes are documented in one table, `docs/reasons.md`; a test checks
//! that table against [`ReasonCode::ALL`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// A reason: its code, and the words for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
}

impl Reason {
    pub fn new(code: ReasonCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// The same code, with `before` and `: ` put ahead of the detail.
    pub fn within(self, before: impl fmt::Display) -> Self {
        Self {
            detail: format!("{before}: {}", self.detail),
            ..self
        }
    }

    /// A reason read back from the journal: a row an earlier ferry wrote
    /// has a detail but no code.
    pub fn stored(code: Option<&str>, detail: String) -> Self {
        Self {
            code: code
                .and_then(ReasonCode::parse)
                .unwrap_or(ReasonCode::Unclassified),
            detail,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

macro_rules! reason_codes {
    ($($(#[doc = $doc:literal])+ $variant:ident = $name:literal,)+) => {
        /// Every reason ferry gives for a record, by what it means.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ReasonCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ReasonCode {
            pub const ALL: &'static [ReasonCode] = &[$(Self::$variant,)+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }

            /// What the code means, in one line (the table in `docs/reasons.md`).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc),+).trim_start(),)+
                }
            }
        }
    };
}

reason_codes! {
    // Left out by the source or the plan.
    /// The user is banned in Clerk and the plan skips banned users.
    Banned = "banned",
    /// The user is locked in Clerk and the plan skips locked users.
    Locked = "locked",
    /// The user has no email address (phone-only, username-only), or the hook left it empty.
    NoEmail = "no_email",
    /// The legacy export lists several addresses and does not say which is primary.
    PrimaryEmailUnknown = "primary_email_unknown",
    /// The export's row for the user cannot be read (the detail names the file, line and why).
    ExportRowInvalid = "export_row_invalid",
    /// In the export, but no longer in Clerk.
    DeletedInClerk = "deleted_in_clerk",
    // The plan's script.
    /// A hook returned `()` or `skip(...)` for the record.
    HookSkipped = "hook_skipped",
    /// A hook rejected the record (`throw "why"`).
    HookRejected = "hook_rejected",
    /// A hook failed (a script error, a limit reached).
    HookFailed = "hook_failed",
    /// A hook returned a value ferry cannot use (wrong type, unknown field).
    HookInvalidResult = "hook_invalid_result",
    // WorkOS's rules, checked before a request is spent.
    /// The metadata is over WorkOS's limits and the plan rejects such users.
    MetadataOverLimit = "metadata_over_limit",
    /// The email is not one WorkOS takes.
    EmailInvalid = "email_invalid",
    /// The external_id is not one WorkOS takes.
    ExternalIdInvalid = "external_id_invalid",
    /// A name is missing or too long.
    NameInvalid = "name_invalid",
    /// An earlier record of the run has the same email; WorkOS allows one user per email.
    EmailClaimed = "email_claimed",
    /// An earlier record of the run has the same external_id.
    ExternalIdClaimed = "external_id_claimed",
    // Meeting what WorkOS holds.
    /// WorkOS has a user with this email and the plan says `on_conflict: skip`.
    ConflictSkipped = "conflict_skipped",
    /// WorkOS has a user with this email and the plan says `on_conflict: fail`.
    ConflictFailed = "conflict_failed",
    /// WorkOS has a user with this email, linked to another external_id.
    ConflictLinkedElsewhere = "conflict_linked_elsewhere",
    /// WorkOS reported a conflict, but nothing it lists explains it.
    ConflictUnresolved = "conflict_unresolved",
    /// A create was answered with an object that does not carry the external_id ferry sent.
    AmbiguousCreateAnswer = "ambiguous_create_answer",
    /// The journal's WorkOS object now carries another external_id: ferry leaves it alone.
    RelinkedOutsideFerry = "relinked_outside_ferry",
    /// The journal's WorkOS object is gone from WorkOS.
    TargetGone = "target_gone",
    /// WorkOS refused the request (a 4xx; the detail has its code).
    WorkosRejected = "workos_rejected",
    /// The request did not succeed after every attempt (5xx, timeouts, connection errors), or was not sent.
    WorkosFailed = "workos_failed",
    // TOTP factors.
    /// The exported TOTP secret is not Base32, so no authenticator could match it.
    TotpSecretInvalid = "totp_secret_invalid",
    // Memberships and roles.
    /// The membership's organization was not migrated.
    OrganizationNotMigrated = "organization_not_migrated",
    /// The membership's user was not migrated.
    UserNotMigrated = "user_not_migrated",
    /// `map_role` left the membership's role out.
    RoleLeftOut = "role_left_out",
    /// The membership's role was not migrated by the roles step.
    RoleNotMigrated = "role_not_migrated",
    /// A role or permission maps to a slug WorkOS does not take.
    RoleSlugInvalid = "role_slug_invalid",
    // Enterprise SSO (connections not created, the handoff, SSO users).
    /// The Clerk connection is inactive: nothing to move.
    ConnectionInactive = "connection_inactive",
    /// The Clerk connection belongs to no organization; WorkOS connections live in one.
    ConnectionWithoutOrganization = "connection_without_organization",
    /// The OIDC connection's client secret is not in the plan (Clerk never returns it).
    OidcSecretMissing = "oidc_secret_missing",
    /// Clerk lacks what WorkOS needs (SAML: a metadata URL, or entity id, SSO URL and certificate; OIDC: a discovery URL and client id).
    ConnectionIncomplete = "connection_incomplete",
    /// The IdP must send its sign-ins to WorkOS's ACS URL and SP entity id (`acs: workos`).
    IdpSettingsChange = "idp_settings_change",
    /// The IdP's signing certificate has expired; the IdP admin must upload a new one.
    CertificateExpired = "certificate_expired",
    /// A SCIM directory: WorkOS has no API to create one; the IdP admin sets it up in the Admin Portal.
    DirectoryHandoff = "directory_handoff",
    /// The SSO user's email domain is none of the connection's: WorkOS would refuse the sign-in.
    SsoDomainNotClaimed = "sso_domain_not_claimed",
    /// The SSO user's connection was not created in WorkOS.
    SsoConnectionNotCreated = "sso_connection_not_created",
    /// An SSO user whose sign-in links to the migrated user by email.
    SsoUser = "sso_user",
    // Invitations.
    /// The invitee already has a membership in the WorkOS organization (or, for an application invitation, a WorkOS user): nobody is emailed.
    InviteeAlreadyMember = "invitee_already_member",
    /// WorkOS already holds a pending invitation to this email there, made before ferry: nobody is emailed again.
    AlreadyInvited = "already_invited",
    /// The invitation's role does not exist in WorkOS.
    RoleMissing = "role_missing",
    /// The plan does not say `send: true`: the pending invitation is listed, and nobody is emailed.
    InvitationListed = "invitation_listed",
    /// Revoked in WorkOS because it was revoked in Clerk (the email it sent cannot be taken back).
    RevokedInClerk = "revoked_in_clerk",
    // Passwords (the password-resets list).
    /// WorkOS cannot import this hasher.
    HashUnsupported = "hash_unsupported",
    /// The digest does not have its hasher's form.
    HashMalformed = "hash_malformed",
    /// The digest's parameters are outside what WorkOS accepts.
    HashParametersOutOfRange = "hash_parameters_out_of_range",
    /// A hasher without a digest, a digest without a hasher, or no digest in the export.
    HashIncomplete = "hash_incomplete",
    /// The plan says `passwords: skip`.
    PasswordsSkipped = "passwords_skipped",
    /// No conversion of the user's hasher signed a probe user in on the target.
    HashProbeFailed = "hash_probe_failed",
    // Notes on records that went through (`ferry plan`, the report).
    /// The Clerk record changed since ferry wrote it.
    SourceChanged = "source_changed",
    /// WorkOS holds the record already (ferry's own, or one with its external_id).
    AlreadyInWorkos = "already_in_workos",
    /// WorkOS has a user with this email and the plan says `on_conflict: update`.
    ConflictUpdated = "conflict_updated",
    /// The membership is created once its user and organization are migrated.
    AwaitingMigration = "awaiting_migration",
    /// Changed in WorkOS outside ferry, and left alone.
    ChangedOutsideFerry = "changed_outside_ferry",
    /// Metadata over WorkOS's limits was dropped and the rest kept.
    MetadataDropped = "metadata_dropped",
    /// A WorkOS role ferry adopted differs from the Clerk role it stands for.
    RoleAdoptedDiffers = "role_adopted_differs",
    /// A request's answer was lost; WorkOS lists what it made.
    AnswerLost = "answer_lost",
    /// Deleted from WorkOS by undo or sync.
    Deleted = "deleted",
    // What undo and sync keep in WorkOS (the kept lists).
    /// Kept by undo: its person signed in since ferry made it.
    SignedInSince = "signed_in_since",
    /// Kept: ferry adopted it (it was in WorkOS before), and deletes only what it created.
    Adopted = "adopted",
    /// Kept with its user, who is kept.
    KeptWithItsUser = "kept_with_its_user",
    /// Kept: an organization with members left in it.
    HasMembers = "has_members",
    /// Kept: the invitation was accepted in WorkOS; its invitee is a member now.
    InvitationAccepted = "invitation_accepted",
    /// Kept: WorkOS's API cannot delete it (roles, their permissions).
    NotDeletable = "not_deletable",
    /// Kept by sync: deleted in Clerk, and the plan says `sync.on_deleted: report`.
    KeptByPlan = "kept_by_plan",
    /// Recorded by an earlier ferry, before reasons had codes.
    Unclassified = "unclassified",
}

impl ReasonCode {
    /// The code of this name, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|code| code.as_str() == name)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_serializes_as_its_name() {
        for &code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
            assert!(!code.meaning().is_empty(), "{code}");
        }
    }

    #[test]
    fn a_row_without_a_code_reads_as_unclassified() {
        assert_eq!(
            Reason::stored(None, "old words".into()),
            Reason::new(ReasonCode::Unclassified, "old words")
        );
        assert_eq!(
            Reason::stored(Some("banned"), "banned in Clerk".into()).code,
            ReasonCode::Banned
        );
    }
}
