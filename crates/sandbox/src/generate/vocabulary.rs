//! Names, domains, providers and roles the generator draws from, and the
//! id and pick helpers.

use crate::ids::BASE62;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

pub(super) const FIRST_NAMES: &[&str] = &[
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
pub(super) const LAST_NAMES: &[&str] = &[
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
pub(super) const DOMAINS: &[&str] = &[
    "acme.test",
    "globex.test",
    "initech.test",
    "example.com",
    "umbrella.test",
];
pub(super) const ORG_WORDS: &[&str] = &[
    "Blue", "River", "Atlas", "Nimbus", "Quartz", "Harbor", "Summit", "Maple", "Orbit", "Cedar",
    "Falcon", "Lumen",
];
pub(super) const ORG_KINDS: &[&str] = &["Labs", "Systems", "Group", "Works", "Partners", "Studio"];
pub(super) const PROVIDERS: &[&str] = &["oauth_google", "oauth_microsoft", "oauth_github"];
pub(super) const ROLES: &[(&str, &str)] = &[
    ("org:admin", "Admin"),
    ("org:member", "Member"),
    ("org:billing_manager", "Billing manager"),
    ("org:viewer", "Viewer"),
];

pub(super) fn random_id(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

pub(super) fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A name as an address's local part takes it: lowercase ASCII letters and
/// digits only (`Zoë` → `zo`, `O'Neil` → `oneil`).
pub(super) fn local_part(name: &str) -> String {
    name.to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "")
}
