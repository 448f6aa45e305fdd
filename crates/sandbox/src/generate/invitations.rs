//! Invitations: to the organizations (most pending, with built-in, custom
//! and deleted roles, with and without an inviter who is an admin there,
//! expiring within a day, past WorkOS's 30 days or in between, one to a
//! user who is a member already) and to the application, with accepted,
//! revoked and expired ones beside them.
//!
//! They come from a random stream of their own (stream 2 of the seed; the
//! digests' salts use 1), so every user, organization, membership and
//! connection a seed gives is the one it gave before invitations existed.
//! Their times count from the hour the tenant is made, not from the
//! tenant's 2023 epoch: whether an invitation is pending depends on now.
//! Within one hour a seed gives the same invitations, and each keeps its
//! planted status for at least an hour after.

use std::collections::HashMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use super::planted::GroundTruth;
use super::vocabulary::{FIRST_NAMES, LAST_NAMES, local_part, pick, random_id};
use ferry_wire::clerk::invitation::{
    Invitation, OrganizationInvitation, PublicInviterData, PublicOrganizationData,
};
use ferry_wire::clerk::model::{Organization, OrganizationMembership, Role, User};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Ordinary pending invitations per organization: 0 to this many (1.5 on
/// average), and never more than [`MAX_PENDING`] in all, so a
/// million-user tenant's 10,000 organizations get some 15,000.
const MAX_PENDING_PER_ORGANIZATION: usize = 3;
const MAX_PENDING: u64 = 20_000;

/// The first organization and every 25th after it get one invitation of
/// each rare shape: a deleted role, accepted, revoked, expired while
/// pending, and stored `expired`.
const RARE_EVERY: usize = 25;

/// A role no role definition has: a custom role deleted since the
/// invitation was sent.
pub(super) const DELETED_ROLE: (&str, &str) = ("org:contractor", "Contractor");

pub(super) struct Planted {
    pub organization_invitations: Vec<OrganizationInvitation>,
    pub invitations: Vec<Invitation>,
}

/// The start of the hour `now_ms` falls in: what invitation times count from.
pub(super) fn anchor(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(HOUR_MS)
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pending,
    Accepted,
    Revoked,
    /// Stored `pending`, its `expires_at` past: served `expired`.
    LapsedPending,
    /// Stored `expired`.
    Expired,
}

struct Planter<'a> {
    rng: ChaCha8Rng,
    /// The hour the tenant is made ([`anchor`]).
    now: i64,
    roles: &'a [Role],
    /// Fresh addresses made so far, which keeps each one unique.
    addresses: u64,
    truth: &'a mut GroundTruth,
}

