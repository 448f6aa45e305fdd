//! The tenant generator: a realistic Clerk tenant, deterministic under a
//! seed, with every kind of user a migration meets (password, social-only,
//! both, multi-email, unverified, phone-only, username-only, TOTP, SMS
//! second factor, backup codes, legacy hashers, odd metadata, banned and
//! locked users, organizations with custom roles and multi-org users), the
//! matching Dashboard CSV rows, the plaintext passwords, and a
//! [`GroundTruth`] of what was planted so `assess` and `verify` can be tested.
//!
//! Speed: digests come from a small pool of passwords hashed once per run
//! (bcrypt at cost 4 rather than Clerk's 10, argon2id with 4 MiB / 1 pass, the least WorkOS accepts),
//! shared by many users; 100,000 users take well under a second. Legacy
//! digests other than argon2id (scrypt_firebase, md5, pbkdf2_sha256) have the
//! right shape but random content: nothing can verify them, as in a real
//! tenant where ferry must not send them.

use std::collections::BTreeMap;

use argon2::password_hash::PasswordHasher;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::export::ExportRow;
use super::tenant::Tenant;
use crate::clerk::model::{
    EmailAddress, ExternalAccount, IdentificationLink, Organization, OrganizationMembership,
    PhoneNumber, PublicUserData, User, Verification,
};
use crate::secret::Secret;

/// The cost of the synthetic bcrypt digests (Clerk's own are 10).
pub const BCRYPT_COST: u32 = 4;
const PASSWORD_POOL: usize = 16;
/// 2023-01-01T00:00:00Z in ms: the tenant's first sign-up.
const EPOCH_MS: i64 = 1_672_531_200_000;

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

/// One line of the passwords side file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRow {
    pub user_id: String,
    /// Empty for username-only users.
    pub email: String,
    pub username: String,
    pub password: String,
    pub password_hasher: String,
}

