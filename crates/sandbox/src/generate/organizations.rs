//! Organizations and memberships: every organization gets an admin first,
//! then members with built-in and custom roles; some users join several.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use super::planted::{EPOCH_MS, GroundTruth};
use super::vocabulary::{ORG_KINDS, ORG_WORDS, ROLES, pick, random_id};
use crate::tenant::public_user_data;
use ferry_wire::clerk::model::{Organization, OrganizationMembership, User};

pub(super) fn generate_organizations(
    rng: &mut ChaCha8Rng,
    users: &[User],
    count: usize,
    truth: &mut GroundTruth,
) -> (Vec<Organization>, Vec<OrganizationMembership>) {
    let mut organizations = Vec::with_capacity(count);
    let mut created_at = EPOCH_MS + 3_600_000;
    for index in 0..count {
        created_at += rng.random_range(60_000..3_600_000);
        let name = format!("{} {} {index}", pick(rng, ORG_WORDS), pick(rng, ORG_KINDS));
        let slug = name.to_lowercase().replace(' ', "-");
        let mut public_metadata = Map::new();
        if rng.random_bool(0.5) {
            public_metadata.insert("tier".into(), Value::from(pick(rng, &["gold", "silver"])));
        }
        organizations.push(Organization {
            object: "organization".into(),
            id: format!("org_2{}", random_id(rng, 26)),
            name,
            slug,
            image_url: Some("https://img.clerk.com/sandbox-org".into()),
            has_image: false,
            members_count: None,
            max_allowed_memberships: 0,
            admin_delete_enabled: true,
            public_metadata,
            private_metadata: Map::new(),
            created_by: None,
            created_at,
            updated_at: created_at,
        });
    }
    truth.organizations = count as u64;
    if count == 0 {
        return (organizations, Vec::new());
    }

    let mut memberships = Vec::new();
    let mut has_admin = vec![false; count];
    for user in users {
        let joined = match rng.random_range(0..100) {
            0..55 => 0,
            55..90 => 1,
            90..97 => 2,
            _ => 3,
        }
        .min(count);
        if joined > 1 {
            truth.multi_org_users += 1;
        }
        let mut chosen: Vec<usize> = Vec::with_capacity(joined);
        while chosen.len() < joined {
            let candidate = rng.random_range(0..count);
            if !chosen.contains(&candidate) {
                chosen.push(candidate);
            }
        }
        for organization_index in chosen {
            let organization = &organizations[organization_index];
            let (role, role_name) = if !has_admin[organization_index] {
                ROLES[0]
            } else {
                match rng.random_range(0..100) {
                    0..10 => ROLES[0],
                    10..85 => ROLES[1],
                    85..93 => ROLES[2],
                    _ => ROLES[3],
                }
            };
            has_admin[organization_index] |= role == "org:admin";
            *truth.roles.entry(role.to_owned()).or_default() += 1;
            let at =
                user.created_at.max(organization.created_at) + rng.random_range(1_000..100_000);
            memberships.push(OrganizationMembership {
                id: format!("orgmem_2{}", random_id(rng, 25)),
                object: "organization_membership".into(),
                role: role.to_owned(),
                role_name: Some(role_name.to_owned()),
                permissions: if role == "org:admin" {
                    vec![
                        "org:sys_memberships:manage".into(),
                        "org:sys_profile:manage".into(),
                    ]
                } else {
                    vec!["org:sys_memberships:read".into()]
                },
                public_metadata: Map::new(),
                private_metadata: Map::new(),
                organization: organization.clone(),
                public_user_data: Some(public_user_data(user)),
                created_at: at,
                updated_at: at,
            });
        }
    }
    truth.memberships = memberships.len() as u64;
    (organizations, memberships)
}