pub(super) fn plant(
    seed: u64,
    now: i64,
    users: &[User],
    organizations: &[Organization],
    memberships: &[OrganizationMembership],
    roles: &[Role],
    truth: &mut GroundTruth,
) -> Planted {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(2);
    let mut planter = Planter {
        rng,
        now: anchor(now),
        roles,
        addresses: 0,
        truth,
    };
    // Each organization's memberships, found once: a tenant may hold 10,000
    // organizations and half a million memberships.
    let mut members_of: HashMap<&str, Vec<&OrganizationMembership>> = HashMap::new();
    for membership in memberships {
        members_of
            .entry(membership.organization.id.as_str())
            .or_default()
            .push(membership);
    }
    let mut organization_invitations = Vec::new();
    // Whether an invitation to a member is still owed (the first
    // organization's may have no member with an address).
    let mut owe_member = false;
    for (index, organization) in organizations.iter().enumerate() {
        let members = members_of
            .get(organization.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let admins: Vec<&OrganizationMembership> = members
            .iter()
            .copied()
            .filter(|m| m.role == "org:admin")
            .collect();
        let with_address = |m: &&&OrganizationMembership| {
            m.public_user_data
                .as_ref()
                .and_then(|d| d.identifier.as_deref())
                .is_some_and(|identifier| identifier.contains('@'))
        };
        let mut invite = |planter: &mut Planter, email: String, role, kind| {
            // Nobody invites themselves (an admin's own address may be invited).
            let inviter = planter
                .inviter(&admins)
                .filter(|m| !identifier(m).eq_ignore_ascii_case(&email));
            let invitation =
                planter.organization_invitation(organization, email, role, inviter, kind);
            organization_invitations.push(invitation);
        };
        for _ in 0..planter.rng.random_range(0..=MAX_PENDING_PER_ORGANIZATION) {
            if planter.truth.organization_invitations_pending >= MAX_PENDING {
                break;
            }
            let email = planter.fresh_address(Some(organization));
            let role = planter.role();
            invite(&mut planter, email, role, Kind::Pending);
        }
        if index % RARE_EVERY == 0 {
            owe_member = true;
            let deleted = (DELETED_ROLE.0.to_owned(), DELETED_ROLE.1.to_owned());
            let email = planter.fresh_address(Some(organization));
            invite(&mut planter, email, deleted, Kind::Pending);
            planter.truth.organization_invitations_pending_unknown_role += 1;
            // An accepted invitation is how a member came in.
            let email = match members.iter().rfind(with_address) {
                Some(member) => identifier(member),
                None => planter.fresh_address(Some(organization)),
            };
            let role = planter.role();
            invite(&mut planter, email, role, Kind::Accepted);
            for kind in [Kind::Revoked, Kind::LapsedPending, Kind::Expired] {
                let email = planter.fresh_address(Some(organization));
                let role = planter.role();
                invite(&mut planter, email, role, kind);
            }
        }
        if owe_member && let Some(member) = members.iter().find(with_address) {
            let member_role = planter.named_role("org:member");
            invite(&mut planter, identifier(member), member_role, Kind::Pending);
            planter.truth.organization_invitations_pending_to_members += 1;
            owe_member = false;
        }
    }
    let invitations = planter.application_invitations(users);
    Planted {
        organization_invitations,
        invitations,
    }
}

/// A member's address: their identifier, which is their primary email
/// when it holds an `@` (usernames and phone numbers never do).
fn identifier(member: &OrganizationMembership) -> String {
    member
        .public_user_data
        .as_ref()
        .and_then(|d| d.identifier.clone())
        .unwrap_or_default()
}

impl Planter<'_> {
    /// An address no user of the tenant has: generated users' local parts
    /// never hold a `-`.
    fn fresh_address(&mut self, organization: Option<&Organization>) -> String {
        self.addresses += 1;
        let first = local_part(pick(&mut self.rng, FIRST_NAMES));
        let last = local_part(pick(&mut self.rng, LAST_NAMES));
        let domain = match (organization, self.rng.random_range(0..3)) {
            (Some(organization), 0 | 1) => format!("{}.example", organization.slug),
            (_, 0) => "contractors.test".to_owned(),
            _ => "personal.test".to_owned(),
        };
        format!("{first}.{last}-invite{}@{domain}", self.addresses)
    }

    /// `(key, name)` of a role the tenant has (its key when undefined).
    fn named_role(&self, key: &str) -> (String, String) {
        let name = self
            .roles
            .iter()
            .find(|r| r.key == key)
            .map_or_else(|| key.to_owned(), |r| r.name.clone());
        (key.to_owned(), name)
    }

    /// Most invitees become members, some admins, some get a custom role.
    fn role(&mut self) -> (String, String) {
        let custom: Vec<&Role> = self
            .roles
            .iter()
            .filter(|r| r.key != "org:admin" && r.key != "org:member")
            .collect();
        match self.rng.random_range(0..100) {
            0..15 => self.named_role("org:admin"),
            15..35 if !custom.is_empty() => {
                let role = custom[self.rng.random_range(0..custom.len())];
                (role.key.clone(), role.name.clone())
            }
            _ => self.named_role("org:member"),
        }
    }

    /// Six invitations in ten name who sent them: an admin of the organization.
    fn inviter<'m>(
        &mut self,
        admins: &[&'m OrganizationMembership],
    ) -> Option<&'m OrganizationMembership> {
        if admins.is_empty() || !self.rng.random_bool(0.6) {
            return None;
        }
        Some(admins[self.rng.random_range(0..admins.len())])
    }

    /// How long until a pending invitation expires, from the hour the
    /// tenant is made: some within a day, some past the 30 days WorkOS allows (Clerk
    /// allows 365), most in between; never within two hours, so it is
    /// still what it was planted as for an hour after the tenant is made.
    fn expires_in(&mut self) -> i64 {
        match self.rng.random_range(0..100) {
            0..12 => self.rng.random_range(2 * HOUR_MS..DAY_MS - HOUR_MS),
            12..24 => self.rng.random_range(31 * DAY_MS..90 * DAY_MS),
            _ => self
                .rng
                .random_range(DAY_MS + 2 * HOUR_MS..30 * DAY_MS - 2 * HOUR_MS),
        }
    }

    /// `(created_at, updated_at, expires_at)` of an invitation of `kind`,
    /// counted in the ground truth.
    fn times(&mut self, kind: Kind) -> (i64, i64, i64) {
        match kind {
            Kind::Pending => {
                let ahead = self.expires_in();
                let truth = &mut *self.truth;
                truth.organization_invitations_pending += 1;
                truth.organization_invitations_pending_over_30_days +=
                    u64::from(ahead > 30 * DAY_MS);
                truth.organization_invitations_pending_under_a_day += u64::from(ahead < DAY_MS);
                let created = self.now - self.rng.random_range(HOUR_MS..20 * DAY_MS);
                (created, created, self.now + ahead)
            }
            Kind::Accepted | Kind::Revoked => {
                if kind == Kind::Accepted {
                    self.truth.organization_invitations_accepted += 1;
                } else {
                    self.truth.organization_invitations_revoked += 1;
                }
                let created = self.now - self.rng.random_range(30 * DAY_MS..200 * DAY_MS);
                let changed = created + self.rng.random_range(HOUR_MS..10 * DAY_MS);
                (created, changed, created + 30 * DAY_MS)
            }
            Kind::LapsedPending | Kind::Expired => {
                self.truth.organization_invitations_expired += 1;
                let created = self.now - self.rng.random_range(40 * DAY_MS..200 * DAY_MS);
                let expires = created + 30 * DAY_MS;
                let updated = if kind == Kind::Expired {
                    expires
                } else {
                    created
                };
                (created, updated, expires)
            }
        }
    }

    /// Three in ten carry public metadata, which Clerk moves to the
    /// membership once the invitation is accepted.
    fn metadata(&mut self) -> Map<String, Value> {
        let mut metadata = Map::new();
        if self.rng.random_range(0..10) < 3 {
            let team = pick(&mut self.rng, &["sales", "support", "engineering"]);
            metadata.insert("team".into(), Value::from(team));
        }
        metadata
    }

    fn organization_invitation(
        &mut self,
        organization: &Organization,
        email_address: String,
        (role, role_name): (String, String),
        inviter: Option<&OrganizationMembership>,
        kind: Kind,
    ) -> OrganizationInvitation {
        let id = format!("orginv_2{}", random_id(&mut self.rng, 26));
        let (created_at, updated_at, expires_at) = self.times(kind);
        let inviter = inviter.and_then(|m| m.public_user_data.as_ref());
        OrganizationInvitation {
            object: "organization_invitation".into(),
            id,
            email_address,
            role,
            role_name: Some(role_name),
            organization_id: Some(organization.id.clone()),
            public_organization_data: Some(PublicOrganizationData {
                id: organization.id.clone(),
                name: Some(organization.name.clone()),
                slug: Some(organization.slug.clone()),
            }),
            inviter_id: inviter.map(|d| d.user_id.clone()),
            public_inviter_data: inviter.map(|d| PublicInviterData {
                user_id: d.user_id.clone(),
                first_name: d.first_name.clone(),
                last_name: d.last_name.clone(),
                identifier: d.identifier.clone(),
            }),
            status: match kind {
                Kind::Pending | Kind::LapsedPending => "pending",
                Kind::Accepted => "accepted",
                Kind::Revoked => "revoked",
                Kind::Expired => "expired",
            }
            .into(),
            public_metadata: self.metadata(),
            private_metadata: Map::new(),
            expires_at: Some(expires_at),
            created_at,
            updated_at,
        }
    }

    /// Three pending invitations to sign up (expiring within a day, in two
    /// weeks, past 30 days), one a user accepted, one revoked.
    fn application_invitations(&mut self, users: &[User]) -> Vec<Invitation> {
        let mut invitations = Vec::new();
        let mut add = |planter: &mut Self, email_address: String, status: &str, times| {
            let (created_at, updated_at, expires_at) = times;
            invitations.push(Invitation {
                object: "invitation".into(),
                id: format!("inv_2{}", random_id(&mut planter.rng, 26)),
                email_address,
                public_metadata: planter.metadata(),
                revoked: status == "revoked",
                status: status.into(),
                expires_at: Some(expires_at),
                created_at,
                updated_at,
            });
        };
        for (days_ago, ahead) in [(2, 6 * HOUR_MS), (3, 14 * DAY_MS), (4, 45 * DAY_MS)] {
            let email = self.fresh_address(None);
            let created = self.now - days_ago * DAY_MS;
            add(self, email, "pending", (created, created, self.now + ahead));
            self.truth.invitations_pending += 1;
        }
        let created = self.now - 90 * DAY_MS;
        let (accepted, revoked) = (created + DAY_MS, created + 3 * DAY_MS);
        let expires = created + 30 * DAY_MS;
        // The user it brought in, when the tenant has one with an address.
        let email = match users.iter().find_map(|u| u.primary_email()) {
            Some(email) => email.email_address.clone(),
            None => self.fresh_address(None),
        };
        add(self, email, "accepted", (created, accepted, expires));
        self.truth.invitations_accepted += 1;
        let email = self.fresh_address(None);
        add(self, email, "revoked", (created, revoked, expires));
        self.truth.invitations_revoked += 1;
        invitations
    }
}