/// What the generator planted, by category. Categories overlap (a TOTP user
/// is also a password user); `social_only` is keyed by Clerk provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub users: u64,
    /// Users with a password digest in the export.
    pub password_users: u64,
    pub social_only: BTreeMap<String, u64>,
    pub password_and_social: u64,
    /// Social accounts whose email is not the user's primary address.
    pub oauth_email_mismatch: u64,
    /// Users with more than one email address.
    pub multi_email: u64,
    /// Users whose primary email is not verified.
    pub unverified_primary: u64,
    pub phone_only: u64,
    pub username_only: u64,
    pub totp: u64,
    /// TOTP users whose secret is not in the export.
    pub totp_not_exported: u64,
    pub sms_second_factor: u64,
    pub backup_codes: u64,
    /// Password users by `password_hasher`.
    pub hashers: BTreeMap<String, u64>,
    pub banned: u64,
    pub locked: u64,
    pub organizations: u64,
    pub memberships: u64,
    /// Memberships by Clerk role.
    pub roles: BTreeMap<String, u64>,
    /// Users in more than one organization.
    pub multi_org_users: u64,
    /// Users whose metadata cannot become WorkOS metadata as is
    /// (more than 50 keys, a key over 40 characters or a value over 600).
    pub metadata_over_limits: u64,
    /// Users by metadata shape: `empty`, `flat`, `nested`, `large`.
    pub metadata_shapes: BTreeMap<String, u64>,
    pub bcrypt_cost: u32,
}

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Linus",
    "Margaret",
    "Dennis",
    "Hedy",
    "Tim",
    "Katherine",
    "Niklaus",
    "Sophie",
    "Yukihiro",
    "Anita",
    "John",
    "Zoë",
    "José",
    "Łukasz",
    "Ngozi",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Wirth",
    "Wilson",
    "Matsumoto",
    "Borg",
    "McCarthy",
    "O'Neil",
    "García",
    "Nowak",
    "Okafor",
];
const DOMAINS: &[&str] = &[
    "acme.test",
    "globex.test",
    "initech.test",
    "example.com",
    "umbrella.test",
];
const ORG_WORDS: &[&str] = &[
    "Blue", "River", "Atlas", "Nimbus", "Quartz", "Harbor", "Summit", "Maple", "Orbit", "Cedar",
    "Falcon", "Lumen",
];
const ORG_KINDS: &[&str] = &["Labs", "Systems", "Group", "Works", "Partners", "Studio"];
const PROVIDERS: &[&str] = &["oauth_google", "oauth_microsoft", "oauth_github"];
const ROLES: &[(&str, &str)] = &[
    ("org:admin", "Admin"),
    ("org:member", "Member"),
    ("org:billing_manager", "Billing manager"),
    ("org:viewer", "Viewer"),
];
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// How a user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login {
    Password,
    SocialOnly(&'static str),
    PasswordAndSocial(&'static str),
    PhoneOnly,
    UsernameOnly,
}

/// Digests hashed once per run and shared.
struct PasswordPool {
    passwords: Vec<String>,
    bcrypt: Vec<String>,
    argon2id: Vec<String>,
}

impl PasswordPool {
    fn new(rng: &mut ChaCha8Rng) -> Self {
        let passwords: Vec<String> = (0..PASSWORD_POOL)
            .map(|_| format!("Sandbox-{}!", random_id(rng, 12)))
            .collect();
        let bcrypt = passwords
            .iter()
            .map(|password| {
                let salt: [u8; 16] = rng.random();
                bcrypt::hash_with_salt(password, BCRYPT_COST, salt)
                    .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
                    .unwrap_or_default()
            })
            .collect();
        let argon2id = passwords
            .iter()
            .map(|password| {
                let salt: [u8; 16] = rng.random();
                argon2::Params::new(4096, 1, 1, None)
                    .ok()
                    .map(|params| {
                        argon2::Argon2::new(
                            argon2::Algorithm::Argon2id,
                            argon2::Version::V0x13,
                            params,
                        )
                    })
                    .and_then(|hasher| {
                        hasher
                            .hash_password_with_salt(password.as_bytes(), &salt)
                            .ok()
                    })
                    .map(|hash| hash.to_string())
                    .unwrap_or_default()
            })
            .collect();
        Self {
            passwords,
            bcrypt,
            argon2id,
        }
    }
}

fn random_id(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn verification(status: &str, strategy: &str) -> Option<Verification> {
    Some(Verification {
        object: Some(if strategy.starts_with("from_oauth") {
            "verification_from_oauth".into()
        } else {
            "verification_otp".into()
        }),
        status: status.into(),
        strategy: Some(strategy.into()),
        attempts: None,
        expire_at: None,
    })
}

/// Generates a tenant. Deterministic: the same options give the same tenant.
pub fn generate(options: GeneratorOptions) -> GeneratedTenant {
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

    for index in 0..options.users {
        created_at += rng.random_range(1_000..600_000);
        let (user, row, password) = generate_user(&mut rng, &pool, index, created_at, &mut truth);
        users.push(user);
        export.push(row);
        passwords.extend(password);
    }

    let (organizations, memberships) =
        generate_organizations(&mut rng, &users, options.organizations, &mut truth);
    truth.users = users.len() as u64;
    GeneratedTenant {
        tenant: Tenant {
            users,
            organizations,
            memberships,
        },
        export,
        passwords,
        truth,
    }
}

fn generate_user(
    rng: &mut ChaCha8Rng,
    pool: &PasswordPool,
    index: usize,
    created_at: i64,
    truth: &mut GroundTruth,
) -> (User, ExportRow, Option<PasswordRow>) {
    let id = format!("user_2{}", random_id(rng, 26));
    let ident = |n: usize, rng: &mut ChaCha8Rng| format!("idn_2{}{n}", random_id(rng, 25));
    let first = pick(rng, FIRST_NAMES).to_owned();
    let last = pick(rng, LAST_NAMES).to_owned();
    let login = match rng.random_range(0..100) {
        0..55 => Login::Password,
        55..75 => Login::SocialOnly(pick(rng, PROVIDERS)),
        75..87 => Login::PasswordAndSocial(pick(rng, PROVIDERS)),
        87..93 => Login::PhoneOnly,
        _ => Login::UsernameOnly,
    };
    let has_email = !matches!(login, Login::PhoneOnly | Login::UsernameOnly);
    let has_password = matches!(
        login,
        Login::Password | Login::PasswordAndSocial(_) | Login::UsernameOnly
    );
    let local = format!(
        "{}.{}{index}",
        first
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), ""),
        last.to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );

    // Emails: primary, maybe extra addresses, maybe an unverified primary.
    let mut email_addresses = Vec::new();
    let mut external_accounts = Vec::new();
    let mut unverified_primary = false;
    if has_email {
        let domain = pick(rng, DOMAINS);
        let primary = format!("{local}@{domain}");
        unverified_primary = matches!(login, Login::Password) && rng.random_range(0..100) < 6;
        let mut addresses = vec![(primary, !unverified_primary)];
        if rng.random_range(0..100) < 10 {
            let extra = rng.random_range(1..=2);
            for n in 0..extra {
                let verified = rng.random_bool(0.7);
                addresses.push((format!("{local}.alt{n}@personal.test"), verified));
            }
            truth.multi_email += 1;
        }
        for (n, (address, verified)) in addresses.into_iter().enumerate() {
            let strategy = match login {
                Login::SocialOnly(provider) | Login::PasswordAndSocial(provider) if n == 0 => {
                    format!("from_{provider}")
                }
                _ => "email_code".to_owned(),
            };
            let mut linked_to = Vec::new();
            if n == 0
                && let Login::SocialOnly(provider) | Login::PasswordAndSocial(provider) = login
            {
                let account_id = format!("eac_2{}", random_id(rng, 25));
                linked_to.push(IdentificationLink {
                    kind: provider.to_owned(),
                    id: account_id.clone(),
                });
                external_accounts.push(ExternalAccount {
                    object: "external_account".into(),
                    id: account_id,
                    provider: provider.to_owned(),
                    identification_id: String::new(),
                    provider_user_id: random_id(rng, 21),
                    approved_scopes: "email profile openid".into(),
                    // One social account in ten carries another address than
                    // the primary: WorkOS would not link it by email.
                    email_address: if index % 10 == 7 {
                        truth.oauth_email_mismatch += 1;
                        format!(
                            "{local}.oauth@{}.test",
                            provider.trim_start_matches("oauth_")
                        )
                    } else {
                        address.clone()
                    },
                    first_name: first.clone(),
                    last_name: last.clone(),
                    image_url: None,
                    username: None,
                    public_metadata: Map::new(),
                    label: None,
                    created_at,
                    updated_at: created_at,
                    verification: verification("verified", provider),
                });
            }
            email_addresses.push(EmailAddress {
                id: Some(ident(n, rng)),
                object: "email_address".into(),
                email_address: address,
                reserved: false,
                verification: verification(
                    if verified { "verified" } else { "unverified" },
                    &strategy,
                ),
                linked_to,
                created_at,
                updated_at: created_at,
            });
        }
        if let Some(account) = external_accounts.first_mut() {
            account.identification_id = email_addresses[0].id.clone().unwrap_or_default();
        }
    }

    // Password and MFA.
    let mut row = ExportRow {
        id: id.clone(),
        first_name: first.clone(),
        last_name: last.clone(),
        ..ExportRow::default()
    };
    let mut password_row = None;
    let mut totp = false;
    let mut backup_codes = false;
    let mut sms = false;
    if has_password {
        truth.password_users += 1;
        let slot = rng.random_range(0..PASSWORD_POOL);
        let (hasher, digest, verifiable) = match rng.random_range(0..100) {
            0..84 => ("bcrypt", pool.bcrypt[slot].clone(), true),
            84..90 => ("argon2id", pool.argon2id[slot].clone(), true),
            90..94 => ("scrypt_firebase", scrypt_firebase_digest(rng), false),
            94..97 => ("md5", hex_digest(rng, 16), false),
            _ => ("pbkdf2_sha256", pbkdf2_digest(rng), false),
        };
        *truth.hashers.entry(hasher.to_owned()).or_default() += 1;
        row.password_digest = Some(Secret::new(digest));
        row.password_hasher = Some(hasher.to_owned());
        if verifiable {
            password_row = Some(slot);
        }
        match rng.random_range(0..100) {
            0..9 => {
                totp = true;
                backup_codes = rng.random_bool(0.5);
            }
            9..13 => sms = true,
            _ => {}
        }
    }
    if totp {
        let secret: [u8; 20] = rng.random();
        // One TOTP user in four has no secret in the export (exports made
        // without secrets, or the secret was never readable): they must re-enroll.
        if index % 4 == 3 {
            truth.totp_not_exported += 1;
        } else {
            row.totp_secret = Some(Secret::new(data_encoding::BASE32_NOPAD.encode(&secret)));
        }
        truth.totp += 1;
    }
    truth.backup_codes += u64::from(backup_codes);
    truth.sms_second_factor += u64::from(sms);

    // Phones: phone-only users sign in with one; SMS users reserve one for 2FA.
    let mut phone_numbers = Vec::new();
    if matches!(login, Login::PhoneOnly) || sms {
        let number = format!("+1555{:07}", index % 10_000_000);
        phone_numbers.push(PhoneNumber {
            id: Some(format!("idn_2{}", random_id(rng, 25))),
            object: "phone_number".into(),
            phone_number: number,
            reserved_for_second_factor: sms,
            default_second_factor: sms,
            reserved: false,
            verification: verification("verified", "phone_code"),
            linked_to: Vec::new(),
            backup_codes: None,
            created_at,
            updated_at: created_at,
        });
    }
    let username = matches!(login, Login::UsernameOnly).then(|| format!("{local}_u"));

    match login {
        Login::SocialOnly(provider) => {
            *truth.social_only.entry(provider.to_owned()).or_default() += 1
        }
        Login::PasswordAndSocial(_) => truth.password_and_social += 1,
        Login::PhoneOnly => truth.phone_only += 1,
        Login::UsernameOnly => truth.username_only += 1,
        Login::Password => {}
    }
    truth.unverified_primary += u64::from(unverified_primary);

    let (public_metadata, private_metadata, unsafe_metadata, shape, over) = metadata(rng, index);
    *truth.metadata_shapes.entry(shape.to_owned()).or_default() += 1;
    truth.metadata_over_limits += u64::from(over);
    let banned = rng.random_range(0..100) < 1;
    let locked = !banned && rng.random_range(0..100) < 1;
    truth.banned += u64::from(banned);
    truth.locked += u64::from(locked);
    let mfa = totp || sms;

    // The CSV side of the same user.
    row.username = username.clone().unwrap_or_default();
    if let Some(primary) = email_addresses.first() {
        row.primary_email_address = primary.email_address.clone();
    }
    for email in &email_addresses {
        if email.is_verified() {
            row.verified_email_addresses
                .push(email.email_address.clone());
        } else {
            row.unverified_email_addresses
                .push(email.email_address.clone());
        }
    }
    for phone in &phone_numbers {
        row.verified_phone_numbers.push(phone.phone_number.clone());
    }
    if let (Some(phone), false) = (phone_numbers.first(), sms) {
        row.primary_phone_number = phone.phone_number.clone();
    }

    let password_row = password_row.map(|slot| PasswordRow {
        user_id: id.clone(),
        email: row.primary_email_address.clone(),
        username: row.username.clone(),
        password: pool.passwords[slot].clone(),
        password_hasher: row.password_hasher.clone().unwrap_or_default(),
    });
    let last_sign_in_at = rng
        .random_bool(0.8)
        .then(|| created_at + rng.random_range(0..86_400_000));
    let user = User {
        id,
        object: "user".into(),
        external_id: None,
        primary_email_address_id: email_addresses.first().and_then(|e| e.id.clone()),
        primary_phone_number_id: if sms {
            None
        } else {
            phone_numbers.first().and_then(|p| p.id.clone())
        },
        primary_web3_wallet_id: None,
        username,
        first_name: Some(first),
        last_name: Some(last),
        image_url: Some("https://img.clerk.com/sandbox".into()),
        has_image: false,
        public_metadata,
        private_metadata: Some(private_metadata),
        unsafe_metadata,
        email_addresses,
        phone_numbers,
        web3_wallets: Vec::new(),
        passkeys: Vec::new(),
        password_enabled: has_password,
        two_factor_enabled: mfa,
        totp_enabled: totp,
        backup_code_enabled: backup_codes,
        external_accounts,
        saml_accounts: Vec::new(),
        enterprise_accounts: Vec::new(),
        last_sign_in_at,
        banned,
        locked,
        lockout_expires_in_seconds: locked.then_some(1800),
        verification_attempts_remaining: Some(if locked { 0 } else { 100 }),
        created_at,
        updated_at: last_sign_in_at.unwrap_or(created_at),
        delete_self_enabled: true,
        create_organization_enabled: true,
        last_active_at: last_sign_in_at,
        mfa_enabled_at: mfa.then_some(created_at + 60_000),
        mfa_disabled_at: None,
        legal_accepted_at: None,
    };
    (user, row, password_row)
}

