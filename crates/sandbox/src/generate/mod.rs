//! The tenant generator: a realistic Clerk tenant, deterministic under a
//! seed, with every kind of user a migration meets (password, social-only,
//! both, multi-email, unverified, phone-only, username-only, TOTP, SMS
//! second factor, backup codes, legacy hashers, odd metadata, banned and
//! locked users, organizations with custom roles and multi-org users, role
//! and permission definitions, domains verified and not, enterprise
//! connections, pending invitations), the matching Dashboard CSV rows, the
//! plaintext passwords, and a [`GroundTruth`] of what was planted so
//! `assess` and `verify` can be tested.
//!
//! Speed: digests come from a small pool of passwords hashed once per run
//! (bcrypt at cost 4 rather than Clerk's 10, argon2id with 4 MiB / 1 pass, the
//! least WorkOS accepts, pbkdf2_sha256 and scrypt_firebase with light
//! parameters), shared by many users; 100,000 users take well under a
//! second. md5 digests have the right shape but random content: WorkOS has
//! no type for them, and ferry must not send them.

mod digests;
mod invitations;
mod metadata;
mod organizations;
pub mod planted;
mod roles;
mod sso;
mod users;
mod vocabulary;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::export::ExportRow;
use super::tenant::Tenant;
use digests::PasswordPool;
use planted::EPOCH_MS;
pub use planted::{BCRYPT_COST, GroundTruth, PasswordRow};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratorOptions {
    pub users: usize,
    pub organizations: usize,
    pub seed: u64,
}

impl Default for GeneratorOptions {
    fn default() -> Self {
        Self {
            users: 200,
            organizations: 20,
            seed: 1,
        }
    }
}

/// A generated tenant and everything known about it.
#[derive(Debug, Clone)]
pub struct GeneratedTenant {
    pub tenant: Tenant,
    /// The Dashboard CSV export of the same users, in the same order.
    pub export: Vec<ExportRow>,
    /// Users whose digest verifies (bcrypt, argon2id) and their plaintext.
    pub passwords: Vec<PasswordRow>,
    pub truth: GroundTruth,
}

/// Generates a tenant. Deterministic: the same options give the same
/// tenant; only its invitations' times follow the hour it is made in (see
/// [`generate_at`]).
pub fn generate(options: GeneratorOptions) -> GeneratedTenant {
    generate_at(options, chrono::Utc::now().timestamp_millis())
}

