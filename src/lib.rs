//! ferry moves a company's users, organizations, memberships and MFA factors
//! from Clerk to WorkOS.
//!
//! The library is the whole tool except argument parsing: `cli` turns the
//! command line into a validated [`config::Config`] and everything below it
//! works on that, never on clap types. Data flows one way: sources (`clerk`)
//! → mapping (`script`) → target (`workos`) → journal → report.

pub mod clerk;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connect;
pub mod diagnostic;
pub mod error;
pub mod http;
pub mod journal;
pub mod mapping;
pub mod output;
pub mod plan;
pub mod project;
pub mod report;
pub mod sandbox;
pub mod script;
pub mod secret;
pub mod source;
pub mod steps;
pub mod workos;