type Metadata = Map<String, Value>;

/// Public, private and unsafe metadata of one of four shapes; whether the
/// result breaks WorkOS's limits.
fn metadata(
    rng: &mut ChaCha8Rng,
    index: usize,
) -> (Metadata, Metadata, Metadata, &'static str, bool) {
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    match rng.random_range(0..100) {
        0..50 => (Map::new(), Map::new(), Map::new(), "empty", false),
        50..80 => (
            object(json!({ "plan": pick(rng, &["free", "pro", "enterprise"]), "locale": "en" })),
            object(json!({ "crm_id": format!("crm-{index}") })),
            Map::new(),
            "flat",
            false,
        ),
        80..95 => (
            object(json!({
                "preferences": { "theme": "dark", "beta": rng.random_bool(0.5) },
                "seats": rng.random_range(1..500),
                "tags": ["early-adopter", "newsletter"],
            })),
            object(json!({ "stripe": { "customer": format!("cus_{}", random_id(rng, 14)) } })),
            object(json!({ "onboarded": true })),
            "nested",
            false,
        ),
        _ => {
            // Beyond WorkOS's limits: 60 keys, or a 1,000-character value.
            let private = if rng.random_bool(0.5) {
                (0..60)
                    .map(|k| (format!("field_{k}"), Value::from(k)))
                    .collect()
            } else {
                object(json!({ "notes": "x".repeat(1000) }))
            };
            (Map::new(), private, Map::new(), "large", true)
        }
    }
}