/// Generates a tenant as [`generate`] would at `now_ms` (Unix ms): whether
/// an invitation is pending, expired or expiring soon counts from the hour
/// `now_ms` falls in, so one hour gives one tenant, every time.
pub fn generate_at(options: GeneratorOptions, now_ms: i64) -> GeneratedTenant {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let pool = PasswordPool::new(&mut rng);
    let mut truth = GroundTruth {
        seed: options.seed,
        bcrypt_cost: BCRYPT_COST,
        ..GroundTruth::default()
    };
    let mut users = Vec::with_capacity(options.users);
    let mut export = Vec::with_capacity(options.users);
    let mut passwords = Vec::new();
    let mut created_at = EPOCH_MS;

    let mut previous_email = String::new();
    for index in 0..options.users {
        created_at += rng.random_range(1_000..600_000);
        let previous = (!previous_email.is_empty()).then_some(previous_email.as_str());
        let (user, row, password) =
            users::generate_user(&mut rng, &pool, index, previous, created_at, &mut truth);
        if !row.primary_email_address.is_empty() {
            previous_email.clone_from(&row.primary_email_address);
        }
        users.push(user);
        export.push(row);
        passwords.extend(password);
    }

    let (organizations, mut memberships) =
        organizations::generate_organizations(&mut rng, &users, options.organizations, &mut truth);
    truth.users = users.len() as u64;
    let (roles, permissions) = roles::generate_roles();
    let domains = roles::generate_domains(&organizations);
    let sso = sso::plant(
        &mut rng,
        &mut users,
        &mut export,
        &organizations,
        &mut memberships,
        &domains,
        &mut truth,
    );
    let invited = invitations::plant(
        options.seed,
        now_ms,
        &users,
        &organizations,
        &memberships,
        &roles,
        &mut truth,
    );
    GeneratedTenant {
        tenant: Tenant {
            users,
            organizations,
            memberships,
            roles,
            permissions,
            domains,
            enterprise_connections: sso.enterprise_connections,
            saml_connections: sso.saml_connections,
            scim_directories: sso.scim_directories,
            organization_invitations: invited.organization_invitations,
            invitations: invited.invitations,
        },
        export,
        passwords,
        truth,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::hashes::{self, HashKind};
    use ferry_wire::clerk::model::User;

    /// 2026-12-07T12:34:56Z: a fixed hour, so the invitations are the same on every run.
    const NOW_MS: i64 = 1_796_646_896_000;

    fn small() -> GeneratedTenant {
        generate_at(
            GeneratorOptions {
                users: 2000,
                organizations: 30,
                seed: 42,
            },
            NOW_MS,
        )
    }

    #[test]
    fn is_deterministic_under_a_seed() {
        let a = small();
        let b = small();
        assert_eq!(a.tenant, b.tenant);
        assert_eq!(a.truth, b.truth);
        let c = generate(GeneratorOptions {
            seed: 43,
            ..GeneratorOptions {
                users: 2000,
                organizations: 30,
                seed: 0,
            }
        });
        assert_ne!(a.tenant.users[0].id, c.tenant.users[0].id);
    }

    /// Everything but the invitations, as seed 42 gave it before
    /// invitations existed: they come from a stream of their own.
    #[test]
    fn invitations_leave_the_seed_s_tenant_as_it_was() {
        use sha2::{Digest, Sha256};
        let tenant = small().tenant;
        let mut digest = Sha256::new();
        for part in [
            serde_json::to_string(&tenant.users),
            serde_json::to_string(&tenant.organizations),
            serde_json::to_string(&tenant.memberships),
            serde_json::to_string(&tenant.roles),
            serde_json::to_string(&tenant.permissions),
            serde_json::to_string(&tenant.domains),
            serde_json::to_string(&tenant.enterprise_connections),
            serde_json::to_string(&tenant.saml_connections),
            serde_json::to_string(&tenant.scim_directories),
        ] {
            digest.update(part.unwrap().as_bytes());
        }
        assert_eq!(
            hex::encode(digest.finalize()),
            "41885542571d47da0b07eed758313348e1251c08918b4fbf522c15a8a0709b25",
        );
    }

    #[test]
    fn one_hour_gives_one_tenant_and_the_next_other_invitation_times() {
        let options = GeneratorOptions {
            users: 300,
            organizations: 12,
            seed: 5,
        };
        let hour = 3_600_000;
        let start = NOW_MS - NOW_MS % hour;
        let early = generate_at(options, start);
        let late = generate_at(options, start + hour - 1);
        assert_eq!(early.tenant, late.tenant);
        assert_eq!(early.truth, late.truth);
        let next = generate_at(options, start + hour);
        assert_eq!(next.tenant.users, early.tenant.users);
        let ids = |g: &GeneratedTenant| -> Vec<String> {
            g.tenant
                .organization_invitations
                .iter()
                .map(|i| i.id.clone())
                .collect()
        };
        assert_eq!(ids(&next), ids(&early), "the same invitations");
        let created = |g: &GeneratedTenant| g.tenant.organization_invitations[0].created_at;
        assert_eq!(created(&next), created(&early) + hour, "an hour later");
    }

    #[test]
    fn plants_organization_invitations_of_every_kind() {
        let generated = small();
        let tenant = &generated.tenant;
        let truth = &generated.truth;
        let status = |i: &ferry_wire::clerk::invitation::OrganizationInvitation| {
            crate::clerk_invitations::status_at(&i.status, i.expires_at, NOW_MS).to_owned()
        };
        let count = |wanted: &str| {
            tenant
                .organization_invitations
                .iter()
                .filter(|i| status(i) == wanted)
                .count() as u64
        };
        assert_eq!(count("pending"), truth.organization_invitations_pending);
        assert_eq!(count("accepted"), truth.organization_invitations_accepted);
        assert_eq!(count("revoked"), truth.organization_invitations_revoked);
        assert_eq!(count("expired"), truth.organization_invitations_expired);
        // 1.5 ordinary pending invitations an organization, and the rare shapes.
        let organizations = tenant.organizations.len() as u64;
        assert!(
            (organizations..=3 * organizations).contains(&truth.organization_invitations_pending),
            "{truth:?}"
        );
        for (name, planted) in [
            (
                "to members",
                truth.organization_invitations_pending_to_members,
            ),
            (
                "unknown role",
                truth.organization_invitations_pending_unknown_role,
            ),
            (
                "over 30 days",
                truth.organization_invitations_pending_over_30_days,
            ),
            (
                "under a day",
                truth.organization_invitations_pending_under_a_day,
            ),
            ("accepted", truth.organization_invitations_accepted),
            ("revoked", truth.organization_invitations_revoked),
        ] {
            assert!(planted > 0, "no {name}");
        }
        assert!(
            tenant
                .organization_invitations
                .iter()
                .any(|i| i.status == "expired")
                && tenant
                    .organization_invitations
                    .iter()
                    .any(|i| i.status == "pending" && status(i) == "expired"),
            "expired both ways"
        );

        let pending: Vec<_> = tenant
            .organization_invitations
            .iter()
            .filter(|i| status(i) == "pending")
            .collect();
        let roles: BTreeSet<&str> = tenant.roles.iter().map(|r| r.key.as_str()).collect();
        let by_role = |f: &dyn Fn(&str) -> bool| pending.iter().filter(|i| f(&i.role)).count();
        let unknown = by_role(&|role| !roles.contains(role)) as u64;
        assert_eq!(unknown, truth.organization_invitations_pending_unknown_role);
        assert!(by_role(&|role| role == "org:admin") > 0);
        let custom =
            by_role(&|role| roles.contains(role) && role != "org:admin" && role != "org:member");
        assert!(custom > 0);
        assert!(
            by_role(&|role| role == "org:member") > pending.len() / 2,
            "most are members"
        );

        // One pending invitation per address and organization, as Clerk allows.
        let unique: BTreeSet<(String, String)> = pending
            .iter()
            .map(|i| {
                (
                    i.organization().unwrap().to_owned(),
                    i.email_address.to_lowercase(),
                )
            })
            .collect();
        assert_eq!(unique.len(), pending.len());

        // Members, by organization, and which of them are admins.
        let mut members: BTreeMap<(&str, String), &str> = BTreeMap::new();
        for membership in &tenant.memberships {
            let data = membership.public_user_data.as_ref().unwrap();
            let identifier = data.identifier.clone().unwrap_or_default().to_lowercase();
            members.insert(
                (membership.organization.id.as_str(), identifier),
                &membership.role,
            );
            members.insert(
                (membership.organization.id.as_str(), data.user_id.clone()),
                &membership.role,
            );
        }
        let users: BTreeSet<String> = tenant
            .users
            .iter()
            .flat_map(|u| &u.email_addresses)
            .map(|e| e.email_address.to_lowercase())
            .collect();
        let mut to_members = 0;
        for invitation in &pending {
            let organization = invitation.organization().unwrap();
            let email = invitation.email_address.to_lowercase();
            if members.contains_key(&(organization, email.clone())) {
                to_members += 1;
            } else {
                assert!(!users.contains(&email), "{email} is a user's");
            }
            if let Some(inviter) = &invitation.inviter_id {
                assert_eq!(
                    members.get(&(organization, inviter.clone())).copied(),
                    Some("org:admin"),
                    "{} was sent by an admin of its organization",
                    invitation.id
                );
                let data = invitation.public_inviter_data.as_ref().unwrap();
                assert_eq!(&data.user_id, inviter);
            }
        }
        assert_eq!(
            to_members,
            truth.organization_invitations_pending_to_members
        );
        assert!(pending.iter().any(|i| i.inviter_id.is_some()));
        assert!(pending.iter().any(|i| i.inviter_id.is_none()));

        let day = 86_400_000;
        let ahead = |f: &dyn Fn(i64) -> bool| {
            pending
                .iter()
                .filter(|i| f(i.expires_at.unwrap() - NOW_MS))
                .count() as u64
        };
        assert_eq!(
            ahead(&|left| left > 30 * day),
            truth.organization_invitations_pending_over_30_days
        );
        assert_eq!(
            ahead(&|left| left < day),
            truth.organization_invitations_pending_under_a_day
        );
        assert!(ahead(&|left| (day..=30 * day).contains(&left)) as usize > pending.len() / 2);
        for invitation in &tenant.organization_invitations {
            assert!(invitation.created_at < NOW_MS);
            assert!(invitation.created_at <= invitation.updated_at);
        }
    }

    #[test]
    fn plants_application_invitations() {
        let generated = small();
        let truth = &generated.truth;
        let statuses: Vec<&str> = generated
            .tenant
            .invitations
            .iter()
            .map(|i| crate::clerk_invitations::status_at(&i.status, i.expires_at, NOW_MS))
            .collect();
        assert_eq!(
            statuses,
            ["pending", "pending", "pending", "accepted", "revoked"]
        );
        assert_eq!(
            (
                truth.invitations_pending,
                truth.invitations_accepted,
                truth.invitations_revoked
            ),
            (3, 1, 1)
        );
        let revoked = &generated.tenant.invitations[4];
        assert!(revoked.revoked);
        // A tenant without organizations still has them; and none to organizations.
        let lone = generate_at(
            GeneratorOptions {
                users: 20,
                organizations: 0,
                seed: 3,
            },
            NOW_MS,
        );
        assert_eq!(lone.tenant.invitations.len(), 5);
        assert!(lone.tenant.organization_invitations.is_empty());
    }

    #[test]
    fn plants_every_category() {
        let truth = small().truth;
        assert_eq!(truth.users, 2000);
        for (name, count) in [
            ("password", truth.password_users),
            ("both", truth.password_and_social),
            ("multi-email", truth.multi_email),
            ("unverified", truth.unverified_primary),
            ("phone-only", truth.phone_only),
            ("username-only", truth.username_only),
            ("totp", truth.totp),
            ("sms", truth.sms_second_factor),
            ("backup codes", truth.backup_codes),
            ("banned", truth.banned),
            ("locked", truth.locked),
            ("memberships", truth.memberships),
            ("multi-org", truth.multi_org_users),
            ("over limits", truth.metadata_over_limits),
            ("plus-address collisions", truth.plus_address_collisions),
        ] {
            assert!(count > 0, "no {name} users planted");
        }
        for provider in vocabulary::PROVIDERS {
            assert!(
                truth.social_only.get(*provider).copied().unwrap_or(0) > 0,
                "{provider}"
            );
        }
        for hasher in [
            "bcrypt",
            "argon2id",
            "scrypt_firebase",
            "md5",
            "pbkdf2_sha256",
        ] {
            assert!(
                truth.hashers.get(hasher).copied().unwrap_or(0) > 0,
                "{hasher}"
            );
        }
        assert_eq!(truth.roles.len(), 4, "{:?}", truth.roles);
    }

    #[test]
    fn the_truth_matches_the_tenant() {
        let generated = small();
        let users = &generated.tenant.users;
        let count = |f: &dyn Fn(&User) -> bool| users.iter().filter(|u| f(u)).count() as u64;
        let truth = &generated.truth;
        assert_eq!(count(&|u| u.password_enabled), truth.password_users);
        assert_eq!(count(&|u| u.totp_enabled), truth.totp);
        assert_eq!(
            count(&|u| u.sms_second_factor().is_some()),
            truth.sms_second_factor
        );
        assert_eq!(
            count(&|u| u.primary_email_address_id.is_none()),
            truth.phone_only + truth.username_only
        );
        assert_eq!(count(&|u| u.email_addresses.len() > 1), truth.multi_email);
        assert_eq!(count(&|u| u.banned), truth.banned);
        let digests = generated
            .export
            .iter()
            .filter(|r| r.password_digest.is_some())
            .count() as u64;
        assert_eq!(digests, truth.password_users);
        assert_eq!(generated.tenant.memberships.len() as u64, truth.memberships);

        // Every plus-addressed primary collides with another user's once stripped.
        let primaries: Vec<String> = users
            .iter()
            .filter_map(|u| u.primary_email().map(|e| e.email_address.clone()))
            .collect();
        let plus: Vec<&String> = primaries.iter().filter(|e| e.contains('+')).collect();
        assert_eq!(plus.len() as u64, truth.plus_address_collisions);
        for email in plus {
            let (local, domain) = email.split_once('@').unwrap();
            let stripped = format!("{}@{domain}", local.split('+').next().unwrap());
            assert!(
                primaries.contains(&stripped),
                "{email} collides with no one"
            );
        }
    }

    #[test]
    fn plants_enterprise_sign_in() {
        let generated = small();
        let tenant = &generated.tenant;
        let truth = &generated.truth;
        let connections = &tenant.enterprise_connections;
        assert_eq!(connections.len() as u64, truth.enterprise_connections);
        let shapes = |f: &dyn Fn(&ferry_wire::clerk::sso::EnterpriseConnection) -> bool| {
            connections.iter().filter(|c| f(c)).count()
        };
        let legacy = |c: &ferry_wire::clerk::sso::EnterpriseConnection| {
            let id = &c.saml_connection.as_ref().unwrap().id;
            tenant
                .saml_connections
                .iter()
                .find(|s| &s.id == id)
                .unwrap()
                .clone()
        };
        assert_eq!(
            shapes(&|c| c.organization_id.is_none()),
            1,
            "without an organization"
        );
        assert_eq!(shapes(&|c| !c.active), 1, "inactive");
        assert_eq!(shapes(&|c| c.is_oidc()), 2, "OIDC");
        assert_eq!(shapes(&|c| c.domains.len() > 1), 1, "multi-domain");
        assert_eq!(
            shapes(&|c| c
                .saml_connection
                .as_ref()
                .is_some_and(|s| s.idp_metadata_url.is_some())),
            1,
            "SAML by metadata URL"
        );
        assert_eq!(
            shapes(&|c| c.saml_connection.is_some()
                && legacy(c).idp_certificate_expires_at < Some(planted::EPOCH_MS)),
            1,
            "expired certificate"
        );
        assert_eq!(tenant.scim_directories.len(), 2);
        let sso_users = tenant
            .users
            .iter()
            .filter(|u| !u.enterprise_sign_ins().is_empty())
            .count() as u64;
        assert_eq!(sso_users, truth.sso_users);
        assert!(truth.sso_users >= 9, "{}", truth.sso_users);
        assert_eq!(truth.sso_users_outside_domains, 1);
        // The export and the memberships follow the moved addresses.
        for (user, row) in tenant.users.iter().zip(&generated.export) {
            let primary = user.primary_email().map(|e| e.email_address.clone());
            assert_eq!(
                primary.unwrap_or_default(),
                row.primary_email_address,
                "{}",
                user.id
            );
        }
        for membership in &tenant.memberships {
            let data = membership.public_user_data.as_ref().unwrap();
            let user = tenant.users.iter().find(|u| u.id == data.user_id).unwrap();
            assert_eq!(
                data.identifier,
                crate::tenant::public_user_data(user).identifier
            );
        }
    }

    #[test]
    fn side_file_passwords_verify_against_the_export() {
        let generated = small();
        let digests: BTreeMap<&str, &ExportRow> = generated
            .export
            .iter()
            .map(|row| (row.id.as_str(), row))
            .collect();
        // Every user whose digest WorkOS can take once converted is listed.
        let listed: BTreeSet<&str> = generated
            .passwords
            .iter()
            .map(|entry| entry.password_hasher.as_str())
            .collect();
        assert_eq!(
            listed,
            BTreeSet::from(["argon2id", "bcrypt", "pbkdf2_sha256", "scrypt_firebase"])
        );
        let native = generated.passwords.iter().filter_map(|entry| {
            let kind = match entry.password_hasher.as_str() {
                "bcrypt" => HashKind::Bcrypt,
                "argon2id" => HashKind::Argon2,
                _ => return None,
            };
            Some((entry, kind))
        });
        for (entry, kind) in native.take(40) {
            let row = digests[entry.user_id.as_str()];
            let digest = row.password_digest.as_ref().unwrap().expose();
            assert!(!format!("{entry:?}").contains(entry.password.expose()));
            assert!(
                hashes::verify(kind, digest, entry.password.expose(), None),
                "{}",
                entry.user_id
            );
        }
    }
}
