//! From a joined Clerk record to what WorkOS should receive: password digests
//! checked and labelled ([`password`]), metadata flattened within WorkOS's
//! limits ([`metadata`]), and the payload checked against WorkOS's rules
//! ([`rules`]), role keys to slugs ([`role`]), and the whole per-user
//! pipeline up to the write ([`user`]).

pub mod claims;
pub mod connection;
pub mod invitation;
pub mod membership;
pub mod metadata;
pub mod organization;
pub mod password;
pub mod role;
pub mod rules;
pub mod user;