fn hex_digest(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

fn base64(rng: &mut ChaCha8Rng, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    data_encoding::BASE64.encode(&raw)
}

/// Clerk's scrypt_firebase: `hash$salt$signer_key$salt_separator$rounds$mem_cost`.
fn scrypt_firebase_digest(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}${}${}$Bw==$8$14",
        base64(rng, 64),
        base64(rng, 12),
        base64(rng, 64)
    )
}

/// `pbkdf2_sha256$iterations$salt$hash`, Django's layout.
fn pbkdf2_digest(rng: &mut ChaCha8Rng) -> String {
    format!(
        "pbkdf2_sha256$600000${}${}",
        random_id(rng, 22),
        base64(rng, 32)
    )
}

fn generate_organizations(
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
            let identifier = user
                .primary_email()
                .map(|e| e.email_address.clone())
                .or_else(|| user.username.clone())
                .or_else(|| user.phone_numbers.first().map(|p| p.phone_number.clone()));
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
                public_user_data: Some(PublicUserData {
                    user_id: user.id.clone(),
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    profile_image_url: user.image_url.clone(),
                    image_url: user.image_url.clone().unwrap_or_default(),
                    has_image: false,
                    identifier,
                    username: user.username.clone(),
                }),
                created_at: at,
                updated_at: at,
            });
        }
    }
    truth.memberships = memberships.len() as u64;
    (organizations, memberships)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::hashes::{self, HashKind};

    fn small() -> GeneratedTenant {
        generate(GeneratorOptions {
            users: 2000,
            organizations: 30,
            seed: 42,
        })
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
        ] {
            assert!(count > 0, "no {name} users planted");
        }
        for provider in PROVIDERS {
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
    }

    #[test]
    fn side_file_passwords_verify_against_the_export() {
        let generated = small();
        let digests: BTreeMap<&str, &ExportRow> = generated
            .export
            .iter()
            .map(|row| (row.id.as_str(), row))
            .collect();
        assert!(!generated.passwords.is_empty());
        for entry in generated.passwords.iter().take(40) {
            let row = digests[entry.user_id.as_str()];
            let digest = row.password_digest.as_ref().unwrap().expose();
            let kind = match entry.password_hasher.as_str() {
                "bcrypt" => HashKind::Bcrypt,
                _ => HashKind::Argon2,
            };
            assert!(
                hashes::verify(kind, digest, &entry.password),
                "{}",
                entry.user_id
            );
        }
    }
}
