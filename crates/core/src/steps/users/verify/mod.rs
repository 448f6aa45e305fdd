//! The users step's checks in `verify`: every migrated user in WorkOS with
//! a sample compared field by field, no email shared, the canary sign-ins,
//! and the TOTP factors it enrolled.

mod counts;
mod emails;
mod logins;
mod totp;
