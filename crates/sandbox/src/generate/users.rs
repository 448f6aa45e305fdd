//! One generated user: how they sign in, their emails and social accounts,
//! password digest and MFA, phones, metadata and flags; the matching CSV
//! row; and what it adds to the ground truth.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::Map;

use super::digests::{PasswordPool, hex_digest, keep_the_seed_s_tenant};
use super::metadata::metadata;
use super::planted::{self, GroundTruth, PASSWORD_POOL, PasswordRow};
use super::vocabulary::{DOMAINS, FIRST_NAMES, LAST_NAMES, PROVIDERS, local_part, pick, random_id};
use crate::export::ExportRow;
use ferry_wire::clerk::model::{
    EmailAddress, ExternalAccount, IdentificationLink, PhoneNumber, User, Verification,
};
use ferry_wire::secret::Secret;

/// How a user signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login {
    Password,
    SocialOnly(&'static str),
    PasswordAndSocial(&'static str),
    PhoneOnly,
    UsernameOnly,
}

/// A verification object as Clerk shows it: an OAuth account's is
/// `verification_oauth` (whose `expire_at` the spec requires), an email
/// linked from one `verification_from_oauth`, a code `verification_otp`.
fn verification(status: &str, strategy: &str) -> Option<Verification> {
    let (object, expire_at) = if strategy.starts_with("from_oauth") {
        ("verification_from_oauth", None)
    } else if strategy.starts_with("oauth_") {
        ("verification_oauth", Some(planted::EPOCH_MS))
    } else {
        ("verification_otp", None)
    };
    Some(Verification {
        object: Some(object.into()),
        status: status.into(),
        strategy: Some(strategy.into()),
        attempts: None,
        expire_at,
    })
}

pub(super) fn generate_user(
    rng: &mut ChaCha8Rng,
    pool: &PasswordPool,
    index: usize,
    previous_email: Option<&str>,
    created_at: i64,
    truth: &mut GroundTruth,
) -> (User, ExportRow, Option<PasswordRow>) {
    let id = format!("user_2{}", random_id(rng, 26));
    let first = pick(rng, FIRST_NAMES).to_owned();
    let last = pick(rng, LAST_NAMES).to_owned();
    let login = match rng.random_range(0..100) {
        0..55 => Login::Password,
        55..75 => Login::SocialOnly(pick(rng, PROVIDERS)),
        75..87 => Login::PasswordAndSocial(pick(rng, PROVIDERS)),
        87..93 => Login::PhoneOnly,
        _ => Login::UsernameOnly,
    };
    let has_password = matches!(
        login,
        Login::Password | Login::PasswordAndSocial(_) | Login::UsernameOnly
    );
    let local = format!("{}.{}{index}", local_part(&first), local_part(&last));

    let Emails {
        email_addresses,
        external_accounts,
        unverified_primary,
    } = emails(
        rng,
        login,
        &local,
        previous_email,
        (&first, &last),
        created_at,
        truth,
    );

    let mut row = ExportRow {
        id: id.clone(),
        first_name: first.clone(),
        last_name: last.clone(),
        ..ExportRow::default()
    };
    let Credentials {
        password_slot,
        totp,
        backup_codes,
        sms,
    } = credentials(rng, pool, has_password, &mut row, truth);

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

    let password_row = password_slot.map(|slot| PasswordRow {
        user_id: id.clone(),
        email: row.primary_email_address.clone(),
        username: row.username.clone(),
        password: Secret::new(pool.passwords[slot].clone()),
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

/// A user's email addresses and the social accounts linked to the first.
struct Emails {
    email_addresses: Vec<EmailAddress>,
    external_accounts: Vec<ExternalAccount>,
    unverified_primary: bool,
}

/// Primary, maybe extra addresses, maybe an unverified primary; social
/// users' first address comes from (and links to) their provider account.
fn emails(
    rng: &mut ChaCha8Rng,
    login: Login,
    local: &str,
    previous_email: Option<&str>,
    (first, last): (&str, &str),
    created_at: i64,
    truth: &mut GroundTruth,
) -> Emails {
    let mut email_addresses = Vec::new();
    let mut external_accounts = Vec::new();
    let mut unverified_primary = false;
    if !matches!(login, Login::PhoneOnly | Login::UsernameOnly) {
        let domain = pick(rng, DOMAINS);
        // 2% of password users sign up again as `someone+tag@`: distinct in
        // Clerk, one address once plus-addressing is stripped.
        let plus_of = previous_email
            .filter(|_| matches!(login, Login::Password) && rng.random_range(0..100) < 2)
            .and_then(|previous| previous.split_once('@'));
        let primary = match plus_of {
            Some((previous_local, previous_domain)) => {
                truth.plus_address_collisions += 1;
                let tag = random_id(rng, 4).to_lowercase();
                format!("{previous_local}+{tag}@{previous_domain}")
            }
            None => format!("{local}@{domain}"),
        };
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
                    email_address: if rng.random_range(0..10) == 0 {
                        truth.oauth_email_mismatch += 1;
                        format!(
                            "{local}.oauth@{}.test",
                            provider.trim_start_matches("oauth_")
                        )
                    } else {
                        address.clone()
                    },
                    first_name: first.to_owned(),
                    last_name: last.to_owned(),
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
                id: Some(format!("idn_2{}{n}", random_id(rng, 25))),
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

    Emails {
        email_addresses,
        external_accounts,
        unverified_primary,
    }
}

/// What the password and MFA draw gave.
struct Credentials {
    /// The pool slot of a digest that verifies (bcrypt, argon2id).
    password_slot: Option<usize>,
    totp: bool,
    backup_codes: bool,
    sms: bool,
}

/// The digest (into the CSV row), the hasher, TOTP with maybe backup codes,
/// or an SMS second factor.
fn credentials(
    rng: &mut ChaCha8Rng,
    pool: &PasswordPool,
    has_password: bool,
    row: &mut ExportRow,
    truth: &mut GroundTruth,
) -> Credentials {
    let mut password_slot = None;
    let mut totp = false;
    let mut backup_codes = false;
    let mut sms = false;
    if has_password {
        truth.password_users += 1;
        let slot = rng.random_range(0..PASSWORD_POOL);
        let (hasher, digest, verifiable) = match rng.random_range(0..100) {
            0..84 => ("bcrypt", pool.bcrypt[slot].clone(), true),
            84..90 => ("argon2id", pool.argon2id[slot].clone(), true),
            90..94 => ("scrypt_firebase", pool.scrypt_firebase[slot].clone(), true),
            94..97 => ("md5", hex_digest(rng, 16), false),
            _ => ("pbkdf2_sha256", pool.pbkdf2_sha256[slot].clone(), true),
        };
        keep_the_seed_s_tenant(rng, hasher);
        *truth.hashers.entry(hasher.to_owned()).or_default() += 1;
        row.password_digest = Some(Secret::new(digest));
        row.password_hasher = Some(hasher.to_owned());
        if verifiable {
            password_slot = Some(slot);
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
        // One TOTP user in four has no secret in the export (an export made
        // without secrets): they must enroll again after cutover.
        if rng.random_range(0..4) == 0 {
            truth.totp_not_exported += 1;
        } else {
            row.totp_secret = Some(Secret::new(data_encoding::BASE32_NOPAD.encode(&secret)));
        }
        truth.totp += 1;
    }
    truth.backup_codes += u64::from(backup_codes);
    truth.sms_second_factor += u64::from(sms);
    Credentials {
        password_slot,
        totp,
        backup_codes,
        sms,
    }
}
